"""Registration and delegation in a real browser, the way an elderly person's family would do
it: on a phone, in elder mode. With YIWANG_SCREENSHOTS=1 it also writes
docs/img/register-phone-elder.png and docs/img/delegations-desktop.png."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from yiwang.accounts.forms import delegation_expires_at
from yiwang.accounts.models import Delegation, User
from yiwang.accounts.tests.factories import (
    TEST_PASSWORD,
    DelegationFactory,
    UserFactory,
    make_id_number,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
IMG_DIR = Path(__file__).resolve().parents[2] / "docs" / "img"
SCREENSHOTS = os.environ.get("YIWANG_SCREENSHOTS") == "1"


def _page(browser: Any, live_server: Any, viewport: dict[str, int], *, elder: bool) -> Any:
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    if elder:
        context.add_cookies([{"name": "elder", "value": "1", "url": live_server.url}])
    return context.new_page()


def _no_sideways_scroll(page: Any, viewport: dict[str, int]) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth") <= viewport["width"])


def test_register_then_authorise_a_family_member_on_a_phone_in_elder_mode(
    browser: Any, live_server: Any
):
    daughter = UserFactory(real_name="王小红")
    own_id = make_id_number(321, birth="19480315")
    page = _page(browser, live_server, PHONE, elder=True)

    # Given the sign-in page, the citizen follows its registration link.
    page.goto(live_server.url + "/accounts/login/")
    with page.expect_navigation():
        page.get_by_role("link", name="实名注册").click()
    assert page.get_by_role("heading", level=1).inner_text() == "实名注册"
    assert page.evaluate("document.body.className") == "elder"

    # A mistyped check digit is caught and explained on the field.
    page.get_by_label("用户名").fill("wanglaoye")
    page.get_by_label("真实姓名").fill("王老爷")
    page.get_by_label("身份证号码").fill(own_id[:17] + ("1" if own_id[17] != "1" else "2"))
    page.get_by_label("手机号码").fill("139 1234 5678")
    page.get_by_label("密码", exact=True).fill(TEST_PASSWORD)
    page.get_by_label("再次输入密码").fill(TEST_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="注册").click()
    assert "身份证号码校验位错误" in page.locator("#id_id_number_error").inner_text()
    assert page.get_by_label("身份证号码").get_attribute("aria-invalid") == "true"
    assert _no_sideways_scroll(page, PHONE)
    assert User.objects.filter(username="wanglaoye").count() == 0
    if SCREENSHOTS:  # the page as it explains a mistake
        IMG_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(IMG_DIR / "register-phone-elder.png"), full_page=True)

    # Corrected, the registration goes through and signs the citizen in.
    page.get_by_label("身份证号码").fill(own_id)
    page.get_by_label("密码", exact=True).fill(TEST_PASSWORD)
    page.get_by_label("再次输入密码").fill(TEST_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="注册").click()
    assert page.url == live_server.url + "/accounts/me/"
    assert "注册成功，您已登录。" in page.content()
    assert "3415**********" in page.content()

    # Then they authorise their daughter.
    with page.expect_navigation():
        page.get_by_role("link", name="代办授权").click()
    page.get_by_label("代办人姓名").fill("王小红")
    page.get_by_label("代办人身份证号码").fill(daughter.id_number)
    page.get_by_label("代为申请办事").check()
    page.get_by_label("代领结果").check()
    with page.expect_navigation():
        page.get_by_role("button", name="确认授权").click()

    assert "已授权 王** 为您代办" in page.content()
    assert page.get_by_role("heading", name="代办人：王**").is_visible()
    assert _no_sideways_scroll(page, PHONE)
    if SCREENSHOTS:
        page.screenshot(path=str(IMG_DIR / "delegations-phone-elder.png"), full_page=True)
    delegation = Delegation.objects.get()
    assert (delegation.principal.username, delegation.agent) == ("wanglaoye", daughter)
    assert delegation.scopes == ["apply", "receive"]
    page.context.close()


def test_revoke_asks_for_confirmation_in_the_browser(browser: Any, live_server: Any):
    me = UserFactory(username="zhaoyi")
    delegation = DelegationFactory(principal=me, agent=UserFactory(real_name="赵二"))
    page = _page(browser, live_server, DESKTOP, elder=False)
    page.goto(live_server.url + "/accounts/login/?next=/accounts/delegations/")
    page.get_by_label("用户名").fill("zhaoyi")
    page.get_by_label("密码").fill(TEST_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()

    with page.expect_navigation():
        page.get_by_role("link", name="撤销授权").click()
    with page.expect_navigation():
        page.get_by_role("button", name="确认撤销").click()

    assert "已撤销对 赵* 的代办授权。" in page.content()
    delegation.refresh_from_db()
    assert delegation.revoked_at is not None
    page.context.close()


@pytest.mark.skipif(not SCREENSHOTS, reason="YIWANG_SCREENSHOTS=1")
def test_write_delegations_screenshot(browser: Any, live_server: Any):
    me = UserFactory(username="liuxiansheng", real_name="刘建国")
    now = timezone.now()
    DelegationFactory(
        principal=me,
        agent=UserFactory(real_name="刘晓燕"),
        scopes=["apply", "query", "receive"],
        expires_at=delegation_expires_at(timezone.localdate() + timedelta(days=364)),
    )
    DelegationFactory(
        principal=me, agent=UserFactory(real_name="刘晓明"), revoked_at=now - timedelta(days=2)
    )
    DelegationFactory(principal=UserFactory(real_name="刘奶奶"), agent=me, scopes=["query"])
    page = _page(browser, live_server, DESKTOP, elder=False)
    page.goto(live_server.url + "/accounts/login/?next=/accounts/delegations/")
    page.get_by_label("用户名").fill("liuxiansheng")
    page.get_by_label("密码").fill(TEST_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()

    IMG_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMG_DIR / "delegations-desktop.png"), full_page=True)
    assert _no_sideways_scroll(page, DESKTOP)
    page.context.close()
