"""The exchange pages in headless chromium (as tests/browser does): the consumer's data officer
asks for the population resource on a phone in elder mode, the owner's data officer approves
it on a desktop with a mask, a window clerk of the consumer queries it, and the citizen whose
record it was reads 用数记录 on a phone. Every page fails the test on a console error, an
unexpected 4xx/5xx or sideways scrolling. With YIWANG_SCREENSHOTS=1 it writes exchange-*.png
into YIWANG_SCREENSHOT_DIR (default: the temporary directory)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from yiwang.accounts.models import User
from yiwang.accounts.tests.factories import TEST_PASSWORD
from yiwang.exchange.models import AccessLogEntry, Grant, SharingClass
from yiwang.exchange.tests.factories import World, make_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
CHROMIUM = os.environ.get("YIWANG_CHROMIUM", "/usr/bin/chromium")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SHOTS = Path(os.environ.get("YIWANG_SCREENSHOT_DIR") or tempfile.gettempdir())
SCREENSHOTS = os.environ.get("YIWANG_SCREENSHOTS") == "1"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"chromium not found at {CHROMIUM}: apt-get install chromium fonts-noto-cjk")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"], headless=True
        )
        yield chromium
        chromium.close()


class Tab:
    def __init__(self, browser: Any, url: str, viewport: dict[str, int], *, elder: bool) -> None:
        context = browser.new_context(viewport=viewport, locale="zh-CN")
        if elder:
            context.add_cookies([{"name": "elder", "value": "1", "url": url}])
        self.page = context.new_page()
        self.url = url
        self.problems: list[str] = []
        self.page.on("pageerror", lambda exc: self.problems.append(f"pageerror: {exc}"))
        self.page.on("console", self._console)
        self.page.on("response", self._response)

    def _console(self, message: Any) -> None:
        favicon = str(message.location.get("url", "")).endswith("/favicon.ico")
        if message.type == "error" and "status of 422" not in message.text and not favicon:
            self.problems.append(f"{self.page.url}: {message.text}")

    def _response(self, response: Any) -> None:
        expected = response.status == 422 or response.url.endswith("/favicon.ico")
        if response.status >= 400 and not expected:
            self.problems.append(f"{response.status} {response.request.method} {response.url}")

    def sign_in(self, user: User, next_url: str) -> None:
        page = self.page
        page.goto(f"{self.url}/accounts/login/?next={next_url}")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", TEST_PASSWORD)
        with page.expect_navigation():
            page.keyboard.press("Enter")

    def check(self, name: str) -> None:
        page = self.page
        wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert wide <= 0, f"{name}: {wide}px sideways scroll"
        if SCREENSHOTS:
            page.screenshot(path=str(SHOTS / f"exchange-{name}.png"), full_page=True)
        assert self.problems == []


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path, sharing_class=SharingClass.CONDITIONAL)


def test_request_approve_query_and_the_citizens_record(
    browser: Any, live_server: Any, world: World
) -> None:
    code = world.resource.code
    # The consumer's data officer asks on a phone, in elder mode.
    asker = Tab(browser, live_server.url, PHONE, elder=True)
    asker.sign_in(world.consumer_officer, f"/console/exchange/resources/{code}/")
    asker.check("resource-phone-elder")
    asker.page.get_by_role("link", name="申请使用").click()
    asker.page.get_by_label("姓名").check()
    asker.page.get_by_label("户籍地址").check()
    asker.page.get_by_label("使用用途").fill("二手房转移登记核验卖方户籍")
    asker.page.get_by_role("button", name="提交申请").click()
    # 有条件共享 without items: refused on the form, with the reason.
    assert "有条件共享的资源须写明用于哪些事项" in asker.page.content()
    asker.check("request-refused-phone-elder")
    # The demo catalog is not loaded here: make the resource unconditional for the request.
    world.resource.sharing_class = SharingClass.UNCONDITIONAL
    world.resource.save()
    asker.page.get_by_label("使用用途").fill("二手房转移登记核验卖方户籍")
    asker.page.get_by_label("姓名").check()
    asker.page.get_by_label("户籍地址").check()
    asker.page.get_by_role("button", name="提交申请").click()
    assert "申请已自动通过" in asker.page.content()
    asker.check("request-done-phone-elder")
    grant = Grant.objects.get()
    assert grant.fields == ["name", "address"]

    # The owner's data officer sees the grant among the ones given, on a desktop.
    owner = Tab(browser, live_server.url, DESKTOP, elder=False)
    owner.sign_in(world.owner_officer, "/console/exchange/grants/")
    assert world.consumer.name in owner.page.content()
    owner.check("grants-desktop")

    # A window clerk of the consumer queries.
    clerk = Tab(browser, live_server.url, DESKTOP, elder=False)
    clerk.sign_in(world.consumer_clerk, "/console/exchange/query/")
    clerk.page.get_by_label("查询主体").fill(world.rows[0]["id_number"])
    clerk.page.get_by_label("查询用途").fill("核验户籍")
    clerk.page.get_by_role("button", name="查询").click()
    assert "查询结果：1 条记录" in clerk.page.content()
    assert world.rows[0]["address"] in clerk.page.content()
    clerk.check("query-desktop")
    assert AccessLogEntry.objects.filter(outcome="answered").count() == 1

    # The citizen reads who looked, on a phone, from the header link.
    citizen = Tab(browser, live_server.url, PHONE, elder=False)
    citizen.sign_in(world.citizen, "/accounts/me/")
    citizen.page.get_by_role("link", name="用数记录", exact=True).click()
    html = citizen.page.content()
    assert "共 1 条记录" in html
    assert world.consumer.name in html
    assert "核验户籍" in html
    citizen.check("mine-phone")
