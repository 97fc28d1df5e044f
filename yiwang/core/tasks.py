"""Background jobs of the core app. Celery runs them in the city topology; yiwang.core.jobs
runs the same task objects in process in the embedded topology."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from django.utils import timezone

from yiwang.celery import app
from yiwang.core import outbox

logger = logging.getLogger(__name__)

CITY_TIME_ZONE = ZoneInfo("Asia/Shanghai")


@app.task(name="yiwang.core.tasks.outbox_deliver", ignore_result=True)
def outbox_deliver(limit: int = 100) -> int:
    """Deliver due outbox messages (after each commit and as the periodic sweep)."""
    return outbox.outbox_deliver(limit=limit)


@app.task(name="yiwang.core.tasks.calendar_next_year_check", ignore_result=True)
def calendar_next_year_check() -> str | None:
    """Warn administrators in November–December while next year's holidays are missing."""
    # Imported here so that the calendar module loads only where the job runs.
    from yiwang.core.calendar import calendar_next_year_check as check

    return check(today=timezone.localdate(timezone=CITY_TIME_ZONE))
