"""Data sharing and exchange (数据共享交换), after Estonia's X-Road: data stays with its owner,
access is granted per consumer and per purpose, every exchange is logged as evidence.

* ``DataResource``: a department's published data resource (政务信息资源目录): its fields, owner,
  update frequency, legal basis, sharing class (无条件 / 有条件 / 不予共享) and the adapter that
  reaches the owner's store (a database view, a CSV/Excel drop, or the owner's HTTP service).
* ``SharingRequest``: a consuming department asks for a resource, for stated items and a purpose;
  the owner's data officer approves (fields, items, until when, masks) or refuses with reasons.
* ``Grant``: what an approval allows. The gateway answers only inside an active grant.
* ``AccessLogEntry``: every gateway call, answered or refused, hash-chained (SM3, like the audit
  trail) behind the single ``AccessLogHead`` row and anchored in the ledger.
* ``SnapshotRow``: the platform-side copy of a file-drop resource (CSV/Excel delivered by the
  owner on a schedule), encrypted, looked up by a blind index of its key.
* ``AccessAnomaly``: a consumer reading far more than its cases justify, flagged to the owner.

Field specifications (``DataResource.fields``, ``Grant.masks``) are plain JSON so that the
catalogue can be exported and exchanged with the provincial platform as it is.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yiwang.accounts.models import Department, User
from yiwang.core.fields import EncryptedTextField
from yiwang.core.models import TimeStamped

FIELD_KEY_MAX = 40
FIELDS_MAX = 60
GENESIS_HASH = "0" * 64


class SharingClass(models.TextChoices):
    UNCONDITIONAL = "unconditional", _("无条件共享")
    CONDITIONAL = "conditional", _("有条件共享")
    NONE = "none", _("不予共享")


class SubjectType(models.TextChoices):
    """Whose data a record is, i.e. what the lookup key is (codes 111/001 per GB/T 36903)."""

    PERSON = "111", _("公民身份号码")
    ENTERPRISE = "001", _("统一社会信用代码")
    PROPERTY = "property", _("不动产单元号")
    VEHICLE = "vehicle", _("号牌号码")
    AREA = "area", _("行政区划代码")


class UpdateFrequency(models.TextChoices):
    REALTIME = "realtime", _("实时")
    DAILY = "daily", _("每日")
    WEEKLY = "weekly", _("每周")
    MONTHLY = "monthly", _("每月")
    YEARLY = "yearly", _("每年")


class AdapterKind(models.TextChoices):
    SQL = "sql", _("数据库视图")
    FILE = "file", _("文件交换（CSV/Excel）")
    HTTP = "http", _("部门接口服务")


class MaskKind(models.TextChoices):
    """How the gateway masks a field value (``yiwang.core.masking``)."""

    ID_NUMBER = "id_number", _("身份证号脱敏")
    PHONE = "phone", _("手机号脱敏")
    NAME = "name", _("姓名脱敏")
    USCC = "uscc", _("信用代码脱敏")
    ADDRESS = "address", _("地址脱敏")
    HIDE = "hide", _("完全隐去")


def fields_spec_validate(value: Any) -> None:
    """A list of ``{"key", "label", "personal", "mask"}``: ``key`` an ASCII identifier, unique;
    ``personal`` true for personal information (PIPL); ``mask`` a ``MaskKind`` or "" (the
    default mask the owner suggests for consumers who do not need the clear value)."""
    if not isinstance(value, list) or not value or len(value) > FIELDS_MAX:
        raise DjangoValidationError(
            _("字段应为1至%(n)s项的列表。") % {"n": FIELDS_MAX}, code="fields"
        )
    seen: set[str] = set()
    masks = set(MaskKind.values) | {""}
    for field in value:
        if (
            not isinstance(field, dict)
            or set(field) != {"key", "label", "personal", "mask"}
            or not isinstance(field["key"], str)
            or not isinstance(field["label"], str)
            or not isinstance(field["personal"], bool)
            or field["mask"] not in masks
        ):
            raise DjangoValidationError(
                _("每个字段须有 key、label、personal、mask 四项，且只有这四项。"), code="fields"
            )
        key = field["key"]
        if not key or len(key) > FIELD_KEY_MAX or not key.isidentifier() or not key.isascii():
            raise DjangoValidationError(
                _("字段名“%(k)s”只能由字母、数字和下划线组成。") % {"k": key}, code="fields"
            )
        if not field["label"].strip():
            raise DjangoValidationError(_("字段“%(k)s”缺少名称。") % {"k": key}, code="fields")
        if key in seen:
            raise DjangoValidationError(_("字段名“%(k)s”重复。") % {"k": key}, code="fields")
        seen.add(key)


class DataResource(TimeStamped):
    """One data resource of the catalogue. ``code`` is what a catalog material's
    ``data_resource_code`` names (e.g. ``LA-DR-RS-001``)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")
        WITHDRAWN = "withdrawn", _("已下架")

    code = models.CharField(_("资源代码"), max_length=50, unique=True)
    name = models.CharField(_("资源名称"), max_length=200)
    owner = models.ForeignKey(
        Department,
        verbose_name=_("提供部门"),
        on_delete=models.PROTECT,
        related_name="data_resources",
    )
    description = models.TextField(_("资源摘要"), blank=True)
    fields = models.JSONField(_("信息项"), validators=[fields_spec_validate])
    subject_type = models.CharField(_("查询主体类型"), max_length=10, choices=SubjectType.choices)
    update_frequency = models.CharField(
        _("更新周期"), max_length=10, choices=UpdateFrequency.choices
    )
    legal_basis = models.TextField(_("共享依据"))
    sharing_class = models.CharField(_("共享类型"), max_length=16, choices=SharingClass.choices)
    # 有条件共享: the conditions; 不予共享: the law or reason that forbids sharing.
    sharing_condition = models.TextField(_("共享条件或不予共享依据"), blank=True)
    adapter_kind = models.CharField(_("接入方式"), max_length=8, choices=AdapterKind.choices)
    # sql: {"url": "sqlite:///…" | "postgres://…", "table": "...", "key": "column"}
    # file: {"path": "…/drop.csv" | "….xlsx", "key": "column"}
    # http: {"url": "https://…/lookup", "timeout_s": 2}
    adapter_config = models.JSONField(_("接入配置"), default=dict, blank=True)
    rate_limit_per_minute = models.PositiveIntegerField(_("默认每分钟调用上限"), default=600)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    # The owner's store was last refreshed (file drops) or answered (others) at.
    refreshed_at = models.DateTimeField(_("数据更新时间"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("数据资源")
        verbose_name_plural = _("数据资源")
        constraints = [
            models.CheckConstraint(
                condition=Q(sharing_class__in=["unconditional", "conditional", "none"]),
                name="exchange_resource_sharing_class_valid",
            ),
            models.CheckConstraint(
                condition=Q(adapter_kind__in=["sql", "file", "http"]),
                name="exchange_resource_adapter_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def field_keys(self) -> list[str]:
        return [str(f["key"]) for f in self.fields]


class SharingRequest(TimeStamped):
    """A consuming department's request for a resource (共享申请)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("已同意")
        REFUSED = "refused", _("已拒绝")
        WITHDRAWN = "withdrawn", _("已撤回")

    resource = models.ForeignKey(
        DataResource, verbose_name=_("数据资源"), on_delete=models.PROTECT, related_name="requests"
    )
    consumer = models.ForeignKey(
        Department,
        verbose_name=_("申请部门"),
        on_delete=models.PROTECT,
        related_name="sharing_requests",
    )
    requested_by = models.ForeignKey(
        User, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    fields = models.JSONField(_("申请信息项"), default=list)
    # Catalog item codes (事项编码) the data is for; empty = the purpose alone (unconditional).
    item_codes = models.JSONField(_("用于事项"), default=list, blank=True)
    purpose = models.TextField(_("使用用途"))
    valid_until = models.DateField(_("申请使用期限"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    decided_by = models.ForeignKey(
        User,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decision_reason = models.TextField(_("审核意见"), blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("共享申请")
        verbose_name_plural = _("共享申请")
        indexes = [models.Index(fields=["resource", "status"])]

    def __str__(self) -> str:
        return f"{self.consumer} → {self.resource.code} ({self.status})"


class Grant(TimeStamped):
    """What the owner allowed a consumer: these fields, for these items (or this purpose),
    until then, with these masks. Revoked grants are kept (the log refers to them)."""

    resource = models.ForeignKey(
        DataResource, verbose_name=_("数据资源"), on_delete=models.PROTECT, related_name="grants"
    )
    consumer = models.ForeignKey(
        Department, verbose_name=_("使用部门"), on_delete=models.PROTECT, related_name="grants"
    )
    request = models.OneToOneField(
        SharingRequest,
        verbose_name=_("共享申请"),
        on_delete=models.PROTECT,
        related_name="grant",
    )
    fields = models.JSONField(_("授权信息项"))
    # {field key: MaskKind}: the consumer gets these fields masked.
    masks = models.JSONField(_("脱敏规则"), default=dict, blank=True)
    item_codes = models.JSONField(_("限用事项"), default=list, blank=True)
    purpose = models.TextField(_("限定用途"))
    valid_from = models.DateTimeField(_("生效时间"))
    valid_until = models.DateTimeField(_("有效期至"), null=True, blank=True)
    rate_limit_per_minute = models.PositiveIntegerField(_("每分钟调用上限"))
    granted_by = models.ForeignKey(
        User, verbose_name=_("授权人"), on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        User,
        verbose_name=_("撤销人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoke_reason = models.TextField(_("撤销原因"), blank=True)

    class Meta:
        ordering = ["-valid_from"]
        verbose_name = _("共享授权")
        verbose_name_plural = _("共享授权")
        indexes = [models.Index(fields=["consumer", "resource"])]

    def __str__(self) -> str:
        return f"{self.consumer} ← {self.resource.code}"


class AccessLogEntry(models.Model):
    """One gateway call (answered, refused or failed). Written only by the gateway, in its own
    transaction, chained like the audit trail: ``entry_hash = SM3(prev_hash || canonical JSON
    of the other columns)``. Departments and users are stored by id and label so that history
    cannot be rewritten by renaming or deleting them."""

    class Outcome(models.TextChoices):
        ANSWERED = "answered", _("已返回")
        REFUSED = "refused", _("已拒绝")
        FAILED = "failed", _("数据源故障")

    seq = models.PositiveBigIntegerField(_("序号"), unique=True)
    created_at = models.DateTimeField(_("调用时间"), db_index=True)
    consumer_id = models.BigIntegerField(_("使用部门ID"), db_index=True)
    consumer_label = models.CharField(_("使用部门"), max_length=100)
    owner_id = models.BigIntegerField(_("提供部门ID"), db_index=True)
    owner_label = models.CharField(_("提供部门"), max_length=100)
    resource_code = models.CharField(_("资源代码"), max_length=50, db_index=True)
    grant_id = models.BigIntegerField(_("授权ID"), null=True, blank=True)
    actor_id = models.BigIntegerField(_("操作人ID"), null=True, blank=True)
    actor_label = models.CharField(_("操作人"), max_length=150, blank=True)
    fields = models.JSONField(_("信息项"), default=list)
    case_number = models.CharField(_("办件编号"), max_length=40, blank=True, db_index=True)
    purpose = models.TextField(_("用途"), blank=True)
    # Blind index of the data subject's key (ID number, USCC …), so that the subject can find
    # who read their data without the log holding the number.
    subject_index = models.CharField(max_length=64, blank=True, db_index=True)
    subject_type = models.CharField(_("主体类型"), max_length=10, blank=True)
    outcome = models.CharField(_("结果"), max_length=10, choices=Outcome.choices)
    # Stable error code of a refusal or failure (e.g. ``exchange.no_grant``).
    code = models.CharField(_("错误代码"), max_length=60, blank=True)
    result_size = models.PositiveIntegerField(_("返回记录数"), default=0)
    duration_ms = models.PositiveIntegerField(_("耗时（毫秒）"), default=0)
    prev_hash = models.CharField(_("前一哈希"), max_length=64)
    entry_hash = models.CharField(_("本条哈希"), max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        verbose_name = _("共享调用日志")
        verbose_name_plural = _("共享调用日志")

    def __str__(self) -> str:
        return f"#{self.seq} {self.consumer_label} → {self.resource_code} {self.outcome}"


class AccessLogHead(models.Model):
    """The single row every log write locks, so that the chain has one order."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    # The last head committed to the ledger (``exchange.anchor`` entries).
    anchored_seq = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="exchange_accessloghead_single")
        ]

    def __str__(self) -> str:
        return f"access log head #{self.seq}"


class SnapshotRow(models.Model):
    """One record of a file-drop resource as last delivered by its owner."""

    resource = models.ForeignKey(DataResource, on_delete=models.CASCADE, related_name="+")
    key_index = models.CharField(max_length=64)
    data = EncryptedTextField()  # the record as JSON
    loaded_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["resource", "key_index"])]

    def __str__(self) -> str:
        return f"{self.resource_id}:{self.key_index[:8]}"


class AccessAnomaly(TimeStamped):
    """A consumer's reading of a resource out of proportion to its cases (flagged to the
    owner's data officers, who look and close it with a note)."""

    resource = models.ForeignKey(
        DataResource, verbose_name=_("数据资源"), on_delete=models.PROTECT, related_name="+"
    )
    consumer = models.ForeignKey(
        Department, verbose_name=_("使用部门"), on_delete=models.PROTECT, related_name="+"
    )
    window_start = models.DateTimeField(_("统计起始"))
    window_end = models.DateTimeField(_("统计截止"))
    calls = models.PositiveIntegerField(_("调用次数"))
    subjects = models.PositiveIntegerField(_("涉及主体数"))
    cases = models.PositiveIntegerField(_("关联办件数"))
    detail = models.TextField(_("说明"))
    closed_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        User,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    close_note = models.TextField(_("处理说明"), blank=True)

    class Meta:
        ordering = ["-window_end"]
        verbose_name = _("异常调用")
        verbose_name_plural = _("异常调用")

    def __str__(self) -> str:
        return f"{self.consumer} {self.resource.code} {self.window_end:%Y-%m-%d}"
