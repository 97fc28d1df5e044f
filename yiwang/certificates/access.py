"""Who may see, use, issue and revoke certificates.

* The holder (their own ID number, or an enterprise they act for) sees their certificates,
  the signed credential and every use.
* Staff of the issuing department, and of a department that used the certificate in a case,
  see it too (the credential carries the face data they work with).
* Issuing, new versions and revocation: a window clerk or approver of the issuing department.
* Using (用证): any staff member, in one of their departments, with a reason and case number.
* Everyone else learns nothing (404): the public verification page shows only the status and
  the masked holder (selectors.verification_view_data).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from yiwang.accounts.models import Department, Role, User
from yiwang.accounts.selectors import user_department_ids_for_role, user_is_admin
from yiwang.applications.selectors import staff_department_ids
from yiwang.certificates.models import Certificate, CertificateUse
from yiwang.certificates.selectors import certificate_by_identifier, user_is_holder
from yiwang.core.errors import NotFound, PermissionDenied

ISSUER_ROLES = (Role.WINDOW_CLERK, Role.APPROVER)


def _not_found() -> NotFound:
    return NotFound("core.not_found", _("找不到该电子证照，或您无权查看。"))


def issuer_department_ids(user: Any) -> set[int]:
    ids: set[int] = set()
    for role in ISSUER_ROLES:
        ids |= user_department_ids_for_role(user, role)
    return ids


def user_may_issue(user: Any, department: Department) -> bool:
    return user_is_admin(user) or department.pk in issuer_department_ids(user)


def user_may_use(user: Any, department: Department) -> bool:
    """Staff record uses for their own departments only."""
    if getattr(user, "kind", None) != User.Kind.STAFF:
        return user_is_admin(user)
    return department.pk in staff_department_ids(user) | issuer_department_ids(user)


def user_may_view(user: Any, certificate: Certificate) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user_is_holder(user, certificate):
        return True
    if getattr(user, "kind", None) != User.Kind.STAFF:
        return user_is_admin(user)
    ids = staff_department_ids(user) | issuer_department_ids(user)
    if certificate.issuing_department_id in ids:
        return True
    return CertificateUse.objects.filter(certificate=certificate, department_id__in=ids).exists()


def access_certificate_view(user: Any, identifier: str) -> Certificate:
    """The certificate with its face data and credential: holder, staff of the issuing or a
    using department, administrators. Others get NotFound."""
    certificate = certificate_by_identifier(identifier)
    if certificate is None or not user_may_view(user, certificate):
        raise _not_found()
    return certificate


def access_certificate_revoke(user: Any, identifier: str) -> Certificate:
    """A certificate the user may revoke or re-version: staff of the issuing department."""
    certificate = certificate_by_identifier(identifier)
    if certificate is None:
        raise _not_found()
    if not user_may_issue(user, certificate.issuing_department):
        if user_may_view(user, certificate):
            raise PermissionDenied(
                "core.forbidden",
                _("只有颁发机构“%(d)s”的工作人员可以变更或注销该证照。")
                % {"d": certificate.issuing_department.name},
            )
        raise _not_found()
    return certificate


def access_certificate_use(user: Any, identifier: str) -> tuple[Certificate, list[Department]]:
    """A certificate staff may use in a case (any certificate: 用证 is how a department learns
    of it, and every use is recorded with its reason and shown to the holder), and the
    departments the user may record the use for."""
    if getattr(user, "kind", None) != User.Kind.STAFF:
        raise PermissionDenied("core.forbidden", _("只有工作人员可以调用电子证照。"))
    ids = staff_department_ids(user) | issuer_department_ids(user)
    if not ids:
        raise PermissionDenied("core.forbidden", _("您没有可以用证的部门。"))
    certificate = certificate_by_identifier(identifier)
    if certificate is None:
        raise _not_found()
    return certificate, list(Department.objects.filter(pk__in=ids).order_by("sort_order", "code"))
