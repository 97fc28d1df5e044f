"""The issue's 12345 scenario through the real pages in headless chromium, on the Lu'an demo:
a caller reports a broken streetlight by phone one evening; the operator registers it with the
keyboard and it goes to 城管局 by itself; the next morning 城管局 signs it, has a stock reply
refused, replies what was done; the operator's return visit closes it, well within 24 hours,
and the caller got an SMS at registration and at the reply. A citizen reports the same kind of
fault on the phone portal with a photo and later reads the reply (normal and elder mode).

``timezone.now`` is a simulated clock (for the test and the live server thread) that starts
yesterday evening, so that the night between the call and the repair is real. With
YIWANG_SCREENSHOTS=1 it writes hotline-*.png into docs/img (or YIWANG_SCREENSHOT_DIR). Each
browser tab fails the test on a console error or an unexpected 4xx/5xx; each step it would
photograph is checked for sideways scrolling.
"""

from __future__ import annotations

import os
import struct
import threading
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import expect

from yiwang.accounts.demo import accounts_demo_load
from yiwang.accounts.models import Department, User
from yiwang.core.calendar import SHANGHAI
from yiwang.hotline import services
from yiwang.hotline.demo import hotline_demo_load
from yiwang.hotline.models import Event, WorkOrder
from yiwang.notifications.models import OutboundMessage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "yiwang-demo-2026"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SHOTS = Path(
    os.environ.get("YIWANG_SCREENSHOT_DIR") or Path(__file__).resolve().parents[2] / "docs" / "img"
)
SCREENSHOTS = os.environ.get("YIWANG_SCREENSHOTS") == "1"
CALLER = "13800000001"  # demo-citizen's mobile: the operator does not link the call to it
SAID = "金安区人民路和解放路交叉口的路灯坏了，晚上很黑"
ADDRESS = "金安区人民路与解放路交叉口"
REPLY_ACTION = "今天上午派员到现场检修，更换老化线路和灯头"
REPLY_TEXT = (
    "经现场核查，人民路与解放路交叉口路灯因线路老化损坏，"
    "我局已于今天上午9时更换线路和灯头，路灯已恢复照明，今后将加强夜间巡查。"
)


class SimulatedClock:
    """``timezone.now`` for the test and the live server thread: a set local time that moves
    one millisecond per reading (so events keep their order) and jumps forward when told."""

    def __init__(self, start: datetime) -> None:
        self._at = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            self._at += timedelta(milliseconds=1)
            return self._at.astimezone(UTC)

    def set(self, local: datetime) -> None:
        with self._lock:
            if local < self._at:
                raise ValueError("the simulated clock only moves forward")
            self._at = local


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SimulatedClock:
    """Yesterday 20:30 in Lu'an: recent, so that the browser keeps the session cookies."""
    yesterday = datetime.now(SHANGHAI).date() - timedelta(days=1)
    start = datetime(yesterday.year, yesterday.month, yesterday.day, 20, 30, tzinfo=SHANGHAI)
    simulated = SimulatedClock(start)
    monkeypatch.setattr(timezone, "now", simulated.now)
    return simulated


@pytest.fixture
def demo(clock: SimulatedClock) -> None:
    accounts_demo_load(password=PASSWORD)
    hotline_demo_load()


def _png() -> bytes:
    """A real 2×2 grey PNG (signature, IHDR, IDAT, IEND with their CRCs)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", 2, 2, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00\x80\x80" * 2)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


class Watched:
    """A page and what went wrong in it: console errors, uncaught exceptions, failed answers
    of the server. Not counted: a form sent back with 422 (chromium logs it as a failed
    resource; it is the expected answer), the favicon the site does not have, and a live check
    (htmx) cut off because the operator submitted the form while it ran (chromium ends such
    a request with a network error, which htmx logs)."""

    CUT_OFF = ("htmx:afterRequest", "htmx:sendError")

    def __init__(self, browser: Any, live_server: Any, viewport: dict[str, int], *, elder: bool):
        context = browser.new_context(viewport=viewport, locale="zh-CN")
        if elder:
            context.add_cookies([{"name": "elder", "value": "1", "url": live_server.url}])
        self.page = context.new_page()
        self.viewport = viewport
        self.live_server = live_server
        self.problems: list[str] = []
        self.leaving = False
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.problems.append(f"pageerror: {exc}"))
        self.page.on("request", self._request)
        self.page.on("load", lambda _page: setattr(self, "leaving", False))
        self.page.on("response", self._response)

    def _request(self, request: Any) -> None:
        if request.is_navigation_request() and request.frame == self.page.main_frame:
            self.leaving = True

    def _response(self, response: Any) -> None:
        url = response.url
        if response.status >= 400 and response.status != 422 and not url.endswith("/favicon.ico"):
            self.problems.append(f"{response.status} {response.request.method} {url}")

    def _console(self, message: Any) -> None:
        if message.type != "error" or "status of 422" in message.text:
            return
        source = str(message.location.get("url", ""))
        if source.endswith("/favicon.ico") or (self.leaving and message.text in self.CUT_OFF):
            return
        self.problems.append(f"{self.page.url}: {message.text} ({source})")

    def sign_in(self, username: str, next_url: str) -> None:
        page = self.page
        page.goto(f"{self.live_server.url}/accounts/login/?next={next_url}")
        page.get_by_label("用户名", exact=True).fill(username)
        page.get_by_label("密码", exact=True).fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="登录").click()
        assert page.url == f"{self.live_server.url}{next_url}", page.locator("main").inner_text()

    def click(self, role: str, name: str) -> None:
        with self.page.expect_navigation():
            self.page.get_by_role(role, name=name, exact=True).first.click()

    def messages(self) -> str:
        found = self.page.locator(".messages")
        return str(found.inner_text()) if found.count() else ""

    def shot(self, name: str) -> None:
        page = self.page
        assert page.evaluate("document.documentElement.scrollWidth") <= self.viewport["width"]
        if SCREENSHOTS:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.evaluate("document.activeElement && document.activeElement.blur(); scrollTo(0,0)")
            page.screenshot(path=str(SHOTS / name), full_page=True)

    def access_key(self, letter: str) -> None:
        """Alt+letter as a real keyboard sends it (key down, then the character): chromium
        acts on an access key at the character, which Playwright's ``press`` does not send
        with Alt held."""
        cdp = self.page.context.new_cdp_session(self.page)
        key: dict[str, object] = {"modifiers": 1, "key": letter, "code": f"Key{letter.upper()}"}
        key["windowsVirtualKeyCode"] = ord(letter.upper())
        cdp.send("Input.dispatchKeyEvent", {"type": "rawKeyDown", **key})
        cdp.send(
            "Input.dispatchKeyEvent",
            {"type": "char", "text": letter, "unmodifiedText": letter, **key},
        )
        cdp.send("Input.dispatchKeyEvent", {"type": "keyUp", **key})
        cdp.detach()

    def focused(self) -> str:
        return str(self.page.evaluate("document.activeElement.id"))

    def close(self) -> None:
        self.page.context.close()
        assert self.problems == [], "\n".join(self.problems)


def _local(day: datetime, hour: int, minute: int) -> datetime:
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


def test_a_call_about_a_broken_streetlight_is_fixed_within_a_day_and_the_caller_told_by_sms(
    browser: Any, live_server: Any, demo: None, clock: SimulatedClock
) -> None:
    evening = timezone.localtime(timezone.now(), SHANGHAI)
    morning = evening + timedelta(days=1)
    cgj = Department.objects.get(code="la-cgj")

    # 20:30, the operator takes the call; the cursor waits in 来电号码 when the console opens.
    operator = Watched(browser, live_server, DESKTOP, elder=False)
    operator.sign_in("demo-dispatcher", "/console/hotline/")
    page = operator.page
    assert page.get_by_role("heading", level=1).inner_text() == "12345话务台"
    assert operator.focused() == "id_caller_phone"
    page.keyboard.type(CALLER)
    page.keyboard.press("Tab")
    assert operator.focused() == "id_caller_name"
    page.keyboard.press("Tab")
    assert operator.focused() == "id_callback_requested"
    assert page.get_by_label("需回电").is_checked()  # kept: the caller wants a call back
    page.keyboard.press("Tab")
    assert operator.focused() == "id_content"
    page.keyboard.type(SAID)
    page.keyboard.press("Tab")
    assert operator.focused() == "id_address"
    page.keyboard.type(ADDRESS)
    # 诉求分类 by its access key; the demo has no classifier model, so the operator chooses.
    operator.access_key("g")
    assert operator.focused() == "id_category"
    page.locator("#id_category").select_option(label="路灯故障")
    # The live checks beside the form (htmx, 0.5 s after typing stops): the caller's earlier
    # orders, the county, no repeat. Answers may arrive out of step under load: wait for the
    # last one to land before reading it.
    page.wait_for_timeout(600)
    page.locator("#intake-check.htmx-request").wait_for(state="detached")
    check = page.locator("#intake-check")
    expect(check.locator("dd").nth(0)).to_have_text("138****0001：此前有 0 张工单")
    expect(check.locator("dd").nth(1)).to_have_text("金安区")
    expect(check.locator("p").last).to_have_text("未发现近期相同诉求。")
    operator.shot("hotline-console-call-desktop.png")
    with page.expect_navigation():
        operator.access_key("s")

    order = WorkOrder.objects.get()
    assert page.url == f"{live_server.url}/console/hotline/?registered={order.public_id}"
    result = page.locator("#intake-result")
    assert result.locator(".order-number").inner_text() == order.number
    assert "已自动派单：主办 六安市城市管理局" in result.inner_text()
    assert (order.status, order.lead_unit, order.category.name if order.category else "") == (
        WorkOrder.Status.DISPATCHED,
        cgj,
        "路灯故障",
    )
    assert (order.caller_phone, order.callback_requested, order.citizen) == (CALLER, True, None)
    operator.shot("hotline-console-registered-desktop.png")

    # 08:40 the next morning, 城管局 finds the order in its inbox and signs it.
    clock.set(_local(morning, 8, 40))
    handler = Watched(browser, live_server, DESKTOP, elder=False)
    handler.sign_in("demo-handler", "/console/hotline/inbox/")
    page = handler.page
    row = page.locator("table.hl-table tbody tr", has_text=order.number)
    assert row.count() == 1
    assert "主办" in row.inner_text()
    handler.shot("hotline-inbox-desktop.png")
    with page.expect_navigation():
        row.get_by_role("link").click()
    handler.click("button", "签收工单")
    assert page.locator(".hl-badges .badge").first.inner_text() == "办理中"

    # A receipt is not a reply: it is refused with the reason and nothing reaches the caller.
    stock = [
        ("已收到，正在处理", "答复过短，请写明办理情况、结果或依据。"),
        (
            "您好，您反映的问题已收悉，已转相关部门调查处理，感谢您的来信。",
            "答复只有“已收悉”“已转相关部门”“感谢来信”等套话，没有实质内容。",
        ),
    ]
    for text, reason in stock:
        page.get_by_label("办理情况", exact=True).fill("已收到，正在处理")
        page.get_by_label("答复内容", exact=True).fill(text)
        page.get_by_label("已解决", exact=True).check()
        handler.click("button", "提交答复")
        assert page.locator("#id_text_error").inner_text() == reason
        assert page.get_by_label("答复内容", exact=True).input_value() == text
    handler.shot("hotline-reply-refused-desktop.png")
    order.refresh_from_db()
    assert (order.status, order.replies.count()) == (WorkOrder.Status.HANDLING, 0)

    clock.set(_local(morning, 9, 20))
    page.get_by_label("办理情况", exact=True).fill(REPLY_ACTION)
    page.get_by_label("答复内容", exact=True).fill(REPLY_TEXT)
    page.get_by_label("已解决", exact=True).check()
    handler.click("button", "提交答复")
    assert "答复已提交，等待热线中心回访。" in handler.messages()
    assert REPLY_TEXT in page.locator("section[aria-labelledby=order-replies]").inner_text()
    handler.shot("hotline-replied-desktop.png")
    handler.close()

    # 10:00, the return visit: the caller is very satisfied and the order is closed.
    clock.set(_local(morning, 10, 0))
    page = operator.page
    operator.click("link", "回访")
    with page.expect_navigation():
        page.get_by_role("link", name=order.number).click()
    assert REPLY_TEXT in page.locator("section[aria-labelledby=reply-title]").inner_text()
    page.get_by_label("非常满意", exact=True).check()
    page.get_by_label("已解决", exact=True).check()
    operator.shot("hotline-visit-desktop.png")
    operator.click("button", "提交回访结果")
    assert f"工单 {order.number} 已回访。" in operator.messages()
    assert page.get_by_role("link", name=order.number).count() == 0
    operator.close()

    order.refresh_from_db()
    assert (order.status, order.outcome, order.satisfaction) == (
        WorkOrder.Status.CLOSED,
        "resolved",
        5,
    )
    assert order.closed_at is not None
    assert order.replied_at is not None
    assert [
        timezone.localtime(at, SHANGHAI).strftime("%d %H:%M")
        for at in (order.registered_at, order.replied_at, order.closed_at)
    ] == [evening.strftime("%d 20:30"), morning.strftime("%d 09:20"), morning.strftime("%d 10:00")]
    assert timedelta(hours=12) < order.closed_at - order.registered_at < timedelta(hours=24)
    assert order.reply_on_time is True
    assert order.lead_unit == cgj
    assert list(
        Event.objects.filter(order=order).order_by("id").values_list("kind", flat=True)
    ) == [
        "registered",
        "dispatched",
        "signed",
        "replied",
        "survey_sent",
        "visited",
        "closed",
    ]
    # The caller has no account in this call: the SMS go to the number, once per step.
    sms = OutboundMessage.objects.filter(channel=OutboundMessage.Channel.SMS).order_by("id")
    assert [(m.event, m.address, m.recipient_id) for m in sms] == [
        ("hotline.registered", CALLER, None),
        ("hotline.replied", CALLER, None),
    ]
    assert order.number in sms[0].body
    assert "更换线路和灯头" in sms[1].body


def test_a_citizen_reports_a_streetlight_on_a_phone_and_reads_the_reply(
    browser: Any, live_server: Any, demo: None, clock: SimulatedClock
) -> None:
    citizen = Watched(browser, live_server, PHONE, elder=False)
    citizen.sign_in("demo-citizen", "/hotline/new/")
    page = citizen.page
    assert page.get_by_role("heading", level=1).inner_text() == "我要反映"
    citizen.shot("hotline-new-phone.png")
    page.get_by_label("诉求内容", exact=True).fill(SAID + "，已经三天了。")
    page.get_by_label("地点", exact=True).fill(ADDRESS)
    page.get_by_label("问题分类（选填）", exact=True).select_option(label="路灯故障")
    page.get_by_label("照片（选填）", exact=True).set_input_files(
        {"name": "streetlight.png", "mimeType": "image/png", "buffer": _png()}
    )
    citizen.click("button", "提交")

    order = WorkOrder.objects.get()
    assert page.url == f"{live_server.url}/hotline/my/{order.public_id}/"
    assert page.locator("#hlp-order-number").inner_text() == order.number
    assert (order.status, order.lead_unit.code if order.lead_unit else "") == (
        WorkOrder.Status.DISPATCHED,
        "la-cgj",
    )
    assert [a.name for a in order.attachments.all()] == ["streetlight.png"]
    citizen.shot("hotline-order-phone.png")

    # 城管局 signs and replies the next morning (its pages are the first test's).
    clock.set(clock.now().astimezone(SHANGHAI) + timedelta(hours=13))
    handler = User.objects.get(username="demo-handler")
    with transaction.atomic():
        services.work_order_sign(order=order, actor=handler)
        services.work_order_reply(
            order=order, actor=handler, action=REPLY_ACTION, text=REPLY_TEXT, outcome="resolved"
        )

    # She finds it in 我的诉求 and opens it.
    citizen.click("link", "我的诉求")
    item = page.locator("li.hlp-order", has_text=order.number)
    assert "已答复，请您评价" in item.inner_text()
    citizen.shot("hotline-my-phone.png")
    with page.expect_navigation():
        item.get_by_role("link").click()
    assert page.url == f"{live_server.url}/hotline/my/{order.public_id}/"
    replies = page.locator("section[aria-labelledby=hlp-replies-title]")
    assert REPLY_TEXT in replies.inner_text()
    assert "六安市城市管理局" in replies.inner_text()
    citizen.shot("hotline-reply-phone.png")

    # Elder mode: larger type, fewer elements, still no sideways scrolling.
    page.context.add_cookies([{"name": "elder", "value": "1", "url": live_server.url}])
    page.reload()
    assert page.evaluate("document.body.className") == "elder"
    assert REPLY_TEXT in page.locator("section[aria-labelledby=hlp-replies-title]").inner_text()
    citizen.shot("hotline-reply-phone-elder.png")
    page.goto(f"{live_server.url}/hotline/new/")
    citizen.shot("hotline-new-phone-elder.png")
    citizen.close()
