"""Reads of the certificates app.

API for pages (certpages and the API build on these names; they stay stable):

* ``certificates_of_holder(user) -> QuerySet[Certificate]``: the user's own certificates (as a
  person by ID number, and those of the enterprises they act for), newest first.
* ``certificate_by_identifier(identifier) -> Certificate | None``: any status; no access check.
* ``uses_of_certificate(certificate) -> QuerySet[CertificateUse]``: who used it, newest first.
* ``verification_view_data(identifier) -> VerificationView | None``: everything the public
  verification page shows (status read now, masked holder, issuer, type, dates, watermark,
  ledger inclusion and witnesses when the ledger has them). Never the ID number.
* ``credential_json(certificate) -> str``: the signed credential, pretty-printed for download.
* ``certificate_types_for_department(department) -> QuerySet[CertificateType]``.
* access (yiwang.certificates.access): ``access_certificate_view(user, identifier)`` (holder or
  staff of the issuing/using department, else NotFound), ``access_certificate_revoke(user,
  identifier)`` (window clerk or approver of the issuing department),
  ``access_certificate_use(user, identifier) -> (Certificate, list[Department])``.
* services: ``certificate_use(actor, certificate, department, reason, case_number)``,
  ``certificate_revoke(actor, certificate, reason)``; ``Certificate.watermark()`` for copies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Q, QuerySet

from yiwang.accounts.models import Department, Enterprise, User
from yiwang.certificates.models import (
    Certificate,
    CertificateType,
    CertificateUse,
    HolderType,
)
from yiwang.core.crypto import blind_index
from yiwang.core.masking import mask_id_number, mask_name, mask_uscc
from yiwang.ledger.bundle import bundle_verify
from yiwang.ledger.models import Entry
from yiwang.ledger.selectors import entry_bundle, log_policy_text

HOLDER_INDEX_PURPOSE = "certificates.holder"


def holder_index(number: str) -> str:
    """Blind index of a holder's ID number or USCC (one purpose: the two never collide, an ID
    number has 18 digits or X and a USCC letters)."""
    return blind_index(number, purpose=HOLDER_INDEX_PURPOSE)


def holder_indexes_of(user: Any) -> list[str]:
    """The holder indexes a signed-in person may see: their own ID number and the USCCs of the
    enterprises they are a member of."""
    if not getattr(user, "is_authenticated", False):
        return []
    found: list[str] = []
    if user.id_number:
        found.append(holder_index(user.id_number))
    found.extend(
        holder_index(uscc)
        for uscc in Enterprise.objects.filter(members=user).values_list("uscc", flat=True)
    )
    return found


def certificates_of_holder(user: Any) -> QuerySet[Certificate]:
    indexes = holder_indexes_of(user)
    where = Q(holder_id_index__in=indexes)
    if getattr(user, "is_authenticated", False):
        where |= Q(holder_user=user)
    else:
        return Certificate.objects.none()
    return (
        Certificate.objects.filter(where)
        .select_related("type", "issuing_department")
        .order_by("-issued_at", "-id")
    )


def certificate_by_identifier(identifier: str) -> Certificate | None:
    return (
        Certificate.objects.filter(identifier=(identifier or "").strip().upper())
        .select_related("type", "issuing_department", "superseded_by")
        .first()
    )


def uses_of_certificate(certificate: Certificate) -> QuerySet[CertificateUse]:
    return (
        CertificateUse.objects.filter(certificate=certificate)
        .select_related("department", "application")
        .order_by("-at", "-id")
    )


def valid_certificate_of(
    *, type_code: str, holder_number: str, on: date | None = None
) -> Certificate | None:
    """The holder's newest valid certificate of the type (status read now; a certificate whose
    validity ended but the daily job did not mark yet does not count)."""
    from django.utils import timezone

    today = on or timezone.localdate()
    return (
        Certificate.objects.filter(
            type__code=type_code,
            holder_id_index=holder_index(holder_number),
            status=Certificate.Status.VALID,
            valid_from__lte=today,
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .select_related("type", "issuing_department")
        .order_by("-issued_at", "-id")
        .first()
    )


def certificate_types_for_department(department: Department) -> QuerySet[CertificateType]:
    return CertificateType.objects.filter(issuing_departments=department, active=True)


def credential_json(certificate: Certificate) -> str:
    return json.dumps(certificate.credential, ensure_ascii=False, indent=2)


def masked_holder(certificate: Certificate) -> tuple[str, str]:
    """(masked name, masked ID number / USCC). Enterprise names are public (营业执照 are
    published), so they are shown whole."""
    if certificate.holder_type == HolderType.USCC:
        return certificate.holder_name, mask_uscc(certificate.holder_id_number)
    return mask_name(certificate.holder_name), mask_id_number(certificate.holder_id_number)


@dataclass(frozen=True)
class LedgerInfo:
    entry_id: int
    index: int | None  # None until the log integrated the entry
    checkpoint_size: int | None = None
    origin: str = ""
    witnesses: tuple[str, ...] = ()
    quorum_met: bool | None = None
    bundle: str | None = None


@dataclass(frozen=True)
class VerificationView:
    identifier: str
    status: str
    status_label: str
    type_code: str
    type_name: str
    definer_name: str
    holder_name_masked: str
    holder_id_masked: str
    holder_type: str
    issuer_name: str
    issuer_uscc: str
    issued_at: datetime
    valid_from: date
    valid_until: date | None
    trust_grade: str
    version: int
    revoked_reason: str = ""
    revoked_at: datetime | None = None
    superseded_by: str = ""
    credential_sha256: str = ""
    ledger: LedgerInfo | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return self.status == Certificate.Status.VALID


def ledger_info(certificate: Certificate) -> LedgerInfo | None:
    """What the ledger knows of the entry that issued this version (the bundle commits to the
    credential), or
    None when there is none. The bundle is verified against the log's own policy, so the page
    shows the witnesses that cosigned and whether the quorum is met."""
    if certificate.ledger_entry_ref is None:
        return None
    entry = Entry.objects.filter(pk=certificate.ledger_entry_ref).first()
    if entry is None:
        return LedgerInfo(entry_id=certificate.ledger_entry_ref, index=None)
    bundle_text = entry_bundle(entry)
    if not bundle_text:
        return LedgerInfo(entry_id=entry.pk, index=entry.index)
    result = bundle_verify(bundle_text, log_policy_text(), bytes(entry.leaf_input))
    return LedgerInfo(
        entry_id=entry.pk,
        index=entry.index,
        checkpoint_size=result.size,
        origin=result.origin or "",
        witnesses=tuple(result.cosigners),
        quorum_met=result.quorum_met if result.ok else False,
        bundle=bundle_text,
    )


def verification_view_data(identifier: str) -> VerificationView | None:
    certificate = certificate_by_identifier(identifier)
    if certificate is None:
        return None
    name, number = masked_holder(certificate)
    return VerificationView(
        identifier=certificate.identifier,
        status=certificate.status,
        status_label=str(Certificate.Status(certificate.status).label),
        type_code=certificate.type.code,
        type_name=certificate.type.name,
        definer_name=certificate.type.definer_name,
        holder_name_masked=name,
        holder_id_masked=number,
        holder_type=certificate.holder_type,
        issuer_name=certificate.issuing_department.name,
        issuer_uscc=certificate.issuer_uscc,
        issued_at=certificate.issued_at,
        valid_from=certificate.valid_from,
        valid_until=certificate.valid_until,
        trust_grade=certificate.trust_grade,
        version=certificate.version,
        revoked_reason=certificate.revoked_reason,
        revoked_at=certificate.revoked_at,
        superseded_by=certificate.superseded_by.identifier if certificate.superseded_by else "",
        credential_sha256=certificate.credential_sha256,
        ledger=ledger_info(certificate),
    )


def user_is_holder(user: User, certificate: Certificate) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if certificate.holder_user_id is not None and certificate.holder_user_id == user.pk:
        return True
    return certificate.holder_id_index in holder_indexes_of(user)
