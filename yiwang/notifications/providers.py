"""Who carries an SMS or an email out of the platform: one provider per channel, chosen by
settings (``YIWANG_SMS_PROVIDER``, ``YIWANG_EMAIL_PROVIDER``), registered by name.

- ``record`` (default for both channels): nothing leaves the machine; the message is marked
  *recorded* and staff read it on the outbox page. The embedded topology and the demo use it.
- ``email``: Django's email backend (``EMAIL_*`` settings, from ``YIWANG_EMAIL_*``).
- ``http`` (SMS): a JSON POST to the city's SMS gateway at ``YIWANG_SMS_URL`` with
  ``Authorization: Bearer YIWANG_SMS_TOKEN``. Any 2xx answer means accepted; anything else,
  a timeout or a refused connection is a failure.

A provider's ``send`` raises ``DeliveryFailed`` (or any exception) when the message did not go
out; the outbox then retries it with back-off and, after its last attempt, the message ends as
failed with the error kept. A city that uses another gateway adds a class here with
``@provider_register``; nothing else changes.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage

from yiwang.notifications.models import OutboundMessage

logger = logging.getLogger(__name__)

# How much of a gateway's error answer is kept in ``last_error``.
ERROR_DETAIL_CHARS = 300


class DeliveryFailed(Exception):
    """The provider did not deliver the message; the outbox tries again later."""


class Provider:
    """Delivers one outbound message. Subclasses set ``name`` and ``channels``."""

    name: ClassVar[str]
    channels: ClassVar[frozenset[str]]
    # The status of a message this provider delivered: only ``record`` differs.
    delivered_status: ClassVar[str] = OutboundMessage.Status.SENT

    def send(self, message: OutboundMessage) -> None:
        raise NotImplementedError


_registry: dict[str, type[Provider]] = {}


def provider_register(cls: type[Provider]) -> type[Provider]:
    existing = _registry.get(cls.name)
    if existing is not None and existing is not cls:
        raise ValueError(f"notification provider {cls.name!r} is already registered")
    _registry[cls.name] = cls
    return cls


def provider_names(channel: str) -> list[str]:
    """The registered providers that can carry ``channel``."""
    return sorted(name for name, cls in _registry.items() if channel in cls.channels)


def provider_can_send(name: str, channel: str) -> bool:
    cls = _registry.get(name)
    return cls is not None and channel in cls.channels


def provider_configured(channel: str) -> str:
    """The provider name the settings choose for ``channel`` (not checked)."""
    if channel == OutboundMessage.Channel.SMS:
        return str(settings.YIWANG_SMS_PROVIDER)
    if channel == OutboundMessage.Channel.EMAIL:
        return str(settings.YIWANG_EMAIL_PROVIDER)
    raise ValueError(f"unknown channel {channel!r}")


def provider_for(channel: str) -> Provider:
    """The configured provider of ``channel``; ImproperlyConfigured when the setting names a
    provider that does not exist or cannot carry that channel."""
    name = provider_configured(channel)
    if not provider_can_send(name, channel):
        raise ImproperlyConfigured(
            f"notification provider {name!r} cannot send {channel}; "
            f"choose one of {', '.join(provider_names(channel))}"
        )
    return _registry[name]()


@provider_register
class RecordProvider(Provider):
    """Sends nothing: the message stays in the outbox as *recorded* for staff to read."""

    name = "record"
    channels = frozenset({OutboundMessage.Channel.SMS.value, OutboundMessage.Channel.EMAIL.value})
    delivered_status = OutboundMessage.Status.RECORDED

    def send(self, message: OutboundMessage) -> None:
        logger.info(
            "outbound message %s recorded, not sent (%s to %s)",
            message.public_id,
            message.channel,
            message.address_masked,
        )


@provider_register
class EmailProvider(Provider):
    """Django's email backend: SMTP with the ``EMAIL_*`` settings in service."""

    name = "email"
    channels = frozenset({OutboundMessage.Channel.EMAIL.value})

    def send(self, message: OutboundMessage) -> None:
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.address],
            # The gateway's duplicate filter and our logs share one key per message.
            headers={"X-Yiwang-Message-Id": str(message.public_id)},
        )
        if email.send(fail_silently=False) != 1:
            raise DeliveryFailed("the email backend accepted no message")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A gateway that redirects is misconfigured: fail, rather than resend the body as a GET
    or to another host."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@provider_register
class HttpSmsProvider(Provider):
    """POSTs ``{"id", "phone", "text", "event"}`` as JSON to the city's SMS gateway. ``id`` is
    the message's stable id (also sent as ``Idempotency-Key``): delivery is at least once, so
    the gateway should drop a repeated id."""

    name = "http"
    channels = frozenset({OutboundMessage.Channel.SMS.value})

    def send(self, message: OutboundMessage) -> None:
        url = str(settings.YIWANG_SMS_URL)
        if not url.startswith(("http://", "https://")):
            raise ImproperlyConfigured("YIWANG_SMS_URL must be an http:// or https:// URL")
        body = json.dumps(
            {
                "id": str(message.public_id),
                "phone": message.address,
                "text": message.body,
                "event": message.event,
            },
            ensure_ascii=False,
        ).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Authorization": f"Bearer {settings.YIWANG_SMS_TOKEN}",
                "Idempotency-Key": str(message.public_id),
            },
        )
        opener = urllib.request.build_opener(_NoRedirects)
        try:
            with opener.open(request, timeout=float(settings.YIWANG_SMS_TIMEOUT)) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            detail = exc.read(ERROR_DETAIL_CHARS).decode("utf-8", "replace").strip()
            exc.close()
            raise DeliveryFailed(f"短信网关返回 HTTP {exc.code}: {detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise DeliveryFailed(f"无法连接短信网关: {reason}") from exc
        if not 200 <= status < 300:
            raise DeliveryFailed(f"短信网关返回 HTTP {status}")
