"""The checks behind ``GET /api/v1/health``.

Load balancers and monitoring call this every few seconds on every web process, so each check
is one cheap round trip: one SELECT on the process's own database connection (which also reads
the e-certificate log's size, queue and latest checkpoint), one read on the
cache, one PING to the broker on a client kept for the life of the process (none when the
broker is the cache's own Redis, as in the city topology). Failures
are reported by name (and logged with their cause); the cause is not put in the public answer,
because it can name hosts.
"""

from __future__ import annotations

import logging
import time
import uuid
import zoneinfo
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection

import yiwang

logger = logging.getLogger("yiwang.api.health")

OK = "ok"
DOWN = "down"
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
BROKER_TIMEOUT_SECONDS = 0.5
# Read-only probe key; it need not exist.
_CACHE_KEY = f"yiwang:health:{uuid.uuid4().hex}"

# Broker clients by URL, created on first use and reused: redis-py keeps a pool of
# connections in the client, so a probe costs a PING, not a TCP (or TLS) handshake.
_broker_clients: dict[str, redis.Redis] = {}


def _timed(check: Callable[[], dict[str, Any]], name: str) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        result = check()
    except Exception as exc:
        logger.warning("health check %s failed: %r", name, exc)
        return {"status": DOWN, "error": type(exc).__name__}
    result.setdefault("status", OK)
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return result


# The database probe also reads the log's state, so the report costs one round trip: the
# integrated size, the entries waiting for an index (a partial index makes that count cheap)
# and when the latest checkpoint was signed.
_DATABASE_PROBE = (
    "SELECT (SELECT size FROM ledger_logstate WHERE id = 1),"
    " (SELECT COUNT(*) FROM ledger_entry WHERE leaf_index IS NULL),"
    " (SELECT MAX(created_at) FROM ledger_checkpoint)"
)
# Entries are integrated every 2 s and a grown log checkpointed every minute: a queue older
# than this means the jobs are not running.
LEDGER_LAG_SECONDS = 600


def _database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute(_DATABASE_PROBE)
        size, pending, checkpointed = cursor.fetchone()
    return {"vendor": connection.vendor, "_ledger": (size or 0, pending or 0, checkpointed)}


def _ledger(database: dict[str, Any]) -> dict[str, Any]:
    """Not a dependency that can be down on its own: ``lagging`` (still HTTP 200) when entries
    wait while the latest checkpoint is older than LEDGER_LAG_SECONDS, so monitoring sees a
    stopped integrator or publisher before a citizen's bundle goes missing."""
    state = database.pop("_ledger", None)
    if state is None:
        return {"status": "unknown"}
    size, pending, checkpointed = state
    if isinstance(checkpointed, str):  # SQLite returns the aggregate as text
        checkpointed = datetime.fromisoformat(checkpointed)
    if checkpointed is not None and checkpointed.tzinfo is None:
        checkpointed = checkpointed.replace(tzinfo=UTC)
    age = (datetime.now(UTC) - checkpointed).total_seconds() if checkpointed else None
    lagging = pending > 0 and (age is None or age > LEDGER_LAG_SECONDS)
    return {
        "status": "lagging" if lagging else OK,
        "size": size,
        "pending": pending,
        "checkpoint_age_s": None if age is None else round(age),
    }


def _cache() -> dict[str, Any]:
    # One round trip: a read on a key that need not exist proves the cache answers (a client
    # error raises). A write-then-read probe doubled the cost under load and proved nothing
    # more about reachability.
    cache.get(_CACHE_KEY)
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    return {"backend": backend}


def _broker_shares_cache(url: str) -> bool:
    """In the city topology REDIS_URL is both the cache and the broker: one probe of that
    server answers for both."""
    default = settings.CACHES["default"]
    return default["BACKEND"].endswith("RedisCache") and default.get("LOCATION") == url


def _broker_client(url: str) -> redis.Redis:
    client = _broker_clients.get(url)
    if client is None:
        client = redis.Redis.from_url(
            url,
            socket_timeout=BROKER_TIMEOUT_SECONDS,
            socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
            retry_on_timeout=False,
        )
        _broker_clients[url] = client
    return client


def _queue(cache_check: dict[str, Any]) -> dict[str, Any]:
    if settings.YIWANG_JOBS_MODE == "embedded":
        return _timed(lambda: {"mode": "in-process"}, "queue")
    url = str(settings.CELERY_BROKER_URL)
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return {"mode": "celery", "broker": url.split(":", 1)[0], "status": "unchecked"}
    if _broker_shares_cache(url):
        if cache_check["status"] == DOWN:
            return dict(cache_check)
        return {"mode": "celery", "broker": "redis", "shared_with": "cache", "status": OK}

    def ping() -> dict[str, Any]:
        _broker_client(url).ping()
        return {"mode": "celery", "broker": "redis"}

    return _timed(ping, "queue")


def health_report() -> tuple[bool, dict[str, Any]]:
    """(healthy, report). Unhealthy when a dependency the platform needs is down."""
    now = datetime.now(UTC)
    cache_check = _timed(_cache, "cache")
    database = _timed(_database, "database")
    checks = {
        "database": database,
        "cache": cache_check,
        "queue": _queue(cache_check),
        "ledger": _ledger(database),
    }
    failing = [name for name, check in checks.items() if check["status"] == DOWN]
    report = {
        "status": "degraded" if failing else OK,
        "failing": failing,
        "version": yiwang.__version__,
        "time": {
            "utc": now.isoformat(),
            "local": now.astimezone(SHANGHAI).isoformat(),
            "timezone": "Asia/Shanghai",
        },
        "checks": checks,
    }
    return not failing, report
