"""Background jobs of the ledger (Celery in the city topology, the embedded runner otherwise;
scheduled in CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from yiwang.celery import app
from yiwang.ledger import services


@app.task(name="yiwang.ledger.tasks.integrate", ignore_result=True)
def integrate() -> int:
    """Every 2 s: entries wait at most that long for an index. Safe to overlap: the integrator
    locks the log state, a second run waits and then finds nothing (or the next batch)."""
    return services.ledger_integrate_all()


@app.task(name="yiwang.ledger.tasks.checkpoint_publish", ignore_result=True)
def checkpoint_publish() -> int:
    """Every 60 s: sign the grown tree (an unchanged one hourly) and gather cosignatures (a down
    witness only costs a timeout)."""
    return services.checkpoint_publish(force=False).size


@app.task(name="yiwang.ledger.tasks.audit_anchor", ignore_result=True)
def audit_anchor() -> int:
    """Hourly: commit the audit trail's head into the log."""
    return services.entry_anchor().id
