from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from yiwang.accounts.models import Role
from yiwang.accounts.tests.factories import (
    DepartmentFactory,
    StaffFactory,
    UserFactory,
    staff_with_role,
)
from yiwang.console.views import ROLE_DUTIES

pytestmark = pytest.mark.django_db

CONSOLE = "/console/"
STAFF_ROLES = [r.value for r in Role if r != Role.CITIZEN]


def test_anonymous_is_sent_to_sign_in(client: Client):
    response = client.get(CONSOLE)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={CONSOLE}"


def test_citizen_gets_a_friendly_403(client: Client):
    client.force_login(UserFactory())

    response = client.get(CONSOLE)

    html = response.content.decode()
    assert response.status_code == 403
    assert "<h1>没有访问权限</h1>" in html
    assert "工作台仅对工作人员开放" in html
    assert '<a class="button" href="/">返回首页</a>' in html


def test_every_staff_role_has_a_panel():
    assert set(ROLE_DUTIES) == set(STAFF_ROLES)


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_console_shows_department_and_the_panel_of_each_role(client: Client, role: str):
    department = DepartmentFactory(name="六安市人力资源和社会保障局")
    client.force_login(staff_with_role(role, department=department))

    response = client.get(CONSOLE)

    html = response.content.decode()
    assert response.status_code == 200
    assert "六安市人力资源和社会保障局" in html
    assert [p.role for p in response.context["panels"]] == [role]
    assert f'<h2 id="role-{role}">{ROLE_DUTIES[role][0]}</h2>' in html


def test_work_roles_say_their_queues_are_not_there_yet(client: Client):
    client.force_login(staff_with_role(Role.COMMUNITY_WORKER))

    html = client.get(CONSOLE).content.decode()

    assert "工作队列将随后续版本上线" in html


def test_an_approver_is_linked_to_the_task_inbox_instead(client: Client):
    client.force_login(staff_with_role(Role.APPROVER))

    html = client.get(CONSOLE).content.decode()

    assert "工作队列将随后续版本上线" not in html
    assert "待办任务" in html


def test_auditor_is_linked_to_the_audit_trail(client: Client):
    client.force_login(staff_with_role(Role.AUDITOR))

    html = client.get(CONSOLE).content.decode()

    assert f'href="{reverse("admin:core_auditentry_changelist")}"' in html
    assert "工作队列将随后续版本上线" not in html


@pytest.mark.parametrize("role", [Role.ADMIN, Role.CATALOG_ADMIN])
def test_administrators_are_linked_to_the_admin_and_the_calendar(client: Client, role: str):
    client.force_login(staff_with_role(role))

    html = client.get(CONSOLE).content.decode()

    assert f'href="{reverse("admin:index")}"' in html
    assert f'href="{reverse("admin:core_calendarday_changelist")}"' in html


def test_staff_with_several_roles_gets_one_panel_each_in_a_fixed_order(client: Client):
    user = staff_with_role(Role.SUPERVISOR)
    department = user.department
    from yiwang.accounts.tests.factories import RoleAssignmentFactory

    RoleAssignmentFactory(user=user, role=Role.WINDOW_CLERK, department=department)
    client.force_login(user)

    response = client.get(CONSOLE)

    assert [p.role for p in response.context["panels"]] == ["window_clerk", "supervisor"]


def test_staff_without_roles_is_told_whom_to_ask(client: Client):
    client.force_login(StaffFactory())

    html = client.get(CONSOLE).content.decode()

    assert "您还没有任何角色" in html
    assert "系统管理员" in html


def test_console_in_english(client: Client):
    client.force_login(staff_with_role(Role.APPROVER))
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    html = client.get(CONSOLE).content.decode()

    assert "<h1>Staff console</h1>" in html
    assert "Department approval" in html
