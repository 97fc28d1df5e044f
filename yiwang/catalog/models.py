"""The service catalog (事项目录): items with the national elements, their versions, materials,
situations, fees, FAQ, process steps, and 一件事 bundles.

A ``ServiceItem`` is the stable identity of an implementation-list entry (实施清单), keyed by its
实施编码 (``task_code``). Everything a citizen or an application relies on lives on an
``ItemVersion``: draft → review → published → retired. A published version never changes
(services refuse, and applications reference the exact version they were made under); a change
is a new draft version. Field names follow the national exchange tables (standards.md §1.5);
codes are stored as opaque strings (§1.3).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.accounts.models import Department
from yiwang.core.models import TimeStamped


class ItemType(models.Model):
    """事项类型: a configurable list, because numeric codes differ between provinces."""

    code = models.CharField(_("代码"), max_length=8, unique=True)
    name = models.CharField(_("名称"), max_length=30, unique=True)
    is_power = models.BooleanField(_("行政权力事项"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("事项类型")
        verbose_name_plural = _("事项类型")

    def __str__(self) -> str:
        return self.name


class Theme(models.Model):
    """主题分类, separately for natural persons (自然人) and legal persons (法人)."""

    class Audience(models.TextChoices):
        NATURAL = "natural", _("面向自然人")
        LEGAL = "legal", _("面向法人")

    audience = models.CharField(_("服务对象"), max_length=10, choices=Audience.choices)
    name = models.CharField(_("名称"), max_length=50)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["audience", "sort_order", "name"]
        verbose_name = _("主题分类")
        verbose_name_plural = _("主题分类")
        constraints = [
            models.UniqueConstraint(fields=["audience", "name"], name="theme_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.get_audience_display()}·{self.name}"


class ServiceItem(TimeStamped):
    """The identity of one implementation-list item, across all its versions."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    task_code = models.CharField(_("实施编码"), max_length=50, unique=True)
    catalog_code = models.CharField(_("基本编码"), max_length=50, blank=True, db_index=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("实施主体"),
        on_delete=models.PROTECT,
        related_name="service_items",
        null=True,
        blank=True,
    )

    class Meta:
        ordering = ["task_code"]
        verbose_name = _("政务服务事项")
        verbose_name_plural = _("政务服务事项")

    def __str__(self) -> str:
        return self.task_code


class TimeUnit(models.TextChoices):
    WORKING_DAY = "working_day", _("工作日")
    NATURAL_DAY = "natural_day", _("自然日")
    WORKING_HOUR = "working_hour", _("工作小时")
    IMMEDIATE = "immediate", _("即办")


class ItemVersion(TimeStamped):
    """One version of an item with every national element (standards.md §1.5 (b))."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        REVIEW = "review", _("待审核")
        PUBLISHED = "published", _("已发布")
        RETIRED = "retired", _("已停用")

    class UseLevel(models.TextChoices):
        NATIONAL = "national", _("国家级")
        PROVINCIAL = "provincial", _("省级")
        MUNICIPAL = "municipal", _("市级")
        COUNTY = "county", _("县级")
        TOWNSHIP = "township", _("乡（镇、街道）级")
        VILLAGE = "village", _("村（社区）级")

    class DeptType(models.TextChoices):
        STATUTORY = "statutory", _("法定机关")
        AUTHORISED = "authorised", _("授权组织")
        ENTRUSTED = "entrusted", _("受委托组织")

    class ProjectType(models.TextChoices):
        IMMEDIATE = "immediate", _("即办件")
        PROMISED = "promised", _("承诺件")

    class OnlineDepth(models.TextChoices):
        # Only level IV's wording is attested (standards.md §1.5); the others are the usual
        # reading of the 2016 guide and are kept configurable by being plain choices.
        NONE = "0", _("不支持网办")
        I = "1", _("Ⅰ级：在线办事指南")  # noqa: E741
        II = "2", _("Ⅱ级：在线预约、预审")
        III = "3", _("Ⅲ级：网上受理，最多跑一次")
        IV = "4", _("全程网办（Ⅳ级）")

    class ResultType(models.TextChoices):
        CERTIFICATE = "certificate", _("出证办结")
        DOCUMENT = "document", _("出文办结")
        APPROVAL = "approval", _("审批办结")
        OTHER = "other", _("其他")

    class HandleArea(models.TextChoices):
        NATIONWIDE = "nationwide", _("全国通办")
        CROSS_PROVINCE = "cross_province", _("跨省通办")
        PROVINCE = "province", _("省内通办")
        CITY = "city", _("市内通办")
        COUNTY = "county", _("县（区）内通办")
        NONE = "none", _("不通办")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("版本号"))
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    change_note = models.CharField(_("修订说明"), max_length=300, blank=True)
    submitted_at = models.DateTimeField(_("提交审核时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    retired_at = models.DateTimeField(_("停用时间"), null=True, blank=True)

    # identity and basic catalog
    name = models.CharField(_("事项名称"), max_length=200)
    short_name = models.CharField(_("简称"), max_length=100, blank=True)
    handle_item_code = models.CharField(_("业务办理项编码"), max_length=50, blank=True)
    local_task_code = models.CharField(_("地方实施编码"), max_length=50, blank=True)
    item_type = models.ForeignKey(ItemType, verbose_name=_("事项类型"), on_delete=models.PROTECT)
    use_level = models.CharField(_("行使层级"), max_length=12, choices=UseLevel.choices)
    power_source = models.CharField(_("权力来源"), max_length=50, blank=True)
    by_law = models.TextField(_("设定依据"), blank=True)

    # who
    dept_name = models.CharField(_("实施主体名称"), max_length=200)
    dept_uscc = models.CharField(_("实施主体统一社会信用代码"), max_length=18, blank=True)
    division_code = models.CharField(_("行政区划代码"), max_length=12, blank=True)
    dept_type = models.CharField(
        _("实施主体性质"), max_length=12, choices=DeptType.choices, default=DeptType.STATUTORY
    )
    entrust_name = models.CharField(_("委托部门"), max_length=200, blank=True)
    other_depts = models.CharField(_("联办机构"), max_length=300, blank=True)
    server_types = models.JSONField(_("服务对象"), default=list)  # ["自然人", "企业法人", …]

    # conditions
    accept_condition = models.TextField(_("受理条件"), blank=True)
    limit_explain = models.TextField(_("数量限制"), blank=True)

    # time limits
    anticipate_limit = models.PositiveIntegerField(_("法定办结时限"), null=True, blank=True)
    anticipate_unit = models.CharField(
        _("法定时限单位"), max_length=16, choices=TimeUnit.choices, blank=True
    )
    anticipate_explain = models.TextField(_("法定时限说明"), blank=True)
    promise_limit = models.PositiveIntegerField(_("承诺办结时限"), null=True, blank=True)
    promise_unit = models.CharField(
        _("承诺时限单位"), max_length=16, choices=TimeUnit.choices, blank=True
    )
    promise_explain = models.TextField(_("承诺时限说明"), blank=True)

    # process and form of handling
    project_type = models.CharField(
        _("办件类型"), max_length=12, choices=ProjectType.choices, default=ProjectType.PROMISED
    )
    handle_forms = models.JSONField(_("办理形式"), default=list)  # ["窗口办理", "网上办理", …]
    visit_count = models.PositiveSmallIntegerField(_("到办事现场次数"), default=0)
    visit_reason = models.TextField(_("必须现场办理原因说明"), blank=True)
    online_depth = models.CharField(
        _("网上办理深度"), max_length=2, choices=OnlineDepth.choices, default=OnlineDepth.NONE
    )
    online_url = models.URLField(_("网上办理地址"), blank=True, max_length=500)
    mobile_url = models.URLField(_("移动端办理地址"), blank=True, max_length=500)
    external_system = models.BooleanField(
        _("由外部系统办理"),
        default=False,
        help_text=_("如医疗挂号、交通违章处理：平台只提供指南并链接到办理系统。"),
    )
    supports_appointment = models.BooleanField(_("支持预约办理"), default=False)
    supports_express = models.BooleanField(_("支持物流快递"), default=False)
    supports_terminal = models.BooleanField(_("支持自助终端办理"), default=False)
    in_service_hall = models.BooleanField(_("进驻政务服务大厅"), default=True)
    handle_area = models.CharField(
        _("通办范围"), max_length=16, choices=HandleArea.choices, default=HandleArea.NONE
    )
    special_procedures = models.JSONField(_("特别程序"), default=list)  # ["专家评审", "听证", …]

    # fees
    is_fee = models.BooleanField(_("是否收费"), default=False)
    fee_basis = models.TextField(_("收费依据"), blank=True)
    online_payment = models.BooleanField(_("支持网上支付"), default=False)

    # where, when, contacts
    transact_addr = models.TextField(_("办理地点"), blank=True)
    transact_time = models.TextField(_("办理时间"), blank=True)
    consult_way = models.TextField(_("咨询方式"), blank=True)
    supervise_way = models.TextField(_("监督投诉方式"), blank=True)

    # result
    result_type = models.CharField(
        _("审批结果类型"), max_length=12, choices=ResultType.choices, blank=True
    )
    result_name = models.CharField(_("审批结果名称"), max_length=200, blank=True)
    result_sample = models.FileField(
        _("审批结果样本"), upload_to="catalog/samples/", blank=True, max_length=300
    )
    result_certificate_type = models.CharField(_("结果电子证照类型代码"), max_length=30, blank=True)

    # classification and search
    themes = models.ManyToManyField(Theme, verbose_name=_("主题分类"), blank=True)
    keywords = models.CharField(_("关键词"), max_length=500, blank=True)

    # process (BPMN 2.0) and rules (DMN), see yiwang.catalog.process
    bpmn_xml = models.TextField(_("BPMN 流程"), blank=True)
    bpmn_custom = models.BooleanField(_("自定义流程"), default=False)
    dmn_xml = models.TextField(_("DMN 决策表"), blank=True)

    # provenance
    source = models.CharField(_("来源"), max_length=30, blank=True)  # demo, gd-jsonl, xlsx, …
    source_url = models.URLField(_("来源地址"), blank=True, max_length=500)

    class Meta:
        ordering = ["item", "-number"]
        verbose_name = _("事项版本")
        verbose_name_plural = _("事项版本")
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="itemversion_unique_number"),
            models.UniqueConstraint(
                fields=["item"],
                condition=models.Q(status="published"),
                name="itemversion_one_published",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["draft", "review", "published", "retired"]),
                name="itemversion_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["status", "item"])]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"


class LegalBasis(models.Model):
    """设定依据 sub-record: one article of one law or regulation."""

    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="legal_bases")
    law_name = models.CharField(_("法律法规名称"), max_length=300)
    doc_number = models.CharField(_("依据文号"), max_length=100, blank=True)
    article = models.CharField(_("条款号"), max_length=100, blank=True)
    issuer = models.CharField(_("颁布机关"), max_length=100, blank=True)
    effective_date = models.DateField(_("实施日期"), null=True, blank=True)
    content = models.TextField(_("条款内容"), blank=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["version", "sort_order", "id"]
        verbose_name = _("设定依据")
        verbose_name_plural = _("设定依据")

    def __str__(self) -> str:
        return f"{self.law_name} {self.article}"


class Situation(models.Model):
    """办理情形: a case of the item that selects which materials apply (e.g. 公积金提取·购房)."""

    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="situations")
    code = models.SlugField(_("代码"), max_length=50)
    name = models.CharField(_("情形名称"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["version", "sort_order", "id"]
        verbose_name = _("办理情形")
        verbose_name_plural = _("办理情形")
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="situation_unique_code")
        ]

    def __str__(self) -> str:
        return self.name


def fetched_from_government(
    *, source: str, certificate_type_code: str, data_resource_code: str
) -> bool:
    """The one rule for "the applicant need not submit this material" (国务院令第716号 Art. 7):
    it is issued by government and the e-certificate type or shared data resource that
    replaces it is named, so the department fetches it itself. Government-issued without a
    named source, nobody knows where to fetch it, and the applicant is still asked."""
    return source == Material.Source.GOVERNMENT and bool(
        certificate_type_code or data_resource_code
    )


class Material(models.Model):
    """申请材料 (standards.md §1.5 (c)). ``situations`` empty means: every situation."""

    class Necessity(models.TextChoices):
        REQUIRED = "required", _("必要")
        OPTIONAL = "optional", _("非必要")
        TOLERATED = "tolerated", _("容缺")

    class Kind(models.TextChoices):
        ORIGINAL = "original", _("原件")
        COPY = "copy", _("复印件")
        ORIGINAL_AND_COPY = "original_and_copy", _("原件和复印件")
        ELECTRONIC = "electronic", _("电子材料")

    class Form(models.TextChoices):
        PAPER = "paper", _("纸质")
        ELECTRONIC = "electronic", _("电子")
        BOTH = "both", _("纸质或电子")

    class Source(models.TextChoices):
        APPLICANT = "applicant", _("申请人自备")
        GOVERNMENT = "government", _("政府部门核发")
        INTERMEDIARY = "intermediary", _("中介机构或法定机构产生")
        OTHER = "other", _("其他")

    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="materials")
    name = models.CharField(_("材料名称"), max_length=300)
    necessity = models.CharField(
        _("材料必要性"), max_length=12, choices=Necessity.choices, default=Necessity.REQUIRED
    )
    kind = models.CharField(
        _("材料类型"), max_length=20, choices=Kind.choices, default=Kind.ORIGINAL
    )
    form = models.CharField(_("材料形式"), max_length=12, choices=Form.choices, default=Form.BOTH)
    source = models.CharField(
        _("来源渠道"), max_length=16, choices=Source.choices, default=Source.APPLICANT
    )
    source_explain = models.CharField(_("来源渠道说明"), max_length=300, blank=True)
    # What the government already holds replaces the paper (国务院令第716号 Art. 7): the
    # e-certificate type (GB/T 36904 type code) or the shared data resource that provides it.
    certificate_type_code = models.CharField(_("可替代的电子证照类型"), max_length=30, blank=True)
    data_resource_code = models.CharField(_("可替代的共享数据资源"), max_length=50, blank=True)
    paper_count = models.PositiveSmallIntegerField(_("纸质材料份数"), default=1)
    spec = models.CharField(_("纸质材料规格"), max_length=100, blank=True)
    blank_form = models.FileField(
        _("空白表格"), upload_to="catalog/forms/", blank=True, max_length=300
    )
    sample_file = models.FileField(
        _("示例样表"), upload_to="catalog/samples/", blank=True, max_length=300
    )
    notes = models.TextField(_("填报须知"), blank=True)
    accept_standard = models.TextField(_("受理标准"), blank=True)
    legal_basis = models.TextField(_("要求提供材料的依据"), blank=True)
    situations = models.ManyToManyField(
        Situation, verbose_name=_("适用情形"), blank=True, related_name="materials"
    )
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["version", "sort_order", "id"]
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")

    def __str__(self) -> str:
        return self.name

    @property
    def fetched(self) -> bool:
        """The applicant need not submit it (``fetched_from_government``)."""
        return fetched_from_government(
            source=self.source,
            certificate_type_code=self.certificate_type_code,
            data_resource_code=self.data_resource_code,
        )


class FeeItem(models.Model):
    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="fee_items")
    name = models.CharField(_("收费项目名称"), max_length=200)
    standard = models.CharField(_("收费标准"), max_length=300)
    basis = models.TextField(_("收费依据"), blank=True)
    reducible = models.BooleanField(_("是否允许减免"), default=False)
    reduce_basis = models.TextField(_("减免依据"), blank=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["version", "sort_order", "id"]
        verbose_name = _("收费项目")
        verbose_name_plural = _("收费项目")

    def __str__(self) -> str:
        return self.name


class Faq(models.Model):
    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="faqs")
    question = models.CharField(_("问题"), max_length=300)
    answer = models.TextField(_("答案"))
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["version", "sort_order", "id"]
        verbose_name = _("常见问题")
        verbose_name_plural = _("常见问题")

    def __str__(self) -> str:
        return self.question


class ProcessStep(models.Model):
    """办理流程的一个环节 (受理、审核、审批、办结、送达 …). The standard BPMN process of an item
    is generated from its steps (yiwang.catalog.process); parallel steps share a ``stage``."""

    class Kind(models.TextChoices):
        ACCEPT = "accept", _("受理")
        REVIEW = "review", _("审查")
        DECIDE = "decide", _("决定")
        CONCLUDE = "conclude", _("办结")
        DELIVER = "deliver", _("送达")
        OTHER = "other", _("其他")

    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="steps")
    name = models.CharField(_("环节名称"), max_length=100)
    kind = models.CharField(_("环节类型"), max_length=12, choices=Kind.choices)
    stage = models.PositiveSmallIntegerField(_("阶段"), default=0)
    role = models.CharField(_("办理角色"), max_length=24, blank=True)  # accounts.Role value
    department = models.ForeignKey(
        Department, verbose_name=_("办理部门"), null=True, blank=True, on_delete=models.PROTECT
    )
    time_limit = models.PositiveSmallIntegerField(_("环节时限（工作日）"), null=True, blank=True)
    description = models.TextField(_("环节说明"), blank=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["version", "stage", "sort_order", "id"]
        verbose_name = _("办理环节")
        verbose_name_plural = _("办理环节")

    def __str__(self) -> str:
        return self.name


class Bundle(TimeStamped):
    """一件事一次办: several items applied for with one form and one set of materials."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")
        RETIRED = "retired", _("已停用")

    class Dispatch(models.TextChoices):
        PARALLEL = "parallel", _("并联办理")
        SEQUENTIAL = "sequential", _("按阶段顺序办理")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.SlugField(_("代码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    lead_department = models.ForeignKey(
        Department, verbose_name=_("牵头部门"), on_delete=models.PROTECT, related_name="+"
    )
    cooperating_departments = models.ManyToManyField(
        Department, verbose_name=_("配合部门"), blank=True, related_name="+"
    )
    dispatch = models.CharField(
        _("办理方式"), max_length=12, choices=Dispatch.choices, default=Dispatch.PARALLEL
    )
    promise_limit = models.PositiveIntegerField(_("承诺办结时限"), null=True, blank=True)
    promise_unit = models.CharField(
        _("承诺时限单位"), max_length=16, choices=TimeUnit.choices, blank=True
    )
    # The merged form: [{"name": "legal_rep_name", "label": "法定代表人姓名", "type": "text",
    #   "required": true, "maps_to": {"<task_code>": "<member field>", …}}, …]
    form_schema = models.JSONField(_("合并表单"), default=list)
    keywords = models.CharField(_("关键词"), max_length=500, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("一件事")
        verbose_name_plural = _("一件事")

    def __str__(self) -> str:
        return self.name


class BundleMember(models.Model):
    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="members")
    item = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="bundle_uses")
    stage = models.PositiveSmallIntegerField(_("阶段"), default=0)  # sequential dispatch order
    required = models.BooleanField(_("必办"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["bundle", "stage", "sort_order", "id"]
        verbose_name = _("一件事成员事项")
        verbose_name_plural = _("一件事成员事项")
        constraints = [
            models.UniqueConstraint(fields=["bundle", "item"], name="bundle_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.bundle} · {self.item}"
