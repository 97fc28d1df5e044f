"""factory_boy factories for notifications (other apps' tests may import these).

They write rows directly, without ``notify``'s checks, audit row and outbox message: use them
to set up a test's world, and call ``notify`` for the behaviour under test."""

from __future__ import annotations

import factory

from yiwang.accounts.tests.factories import UserFactory
from yiwang.core.masking import mask_phone
from yiwang.notifications.models import Notification, OutboundMessage


class NotificationFactory(factory.django.DjangoModelFactory[Notification]):  # type: ignore[misc]
    class Meta:
        model = Notification

    recipient = factory.SubFactory(UserFactory)
    event = "application.accepted"
    title = factory.Sequence(lambda n: f"您的申请已受理（{n}）")
    body = "请在 5 个工作日内留意审批结果。"
    link = "/accounts/me/"


class OutboundMessageFactory(factory.django.DjangoModelFactory[OutboundMessage]):  # type: ignore[misc]
    class Meta:
        model = OutboundMessage

    notification = factory.SubFactory(NotificationFactory)
    recipient = factory.SelfAttribute("notification.recipient")
    channel = OutboundMessage.Channel.SMS
    address = factory.SelfAttribute("recipient.phone")
    address_masked = factory.LazyAttribute(lambda m: mask_phone(m.address))
    subject = factory.SelfAttribute("notification.title")
    body = factory.LazyAttribute(lambda m: f"【六安市一网通办】{m.notification.title}")
    event = factory.SelfAttribute("notification.event")
    provider = "record"
