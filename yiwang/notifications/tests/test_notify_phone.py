"""notify_phone: an SMS to a phone number with no account behind it (a 12345 caller), in the
caller's transaction, delivered by the same outbox and providers as notify's messages."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from yiwang.accounts.models import User
from yiwang.accounts.tests.factories import UserFactory
from yiwang.core.errors import ValidationError
from yiwang.core.models import AuditEntry, OutboxMessage
from yiwang.notifications.models import Notification, OutboundMessage
from yiwang.notifications.services import (
    OUTBOUND_TOPIC,
    NotifyOutsideTransaction,
    notify_phone,
)
from yiwang.notifications.tests.conftest import PHONE, Gateway, signed_in
from yiwang.notifications.tests.factories import OutboundMessageFactory

pytestmark = pytest.mark.django_db

CALLER = "13987654321"
BODY = "您的工单GD20261127001已办结，答复：路灯已修复。"
OUTBOX = "/notifications/outbox/"


def _notify_phone(**kwargs: object) -> OutboundMessage:
    args: dict[str, object] = {
        "phone": CALLER,
        "event": "hotline.order_closed",
        "body": BODY,
        "actor": "system:hotline",
    }
    args.update(kwargs)
    with transaction.atomic():
        return notify_phone(**args)  # type: ignore[arg-type]


def _nothing_stored() -> bool:
    return (
        OutboundMessage.objects.count() == 0
        and OutboxMessage.objects.count() == 0
        and Notification.objects.count() == 0
        and not AuditEntry.objects.filter(action="notifications.notify_phone").exists()
    )


def test_notify_phone_creates_one_pending_sms_without_notification_or_recipient():
    # when
    outbound = _notify_phone(link="/hotline/orders/GD20261127001/")

    # then one SMS to the number, tied to no person and no in-app notification
    stored = OutboundMessage.objects.get()
    assert stored.pk == outbound.pk
    assert (stored.notification, stored.recipient, stored.channel, stored.status) == (
        None,
        None,
        "sms",
        "pending",
    )
    assert (stored.address, stored.address_masked, stored.provider, stored.attempts) == (
        CALLER,
        "139****4321",
        "record",
        0,
    )
    assert (stored.event, stored.subject) == ("hotline.order_closed", "")
    assert stored.body == f"【六安市一网通办】{BODY}"
    assert Notification.objects.count() == 0
    # and its delivery waits in the outbox (nothing delivered: no commit yet)
    outbox = OutboxMessage.objects.get()
    assert (outbox.topic, outbox.payload, outbox.status) == (
        OUTBOUND_TOPIC,
        {"outbound_id": stored.pk},
        "pending",
    )


def test_notify_phone_writes_one_audit_row_with_the_masked_number():
    actor = UserFactory.create(real_name="陈话务")

    outbound = _notify_phone(actor=actor, link="/hotline/orders/GD20261127001/")

    entry = AuditEntry.objects.get(action="notifications.notify_phone")
    assert (entry.actor_id, entry.object_type, entry.object_id) == (
        actor.pk,
        "notifications.outboundmessage",
        str(outbound.pk),
    )
    assert entry.after == {
        "event": "hotline.order_closed",
        "link": "/hotline/orders/GD20261127001/",
        "channel": "sms",
        "address": "139****4321",
    }
    assert CALLER not in str(entry.after)
    assert AuditEntry.objects.filter(action="notifications.notify").count() == 0


def test_a_system_actor_is_recorded_by_its_label():
    _notify_phone(actor="system:hotline")

    entry = AuditEntry.objects.get(action="notifications.notify_phone")
    assert (entry.actor_id, entry.actor_label) == (None, "system:hotline")


def test_the_record_provider_delivers_it_after_the_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _notify_phone()

    assert len(callbacks) == 1
    message = OutboundMessage.objects.get()
    assert (message.status, message.provider, message.attempts, message.last_error) == (
        "recorded",
        "record",
        1,
        "",
    )
    assert message.sent_at is not None
    assert OutboxMessage.objects.get().status == "sent"


def test_the_http_gateway_gets_the_number_and_the_text(
    django_capture_on_commit_callbacks, sms_gateway: Gateway
):
    with django_capture_on_commit_callbacks(execute=True):
        _notify_phone(event="hotline.survey", body="请回复1-5对本次办理进行评价。")

    message = OutboundMessage.objects.get()
    assert [r["json"] for r in sms_gateway.received] == [
        {
            "id": str(message.public_id),
            "phone": CALLER,
            "text": "【六安市一网通办】请回复1-5对本次办理进行评价。",
            "event": "hotline.survey",
        }
    ]
    assert sms_gateway.received[0]["headers"]["Idempotency-Key"] == str(message.public_id)
    assert (message.status, message.provider, message.attempts) == ("sent", "http", 1)


def test_a_gateway_failure_is_kept_with_the_number_masked(
    django_capture_on_commit_callbacks, sms_gateway: Gateway
):
    sms_gateway.always = 500

    with django_capture_on_commit_callbacks(execute=True):
        _notify_phone()

    message = OutboundMessage.objects.get()
    assert (message.status, message.attempts, message.sent_at) == ("pending", 1, None)
    assert message.last_error == (
        'DeliveryFailed: 短信网关返回 HTTP 500: {"error": "号码 139****4321 暂时无法送达"}'
    )
    assert CALLER not in OutboxMessage.objects.get().last_error


def test_the_full_link_is_added_when_the_site_url_is_set(settings):
    settings.YIWANG_SITE_URL = "https://zwfw.luan.gov.cn"

    _notify_phone(link="/hotline/orders/GD20261127001/")

    assert OutboundMessage.objects.get().body == (
        f"【六安市一网通办】{BODY} 详情：https://zwfw.luan.gov.cn/hotline/orders/GD20261127001/"
    )


@pytest.mark.parametrize(
    "written", ["13987654321", " 139 8765 4321 ", "139-8765-4321", "+8613987654321"]
)
def test_the_number_is_stored_as_eleven_digits(written: str):
    _notify_phone(phone=written)

    assert OutboundMessage.objects.get().address == CALLER


@pytest.mark.parametrize(
    "phone",
    [
        "",
        "   ",
        "12987654321",  # no mobile prefix 12
        "1398765432",  # 10 digits
        "139876543210",  # 12 digits
        "03516543210",  # a landline
        "8613987654321",  # country code without +
        "+85213987654",
        "1398765432a",
        "１３９８７６５４３２１",  # full-width digits
    ],
)
def test_a_bad_number_is_refused_and_changes_nothing(phone: str):
    with pytest.raises(ValidationError) as caught:
        _notify_phone(phone=phone)

    assert caught.value.code == "notifications.invalid_phone"
    assert _nothing_stored()


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"event": "Closed"}, "notifications.event_invalid"),
        ({"event": "hotline"}, "notifications.event_invalid"),
        ({"event": "a." + "b" * 99}, "notifications.event_invalid"),
        ({"body": ""}, "notifications.body_invalid"),
        ({"body": "  \n "}, "notifications.body_invalid"),
        ({"body": "字" * 2001}, "notifications.body_invalid"),
        ({"link": "https://evil.example/"}, "notifications.link_invalid"),
        ({"link": "//evil.example/path"}, "notifications.link_invalid"),
        ({"link": "hotline/orders/"}, "notifications.link_invalid"),
    ],
)
def test_bad_event_body_or_link_is_refused_and_changes_nothing(kwargs, code):
    with pytest.raises(ValidationError) as caught:
        _notify_phone(**kwargs)

    assert caught.value.code == code
    assert _nothing_stored()


def test_a_rolled_back_change_leaves_nothing_and_sends_nothing(django_capture_on_commit_callbacks):
    @transaction.atomic
    def close_order() -> None:
        notify_phone(phone=CALLER, event="hotline.order_closed", body=BODY, actor=None)
        raise RuntimeError("closing the order failed after notifying")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        close_order()

    assert callbacks == []
    assert _nothing_stored()


@pytest.mark.django_db(transaction=True)
def test_notify_phone_refuses_to_run_outside_a_transaction(sms_gateway: Gateway):
    with pytest.raises(NotifyOutsideTransaction, match="notify_phone must run inside"):
        notify_phone(phone=CALLER, event="hotline.order_closed", body=BODY, actor=None)

    assert _nothing_stored()
    assert sms_gateway.received == []


# --- the database keeps the shape ---------------------------------------------------------


def test_an_email_without_a_recipient_is_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        OutboundMessage.objects.create(
            channel="email",
            address="caller@example.com",
            address_masked="c*****@example.com",
            body="正文",
            event="hotline.order_closed",
        )


def test_a_message_with_a_recipient_but_no_notification_is_refused_by_the_database(
    citizen: User,
):
    with pytest.raises(IntegrityError), transaction.atomic():
        OutboundMessage.objects.create(
            recipient=citizen,
            channel="sms",
            address=PHONE,
            address_masked="138****5678",
            body="正文",
            event="hotline.order_closed",
        )


# --- the staff outbox page ----------------------------------------------------------------


def test_the_outbox_page_shows_it_masked_next_to_a_persons_message(auditor: User, citizen: User):
    # given a message from notify (to the citizen) and one from notify_phone
    OutboundMessageFactory.create(notification__recipient=citizen)
    phone_only = _notify_phone()

    # when
    response = signed_in(auditor).get(OUTBOX)

    # then both are listed, the caller's by masked number and as having no account
    html = response.content.decode()
    assert response.status_code == 200
    assert len(response.context["messages_shown"]) == 2
    assert "139****4321" in html
    assert CALLER not in html
    assert "无账号（仅手机号）" in html
    assert f"【六安市一网通办】{BODY}" in html
    assert "张**" in html
    # and the read is audited, naming both messages and the one person behind them
    entry = AuditEntry.objects.get(action="notifications.outbox_read")
    assert entry.after is not None
    assert entry.after["recipient_ids"] == [citizen.pk]
    assert str(phone_only.public_id) in entry.after["messages"]
    assert len(entry.after["messages"]) == 2
