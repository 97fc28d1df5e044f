"""/console/tokens/: a staff member's personal API tokens."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from yiwang.accounts.models import ApiToken, User
from yiwang.accounts.services import api_token_create, api_token_revoke
from yiwang.accounts.tests.factories import StaffFactory, UserFactory, admin_user
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db

TOKENS = "/console/tokens/"
RAW_TOKEN = re.compile(r'id="new-token" value="(yw_[A-Za-z0-9_-]+)"')


def revoke_url(token: ApiToken) -> str:
    return f"/console/tokens/{token.pk}/revoke/"


def personal_token(user: User, name: str = "script", **kwargs: Any) -> tuple[ApiToken, str]:
    return api_token_create(actor=user, user=user, kind=ApiToken.Kind.PERSONAL, name=name, **kwargs)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def staff() -> User:
    user: User = StaffFactory.create(real_name="李四")
    return user


def token_audit_rows() -> int:
    return AuditEntry.objects.filter(action__startswith="accounts.api_token_").count()


# --- access ------------------------------------------------------------------------------------


def test_the_urls_are_where_the_console_links_point():
    assert reverse("console:tokens") == TOKENS
    assert reverse("console:token_revoke", args=[7]) == "/console/tokens/7/revoke/"


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("page", ["list", "revoke"])
def test_anonymous_is_sent_to_sign_in(staff: User, method: str, page: str):
    token, _ = personal_token(staff)
    url = TOKENS if page == "list" else revoke_url(token)
    response = Client().post(url, {"name": "x"}) if method == "post" else Client().get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url}"
    assert ApiToken.objects.count() == 1
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("page", ["list", "revoke"])
def test_a_citizen_gets_403(staff: User, method: str, page: str):
    token, _ = personal_token(staff)
    url = TOKENS if page == "list" else revoke_url(token)
    client = signed_in(UserFactory())
    response = client.post(url, {"name": "x"}) if method == "post" else client.get(url)
    assert response.status_code == 403
    assert ApiToken.objects.count() == 1
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("who", ["other_staff", "administrator"])
def test_another_persons_token_is_404_even_for_an_administrator(staff: User, method: str, who: str):
    # given a token of someone else
    token, _ = personal_token(staff)
    actor = StaffFactory() if who == "other_staff" else admin_user()
    # when
    response = getattr(signed_in(actor), method)(revoke_url(token))
    # then
    assert response.status_code == 404
    assert "找不到" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None
    assert AuditEntry.objects.filter(action="accounts.api_token_revoke").count() == 0


def test_an_unknown_token_id_is_404(staff: User):
    assert signed_in(staff).get("/console/tokens/999999/revoke/").status_code == 404


def test_other_methods_are_refused(staff: User):
    assert signed_in(staff).put(TOKENS).status_code == 405


# --- list ----------------------------------------------------------------------------------------


def test_the_list_shows_only_my_tokens_with_their_status(staff: User):
    # given an active, an expiring, an expired and a revoked token of mine, and someone else's
    personal_token(staff, "active one")
    personal_token(staff, "expiring", expires_at=timezone.now() + timedelta(days=3))
    expired, _ = personal_token(staff, "expired one")
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    revoked, _ = personal_token(staff, "revoked one")
    api_token_revoke(actor=staff, token=revoked)
    personal_token(StaffFactory(), "not mine")
    # when
    response = signed_in(staff).get(TOKENS)
    # then
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(r.token.name, r.status.value) for r in rows] == [
        ("revoked one", "revoked"),
        ("expired one", "expired"),
        ("expiring", "active"),
        ("active one", "active"),
    ]
    html = response.content.decode()
    assert "not mine" not in html
    assert html.count('<span class="badge status-active">有效</span>') == 2
    assert '<span class="badge status-expired">已过期</span>' in html
    assert '<span class="badge status-revoked">已撤销</span>' in html
    assert "长期有效" in html
    assert "从未使用" in html
    assert f"<code>{rows[0].token.prefix}…</code>" in html
    # only active tokens offer a revoke link
    assert html.count('href="/console/tokens/') == 2
    assert revoke_url(revoked) not in html
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"


def test_the_list_shows_when_a_token_was_last_used_in_city_time(staff: User):
    token, _ = personal_token(staff)
    used = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=used)
    html = signed_in(staff).get(TOKENS).content.decode()
    assert "<dt>最近使用</dt><dd>2026-03-01 10:30</dd>" in html


def test_the_list_takes_a_fixed_number_of_queries(staff: User, django_assert_num_queries: Any):
    client = signed_in(staff)
    personal_token(staff)
    with django_assert_num_queries(4):  # session, user, tokens, the header's unread count
        client.get(TOKENS)
    for i in range(5):
        personal_token(staff, f"t{i}")
    with django_assert_num_queries(4):
        client.get(TOKENS)


def test_the_console_home_links_to_the_tokens_page(staff: User):
    html = signed_in(staff).get("/console/").content.decode()
    assert f'<a href="{TOKENS}">API 令牌</a>' in html


# --- create --------------------------------------------------------------------------------------


def test_creating_a_token_shows_it_once(staff: User):
    client = signed_in(staff)
    # when
    response = client.post(TOKENS, {"name": "月度统计脚本", "expires_in_days": "30"})
    # then the page itself (not a redirect) shows the raw token with its warning
    assert response.status_code == 200
    html = response.content.decode()
    match = RAW_TOKEN.search(html)
    assert match is not None
    raw = match.group(1)
    token = ApiToken.objects.get(user=staff)
    assert token.name == "月度统计脚本"
    assert token.kind == ApiToken.Kind.PERSONAL
    assert raw.startswith(token.prefix)
    assert token.expires_at is not None
    assert abs(token.expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    assert "新令牌“月度统计脚本”已创建" in html
    assert "离开本页后将无法再次查看此令牌" in html
    assert "全选（Ctrl+A）后复制（Ctrl+C）" in html
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"
    # and it works as a bearer token
    me = Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["username"] == staff.username
    # and it is kept nowhere: not in the session, not on the next page
    assert raw not in str(dict(client.session))
    assert raw not in client.get(TOKENS).content.decode()
    assert AuditEntry.objects.filter(action="accounts.api_token_create").count() == 1


def test_a_token_without_expiry_never_expires(staff: User):
    signed_in(staff).post(TOKENS, {"name": "nightly import", "expires_in_days": ""})
    assert ApiToken.objects.get(user=staff).expires_at is None


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": ""}, "name", "这个字段是必填项。"),
        ({"name": "x" * 101}, "name", "确保该变量包含不超过 100 字符 (目前字符数 101)。"),
        ({"name": "x", "expires_in_days": "0"}, "expires_in_days", "确保该值大于或等于1。"),
        ({"name": "x", "expires_in_days": "366"}, "expires_in_days", "确保该值小于或等于365。"),
        ({"name": "x", "expires_in_days": "a week"}, "expires_in_days", "输入整数。"),
    ],
)
def test_bad_input_is_explained_and_creates_nothing(
    staff: User, data: dict[str, str], field: str, message: str
):
    response = signed_in(staff).post(TOKENS, data)
    assert response.status_code == 200
    assert response.context["form"].errors == {field: [message]}
    html = response.content.decode()
    assert "请修改以下问题后再提交" in html
    assert message in html
    assert RAW_TOKEN.search(html) is None
    assert ApiToken.objects.count() == 0
    assert token_audit_rows() == 0


# --- revoke --------------------------------------------------------------------------------------


def test_revoking_asks_for_confirmation_first(staff: User):
    token, raw = personal_token(staff, "old laptop")
    response = signed_in(staff).get(revoke_url(token))
    html = response.content.decode()
    assert response.status_code == 200
    assert "确定要撤销吗" in html
    assert f'<form method="post" action="{revoke_url(token)}">' in html
    token.refresh_from_db()
    assert token.revoked_at is None
    assert Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/v1/me").status_code == 200


def test_a_revoked_token_no_longer_authenticates(staff: User):
    # given a token created on the page, which works
    client = signed_in(staff)
    html = client.post(TOKENS, {"name": "ci"}).content.decode()
    match = RAW_TOKEN.search(html)
    assert match is not None
    api = Client(headers={"Authorization": f"Bearer {match.group(1)}"})
    assert api.get("/api/v1/me").status_code == 200
    token = ApiToken.objects.get(user=staff)
    # when it is revoked through the confirmation form
    response = client.post(revoke_url(token), follow=True)
    # then
    assert response.redirect_chain == [(TOKENS, 302)]
    assert "已撤销令牌“ci”，使用它的请求将立即被拒绝。" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    refused = api.get("/api/v1/me")
    assert refused.status_code == 401
    assert refused.json()["code"] == "core.unauthenticated"
    assert AuditEntry.objects.filter(action="accounts.api_token_revoke").count() == 1


def test_revoking_twice_changes_nothing_the_second_time(staff: User):
    token, _ = personal_token(staff, "twice")
    client = signed_in(staff)
    client.post(revoke_url(token))
    token.refresh_from_db()
    first = token.revoked_at
    # when
    response = client.post(revoke_url(token), follow=True)
    # then
    assert "令牌“twice”已经撤销。" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at == first
    assert AuditEntry.objects.filter(action="accounts.api_token_revoke").count() == 1
    assert "无需再次撤销" in client.get(revoke_url(token)).content.decode()
