"""E-certificates (电子证照).

* ``GET /certificates/mine``: the signed-in person's certificates (and their enterprises').
* ``GET /certificates/{identifier}/credential``: the signed W3C credential with the face data,
  for the holder and for staff of the issuing department or of a department that used it;
  anyone else gets 404. The offline proof bundle (tlog-proof) comes with it once the log has a
  checkpoint covering the entry.
* ``GET /certificates/{identifier}/uses``: who used the certificate (holder and those staff).
* ``GET /certificates/verify/{identifier}``: public. Status read now, masked holder, issuer,
  type, dates and the log inclusion: what the QR code's page shows, nothing personal.
* ``POST /certificates/{identifier}/uses``: staff record a use (申请事由 + case number).
* ``POST /certificates/{identifier}/revoke``: staff of the issuing department, with a reason.
"""

# No ``from __future__ import annotations``: ninja builds schemas from the signatures.

from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema, Status

from yiwang.api.auth import request_user
from yiwang.certificates import services
from yiwang.certificates.access import (
    access_certificate_revoke,
    access_certificate_use,
    access_certificate_view,
)
from yiwang.certificates.models import Certificate, CertificateUse
from yiwang.certificates.selectors import (
    certificates_of_holder,
    ledger_info,
    uses_of_certificate,
    verification_view_data,
)
from yiwang.core.errors import NotFound, PermissionDenied

router = Router(tags=["certificates"])


class CertificateOut(Schema):
    identifier: str
    type_code: str = Field(alias="type.code")
    type_name: str = Field(alias="type.name")
    version: int
    status: str
    holder_name: str
    issuer: str = Field(alias="issuing_department.name")
    issuer_uscc: str
    issued_at: datetime
    valid_from: date
    valid_until: date | None = Field(description="null = long-term (长期有效)")
    trust_grade: str


class CredentialOut(Schema):
    identifier: str
    status: str = Field(description="current status, read now: valid/superseded/revoked/expired")
    credential_sha256: str
    credential: dict[str, Any]
    bundle: str | None = Field(description="tlog-proof bundle; null until a checkpoint covers it")


class LedgerOut(Schema):
    state: str = Field(
        description="none, pending (not yet integrated), integrated (no checkpoint covers it "
        "yet), checkpointed (bundle verified against the log's policy) or unavailable"
    )
    entry_id: int | None
    index: int | None
    checkpoint_size: int | None
    origin: str
    witnesses: list[str] = Field(description="the witnesses whose cosignatures verified")
    witnesses_required: int
    quorum_met: bool


class VerificationOut(Schema):
    identifier: str
    status: str
    status_label: str
    valid: bool
    type_code: str
    type_name: str
    holder_name: str = Field(description="masked")
    holder_id: str = Field(description="masked ID number or USCC")
    holder_type: str = Field(description="111 ID number, 001 USCC")
    issuer: str
    issuer_uscc: str
    issued_at: datetime
    valid_from: date
    valid_until: date | None
    trust_grade: str
    version: int
    revoked_at: datetime | None
    superseded_by: str
    credential_sha256: str
    ledger: LedgerOut | None


class UseIn(Schema):
    reason: str = Field(description="申请事由", max_length=200)
    case_number: str = Field(description="办件编号", max_length=64)
    department: str = Field(
        "", description="code of the using department; default: your department"
    )


class UseOut(Schema):
    department: str = Field(alias="department.name")
    reason: str
    case_number: str
    at: datetime


class RevokeIn(Schema):
    reason: str = Field(max_length=500)


class StatusOut(Schema):
    identifier: str
    status: str


@router.get("/certificates/mine", response=list[CertificateOut])
def certificates_mine(request: HttpRequest) -> QuerySet[Certificate]:
    """Your certificates, newest first (every status: a revoked one says so)."""
    return certificates_of_holder(request_user(request))


@router.get("/certificates/verify/{identifier}", response=VerificationOut, auth=None)
def certificate_verify(request: HttpRequest, identifier: str) -> dict[str, Any]:
    """Public verification: the status read now, the masked holder, the issuer and the log."""
    view = verification_view_data(identifier)
    if view is None:
        raise NotFound("core.not_found", _("找不到该电子证照。"))
    ledger = view.ledger
    return {
        "identifier": view.identifier,
        "status": view.status,
        "status_label": view.status_label,
        "valid": view.is_valid,
        "type_code": view.type_code,
        "type_name": view.type_name,
        "holder_name": view.holder_name_masked,
        "holder_id": view.holder_id_masked,
        "holder_type": view.holder_type,
        "issuer": view.issuer_name,
        "issuer_uscc": view.issuer_uscc,
        "issued_at": view.issued_at,
        "valid_from": view.valid_from,
        "valid_until": view.valid_until,
        "trust_grade": view.trust_grade,
        "version": view.version,
        "revoked_at": view.revoked_at,
        "superseded_by": view.superseded_by,
        "credential_sha256": view.credential_sha256,
        "ledger": None
        if ledger.state == "none"
        else {
            "state": ledger.state,
            "entry_id": ledger.entry_id,
            "index": ledger.index,
            "checkpoint_size": ledger.checkpoint_size,
            "origin": ledger.origin,
            "witnesses": list(ledger.cosigners),
            "witnesses_required": ledger.required,
            "quorum_met": ledger.quorum_met and ledger.proof_ok,
        },
    }


@router.get("/certificates/{identifier}/credential", response=CredentialOut)
def certificate_credential(request: HttpRequest, identifier: str) -> dict[str, Any]:
    """The signed credential (W3C VC 2.0, eddsa-jcs-2022 + SM2 proofs) and its proof bundle.
    Holder and staff of the issuing or a using department only."""
    certificate = access_certificate_view(request_user(request), identifier)
    info = ledger_info(certificate)
    return {
        "identifier": certificate.identifier,
        "status": certificate.status,
        "credential_sha256": certificate.credential_sha256,
        "credential": certificate.credential,
        "bundle": info.bundle,
    }


@router.get("/certificates/{identifier}/uses", response=list[UseOut])
def certificate_uses(request: HttpRequest, identifier: str) -> QuerySet[CertificateUse]:
    """Who used the certificate, when, in which case and why (newest first)."""
    certificate = access_certificate_view(request_user(request), identifier)
    return uses_of_certificate(certificate)


@router.post("/certificates/{identifier}/uses", response={201: UseOut})
def certificate_use_record(
    request: HttpRequest, identifier: str, payload: UseIn
) -> Status[CertificateUse]:
    """Record that your department uses the certificate in a case (用证). A revoked,
    superseded or expired certificate is a 409."""
    user = request_user(request)
    certificate, departments = access_certificate_use(user, identifier)
    by_code = {d.code: d for d in departments}
    if payload.department:
        department = by_code.get(payload.department)
        if department is None:
            raise PermissionDenied(
                "core.forbidden",
                _("您不能以“%(d)s”的名义用证。") % {"d": payload.department},
            )
    else:
        own = [d for d in departments if d.pk == user.department_id]
        department = (own or departments)[0]
    use = services.certificate_use(
        actor=user,
        certificate=certificate,
        department=department,
        reason=payload.reason,
        case_number=payload.case_number,
    )
    return Status(201, use)


@router.post("/certificates/{identifier}/revoke", response=StatusOut)
def certificate_revoke(request: HttpRequest, identifier: str, payload: RevokeIn) -> Certificate:
    """注销 (issuing department staff). Visible on every verification path at once."""
    user = request_user(request)
    certificate = access_certificate_revoke(user, identifier)
    return services.certificate_revoke(actor=user, certificate=certificate, reason=payload.reason)
