"""Users (citizens, enterprise agents, staff), enterprises, departments, roles, delegation and
API tokens."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.fields import EncryptedTextField
from yiwang.core.models import TimeStamped


class Role(models.TextChoices):
    CITIZEN = "citizen", _("群众")
    WINDOW_CLERK = "window_clerk", _("窗口受理员")
    APPROVER = "approver", _("审批人员")
    DISPATCHER = "dispatcher", _("话务派单员")
    HANDLING_UNIT = "handling_unit", _("承办单位人员")
    SUPERVISOR = "supervisor", _("督办人员")
    COMMUNITY_WORKER = "community_worker", _("网格员")
    DATA_OFFICER = "data_officer", _("数据专员")
    CATALOG_ADMIN = "catalog_admin", _("事项管理员")
    AUDITOR = "auditor", _("审计员")
    ADMIN = "admin", _("系统管理员")


class Department(TimeStamped):
    """A node of the organisation tree: the city government, a bureau, a district or county
    government, a street office, a community. ``division_code`` is GB/T 2260 (六安市 341500)."""

    class Kind(models.TextChoices):
        GOVERNMENT = "government", _("人民政府")
        BUREAU = "bureau", _("职能部门")
        CENTER = "center", _("事业单位")
        STREET = "street", _("乡镇街道")
        COMMUNITY = "community", _("村社区")

    code = models.SlugField(_("机构代码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=50, blank=True)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    division_code = models.CharField(_("行政区划代码"), max_length=12)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("机构")
        verbose_name_plural = _("机构")

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """Anyone who signs in. Citizens carry a real-name identity (encrypted ID number and phone,
    with blind indexes for lookup); staff belong to a department and hold scoped roles."""

    class Kind(models.TextChoices):
        CITIZEN = "citizen", _("自然人")
        ENTERPRISE = "enterprise", _("法人")
        STAFF = "staff", _("工作人员")
        SYSTEM = "system", _("系统集成")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(
        _("用户类型"), max_length=16, choices=Kind.choices, default=Kind.CITIZEN
    )
    real_name = models.CharField(_("真实姓名"), max_length=50, blank=True)
    id_number = EncryptedTextField(_("身份证号码"), blank=True)
    id_number_index = models.CharField(max_length=64, blank=True, db_index=True)
    phone = EncryptedTextField(_("手机号码"), blank=True)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True)
    real_name_verified_at = models.DateTimeField(_("实名认证时间"), null=True, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("所属机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )
    elder_mode = models.BooleanField(_("适老化模式"), default=False)
    preferred_language = models.CharField(_("界面语言"), max_length=10, blank=True)

    class Meta:
        ordering = ["username"]
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_index"],
                condition=~models.Q(id_number_index=""),
                name="user_unique_id_number",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["citizen", "enterprise", "staff", "system"]),
                name="user_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.real_name or self.username


class Enterprise(TimeStamped):
    """A legal person (法人) identified by its unified social credit code (GB 32100)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    legal_representative = models.CharField(_("法定代表人"), max_length=50)
    legal_representative_id_number = EncryptedTextField(_("法定代表人身份证号码"), blank=True)
    division_code = models.CharField(_("登记机关行政区划"), max_length=6, blank=True)
    members = models.ManyToManyField(
        User, through="EnterpriseMember", related_name="enterprises", verbose_name=_("经办人")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("企业")
        verbose_name_plural = _("企业")

    def __str__(self) -> str:
        return self.name


class EnterpriseMember(TimeStamped):
    class Capacity(models.TextChoices):
        LEGAL_REPRESENTATIVE = "legal_representative", _("法定代表人")
        AGENT = "agent", _("经办人")

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE)
    user = models.ForeignKey(User, on_delete=models.CASCADE)
    capacity = models.CharField(_("身份"), max_length=24, choices=Capacity.choices)

    class Meta:
        ordering = ["enterprise", "user"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "user"], name="enterprise_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.enterprise}"


class RoleAssignment(TimeStamped):
    """A role held by a user, scoped to a department (and optionally its whole subtree).
    City-wide roles (auditor, administrator) may have no department."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("角色"), max_length=24, choices=Role.choices)
    department = models.ForeignKey(
        Department, verbose_name=_("机构范围"), null=True, blank=True, on_delete=models.PROTECT
    )
    include_subtree = models.BooleanField(_("含下级机构"), default=False)

    class Meta:
        ordering = ["user", "role"]
        verbose_name = _("角色授权")
        verbose_name_plural = _("角色授权")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "department"], name="role_assignment_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]), name="role_assignment_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.get_role_display()} {self.department or ''}"


class Delegation(TimeStamped):
    """代办: ``principal`` authorises ``agent`` to act for them within ``scopes`` until
    ``expires_at``. Every act under it is attributed to both in the audit trail."""

    class Scope(models.TextChoices):
        APPLY = "apply", _("代为申请办事")
        QUERY = "query", _("查询办件进度")
        RECEIVE = "receive", _("代领结果")
        COMPLAIN = "complain", _("代为诉求反映")
        CERTIFICATES = "certificates", _("代为使用电子证照")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    principal = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="delegations_given", verbose_name=_("委托人")
    )
    agent = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="delegations_held", verbose_name=_("代办人")
    )
    scopes = models.JSONField(_("授权范围"), default=list)
    starts_at = models.DateTimeField(_("生效时间"))
    expires_at = models.DateTimeField(_("到期时间"))
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("登记人"),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("代办授权")
        verbose_name_plural = _("代办授权")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("starts_at")),
                name="delegation_expires_after_start",
            ),
            models.CheckConstraint(
                condition=~models.Q(principal=models.F("agent")), name="delegation_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent} → {self.principal}"


class ApiToken(TimeStamped):
    """A bearer token: a personal token of a staff member, or an integration API key held by a
    system user. Only a hash is stored; the token is shown once when created."""

    class Kind(models.TextChoices):
        PERSONAL = "personal", _("个人令牌")
        INTEGRATION = "integration", _("系统集成密钥")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=100)
    prefix = models.CharField(_("前缀"), max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(_("到期时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
