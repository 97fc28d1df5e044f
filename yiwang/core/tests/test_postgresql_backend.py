"""The city PostgreSQL backend's health check: no round trip while the server said nothing,
and a dropped connection is still noticed and replaced before the request uses it."""

from __future__ import annotations

import copy
import select
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import connections

from yiwang.core.db.postgresql import base as backend

pytestmark = [
    pytest.mark.skipif(
        connections["default"].vendor != "postgresql", reason="the city backend (PostgreSQL)"
    ),
    pytest.mark.django_db,  # creates the test database; the tests use a connection of their own
]


@pytest.fixture
def wrapper(django_db_blocker: Any) -> Iterator[backend.DatabaseWrapper]:
    # A connection of its own to the test database, outside the test's transaction.
    with django_db_blocker.unblock():
        settings = copy.deepcopy(connections["default"].settings_dict)
        settings.update(CONN_MAX_AGE=60, CONN_HEALTH_CHECKS=True)
        own = backend.DatabaseWrapper(settings, alias="health-check-test")
        try:
            yield own
        finally:
            own.close()


def _counting_cursors(raw: Any, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    opened: list[int] = []
    real = raw.cursor

    def cursor(*args: Any, **kwargs: Any) -> Any:
        opened.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(raw, "cursor", cursor)
    return opened


def _terminate(wrapper: backend.DatabaseWrapper) -> None:
    pid = wrapper.connection.info.backend_pid
    params = wrapper.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    poller = select.poll()
    poller.register(wrapper.connection.fileno(), select.POLLIN)
    for _ in range(100):  # the server's FATAL message arrives within milliseconds
        if poller.poll(50):
            return
    pytest.fail("the terminated backend's socket never became readable")


def test_an_idle_healthy_connection_is_reused_without_a_query(
    wrapper: backend.DatabaseWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrapper.ensure_connection()
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT 1")
    opened = _counting_cursors(wrapper.connection, monkeypatch)
    assert wrapper.is_usable() is True
    assert opened == []


def test_a_connection_the_server_dropped_is_replaced_before_use(
    wrapper: backend.DatabaseWrapper,
) -> None:
    wrapper.ensure_connection()
    old_pid = wrapper.connection.info.backend_pid
    _terminate(wrapper)
    assert wrapper.is_usable() is False
    # What Django does at the start of a request's first query.
    wrapper.health_check_done = False  # type: ignore[attr-defined]
    wrapper.close_if_health_check_failed()
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != old_pid


def test_a_connection_inside_a_transaction_is_asked(
    wrapper: backend.DatabaseWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrapper.ensure_connection()
    wrapper.set_autocommit(False)
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT 1")
        opened = _counting_cursors(wrapper.connection, monkeypatch)
        assert wrapper.is_usable() is True
        assert opened == [1]  # not idle: Django's own SELECT 1 decides
    finally:
        wrapper.rollback()
        wrapper.set_autocommit(True)


def test_a_closed_connection_is_not_usable(wrapper: backend.DatabaseWrapper) -> None:
    wrapper.ensure_connection()
    wrapper.connection.close()
    assert wrapper.is_usable() is False
