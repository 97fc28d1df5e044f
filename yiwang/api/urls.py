from __future__ import annotations

from django.urls import path

from yiwang.api.main import api

urlpatterns = [
    path("", api.urls),
]
