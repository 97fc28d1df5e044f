from __future__ import annotations

import pytest

from yiwang.accounts.models import Role
from yiwang.accounts.selectors import (
    citizen_find_by_id_number,
    department_tree,
    user_departments_for_role,
    user_roles,
)
from yiwang.accounts.tests.factories import (
    DepartmentFactory,
    RoleAssignmentFactory,
    StaffFactory,
    UserFactory,
    make_id_number,
)
from yiwang.core.errors import ValidationError

pytestmark = pytest.mark.django_db


def _tree():
    city = DepartmentFactory(code="t-city", name="市政府", kind="government", sort_order=0)
    bureau = DepartmentFactory(code="t-bureau", name="某局", parent=city, sort_order=2)
    district = DepartmentFactory(code="t-district", name="某区", parent=city, sort_order=1)
    street = DepartmentFactory(code="t-street", name="某街道", parent=district)
    community = DepartmentFactory(code="t-community", name="某社区", parent=street)
    return city, bureau, district, street, community


def test_user_roles_from_assignments_kind_and_superuser():
    citizen = UserFactory()
    staff = StaffFactory()
    RoleAssignmentFactory(user=staff, role=Role.APPROVER)
    RoleAssignmentFactory(user=staff, role=Role.WINDOW_CLERK)
    root = StaffFactory(is_superuser=True)
    inactive = StaffFactory(is_active=False)
    RoleAssignmentFactory(user=inactive, role=Role.APPROVER)

    assert user_roles(citizen) == {"citizen"}
    assert user_roles(staff) == {"approver", "window_clerk"}
    assert user_roles(root) == {"admin"}
    assert user_roles(inactive) == set()
    assert user_roles(None) == set()


def test_user_departments_for_role_expands_subtrees_only_where_assigned():
    _city, bureau, district, street, community = _tree()
    staff = StaffFactory(department=district)
    RoleAssignmentFactory(
        user=staff, role=Role.SUPERVISOR, department=district, include_subtree=True
    )
    RoleAssignmentFactory(user=staff, role=Role.APPROVER, department=district)

    supervised = set(user_departments_for_role(staff, Role.SUPERVISOR))
    approved = set(user_departments_for_role(staff, Role.APPROVER))

    assert supervised == {district.pk, street.pk, community.pk}
    assert approved == {district.pk}
    assert set(user_departments_for_role(staff, Role.DISPATCHER)) == set()
    assert bureau.pk not in supervised


def test_department_tree_is_preorder_with_depth():
    _tree()

    nodes = [(n.department.code, n.depth) for n in department_tree()]

    assert nodes == [
        ("t-city", 0),
        ("t-district", 1),
        ("t-street", 2),
        ("t-community", 3),
        ("t-bureau", 1),
    ]


def test_citizen_find_by_id_number_uses_the_blind_index():
    citizen = UserFactory()
    UserFactory()

    assert citizen_find_by_id_number(citizen.id_number.lower()) == citizen
    assert citizen_find_by_id_number(make_id_number(555, birth="19990101")) is None
    with pytest.raises(ValidationError) as caught:
        citizen_find_by_id_number("123")
    assert caught.value.code == "core.id_number_invalid"
