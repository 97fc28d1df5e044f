from __future__ import annotations

import pytest
from django.test import Client

from yiwang.accounts.demo import accounts_demo_load, demo_uscc, resident_id_number
from yiwang.accounts.models import (
    ApiToken,
    Delegation,
    Department,
    Enterprise,
    EnterpriseMember,
    Role,
    RoleAssignment,
    User,
)
from yiwang.accounts.selectors import department_tree, user_departments_for_role, user_roles
from yiwang.core.identifiers import resident_id_parse, uscc_validate
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db

PASSWORD = "yiwang-demo-2026"
MODELS = (User, Department, Enterprise, EnterpriseMember, RoleAssignment, Delegation, ApiToken)


def _snapshot():
    return {
        model.__name__: sorted(
            model.objects.values_list("pk", "updated_at" if hasattr(model, "updated_at") else "pk")
        )
        for model in MODELS
    } | {
        "audit": AuditEntry.objects.count(),
        "passwords": sorted(User.objects.values_list("password", flat=True)),
    }


def test_demo_identifiers_are_valid():
    assert uscc_validate(demo_uscc()) == demo_uscc()
    parsed = resident_id_parse(resident_id_number("341522", "19420202", "022"))
    assert (parsed.region_code, parsed.gender) == ("341522", "female")


def test_demo_load_builds_the_lu_an_tree_and_a_user_for_every_role():
    accounts = accounts_demo_load(password=PASSWORD)

    city = Department.objects.get(code="la-gov")
    assert (city.name, city.division_code, city.parent) == ("六安市人民政府", "341500", None)
    districts = dict(
        Department.objects.filter(parent=city, kind="government").values_list(
            "division_code", "short_name"
        )
    )
    assert districts == {
        "341502": "金安区",
        "341503": "裕安区",
        "341504": "叶集区",
        "341522": "霍邱县",
        "341523": "舒城县",
        "341524": "金寨县",
        "341525": "霍山县",
    }
    assert not Department.objects.filter(name__contains="寿县").exists()
    assert Department.objects.get(code="la-scjgj").name == "六安市市场监督管理局"
    assert Department.objects.filter(parent=city).exclude(kind="government").count() == 18
    assert [n.depth for n in department_tree() if n.department.code == "la-jaq-zsjd-sfsq"] == [3]

    usernames = [username for username, _label in accounts]
    assert len(usernames) == len(set(usernames))
    roles_held = set().union(*(user_roles(User.objects.get(username=u)) for u in usernames))
    assert roles_held == set(Role.values)
    assert User.objects.get(username="demo-admin").is_superuser
    for username in usernames:
        assert User.objects.get(username=username).check_password(PASSWORD)

    # the comprehensive window's clerk accepts for every department of the city
    clerk = User.objects.get(username="demo-clerk")
    assert clerk.department is not None
    assert clerk.department.code == "la-sjzyj"
    assert set(user_departments_for_role(clerk, Role.WINDOW_CLERK)) == set(
        Department.objects.values_list("id", flat=True)
    )
    assert not user_departments_for_role(clerk, Role.APPROVER)

    supervisor = User.objects.get(username="demo-supervisor")
    assert set(user_departments_for_role(supervisor, Role.SUPERVISOR)) == set(
        Department.objects.values_list("id", flat=True)
    )

    enterprise = Enterprise.objects.get()
    member = EnterpriseMember.objects.get()
    assert (member.user.username, member.capacity) == ("demo-legal", "legal_representative")
    assert enterprise.uscc == demo_uscc()

    delegation = Delegation.objects.get()
    assert (delegation.principal.username, delegation.agent.username) == (
        "demo-elder",
        "demo-citizen",
    )
    for citizen in User.objects.filter(kind="citizen"):
        assert resident_id_parse(citizen.id_number).region_code.startswith("3415")


def test_demo_load_twice_changes_nothing():
    first = accounts_demo_load(password=PASSWORD)
    before = _snapshot()

    second = accounts_demo_load(password=PASSWORD)

    assert second == first
    assert _snapshot() == before


def test_a_demo_account_can_sign_in():
    accounts_demo_load(password=PASSWORD)

    response = Client().post("/accounts/login/", {"username": "demo-clerk", "password": PASSWORD})

    assert response.status_code == 302
