"""Reads for the certificate pages (views.py, views_staff.py) on top of ``selectors``: the
status a person reads now, the face as label/value rows, the holder's own certificate by its
public id, the department's issued certificates, the ledger summary of the verification page
and the light rate limit of the public verification.

The ledger part degrades: a certificate with no entry, an entry not yet integrated, or one not
yet covered by a checkpoint each give a summary that says so, and a ledger that fails to answer
gives "unavailable" rather than a broken page.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date
from typing import Any

from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from yiwang.accounts.selectors import user_is_admin
from yiwang.certificates.access import issuer_department_ids
from yiwang.certificates.models import Certificate
from yiwang.certificates.selectors import certificates_of_holder
from yiwang.core.errors import NotFound

logger = logging.getLogger(__name__)

Status = Certificate.Status

# The status in the holder's words (the list and the certificate page).
HOLDER_STATUS_WORDS: dict[str, Promise] = {
    Status.VALID: _("有效"),
    Status.SUPERSEDED: _("已更新"),
    Status.REVOKED: _("已注销"),
    Status.EXPIRED: _("已过期"),
}

# The verdict of the public verification page.
VERDICT_WORDS: dict[str, Promise] = {
    Status.VALID: _("有效"),
    Status.SUPERSEDED: _("已被新版本替代"),
    Status.REVOKED: _("已注销"),
    Status.EXPIRED: _("已过期"),
    "missing": _("未找到"),
}

VERIFY_RATE_ALLOWED = 60  # lookups per client address per window: a person, not a crawler
VERIFY_RATE_WINDOW = 60  # seconds


def status_now(certificate: Certificate, *, today: date | None = None) -> str:
    """The status as of today: a certificate past its end date reads as expired even before
    the daily job marks it."""
    day = today or timezone.localdate()
    if (
        certificate.status == Status.VALID
        and certificate.valid_until is not None
        and certificate.valid_until < day
    ):
        return str(Status.EXPIRED)
    return str(certificate.status)


def face_rows(certificate: Certificate) -> list[tuple[str, str]]:
    """The face (照面) in the type's order; a value the type no longer lists is still shown,
    after the listed ones, so that nothing issued is hidden."""
    data = certificate.face_data if isinstance(certificate.face_data, dict) else {}
    rows: list[tuple[str, str]] = []
    listed: set[str] = set()
    for field in certificate.type.face_fields or []:
        key = str(field.get("key", ""))
        listed.add(key)
        if key in data and data[key] not in (None, ""):
            rows.append((str(field.get("label") or key), str(data[key])))
    rows.extend((key, str(value)) for key, value in data.items() if key not in listed)
    return rows


def _not_found() -> NotFound:
    return NotFound("core.not_found", _("找不到该证照，或您无权查看。"))


def _as_uuid(public_id: uuid.UUID | str) -> uuid.UUID:
    if isinstance(public_id, uuid.UUID):
        return public_id
    try:
        return uuid.UUID(str(public_id))
    except ValueError:
        raise _not_found() from None


def access_own_certificate(actor: Any, public_id: uuid.UUID | str) -> Certificate:
    """The certificate, if ``actor`` holds it (in person or for an enterprise they act for);
    anyone else learns nothing (404)."""
    found = (
        certificates_of_holder(actor)
        .select_related("superseded_by")
        .filter(public_id=_as_uuid(public_id))
        .first()
    )
    if found is None:
        raise _not_found()
    return found


def identifier_of(public_id: uuid.UUID | str) -> str:
    """The identifier behind a staff page's public id (access is decided on the identifier by
    ``yiwang.certificates.access``); unknown ids are the same 404 as forbidden ones."""
    found = (
        Certificate.objects.filter(public_id=_as_uuid(public_id))
        .values_list("identifier", flat=True)
        .first()
    )
    if found is None:
        raise _not_found()
    return str(found)


def certificates_issued_for_staff(user: Any, *, query: str = "") -> QuerySet[Certificate]:
    """Certificates issued by the departments where ``user`` is a window clerk or approver (all
    of them for an administrator), newest first; ``query`` matches a part of the identifier or
    the whole serial."""
    rows = Certificate.objects.select_related("type", "issuing_department")
    if not user_is_admin(user):
        rows = rows.filter(issuing_department_id__in=issuer_department_ids(user))
    text = query.strip().upper()
    if text:
        rows = rows.filter(Q(identifier__contains=text) | Q(serial=text))
    return rows.order_by("-issued_at", "-id")


def verify_rate_allows(address: str) -> bool:
    """A fixed window per client address on the cache (one ``add`` and one ``incr``)."""
    key = f"certificates:verify-rate:{address}"
    cache.add(key, 0, VERIFY_RATE_WINDOW)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, VERIFY_RATE_WINDOW)
        used = 1
    return int(used) <= VERIFY_RATE_ALLOWED
