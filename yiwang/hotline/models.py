"""12345 work orders (工单) from every channel, and the configuration that routes them.

The closed loop of 国办发〔2020〕53号 (standards.md §3): 受理 ``registered`` → 派单
``dispatched`` (the lead unit has not signed yet) → 办理 ``handling`` → 答复 ``replied`` →
回访 → 办结 ``closed``; a unit may ask to return a wrongly dispatched order
(``return_requested``) and the dispatcher re-dispatches or refuses; a citizen unsatisfied
twice sends the order to the supervisor (``supervising``); a duplicate is ``merged`` into the
open order it repeats; an emergency is ``transferred`` to 110/119/120/122 at once. Every
transition is a service in ``services.py``.

Configuration (admin-editable, per city): the category tree (``Category``), the dispatch
catalogue (派单目录, ``DispatchRule``: category × area → lead and assisting units), the time
limits (``TimeLimit``: category × urgency), the mailboxes, the classifier models and the
Open311 keys.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yiwang.accounts.models import Department, User
from yiwang.core.fields import EncryptedTextField
from yiwang.core.models import TimeStamped


class Category(TimeStamped):
    """One node of the three-level category tree (一级/二级/三级分类)."""

    code = models.SlugField(_("分类代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级分类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    level = models.PositiveSmallIntegerField(_("层级"), default=1)
    # Open311 service description and keywords; the leaves are Open311 services.
    description = models.CharField(_("说明"), max_length=200, blank=True)
    keywords = models.CharField(_("关键词"), max_length=200, blank=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("诉求分类")
        verbose_name_plural = _("诉求分类")
        constraints = [
            models.CheckConstraint(
                condition=Q(level__gte=1) & Q(level__lte=3), name="hotline_category_level"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")


class TimeUnit(models.TextChoices):
    MINUTES = "minutes", _("分钟（自然时间）")
    HOURS = "hours", _("小时（自然时间）")
    WORKING_HOURS = "working_hours", _("工作小时")
    WORKING_DAYS = "working_days", _("工作日")
    DAYS = "days", _("自然日")


class TimeLimit(TimeStamped):
    """Time limits of one category (and everything under it) at one urgency; a rule without a
    category is the city's default. The most specific rule wins (standards.md §3.4: local
    figures, so they are configuration)."""

    category = models.ForeignKey(
        Category, verbose_name=_("诉求分类"), null=True, blank=True, on_delete=models.CASCADE
    )
    urgency = models.CharField(_("紧急程度"), max_length=16, choices=Urgency.choices)
    sign_amount = models.PositiveIntegerField(_("签收时限"))
    sign_unit = models.CharField(_("签收时限单位"), max_length=16, choices=TimeUnit.choices)
    handle_amount = models.PositiveIntegerField(_("办结时限"))
    handle_unit = models.CharField(_("办结时限单位"), max_length=16, choices=TimeUnit.choices)
    # A unit may return a wrongly dispatched order within this time after dispatch.
    return_amount = models.PositiveIntegerField(_("退单时限"), default=1)
    return_unit = models.CharField(
        _("退单时限单位"), max_length=16, choices=TimeUnit.choices, default=TimeUnit.WORKING_DAYS
    )
    extension_amount = models.PositiveIntegerField(_("可延期时长"), default=5)
    extension_unit = models.CharField(
        _("延期单位"), max_length=16, choices=TimeUnit.choices, default=TimeUnit.WORKING_DAYS
    )
    # Warn the unit when this share of the handling time is used.
    warn_ratio = models.DecimalField(_("预警比例"), max_digits=3, decimal_places=2, default=0.8)

    class Meta:
        ordering = ["category__code", "urgency"]
        verbose_name = _("办理时限")
        verbose_name_plural = _("办理时限")
        constraints = [
            models.UniqueConstraint(
                fields=["category", "urgency"],
                name="hotline_time_limit_unique",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=Q(warn_ratio__gt=0) & Q(warn_ratio__lt=1), name="hotline_warn_ratio"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category or _('默认')} · {self.get_urgency_display()}"


class DispatchRule(TimeStamped):
    """派单目录: who leads (主办) and who assists (协办) for a category in an area. The most
    specific category wins, then the longest division-code prefix ('' = the whole city)."""

    category = models.ForeignKey(Category, verbose_name=_("诉求分类"), on_delete=models.CASCADE)
    division_prefix = models.CharField(
        _("区划代码前缀"), max_length=12, blank=True, help_text=_("留空表示全市")
    )
    lead_unit = models.ForeignKey(
        Department, verbose_name=_("主办单位"), on_delete=models.PROTECT, related_name="+"
    )
    assisting_units = models.ManyToManyField(
        Department, verbose_name=_("协办单位"), blank=True, related_name="+"
    )
    basis = models.CharField(_("职责依据"), max_length=200, blank=True)

    class Meta:
        ordering = ["category__code", "division_prefix"]
        verbose_name = _("派单目录")
        verbose_name_plural = _("派单目录")
        constraints = [
            models.UniqueConstraint(
                fields=["category", "division_prefix"], name="hotline_dispatch_rule_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} · {self.division_prefix or _('全市')} → {self.lead_unit}"


class Mailbox(TimeStamped):
    """市长信箱 or a department's mailbox: letters become work orders of channel ``mailbox``."""

    class Kind(models.TextChoices):
        MAYOR = "mayor", _("市长信箱")
        DEPARTMENT = "department", _("部门信箱")

    code = models.SlugField(_("信箱代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    # A department mailbox goes straight to its department; the mayor's goes through dispatch.
    department = models.ForeignKey(
        Department, verbose_name=_("所属部门"), null=True, blank=True, on_delete=models.PROTECT
    )
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["kind", "code"]
        verbose_name = _("信箱")
        verbose_name_plural = _("信箱")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="mayor") | Q(department__isnull=False),
                name="hotline_mailbox_department",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OrderStatus(models.TextChoices):
    REGISTERED = "registered", _("待派单")
    DISPATCHED = "dispatched", _("待签收")
    HANDLING = "handling", _("办理中")
    RETURN_REQUESTED = "return_requested", _("退单待审")
    REPLIED = "replied", _("已答复待回访")
    SUPERVISING = "supervising", _("督办处理中")
    CLOSED = "closed", _("已办结")
    MERGED = "merged", _("已并单")
    TRANSFERRED = "transferred", _("已转紧急热线")


class OrderChannel(models.TextChoices):
    PHONE = "phone", _("12345电话")
    WEB = "web", _("网站")
    MOBILE = "mobile", _("移动端")
    API = "api", _("城市App")
    MAILBOX = "mailbox", _("信箱")
    OPEN311 = "open311", _("Open311")


class WorkOrder(TimeStamped):
    Status = OrderStatus
    Channel = OrderChannel

    class Kind(models.TextChoices):
        CONSULT = "consult", _("咨询")
        HELP = "help", _("求助")
        COMPLAINT = "complaint", _("投诉")
        REPORT = "report", _("举报")
        SUGGESTION = "suggestion", _("建议")
        PRAISE = "praise", _("表扬")

    class Outcome(models.TextChoices):
        NONE = "", _("未办结")
        RESOLVED = "resolved", _("已解决")
        EXPLAINED = "explained", _("已解释说明")
        NOT_RESOLVABLE = "not_resolvable", _("暂不能解决")
        TRANSFERRED = "transferred", _("已转紧急热线")

    OPEN_STATUSES = (
        Status.REGISTERED,
        Status.DISPATCHED,
        Status.HANDLING,
        Status.RETURN_REQUESTED,
        Status.REPLIED,
        Status.SUPERVISING,
    )

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # 工单编号: "GD" + local date + zero-padded row id, unique and sortable.
    number = models.CharField(_("工单编号"), max_length=32, unique=True)
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    kind = models.CharField(
        _("诉求类型"), max_length=16, choices=Kind.choices, default=Kind.COMPLAINT
    )
    title = models.CharField(_("标题"), max_length=100)
    content = models.TextField(_("诉求内容"), max_length=4000)
    # The citizen's account when they wrote online; a phone caller may have none.
    citizen = models.ForeignKey(
        User,
        verbose_name=_("诉求人账号"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="work_orders",
    )
    caller_name = EncryptedTextField(_("诉求人姓名"), blank=True)
    caller_phone = EncryptedTextField(_("联系电话"), blank=True)
    caller_phone_index = models.CharField(max_length=64, blank=True, db_index=True)
    callback_requested = models.BooleanField(_("需要回电"), default=True)
    confidential = models.BooleanField(_("要求保密"), default=False)
    # Location: a division code (6 or 9+ digits), the address as given, optional point.
    division_code = models.CharField(_("行政区划代码"), max_length=12, blank=True)
    address = models.CharField(_("地点"), max_length=200, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    long = models.FloatField(_("经度"), null=True, blank=True)
    category = models.ForeignKey(
        Category,
        verbose_name=_("诉求分类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # What the classifier proposed (kept when a dispatcher corrects it: training data).
    suggested_category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    suggested_confidence = models.FloatField(null=True, blank=True)
    urgency = models.CharField(
        _("紧急程度"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL
    )
    emergency_number = models.CharField(_("转接号码"), max_length=8, blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.REGISTERED
    )
    lead_unit = models.ForeignKey(
        Department,
        verbose_name=_("主办单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    dispatch_count = models.PositiveSmallIntegerField(_("派单次数"), default=0)
    # After the configured number of dispatches the centre designates the unit: no return.
    designated = models.BooleanField(_("指定承办"), default=False)
    mailbox = models.ForeignKey(
        Mailbox, verbose_name=_("信箱"), null=True, blank=True, on_delete=models.PROTECT
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("并入工单"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_orders",
    )
    registered_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = models.CharField(max_length=64, blank=True)
    registered_at = models.DateTimeField(_("登记时间"))
    dispatched_at = models.DateTimeField(_("派单时间"), null=True, blank=True)
    sign_due = models.DateTimeField(_("签收时限"), null=True, blank=True)
    signed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    handle_due = models.DateTimeField(_("办结时限"), null=True, blank=True)
    return_due = models.DateTimeField(_("退单时限"), null=True, blank=True)
    warn_due = models.DateTimeField(_("预警时间"), null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(_("督办时间"), null=True, blank=True)
    extended = models.BooleanField(_("已延期"), default=False)
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    reply_on_time = models.BooleanField(null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("重办次数"), default=0)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    outcome = models.CharField(
        _("办结结果"), max_length=16, choices=Outcome.choices, default=Outcome.NONE, blank=True
    )
    satisfaction = models.PositiveSmallIntegerField(_("满意度"), null=True, blank=True)
    # Mailbox letters: the writer may consent to publication; staff publish a redacted copy.
    publish_consent = models.BooleanField(_("同意公开"), default=False)
    published_at = models.DateTimeField(_("公开时间"), null=True, blank=True)
    public_title = models.CharField(_("公开标题"), max_length=100, blank=True)
    public_content = models.TextField(_("公开内容"), blank=True)
    public_reply = models.TextField(_("公开答复"), blank=True)

    class Meta:
        ordering = ["-registered_at", "-id"]
        verbose_name = _("工单")
        verbose_name_plural = _("工单")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in OrderStatus]), name="hotline_order_status"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=[c.value for c in OrderChannel]),
                name="hotline_order_channel",
            ),
            models.CheckConstraint(
                condition=~Q(status="merged") | Q(merged_into__isnull=False),
                name="hotline_order_merged_target",
            ),
            models.CheckConstraint(
                condition=(Q(lat__isnull=True) & Q(long__isnull=True))
                | (Q(lat__gte=-90) & Q(lat__lte=90) & Q(long__gte=-180) & Q(long__lte=180)),
                name="hotline_order_point",
            ),
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True)
                | (Q(satisfaction__gte=1) & Q(satisfaction__lte=5)),
                name="hotline_order_satisfaction",
            ),
            models.UniqueConstraint(
                fields=["citizen", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="hotline_order_idempotency",
            ),
        ]
        indexes = [
            models.Index(fields=["lead_unit", "status"]),
            models.Index(fields=["status", "handle_due"]),
            models.Index(fields=["citizen", "-registered_at"]),
            models.Index(fields=["category", "status", "-registered_at"]),
            models.Index(fields=["registered_at"]),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def county_name(self) -> str:
        """The county's name (金安区) for the division code, or ''."""
        from yiwang.hotline.location import COUNTY_BY_CODE  # pure data, no app imports

        if self.division_code.startswith("341500"):
            return "六安市"
        county = COUNTY_BY_CODE.get(self.division_code[:6])
        return county.name if county is not None else ""


class Assignment(TimeStamped):
    """One unit's part in one dispatch round: the lead (主办) or an assisting unit (协办)."""

    class Role(models.TextChoices):
        LEAD = "lead", _("主办")
        ASSIST = "assist", _("协办")

    class Status(models.TextChoices):
        PENDING = "pending", _("待签收")
        SIGNED = "signed", _("已签收")
        RETURN_REQUESTED = "return_requested", _("申请退单")
        RETURNED = "returned", _("已退单")
        DONE = "done", _("已完成")
        CANCELLED = "cancelled", _("已撤销")

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="assignments")
    round = models.PositiveSmallIntegerField(_("派单轮次"))
    unit = models.ForeignKey(
        Department, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(_("角色"), max_length=8, choices=Role.choices)
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    dispatched_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    return_reason = models.TextField(_("退单理由"), blank=True)
    return_requested_at = models.DateTimeField(null=True, blank=True)
    # An assisting unit's contribution, a return review's note.
    note = models.TextField(_("办理意见"), blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order", "round", "role", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "round", "unit"], name="hotline_assignment_unique"
            ),
            models.UniqueConstraint(
                fields=["order", "round"],
                condition=Q(role="lead"),
                name="hotline_assignment_one_lead",
            ),
        ]
        indexes = [models.Index(fields=["unit", "status"])]


class Reply(TimeStamped):
    """The lead unit's answer to the citizen (one per handling; a reopened order gets another)."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="replies")
    unit = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    action = models.TextField(_("办理情况"))
    text = models.TextField(_("答复内容"))
    outcome = models.CharField(_("办理结果"), max_length=16, choices=WorkOrder.Outcome.choices)

    class Meta:
        ordering = ["order", "created_at", "id"]


class ReturnVisit(TimeStamped):
    """回访: by an operator's call or by an SMS survey; the five levels of 好差评 (5–1)."""

    class Method(models.TextChoices):
        PHONE = "phone", _("电话回访")
        SMS = "sms", _("短信回访")
        ONLINE = "online", _("网上评价")

    class Result(models.TextChoices):
        ANSWERED = "answered", _("已回访")
        UNREACHABLE = "unreachable", _("未能联系上")

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="visits")
    method = models.CharField(_("回访方式"), max_length=8, choices=Method.choices)
    result = models.CharField(_("回访结果"), max_length=12, choices=Result.choices)
    satisfaction = models.PositiveSmallIntegerField(_("满意度"), null=True, blank=True)
    resolved = models.BooleanField(_("问题是否解决"), null=True, blank=True)
    comment = models.TextField(_("回访意见"), blank=True)
    visitor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["order", "created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(result="answered") & Q(satisfaction__gte=1) & Q(satisfaction__lte=5))
                | (Q(result="unreachable") & Q(satisfaction__isnull=True)),
                name="hotline_visit_satisfaction",
            ),
        ]


class Extension(TimeStamped):
    """A unit's request to extend the handling limit once, decided by the centre."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REFUSED = "refused", _("未批准")

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="extensions")
    unit = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("延期理由"))
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    new_due = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=Q(status="pending"), name="hotline_one_open_extension"
            ),
        ]


class Attachment(TimeStamped):
    """A photo (or other file) sent with an order."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="hotline/%Y/%m/")
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()

    class Meta:
        ordering = ["order", "id"]


class Event(models.Model):
    """The order's timeline (shown to staff; the citizen sees the public kinds)."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.created_at:%Y-%m-%d %H:%M}"


class ClassifierModel(TimeStamped):
    """A trained classifier file; exactly one may be active (the administrator switches)."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    path = models.CharField(_("模型文件"), max_length=300)
    labels = models.JSONField(_("类别"), default=list)
    metrics = models.JSONField(_("评估结果"), default=dict)
    active = models.BooleanField(_("启用"), default=False)
    # Orders are routed without a dispatcher only at or above this confidence.
    auto_dispatch_threshold = models.FloatField(_("自动派单置信度"), default=0.8)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("分类模型")
        verbose_name_plural = _("分类模型")
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=Q(active=True), name="hotline_one_active_model"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Open311Key(TimeStamped):
    """An Open311 client's API key: only its SHA-256 is stored."""

    name = models.CharField(_("名称"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("Open311 密钥")
        verbose_name_plural = _("Open311 密钥")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


# --- figures rollup (yiwang.hotline.stats) ---------------------------------------------------
# Written only by yiwang.hotline.stats; months are marked stale by database triggers on
# hotline_workorder (migration 0002), so no service has to remember to invalidate them.


class StatsMonth(models.Model):
    """A Shanghai month whose rollup rows are built (a month without orders has no rows)."""

    month = models.DateField(unique=True)  # its first day
    built_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"


class StatsStale(models.Model):
    """A change to an order registered in ``month`` since its rollup was built: appended by
    the triggers (never updated, so concurrent writers never wait on one another)."""

    month = models.DateField(db_index=True)

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"


class StatsRollup(models.Model):
    """The counts of the orders registered in one month, per lead unit and leaf category,
    that do not depend on the time of asking (the overdue counts are always live)."""

    month = models.DateField()
    unit_id = models.IntegerField(null=True)
    category_id = models.IntegerField(null=True)
    orders = models.IntegerField(default=0)
    merged = models.IntegerField(default=0)
    transferred = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    signed = models.IntegerField(default=0)
    signed_on_time = models.IntegerField(default=0)
    replied = models.IntegerField(default=0)
    replied_on_time = models.IntegerField(default=0)
    visited = models.IntegerField(default=0)
    satisfied = models.IntegerField(default=0)
    handling_ms = models.BigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["month"])]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.unit_id}/{self.category_id}"
