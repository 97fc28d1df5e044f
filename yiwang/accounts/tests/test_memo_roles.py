"""The request memo of role departments: once per request, a change in the request seen."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yiwang.accounts.models import Role
from yiwang.accounts.selectors import user_department_ids_for_role
from yiwang.accounts.tests.factories import DepartmentFactory, RoleAssignmentFactory, StaffFactory
from yiwang.core.tests.test_memo import RequestBrackets


@pytest.mark.django_db
def test_role_departments_once_per_request_and_a_new_assignment_shows_at_once():
    city = DepartmentFactory(code="m-city")
    district = DepartmentFactory(code="m-district", parent=city)
    street = DepartmentFactory(code="m-street", parent=district)
    staff = StaffFactory(department=district)
    RoleAssignmentFactory(user=staff, role=Role.APPROVER, department=district)
    with RequestBrackets():
        with CaptureQueriesContext(connection) as first:
            assert user_department_ids_for_role(staff, Role.APPROVER) == {district.pk}
        with CaptureQueriesContext(connection) as again:
            assert user_department_ids_for_role(staff, Role.APPROVER) == {district.pk}
            assert user_department_ids_for_role(staff, Role.SUPERVISOR) == frozenset()
        assert len(first) >= 1
        assert len(again) == 0
        # A change inside the request (an administrator's form, say) is seen by the next check.
        RoleAssignmentFactory(
            user=staff, role=Role.SUPERVISOR, department=district, include_subtree=True
        )
        assert user_department_ids_for_role(staff, Role.SUPERVISOR) == {district.pk, street.pk}
        leaf = DepartmentFactory(code="m-leaf", parent=street)
        assert leaf.pk in user_department_ids_for_role(staff, Role.SUPERVISOR)
    staff.is_active = False
    assert user_department_ids_for_role(staff, Role.SUPERVISOR) == frozenset()
