"""Delivery of SMS and email: the outbox handler of topic ``notifications.outbound``.

The core outbox calls ``deliver_outbound`` after the transaction that created the message has
committed (and from its periodic sweep), and ``record_failure`` after each failed attempt, so
that the message's own row keeps the attempts and the error (a failing handler's writes are
rolled back)."""

from __future__ import annotations

from yiwang.core.models import OutboxMessage
from yiwang.core.outbox import outbox_handler
from yiwang.notifications.services import (
    OUTBOUND_TOPIC,
    outbound_message_deliver,
    outbound_message_record_failure,
)


def record_failure(message: OutboxMessage) -> None:
    outbound_message_record_failure(
        outbound_id=int(message.payload["outbound_id"]),
        attempts=message.attempts,
        error=message.last_error,
        final=message.status == OutboxMessage.Status.FAILED,
    )


@outbox_handler(OUTBOUND_TOPIC, on_failure=record_failure)
def deliver_outbound(message: OutboxMessage) -> None:
    outbound_message_deliver(
        outbound_id=int(message.payload["outbound_id"]), attempt=message.attempts + 1
    )
