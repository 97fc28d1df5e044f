"""E-certificates (电子证照): types, certificates and their uses (standards.md §2).

* ``CertificateType``: the 证照类型 defined by a 证照定义机构 (type code = its USCC + 3 digits),
  the fields of the face (照面), the validity rule and which departments may issue it.
* ``Certificate``: one version of one certificate, identified per GB/T 36904
  (``1.2.156.3005.2.<type>.<issuer>.<serial>.<version>.<check>``). A new version supersedes the
  old row (same serial, version + 1); nothing is deleted. The holder's ID number / USCC is
  encrypted, with a blind index for lookups. ``credential`` is the signed W3C VC 2.0 document
  (credential.py) and ``ledger_entry_ref`` the id of the ``ledger.Entry`` of its issuance.
* ``CertificateUse``: a department used the certificate in a case (用证), with the mandatory
  申请事由 and the case number; the holder sees every use.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.accounts.models import Department, User
from yiwang.core.errors import ValidationError
from yiwang.core.fields import EncryptedTextField
from yiwang.core.identifiers import uscc_validate
from yiwang.core.models import TimeStamped

WATERMARK_DEFAULT = "此件由%(issuer)s提供，仅供办理政务服务事项时使用，有效期至%(until)s"
FACE_KEY_MAX = 40
FACE_FIELDS_MAX = 50


def type_code_validate(value: str) -> None:
    """证照类型代码: the defining authority's USCC (18, checked) followed by 3 digits."""
    text = value or ""
    if len(text) != 21 or not text[18:].isdigit():
        raise DjangoValidationError(
            _("证照类型代码应为定义机构的统一社会信用代码加3位数字，共21位。"), code="type_code"
        )
    try:
        uscc_validate(text[:18])
    except ValidationError as exc:
        raise DjangoValidationError(str(exc.message), code="type_code") from exc
    if text[:18] != text[:18].upper():
        raise DjangoValidationError(_("证照类型代码须为大写。"), code="type_code")


def face_fields_validate(value: Any) -> None:
    """An ordered list of ``{"key": str, "label": str, "required": bool}`` with unique keys."""
    if not isinstance(value, list) or len(value) > FACE_FIELDS_MAX:
        raise DjangoValidationError(
            _("照面字段应为不超过%(n)s项的列表。") % {"n": FACE_FIELDS_MAX}, code="face_fields"
        )
    seen: set[str] = set()
    for field in value:
        if (
            not isinstance(field, dict)
            or set(field) != {"key", "label", "required"}
            or not isinstance(field["key"], str)
            or not isinstance(field["label"], str)
            or not isinstance(field["required"], bool)
        ):
            raise DjangoValidationError(
                _("每个照面字段须有 key、label、required 三项，且只有这三项。"), code="face_fields"
            )
        key = field["key"]
        if not key or len(key) > FACE_KEY_MAX or not key.isidentifier() or not key.isascii():
            raise DjangoValidationError(
                _("照面字段名“%(k)s”只能由字母、数字和下划线组成。") % {"k": key},
                code="face_fields",
            )
        if not field["label"].strip():
            raise DjangoValidationError(
                _("照面字段“%(k)s”缺少名称。") % {"k": key}, code="face_fields"
            )
        if key in seen:
            raise DjangoValidationError(
                _("照面字段名“%(k)s”重复。") % {"k": key}, code="face_fields"
            )
        seen.add(key)


class TrustGrade(models.TextChoices):
    """2016 技术体系建设指南: A is issued by the competent authority and usable directly."""

    A = "A", _("A级（实施机构生成）")
    B = "B", _("B级（窗口核验）")
    C = "C", _("C级（申请人上传）")
    D = "D", _("D级（承诺）")


class HolderType(models.TextChoices):
    """持证主体代码类型 (GB/T 36903-2018)."""

    ID_NUMBER = "111", _("公民身份号码")
    USCC = "001", _("统一社会信用代码")


class CertificateType(TimeStamped):
    code = models.CharField(
        _("证照类型代码"), max_length=21, unique=True, validators=[type_code_validate]
    )
    name = models.CharField(_("证照名称"), max_length=100)
    definer_name = models.CharField(_("证照定义机构"), max_length=100)
    holder_type = models.CharField(
        _("持证主体类型"), max_length=3, choices=HolderType.choices, default=HolderType.ID_NUMBER
    )
    face_fields = models.JSONField(
        _("照面字段"), default=list, blank=True, validators=[face_fields_validate]
    )
    # None = 长期有效 (long-term); otherwise the number of years from the day of issue.
    validity_years = models.PositiveSmallIntegerField(_("有效年限"), null=True, blank=True)
    issuing_departments = models.ManyToManyField(
        Department, verbose_name=_("颁发机构"), related_name="certificate_types", blank=True
    )
    trust_grade = models.CharField(
        _("证照等级"), max_length=1, choices=TrustGrade.choices, default=TrustGrade.A
    )
    watermark_template = models.CharField(_("水印模板"), max_length=200, default=WATERMARK_DEFAULT)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("证照类型")
        verbose_name_plural = _("证照类型")
        constraints = [
            models.CheckConstraint(
                condition=Q(trust_grade__in=["A", "B", "C", "D"]),
                name="certificate_type_grade_valid",
            ),
            models.CheckConstraint(
                condition=Q(holder_type__in=["111", "001"]),
                name="certificate_type_holder_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def long_term(self) -> bool:
        return self.validity_years is None


class CertificateSerial(models.Model):
    """The last serial number used for (type, issuer): locked while issuing, so two issues
    never take the same serial."""

    type = models.ForeignKey(CertificateType, on_delete=models.CASCADE, related_name="+")
    issuer_uscc = models.CharField(max_length=18)
    last = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["type", "issuer_uscc"], name="certificate_serial_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.issuer_uscc}:{self.last}"


class Certificate(TimeStamped):
    class Status(models.TextChoices):
        VALID = "valid", _("有效")
        SUPERSEDED = "superseded", _("已变更")
        REVOKED = "revoked", _("已注销")
        EXPIRED = "expired", _("已过期")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    identifier = models.CharField(_("电子证照标识"), max_length=120, unique=True)
    type = models.ForeignKey(
        CertificateType,
        verbose_name=_("证照类型"),
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    serial = models.CharField(_("流水号"), max_length=40)
    version = models.PositiveSmallIntegerField(_("版本号"), default=1)
    holder_name = models.CharField(_("持证主体"), max_length=200)
    holder_id_number = EncryptedTextField(_("持证主体代码"))
    holder_id_index = models.CharField(max_length=64, db_index=True)
    holder_type = models.CharField(_("持证主体代码类型"), max_length=3, choices=HolderType.choices)
    # Key of the holder commitment in the credential (credential.py): HMAC-SHA256(salt, ID).
    # Secret, so that nobody can brute-force the ID number out of a shared credential; the
    # holder can disclose it to prove that the credential names them.
    holder_salt = EncryptedTextField(_("持证主体承诺盐值"), blank=True)
    holder_user = models.ForeignKey(
        User,
        verbose_name=_("持证人账号"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    issuing_department = models.ForeignKey(
        Department, verbose_name=_("颁发机构"), on_delete=models.PROTECT, related_name="+"
    )
    issuer_uscc = models.CharField(_("颁发机构代码"), max_length=18)
    issued_at = models.DateTimeField(_("颁发时间"), default=timezone.now)
    valid_from = models.DateField(_("有效期起始"))
    valid_until = models.DateField(_("有效期截止"), null=True, blank=True)  # None = 长期
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.VALID
    )
    revoked_reason = models.TextField(_("注销原因"), blank=True)
    revoked_at = models.DateTimeField(_("注销时间"), null=True, blank=True)
    superseded_by = models.ForeignKey(
        "self",
        verbose_name=_("新版本"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    trust_grade = models.CharField(
        _("证照等级"), max_length=1, choices=TrustGrade.choices, default=TrustGrade.A
    )
    face_data = models.JSONField(_("照面信息"), default=dict, blank=True)
    credential = models.JSONField(_("可验证凭证"), default=dict, blank=True)
    credential_sha256 = models.CharField(max_length=64, blank=True)
    # Id of the ledger.Entry recording the issue / new version (a plain id, so that this app's
    # migrations do not wait for the ledger's; the ledger never deletes entries).
    ledger_entry_ref = models.BigIntegerField(null=True, blank=True)
    source_application = models.ForeignKey(
        "applications.Application",
        verbose_name=_("来源办件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="certificates",
    )

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("电子证照")
        verbose_name_plural = _("电子证照")
        constraints = [
            models.UniqueConstraint(
                fields=["type", "issuer_uscc", "serial", "version"],
                name="certificate_unique_version",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["valid", "superseded", "revoked", "expired"]),
                name="certificate_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(trust_grade__in=["A", "B", "C", "D"]),
                name="certificate_grade_valid",
            ),
            models.CheckConstraint(
                condition=Q(holder_type__in=["111", "001"]),
                name="certificate_holder_type_valid",
            ),
            models.CheckConstraint(
                condition=Q(version__gte=1) & Q(version__lte=999),
                name="certificate_version_range",
            ),
        ]
        indexes = [
            models.Index(fields=["holder_id_index", "type", "status"]),
            models.Index(fields=["holder_user", "status"]),
            models.Index(fields=["status", "valid_until"]),
        ]

    def __str__(self) -> str:
        return self.identifier

    @property
    def long_term(self) -> bool:
        return self.valid_until is None

    def watermark(self) -> str:
        """The 加注 text for copies (trust grade A): issuer and end of validity."""
        until = self.valid_until.isoformat() if self.valid_until else str(_("长期"))
        return self.type.watermark_template % {
            "issuer": self.issuing_department.name,
            "until": until,
        }


class CertificateUse(models.Model):
    """用证: who used which certificate, in which case, and why."""

    certificate = models.ForeignKey(
        Certificate, verbose_name=_("电子证照"), on_delete=models.PROTECT, related_name="uses"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("用证部门"), on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        User,
        verbose_name=_("经办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("申请事由"), max_length=200)
    case_number = models.CharField(_("办件编号"), max_length=64)
    application = models.ForeignKey(
        "applications.Application",
        verbose_name=_("办件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="certificate_uses",
    )
    at = models.DateTimeField(_("用证时间"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("用证记录")
        verbose_name_plural = _("用证记录")
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="certificate_use_reason_required")
        ]
        indexes = [models.Index(fields=["certificate", "-at"])]

    def __str__(self) -> str:
        return f"{self.certificate_id} {self.case_number}"
