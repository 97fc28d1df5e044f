"""The gateway's remembered callers (access.gateway_token_user, consumer_for_query): no query
for the token, the roles or the department on a warm call, and a revoked token, a deactivated
user or a withdrawn role stops working on the very next call."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yiwang.accounts.models import ApiToken, RoleAssignment, User
from yiwang.accounts.services import api_token_create, api_token_revoke
from yiwang.exchange import accesslog
from yiwang.exchange.models import AccessLogEntry, SharingClass
from yiwang.exchange.tests.factories import World, make_grant, make_world

pytestmark = pytest.mark.django_db


def call(token: str, world: World, **extra: Any) -> Any:
    body = {"resource": world.resource.code, "key": world.rows[0]["id_number"], **extra}
    return Client().post(
        "/api/v1/exchange/query",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def system_key(world: World, **kwargs: Any) -> tuple[User, str]:
    system = User.objects.create(
        username="t-zrzy-system", kind=User.Kind.SYSTEM, department=world.consumer
    )
    _row, raw = api_token_create(
        actor=world.admin, user=system, kind=ApiToken.Kind.INTEGRATION, name="业务系统", **kwargs
    )
    return system, raw


def statements(captured: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].split()[0].upper() not in {"SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"}
    ]


def test_a_warm_call_makes_only_the_log_write(tmp_path: Path) -> None:
    world = make_world(tmp_path, sharing_class=SharingClass.UNCONDITIONAL)
    make_grant(world.resource, world.consumer, fields=["name"])
    _system, raw = system_key(world)
    assert call(raw, world).status_code == 200
    assert call(raw, world).status_code == 200
    with CaptureQueriesContext(connection) as third:
        response = call(raw, world)
    assert response.status_code == 200, response.content
    assert response.json()["records"] == [{"name": world.rows[0]["name"]}]
    sql = statements(third)
    # no token, role, department, resource or grant query: the log row is the only write
    if connection.vendor == "postgresql":
        assert [s.split()[0] for s in sql] == ["WITH"]
    else:
        assert [s.split()[0] for s in sql] == ["UPDATE", "INSERT"]
    assert AccessLogEntry.objects.count() == 3
    assert accesslog.log_verify().ok


def test_a_revoked_token_stops_at_the_next_call(tmp_path: Path) -> None:
    world = make_world(tmp_path, sharing_class=SharingClass.UNCONDITIONAL)
    make_grant(world.resource, world.consumer, fields=["name"])
    system, raw = system_key(world)
    assert call(raw, world).status_code == 200
    api_token_revoke(actor=world.admin, token=ApiToken.objects.get(user=system))
    refused = call(raw, world)
    assert refused.status_code == 401
    assert refused.json()["code"] == "core.unauthenticated"


def test_a_deactivated_user_stops_at_the_next_call(tmp_path: Path) -> None:
    world = make_world(tmp_path, sharing_class=SharingClass.UNCONDITIONAL)
    make_grant(world.resource, world.consumer, fields=["name"])
    system, raw = system_key(world)
    assert call(raw, world).status_code == 200
    system.is_active = False
    system.save()
    assert call(raw, world).status_code == 401


def test_a_sign_in_stamp_keeps_the_cache_but_a_withdrawn_role_does_not(tmp_path: Path) -> None:
    world = make_world(tmp_path, sharing_class=SharingClass.UNCONDITIONAL)
    make_grant(world.resource, world.consumer, fields=["name"])
    clerk = User.objects.create(username="t-clerk", kind=User.Kind.STAFF)
    RoleAssignment.objects.create(user=clerk, role="window_clerk", department=world.consumer)
    _row, raw = api_token_create(
        actor=clerk, user=clerk, kind=ApiToken.Kind.PERSONAL, name="个人令牌"
    )
    assert call(raw, world).status_code == 200
    clerk.last_login = timezone.now()
    clerk.save(update_fields=["last_login"])
    with CaptureQueriesContext(connection) as warm:
        assert call(raw, world).status_code == 200
    assert not [s for s in statements(warm) if "accounts_" in s]
    RoleAssignment.objects.filter(user=clerk).delete()  # a queryset delete sends the signals
    refused = call(raw, world)
    assert refused.status_code == 403
    assert refused.json()["code"] == "core.forbidden"


def test_an_expired_token_stops_although_it_is_remembered(tmp_path: Path) -> None:
    world = make_world(tmp_path, sharing_class=SharingClass.UNCONDITIONAL)
    make_grant(world.resource, world.consumer, fields=["name"])
    _system, raw = system_key(world, expires_at=timezone.now() + timedelta(minutes=5))
    assert call(raw, world).status_code == 200
    later = timezone.now() + timedelta(minutes=6)
    with mock.patch("yiwang.exchange.access.timezone.now", return_value=later):
        assert call(raw, world).status_code == 401


def test_the_cached_user_holds_no_secret_and_still_reads_them(tmp_path: Path) -> None:
    world = make_world(tmp_path, sharing_class=SharingClass.UNCONDITIONAL)
    system, raw = system_key(world)
    system.phone = "13800000000"
    system.save()
    from yiwang.exchange.access import gateway_token_user

    first = gateway_token_user(raw)
    cached = gateway_token_user(raw)
    assert first is not None
    assert cached is not None
    assert {"password", "phone", "id_number"} & set(cached.__dict__) == set()
    assert cached.phone == "13800000000"  # loaded on access, not from the cache
    assert gateway_token_user("yw_not-a-token") is None
