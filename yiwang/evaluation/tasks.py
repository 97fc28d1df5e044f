"""Background jobs of the evaluation app (Celery in the city topology, the embedded runner
otherwise; scheduled in CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from yiwang.celery import app
from yiwang.evaluation.services import rectifications_escalate_overdue


@app.task(name="yiwang.evaluation.tasks.rectifications_escalate", ignore_result=True)
def rectifications_escalate() -> int:
    """Flag the rectifications that passed their due day unanswered and tell supervisors."""
    return rectifications_escalate_overdue()
