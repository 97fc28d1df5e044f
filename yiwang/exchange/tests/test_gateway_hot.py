"""The gateway's hot path: a warm call takes its resource, grants and caller from this
process's copies (no read of the shared cache, no unpickling), which live no longer than the
shared entries; the answer is rendered exactly as the documented schema would render it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import Client
from django.utils import timezone
from ninja.responses import NinjaJSONEncoder

from yiwang.accounts.models import ApiToken, User
from yiwang.accounts.services import api_token_create
from yiwang.exchange import accesslog, gatewaycache
from yiwang.exchange.adapters import _is_platform_database, _points_at
from yiwang.exchange.models import AccessLogEntry, SharingClass
from yiwang.exchange.tests.factories import World, make_grant, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_copies_here() -> Iterator[None]:
    gatewaycache.here_forget()
    yield
    gatewaycache.here_forget()


def call(token: str, world: World) -> Any:
    body = {"resource": world.resource.code, "key": world.rows[0]["id_number"]}
    return Client().post(
        "/api/v1/exchange/query",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def gateway_world(tmp_path: Path) -> tuple[World, str]:
    world = make_world(tmp_path, sharing_class=SharingClass.UNCONDITIONAL)
    make_grant(world.resource, world.consumer, fields=["name", "id_number"], masks={"name": "name"})
    system = User.objects.create(
        username="t-zrzy-system", kind=User.Kind.SYSTEM, department=world.consumer
    )
    _row, raw = api_token_create(
        actor=world.admin, user=system, kind=ApiToken.Kind.INTEGRATION, name="业务系统"
    )
    return world, raw


def test_a_warm_call_reads_nothing_of_the_gateway_from_the_shared_cache(tmp_path: Path) -> None:
    world, raw = gateway_world(tmp_path)
    assert call(raw, world).status_code == 200
    backend = caches["default"]
    real_get, real_get_many = backend.get, backend.get_many
    read: list[str] = []

    def get(key: str, *args: Any, **kwargs: Any) -> Any:
        read.append(key)
        return real_get(key, *args, **kwargs)

    def get_many(keys: list[str], *args: Any, **kwargs: Any) -> Any:
        read.extend(keys)
        return real_get_many(keys, *args, **kwargs)

    with mock.patch.object(backend, "get", get), mock.patch.object(backend, "get_many", get_many):
        response = call(raw, world)
    assert response.status_code == 200, response.content
    assert len(response.json()["records"]) == 1
    # the resource, the grants and the token's user: none of them from the shared cache
    assert [k for k in read if k != gatewaycache.VERSION_KEY] == []


def test_the_copies_here_live_no_longer_than_the_shared_entry() -> None:
    loads: list[int] = []

    def load() -> tuple[str, int]:
        loads.append(1)
        return ("caller", len(loads))

    start = 1_000_000.0
    timeout = gatewaycache.CALLER_TIMEOUT_S
    clock = "yiwang.exchange.gatewaycache.time.time"
    with mock.patch(clock, return_value=start):
        assert gatewaycache.cached_caller("test-bound", load) == ("caller", 1)
    gatewaycache.here_forget()  # another process: it has only the shared entry
    with mock.patch(clock, return_value=start + timeout - 1):
        assert gatewaycache.cached_caller("test-bound", load) == ("caller", 1)
    # Taken from the shared cache late, the copy still ends when the loaded entry does.
    with mock.patch(clock, return_value=start + timeout + 1):
        assert gatewaycache.cached_caller("test-bound", load) == ("caller", 2)
    assert len(loads) == 2


def test_a_bump_forgets_the_copies_here(tmp_path: Path) -> None:
    assert gatewaycache.cached_caller("test-bump", lambda: "first") == "first"
    assert gatewaycache.cached_caller("test-bump", lambda: "second") == "first"
    gatewaycache.exchange_cache_bump()
    assert gatewaycache._here == {}
    assert gatewaycache.cached_caller("test-bump", lambda: "second") == "second"


def test_the_answer_is_the_schemas_rendering(tmp_path: Path) -> None:
    world, raw = gateway_world(tmp_path)
    response = call(raw, world)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"  # as ninja's
    body = response.json()
    # The documented response (QueryOut in the OpenAPI schema): the same keys, in its order.
    schema = Client().get("/api/v1/openapi.json").json()
    out = schema["components"]["schemas"]["QueryOut"]
    assert list(body) == list(out["properties"]) == out["required"]
    # Rendered as ninja renders a validated QueryOut: its encoder, the time to milliseconds.
    fetched_at = datetime.fromisoformat(body["fetched_at"])
    assert response.content.decode() == json.dumps(
        {**body, "fetched_at": fetched_at}, cls=NinjaJSONEncoder
    )
    assert body["fetched_at"].endswith("Z")
    assert body["fields"] == ["id_number", "name"]
    assert body["records"][0]["name"] == world.rows[0]["name"][0] + "*" * (
        len(world.rows[0]["name"]) - 1
    )


def test_an_adapter_never_points_at_the_platform_database(tmp_path: Path) -> None:
    sqlite = "django.db.backends.sqlite3"
    postgres = "django.db.backends.postgresql"
    own = str(tmp_path / "yiwang.sqlite3")
    assert _points_at(f"sqlite:///{own}", own, "", sqlite) is True
    assert _points_at(f"sqlite:///{own}", own, "", sqlite) is True  # remembered: the same
    assert _points_at(f"sqlite:///{tmp_path / 'owner.sqlite3'}", own, "", sqlite) is False
    assert _points_at("postgres://u@db:5432/yiwang", "yiwang", "db", postgres) is True
    assert _points_at("postgres://u@db:5432/owner", "yiwang", "db", postgres) is False
    assert _points_at("postgres://u@other:5432/yiwang", "yiwang", "db", postgres) is False
    assert _points_at("postgres://u@db:5432/yiwang", "yiwang", "db", sqlite) is False
    default = settings.DATABASES["default"]
    if "postgresql" in str(default["ENGINE"]):
        assert _is_platform_database(f"postgres://u@{default['HOST']}:5432/{default['NAME']}")
    assert not _is_platform_database(f"sqlite:///{tmp_path / 'owner.sqlite3'}")
    assert not _is_platform_database("postgres://u@127.0.0.1:5432/the_owners_store")


def log_values(fields: list[Any]) -> dict[str, Any]:
    return {
        "created_at": timezone.now(),
        "consumer_id": 1,
        "consumer_label": "测试自然资源局",
        "owner_id": 2,
        "owner_label": "测试公安局",
        "resource_code": "T-001",
        "grant_id": None,
        "actor_id": None,
        "actor_label": "",
        "fields": fields,
        "case_number": "",
        "purpose": "",
        "subject_index": "",
        "subject_type": "",
        "outcome": AccessLogEntry.Outcome.REFUSED,
        "code": "exchange.test",
        "result_size": 0,
        "duration_ms": 0,
    }


def test_the_log_stores_field_keys_as_given_and_refuses_nul() -> None:
    seq = accesslog.log_append(log_values(["name", "id_number"]))
    assert AccessLogEntry.objects.get(seq=seq).fields == ["name", "id_number"]
    other = accesslog.log_append(log_values(["name", 3]))  # not a key: stored as JSON gives it
    assert AccessLogEntry.objects.get(seq=other).fields == ["name", 3]
    with pytest.raises(ValueError, match="NUL"):
        accesslog.log_append(log_values(["na\x00me"]))
    assert AccessLogEntry.objects.count() == 2
    assert accesslog.log_verify().ok
