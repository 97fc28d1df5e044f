"""notify_many: the rows of one notify per recipient, written in a few bulk statements."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from yiwang.accounts.models import User
from yiwang.accounts.tests.factories import UserFactory
from yiwang.core.audit import audit_verify
from yiwang.core.errors import ValidationError
from yiwang.core.models import AuditEntry, OutboxMessage
from yiwang.notifications.models import Notification, OutboundMessage
from yiwang.notifications.services import (
    NotifyOutsideTransaction,
    notify,
    notify_many,
)

pytestmark = pytest.mark.django_db

NEWS: dict[str, Any] = {
    "event": "hotline.dispatched",
    "title": "新工单待签收",
    "body": "工单 GD2026112700000001：路灯不亮",
    "link": "/console/hotline/orders/1/",
}


def _people() -> list[User]:
    return [
        UserFactory.create(real_name="赵承办", phone="13800000001", email="zhao@example.com"),
        UserFactory.create(real_name="钱承办", phone="13800000002", email=""),
        UserFactory.create(real_name="孙承办", phone="", email="sun@example.com"),
    ]


def _written_since(audit_seq: int) -> dict[str, list[Any]]:
    """Everything written after ``audit_seq`` (and every notification row), with row ids
    replaced by their position, so that two runs compare equal."""
    notifications = list(Notification.objects.order_by("pk"))
    position: dict[int | None, int] = {n.pk: i for i, n in enumerate(notifications)}
    outbound = list(OutboundMessage.objects.order_by("pk"))
    out_position = {m.pk: i for i, m in enumerate(outbound)}
    return {
        "notifications": [
            (n.recipient_id, n.principal_id, n.event, n.title, n.body, n.link, n.read_at)
            for n in notifications
        ],
        "outbound": [
            (
                position[m.notification_id],
                m.channel,
                m.recipient_id,
                m.address,
                m.address_masked,
                m.subject,
                m.body,
                m.event,
                m.status,
                m.provider,
            )
            for m in outbound
        ],
        "outbox": [
            (o.topic, out_position[o.payload["outbound_id"]], o.status)
            for o in OutboxMessage.objects.order_by("created_at", "pk")
        ],
        "audit": [
            (
                a.actor_id,
                a.actor_label,
                a.action,
                a.object_type,
                position[int(a.object_id)],
                a.after,
            )
            for a in AuditEntry.objects.filter(seq__gt=audit_seq).order_by("seq")
        ],
    }


def _last_seq() -> int:
    return AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def _clear_notifications() -> None:
    OutboxMessage.objects.all().delete()
    OutboundMessage.objects.all().delete()
    Notification.objects.all().delete()


def test_notify_many_writes_what_one_notify_per_recipient_writes() -> None:
    # given three people: phone and email, phone only, email only
    people = _people()
    channels = ("sms", "email")

    # when each is told with notify
    seq = _last_seq()
    with transaction.atomic():
        for person in people:
            notify(recipient=person, channels=channels, actor="system:hotline", **NEWS)
    one_by_one = _written_since(seq)
    _clear_notifications()  # audit rows stay: the trail is append-only

    # and then all at once with notify_many
    seq = _last_seq()
    with transaction.atomic():
        made = notify_many(recipients=people, channels=channels, actor="system:hotline", **NEWS)
    at_once = _written_since(seq)

    # then the same rows, in the same order, and the chain still verifies
    assert at_once == one_by_one
    assert [n.recipient_id for n in made] == [p.pk for p in people]
    assert [n.pk for n in made] == list(
        Notification.objects.order_by("pk").values_list("pk", flat=True)
    )
    assert len(at_once["outbound"]) == 4  # two for 赵, the SMS of 钱, the email of 孙
    assert len(at_once["outbox"]) == 4
    assert [a[2] for a in at_once["audit"]] == ["notifications.notify"] * 3
    assert at_once["audit"][1][5]["outbound"] == [{"channel": "sms", "address": "138****0002"}]
    assert audit_verify().ok


def test_notify_many_costs_the_same_queries_for_one_or_many_recipients() -> None:
    people = _people() + [UserFactory.create(phone=f"1380000001{i}") for i in range(5)]
    with transaction.atomic():  # the first audit row ever also creates the chain's head
        notify_many(recipients=people[:1], **NEWS)

    with CaptureQueriesContext(connection) as one, transaction.atomic():
        notify_many(recipients=people[:1], **NEWS)
    with CaptureQueriesContext(connection) as eight, transaction.atomic():
        notify_many(recipients=people, **NEWS)

    # the caller's savepoint (the test's transaction is around it), notify_many's savepoint,
    # notifications, outbound, outbox, its release, then at the caller's end the audit head
    # moved and the audit rows, and the caller's release
    assert len(one) == 9
    assert len(eight) == 9
    assert Notification.objects.count() == 10
    assert OutboundMessage.objects.count() == 9  # 孙 has no phone


@pytest.mark.django_db(transaction=True)
def test_notify_many_refuses_outside_a_transaction_and_writes_nothing() -> None:
    people = _people()
    seq = _last_seq()

    with pytest.raises(NotifyOutsideTransaction):
        notify_many(recipients=people, **NEWS)

    assert Notification.objects.count() == 0
    assert OutboundMessage.objects.count() == 0
    assert OutboxMessage.objects.count() == 0
    assert _last_seq() == seq


def test_notify_many_refuses_bad_news_before_writing() -> None:
    people = _people()
    seq = _last_seq()

    with pytest.raises(ValidationError) as caught, transaction.atomic():
        notify_many(recipients=people, **{**NEWS, "event": "Not An Event"})

    assert caught.value.code == "notifications.event_invalid"
    assert Notification.objects.count() == 0
    assert _last_seq() == seq


def _notify_then_fail(people: list[User]) -> None:
    with transaction.atomic():
        notify_many(recipients=people, **NEWS)
        raise RuntimeError("the change failed after the notices")


def test_notify_many_rolls_back_with_the_callers_change() -> None:
    people = _people()
    seq = _last_seq()

    with pytest.raises(RuntimeError):
        _notify_then_fail(people)

    assert Notification.objects.count() == 0
    assert OutboundMessage.objects.count() == 0
    assert OutboxMessage.objects.count() == 0
    assert _last_seq() == seq


def test_notify_many_with_nobody_writes_nothing() -> None:
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert notify_many(recipients=[], **NEWS) == []

    assert len(queries) == 0
