"""The product URLconf plus /bench/trivial: the baseline that every ratio is measured against.

The trivial view goes through the same server and the same middleware as every other page, so
the ratio isolates what the platform's own view code costs.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from yiwang.core.access import public
from yiwang.urls import handler400, handler403, handler404, handler500


@public
def trivial(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [
    path("bench/trivial", trivial, name="bench-trivial"),
    path("", include("yiwang.urls")),
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
