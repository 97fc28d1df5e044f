"""Background jobs of the applications app (Celery in the city topology, the embedded runner
otherwise). Schedule: ``CELERY_BEAT_SCHEDULE["applications-escalate-overdue"]``."""

from __future__ import annotations

from yiwang.applications.services import tasks_escalate_overdue
from yiwang.celery import app


@app.task(name="yiwang.applications.tasks.escalate_overdue", ignore_result=True)
def escalate_overdue() -> int:
    """督办: escalate overdue approval tasks to their department's supervisors, once."""
    return tasks_escalate_overdue()
