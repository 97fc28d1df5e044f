"""GET /api/v1/health: embedded topology, city topology with real Redis, and Redis down."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta

import pytest
from django.test import Client

import yiwang
from yiwang.api.v1.platform import HealthOut

REDIS_DB9 = "redis://127.0.0.1:6379/9"


def closed_port_url() -> str:
    """A Redis URL on a local port that nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"redis://127.0.0.1:{port}/9"


def redis_cache(url: str) -> dict[str, dict[str, str]]:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "yiwang-test-api",
        }
    }


def test_embedded_topology_is_ok(db: None):
    response = Client().get("/api/v1/health")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert body["version"] == yiwang.__version__
    checks = body["checks"]
    assert set(checks) == {"database", "cache", "queue", "ledger"}
    assert checks["database"]["status"] == "ok"
    assert checks["database"]["latency_ms"] >= 0
    assert checks["cache"] == {
        "backend": "LocMemCache",
        "status": "ok",
        "latency_ms": checks["cache"]["latency_ms"],
    }
    assert checks["queue"]["mode"] == "in-process"
    assert checks["ledger"] == {
        "status": "ok",
        "size": 0,
        "pending": 0,
        "checkpoint_age_s": None,
    }
    utc = datetime.fromisoformat(body["time"]["utc"])
    local = datetime.fromisoformat(body["time"]["local"])
    assert utc.utcoffset() == timedelta(0)
    assert local.utcoffset() == timedelta(hours=8)
    assert utc == local
    assert body["time"]["timezone"] == "Asia/Shanghai"
    # the documented schema describes what is served
    assert HealthOut.model_validate(body).model_dump() == body


def test_health_is_public_and_ignores_credentials(db: None):
    response = Client(headers={"Authorization": "Bearer yw_garbage"}).get("/api/v1/health")
    assert response.status_code == 200


def test_health_reports_the_log_and_a_stalled_queue(db: None):
    from django.db import transaction

    from yiwang.ledger import services as ledger

    with transaction.atomic():
        for i in range(3):
            ledger.entry_append(kind="audit.anchor", subject=f"a{i}", payload={"i": i})
    stalled = Client().get("/api/v1/health")
    # pending entries and no checkpoint at all: the jobs are not running; the platform still
    # answers (a lagging log is not an outage)
    assert stalled.status_code == 200
    assert stalled.json()["checks"]["ledger"] == {
        "status": "lagging",
        "size": 0,
        "pending": 3,
        "checkpoint_age_s": None,
    }
    ledger.ledger_integrate_all()
    ledger.checkpoint_publish()
    ledger_check = Client().get("/api/v1/health").json()["checks"]["ledger"]
    assert (ledger_check["status"], ledger_check["size"], ledger_check["pending"]) == ("ok", 3, 0)
    assert 0 <= ledger_check["checkpoint_age_s"] < 60


def test_health_makes_one_database_query(db: None, django_assert_num_queries):
    with django_assert_num_queries(1):
        Client().get("/api/v1/health")


@pytest.mark.redis
def test_city_topology_with_redis_is_ok(db: None, settings):
    settings.CACHES = redis_cache(REDIS_DB9)
    settings.YIWANG_JOBS_MODE = "celery"
    settings.CELERY_BROKER_URL = REDIS_DB9
    response = Client().get("/api/v1/health")
    assert response.status_code == 200
    checks = response.json()["checks"]
    assert checks["cache"]["backend"] == "RedisCache"
    assert checks["cache"]["status"] == "ok"
    assert checks["queue"]["status"] == "ok"
    assert checks["queue"]["broker"] == "redis"


@pytest.mark.redis
def test_redis_down_is_degraded_503_naming_cache_and_queue(db: None, settings):
    # given cache and broker pointed at a closed port
    down = closed_port_url()
    settings.CACHES = redis_cache(down)
    settings.YIWANG_JOBS_MODE = "celery"
    settings.CELERY_BROKER_URL = down
    # when
    response = Client().get("/api/v1/health")
    # then
    assert response.status_code == 503
    body = response.json()
    assert HealthOut.model_validate(body).model_dump() == body
    assert body["status"] == "degraded"
    assert body["failing"] == ["cache", "queue"]
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["cache"] == {"status": "down", "error": "ConnectionError"}
    assert body["checks"]["queue"] == {"status": "down", "error": "ConnectionError"}
    # and the public answer names no host or port
    assert down.split("/")[2] not in response.content.decode()


@pytest.mark.redis
def test_broker_down_alone_names_only_the_queue(db: None, settings):
    settings.YIWANG_JOBS_MODE = "celery"
    settings.CELERY_BROKER_URL = closed_port_url()
    response = Client().get("/api/v1/health")
    assert response.status_code == 503
    assert response.json()["failing"] == ["queue"]
    assert response.json()["checks"]["cache"]["status"] == "ok"


@pytest.mark.redis
def test_the_broker_client_is_reused_across_requests(db: None, settings):
    from yiwang.api import health

    settings.YIWANG_JOBS_MODE = "celery"
    settings.CELERY_BROKER_URL = REDIS_DB9
    Client().get("/api/v1/health")
    client = health._broker_clients[REDIS_DB9]
    Client().get("/api/v1/health")
    assert health._broker_clients[REDIS_DB9] is client


@pytest.mark.redis
def test_a_broker_on_the_caches_redis_is_probed_once(db: None, settings):
    from yiwang.api import health

    # given the city topology: REDIS_URL is both the cache and the broker
    url = "redis://localhost:6379/9"
    settings.CACHES = redis_cache(url)
    settings.YIWANG_JOBS_MODE = "celery"
    settings.CELERY_BROKER_URL = url
    # when
    response = Client().get("/api/v1/health")
    # then the cache's answer stands for the queue, and no second client was made
    assert response.status_code == 200
    assert response.json()["checks"]["queue"] == {
        "mode": "celery",
        "broker": "redis",
        "shared_with": "cache",
        "status": "ok",
    }
    assert url not in health._broker_clients
