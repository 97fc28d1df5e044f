"""The outbox: enqueue in the caller's transaction, deliver after commit, back off on failure."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yiwang.core import outbox
from yiwang.core.models import OutboxMessage
from yiwang.core.outbox import (
    MAX_ATTEMPTS,
    OutboxOutsideTransaction,
    outbox_deliver,
    outbox_enqueue,
    outbox_handler,
)

pytestmark = pytest.mark.django_db

delivered: list[dict[str, object]] = []


@outbox_handler("test.ok")
def _deliver_ok(message: OutboxMessage) -> None:
    delivered.append(message.payload)


@outbox_handler("test.broken")
def _deliver_broken(message: OutboxMessage) -> None:
    OutboxMessage.objects.create(topic="test.side", available_at=timezone.now())
    raise ConnectionError("短信网关无响应")


@pytest.fixture(autouse=True)
def _clear_delivered():
    delivered.clear()


def _enqueue(topic: str, payload: dict[str, object] | None = None) -> OutboxMessage:
    with transaction.atomic():
        return outbox_enqueue(topic=topic, payload=payload or {"n": 1})


def test_enqueue_stores_a_pending_message_with_json_safe_payload():
    with transaction.atomic():
        message = outbox_enqueue(topic="test.ok", payload={"day": dt.date(2025, 1, 2)})

    stored = OutboxMessage.objects.get()
    assert stored.id == message.id
    assert (stored.status, stored.attempts, stored.payload) == (
        "pending",
        0,
        {"day": "2025-01-02"},
    )
    assert delivered == []


@pytest.mark.django_db(transaction=True)
def test_enqueue_refuses_outside_a_transaction():
    # a transactional test runs in autocommit mode, as a careless caller would
    with pytest.raises(OutboxOutsideTransaction, match="inside the transaction"):
        outbox_enqueue(topic="test.ok", payload={})

    assert OutboxMessage.objects.count() == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"topic": "", "payload": {}}, "topic must be 1 to 100"),
        ({"topic": "x" * 101, "payload": {}}, "topic must be 1 to 100"),
        ({"topic": "test.ok", "payload": ["not", "a", "dict"]}, "payload must be a dict"),
        ({"topic": "test.ok", "payload": {"x": object()}}, "JSON-serialisable"),
        (
            {"topic": "test.ok", "payload": {}, "available_at": dt.datetime(2025, 1, 1)},  # noqa: DTZ001
            "aware datetime",
        ),
    ],
)
def test_enqueue_refuses_bad_input_and_stores_nothing(kwargs, message):
    with pytest.raises(ValueError, match=message), transaction.atomic():
        outbox_enqueue(**kwargs)

    assert OutboxMessage.objects.count() == 0


def test_commit_triggers_delivery_once_per_transaction(django_capture_on_commit_callbacks):
    # when: two messages in one transaction, then commit (the kick runs the task inline here:
    # no embedded runner in the test process)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        outbox_enqueue(topic="test.ok", payload={"n": 1})
        outbox_enqueue(topic="test.ok", payload={"n": 2})

    # then
    assert len(callbacks) == 1
    assert delivered == [{"n": 1}, {"n": 2}]
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}


def test_a_rolled_back_transaction_enqueues_nothing(django_capture_on_commit_callbacks):
    @transaction.atomic
    def failing_service() -> None:
        outbox_enqueue(topic="test.ok", payload={"n": 1})
        raise RuntimeError

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        failing_service()

    assert callbacks == []
    assert OutboxMessage.objects.count() == 0
    assert delivered == []


def test_deliver_sends_due_messages_and_marks_them_sent():
    # given
    first = _enqueue("test.ok", {"n": 1})
    later = _enqueue("test.ok", {"n": 2})
    OutboxMessage.objects.filter(id=later.id).update(
        available_at=timezone.now() + dt.timedelta(hours=1)
    )

    # when
    sent = outbox_deliver()

    # then: only the due message went out
    assert sent == 1
    assert delivered == [{"n": 1}]
    first.refresh_from_db()
    assert (first.status, first.attempts, first.last_error) == ("sent", 1, "")
    assert first.sent_at is not None
    later.refresh_from_db()
    assert (later.status, later.attempts, later.sent_at) == ("pending", 0, None)


def test_a_run_stops_at_its_limit_and_kicks_another_for_the_rest():
    for n in range(3):
        _enqueue("test.ok", {"n": n})

    # when: the run stops after two; the run it kicks (inline here) delivers the third
    assert outbox_deliver(limit=2) == 2

    assert delivered == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert not OutboxMessage.objects.filter(status="pending").exists()
    assert cache.get(outbox.KICK_KEY) is None


def test_a_run_on_sqlite_ends_with_the_last_due_message_it_saw():
    _enqueue("test.ok", {"n": 1})

    with CaptureQueriesContext(connection) as queries:
        assert outbox_deliver() == 1

    # whether any is due, then the claim; on SQLite the claim reads two rows and, seeing no
    # second, ends the run; PostgreSQL's claim (one row, SKIP LOCKED) reads again to be sure
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert len(reads) == (2 if connection.vendor == "sqlite" else 3), reads
    assert delivered == [{"n": 1}]


def test_a_run_on_sqlite_delivers_every_message_due_when_it_began():
    for n in range(3):
        _enqueue("test.ok", {"n": n})

    assert outbox_deliver() == 3

    assert delivered == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert not OutboxMessage.objects.filter(status="pending").exists()


def test_no_run_is_asked_for_while_one_is_waiting(django_capture_on_commit_callbacks):
    # given: a run was asked for and has not started
    assert cache.add(outbox.KICK_KEY, 1, outbox.KICK_TTL)

    # when: a transaction commits a message
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        outbox_enqueue(topic="test.ok", payload={"n": 1})

    # then: no second run; the waiting one delivers it and clears the mark
    assert delivered == []
    assert outbox_deliver() == 1
    assert delivered == [{"n": 1}]
    assert cache.get(outbox.KICK_KEY) is None

    # and the next kick asks for (and here runs) a run of its own
    _enqueue("test.ok", {"n": 2})
    outbox._kick_delivery()
    assert delivered == [{"n": 1}, {"n": 2}]


def test_a_kick_the_broker_refuses_leaves_no_mark(monkeypatch, django_capture_on_commit_callbacks):
    from yiwang.core import tasks

    def broker_down() -> None:
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.outbox_deliver, "delay", broker_down)

    # when: the commit's kick fails (robust: the change itself stands)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        outbox_enqueue(topic="test.ok", payload={"n": 1})

    # then: the message waits for the sweep, and the next commit tries to kick again
    assert OutboxMessage.objects.get().status == "pending"
    assert cache.get(outbox.KICK_KEY) is None


def test_a_failing_handler_backs_off_and_rolls_back_its_writes():
    # given
    message = _enqueue("test.broken")
    before = timezone.now()

    # when
    sent = outbox_deliver()

    # then: error recorded, retry in 2^1 minutes, the handler's own write undone
    assert sent == 0
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.last_error == "ConnectionError: 短信网关无响应"
    assert before + dt.timedelta(minutes=2) <= message.available_at
    assert message.available_at <= timezone.now() + dt.timedelta(minutes=2)
    assert not OutboxMessage.objects.filter(topic="test.side").exists()
    # and it is not retried before it is due
    assert outbox_deliver() == 0
    message.refresh_from_db()
    assert message.attempts == 1


def test_backoff_doubles_and_the_message_fails_after_max_attempts():
    message = _enqueue("test.broken")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        OutboxMessage.objects.filter(id=message.id).update(available_at=timezone.now())
        start = timezone.now()
        outbox_deliver()
        message.refresh_from_db()
        assert message.attempts == attempt
        if attempt < MAX_ATTEMPTS:
            assert message.status == "pending"
            assert message.available_at >= start + dt.timedelta(minutes=2**attempt)
    assert message.status == "failed"
    assert message.sent_at is None


def test_a_topic_without_handler_fails_clearly(caplog):
    message = _enqueue("test.nobody")

    with caplog.at_level(logging.ERROR, logger="yiwang.core.outbox"):
        sent = outbox_deliver()

    assert sent == 0
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 1)
    assert message.last_error == (
        "没有处理该主题的处理器 / no handler registered for topic 'test.nobody'"
    )
    assert "no handler registered for topic 'test.nobody'" in caplog.text


def test_a_second_handler_for_a_topic_is_refused():
    with pytest.raises(ValueError, match="already has a handler"):
        outbox_handler("test.ok")(lambda message: None)

    assert outbox.outbox_handler_for("test.ok") is _deliver_ok


def test_admin_notice_is_logged(caplog):
    _enqueue("admin.notice", {"title": "2027 年节假日安排尚未载入", "body": "请录入"})

    with caplog.at_level(logging.WARNING, logger="yiwang.core.outbox"):
        assert outbox_deliver() == 1

    assert "2027 年节假日安排尚未载入 请录入" in caplog.text
    assert OutboxMessage.objects.get().status == "sent"


failures_seen: list[tuple[int, str, str]] = []


def _record_failure(message: OutboxMessage) -> None:
    failures_seen.append((message.attempts, message.status, message.last_error))
    # a write of the hook survives, unlike the failing handler's own
    OutboxMessage.objects.create(topic="test.hook_wrote", available_at=timezone.now())


@outbox_handler("test.broken_with_hook", on_failure=_record_failure)
def _deliver_broken_with_hook(message: OutboxMessage) -> None:
    OutboxMessage.objects.create(topic="test.side", available_at=timezone.now())
    raise ConnectionError("邮件服务器拒绝连接")


def test_a_failure_hook_sees_every_failed_attempt_and_keeps_its_writes():
    failures_seen.clear()
    message = _enqueue("test.broken_with_hook")
    for _ in range(MAX_ATTEMPTS):
        OutboxMessage.objects.filter(id=message.id).update(available_at=timezone.now())
        outbox_deliver()

    error = "ConnectionError: 邮件服务器拒绝连接"
    assert failures_seen == [
        *((attempt, "pending", error) for attempt in range(1, MAX_ATTEMPTS)),
        (MAX_ATTEMPTS, "failed", error),
    ]
    assert OutboxMessage.objects.filter(topic="test.hook_wrote").count() == MAX_ATTEMPTS
    assert not OutboxMessage.objects.filter(topic="test.side").exists()


def _broken_hook(message: OutboxMessage) -> None:
    raise RuntimeError("hook bug")


@outbox_handler("test.broken_hook", on_failure=_broken_hook)
def _deliver_with_broken_hook(message: OutboxMessage) -> None:
    raise ConnectionError("down")


def test_a_broken_failure_hook_does_not_lose_the_retry(caplog):
    message = _enqueue("test.broken_hook")

    with caplog.at_level(logging.ERROR, logger="yiwang.core.outbox"):
        assert outbox_deliver() == 0

    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (
        "pending",
        1,
        "ConnectionError: down",
    )
    assert "the failure hook failed" in caplog.text
