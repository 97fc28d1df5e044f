"""notify: the in-app notification always, SMS and email where the person has an address, all
inside the caller's transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from yiwang.accounts.models import User
from yiwang.accounts.tests.factories import DelegationFactory, UserFactory
from yiwang.core.errors import PermissionDenied, ValidationError
from yiwang.core.models import AuditEntry, OutboxMessage
from yiwang.notifications.models import Notification, OutboundMessage
from yiwang.notifications.services import OUTBOUND_TOPIC, NotifyOutsideTransaction, notify
from yiwang.notifications.tests.conftest import EMAIL, PHONE

pytestmark = pytest.mark.django_db


def _notify(recipient: User, **kwargs: object) -> Notification:
    args: dict[str, object] = {
        "recipient": recipient,
        "event": "application.accepted",
        "title": "您的申请已受理",
        "body": "受理编号 LA2026001，请留意审批结果。",
        "link": "/accounts/me/",
    }
    args.update(kwargs)
    with transaction.atomic():
        return notify(**args)  # type: ignore[arg-type]


def _nothing_stored() -> bool:
    return (
        Notification.objects.count() == 0
        and OutboundMessage.objects.count() == 0
        and OutboxMessage.objects.count() == 0
    )


def test_notify_creates_the_notification_and_one_pending_sms(citizen: User):
    # when
    notification = _notify(citizen)

    # then the in-app notification
    stored = Notification.objects.get()
    assert stored.pk == notification.pk
    assert (stored.recipient, stored.principal, stored.event, stored.title, stored.link) == (
        citizen,
        None,
        "application.accepted",
        "您的申请已受理",
        "/accounts/me/",
    )
    assert stored.read_at is None
    # and the SMS, pending delivery through the outbox (nothing delivered: no commit yet)
    sms = OutboundMessage.objects.get()
    assert (sms.channel, sms.status, sms.recipient, sms.notification) == (
        "sms",
        "pending",
        citizen,
        stored,
    )
    assert (sms.address, sms.address_masked, sms.provider, sms.attempts) == (
        PHONE,
        "138****5678",
        "record",
        0,
    )
    assert sms.body == "【六安市一网通办】您的申请已受理：受理编号 LA2026001，请留意审批结果。"
    outbox = OutboxMessage.objects.get()
    assert (outbox.topic, outbox.payload, outbox.status) == (
        OUTBOUND_TOPIC,
        {"outbound_id": sms.pk},
        "pending",
    )


def test_the_address_is_encrypted_at_rest(citizen: User):
    _notify(citizen, channels=("sms", "email"))

    with connection.cursor() as cursor:
        cursor.execute("SELECT address FROM notifications_outboundmessage")
        stored = [row[0] for row in cursor.fetchall()]
    assert len(stored) == 2
    assert all(PHONE not in value and EMAIL not in value for value in stored)
    assert all(value.startswith(("sm4-gcm:", "aes-gcm:")) for value in stored)


def test_notify_writes_one_audit_row_with_masked_addresses(citizen: User):
    actor = UserFactory.create(real_name="陈受理")

    notification = _notify(citizen, channels=("sms", "email"), actor=actor)

    entry = AuditEntry.objects.get(action="notifications.notify")
    assert (entry.actor_id, entry.object_type, entry.object_id) == (
        actor.pk,
        "notifications.notification",
        str(notification.pk),
    )
    assert entry.after == {
        "recipient_id": citizen.pk,
        "recipient": "张**",
        "event": "application.accepted",
        "title": "您的申请已受理",
        "link": "/accounts/me/",
        "outbound": [
            {"channel": "sms", "address": "138****5678"},
            {"channel": "email", "address": "z*******@example.com"},
        ],
    }


def test_without_an_actor_the_platform_is_the_actor(citizen: User):
    _notify(citizen)

    entry = AuditEntry.objects.get(action="notifications.notify")
    assert (entry.actor_id, entry.actor_label) == (None, "system:notifications")


@pytest.mark.parametrize(
    ("channels", "expected"),
    [
        ((), []),
        (("sms",), [("sms", "138****5678")]),
        (("email",), [("email", "z*******@example.com")]),
        (("sms", "email", "sms"), [("sms", "138****5678"), ("email", "z*******@example.com")]),
    ],
)
def test_each_requested_channel_once(citizen: User, channels, expected):
    _notify(citizen, channels=channels)

    assert Notification.objects.count() == 1
    assert sorted(OutboundMessage.objects.values_list("channel", "address_masked")) == sorted(
        expected
    )
    assert OutboxMessage.objects.count() == len(expected)


def test_a_channel_without_an_address_is_skipped_and_in_app_stays(db: None):
    nobody = UserFactory.create(phone="", phone_index="", email="")

    _notify(nobody, channels=("sms", "email"))

    assert Notification.objects.filter(recipient=nobody).count() == 1
    assert OutboundMessage.objects.count() == 0
    assert OutboxMessage.objects.count() == 0


def test_the_full_link_is_added_to_sms_and_email_when_the_site_url_is_set(citizen: User, settings):
    settings.YIWANG_SITE_URL = "https://zwfw.luan.gov.cn"

    _notify(citizen, channels=("sms", "email"), link="/accounts/me/")

    bodies = dict(OutboundMessage.objects.values_list("channel", "body"))
    assert bodies == {
        "sms": "【六安市一网通办】您的申请已受理：受理编号 LA2026001，请留意审批结果。 "
        "详情：https://zwfw.luan.gov.cn/accounts/me/",
        "email": "受理编号 LA2026001，请留意审批结果。\n\n详情：https://zwfw.luan.gov.cn/accounts/me/",
    }
    assert OutboundMessage.objects.get(channel="email").subject == "您的申请已受理"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"event": "Accepted"}, "notifications.event_invalid"),
        ({"event": "application"}, "notifications.event_invalid"),
        ({"event": "application.accepted!"}, "notifications.event_invalid"),
        ({"event": "a." + "b" * 99}, "notifications.event_invalid"),
        ({"title": "   "}, "notifications.title_invalid"),
        ({"title": "题" * 201}, "notifications.title_invalid"),
        ({"body": "字" * 2001}, "notifications.body_invalid"),
        ({"link": "https://evil.example/"}, "notifications.link_invalid"),
        ({"link": "//evil.example/path"}, "notifications.link_invalid"),
        ({"link": "/\\evil.example"}, "notifications.link_invalid"),
        ({"link": "javascript:alert(1)"}, "notifications.link_invalid"),
        ({"link": "accounts/me/"}, "notifications.link_invalid"),
        ({"link": "/" + "a" * 500}, "notifications.link_invalid"),
        ({"channels": ("sms", "wechat")}, "notifications.channel_unknown"),
    ],
)
def test_bad_input_is_refused_and_stores_nothing(citizen: User, kwargs, code):
    with pytest.raises(ValidationError) as caught:
        _notify(citizen, **kwargs)

    assert caught.value.code == code
    assert _nothing_stored()
    assert not AuditEntry.objects.filter(action="notifications.notify").exists()


def test_one_string_as_channels_is_a_programming_error(citizen: User):
    with pytest.raises(TypeError, match="not one string"):
        _notify(citizen, channels="sms")

    assert _nothing_stored()


# --- delegation (代办) ---------------------------------------------------------------------


def test_an_agent_is_notified_about_the_principals_affairs(citizen: User):
    elder = UserFactory.create(real_name="李秀英")
    DelegationFactory.create(principal=elder, agent=citizen)

    notification = _notify(citizen, principal=elder)

    assert Notification.objects.get(pk=notification.pk).principal == elder
    entry = AuditEntry.objects.get(action="notifications.notify")
    assert (entry.on_behalf_of_id, entry.on_behalf_of_label) == (elder.pk, "李秀英")


def test_the_principal_cannot_be_the_recipient(citizen: User):
    with pytest.raises(ValidationError) as caught:
        _notify(citizen, principal=citizen)

    assert caught.value.code == "notifications.principal_self"
    assert _nothing_stored()


@pytest.mark.parametrize("state", ["none", "expired", "revoked", "reversed"])
def test_without_an_active_delegation_the_agent_gets_nothing(citizen: User, state: str):
    elder = UserFactory.create(real_name="李秀英")
    now = timezone.now()
    if state == "expired":
        DelegationFactory.create(
            principal=elder,
            agent=citizen,
            starts_at=now - timedelta(days=10),
            expires_at=now - timedelta(days=1),
        )
    elif state == "revoked":
        DelegationFactory.create(principal=elder, agent=citizen, revoked_at=now)
    elif state == "reversed":  # the recipient authorised the other person, not the other way
        DelegationFactory.create(principal=citizen, agent=elder)

    with pytest.raises(PermissionDenied) as caught:
        _notify(citizen, principal=elder)

    assert caught.value.code == "notifications.no_delegation"
    assert _nothing_stored()


# --- the caller's transaction -------------------------------------------------------------


def test_a_rolled_back_change_leaves_nothing_and_sends_nothing(
    citizen: User, django_capture_on_commit_callbacks
):
    audit_rows = AuditEntry.objects.count()

    @transaction.atomic
    def accept_application() -> None:
        notify(
            recipient=citizen,
            event="application.accepted",
            title="您的申请已受理",
            body="",
            channels=("sms", "email"),
        )
        raise RuntimeError("the acceptance failed after notifying")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        accept_application()

    assert callbacks == []
    assert _nothing_stored()
    assert AuditEntry.objects.count() == audit_rows


@pytest.mark.django_db(transaction=True)
def test_notify_refuses_to_run_outside_a_transaction(citizen: User):
    with pytest.raises(NotifyOutsideTransaction, match="inside the transaction"):
        notify(recipient=citizen, event="application.accepted", title="t", body="")

    assert _nothing_stored()
