"""Reads of the accounts app: roles, department scope, the organisation tree, identity lookup."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Case, Q, QuerySet, TextChoices, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.accounts.models import ApiToken, Delegation, Department, Role, RoleAssignment, User
from yiwang.core.crypto import blind_index
from yiwang.core.identifiers import resident_id_parse
from yiwang.core.memo import memo_invalidated_by, request_memo

# Blind-index purposes. Other apps that keep an ID number or a phone number for lookup use
# the same helpers so that one value gives one index across the platform.
ID_NUMBER_PURPOSE = "id_number"
PHONE_PURPOSE = "phone"

# A request that changes the organisation tree or a role assignment sees the change at once.
memo_invalidated_by(Department, RoleAssignment)


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


def _department_children() -> dict[int, list[int]]:
    # The whole tree in one query (hundreds of rows), once per request.
    def load() -> dict[int, list[int]]:
        children: dict[int, list[int]] = {}
        for pk, parent in Department.objects.order_by().values_list("id", "parent_id"):
            if parent is not None:
                children.setdefault(parent, []).append(pk)
        return children

    return request_memo(("accounts.department_children",), load)


def department_subtree_ids(root_ids: Iterable[int]) -> set[int]:
    """``root_ids`` and every department below them."""
    children = _department_children()
    found: set[int] = set(root_ids)
    frontier = list(found)
    while frontier:
        below = [c for parent in frontier for c in children.get(parent, ()) if c not in found]
        found.update(below)
        frontier = below
    return found


def user_department_ids_for_role(user: Any, role: str) -> frozenset[int]:
    """Ids of the departments where ``user`` holds ``role`` (subtrees expanded where the
    assignment says so). One query for all of the user's roles, once per request."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()

    def load() -> dict[str, frozenset[int]]:
        direct: dict[str, set[int]] = {}
        roots: dict[str, set[int]] = {}
        for held, department_id, subtree in RoleAssignment.objects.filter(
            user=user, department__isnull=False
        ).values_list("role", "department_id", "include_subtree"):
            (roots if subtree else direct).setdefault(held, set()).add(department_id)
        return {
            held: frozenset(direct.get(held, set()) | department_subtree_ids(roots.get(held, ())))
            for held in direct.keys() | roots.keys()
        }

    return request_memo(("accounts.role_departments", user.pk), load).get(role, frozenset())


def user_departments_for_role(user: Any, role: str) -> QuerySet[Department, int]:
    """``user_department_ids_for_role`` as a queryset usable in ``department_id__in=``."""
    ids = user_department_ids_for_role(user, role)
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


def _name_key(name: str) -> str:
    """A real name as typed and as stored compare equal after width folding (full-width
    input methods) and without spaces."""
    return "".join(unicodedata.normalize("NFKC", name or "").split())


def citizen_find_by_identity(*, real_name: str, id_number: str) -> User | None:
    """The registered citizen with this real name and resident ID number, or None. A wrong
    name and an unknown number give the same None, so that a caller cannot learn whether an
    ID number is registered without also knowing the name. A malformed number raises
    ValidationError ``core.id_number_invalid`` (that says nothing about anyone)."""
    user = citizen_find_by_id_number(id_number)
    if user is None or not real_name.strip():
        return None
    return user if _name_key(user.real_name) == _name_key(real_name) else None


class DelegationStatus(TextChoices):
    ACTIVE = "active", _("有效")
    EXPIRED = "expired", _("已到期")
    REVOKED = "revoked", _("已撤销")


def delegation_status(delegation: Delegation, *, at: datetime | None = None) -> DelegationStatus:
    at = at or timezone.now()
    if delegation.revoked_at is not None and delegation.revoked_at <= at:
        return DelegationStatus.REVOKED
    if delegation.expires_at <= at:
        return DelegationStatus.EXPIRED
    return DelegationStatus.ACTIVE


@dataclass(frozen=True)
class DelegationRow:
    """A delegation as a list shows it: with its status now and the scope labels."""

    delegation: Delegation
    status: DelegationStatus
    scope_labels: tuple[str, ...]

    @property
    def is_active(self) -> bool:
        return self.status == DelegationStatus.ACTIVE

    @property
    def last_day(self) -> date:
        """The last local day the delegation is valid on (pages grant "until the end of")."""
        return timezone.localtime(self.delegation.expires_at - timedelta(microseconds=1)).date()

    @property
    def ends_at_midnight(self) -> bool:
        return timezone.localtime(self.delegation.expires_at).time() == time()


def delegation_rows(delegations: Iterable[Delegation]) -> list[DelegationRow]:
    now = timezone.now()
    labels = dict(Delegation.Scope.choices)
    return [
        DelegationRow(
            delegation=d,
            status=delegation_status(d, at=now),
            scope_labels=tuple(str(labels.get(s, s)) for s in d.scopes),
        )
        for d in delegations
    ]


def _active_first(rows: list[DelegationRow]) -> list[DelegationRow]:
    return sorted(rows, key=lambda row: not row.is_active)  # stable: newest first within


def delegation_list_given(*, user: User) -> list[DelegationRow]:
    """The delegations ``user`` gave (as principal), active ones first, then newest first,
    with their agents: one query."""
    return _active_first(
        delegation_rows(
            Delegation.objects.filter(principal=user)
            .select_related("agent")
            .order_by("-created_at", "-pk")
        )
    )


def delegation_list_held(*, user: User) -> list[DelegationRow]:
    """The delegations ``user`` holds (as agent), active first, with their principals."""
    return _active_first(
        delegation_rows(
            Delegation.objects.filter(agent=user)
            .select_related("principal")
            .order_by("-created_at", "-pk")
        )
    )


class DelegationRole(TextChoices):
    """Which side of a delegation a person is on."""

    GIVEN = "given", _("我委托他人")
    HELD = "held", _("他人委托我")


def delegation_list(
    *, user: User, role: str | None = None, status: str | None = None
) -> QuerySet[Delegation]:
    """The delegations ``user`` gave or holds, newest first, with both parties loaded (one
    query however many rows; a lazy queryset, so a paginated API counts and slices it in the
    database). Each row is annotated with ``role`` (DelegationRole: ``given`` when ``user`` is
    the principal) and ``status`` (DelegationStatus, computed like ``delegation_status`` at
    the time of the query). ``role`` and ``status`` filter when given; unknown values raise
    ValueError (callers validate their input first)."""
    if role is not None and role not in DelegationRole.values:
        raise ValueError(f"unknown delegation role {role!r}")
    if status is not None and status not in DelegationStatus.values:
        raise ValueError(f"unknown delegation status {status!r}")
    now = timezone.now()
    sides = {
        DelegationRole.GIVEN.value: Q(principal=user),
        DelegationRole.HELD.value: Q(agent=user),
    }
    where = sides[role] if role else sides["given"] | sides["held"]
    rows = (
        Delegation.objects.filter(where)
        .select_related("principal", "agent")
        .annotate(
            role=Case(
                When(principal=user, then=Value(DelegationRole.GIVEN.value)),
                default=Value(DelegationRole.HELD.value),
            ),
            status=Case(
                When(
                    revoked_at__isnull=False,
                    revoked_at__lte=now,
                    then=Value(DelegationStatus.REVOKED.value),
                ),
                When(expires_at__lte=now, then=Value(DelegationStatus.EXPIRED.value)),
                default=Value(DelegationStatus.ACTIVE.value),
            ),
        )
        .order_by("-created_at", "-pk")
    )
    return rows.filter(status=status) if status else rows
