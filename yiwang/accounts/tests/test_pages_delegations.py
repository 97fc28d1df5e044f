"""My account (/accounts/me/) and a citizen's delegations (/accounts/delegations/): granting
through delegation_grant with the agent named by real name + ID number, the lists, revocation
with confirmation, and who may do what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from yiwang.accounts.forms import delegation_default_expiry_date, delegation_expires_at
from yiwang.accounts.models import Delegation, Role
from yiwang.accounts.tests.factories import (
    DelegationFactory,
    StaffFactory,
    UserFactory,
    make_id_number,
    staff_with_role,
)
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db

ME = "/accounts/me/"
DELEGATIONS = "/accounts/delegations/"
UNREGISTERED_ID = make_id_number(777, birth="19700101")
NO_SUCH_CITIZEN = "没有找到姓名和身份证号码都相符的实名注册用户。"


def _changes():
    """Audit rows other than sign-in (force_login writes one)."""
    return AuditEntry.objects.exclude(action="accounts.login")


def _revoke_url(delegation: Delegation) -> str:
    return f"/accounts/delegations/{delegation.public_id}/revoke/"


def _grant(client: Client, agent, **overrides):
    data = {
        "agent_name": agent.real_name,
        "agent_id_number": agent.id_number,
        "scopes": ["apply", "query"],
        "expires_on": (timezone.localdate() + timedelta(days=30)).isoformat(),
    }
    data.update(overrides)
    return client.post(DELEGATIONS, data)


# --- my account ---------------------------------------------------------------------------


def test_my_account_shows_only_masked_identity(client: Client):
    user = UserFactory(real_name="张三丰", id_number="341502199001010013", phone="13912345678")
    client.force_login(user)

    response = client.get(ME)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<dd>张**</dd>" in html
    assert "<dd>3415**********0013</dd>" in html
    assert "<dd>139****5678</dd>" in html
    assert "张三丰" not in html
    assert "13912345678" not in html
    assert "<dt>长辈版</dt><dd>未开启</dd>" in html
    assert f'href="{DELEGATIONS}"' in html


def test_my_account_shows_elder_mode_on(client: Client):
    client.force_login(UserFactory(elder_mode=True))

    html = client.get(ME).content.decode()

    assert "<dt>长辈版</dt><dd>已开启</dd>" in html


def test_staff_may_see_their_account_without_the_delegation_link(client: Client):
    client.force_login(StaffFactory())

    response = client.get(ME)

    assert response.status_code == 200
    assert DELEGATIONS not in response.content.decode()


@pytest.mark.parametrize("url", [ME, DELEGATIONS])
def test_anonymous_is_sent_to_sign_in(client: Client, url: str):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


# --- granting -----------------------------------------------------------------------------


def test_a_citizen_authorises_a_family_member(client: Client):
    principal, agent = UserFactory(), UserFactory(real_name="李四")
    client.force_login(principal)
    day = timezone.localdate() + timedelta(days=30)

    response = _grant(client, agent, agent_name=" 李 四 ", expires_on=day.isoformat())

    assert response.status_code == 302
    assert response["Location"] == DELEGATIONS
    delegation = Delegation.objects.get()
    assert (delegation.principal, delegation.agent, delegation.recorded_by) == (
        principal,
        agent,
        principal,
    )
    assert delegation.scopes == ["apply", "query"]
    assert delegation.expires_at == delegation_expires_at(day)
    assert timezone.localtime(delegation.expires_at).date() == day + timedelta(days=1)
    entry = _changes().get()
    assert (entry.action, entry.actor_id, entry.on_behalf_of_id, entry.object_id) == (
        "accounts.delegation_grant",
        principal.pk,
        principal.pk,
        str(delegation.pk),
    )
    page = client.get(DELEGATIONS).content.decode()
    assert f"已授权 李* 为您代办，有效期至 {day.isoformat()}。" in page
    assert "代办人：李*" in page
    assert "代为申请办事、查询办件进度" in page
    assert f"<dd>{day.isoformat()}</dd>" in page
    assert 'class="badge status-active">有效</span>' in page


def test_the_form_offers_one_year_and_all_scopes(client: Client):
    client.force_login(UserFactory())

    response = client.get(DELEGATIONS)

    html = response.content.decode()
    assert f'value="{delegation_default_expiry_date().isoformat()}"' in html
    for value, _label in Delegation.Scope.choices:
        assert f'type="checkbox" name="scopes" value="{value}"' in html


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"agent_id_number": UNREGISTERED_ID}, "agent_id_number", NO_SUCH_CITIZEN),
        ({"agent_name": "王五"}, "agent_id_number", NO_SUCH_CITIZEN),
        ({"agent_id_number": "341502199001010019"}, "agent_id_number", "身份证号码校验位错误"),
        ({"scopes": []}, "scopes", "请至少选择一项授权范围。"),
        ({"scopes": ["apply", "bogus"]}, "scopes", "选择一个有效的选项。"),
        (
            {"expires_on": (timezone.localdate() - timedelta(days=1)).isoformat()},
            "expires_on",
            "授权到期时间必须晚于当前时间。",
        ),
        (
            {"expires_on": (timezone.localdate() + timedelta(days=400)).isoformat()},
            "expires_on",
            "授权期限不能超过 366 天。",
        ),
        ({"expires_on": "not-a-date"}, "expires_on", "请输入有效的日期。"),
    ],
    ids=[
        "unknown-id",
        "wrong-name",
        "check-digit",
        "no-scope",
        "bad-scope",
        "past",
        "too-long",
        "bad-date",
    ],
)
def test_bad_input_gives_its_message_and_creates_nothing(
    client: Client, overrides: dict[str, object], field: str, message: str
):
    principal, agent = UserFactory(), UserFactory(real_name="李四")
    client.force_login(principal)

    response = _grant(client, agent, **overrides)

    assert response.status_code == 200
    errors = response.context["form"].errors[field]
    assert len(errors) == 1
    assert errors[0].startswith(message)
    assert Delegation.objects.count() == 0
    assert _changes().count() == 0


def test_an_unknown_number_and_a_wrong_name_read_the_same(client: Client):
    """No oracle: whether an ID number is registered shows only to someone who knows the name."""
    client.force_login(UserFactory())
    agent = UserFactory(real_name="李四")

    wrong_name = _grant(client, agent, agent_name="王五").context["form"].errors
    unknown = _grant(client, agent, agent_id_number=UNREGISTERED_ID).context["form"].errors

    assert wrong_name == unknown


def test_authorising_oneself_is_refused_by_the_service(client: Client):
    principal = UserFactory()
    client.force_login(principal)

    response = _grant(client, principal)

    assert response.context["form"].errors["agent_id_number"] == ["不能委托自己为代办人。"]
    assert Delegation.objects.count() == 0
    assert _changes().count() == 0


def test_staff_and_anonymous_cannot_grant(client: Client):
    agent = UserFactory()
    client.force_login(StaffFactory())

    response = _grant(client, agent)

    assert response.status_code == 403
    assert Delegation.objects.count() == 0


# --- the lists ----------------------------------------------------------------------------


def test_lists_show_given_and_held_with_their_status(client: Client, django_assert_max_num_queries):
    me = UserFactory()
    now = timezone.now()
    DelegationFactory(principal=me, agent=UserFactory(real_name="赵一"))
    DelegationFactory(
        principal=me, agent=UserFactory(real_name="钱二"), expires_at=now - timedelta(hours=1)
    )
    DelegationFactory(principal=me, agent=UserFactory(real_name="孙三"), revoked_at=now)
    DelegationFactory(principal=UserFactory(real_name="周五"), agent=me)
    DelegationFactory(principal=UserFactory(real_name="吴六"), agent=UserFactory())  # not mine
    client.force_login(me)

    with django_assert_max_num_queries(8):
        response = client.get(DELEGATIONS)

    given = [(r.delegation.agent.real_name, r.status.value) for r in response.context["given"]]
    held = [(r.delegation.principal.real_name, r.status.value) for r in response.context["held"]]
    assert sorted(given) == [("孙三", "revoked"), ("赵一", "active"), ("钱二", "expired")]
    assert held == [("周五", "active")]
    html = response.content.decode()
    assert "委托人：周*" in html
    assert "吴六" not in html
    assert "吴*" not in html
    # Only the active delegation I gave has a revoke button.
    assert html.count("撤销授权<span") == 1


# --- revoking -----------------------------------------------------------------------------


def test_revoking_asks_first_then_revokes_on_post(client: Client):
    me = UserFactory()
    delegation = DelegationFactory(principal=me, agent=UserFactory(real_name="李四"))
    client.force_login(me)

    confirm = client.get(_revoke_url(delegation))

    assert confirm.status_code == 200
    assert "确定要撤销吗？" in confirm.content.decode()
    delegation.refresh_from_db()
    assert delegation.revoked_at is None

    response = client.post(_revoke_url(delegation))

    assert response.status_code == 302
    assert response["Location"] == DELEGATIONS
    delegation.refresh_from_db()
    assert delegation.revoked_at is not None
    entry = _changes().get()
    assert (entry.action, entry.actor_id, entry.on_behalf_of_id) == (
        "accounts.delegation_revoke",
        me.pk,
        me.pk,
    )
    assert "已撤销对 李* 的代办授权。" in client.get(DELEGATIONS).content.decode()


def test_revoking_twice_says_so_and_changes_nothing(client: Client):
    me = UserFactory()
    revoked_at = timezone.now() - timedelta(hours=1)
    delegation = DelegationFactory(principal=me, revoked_at=revoked_at)
    client.force_login(me)

    response = client.post(_revoke_url(delegation), follow=True)

    assert "这项代办授权已经撤销。" in response.content.decode()
    delegation.refresh_from_db()
    assert delegation.revoked_at == revoked_at
    assert _changes().count() == 0


@pytest.mark.parametrize("who", ["other-citizen", "agent", "window-clerk"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_only_the_principal_may_revoke_here(client: Client, who: str, method: str):
    delegation = DelegationFactory()
    intruder = {
        "other-citizen": UserFactory,
        "agent": lambda: delegation.agent,
        "window-clerk": lambda: staff_with_role(Role.WINDOW_CLERK),
    }[who]()
    client.force_login(intruder)

    response = getattr(client, method)(_revoke_url(delegation))

    expected = 403 if who == "window-clerk" else 404  # staff are not citizens at all
    assert response.status_code == expected
    delegation.refresh_from_db()
    assert delegation.revoked_at is None
    assert _changes().count() == 0


def test_an_unknown_delegation_is_404(client: Client):
    client.force_login(UserFactory())

    response = client.get("/accounts/delegations/00000000-0000-0000-0000-000000000000/revoke/")

    assert response.status_code == 404


def test_anonymous_cannot_revoke(client: Client):
    delegation = DelegationFactory()

    response = client.post(_revoke_url(delegation))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    delegation.refresh_from_db()
    assert delegation.revoked_at is None
