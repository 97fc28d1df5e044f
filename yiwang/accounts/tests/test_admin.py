from __future__ import annotations

import pytest

from yiwang.accounts.models import RoleAssignment, User
from yiwang.accounts.tests.factories import (
    ApiTokenFactory,
    DelegationFactory,
    DepartmentFactory,
    EnterpriseMemberFactory,
    RoleAssignmentFactory,
    StaffFactory,
    UserFactory,
)
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def root_client(client):
    root = StaffFactory(is_superuser=True, is_staff=True, username="root")
    client.force_login(root)
    return client


@pytest.mark.parametrize(
    "model", ["department", "user", "enterprise", "roleassignment", "delegation", "apitoken"]
)
def test_admin_changelists_render(root_client, model):
    DelegationFactory()
    EnterpriseMemberFactory()
    ApiTokenFactory()
    RoleAssignmentFactory()

    response = root_client.get(f"/admin/accounts/{model}/")

    assert response.status_code == 200


def test_user_admin_never_shows_the_full_id_number_or_phone(root_client):
    citizen = UserFactory()

    page = root_client.get(f"/admin/accounts/user/{citizen.pk}/change/").content.decode()

    assert citizen.id_number not in page
    assert citizen.phone not in page
    assert citizen.id_number[:4] + "**********" + citizen.id_number[-4:] in page
    assert 'name="id_number"' not in page


def test_enterprise_admin_masks_the_representative(root_client):
    member = EnterpriseMemberFactory()
    number = member.enterprise.legal_representative_id_number

    page = root_client.get(
        f"/admin/accounts/enterprise/{member.enterprise.pk}/change/"
    ).content.decode()

    assert number not in page


def test_role_granted_in_admin_goes_through_the_service(root_client):
    department = DepartmentFactory()
    staff = StaffFactory(department=department)

    response = root_client.post(
        "/admin/accounts/roleassignment/add/",
        {"user": staff.pk, "role": "approver", "department": department.pk},
    )

    assert response.status_code == 302
    assert RoleAssignment.objects.get(user=staff).role == "approver"
    assert AuditEntry.objects.filter(action="accounts.role_grant").count() == 1


def test_role_without_department_is_refused_in_admin_with_the_service_message(root_client):
    staff = StaffFactory()

    response = root_client.post(
        "/admin/accounts/roleassignment/add/", {"user": staff.pk, "role": "approver"}
    )

    assert response.status_code == 422
    assert "必须指定所属机构" in response.content.decode()
    assert not RoleAssignment.objects.filter(user=staff).exists()


def test_user_added_in_admin_is_audited(root_client):
    department = DepartmentFactory()

    response = root_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "newclerk",
            "real_name": "新同事",
            "kind": "staff",
            "department": department.pk,
            "password1": "Correct-Horse-Battery-9",
            "password2": "Correct-Horse-Battery-9",
            "usable_password": "true",
            "role_assignments-TOTAL_FORMS": "0",
            "role_assignments-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="newclerk")
    assert user.kind == "staff"
    assert AuditEntry.objects.filter(action="accounts.user_admin_create").count() == 1
