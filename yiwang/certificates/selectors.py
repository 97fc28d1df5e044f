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
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from yiwang.accounts.models import Department, Enterprise, User
from yiwang.certificates.models import (
    Certificate,
    CertificateType,
    CertificateUse,
    HolderType,
)
from yiwang.core.crypto import blind_index
from yiwang.core.masking import mask_id_number, mask_name, mask_uscc
from yiwang.ledger.bundle import REASONS, bundle_verify
from yiwang.ledger.models import Entry
from yiwang.ledger.policy import policy_parse
from yiwang.ledger.selectors import entry_bundle, log_policy_text

logger = logging.getLogger(__name__)

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
    ledger: LedgerSummary = field(default_factory=lambda: LedgerSummary(state="none"))
    notes: list[str] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return self.status == Certificate.Status.VALID


@dataclass(frozen=True)
class LedgerSummary:
    """The "账本记录" block: ``state`` is one of none (no entry), pending (not yet integrated),
    integrated (has an index, no checkpoint covers it yet), checkpointed, unavailable.
    ``bundle`` is the entry's tlog-proof once a checkpoint covers it."""

    state: str
    entry_id: int | None = None
    index: int | None = None
    checkpoint_size: int | None = None
    origin: str = ""
    witnesses_total: int = 0
    cosigned: int = 0
    required: int = 0
    cosigners: tuple[str, ...] = ()
    quorum_met: bool = False
    proof_ok: bool = False
    reason: str = ""
    revoke_index: int | None = None
    bundle: str | None = None


def _required(policy: Any) -> int:
    """How many witnesses the policy's quorum needs: a group's threshold, 1 for a single
    witness, 0 for "quorum none"."""
    name = getattr(policy, "quorum", None)
    if name is None:
        return 0
    group = policy.groups.get(name)
    return int(group.threshold) if group is not None else 1


def ledger_info(certificate: Certificate) -> LedgerSummary:
    """The certificate's issue (or new-version) entry, with its bundle verified against the
    log's own policy the way an offline verifier would (leaf input included), and the
    cosignatures counted against the quorum; plus the index of a revocation entry."""
    entry_id, identifier = certificate.ledger_entry_ref, certificate.identifier
    if entry_id is None:
        return LedgerSummary(state="none")
    try:
        entry = Entry.objects.filter(pk=entry_id).first()
        if entry is None:  # the certificate names an entry the log no longer has
            logger.error("ledger entry %s of %s is missing", entry_id, identifier)
            return LedgerSummary(state="unavailable", entry_id=entry_id)
        revoke_index = (
            Entry.objects.filter(subject=identifier, kind="certificate.revoke")
            .values_list("index", flat=True)
            .first()
        )
        if entry.index is None:
            return LedgerSummary(state="pending", entry_id=entry_id, revoke_index=revoke_index)
        bundle = entry_bundle(entry)
        if not bundle:
            return LedgerSummary(
                state="integrated", entry_id=entry_id, index=entry.index, revoke_index=revoke_index
            )
        policy_text = log_policy_text()
        policy = policy_parse(policy_text)
        result = bundle_verify(bundle, policy_text, bytes(entry.leaf_input))
    except Exception:  # the page must render whatever state the ledger is in
        logger.exception("ledger summary failed for entry %s", entry_id)
        return LedgerSummary(state="unavailable")
    return LedgerSummary(
        state="checkpointed",
        entry_id=entry_id,
        index=result.index if result.index is not None else entry.index,
        checkpoint_size=result.size,
        origin=result.origin or "",
        witnesses_total=len(policy.witnesses),
        cosigned=len(result.cosigners),
        cosigners=tuple(result.cosigners),
        required=_required(policy),
        quorum_met=bool(result.quorum_met),
        proof_ok=bool(result.ok),
        reason=str(REASONS.get(result.reason, result.reason)),
        revoke_index=revoke_index,
        bundle=bundle,
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
