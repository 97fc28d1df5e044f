"""The REST API: django-ninja under /api/v1/, OpenAPI at /api/v1/openapi.json, docs at /api/docs."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.http import HttpRequest
from django.utils import timezone
from ninja import NinjaAPI

api = NinjaAPI(title="yiwang API", version="1", urls_namespace="api", docs_url="/docs")


@api.get("/v1/health", auth=None, tags=["platform"])
def health(request: HttpRequest) -> dict[str, Any]:
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    return {"status": "ok", "time": timezone.now().isoformat()}
