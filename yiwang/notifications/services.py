"""Writes of the notifications app.

``notify`` is the one door other apps use: "tell this person that this happened". It always
creates the in-app notification, and for each requested channel where the person has an
address (mobile number for ``sms``, email for ``email``) an ``OutboundMessage`` whose delivery
goes through the core outbox. It runs inside the caller's transaction (and refuses to run
outside one), so a change that rolls back leaves no notification and sends nothing; one that
commits is delivered after the commit, retried with back-off by the outbox on failure.

``notify_many`` is ``notify`` for many people at once (every handler of a unit): the same
rows, written in bulk.

``notify_phone`` is the door for someone with no account (a 12345 caller known only by a
phone number): one SMS, no in-app notification, same transaction rule, same outbox delivery.

Each writes its rows in a savepoint, so that a caller that catches a failure keeps its own
work. A caller that catches none (any error ends its whole transaction) passes
``savepoint=False``: the same rows, two statements fewer.

Audit: ``notify`` writes one audit row (event, title, channels and masked addresses: what the
person was told and where), in the caller's transaction; ``notify_phone`` one row with the
event and the masked number. Marking messages read is the person's own reading state, like a
token's "last used": it is not audited. Staff reading the outbox of other people's messages
is (``outbound_messages_read_log``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from yiwang.accounts.models import User
from yiwang.accounts.selectors import delegation_list
from yiwang.core.audit import audit_append, audit_entry, audit_record
from yiwang.core.errors import NotFound, PermissionDenied, ValidationError
from yiwang.core.masking import mask_email, mask_name, mask_phone
from yiwang.core.models import AuditEntry
from yiwang.core.outbox import outbox_enqueue, outbox_enqueue_many
from yiwang.notifications import errors
from yiwang.notifications.models import Notification, OutboundMessage
from yiwang.notifications.providers import DeliveryFailed, provider_configured, provider_for

OUTBOUND_TOPIC = "notifications.outbound"
SYSTEM_ACTOR = "system:notifications"

EVENT_RE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")
EVENT_MAX = 100
TITLE_MAX = 200
BODY_MAX = 2000
LINK_MAX = 500
PHONE_RE = re.compile(r"1[3-9]\d{9}")
# Mainland mobile numbers inside an error text (a gateway may echo the number it refused).
_PHONE_IN_TEXT = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


class NotifyOutsideTransaction(RuntimeError):
    """``notify`` was called in autocommit mode: the message could outlive a failed change."""


# --- notify --------------------------------------------------------------------------------


def _check_event(event: str) -> str:
    if len(event) > EVENT_MAX or not EVENT_RE.fullmatch(event):
        raise ValidationError(
            errors.EVENT_INVALID,
            _("事件代码应为小写的“应用.事件”形式，例如 application.accepted。"),
        )
    return event


def _check_body(body: str) -> str:
    body = body.strip()
    if len(body) > BODY_MAX:
        raise ValidationError(
            errors.BODY_INVALID, _("消息内容不能超过 %(n)d 个字。") % {"n": BODY_MAX}
        )
    return body


def _check_link(link: str) -> str:
    link = link.strip()
    if link and (
        len(link) > LINK_MAX
        or not link.startswith("/")
        or not url_has_allowed_host_and_scheme(link, allowed_hosts=set())
    ):
        raise ValidationError(
            errors.LINK_INVALID, _("消息链接必须是本站的相对地址，以 / 开头，例如 /accounts/me/。")
        )
    return link


def _check_text(*, event: str, title: str, body: str, link: str) -> tuple[str, str, str, str]:
    event = _check_event(event)
    title = title.strip()
    if not title or len(title) > TITLE_MAX:
        raise ValidationError(
            errors.TITLE_INVALID, _("消息标题不能为空，且不超过 %(n)d 个字。") % {"n": TITLE_MAX}
        )
    return event, title, _check_body(body), _check_link(link)


def _check_channels(channels: Collection[str]) -> list[str]:
    if isinstance(channels, str):
        raise TypeError("channels must be a collection of channel names, not one string")
    wanted: list[str] = []
    for channel in channels:
        if channel not in OutboundMessage.Channel.values:
            raise ValidationError(
                errors.CHANNEL_UNKNOWN,
                _("未知的通知渠道：%(c)s（可选：sms、email）") % {"c": channel},
            )
        if channel not in wanted:
            wanted.append(channel)
    return wanted


def _check_principal(recipient: User, principal: User) -> None:
    if principal.pk == recipient.pk:
        raise ValidationError(errors.PRINCIPAL_SELF, _("被代办人不能是消息的接收人本人。"))
    active = delegation_list(user=recipient, role="held", status="active")
    if not active.filter(principal=principal).exists():
        raise PermissionDenied(
            errors.NO_DELEGATION,
            _("接收人没有获得该群众的有效代办授权，不能接收其事务的消息。"),
        )


def _address(recipient: User, channel: str) -> tuple[str, str]:
    """The address of ``recipient`` on ``channel`` and its masked form ("" when none)."""
    if channel == OutboundMessage.Channel.SMS:
        phone = recipient.phone or ""
        return phone, mask_phone(phone)
    email = (recipient.email or "").strip()
    return email, mask_email(email)


def _outbound_text(*, channel: str, title: str, body: str, link: str) -> str:
    """What the SMS or email says: the SMS carries the registered signature (【…】) that
    Chinese carriers require; both end with the full link when YIWANG_SITE_URL is set."""
    site_url = str(settings.YIWANG_SITE_URL).rstrip("/")
    more = gettext("详情：%(url)s") % {"url": site_url + link} if site_url and link else ""
    if channel == OutboundMessage.Channel.SMS:
        content = "：".join(part for part in (title, body) if part)
        text = f"【{settings.YIWANG_SMS_SIGNATURE}】{content}"
        return f"{text} {more}" if more else text
    return "\n\n".join(part for part in (body or title, more) if part)


def _require_transaction(name: str) -> None:
    if not connection.in_atomic_block:
        raise NotifyOutsideTransaction(
            f"{name} must run inside the transaction of the change that causes it"
        )


def _outbound_messages(
    notification: Notification,
    recipient: User,
    channels: list[str],
    *,
    event: str,
    title: str,
    body: str,
    link: str,
) -> tuple[list[OutboundMessage], list[dict[str, str]]]:
    """The unsaved messages of ``notification`` by each channel the recipient has an address
    for, and what the audit row says of them (channel and masked address)."""
    messages: list[OutboundMessage] = []
    told: list[dict[str, str]] = []
    for channel in channels:
        address, masked = _address(recipient, channel)
        if not address:
            continue
        messages.append(
            OutboundMessage(
                notification=notification,
                channel=channel,
                recipient=recipient,
                address=address,
                address_masked=masked,
                subject=title,
                body=_outbound_text(channel=channel, title=title, body=body, link=link),
                event=event,
                provider=provider_configured(channel),
            )
        )
        told.append({"channel": channel, "address": masked})
    return messages, told


def _notify_audit_entry(
    notification: Notification,
    recipient: User,
    told: list[dict[str, str]],
    *,
    actor: Any,
    principal: User | None,
) -> AuditEntry:
    return audit_entry(
        actor=SYSTEM_ACTOR if actor is None else actor,
        action="notifications.notify",
        obj=notification,
        on_behalf_of=principal,
        after={
            "recipient_id": recipient.pk,
            "recipient": mask_name(recipient.real_name),
            "event": notification.event,
            "title": notification.title,
            "link": notification.link,
            "outbound": told,
        },
    )


def notify(
    *,
    recipient: User,
    event: str,
    title: str,
    body: str,
    link: str = "",
    channels: Collection[str] = ("sms",),
    actor: Any = None,
    principal: User | None = None,
    savepoint: bool = True,
) -> Notification:
    """Tell ``recipient`` that ``event`` happened: in-app always, and by each of ``channels``
    (``"sms"``, ``"email"``) where the person has an address. ``principal`` names the person
    the recipient acts for under an active delegation, when the news is about their affairs.
    ``actor`` is who caused it (a user, or a system label such as ``"system:timer"``).

    Must run inside the caller's transaction (NotifyOutsideTransaction otherwise): SMS and
    email are sent only after that transaction commits, and never if it rolls back.
    ``savepoint=False`` only where a failure ends the caller's transaction (module docstring)."""
    _require_transaction("notify")
    event, title, body, link = _check_text(event=event, title=title, body=body, link=link)
    wanted = _check_channels(channels)
    if principal is not None:
        _check_principal(recipient, principal)
    # a savepoint: a failure here leaves the caller's work intact
    with transaction.atomic(savepoint=savepoint):
        notification = Notification.objects.create(
            recipient=recipient,
            principal=principal,
            event=event,
            title=title,
            body=body,
            link=link,
        )
        outbound, queued = _outbound_messages(
            notification, recipient, wanted, event=event, title=title, body=body, link=link
        )
        for message in outbound:
            message.save(force_insert=True)
            # Only the row id travels in the outbox payload: no address, no text.
            outbox_enqueue(topic=OUTBOUND_TOPIC, payload={"outbound_id": message.pk})
        audit_append(
            [_notify_audit_entry(notification, recipient, queued, actor=actor, principal=principal)]
        )
    return notification


def notify_many(
    *,
    recipients: Sequence[User],
    event: str,
    title: str,
    body: str,
    link: str = "",
    channels: Collection[str] = ("sms",),
    actor: Any = None,
    savepoint: bool = True,
) -> list[Notification]:
    """``notify`` for each of ``recipients`` (the same news to every handler of a unit, say):
    the same notifications, outbound messages, outbox entries and audit rows, in the same
    order, as one ``notify`` call per recipient, but written in a few bulk statements
    whatever their number. No ``principal``: news about a represented person is one
    ``notify`` each. Same transaction rule (NotifyOutsideTransaction) and refusals."""
    _require_transaction("notify_many")
    event, title, body, link = _check_text(event=event, title=title, body=body, link=link)
    wanted = _check_channels(channels)
    recipients = list(recipients)
    if not recipients:
        return []
    # a savepoint: a failure here leaves the caller's work intact
    with transaction.atomic(savepoint=savepoint):
        notifications = Notification.objects.bulk_create(
            [
                Notification(recipient=recipient, event=event, title=title, body=body, link=link)
                for recipient in recipients
            ]
        )
        outbound: list[OutboundMessage] = []
        queued: list[list[dict[str, str]]] = []
        for notification, recipient in zip(notifications, recipients, strict=True):
            mine, told = _outbound_messages(
                notification, recipient, wanted, event=event, title=title, body=body, link=link
            )
            outbound += mine
            queued.append(told)
        if outbound:
            OutboundMessage.objects.bulk_create(outbound)
            # Only the row ids travel in the outbox payloads: no address, no text.
            outbox_enqueue_many(
                topic=OUTBOUND_TOPIC, payloads=[{"outbound_id": m.pk} for m in outbound]
            )
        audit_append(
            [
                _notify_audit_entry(notification, recipient, told, actor=actor, principal=None)
                for notification, recipient, told in zip(
                    notifications, recipients, queued, strict=True
                )
            ]
        )
    return notifications


def _check_phone(phone: str) -> str:
    """``phone`` as 11 digits: spaces, dashes and a leading +86 (as caller ids and forms
    write them) are dropped; anything but a mainland mobile number is refused."""
    phone = re.sub(r"[\s-]", "", phone or "")
    if phone.startswith("+86"):
        phone = phone[3:]
    if not PHONE_RE.fullmatch(phone):
        raise ValidationError(
            errors.INVALID_PHONE, _("手机号码格式不正确：应为以 1 开头的 11 位数字。")
        )
    return phone


def notify_phone(
    *, phone: str, event: str, body: str, link: str = "", actor: Any, savepoint: bool = True
) -> OutboundMessage:
    """Send an SMS to ``phone``, a person with no account here (a 12345 caller, say): no
    in-app notification, no recipient, only the number. ``body`` is the whole message
    (after the signature), so it may not be empty. ``actor`` is who caused it (a user, or a
    system label such as ``"system:hotline"``; ``None`` means this app).

    Must run inside the caller's transaction (NotifyOutsideTransaction otherwise); the SMS
    goes out through the same outbox and provider as ``notify``'s, after the commit."""
    _require_transaction("notify_phone")
    phone = _check_phone(phone)
    event = _check_event(event)
    body = _check_body(body)
    if not body:
        raise ValidationError(
            errors.BODY_INVALID, _("短信内容不能为空，且不超过 %(n)d 个字。") % {"n": BODY_MAX}
        )
    link = _check_link(link)
    channel = OutboundMessage.Channel.SMS
    masked = mask_phone(phone)
    # a savepoint: a failure here leaves the caller's work intact
    with transaction.atomic(savepoint=savepoint):
        outbound = OutboundMessage.objects.create(
            notification=None,
            recipient=None,
            channel=channel,
            address=phone,
            address_masked=masked,
            body=_outbound_text(channel=channel, title="", body=body, link=link),
            event=event,
            provider=provider_configured(channel),
        )
        outbox_enqueue(topic=OUTBOUND_TOPIC, payload={"outbound_id": outbound.pk})
        audit_record(
            actor=SYSTEM_ACTOR if actor is None else actor,
            action="notifications.notify_phone",
            obj=outbound,
            after={"event": event, "link": link, "channel": channel.value, "address": masked},
        )
    return outbound


# --- reading state -------------------------------------------------------------------------


def _not_found() -> NotFound:
    return NotFound("core.not_found", _("找不到该消息，或您无权查看。"))


@transaction.atomic
def notification_mark_read(*, user: User, notification: Notification) -> Notification:
    """Mark one of ``user``'s notifications read (again: no change, the first time stays)."""
    if notification.recipient_id != user.pk:
        raise _not_found()
    if notification.read_at is None:
        now = timezone.now()
        changed = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=now
        )
        if changed:
            notification.read_at = now
        else:  # read meanwhile in another tab: keep that time
            notification.refresh_from_db(fields=["read_at"])
    return notification


@transaction.atomic
def notifications_mark_all_read(*, user: User) -> int:
    """Mark every unread notification of ``user`` read; returns how many changed."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


# --- delivery (called by the outbox handler in yiwang.notifications.tasks) ------------------


def _scrub(text: str, message: OutboundMessage) -> str:
    """``text`` with the message's address (and any mobile number) masked: errors are shown
    to staff and kept in the core outbox."""
    if message.address:
        text = re.sub(re.escape(message.address), message.address_masked, text, flags=re.I)
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group()), text)


def outbound_message_deliver(*, outbound_id: int, attempt: int) -> None:
    """Hand one pending message to its channel's provider (attempt number ``attempt``).
    Raises on failure, so that the outbox rolls back and retries; a message already
    delivered or gone is left alone (delivery is at least once)."""
    outbound = OutboundMessage.objects.select_for_update().filter(pk=outbound_id).first()
    if outbound is None or outbound.status != OutboundMessage.Status.PENDING:
        return
    provider = provider_for(outbound.channel)
    try:
        provider.send(outbound)
    except Exception as exc:
        text = str(exc) if isinstance(exc, DeliveryFailed) else f"{type(exc).__name__}: {exc}"
        raise DeliveryFailed(_scrub(text, outbound)) from exc
    outbound.status = provider.delivered_status
    outbound.provider = provider.name
    outbound.attempts = attempt
    outbound.sent_at = timezone.now()
    outbound.last_error = ""
    outbound.save(update_fields=["status", "provider", "attempts", "sent_at", "last_error"])


def outbound_message_record_failure(
    *, outbound_id: int, attempts: int, error: str, final: bool
) -> None:
    """Mirror a failed attempt on the message: still pending (the outbox retries), or failed
    after the last attempt, with the error kept either way."""
    outbound = OutboundMessage.objects.select_for_update().filter(pk=outbound_id).first()
    if outbound is None or outbound.status != OutboundMessage.Status.PENDING:
        return
    outbound.attempts = attempts
    outbound.last_error = _scrub(error, outbound)[:2000]
    outbound.provider = provider_configured(outbound.channel)
    if final:
        outbound.status = OutboundMessage.Status.FAILED
    outbound.save(update_fields=["attempts", "last_error", "provider", "status"])


@transaction.atomic
def outbound_messages_read_log(
    *, actor: User, messages: Sequence[OutboundMessage], purpose: str
) -> None:
    """Staff read other people's messages on the outbox page: one audit row per page shown,
    naming the messages and whose they are."""
    if not messages:
        return
    audit_record(
        actor=actor,
        action="notifications.outbox_read",
        object_type="notifications.outboundmessage",
        reason=purpose,
        after={
            "messages": [str(m.public_id) for m in messages],
            # SMS to bare phone numbers (notify_phone) have no recipient to name
            "recipient_ids": sorted({m.recipient_id for m in messages if m.recipient_id}),
        },
    )
