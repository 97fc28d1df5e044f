"""Who may do what with the catalog.

Kept simple on purpose: the catalog administrators (事项管理员, role ``catalog_admin``, in any
department) and the system administrators may create and edit drafts, submit, reject, publish,
retire and start new drafts, for every item. Other staff may read every version (drafts
included) but change nothing; citizens and the public see published versions only, through the
guide pages and the API (their own access rules). A four-eyes rule (the publisher is not the
last editor) is not enforced: the departments that asked for the catalog have one or two
catalog administrators each, and every step is in the audit trail with its actor.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.utils.translation import gettext_lazy as _

from yiwang.accounts.models import Role, User
from yiwang.accounts.selectors import user_roles
from yiwang.catalog import errors
from yiwang.catalog.models import ItemVersion, ServiceItem
from yiwang.core import errors as core_errors

EDITOR_ROLES = frozenset({Role.CATALOG_ADMIN.value, Role.ADMIN.value})


def catalog_can_edit(user: Any) -> bool:
    return bool(user_roles(user) & EDITOR_ROLES)


def catalog_can_view_drafts(user: Any) -> bool:
    """Any active staff member (and system accounts) may read unpublished versions."""
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and (user.kind in (User.Kind.STAFF, User.Kind.SYSTEM) or user.is_superuser)
    )


def catalog_require_editor(user: Any) -> None:
    if not catalog_can_edit(user):
        raise core_errors.PermissionDenied(
            errors.NOT_CATALOG_ADMIN, _("只有事项管理员或系统管理员可以修改事项目录。")
        )


def _not_found() -> core_errors.NotFound:
    return core_errors.NotFound("core.not_found", _("找不到该对象，或您无权查看。"))


def access_item_version_for_edit(user: Any, public_id: UUID | str) -> ItemVersion:
    """A version that ``user`` may act on (edit a draft, move it through the workflow).
    Whether the version's state allows the action is the service's check, not this one."""
    if not catalog_can_view_drafts(user):
        raise _not_found()
    version = (
        ItemVersion.objects.select_related("item", "item_type").filter(public_id=public_id).first()
    )
    if version is None:
        raise _not_found()
    catalog_require_editor(user)
    return version


def access_item_version_for_view(user: Any, public_id: UUID | str) -> ItemVersion:
    """A version ``user`` may read: published ones for everybody, others for staff only (the
    rest learn nothing: 404)."""
    version = (
        ItemVersion.objects.select_related("item", "item_type").filter(public_id=public_id).first()
    )
    if version is None:
        raise _not_found()
    if version.status != ItemVersion.Status.PUBLISHED and not catalog_can_view_drafts(user):
        raise _not_found()
    return version


def access_item_for_edit(user: Any, public_id: UUID | str) -> ServiceItem:
    if not catalog_can_view_drafts(user):
        raise _not_found()
    item = ServiceItem.objects.filter(public_id=public_id).first()
    if item is None:
        raise _not_found()
    catalog_require_editor(user)
    return item
