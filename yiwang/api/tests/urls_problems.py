"""URLconf for test_errors: the real URLs plus a small API, built like the real one, whose
operations fail on purpose (an unexpected exception cannot be provoked in the real API)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import path
from ninja import NinjaAPI

from yiwang.api.auth import DEFAULT_AUTH
from yiwang.api.errors import install_problem_handlers
from yiwang.core.errors import Conflict
from yiwang.urls import urlpatterns as real_urlpatterns

SECRET = "password=hunter2 at /srv/yiwang/settings.py"

failing_api = NinjaAPI(urls_namespace="failing", auth=DEFAULT_AUTH, docs_url=None)
install_problem_handlers(failing_api)


@failing_api.get("/crash", auth=None)
def crash(request: HttpRequest) -> dict[str, Any]:
    raise RuntimeError(SECRET)


@failing_api.get("/conflict", auth=None)
def conflict(request: HttpRequest) -> dict[str, Any]:
    raise Conflict("testing.busy", "正在处理中", holder="窗口 3", status="forged")


urlpatterns = [path("failing/", failing_api.urls), *real_urlpatterns]
