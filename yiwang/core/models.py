"""Core tables: the working-day calendar, the hash-chained audit trail and the outbox."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.fields import EncryptedTextField


class TimeStamped(models.Model):
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


# --- working-day calendar ------------------------------------------------------------------


class CalendarYear(TimeStamped):
    """A year whose official holiday arrangement (the State Council notice) is loaded.

    Deadlines that reach into a year without a row here (or with ``official=False``) are
    computed on weekends only and flagged provisional.
    """

    class Source(models.TextChoices):
        SEED = "seed", _("chinese-calendar 种子数据")
        ADMIN = "admin", _("管理员录入")

    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    official = models.BooleanField(_("已载入国务院放假安排"), default=True)
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices)
    notice = models.CharField(_("通知文号"), max_length=200, blank=True)

    class Meta:
        ordering = ["year"]
        verbose_name = _("日历年度")
        verbose_name_plural = _("日历年度")

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(TimeStamped):
    """A day of the State Council arrangement: a holiday (also one falling on a weekend, so that
    it carries its name) or a make-up working day (调休) on a weekend. Ordinary weekdays and
    weekends have no row. Rows count only in years marked official (see yiwang.core.calendar)."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("法定节假日")
        WORKDAY = "workday", _("调休上班日")

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=50, blank=True)
    source = models.CharField(
        _("来源"), max_length=16, choices=CalendarYear.Source.choices, default="admin"
    )

    class Meta:
        ordering = ["date"]
        verbose_name = _("节假日与调休")
        verbose_name_plural = _("节假日与调休")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["holiday", "workday"]), name="calendarday_kind_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"


# --- audit trail ---------------------------------------------------------------------------


class AuditEntry(models.Model):
    """One row of the append-only, hash-chained audit trail.

    ``entry_hash`` = H(``prev_hash`` || canonical JSON of this row's fields); the first row
    chains from 64 zeros. Rows are written only by ``yiwang.core.audit.audit_record`` in the
    same transaction as the change they record; ``yiwang audit verify`` walks the chain.
    Actors are stored by id and label, not by foreign key, so deleting a user can never
    rewrite history.
    """

    seq = models.PositiveBigIntegerField(_("序号"), unique=True)
    created_at = models.DateTimeField(_("时间"))
    actor_id = models.BigIntegerField(_("操作人ID"), null=True, blank=True)
    actor_label = models.CharField(_("操作人"), max_length=150, blank=True)
    on_behalf_of_id = models.BigIntegerField(_("被代办人ID"), null=True, blank=True)
    on_behalf_of_label = models.CharField(_("被代办人"), max_length=150, blank=True)
    action = models.CharField(_("动作"), max_length=100)
    object_type = models.CharField(_("对象类型"), max_length=100, blank=True)
    object_id = models.CharField(_("对象ID"), max_length=64, blank=True)
    reason = models.TextField(_("事由"), blank=True)
    before = models.JSONField(_("变更前"), null=True, blank=True)
    after = models.JSONField(_("变更后"), null=True, blank=True)
    prev_hash = models.CharField(_("前一哈希"), max_length=64)
    entry_hash = models.CharField(_("本条哈希"), max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"


class AuditHead(models.Model):
    """A single row locked by every audit write so that the chain has one order."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audithead_single")]

    def __str__(self) -> str:
        return f"audit head #{self.seq}"


# --- outbox --------------------------------------------------------------------------------


class OutboxMessage(models.Model):
    """A side effect (notification, dispatch, webhook) recorded in the same transaction as the
    change that causes it and delivered after commit by a background job."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    topic = models.CharField(_("主题"), max_length=100)
    payload = models.JSONField(_("内容"), default=dict)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    available_at = models.DateTimeField(_("可发送时间"))
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("待发事件")
        verbose_name_plural = _("待发事件")
        indexes = [models.Index(fields=["status", "available_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "sent", "failed"]),
                name="outbox_status_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.status}"


# --- signing keys --------------------------------------------------------------------------


class SigningKey(models.Model):
    """A signing key of the platform (the log's checkpoint key, a witness key, the credential
    issuer key), kept by ``yiwang.core.signing.DatabaseKeyStore``. The private half is
    encrypted at rest; the public half is what verifiers are given."""

    name = models.CharField(_("名称"), max_length=200)
    algorithm = models.CharField(_("算法"), max_length=20)
    public_key = models.CharField(_("公钥"), max_length=200)
    private_key = EncryptedTextField(_("私钥"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("签名密钥")
        verbose_name_plural = _("签名密钥")
        constraints = [
            models.UniqueConstraint(fields=["name", "algorithm"], name="signingkey_name_algorithm")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.algorithm})"
