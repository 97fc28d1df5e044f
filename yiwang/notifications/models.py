"""In-app notifications and the SMS / email messages sent (or recorded) for them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.fields import EncryptedTextField


class Notification(models.Model):
    """A message in a person's "我的消息". ``principal`` is the person the recipient acts for
    under a delegation (代办), when the notification is about that person's affairs."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("接收人"),
        db_index=False,  # the (recipient, created_at) indexes below lead with it
    )
    principal = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("被代办人"),
    )
    event = models.CharField(_("事件"), max_length=100)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    link = models.CharField(_("链接"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox_idx"),
            # The header badge counts these on every page: a partial index keeps the count
            # to the unread rows of one person.
            models.Index(
                fields=["recipient", "-created_at"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.recipient_id}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class OutboundMessage(models.Model):
    """An SMS or email sent for a notification, through the provider configured for its
    channel. The address is stored encrypted; pages show ``address_masked`` only.

    A message from ``notify_phone`` (an SMS to someone with no account, such as a 12345
    caller) has neither ``notification`` nor ``recipient``: only the phone number."""

    class Channel(models.TextChoices):
        SMS = "sms", _("短信")
        EMAIL = "email", _("电子邮件")

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")
        RECORDED = "recorded", _("已记录（未外发）")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    notification = models.ForeignKey(
        Notification,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="outbound_messages",
        verbose_name=_("站内消息"),
    )
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("接收人"),
    )
    address = EncryptedTextField(_("地址"))
    address_masked = models.CharField(_("地址（脱敏）"), max_length=320)
    subject = models.CharField(_("主题"), max_length=200, blank=True)
    body = models.TextField(_("内容"))
    event = models.CharField(_("事件"), max_length=100)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    provider = models.CharField(_("发送通道"), max_length=50, blank=True)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("外发消息")
        verbose_name_plural = _("外发消息")
        indexes = [
            models.Index(fields=["-created_at"], name="outbound_recent_idx"),
            models.Index(fields=["status", "-created_at"], name="outbound_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(channel__in=["sms", "email"]), name="outbound_channel_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "sent", "failed", "recorded"]),
                name="outbound_status_valid",
            ),
            # A message is either for a person's notification (both set) or for a bare phone
            # number (neither): a half-linked row would hide whose message it is.
            models.CheckConstraint(
                condition=models.Q(notification__isnull=True, recipient__isnull=True)
                | models.Q(notification__isnull=False, recipient__isnull=False),
                name="outbound_notification_with_recipient",
            ),
            # Only SMS goes to someone without an account: no email address is ever taken
            # from outside the accounts.
            models.CheckConstraint(
                condition=models.Q(recipient__isnull=False) | models.Q(channel="sms"),
                name="outbound_no_recipient_sms_only",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.address_masked} {self.status}"
