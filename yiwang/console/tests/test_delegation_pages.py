"""A window clerk records a paper authorisation (纸质授权书) at /console/delegations/new/:
delegation_grant with the clerk as actor, audited on behalf of the principal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from yiwang.accounts.forms import delegation_expires_at
from yiwang.accounts.models import Delegation, Role
from yiwang.accounts.tests.factories import UserFactory, make_id_number, staff_with_role
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db

NEW = "/console/delegations/new/"
NO_SUCH_CITIZEN = "没有找到姓名和身份证号码都相符的实名注册用户。"


def _changes():
    return AuditEntry.objects.exclude(action="accounts.login")


def _record(client: Client, principal, agent, **overrides):
    data = {
        "principal_name": principal.real_name,
        "principal_id_number": principal.id_number,
        "agent_name": agent.real_name,
        "agent_id_number": agent.id_number,
        "scopes": ["apply", "receive"],
        "expires_on": (timezone.localdate() + timedelta(days=90)).isoformat(),
        "note": "纸质授权书 LA-2025-0001",
    }
    data.update(overrides)
    return client.post(NEW, data)


def test_a_window_clerk_records_a_paper_authorisation(client: Client):
    clerk = staff_with_role(Role.WINDOW_CLERK)
    principal, agent = UserFactory(real_name="陈奶奶"), UserFactory(real_name="陈小华")
    client.force_login(clerk)
    day = timezone.localdate() + timedelta(days=90)

    response = _record(client, principal, agent, expires_on=day.isoformat())

    assert response.status_code == 302
    assert response["Location"] == NEW
    delegation = Delegation.objects.get()
    assert (delegation.principal, delegation.agent, delegation.recorded_by) == (
        principal,
        agent,
        clerk,
    )
    assert delegation.scopes == ["apply", "receive"]
    assert delegation.note == "纸质授权书 LA-2025-0001"
    assert delegation.expires_at == delegation_expires_at(day)
    entry = _changes().get()
    assert (entry.action, entry.actor_id, entry.on_behalf_of_id, entry.object_id) == (
        "accounts.delegation_grant",
        clerk.pk,
        principal.pk,
        str(delegation.pk),
    )
    page = client.get(NEW).content.decode()
    assert f"已登记：陈** 授权 陈** 代办，有效期至 {day.isoformat()}。" in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"principal_name": "王五"}, "principal_id_number", NO_SUCH_CITIZEN),
        (
            {"agent_id_number": make_id_number(555, birth="19700101")},
            "agent_id_number",
            NO_SUCH_CITIZEN,
        ),
        ({"principal_id_number": "3415021990"}, "principal_id_number", "身份证号码应为18位"),
        ({"scopes": []}, "scopes", "请至少选择一项授权范围。"),
        (
            {"expires_on": (timezone.localdate() - timedelta(days=3)).isoformat()},
            "expires_on",
            "授权到期时间必须晚于当前时间。",
        ),
        ({"note": ""}, "note", "这个字段是必填项。"),
    ],
    ids=["principal-name", "unknown-agent", "bad-id", "no-scope", "past", "no-note"],
)
def test_bad_input_gives_its_message_and_creates_nothing(
    client: Client, overrides: dict[str, object], field: str, message: str
):
    client.force_login(staff_with_role(Role.WINDOW_CLERK))
    principal, agent = UserFactory(), UserFactory()

    response = _record(client, principal, agent, **overrides)

    assert response.status_code == 200
    errors = response.context["form"].errors[field]
    assert len(errors) == 1
    assert errors[0].startswith(message)
    assert Delegation.objects.count() == 0
    assert _changes().count() == 0


def test_the_same_person_on_both_sides_is_refused(client: Client):
    client.force_login(staff_with_role(Role.WINDOW_CLERK))
    principal = UserFactory()

    response = _record(client, principal, principal)

    assert response.context["form"].errors["agent_id_number"] == ["不能委托自己为代办人。"]
    assert Delegation.objects.count() == 0


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_is_sent_to_sign_in(client: Client, method: str):
    response = getattr(client, method)(NEW)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={NEW}"


@pytest.mark.parametrize(
    "who",
    ["citizen", Role.APPROVER.value, Role.DISPATCHER.value, Role.ADMIN.value],
)
def test_only_window_clerks_may_open_it(client: Client, who: str):
    user = UserFactory() if who == "citizen" else staff_with_role(who)
    client.force_login(user)
    principal, agent = UserFactory(), UserFactory()

    page = client.get(NEW)
    posted = _record(client, principal, agent)

    assert (page.status_code, posted.status_code) == (403, 403)
    assert Delegation.objects.count() == 0


def test_window_clerk_panel_links_to_it_and_others_do_not(client: Client):
    client.force_login(staff_with_role(Role.WINDOW_CLERK))
    assert f'href="{NEW}"' in client.get("/console/").content.decode()

    client.force_login(staff_with_role(Role.APPROVER))
    assert f'href="{NEW}"' not in client.get("/console/").content.decode()
