"""前台综合受理 and the self-service terminal in a real browser, on the Lu'an demo.

* demo-clerk opens 前台综合受理 from the 受理台, finds 个体工商户设立登记, is told that a
  mistyped applicant is not a real-name user, corrects it, uploads the scans and submits for
  李小明 (channel window), then accepts at once on the case page (desktop; the form also on a
  phone in elder mode).
* demo-citizen signs in at a 1080×1920 kiosk, picks 住房公积金提取 through a theme tile, goes
  through the steps one screen at a time (situation and phone as big buttons), submits
  (channel terminal), sees the number on the finish screen and signs out; the home also fits a
  phone in elder mode, and signs the user out after two idle minutes.

With YIWANG_SCREENSHOTS=1 it writes applications-walk-in-*.png and applications-terminal-*.png
into docs/img (or YIWANG_SCREENSHOT_DIR)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from yiwang.accounts.demo import accounts_demo_load
from yiwang.accounts.models import User
from yiwang.applications import sources
from yiwang.applications.models import Application
from yiwang.applications.tests.factories import PNG
from yiwang.catalog.demo import catalog_demo_load
from yiwang.catalog.models import Material

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "yiwang-demo-2026"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
KIOSK = {"width": 1080, "height": 1920}
IMG_DIR = Path(
    os.environ.get("YIWANG_SCREENSHOT_DIR") or Path(__file__).resolve().parents[2] / "docs" / "img"
)
SCREENSHOTS = os.environ.get("YIWANG_SCREENSHOTS") == "1"
MIN_TOUCH = 56  # px: the terminal's smallest control


@pytest.fixture
def government_source() -> Iterator[None]:
    """Stands in for the e-certificate app: answers the materials the government holds."""

    def provider(material: Material, applicant: User) -> sources.FetchedMaterial:
        return sources.FetchedMaterial(reference="DZZZ-TEST", provider="test-certificates")

    sources.material_provider_register(provider)
    yield
    sources.material_provider_unregister(provider)


@pytest.fixture
def demo() -> None:
    accounts_demo_load(password=PASSWORD)
    catalog_demo_load(
        actor=User.objects.get(username="demo-catalog"),
        reviewer=User.objects.get(username="demo-reviewer"),
    )


def _page(browser: Any, viewport: dict[str, int], *, elder_at: str = "") -> Any:
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    if elder_at:
        context.add_cookies([{"name": "elder", "value": "1", "url": elder_at}])
    return context.new_page()


def _sign_in(page: Any, live_server: Any, username: str, next_url: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    _fill_sign_in(page, username)


def _fill_sign_in(page: Any, username: str) -> None:
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()


def _click(page: Any, role: str, name: str, *, exact: bool = True) -> None:
    with page.expect_navigation():
        page.get_by_role(role, name=name, exact=exact).first.click()


def _no_sideways_scroll(page: Any, viewport: dict[str, int]) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth") <= viewport["width"])


def _shot(page: Any, name: str) -> None:
    if SCREENSHOTS:
        IMG_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(IMG_DIR / name), full_page=True)


def _upload_visible_materials(page: Any) -> int:
    """Choose a scan for every shown material the government does not already hold."""
    count = 0
    for row in page.locator(".material:visible").all():
        if row.locator(".held-by-government").count():
            continue
        row.locator("input[type=file]").set_input_files(
            {"name": "scan.png", "mimeType": "image/png", "buffer": PNG}
        )
        count += 1
    return count


def test_walk_in_application_at_the_window_then_accepted(
    browser: Any, live_server: Any, demo: None, government_source: None
):
    applicant = User.objects.get(username="demo-citizen")
    clerk = _page(browser, DESKTOP)
    _sign_in(clerk, live_server, "demo-clerk", "/console/")
    _click(clerk, "link", "受理台")
    _click(clerk, "link", "前台综合受理（录入窗口申请）")
    clerk.get_by_label("查找事项或一件事").fill("个体工商户")
    _click(clerk, "button", "查找")
    _shot(clerk, "applications-walk-in-choose-desktop.png")
    _click(clerk, "link", "个体工商户设立登记")

    # A name that does not match the ID number: a clear message, nothing created.
    clerk.get_by_label("申请人姓名").fill("李小民")
    clerk.get_by_label("申请人身份证号码").fill(applicant.id_number)
    clerk.get_by_label("联系电话").fill("13800000001")
    _click(clerk, "button", "提交申请（窗口录入）")
    assert "找不到姓名和身份证号码相符的实名注册用户" in clerk.locator("#form-errors").inner_text()
    assert not Application.objects.exists()
    _shot(clerk, "applications-walk-in-unknown-desktop.png")

    clerk.get_by_label("申请人姓名").fill("李小明")
    assert _upload_visible_materials(clerk) == 2
    assert clerk.get_by_text("政府部门已有此材料").count() == 1  # 居民身份证: fetched
    _shot(clerk, "applications-walk-in-form-desktop.png")
    _click(clerk, "button", "提交申请（窗口录入）")

    application = Application.objects.get()
    assert (application.channel, application.applicant_id) == ("window", applicant.pk)
    assert f"办件编号 {application.number}" in clerk.locator(".messages").inner_text()
    _shot(clerk, "applications-walk-in-submitted-desktop.png")
    _click(clerk, "button", "受理")
    assert "已受理，受理通知书可下载打印。" in clerk.content()
    application.refresh_from_db()
    assert application.status == Application.Status.IN_REVIEW

    phone = _page(browser, PHONE, elder_at=live_server.url)
    _sign_in(phone, live_server, "demo-clerk", "/console/applications/walk-in/")
    _click(phone, "link", "个体工商户设立登记")
    assert phone.evaluate("document.body.className") == "elder"
    assert _no_sideways_scroll(phone, PHONE)
    _shot(phone, "applications-walk-in-form-phone-elder.png")
    for page in (clerk, phone):
        page.context.close()


def test_terminal_application_on_a_kiosk(
    browser: Any, live_server: Any, demo: None, government_source: None
):
    kiosk = _page(browser, KIOSK)
    kiosk.goto(f"{live_server.url}/terminal/")
    _click(kiosk, "link", "登录")
    _fill_sign_in(kiosk, "demo-citizen")
    assert kiosk.url.endswith("/terminal/")
    _shot(kiosk, "applications-terminal-home-kiosk.png")
    _click(kiosk, "link", "住房保障", exact=False)
    _click(kiosk, "link", "住房公积金提取", exact=False)

    # One step per screen; every control is a large touch target.
    next_button = kiosk.get_by_role("button", name="下一步")
    assert kiosk.get_by_text("第 1 步，共 6 步").is_visible()
    assert not kiosk.get_by_role("button", name="提交申请").is_visible()
    for control in (next_button, kiosk.locator("label.big-choice").first):
        assert control.bounding_box()["height"] >= MIN_TOUCH
    next_button.click()  # 为谁办理: for myself
    kiosk.get_by_text("离休、退休", exact=True).click()
    assert kiosk.locator("label.situation-choice").first.bounding_box()["height"] >= MIN_TOUCH
    _shot(kiosk, "applications-terminal-situation-kiosk.png")
    next_button.click()
    kiosk.get_by_label("年龄（周岁）").fill("65")
    next_button.click()
    assert _upload_visible_materials(kiosk) == 1  # the bank card; the rest is held
    _shot(kiosk, "applications-terminal-materials-kiosk.png")
    next_button.click()
    assert kiosk.get_by_label("使用账号手机号 138****0001").is_checked()
    assert not kiosk.get_by_label("请输入 11 位手机号码").is_visible()
    next_button.click()
    _click(kiosk, "button", "提交申请")

    application = Application.objects.get()
    assert (application.channel, application.situation) == ("terminal", "retire")
    assert application.contact_phone == "13800000001"
    assert kiosk.locator(".done-number").inner_text() == application.number
    assert kiosk.get_by_role("button", name="打印受理回执").is_visible()
    assert "秒无操作将自动退出登录" in kiosk.locator("footer").inner_text()
    _shot(kiosk, "applications-terminal-done-kiosk.png")
    _click(kiosk, "button", "退出")
    assert kiosk.url.endswith("/terminal/")
    assert kiosk.get_by_role("link", name="登录").is_visible()
    kiosk.context.close()

    # On a phone in elder mode; left alone, the terminal signs the user out by itself.
    phone = _page(browser, PHONE, elder_at=live_server.url)
    phone.clock.install()
    _sign_in(phone, live_server, "demo-citizen", "/terminal/")
    assert phone.evaluate("document.body.className") == "terminal elder"
    assert _no_sideways_scroll(phone, PHONE)
    _shot(phone, "applications-terminal-home-phone-elder.png")
    _click(phone, "link", "住房公积金提取", exact=False)
    assert _no_sideways_scroll(phone, PHONE)
    _shot(phone, "applications-terminal-step-phone-elder.png")
    phone.clock.run_for(110_000)
    assert "秒后自动退出" in phone.locator("#idle-countdown").inner_text()
    with phone.expect_navigation():
        phone.clock.run_for(15_000)
    assert phone.url.endswith("/terminal/")
    assert phone.get_by_role("link", name="登录").is_visible()
    phone.context.close()
