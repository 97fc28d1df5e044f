"""Reads of the notifications app."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from yiwang.notifications.models import Notification, OutboundMessage

# What lists need of a related person: the name to mask. Loading the whole user would decrypt
# their ID number and phone for every row.
_PERSON_FIELDS = ("username", "real_name")


def notification_list(*, user: Any, unread: bool | None = None) -> QuerySet[Notification]:
    """``user``'s notifications, newest first, with the principal's name loaded (one query).
    ``unread`` True gives only unread ones, False only read ones."""
    rows = Notification.objects.filter(recipient_id=user.pk)
    if unread is True:
        rows = rows.filter(read_at__isnull=True)
    elif unread is False:
        rows = rows.filter(read_at__isnull=False)
    return (
        rows.select_related("principal")
        .only(
            "public_id",
            "recipient_id",
            "event",
            "title",
            "body",
            "link",
            "created_at",
            "read_at",
            *(f"principal__{name}" for name in _PERSON_FIELDS),
        )
        .order_by("-created_at", "-id")
    )


def notification_unread_count(*, user: Any) -> int:
    """How many of ``user``'s notifications are unread: one COUNT on the partial index
    ``notification_unread_idx``. 0 for anonymous users."""
    if user is None or not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()


def outbound_message_list(
    *, status: str | None = None, channel: str | None = None
) -> QuerySet[OutboundMessage]:
    """Outbound messages, newest first, for the staff outbox page. The encrypted address is
    never loaded (pages show ``address_masked``); unknown filter values raise ValueError."""
    rows = OutboundMessage.objects.all()
    if status is not None:
        if status not in OutboundMessage.Status.values:
            raise ValueError(f"unknown outbound status {status!r}")
        rows = rows.filter(status=status)
    if channel is not None:
        if channel not in OutboundMessage.Channel.values:
            raise ValueError(f"unknown outbound channel {channel!r}")
        rows = rows.filter(channel=channel)
    return (
        rows.select_related("recipient")
        .defer("address")
        .only(
            "public_id",
            "recipient_id",
            "channel",
            "address_masked",
            "subject",
            "body",
            "event",
            "status",
            "provider",
            "attempts",
            "last_error",
            "created_at",
            "sent_at",
            *(f"recipient__{name}" for name in _PERSON_FIELDS),
        )
        .order_by("-created_at", "-id")
    )


def outbound_status_counts() -> list[tuple[str, str, int]]:
    """(status, label, count) for every status, in the order of ``OutboundMessage.Status``."""
    counts = dict(
        OutboundMessage.objects.order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return [
        (value, str(label), counts.get(value, 0)) for value, label in OutboundMessage.Status.choices
    ]
