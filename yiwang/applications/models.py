"""办件 (applications): one submission of a citizen or an enterprise under a pinned catalog
version (or a 一件事 bundle), its materials, the department tasks of its approval process, the
clock pauses and the public timeline.

The status follows the front-desk / back-office model (standards.md §1.9):
预审 ``submitted`` → ``accepted`` (受理) | ``refused`` (不予受理) | ``supplement_requested``
(一次性告知补正, clock paused) → ``in_review`` (分发/审批, parallel per department) →
``approved`` | ``rejected`` → ``concluded`` (办结) → ``issued`` (出件/送达); ``withdrawn`` by
the applicant before a decision. Every transition is a service in ``services.py``.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.accounts.models import Delegation, Department, User
from yiwang.catalog.models import Bundle, ItemVersion, Material, ServiceItem
from yiwang.core.fields import EncryptedTextField
from yiwang.core.models import TimeStamped


class Application(TimeStamped):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("已提交（预审）")
        SUPPLEMENT_REQUESTED = "supplement_requested", _("待补正")
        ACCEPTED = "accepted", _("已受理")
        REFUSED = "refused", _("不予受理")
        IN_REVIEW = "in_review", _("审批中")
        APPROVED = "approved", _("准予办理")
        REJECTED = "rejected", _("不予办理")
        CONCLUDED = "concluded", _("已办结")
        ISSUED = "issued", _("已出件")
        WITHDRAWN = "withdrawn", _("已撤回")

    class Channel(models.TextChoices):
        ONLINE = "online", _("网上申请")
        API = "api", _("接口申请")
        WINDOW = "window", _("窗口申请")
        TERMINAL = "terminal", _("自助终端")

    class Delivery(models.TextChoices):
        NONE = "", _("未选择")
        WINDOW = "window", _("窗口领取")
        POST = "post", _("邮寄送达")
        ELECTRONIC = "electronic", _("电子送达")

    class Decision(models.TextChoices):
        NONE = "", _("未决定")
        APPROVED = "approved", _("准予")
        REJECTED = "rejected", _("不予")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # 办件编号: division code + local date + zero-padded row id, unique and sortable.
    number = models.CharField(_("办件编号"), max_length=32, unique=True)
    item = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="applications")
    version = models.ForeignKey(
        ItemVersion, verbose_name=_("事项版本"), on_delete=models.PROTECT, related_name="+"
    )
    bundle = models.ForeignKey(
        Bundle, null=True, blank=True, on_delete=models.PROTECT, related_name="applications"
    )
    # For a bundle: [{"task_code", "version_id", "name", "department_id"}, ...] as pinned.
    member_versions = models.JSONField(_("一件事成员版本"), default=list, blank=True)
    department = models.ForeignKey(
        Department, verbose_name=_("受理部门"), on_delete=models.PROTECT, related_name="+"
    )
    applicant = models.ForeignKey(
        User, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="applications"
    )
    principal = models.ForeignKey(
        User,
        verbose_name=_("被代办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications_as_principal",
    )
    delegation = models.ForeignKey(
        Delegation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_by = models.ForeignKey(
        User, verbose_name=_("录入人"), on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(_("申请渠道"), max_length=10, choices=Channel.choices)
    status = models.CharField(
        _("状态"), max_length=24, choices=Status.choices, default=Status.SUBMITTED
    )
    decision = models.CharField(
        _("审批结果"), max_length=10, choices=Decision.choices, default="", blank=True
    )
    situation = models.CharField(_("办理情形"), max_length=50, blank=True)
    form_data = models.JSONField(_("申请表"), default=dict, blank=True)
    contact_phone = EncryptedTextField(_("联系电话"))
    contact_phone_index = models.CharField(max_length=64, db_index=True)
    contact_phone_last4 = models.CharField(max_length=4)
    idempotency_key = models.CharField(max_length=100, blank=True)
    request_hash = models.CharField(max_length=64, blank=True)

    submitted_at = models.DateTimeField(_("申请时间"))
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    concluded_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    issued_at = models.DateTimeField(_("出件时间"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    due_date = models.DateField(_("承诺办结日期"), null=True, blank=True)
    due_provisional = models.BooleanField(default=False)
    refusal_reasons = models.JSONField(_("不予受理理由"), default=list, blank=True)
    supplement_items = models.JSONField(_("补正事项"), default=list, blank=True)
    result_note = models.TextField(_("办理结果说明"), blank=True)

    delivery_method = models.CharField(
        _("送达方式"), max_length=12, choices=Delivery.choices, default="", blank=True
    )
    delivery_address = EncryptedTextField(_("邮寄地址"), blank=True)
    tracking_number = models.CharField(_("快递单号"), max_length=40, blank=True)

    workflow_state = models.JSONField(_("流程状态"), null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("办件")
        verbose_name_plural = _("办件")
        constraints = [
            models.UniqueConstraint(
                fields=["applicant", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="application_unique_idempotency_key",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    status__in=[
                        "submitted",
                        "supplement_requested",
                        "accepted",
                        "refused",
                        "in_review",
                        "approved",
                        "rejected",
                        "concluded",
                        "issued",
                        "withdrawn",
                    ]
                ),
                name="application_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(channel__in=["online", "api", "window", "terminal"]),
                name="application_channel_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["applicant", "-submitted_at"]),
            models.Index(fields=["principal", "-submitted_at"]),
            models.Index(fields=["department", "status"]),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def name(self) -> str:
        return self.bundle.name if self.bundle_id and self.bundle else self.version.name


class ApplicationMaterial(TimeStamped):
    class Source(models.TextChoices):
        UPLOAD = "upload", _("申请人上传")
        GOVERNMENT = "government", _("部门共享获取")
        PROMISED = "promised", _("容缺后补")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="materials")
    material = models.ForeignKey(
        Material, verbose_name=_("材料"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("材料名称"), max_length=300)
    source = models.CharField(_("收取方式"), max_length=12, choices=Source.choices)
    file = models.FileField(_("文件"), upload_to="applications/", blank=True, max_length=300)
    original_name = models.CharField(_("原文件名"), max_length=200, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    reference = models.CharField(_("共享凭据"), max_length=200, blank=True)
    promised_due = models.DateField(_("承诺补交日期"), null=True, blank=True)
    fulfilled_at = models.DateTimeField(_("补交时间"), null=True, blank=True)

    class Meta:
        ordering = ["application", "id"]
        verbose_name = _("办件材料")
        verbose_name_plural = _("办件材料")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(source__in=["upload", "government", "promised"]),
                name="application_material_source_valid",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Task(TimeStamped):
    """One department's task of the approval process (a BPMN user task that became ready)."""

    class Status(models.TextChoices):
        OPEN = "open", _("待认领")
        CLAIMED = "claimed", _("办理中")
        DONE = "done", _("已办结")
        CANCELLED = "cancelled", _("已取消")

    class Outcome(models.TextChoices):
        NONE = "", _("无")
        APPROVE = "approve", _("同意")
        REFUSE = "refuse", _("不同意")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="tasks")
    spiff_task_id = models.UUIDField()
    bpmn_id = models.CharField(max_length=100)
    name = models.CharField(_("环节名称"), max_length=200)
    department = models.ForeignKey(
        Department, verbose_name=_("办理部门"), on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(_("办理角色"), max_length=24)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default="open")
    assignee = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by_label = models.CharField(max_length=150, blank=True)
    outcome = models.CharField(
        _("办理结果"), max_length=10, choices=Outcome.choices, default="", blank=True
    )
    opinion = models.TextField(_("办理意见"), blank=True)
    time_limit_days = models.PositiveSmallIntegerField(null=True, blank=True)
    due_date = models.DateField(_("环节办结期限"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("督办时间"), null=True, blank=True)
    lock_version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("审批任务")
        verbose_name_plural = _("审批任务")
        constraints = [
            models.UniqueConstraint(
                fields=["application", "spiff_task_id"], name="task_unique_spiff_task"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["open", "claimed", "done", "cancelled"]),
                name="task_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["department", "status", "due_date"])]

    def __str__(self) -> str:
        return f"{self.application} · {self.name}"


class Pause(TimeStamped):
    """A stop of the clock: a supplement (补正) or a special procedure (特别程序)."""

    class Kind(models.TextChoices):
        SUPPLEMENT = "supplement", _("补正")
        HEARING = "hearing", _("听证")
        EXPERT_REVIEW = "expert_review", _("专家评审")
        INSPECTION = "inspection", _("现场勘验")
        TESTING = "testing", _("检验检测")
        PUBLIC_NOTICE = "public_notice", _("公示")
        OTHER = "other", _("其他特别程序")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="pauses")
    task = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="pauses"
    )
    kind = models.CharField(_("种类"), max_length=16, choices=Kind.choices)
    reason = models.TextField(_("启动理由或依据"))
    started_at = models.DateTimeField(_("开始时间"))
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    result = models.TextField(_("结果"), blank=True)
    started_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["application", "started_at", "id"]
        verbose_name = _("计时暂停")
        verbose_name_plural = _("计时暂停")
        constraints = [
            models.UniqueConstraint(
                fields=["application"],
                condition=models.Q(ended_at__isnull=True),
                name="pause_one_open_per_application",
            )
        ]

    def __str__(self) -> str:
        return f"{self.application} · {self.get_kind_display()}"


class Event(models.Model):
    """The timeline of an application. ``public`` events are shown to the applicant (and, as
    kinds and department names only, to the public progress query)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("事件"), max_length=40)
    created_at = models.DateTimeField(_("时间"))
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("说明"), blank=True)
    public = models.BooleanField(default=True)

    class Meta:
        ordering = ["application", "created_at", "id"]
        verbose_name = _("办件动态")
        verbose_name_plural = _("办件动态")

    def __str__(self) -> str:
        return f"{self.application_id} {self.kind}"
