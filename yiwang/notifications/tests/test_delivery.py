"""Delivery after commit through the configured provider: record (the default), Django email
(locmem and a refused SMTP connection), and the HTTP SMS gateway (a real local server)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.checks import run_checks
from django.db import transaction
from django.utils import timezone

from yiwang.accounts.models import User
from yiwang.core.models import OutboxMessage
from yiwang.core.outbox import MAX_ATTEMPTS, outbox_deliver
from yiwang.notifications.models import Notification, OutboundMessage
from yiwang.notifications.services import notify
from yiwang.notifications.tests.conftest import EMAIL, PHONE, Gateway

pytestmark = pytest.mark.django_db


def _notify_and_commit(recipient: User, capture, channels=("sms",)) -> Notification:
    """notify in a transaction that commits: the outbox kick runs the delivery inline (no
    job runner in the test process)."""
    with capture(execute=True), transaction.atomic():
        return notify(
            recipient=recipient,
            event="application.accepted",
            title="您的申请已受理",
            body="请留意审批结果。",
            link="/accounts/me/",
            channels=channels,
        )


def _retry_now() -> int:
    """Make every waiting outbox message due, as time passing would, and deliver."""
    OutboxMessage.objects.filter(status="pending").update(available_at=timezone.now())
    return outbox_deliver()


# --- record (the embedded default) --------------------------------------------------------


def test_the_record_provider_marks_the_message_recorded_and_sends_nothing(
    citizen: User, django_capture_on_commit_callbacks
):
    _notify_and_commit(citizen, django_capture_on_commit_callbacks, channels=("sms", "email"))

    rows = OutboundMessage.objects.order_by("channel")
    assert [(m.channel, m.status, m.provider, m.attempts, m.last_error) for m in rows] == [
        ("email", "recorded", "record", 1, ""),
        ("sms", "recorded", "record", 1, ""),
    ]
    assert all(m.sent_at is not None for m in rows)
    assert mail.outbox == []
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}


def test_a_second_delivery_of_the_same_message_does_nothing(
    citizen: User, django_capture_on_commit_callbacks, sms_gateway: Gateway
):
    # given a delivered message whose outbox row is handed over again (at least once)
    _notify_and_commit(citizen, django_capture_on_commit_callbacks)
    OutboxMessage.objects.update(status="pending", available_at=timezone.now())

    # when
    outbox_deliver()

    # then the gateway got it once
    assert len(sms_gateway.received) == 1
    assert OutboundMessage.objects.get().attempts == 1


# --- email through Django's backend ---------------------------------------------------------


def test_the_email_provider_sends_through_the_django_backend(
    citizen: User, django_capture_on_commit_callbacks, settings
):
    settings.YIWANG_EMAIL_PROVIDER = "email"
    settings.DEFAULT_FROM_EMAIL = "noreply@zwfw.luan.gov.cn"

    _notify_and_commit(citizen, django_capture_on_commit_callbacks, channels=("email",))

    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    message = OutboundMessage.objects.get()
    assert (sent.to, sent.from_email, sent.subject, sent.body) == (
        [EMAIL],
        "noreply@zwfw.luan.gov.cn",
        "您的申请已受理",
        "请留意审批结果。",
    )
    assert sent.extra_headers == {"X-Yiwang-Message-Id": str(message.public_id)}
    assert (message.status, message.provider, message.attempts) == ("sent", "email", 1)


def test_an_unreachable_mail_server_is_retried_and_the_error_kept(
    citizen: User, django_capture_on_commit_callbacks, settings, closed_port: int
):
    settings.YIWANG_EMAIL_PROVIDER = "email"
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = closed_port

    _notify_and_commit(citizen, django_capture_on_commit_callbacks, channels=("email",))

    message = OutboundMessage.objects.get()
    assert (message.status, message.provider, message.attempts, message.sent_at) == (
        "pending",
        "email",
        1,
        None,
    )
    assert message.last_error.startswith("DeliveryFailed: ConnectionRefusedError: ")
    assert EMAIL not in message.last_error


# --- the HTTP SMS gateway -----------------------------------------------------------------


def test_the_http_provider_posts_json_with_the_token(
    citizen: User, django_capture_on_commit_callbacks, sms_gateway: Gateway
):
    _notify_and_commit(citizen, django_capture_on_commit_callbacks)

    message = OutboundMessage.objects.get()
    assert len(sms_gateway.received) == 1
    request = sms_gateway.received[0]
    assert request["path"] == "/sms/send"
    assert request["headers"]["Authorization"] == "Bearer gateway-token-for-tests"
    assert request["headers"]["Content-Type"] == "application/json; charset=utf-8"
    assert request["headers"]["Idempotency-Key"] == str(message.public_id)
    assert request["json"] == {
        "id": str(message.public_id),
        "phone": PHONE,
        "text": "【六安市一网通办】您的申请已受理：请留意审批结果。",
        "event": "application.accepted",
    }
    assert (message.status, message.provider, message.attempts, message.last_error) == (
        "sent",
        "http",
        1,
        "",
    )
    assert message.sent_at is not None


def test_a_gateway_failure_is_retried_by_the_outbox_then_sent(
    citizen: User, django_capture_on_commit_callbacks, sms_gateway: Gateway
):
    # given a gateway that fails once
    sms_gateway.answers.append(503)

    # when the message is sent after commit
    _notify_and_commit(citizen, django_capture_on_commit_callbacks)

    # then it waits for a retry, with the error kept and the number masked in it
    message = OutboundMessage.objects.get()
    assert (message.status, message.attempts, message.sent_at) == ("pending", 1, None)
    assert message.last_error == (
        'DeliveryFailed: 短信网关返回 HTTP 503: {"error": "号码 138****5678 暂时无法送达"}'
    )
    outbox = OutboxMessage.objects.get()
    assert (outbox.status, outbox.attempts) == ("pending", 1)
    assert PHONE not in outbox.last_error
    # and is not retried before it is due
    assert outbox_deliver() == 0
    assert len(sms_gateway.received) == 1

    # when the retry is due
    assert _retry_now() == 1

    # then the second attempt went through, with the same id for the gateway to deduplicate
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == ("sent", 2, "")
    assert message.sent_at is not None
    assert [r["json"]["id"] for r in sms_gateway.received] == [str(message.public_id)] * 2


def test_a_message_that_never_goes_through_ends_failed_with_its_error(
    citizen: User, django_capture_on_commit_callbacks, sms_gateway: Gateway
):
    sms_gateway.always = 500

    _notify_and_commit(citizen, django_capture_on_commit_callbacks)
    for _ in range(MAX_ATTEMPTS - 1):
        _retry_now()

    message = OutboundMessage.objects.get()
    assert (message.status, message.attempts, message.sent_at) == ("failed", MAX_ATTEMPTS, None)
    assert message.last_error == (
        'DeliveryFailed: 短信网关返回 HTTP 500: {"error": "号码 138****5678 暂时无法送达"}'
    )
    assert len(sms_gateway.received) == MAX_ATTEMPTS
    assert OutboxMessage.objects.get().status == "failed"
    # and nothing retries it any more
    assert _retry_now() == 0
    assert len(sms_gateway.received) == MAX_ATTEMPTS


def test_a_refused_connection_to_the_gateway_is_a_failure(
    citizen: User, django_capture_on_commit_callbacks, settings, closed_port: int
):
    settings.YIWANG_SMS_PROVIDER = "http"
    settings.YIWANG_SMS_URL = f"http://127.0.0.1:{closed_port}/sms"
    settings.YIWANG_SMS_TOKEN = "t"

    _notify_and_commit(citizen, django_capture_on_commit_callbacks)

    message = OutboundMessage.objects.get()
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.last_error == (
        "DeliveryFailed: 无法连接短信网关: [Errno 111] Connection refused"
    )


def test_a_redirecting_gateway_is_a_failure_not_a_resend_elsewhere(
    citizen: User, django_capture_on_commit_callbacks, sms_gateway: Gateway
):
    sms_gateway.answers.append(307)

    _notify_and_commit(citizen, django_capture_on_commit_callbacks)

    message = OutboundMessage.objects.get()
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.last_error.startswith("DeliveryFailed: 短信网关返回 HTTP 307: ")
    assert len(sms_gateway.received) == 1


def test_a_provider_name_that_does_not_exist_fails_clearly_and_is_retried(
    citizen: User, django_capture_on_commit_callbacks, settings
):
    settings.YIWANG_SMS_PROVIDER = "carrier-pigeon"

    _notify_and_commit(citizen, django_capture_on_commit_callbacks)

    message = OutboundMessage.objects.get()
    assert (message.status, message.attempts, message.provider) == (
        "pending",
        1,
        "carrier-pigeon",
    )
    assert message.last_error == (
        "ImproperlyConfigured: notification provider 'carrier-pigeon' cannot send sms; "
        "choose one of http, record"
    )


# --- configuration checks -----------------------------------------------------------------


def _problems() -> list[tuple[str, str]]:
    return [(m.id or "", m.msg) for m in run_checks(tags=["notifications"])]


def test_the_default_configuration_passes_the_checks():
    assert _problems() == []


def test_the_checks_name_a_wrong_provider_and_a_gateway_without_url_or_token(settings):
    settings.YIWANG_EMAIL_PROVIDER = "http"  # an SMS provider cannot send email
    settings.YIWANG_SMS_PROVIDER = "http"
    settings.YIWANG_SMS_URL = "ftp://gateway"
    settings.YIWANG_SMS_TOKEN = ""

    assert _problems() == [
        ("notifications.E001", "YIWANG_EMAIL_PROVIDER='http' is not a provider for email"),
        (
            "notifications.E002",
            "YIWANG_SMS_PROVIDER=http needs YIWANG_SMS_URL (an http:// or https:// URL)",
        ),
        (
            "notifications.E003",
            "YIWANG_SMS_PROVIDER=http needs YIWANG_SMS_TOKEN (the gateway's bearer token)",
        ),
    ]
