"""Who may see and act on an application or a task: fetch and check in one call (Zulip
style), so that no view or endpoint forgets the check. Someone who may not see an object
learns nothing about it (404); a person who may see it but not act gets 403 from the service.

* applicants: their own applications, those filed for them (代办 principal), and those of a
  principal who gave them an active delegation with the ``apply`` or ``query`` scope;
* staff: applications of the departments where they hold a window, approval or supervision
  role (as accepting department or through a task), tasks of the departments where they
  approve; the national case record only to staff of the accepting department.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.utils.translation import gettext_lazy as _

from yiwang.accounts.models import Role, User
from yiwang.accounts.selectors import user_departments_for_role
from yiwang.applications.models import Application, Task
from yiwang.applications.selectors import (
    applications_of,
    staff_department_ids,
)
from yiwang.core.errors import NotFound, PermissionDenied

APPLICANT_KINDS = (User.Kind.CITIZEN, User.Kind.ENTERPRISE)


def _not_found() -> NotFound:
    return NotFound("core.not_found", _("找不到该办件，或您无权查看。"))


def require_applicant(user: Any) -> User:
    if getattr(user, "kind", None) not in APPLICANT_KINDS:
        raise PermissionDenied("core.forbidden", _("只有群众和企业用户可以办理此操作。"))
    return user  # type: ignore[no-any-return]


def require_staff(user: Any) -> User:
    if getattr(user, "kind", None) != User.Kind.STAFF:
        raise PermissionDenied("core.forbidden", _("只有工作人员可以办理此操作。"))
    return user  # type: ignore[no-any-return]


def access_own_application(user: User, public_id: UUID | str) -> Application:
    """An application the applicant may see (and, through the services, act on)."""
    found = applications_of(user).filter(public_id=public_id).first()
    if found is None:
        raise _not_found()
    return found


def access_staff_application(user: User, public_id: UUID | str) -> Application:
    """An application of one of the staff member's departments (as accepting department or
    through one of its tasks: the same scope as ``applications_for_staff``)."""
    ids = staff_department_ids(user)
    found = next(
        iter(
            Application.objects.filter(public_id=public_id)
            .select_related("version", "bundle", "department")
            .order_by()[:1]  # a unique key: no ORDER BY over the wide row
        ),
        None,
    )
    if found is None or not ids:
        raise _not_found()
    if found.department_id not in ids and not found.tasks.filter(department_id__in=ids).exists():
        raise _not_found()
    return found


def access_case_record(user: User, public_id: UUID | str) -> Application:
    """An application whose accepting department (受理部门) is within the staff member's
    department scope: the national case record carries the applicant's ID number, so a
    department that only had a task of the case does not get it (404 like any other)."""
    found = Application.objects.filter(
        public_id=public_id, department_id__in=staff_department_ids(user)
    ).first()
    if found is None:
        raise _not_found()
    return found


def access_task(user: User, public_id: UUID | str) -> Task:
    """A task of a department where ``user`` approves (open, claimed or finished)."""
    found = (
        Task.objects.filter(
            public_id=public_id,
            department_id__in=user_departments_for_role(user, Role.APPROVER),
        )
        .select_related("application", "department")
        .first()
    )
    if found is None:
        raise _not_found()
    return found
