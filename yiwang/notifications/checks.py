"""System checks (``yiwang check``, run before ``migrate`` and ``serve``): a provider name
that does not exist, or an SMS gateway without its URL or token, is reported at start, not at
the first message."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from yiwang.notifications.models import OutboundMessage
from yiwang.notifications.providers import (
    provider_can_send,
    provider_configured,
    provider_names,
)


@register("notifications")
def providers_configured(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    problems: list[CheckMessage] = []
    for channel, variable in (
        (OutboundMessage.Channel.SMS.value, "YIWANG_SMS_PROVIDER"),
        (OutboundMessage.Channel.EMAIL.value, "YIWANG_EMAIL_PROVIDER"),
    ):
        name = provider_configured(channel)
        if not provider_can_send(name, channel):
            problems.append(
                Error(
                    f"{variable}={name!r} is not a provider for {channel}",
                    hint=f"choose one of: {', '.join(provider_names(channel))}",
                    id="notifications.E001",
                )
            )
    if provider_configured(OutboundMessage.Channel.SMS) == "http":
        if not str(settings.YIWANG_SMS_URL).startswith(("http://", "https://")):
            problems.append(
                Error(
                    "YIWANG_SMS_PROVIDER=http needs YIWANG_SMS_URL (an http:// or https:// URL)",
                    id="notifications.E002",
                )
            )
        if not settings.YIWANG_SMS_TOKEN:
            problems.append(
                Error(
                    "YIWANG_SMS_PROVIDER=http needs YIWANG_SMS_TOKEN (the gateway's bearer token)",
                    id="notifications.E003",
                )
            )
    return problems
