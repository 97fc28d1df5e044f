"""Background jobs of the certificates app (scheduled in CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from yiwang.celery import app
from yiwang.certificates.services import certificates_expire


@app.task(name="yiwang.certificates.tasks.expire", ignore_result=True)
def expire() -> int:
    """Daily: valid certificates past their last day become expired (each row in its own
    transaction; a rerun repeats nothing)."""
    return certificates_expire()
