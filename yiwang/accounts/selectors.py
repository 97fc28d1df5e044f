"""Reads of the accounts app: roles, department scope, the organisation tree, identity lookup."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from yiwang.accounts.models import ApiToken, Department, Role, RoleAssignment, User
from yiwang.core.crypto import blind_index
from yiwang.core.identifiers import resident_id_parse

# Blind-index purposes. Other apps that keep an ID number or a phone number for lookup use
# the same helpers so that one value gives one index across the platform.
ID_NUMBER_PURPOSE = "id_number"
PHONE_PURPOSE = "phone"


def id_number_blind_index(number: str) -> str:
    """Keyed index of a (normalised) resident ID number."""
    return blind_index(number, purpose=ID_NUMBER_PURPOSE)


def phone_blind_index(phone: str) -> str:
    return blind_index(phone, purpose=PHONE_PURPOSE)


def user_roles(user: Any) -> set[str]:
    """Every role ``user`` holds, in any department. A citizen's role comes from the account
    kind, and a superuser always counts as an administrator."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    roles = set(RoleAssignment.objects.filter(user=user).values_list("role", flat=True))
    if user.kind in (User.Kind.CITIZEN, User.Kind.ENTERPRISE):
        roles.add(Role.CITIZEN.value)
    if user.is_superuser:
        roles.add(Role.ADMIN.value)
    return roles


def user_is_admin(user: Any) -> bool:
    return Role.ADMIN.value in user_roles(user)


def department_subtree_ids(root_ids: Iterable[int]) -> set[int]:
    """``root_ids`` and every department below them. The tree is small (hundreds of nodes)
    and shallow, so one query per level is cheaper than a recursive CTE per database."""
    found: set[int] = set(root_ids)
    frontier = set(found)
    while frontier:
        children = set(
            Department.objects.filter(parent_id__in=frontier).values_list("id", flat=True)
        )
        frontier = children - found
        found |= frontier
    return found


def user_departments_for_role(user: Any, role: str) -> QuerySet[Department, int]:
    """Ids of the departments where ``user`` holds ``role`` (subtrees expanded where the
    assignment says so), as a queryset usable in ``department_id__in=``."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Department.objects.none().values_list("id", flat=True)
    direct: set[int] = set()
    roots: set[int] = set()
    for department_id, subtree in RoleAssignment.objects.filter(
        user=user, role=role, department__isnull=False
    ).values_list("department_id", "include_subtree"):
        (roots if subtree else direct).add(department_id)
    ids = direct | department_subtree_ids(roots)
    return Department.objects.filter(id__in=ids).values_list("id", flat=True)


@dataclass(frozen=True)
class DepartmentNode:
    department: Department
    depth: int


def department_tree(*, active_only: bool = False) -> list[DepartmentNode]:
    """The organisation tree in pre-order (parents before their children, siblings in
    ``sort_order``), with each node's depth: one query."""
    departments = Department.objects.order_by("sort_order", "code")
    if active_only:
        departments = departments.filter(active=True)
    by_parent: dict[int | None, list[Department]] = {}
    for department in departments:
        by_parent.setdefault(department.parent_id, []).append(department)
    nodes: list[DepartmentNode] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for department in by_parent.get(parent_id, []):
            nodes.append(DepartmentNode(department, depth))
            walk(department.id, depth + 1)

    walk(None, 0)
    return nodes


def citizen_find_by_id_number(value: str) -> User | None:
    """The citizen with this resident ID number, found through the blind index (no row is
    decrypted). A malformed number raises ValidationError ``core.id_number_invalid``."""
    number = resident_id_parse(value).number
    return User.objects.filter(
        kind=User.Kind.CITIZEN, id_number_index=id_number_blind_index(number)
    ).first()


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    """The tokens held by ``user``, newest first, revoked and expired ones included (a person
    sees what once had access). Never exposes the hash."""
    return ApiToken.objects.filter(user=user).defer("token_hash").order_by("-created_at", "-id")
