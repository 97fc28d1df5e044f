"""Operations about the platform itself (not about anyone's data)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from ninja import Router, Schema

from yiwang.api.health import health_report

router = Router(tags=["platform"])


class TimeOut(Schema):
    utc: str
    local: str
    timezone: str


class HealthOut(Schema):
    status: str
    failing: list[str]
    version: str
    time: TimeOut
    checks: dict[str, dict[str, Any]]


@router.get(
    "/health",
    auth=None,
    response={200: HealthOut, 503: HealthOut},
    summary="Health of the platform and its dependencies",
)
def health(request: HttpRequest) -> JsonResponse:
    """``status`` is ``ok``, or ``degraded`` (HTTP 503) with ``failing`` naming each dependency
    that is down (database, cache, queue). Public: it reveals no data and no host names."""
    healthy, report = health_report()
    # Rendered directly: monitoring calls this constantly and the report is built here from
    # known types, so ninja's response validation would only add cost (HealthOut documents the
    # shape, and a test checks the report against it).
    return JsonResponse(report, status=200 if healthy else 503)
