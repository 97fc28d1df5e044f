"""The access decorators and object-level checks as a matrix: anonymous, citizen, staff of
another department, right role (and administrators where they pass)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory

from yiwang.accounts.access import (
    access_api_token_by_id,
    access_delegation_by_public_id,
    access_department_by_id,
    access_enterprise_by_public_id,
    access_user_by_public_id,
    admin_required,
    citizen_required,
    role_required,
    staff_required,
)
from yiwang.accounts.models import Role
from yiwang.accounts.tests.factories import (
    ApiTokenFactory,
    DelegationFactory,
    DepartmentFactory,
    EnterpriseMemberFactory,
    RoleAssignmentFactory,
    StaffFactory,
    UserFactory,
    staff_with_role,
)
from yiwang.core import errors
from yiwang.core.access import access_rule

pytestmark = pytest.mark.django_db


def _ok(request):
    return HttpResponse("ok")


VIEWS = {
    "approver": role_required(Role.APPROVER)(_ok),
    "admin": admin_required(_ok),
    "citizen": citizen_required(_ok),
    "staff": staff_required(_ok),
}


def _call(view, user):
    request = RequestFactory().get("/somewhere/")
    request.user = user
    try:
        response = view(request)
    except DjangoPermissionDenied:
        return 403
    if response.status_code == 302:
        assert response["Location"].startswith("/accounts/login/")
    return response.status_code


@pytest.fixture
def people():
    department = DepartmentFactory(code="dept-a")
    other = DepartmentFactory(code="dept-b")
    return {
        "anonymous": AnonymousUser(),
        "citizen": UserFactory(),
        "other_department_staff": staff_with_role(Role.WINDOW_CLERK, other),
        "approver": staff_with_role(Role.APPROVER, department),
        "admin": staff_with_role(Role.ADMIN),
        "superuser": StaffFactory(is_superuser=True),
    }


@pytest.mark.parametrize(
    ("person", "expected"),
    [
        ("anonymous", {"approver": 302, "admin": 302, "citizen": 302, "staff": 302}),
        ("citizen", {"approver": 403, "admin": 403, "citizen": 200, "staff": 403}),
        ("other_department_staff", {"approver": 403, "admin": 403, "citizen": 403, "staff": 200}),
        ("approver", {"approver": 200, "admin": 403, "citizen": 403, "staff": 200}),
        ("admin", {"approver": 403, "admin": 200, "citizen": 403, "staff": 200}),
        ("superuser", {"approver": 403, "admin": 200, "citizen": 403, "staff": 200}),
    ],
)
def test_view_decorator_matrix(people, person, expected):
    user = people[person]

    actual = {name: _call(view, user) for name, view in VIEWS.items()}

    assert actual == expected


def test_decorators_mark_their_rule_for_the_url_meta_test():
    assert access_rule(VIEWS["approver"]) == "role:approver"
    assert access_rule(role_required(Role.APPROVER, Role.SUPERVISOR)(_ok)) == (
        "role:approver,supervisor"
    )
    assert access_rule(VIEWS["admin"]) == "role:admin"
    assert access_rule(VIEWS["citizen"]) == "citizen"
    assert access_rule(VIEWS["staff"]) == "staff"


def test_role_required_refuses_unknown_roles_at_import_time():
    with pytest.raises(ValueError, match="pope"):
        role_required("pope")


@pytest.mark.parametrize(
    ("person", "outcome"),
    [
        ("anonymous", errors.PermissionDenied),
        ("citizen", errors.PermissionDenied),
        ("other_department_staff", errors.PermissionDenied),
        ("admin", errors.PermissionDenied),
        ("approver", None),
    ],
)
def test_access_department_by_id_matrix(people, person, outcome):
    department = people["approver"].department

    if outcome is None:
        assert access_department_by_id(people[person], department.pk, role=Role.APPROVER) == (
            department
        )
    else:
        with pytest.raises(outcome) as caught:
            access_department_by_id(people[person], department.pk, role=Role.APPROVER)
        assert caught.value.code == "accounts.department_forbidden"


def test_access_department_by_id_subtree_and_missing():
    parent = DepartmentFactory()
    child = DepartmentFactory(parent=parent)
    supervisor = StaffFactory(department=parent)
    RoleAssignmentFactory(
        user=supervisor, role=Role.SUPERVISOR, department=parent, include_subtree=True
    )

    assert access_department_by_id(supervisor, child.pk, role=Role.SUPERVISOR) == child
    with pytest.raises(errors.NotFound):
        access_department_by_id(supervisor, 999_999, role=Role.SUPERVISOR)


def test_access_user_by_public_id(people):
    citizen = people["citizen"]

    assert access_user_by_public_id(citizen, citizen.public_id) == citizen
    assert access_user_by_public_id(people["admin"], citizen.public_id) == citizen
    for person in ("other_department_staff", "approver"):
        with pytest.raises(errors.NotFound):
            access_user_by_public_id(people[person], citizen.public_id)
    with pytest.raises(errors.NotFound):
        access_user_by_public_id(UserFactory(), citizen.public_id)


def test_access_enterprise_by_public_id():
    member = EnterpriseMemberFactory()
    enterprise = member.enterprise

    assert access_enterprise_by_public_id(member.user, enterprise.public_id) == enterprise
    with pytest.raises(errors.NotFound):
        access_enterprise_by_public_id(UserFactory(), enterprise.public_id)


def test_access_delegation_by_public_id(people):
    delegation = DelegationFactory()
    clerk = staff_with_role(Role.WINDOW_CLERK)

    for actor in (delegation.principal, delegation.agent, clerk, people["admin"]):
        assert access_delegation_by_public_id(actor, delegation.public_id) == delegation
    for person in ("citizen", "approver"):
        with pytest.raises(errors.NotFound):
            access_delegation_by_public_id(people[person], delegation.public_id)


def test_access_api_token_by_id(people):
    token = ApiTokenFactory(user=people["approver"])

    assert access_api_token_by_id(people["approver"], token.pk) == token
    assert access_api_token_by_id(people["superuser"], token.pk) == token
    with pytest.raises(errors.NotFound):
        access_api_token_by_id(people["other_department_staff"], token.pk)
