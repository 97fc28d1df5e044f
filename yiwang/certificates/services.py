"""Issuing, versioning, revoking, expiring and using e-certificates.

Each change runs in one transaction with its audit row and, for issue / new version / revoke,
its ledger entry (``yiwang.ledger.services.entry_append``): the certificate, the signed
credential and the log entry that commits to it exist together or not at all. The ledger entry
payload is ``{identifier, credential_sha256, status, type_code, issuer, valid_until}``, so a
proof bundle of the entry proves which credential was issued (``yiwang certificates verify``).

Status is read from the row on every verification path (pages, API, material provider), so a
revocation is visible everywhere as soon as it commits.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from yiwang.accounts.models import Department, User
from yiwang.certificates import credential as vc
from yiwang.certificates.access import user_may_issue, user_may_use
from yiwang.certificates.models import (
    Certificate,
    CertificateSerial,
    CertificateType,
    CertificateUse,
    HolderType,
)
from yiwang.certificates.selectors import holder_index, masked_holder
from yiwang.core.audit import audit_record
from yiwang.core.errors import Conflict, PermissionDenied, ValidationError
from yiwang.core.identifiers import ecert_id_build, resident_id_parse, uscc_validate
from yiwang.ledger.services import entry_append

INVALID = "certificates.invalid"
FORBIDDEN = "core.forbidden"
STATE = "certificates.state"
FACE_VALUE_MAX = 500
REASON_MAX = 200
CASE_NUMBER_MAX = 64
SYSTEM_ACTOR = "system:certificates"


# --- helpers ------------------------------------------------------------------------------


def status_url(identifier: str) -> str:
    """The public verification page of ``identifier`` (credentialStatus.id and the QR code)."""
    site = settings.YIWANG_SITE_URL or "http://localhost:8000"
    return site + reverse("certificates:verify", args=[identifier])


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def validity_of(type_: CertificateType, valid_from: dt.date) -> dt.date | None:
    """Last day of validity under the type's rule (None = 长期有效): N years minus one day."""
    if type_.validity_years is None:
        return None
    return _add_years(valid_from, type_.validity_years) - dt.timedelta(days=1)


def _holder_number(type_: CertificateType, number: str) -> str:
    if type_.holder_type == HolderType.USCC:
        return uscc_validate(number)
    return resident_id_parse(number).number


def _face_check(type_: CertificateType, face: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(face, dict):
        raise ValidationError(INVALID, _("照面信息须为键值对象。"))
    known = {f["key"]: f for f in type_.face_fields}
    unknown = sorted(set(face) - set(known))
    if unknown:
        raise ValidationError(
            INVALID,
            _("“%(t)s”没有照面字段：%(k)s。") % {"t": type_.name, "k": "、".join(unknown)},
            fields=unknown,
        )
    clean: dict[str, Any] = {}
    for key, spec in known.items():
        value = face.get(key)
        if isinstance(value, str):
            value = value.strip()
        if value in (None, ""):
            if spec["required"]:
                raise ValidationError(
                    INVALID, _("请填写照面字段“%(f)s”。") % {"f": spec["label"]}, field=key
                )
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValidationError(
                INVALID, _("照面字段“%(f)s”须为文字或整数。") % {"f": spec["label"]}, field=key
            )
        if isinstance(value, str) and len(value) > FACE_VALUE_MAX:
            raise ValidationError(
                INVALID, _("照面字段“%(f)s”过长。") % {"f": spec["label"]}, field=key
            )
        clean[key] = value
    return clean


def _next_serial(type_: CertificateType, issuer_uscc: str) -> str:
    row, _created = CertificateSerial.objects.get_or_create(type=type_, issuer_uscc=issuer_uscc)
    locked = CertificateSerial.objects.select_for_update().get(pk=row.pk)
    locked.last += 1
    locked.save(update_fields=["last"])
    return f"{locked.last:010d}"


def _at_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _sign(certificate: Certificate) -> None:
    """Build and sign the credential of ``certificate`` (saved by the caller)."""
    name, number = masked_holder(certificate)
    salt = bytes.fromhex(certificate.holder_salt)
    until = certificate.valid_until
    unsecured = vc.credential_build(
        public_id=str(certificate.public_id),
        identifier=certificate.identifier,
        type_code=certificate.type.code,
        type_name=certificate.type.name,
        issuer_id=vc.issuer_did(),
        issuer_name=certificate.issuing_department.name,
        issuer_uscc=certificate.issuer_uscc,
        valid_from=_at_midnight(certificate.valid_from),
        # End of the last valid day, as an instant (validUntil is exclusive of nothing).
        valid_until=_at_midnight(until + dt.timedelta(days=1)) if until else None,
        holder_name_masked=name,
        holder_id_masked=number,
        holder_type=certificate.holder_type,
        holder_commitment_value=vc.holder_commitment(salt, certificate.holder_id_number),
        face=certificate.face_data,
        version=certificate.version,
        trust_grade=certificate.trust_grade,
        status_url=status_url(certificate.identifier),
    )
    created = certificate.issued_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    certificate.credential = vc.credential_sign(unsecured, vc.issuer_signers(), created=created)
    certificate.credential_sha256 = vc.credential_sha256(certificate.credential)


def _ledger(kind: str, certificate: Certificate) -> int:
    entry = entry_append(
        kind=kind,
        subject=certificate.identifier,
        payload={
            "identifier": certificate.identifier,
            "credential_sha256": certificate.credential_sha256,
            "status": certificate.status,
            "type_code": certificate.type.code,
            "issuer": certificate.issuer_uscc,
            "valid_until": certificate.valid_until.isoformat() if certificate.valid_until else None,
        },
    )
    return int(entry.pk)


def snapshot(certificate: Certificate) -> dict[str, Any]:
    """For the audit trail: no ID number, no face data (both personal)."""
    return {
        "identifier": certificate.identifier,
        "type": certificate.type.code,
        "status": certificate.status,
        "version": certificate.version,
        "valid_until": certificate.valid_until.isoformat() if certificate.valid_until else None,
        "credential_sha256": certificate.credential_sha256,
    }


def _require_issuer(actor: Any, department: Department) -> None:
    if actor == SYSTEM_ACTOR:
        return
    if not user_may_issue(actor, department):
        raise PermissionDenied(
            FORBIDDEN,
            _("您不是“%(d)s”的受理或审批人员，不能颁发、变更或注销证照。") % {"d": department.name},
        )


# --- services -----------------------------------------------------------------------------


@transaction.atomic
def certificate_issue(
    *,
    actor: User | str,
    type: CertificateType,
    department: Department,
    holder_name: str,
    holder_number: str,
    face: dict[str, Any],
    holder_user: User | None = None,
    issuer_uscc: str = "",
    valid_from: dt.date | None = None,
    application: Any = None,
) -> Certificate:
    """Issue version 001 of a new certificate: the next serial for (type, issuer), validity
    from the type's rule, the credential signed, the ledger entry ``certificate.issue``.

    ``actor`` is a window clerk or approver of ``department`` (or ``SYSTEM_ACTOR`` from the
    applications issuance hook, where applications already checked the clerk)."""
    _require_issuer(actor, department)
    if not type.active:
        raise ValidationError(INVALID, _("证照类型“%(t)s”已停用。") % {"t": type.name})
    if not type.issuing_departments.filter(pk=department.pk).exists():
        raise PermissionDenied(
            FORBIDDEN,
            _("“%(d)s”不是“%(t)s”的颁发机构。") % {"d": department.name, "t": type.name},
        )
    uscc = issuer_uscc or department.uscc
    if not uscc:
        raise ValidationError(
            INVALID, _("颁发机构“%(d)s”缺少统一社会信用代码。") % {"d": department.name}
        )
    uscc = uscc_validate(uscc)
    name = (holder_name or "").strip()
    if not name or len(name) > 200:
        raise ValidationError(INVALID, _("请填写持证主体名称（不超过200字）。"))
    number = _holder_number(type, holder_number)
    clean_face = _face_check(type, face)
    start = valid_from or timezone.localdate()
    serial = _next_serial(type, uscc)
    certificate = Certificate(
        identifier=ecert_id_build(type_code=type.code, issuer_uscc=uscc, serial=serial, version=1),
        type=type,
        serial=serial,
        version=1,
        holder_name=name,
        holder_id_number=number,
        holder_id_index=holder_index(number),
        holder_type=type.holder_type,
        holder_salt=secrets.token_hex(16),
        holder_user=holder_user,
        issuing_department=department,
        issuer_uscc=uscc,
        issued_at=timezone.now(),
        valid_from=start,
        valid_until=validity_of(type, start),
        trust_grade=type.trust_grade,
        face_data=clean_face,
        source_application=application,
    )
    _sign(certificate)
    certificate.save()
    certificate.ledger_entry_ref = _ledger("certificate.issue", certificate)
    certificate.save(update_fields=["ledger_entry_ref"])
    audit_record(
        actor=actor,
        action="certificates.issue",
        obj=certificate,
        after=snapshot(certificate),
    )
    return certificate


def _lock(certificate: Certificate) -> Certificate:
    return (
        Certificate.objects.select_for_update()
        .select_related("type", "issuing_department")
        .get(pk=certificate.pk)
    )


@transaction.atomic
def certificate_new_version(
    *,
    actor: User | str,
    certificate: Certificate,
    face: dict[str, Any],
    holder_name: str = "",
    reason: str = "",
) -> Certificate:
    """变更: the valid certificate is superseded by a new version (same serial, version + 1,
    validity restarting today), with the ledger entry ``certificate.version``."""
    old = _lock(certificate)
    _require_issuer(actor, old.issuing_department)
    if old.status != Certificate.Status.VALID:
        raise Conflict(
            STATE,
            _("证照状态为“%(s)s”，只有有效的证照可以变更。")
            % {"s": Certificate.Status(old.status).label},
        )
    if old.version >= 999:
        raise Conflict(STATE, _("证照版本号已达999，不能再变更。"))
    clean_face = _face_check(old.type, face)
    start = timezone.localdate()
    new = Certificate(
        identifier=ecert_id_build(
            type_code=old.type.code,
            issuer_uscc=old.issuer_uscc,
            serial=old.serial,
            version=old.version + 1,
        ),
        type=old.type,
        serial=old.serial,
        version=old.version + 1,
        holder_name=(holder_name or "").strip() or old.holder_name,
        holder_id_number=old.holder_id_number,
        holder_id_index=old.holder_id_index,
        holder_type=old.holder_type,
        holder_salt=secrets.token_hex(16),
        holder_user=old.holder_user,
        issuing_department=old.issuing_department,
        issuer_uscc=old.issuer_uscc,
        issued_at=timezone.now(),
        valid_from=start,
        valid_until=validity_of(old.type, start),
        trust_grade=old.trust_grade,
        face_data=clean_face,
        source_application=old.source_application,
    )
    _sign(new)
    new.save()
    new.ledger_entry_ref = _ledger("certificate.version", new)
    new.save(update_fields=["ledger_entry_ref"])
    before = snapshot(old)
    old.status = Certificate.Status.SUPERSEDED
    old.superseded_by = new
    old.save(update_fields=["status", "superseded_by", "updated_at"])
    audit_record(
        actor=actor,
        action="certificates.version",
        obj=old,
        reason=(reason or "").strip()[:500],
        before=before,
        after={**snapshot(old), "new": new.identifier},
    )
    return new


@transaction.atomic
def certificate_revoke(*, actor: User | str, certificate: Certificate, reason: str) -> Certificate:
    """注销: the valid (or expired) certificate becomes revoked, with the ledger entry
    ``certificate.revoke``. A reason is required."""
    text = (reason or "").strip()
    if not text:
        raise ValidationError(INVALID, _("请填写注销原因。"), field="reason")
    if len(text) > 500:
        raise ValidationError(INVALID, _("注销原因不超过500字。"), field="reason")
    locked = _lock(certificate)
    _require_issuer(actor, locked.issuing_department)
    if locked.status not in (Certificate.Status.VALID, Certificate.Status.EXPIRED):
        raise Conflict(
            STATE,
            _("证照状态为“%(s)s”，不能注销。") % {"s": Certificate.Status(locked.status).label},
        )
    before = snapshot(locked)
    locked.status = Certificate.Status.REVOKED
    locked.revoked_reason = text
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["status", "revoked_reason", "revoked_at", "updated_at"])
    _ledger("certificate.revoke", locked)
    audit_record(
        actor=actor,
        action="certificates.revoke",
        obj=locked,
        reason=text,
        before=before,
        after=snapshot(locked),
    )
    certificate.refresh_from_db()
    return locked


def certificates_expire(today: dt.date | None = None) -> int:
    """The daily job: valid certificates whose last day has passed become expired. Each row in
    its own transaction (a rerun repeats nothing). Returns how many expired."""
    day = today or timezone.localdate()
    ids = list(
        Certificate.objects.filter(
            status=Certificate.Status.VALID, valid_until__lt=day
        ).values_list("pk", flat=True)
    )
    done = 0
    for pk in ids:
        with transaction.atomic():
            row = (
                Certificate.objects.select_for_update()
                .select_related("type")
                .filter(pk=pk, status=Certificate.Status.VALID, valid_until__lt=day)
                .first()
            )
            if row is None:
                continue
            before = snapshot(row)
            row.status = Certificate.Status.EXPIRED
            row.save(update_fields=["status", "updated_at"])
            audit_record(
                actor=SYSTEM_ACTOR,
                action="certificates.expire",
                obj=row,
                before=before,
                after=snapshot(row),
            )
            done += 1
    return done


@transaction.atomic
def certificate_use(
    *,
    actor: User | str,
    certificate: Certificate,
    department: Department,
    reason: str,
    case_number: str,
    application: Any = None,
) -> CertificateUse:
    """用证: ``department`` uses the certificate in case ``case_number`` for ``reason`` (申请事由).
    Only a currently valid certificate can be used; the holder sees the record."""
    text = (reason or "").strip()
    case = (case_number or "").strip()
    problems = []
    if not text:
        problems.append(("reason", gettext("请填写申请事由。")))
    elif len(text) > REASON_MAX:
        problems.append(("reason", gettext("申请事由不超过200字。")))
    if not case:
        problems.append(("case_number", gettext("请填写办件编号。")))
    elif len(case) > CASE_NUMBER_MAX:
        problems.append(("case_number", gettext("办件编号不超过64位。")))
    if problems:
        raise ValidationError(
            INVALID, "；".join(m for _f, m in problems), fields=[f for f, _m in problems]
        )
    if actor != SYSTEM_ACTOR and not user_may_use(actor, department):
        raise PermissionDenied(FORBIDDEN, _("您不能以“%(d)s”的名义用证。") % {"d": department.name})
    current = Certificate.objects.filter(pk=certificate.pk).values_list("status", flat=True)
    status = current.first()
    if status != Certificate.Status.VALID:
        raise Conflict(
            STATE,
            _("该证照当前状态为“%(s)s”，不能用于办事。")
            % {"s": Certificate.Status(status).label if status else "?"},
        )
    use = CertificateUse.objects.create(
        certificate=certificate,
        department=department,
        user=actor if isinstance(actor, User) else None,
        reason=text,
        case_number=case,
        application=application,
    )
    audit_record(
        actor=actor,
        action="certificates.use",
        obj=certificate,
        reason=text,
        after={"department": department.pk, "case_number": case},
    )
    return use


def holder_of_user(user: User) -> tuple[str, str] | None:
    """(name, ID number) of a real-name person, or None."""
    if user.real_name and user.id_number:
        return user.real_name, user.id_number
    return None
