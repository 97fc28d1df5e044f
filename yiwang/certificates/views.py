"""Certificate pages for holders and the public (/certificates/):

* ``/certificates/`` 我的证照: the signed-in person's certificates (and those of the
  enterprises they act for) with the status read today;
* ``/certificates/<id>/`` one certificate: the face (照面), the watermark, the trust grade,
  a QR code to the public verification page, the ledger record, who used it (用证记录), and
  the copies: ``print/`` (a page with print CSS), ``pdf/``, ``credential/`` (the signed
  W3C credential) and ``proof/`` (the offline tlog-proof bundle, once a checkpoint covers it);
* ``/certificates/verify/`` and ``/certificates/verify/<identifier>/`` (public, the QR code's
  target): the verdict in big words, the masked holder, issuer, dates, and the ledger record
  verified as an offline verifier would, with the witnesses' quorum.

Holders reach their certificates through ``selectors_pages.access_own_certificate`` (anyone
else gets the same 404 as for a certificate that does not exist).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote
from uuid import UUID

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from yiwang.accounts.access import citizen_required
from yiwang.certificates import selectors
from yiwang.certificates.models import Certificate, HolderType, TrustGrade
from yiwang.certificates.pdf import CertificateCopy, certificate_pdf_render
from yiwang.certificates.qr import qr_svg
from yiwang.certificates.selectors_pages import (
    HOLDER_STATUS_WORDS,
    VERDICT_WORDS,
    access_own_certificate,
    face_rows,
    status_now,
    verify_rate_allows,
)
from yiwang.core.access import client_address, public
from yiwang.core.errors import ValidationError
from yiwang.core.identifiers import ecert_id_parse

VERIFY_INPUT_MAX = 200
# The verdict is read now, every time: no cache may answer for the page after a revocation.
NO_STORE = "no-store"


def verify_url(request: HttpRequest, identifier: str) -> str:
    """The absolute address the QR code opens: the configured site address when there is one
    (a QR code printed behind a proxy must not carry an internal host name)."""
    path = reverse("certificates:verify", kwargs={"identifier": identifier})
    site = str(getattr(settings, "YIWANG_SITE_URL", "") or "").rstrip("/")
    return site + path if site else request.build_absolute_uri(path)


def _holder_type_label(certificate: Certificate) -> str:
    return str(HolderType(certificate.holder_type).label)


def _grade_label(grade: str) -> str:
    try:
        return str(TrustGrade(grade).label)
    except ValueError:
        return grade


def _card(request: HttpRequest, certificate: Certificate) -> dict[str, Any]:
    """What the certificate page and its printable copy show."""
    status = status_now(certificate)
    name, number = selectors.masked_holder(certificate)
    url = verify_url(request, certificate.identifier)
    return {
        "certificate": certificate,
        "status": status,
        "status_word": HOLDER_STATUS_WORDS.get(status, status),
        "face": face_rows(certificate),
        "watermark": certificate.watermark(),
        "grade": _grade_label(certificate.trust_grade),
        # The holder's own page shows their name; the number stays masked (it gets printed).
        "holder_name": certificate.holder_name,
        "holder_masked_name": name,
        "holder_number": number,
        "holder_type": _holder_type_label(certificate),
        "verify_url": url,
        "qr": qr_svg(url, label=str(_("证照核验二维码"))),
    }


# --- the holder --------------------------------------------------------------------------------


@citizen_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    rows = []
    for certificate in selectors.certificates_of_holder(request.user):
        status = status_now(certificate, today=today)
        rows.append(
            {
                "certificate": certificate,
                "status": status,
                "status_word": HOLDER_STATUS_WORDS.get(status, status),
            }
        )
    return render(request, "certificates/mine.html", {"rows": rows})


@citizen_required
@require_GET
def detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    certificate = access_own_certificate(request.user, public_id)
    ledger = selectors.ledger_info(certificate)
    context = _card(request, certificate)
    context.update(
        {
            "ledger": ledger,
            "proof_ready": bool(ledger.bundle),
            "has_credential": bool(certificate.credential),
            "uses": list(selectors.uses_of_certificate(certificate)),
        }
    )
    return render(request, "certificates/detail.html", context)


@citizen_required
@require_GET
def print_copy(request: HttpRequest, public_id: UUID) -> HttpResponse:
    certificate = access_own_certificate(request.user, public_id)
    return render(request, "certificates/print.html", _card(request, certificate))


def _attachment(response: HttpResponse, filename: str) -> HttpResponse:
    # RFC 6266: the identifier is ASCII, but quote it anyway for the header's sake.
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    response["Cache-Control"] = "private, no-store"
    return response


@citizen_required
@require_GET
def pdf(request: HttpRequest, public_id: UUID) -> HttpResponse:
    certificate = access_own_certificate(request.user, public_id)
    card = _card(request, certificate)
    copy = CertificateCopy(
        type_name=certificate.type.name,
        identifier=certificate.identifier,
        holder_name=certificate.holder_name,
        holder_code=card["holder_number"],
        holder_code_type=card["holder_type"],
        issuer_name=certificate.issuing_department.name,
        issued_on=timezone.localtime(certificate.issued_at).date(),
        valid_from=certificate.valid_from,
        valid_until=certificate.valid_until,
        trust_grade=card["grade"],
        status=str(card["status_word"]),
        valid=card["status"] == Certificate.Status.VALID,
        face=tuple(card["face"]),
        watermark=card["watermark"],
        verify_url=card["verify_url"],
    )
    response = HttpResponse(certificate_pdf_render(copy=copy), content_type="application/pdf")
    return _attachment(response, f"{certificate.identifier}.pdf")


@citizen_required
@require_GET
def credential(request: HttpRequest, public_id: UUID) -> HttpResponse:
    certificate = access_own_certificate(request.user, public_id)
    if not certificate.credential:
        return render(
            request,
            "certificates/unavailable.html",
            {"certificate": certificate, "message": _("该证照尚未生成可验证凭证，请稍后再试。")},
            status=404,
        )
    response = HttpResponse(
        selectors.credential_json(certificate), content_type="application/json; charset=utf-8"
    )
    return _attachment(response, f"{certificate.identifier}.vc.json")


@citizen_required
@require_GET
def proof(request: HttpRequest, public_id: UUID) -> HttpResponse:
    certificate = access_own_certificate(request.user, public_id)
    ledger = selectors.ledger_info(certificate)
    if not ledger.bundle:
        return render(
            request,
            "certificates/unavailable.html",
            {
                "certificate": certificate,
                "message": _("尚未写入账本检查点，请稍后再下载离线证明。"),
            },
            status=404,
        )
    response = HttpResponse(ledger.bundle, content_type="text/plain; charset=utf-8")
    return _attachment(response, f"{certificate.identifier}.tlog-proof")


# --- the public verification ---------------------------------------------------------------


def _too_many(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "certificates/verify.html",
        {"problem": _("查询太频繁，请稍后再试。如需帮助请拨打 12345。"), "typed": ""},
        status=429,
    )


@public
@require_GET
def verify_form(request: HttpRequest) -> HttpResponse:
    typed = (request.GET.get("id") or "")[:VERIFY_INPUT_MAX]
    if not typed.strip():
        return render(request, "certificates/verify.html", {"typed": "", "problem": ""})
    try:
        parsed = ecert_id_parse(typed)
    except ValidationError as exc:
        return render(
            request,
            "certificates/verify.html",
            {"typed": typed, "problem": exc.message},
            status=422,
        )
    return redirect("certificates:verify", identifier=str(parsed))


@public
@require_GET
def verify(request: HttpRequest, identifier: str) -> HttpResponse:
    if not verify_rate_allows(client_address(request)):
        return _too_many(request)
    typed = identifier[:VERIFY_INPUT_MAX]
    try:
        parsed = str(ecert_id_parse(typed))
    except ValidationError as exc:
        return render(
            request,
            "certificates/verify.html",
            {"typed": typed, "problem": exc.message},
            status=404,
        )
    if parsed != identifier:
        # Full-width or lower-case input: one address per certificate.
        return redirect("certificates:verify", identifier=parsed)
    view = selectors.verification_view_data(parsed)
    if view is None:
        response = render(
            request,
            "certificates/verify_result.html",
            {"identifier": parsed, "status": "missing", "verdict": VERDICT_WORDS["missing"]},
            status=404,
        )
    else:
        status = view.status
        if status == Certificate.Status.VALID and (
            view.valid_until is not None and view.valid_until < timezone.localdate()
        ):
            status = str(Certificate.Status.EXPIRED)
        response = render(
            request,
            "certificates/verify_result.html",
            {
                "identifier": parsed,
                "view": view,
                "status": status,
                "verdict": VERDICT_WORDS.get(status, status),
                "grade": _grade_label(view.trust_grade),
                "holder_type": str(HolderType(view.holder_type).label),
                "ledger": view.ledger,
            },
        )
    response["Cache-Control"] = NO_STORE
    return response
