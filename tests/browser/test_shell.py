"""The web shell in a real browser: elder mode sticks, staff reach the console, the keyboard
reaches the skip link first. With YIWANG_SCREENSHOTS=1 it also writes docs/img/*.png."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from yiwang.accounts.models import Role
from yiwang.accounts.tests.factories import TEST_PASSWORD, DepartmentFactory, staff_with_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
IMG_DIR = Path(__file__).resolve().parents[2] / "docs" / "img"


def _page(browser: Any, viewport: dict[str, int] = DESKTOP) -> Any:
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    return context.new_page()


def _body_classes(page: Any) -> str:
    return str(page.evaluate("document.body.className"))


def test_elder_mode_switched_on_once_stays_on(browser: Any, live_server: Any):
    page = _page(browser)
    page.goto(live_server.url + "/")
    assert _body_classes(page) == ""

    with page.expect_navigation():
        page.get_by_role("button", name="长辈版").click()

    assert _body_classes(page) == "elder"
    page.reload()
    assert _body_classes(page) == "elder"
    assert page.get_by_role("button", name="长辈版：已开启").get_attribute("aria-pressed") == "true"
    # Fewer elements: the secondary cards are gone, the primary ones are bigger.
    assert page.locator(".cards > li:visible").count() == 3
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 20
    page.context.close()


def test_staff_signs_in_and_lands_on_the_console(browser: Any, live_server: Any):
    department = DepartmentFactory(name="六安市数据资源局")
    staff = staff_with_role(Role.APPROVER, department=department)
    page = _page(browser)

    page.goto(live_server.url + "/console/")
    page.get_by_label("用户名").fill(staff.username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()

    assert page.url == live_server.url + "/console/"
    assert page.get_by_role("heading", level=1).inner_text() == "工作台"
    assert page.get_by_role("heading", name="部门审批").is_visible()
    assert "六安市数据资源局" in page.content()
    page.context.close()


def test_tab_reaches_the_skip_link_first_and_it_moves_focus_to_main(browser: Any, live_server: Any):
    page = _page(browser)
    page.goto(live_server.url + "/")

    page.keyboard.press("Tab")

    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_home_does_not_overflow_sideways(
    browser: Any, live_server: Any, viewport: dict[str, int], elder: bool
):
    page = _page(browser, viewport)
    if elder:
        page.context.add_cookies([{"name": "elder", "value": "1", "url": live_server.url}])

    page.goto(live_server.url + "/")

    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.context.close()


@pytest.mark.skipif(os.environ.get("YIWANG_SCREENSHOTS") != "1", reason="YIWANG_SCREENSHOTS=1")
def test_write_screenshots(browser: Any, live_server: Any):
    IMG_DIR.mkdir(parents=True, exist_ok=True)
    staff = staff_with_role(
        Role.WINDOW_CLERK, department=DepartmentFactory(name="六安市数据资源局"), real_name="王小明"
    )
    from yiwang.accounts.tests.factories import RoleAssignmentFactory

    RoleAssignmentFactory(user=staff, role=Role.APPROVER, department=staff.department)
    RoleAssignmentFactory(user=staff, role=Role.AUDITOR, department=None)

    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        for elder in (False, True):
            page = _page(browser, viewport)
            if elder:
                page.context.add_cookies([{"name": "elder", "value": "1", "url": live_server.url}])
            page.goto(live_server.url + "/")
            suffix = "-elder" if elder else ""
            page.screenshot(path=str(IMG_DIR / f"home-{name}{suffix}.png"), full_page=True)
            page.context.close()

    page = _page(browser, DESKTOP)
    page.goto(live_server.url + "/accounts/login/?next=/console/")
    page.screenshot(path=str(IMG_DIR / "login-desktop.png"), full_page=True)
    page.get_by_label("用户名").fill(staff.username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    page.screenshot(path=str(IMG_DIR / "console-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(IMG_DIR / "console-phone.png"), full_page=True)
    page.context.close()

    page = _page(browser, DESKTOP)
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page.goto(live_server.url + "/")
    page.screenshot(path=str(IMG_DIR / "home-desktop-en.png"), full_page=True)
    page.context.close()
