"""The outbox: side effects recorded in the transaction of the change, delivered after commit.

A service that must notify, dispatch or call out does not do it directly; it calls
``outbox_enqueue`` inside its transaction. If the transaction rolls back, the message is gone
with it; if it commits, ``transaction.on_commit`` asks the job system to run
``yiwang.core.tasks.outbox_deliver`` at once, and the periodic sweep (every 10 s in
``CELERY_BEAT_SCHEDULE``) picks up anything that kick missed (a broker outage, a crash).

One run delivers every due message, so a kick is sent only when no run is already asked for
and not yet started: the kick marks the cache (``KICK_KEY``, an atomic add, shared by every
process in the city through Redis) and a run clears the mark before it reads the queue. A
message committed while a run is waiting is delivered by that run; one committed after a run
began reading sends a kick of its own. Under load this sends one task per run instead of one
per transaction (a broker publish costs about as much as the rest of a small request). The
mark expires after ``KICK_TTL`` seconds, so a run that was asked for and lost (a worker killed
before it started) delays later kicks no longer than that; the sweep delivers meanwhile. A
run that stops at its ``limit`` with messages still due kicks the next one.

Handlers are registered per topic with ``@outbox_handler("topic")`` in an app's ``tasks``
module (which both Celery and ``outbox_deliver`` import). Delivery is at least once: a handler
receives the ``OutboxMessage`` and should use ``message.id`` as its idempotency key.

Claiming uses ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so any number of workers
share the queue without sending a message twice at the same time; SQLite serialises writers
and needs no locking. A failing handler's database writes are rolled back (savepoint), the
error is recorded, and the message waits 2^attempts minutes before the next try; after
``MAX_ATTEMPTS`` it is marked failed. A topic with no handler fails at once.

Because a failing handler's writes roll back, a handler that mirrors delivery on a row of its
own app (an SMS's status, say) registers ``on_failure`` as well: it is called after each failed
attempt, in the delivery transaction, once the message's bookkeeping (``attempts``,
``last_error``, and ``status`` "failed" after the last attempt) is saved, and its writes stay.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable, Sequence
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from yiwang.core.audit import json_safe
from yiwang.core.models import OutboxMessage

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
KICK_KEY = "core:outbox:kick"
KICK_TTL = 10  # seconds: the sweep's period
OutboxHandler = Callable[[OutboxMessage], None]
OutboxFailureHook = Callable[[OutboxMessage], None]

_handlers: dict[str, OutboxHandler] = {}
_failure_hooks: dict[str, OutboxFailureHook] = {}


class OutboxOutsideTransaction(RuntimeError):
    """``outbox_enqueue`` was called in autocommit mode: the side effect could outlive a failed
    change."""


def outbox_handler(
    topic: str, *, on_failure: OutboxFailureHook | None = None
) -> Callable[[OutboxHandler], OutboxHandler]:
    """Register the function that delivers messages of ``topic`` (one handler per topic), and
    optionally the hook that records each failed attempt (see the module docstring)."""

    def register(handler: OutboxHandler) -> OutboxHandler:
        existing = _handlers.get(topic)
        if existing is not None and existing is not handler:
            name = f"{existing.__module__}.{existing.__qualname__}"
            raise ValueError(f"outbox topic {topic!r} already has a handler: {name}")
        _handlers[topic] = handler
        if on_failure is not None:
            _failure_hooks[topic] = on_failure
        return handler

    return register


def outbox_handler_for(topic: str) -> OutboxHandler | None:
    _discover_handlers()
    return _handlers.get(topic)


@functools.cache
def _discover_handlers() -> None:
    """Import every installed app's ``tasks`` module (once), where handlers register."""
    autodiscover_modules("tasks")


def _kick_delivery() -> None:
    """Ask for a delivery run unless one is asked for and has not started yet."""
    # Imported here: yiwang.core.tasks imports this module.
    from yiwang.core.tasks import outbox_deliver as outbox_deliver_task

    if not cache.add(KICK_KEY, 1, KICK_TTL):
        return
    try:
        outbox_deliver_task.delay()
    except BaseException:
        cache.delete(KICK_KEY)  # nothing was asked for: the next commit must try again
        raise


def outbox_enqueue(
    *, topic: str, payload: dict[str, Any], available_at: dt.datetime | None = None
) -> OutboxMessage:
    """Record a side effect in the caller's transaction; it is delivered after commit."""
    return outbox_enqueue_many(topic=topic, payloads=[payload], available_at=available_at)[0]


def outbox_enqueue_many(
    *, topic: str, payloads: Sequence[dict[str, Any]], available_at: dt.datetime | None = None
) -> list[OutboxMessage]:
    """``outbox_enqueue`` for each of ``payloads``, in one INSERT."""
    if not connection.in_atomic_block:
        raise OutboxOutsideTransaction(
            "outbox_enqueue must run inside the transaction of the change that causes it"
        )
    if not topic or len(topic) > 100:
        raise ValueError(f"outbox topic must be 1 to 100 characters, got {topic!r}")
    for payload in payloads:
        if not isinstance(payload, dict):
            raise ValueError(f"outbox payload must be a dict, got {type(payload).__name__}")
    if available_at is not None and timezone.is_naive(available_at):
        raise ValueError("outbox available_at must be an aware datetime")
    if not payloads:
        return []
    messages = [
        OutboxMessage(
            topic=topic, payload=json_safe(payload), available_at=available_at or timezone.now()
        )
        for payload in payloads
    ]
    if len(messages) == 1:
        messages[0].save(force_insert=True)
    else:
        OutboxMessage.objects.bulk_create(messages)
    # One kick per transaction is enough: the task delivers everything that is due.
    if not any(pending[1] is _kick_delivery for pending in connection.run_on_commit):
        # robust: a broker outage must not turn a committed change into an error page; the
        # periodic sweep delivers the message later.
        transaction.on_commit(_kick_delivery, robust=True)
    return messages


def _claim_next(now: dt.datetime) -> tuple[OutboxMessage | None, bool]:
    """The next due message, and whether another may be due after it."""
    pending = OutboxMessage.objects.filter(
        status=OutboxMessage.Status.PENDING, available_at__lte=now
    ).order_by("available_at", "created_at")
    if connection.features.has_select_for_update_skip_locked:
        return pending.select_for_update(skip_locked=True).first(), True
    # One writer at a time (SQLite): nothing is locked, so reading two tells whether another
    # is due, and spares the run a last transaction that finds none (anything committed
    # later kicks a run of its own: the mark was cleared before this run read the queue).
    rows = list(pending[:2])
    return (rows[0] if rows else None), len(rows) > 1


def _deliver_one(message: OutboxMessage, now: dt.datetime) -> bool:
    handler = outbox_handler_for(message.topic)
    if handler is None:
        message.status = OutboxMessage.Status.FAILED
        message.attempts += 1
        message.last_error = (
            f"没有处理该主题的处理器 / no handler registered for topic {message.topic!r}"
        )
        message.save(update_fields=["status", "attempts", "last_error"])
        logger.error("outbox %s: %s", message.id, message.last_error)
        return False
    try:
        with transaction.atomic():  # a failing handler's writes roll back, the bookkeeping stays
            handler(message)
    except Exception as exc:
        message.attempts += 1
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if message.attempts >= MAX_ATTEMPTS:
            message.status = OutboxMessage.Status.FAILED
        else:
            message.available_at = now + dt.timedelta(minutes=2**message.attempts)
        message.save(update_fields=["status", "attempts", "last_error", "available_at"])
        logger.warning(
            "outbox %s (%s) attempt %d failed",
            message.id,
            message.topic,
            message.attempts,
            exc_info=True,
        )
        _run_failure_hook(message)
        return False
    message.status = OutboxMessage.Status.SENT
    message.attempts += 1
    message.sent_at = timezone.now()
    message.last_error = ""
    message.save(update_fields=["status", "attempts", "sent_at", "last_error"])
    return True


def _run_failure_hook(message: OutboxMessage) -> None:
    hook = _failure_hooks.get(message.topic)
    if hook is None:
        return
    try:
        with transaction.atomic():
            hook(message)
    except Exception:
        # The bookkeeping above must survive a broken hook: the retry still happens.
        logger.exception("outbox %s (%s): the failure hook failed", message.id, message.topic)


def outbox_deliver(*, limit: int = 100) -> int:
    """Deliver up to ``limit`` due messages, each in its own transaction. Returns how many were
    sent; failures are recorded on the message and retried later. With more than ``limit``
    due it kicks another run for the rest."""
    # From here on this run reads the queue: a message committed later needs a kick of its own.
    cache.delete(KICK_KEY)
    due = OutboxMessage.objects.filter(
        status=OutboxMessage.Status.PENDING, available_at__lte=timezone.now()
    )
    if not due.exists():  # the common case of the 10-second sweep: no write lock taken
        return 0
    sent = 0
    for _ in range(limit):
        now = timezone.now()
        with transaction.atomic():
            message, more = _claim_next(now)
            if message is None:
                return sent
            sent += _deliver_one(message, now)
        if not more:
            return sent
    if due.exists():
        _kick_delivery()
    return sent


@outbox_handler("admin.notice")
def deliver_admin_notice(message: OutboxMessage) -> None:
    """Notices for administrators (e.g. next year's holidays are missing). Logged until the
    notifications app delivers them to people."""
    payload = message.payload
    logger.warning(
        "admin notice %s: %s %s",
        message.id,
        payload.get("title", ""),
        payload.get("body", payload),
    )
