"""The gateway's cached resource and grants: a change made through a service is seen by the
very next call (transactional tests, so that ``on_commit`` runs as in production)."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yiwang.core.errors import DomainError
from yiwang.exchange import gatewaycache, services
from yiwang.exchange.gateway import RATE_WINDOW_S, _rate_count, exchange_query
from yiwang.exchange.models import Grant, SharingClass
from yiwang.exchange.tests.factories import World, make_grant, make_world

pytestmark = pytest.mark.django_db(transaction=True)


def query(world: World) -> Any:
    return exchange_query(
        consumer=world.consumer,
        actor=world.consumer_clerk,
        resource_code=world.resource.code,
        key=world.rows[0]["id_number"],
    )


def refused_code(world: World) -> str:
    with pytest.raises(DomainError) as caught:
        query(world)
    return caught.value.code


def unconditional_world(tmp_path: Path) -> World:
    return make_world(tmp_path, sharing_class=SharingClass.UNCONDITIONAL)


def test_a_revoked_grant_refuses_the_very_next_call(tmp_path: Path) -> None:
    world = unconditional_world(tmp_path)
    grant = make_grant(world.resource, world.consumer, fields=["name"])
    assert len(query(world).records) == 1
    assert len(query(world).records) == 1  # from the cache
    services.grant_revoke(actor=world.owner_officer, grant=grant, reason="超范围使用")
    assert refused_code(world) == "exchange.grant_revoked"


def test_a_withdrawn_resource_refuses_the_very_next_call(tmp_path: Path) -> None:
    world = unconditional_world(tmp_path)
    make_grant(world.resource, world.consumer, fields=["name"])
    assert len(query(world).records) == 1
    services.resource_withdraw(actor=world.owner_officer, resource=world.resource, reason="停用")
    assert refused_code(world) == "exchange.resource_unavailable"
    services.resource_publish(actor=world.owner_officer, resource=world.resource)
    assert len(query(world).records) == 1


def test_a_new_grant_answers_the_very_next_call(tmp_path: Path) -> None:
    world = unconditional_world(tmp_path)
    assert refused_code(world) == "exchange.no_grant"
    services.request_create(
        actor=world.consumer_officer,
        consumer=world.consumer,
        resource=world.resource,
        fields=["name"],
        item_codes=[],
        purpose="办理行政审批",
    )
    assert query(world).fields == ["name"]


def test_a_cached_grant_expires_on_time(tmp_path: Path) -> None:
    world = unconditional_world(tmp_path)
    make_grant(
        world.resource,
        world.consumer,
        fields=["name"],
        valid_from=timezone.now() - timedelta(days=1),
        valid_until=timezone.now() + timedelta(seconds=1.5),
    )
    assert len(query(world).records) == 1
    time.sleep(1.6)
    assert refused_code(world) == "exchange.grant_expired"


def test_a_cached_call_reads_neither_the_resource_nor_the_grants(tmp_path: Path) -> None:
    world = unconditional_world(tmp_path)
    make_grant(world.resource, world.consumer, fields=["name"])
    query(world)
    with CaptureQueriesContext(connection) as first:
        query(world)
    tables = " ".join(q["sql"] for q in first.captured_queries)
    assert "exchange_dataresource" not in tables
    assert "exchange_grant" not in tables


def test_the_rate_counter_counts_in_the_shared_cache() -> None:
    assert [_rate_count("exchange:rate:test") for _ in range(3)] == [1, 2, 3]
    assert cache.get("exchange:rate:test") == 3
    backend = caches["default"]
    if isinstance(backend, RedisCache):  # the city topology: the counter expires
        full = backend.make_and_validate_key("exchange:rate:test")
        assert 0 < backend._cache.get_client(full).ttl(full) <= RATE_WINDOW_S * 2


def test_a_change_made_by_another_process_is_seen_on_the_next_call(tmp_path: Path) -> None:
    world = unconditional_world(tmp_path)
    grant = make_grant(world.resource, world.consumer, fields=["name"])
    assert len(query(world).records) == 1
    # Another process (a second worker, a command) revokes: its signal replaces the version
    # where every process reads it, not in this process's memory.
    Grant.objects.filter(pk=grant.pk).update(revoked_at=timezone.now(), revoke_reason="停用")
    path = gatewaycache._version_file()
    if path is None:
        cache.set(gatewaycache.VERSION_KEY, "set-by-another-process", timeout=None)
    else:
        assert cache.get(gatewaycache.VERSION_KEY) is None
        path.write_text("set-by-another-process")
    assert refused_code(world) == "exchange.grant_revoked"


def test_the_version_file_is_read_again_when_replaced_or_after_the_reread_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Embedded, a call stats the version file and reads it only when its stat changed (a
    bump replaces it) or VERSION_REREAD_S has passed (an inode reused within the timestamp
    granularity would show the same stat)."""
    path = Path(settings.DATA_DIR) / gatewaycache.VERSION_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("a" * 32)
    assert gatewaycache._version_file_read() == "a" * 32
    # Another process replaces it (as _version_set does): a new inode, seen at once.
    staged = path.with_name("staged")
    staged.write_text("b" * 32)
    os.replace(staged, path)
    assert gatewaycache._version_file_read() == "b" * 32
    # The same inode, size and mtime with other content: taken from memory until the re-read.
    before = os.stat(path)
    path.write_text("c" * 32)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert gatewaycache._version_file_read() == "b" * 32
    monkeypatch.setattr(gatewaycache, "VERSION_REREAD_S", 0.0)
    assert gatewaycache._version_file_read() == "c" * 32
