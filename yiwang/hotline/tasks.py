"""Background jobs of the hotline app (Celery in the city topology, the embedded runner
otherwise; scheduled in CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from yiwang.celery import app
from yiwang.hotline.services import work_orders_check_deadlines
from yiwang.hotline.stats import stats_rollup_refresh


@app.task(name="yiwang.hotline.tasks.check_deadlines", ignore_result=True)
def check_deadlines() -> tuple[int, int]:
    """Warn units before their orders' limits and escalate (督办) the orders past them. Each
    order in its own transaction, stamped once: a worker killed mid-run loses nothing and a
    rerun repeats nothing."""
    return work_orders_check_deadlines()


@app.task(name="yiwang.hotline.tasks.stats_rollup", ignore_result=True)
def stats_rollup() -> int:
    """Bring the figures' monthly rollup up to date (yiwang.hotline.stats): each month in its
    own transaction, so a worker killed mid-run loses at most the month it was building."""
    return stats_rollup_refresh()
