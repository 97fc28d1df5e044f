"""Single sign-on with the city's identity provider (OpenID Connect).

mozilla-django-oidc runs the protocol (redirect, code exchange, token and signature checks);
this backend only maps the provider's claims to a citizen account, matching by the blind index
of the resident ID number so that a citizen who registered with a password and later signs in
through the provider finds the same account. Switched on by settings only when the
``YIWANG_OIDC_*`` environment variables are set; see docs/oidc.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from yiwang.accounts import errors
from yiwang.accounts.models import User
from yiwang.accounts.selectors import id_number_blind_index
from yiwang.accounts.services import PHONE_RE, SsoIdentity, citizen_sso_sign_in
from yiwang.core.errors import DomainError, ValidationError
from yiwang.core.identifiers import resident_id_parse


def claim_names() -> dict[str, str]:
    """Which claims carry what: providers name the ID number claim differently."""
    return {
        "id_number": getattr(settings, "YIWANG_OIDC_ID_NUMBER_CLAIM", "id_number"),
        "name": getattr(settings, "YIWANG_OIDC_NAME_CLAIM", "name"),
        "phone": getattr(settings, "YIWANG_OIDC_PHONE_CLAIM", "phone_number"),
    }


def oidc_claims_to_identity(claims: Mapping[str, Any]) -> SsoIdentity:
    """Map the provider's claims to an identity, or raise ValidationError naming the missing
    or malformed claim (``accounts.sso_claims`` / ``core.id_number_invalid``)."""
    names = claim_names()
    subject = str(claims.get("sub") or "").strip()
    real_name = str(claims.get(names["name"]) or "").strip()
    raw_number = str(claims.get(names["id_number"]) or "").strip()
    missing = [
        claim
        for claim, value in (
            ("sub", subject),
            (names["name"], real_name),
            (names["id_number"], raw_number),
        )
        if not value
    ]
    if missing:
        raise ValidationError(
            errors.SSO_CLAIMS,
            _("统一身份认证平台未提供必要信息：%(c)s。") % {"c": "、".join(missing)},
            missing=missing,
        )
    number = resident_id_parse(raw_number).number
    phone = str(claims.get(names["phone"]) or "").replace(" ", "").removeprefix("+86")
    if not PHONE_RE.fullmatch(phone):
        phone = ""  # optional: a phone number we cannot use must not block the sign-in
    return SsoIdentity(subject=subject, real_name=real_name, id_number=number, phone=phone)


class CityOIDCBackend(OIDCAuthenticationBackend):  # type: ignore[misc]
    """Authentication backend for the city's identity provider (citizens)."""

    def verify_claims(self, claims: Mapping[str, Any]) -> bool:
        try:
            oidc_claims_to_identity(claims)
        except DomainError:
            return False
        return True

    def filter_users_by_claims(self, claims: Mapping[str, Any]) -> QuerySet[User]:
        try:
            identity = oidc_claims_to_identity(claims)
        except DomainError:
            return User.objects.none()
        return User.objects.filter(
            kind=User.Kind.CITIZEN, id_number_index=id_number_blind_index(identity.id_number)
        )

    def create_user(self, claims: Mapping[str, Any]) -> User:
        return citizen_sso_sign_in(identity=oidc_claims_to_identity(claims))

    def update_user(self, user: User, claims: Mapping[str, Any]) -> User:
        return citizen_sso_sign_in(identity=oidc_claims_to_identity(claims))
