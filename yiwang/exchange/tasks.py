"""Background jobs of the exchange (Celery in the city topology, the embedded runner
otherwise; scheduled in CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from yiwang.celery import app
from yiwang.exchange import accesslog, services


@app.task(name="yiwang.exchange.tasks.access_log_anchor", ignore_result=True)
def access_log_anchor() -> int:
    """Hourly: commit the access log's head into the ledger (after settling journaled rows)."""
    return accesslog.log_anchor()


@app.task(name="yiwang.exchange.tasks.anomalies_detect", ignore_result=True)
def anomalies_detect() -> int:
    """Hourly: flag consumers reading far more than their cases justify."""
    return len(services.anomalies_detect())


@app.task(name="yiwang.exchange.tasks.file_drops_refresh", ignore_result=True)
def file_drops_refresh() -> int:
    """Daily: reload the owners' CSV/Excel drops into the snapshot."""
    return sum(n for n in services.file_drops_refresh().values() if isinstance(n, int))
