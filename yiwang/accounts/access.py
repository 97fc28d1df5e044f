"""Who may do what with accounts: view decorators (marked for the URL meta-test) and the
object-level ``access_*`` functions that views and API endpoints use to fetch an object the
actor may act on (Zulip style: fetch and check in one call, so no view forgets the check).

Role checks go through RoleAssignment (yiwang.accounts.selectors); superusers count as
administrators. Decorators raise Django's PermissionDenied (a 403 page); the ``access_*``
functions raise yiwang.core.errors (rendered once by the middleware and the API)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext_lazy as _

from yiwang.accounts.models import ApiToken, Delegation, Department, Enterprise, Role, User
from yiwang.accounts.selectors import user_department_ids_for_role, user_is_admin, user_roles
from yiwang.core import errors as core_errors
from yiwang.core.access import mark

F = TypeVar("F", bound=Callable[..., HttpResponseBase])

APPLICANT_KINDS = (User.Kind.CITIZEN, User.Kind.ENTERPRISE)


def staff_required(view: F) -> F:
    """Signed-in staff only (user kind ``staff``)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if getattr(request.user, "kind", None) != "staff":
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return mark(cast(F, login_required(wrapper)), "staff")


def citizen_required(view: F) -> F:
    """Signed-in applicants only: citizens (自然人) and enterprise accounts (法人)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if getattr(request.user, "kind", None) not in APPLICANT_KINDS:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return mark(cast(F, login_required(wrapper)), "citizen")


def role_required(*roles: str) -> Callable[[F], F]:
    """Signed-in users holding at least one of ``roles`` in some department. Which
    department's objects they may touch is then decided by ``access_department_by_id`` and
    friends. Anonymous users go to the login page."""
    unknown = set(roles) - set(Role.values)
    if not roles or unknown:
        raise ValueError(f"role_required needs known roles, got {sorted(unknown) or 'none'}")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not user_roles(request.user) & set(roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return mark(cast(F, login_required(wrapper)), "role:" + ",".join(roles))

    return decorator


admin_required = role_required(Role.ADMIN)


# --- object-level access -------------------------------------------------------------------


def _not_found() -> core_errors.NotFound:
    return core_errors.NotFound("core.not_found", _("找不到该对象，或您无权查看。"))


def access_department_by_id(user: Any, department_id: int, *, role: str) -> Department:
    """The department, if ``user`` holds ``role`` there (directly or through a subtree
    assignment). Staff of another department get PermissionDenied."""
    department = Department.objects.filter(pk=department_id).first()
    if department is None:
        raise _not_found()
    if department_id not in user_department_ids_for_role(user, role):
        raise core_errors.PermissionDenied(
            "accounts.department_forbidden",
            _("您在“%(d)s”没有“%(r)s”权限。") % {"d": department.name, "r": Role(role).label},
        )
    return department


def access_user_by_public_id(actor: Any, public_id: UUID | str) -> User:
    """A person's own account; administrators may see any. Others learn nothing (404)."""
    user = User.objects.filter(public_id=public_id).first()
    if user is None or (user.pk != actor.pk and not user_is_admin(actor)):
        raise _not_found()
    return user


def access_enterprise_by_public_id(actor: Any, public_id: UUID | str) -> Enterprise:
    """An enterprise its legal representative or agents act for; administrators too."""
    enterprise = Enterprise.objects.filter(public_id=public_id).first()
    if enterprise is None:
        raise _not_found()
    if not user_is_admin(actor) and not enterprise.members.filter(pk=actor.pk).exists():
        raise _not_found()
    return enterprise


def access_delegation_by_public_id(actor: Any, public_id: UUID | str) -> Delegation:
    """A delegation seen by its principal, its agent, a window clerk or an administrator."""
    delegation = Delegation.objects.filter(public_id=public_id).first()
    if delegation is None:
        raise _not_found()
    if actor.pk in (delegation.principal_id, delegation.agent_id):
        return delegation
    if user_roles(actor) & {Role.WINDOW_CLERK.value, Role.ADMIN.value}:
        return delegation
    raise _not_found()


def access_delegation_given_by_public_id(actor: Any, public_id: UUID | str) -> Delegation:
    """A delegation that ``actor`` gave (as principal), for the citizen's own revocation page.
    Its agent, other citizens and staff learn nothing (404); window clerks record paper
    withdrawals through the console instead."""
    delegation = Delegation.objects.select_related("agent").filter(public_id=public_id).first()
    if delegation is None or delegation.principal_id != actor.pk:
        raise _not_found()
    return delegation


def access_api_token_by_id(actor: Any, token_id: int) -> ApiToken:
    """A token seen by its holder or an administrator."""
    token = ApiToken.objects.filter(pk=token_id).first()
    if token is None or (token.user_id != actor.pk and not user_is_admin(actor)):
        raise _not_found()
    return token
