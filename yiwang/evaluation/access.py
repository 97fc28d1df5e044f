"""Who may see and do what in 好差评 — the one place that decides.

* **The rater** (the citizen or enterprise account invited): their own invitations, ratings
  and the replies to them; rates, once per invitation.
* **Staff of the responsible department** (a window clerk, approver or handling-unit role
  there, or above it with the subtree): that department's rectifications; replies.
* **Supervisors** (督办) of the department (or of one above it, with the subtree): its
  rectifications and statistics; record the follow-up (回访) and close.

Anyone else asking for an invitation or a rectification gets a 404 (they learn nothing about
it, administrators included); a page for a role the person does not hold is a 403. The
services check the same rules again (``rating_submit``, ``rectification_reply``,
``rectification_follow_up``), so a caller that skips this module still cannot act.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.utils.translation import gettext_lazy as _

from yiwang.accounts.access import role_required
from yiwang.core.errors import NotFound, PermissionDenied
from yiwang.evaluation.models import Invitation, Rectification
from yiwang.evaluation.selectors import (
    RECTIFIER_ROLES,
    SUPERVISOR_ROLE,
    rectifier_department_ids,
    supervised_department_ids,
)

# Pages of the rectification desk: the department's staff and the supervisors.
rectification_desk_required = role_required(*RECTIFIER_ROLES, SUPERVISOR_ROLE)
# Statistics pages: supervisors only.
supervisor_required = role_required(SUPERVISOR_ROLE)


def _not_found() -> NotFound:
    return NotFound("core.not_found", _("找不到该评价或整改，或您无权查看。"))


def access_invitation_for_rater(actor: Any, public_id: UUID | str) -> Invitation:
    """One of ``actor``'s own invitations (with its rating and rectification), else 404."""
    rater_id = getattr(actor, "pk", None)
    # Without the guard an anonymous actor (pk None) would match the invitations of callers
    # who have no account (rater IS NULL).
    invitation = (
        Invitation.objects.select_related(
            "department", "principal", "rating", "rating__rectification"
        )
        .filter(public_id=public_id, rater_id=rater_id)
        .first()
        if rater_id is not None
        else None
    )
    if invitation is None:
        raise _not_found()
    return invitation


def desk_department_ids(actor: Any) -> set[int]:
    """Departments whose rectifications ``actor`` may see: where they answer or supervise."""
    return rectifier_department_ids(actor) | supervised_department_ids(actor)


def desk_scope(actor: Any) -> set[int]:
    """For the API: the departments of ``actor``'s rectification desk, or 403 if none."""
    ids = desk_department_ids(actor)
    if not ids:
        raise PermissionDenied(
            "core.forbidden", _("只有责任单位的工作人员和督办人员可以查看差评整改。")
        )
    return ids


def supervisor_scope(actor: Any) -> set[int]:
    """For the API: the departments ``actor`` supervises, or 403 if none."""
    ids = supervised_department_ids(actor)
    if not ids:
        raise PermissionDenied("core.forbidden", _("只有督办人员可以查看好差评统计。"))
    return ids


def access_rectification(actor: Any, public_id: UUID | str) -> Rectification:
    """A rectification of a department ``actor`` answers for or supervises, else 404."""
    rectification = (
        Rectification.objects.select_related(
            "department",
            "rating",
            "rating__invitation",
            "rating__invitation__rater",
            "replied_by",
            "closed_by",
        )
        .filter(public_id=public_id)
        .first()
    )
    if rectification is None or rectification.department_id not in desk_department_ids(actor):
        raise _not_found()
    return rectification


def can_reply(actor: Any, rectification: Rectification) -> bool:
    return (
        rectification.status == Rectification.Status.OPEN
        and rectification.department_id in rectifier_department_ids(actor)
    )


def can_follow_up(actor: Any, rectification: Rectification) -> bool:
    return (
        rectification.status == Rectification.Status.REPLIED
        and rectification.department_id in supervised_department_ids(actor)
    )
