"""The issue's three scenarios (see test_scenarios.py for the API level) through the real pages
in headless chromium, on the Lu'an demo, as the people would do them:

* 企业开办: demo-legal opens the bundle's guide, fills its one form and uploads the materials;
  demo-clerk accepts at the 受理台; six departments' approvers each find one task in 待办任务
  (an approver of another department finds none), claim it and approve; demo-clerk concludes
  and issues at 出件; the applicant sees the finished timeline (desktop and phone) and the
  public progress query shows 已出件. Simulated time: accepted on a Friday afternoon, finished
  on the Monday morning, within the bundle's one working day.
* 住房公积金提取 on retirement: demo-elder applies on a phone; when demo-clerk accepts, the
  demo's DMN table approves and concludes it (秒批) with no approver; under the retirement age
  the same table leaves it to the fund centre.
* 二手房转移登记 from one window: demo-clerk enters the walk-in buyer's application at 前台综合
  受理 (a wrong ID number first), accepts it; housing, tax and natural resources review in
  parallel, then the utilities; the buyer finds it in 我的办件.

Government-held materials are answered by a test provider (standing in for the e-certificate
app). ``timezone.now`` is a simulated clock for the test and the live server thread. With
YIWANG_SCREENSHOTS=1 it writes scenario-*.png into docs/img (or YIWANG_SCREENSHOT_DIR).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from yiwang.accounts.demo import accounts_demo_load
from yiwang.accounts.models import Department, Role, User
from yiwang.accounts.tests.factories import TEST_PASSWORD, make_id_number, staff_with_role
from yiwang.applications import sources
from yiwang.applications.models import Application, Event, Task
from yiwang.applications.tests.factories import PNG
from yiwang.catalog.demo import GJJTQ_RETIREMENT_AGE, catalog_demo_load
from yiwang.catalog.models import Material
from yiwang.core.calendar import SHANGHAI, work_calendar_load

# Playwright's sync API runs an event loop in this thread (see tests/browser/conftest.py).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "yiwang-demo-2026"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
CHROMIUM = os.environ.get("YIWANG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
SHOTS = Path(
    os.environ.get("YIWANG_SCREENSHOT_DIR") or Path(__file__).resolve().parents[3] / "docs" / "img"
)
SCREENSHOTS = os.environ.get("YIWANG_SCREENSHOTS") == "1"
QYKB_DEPARTMENTS = ["la-scjgj", "la-gaj", "la-swj", "la-rsj", "la-gjjzx", "la-rmyh"]


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless chromium for the module (as tests/browser/conftest.py starts it)."""
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"chromium not found at {CHROMIUM}: apt-get install chromium fonts-noto-cjk")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


class SimulatedClock:
    """``timezone.now`` for the test and the live server thread: a set local time that moves
    one millisecond per reading (so events keep their order) and jumps when told."""

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


def _local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SimulatedClock:
    """Friday 20 November 2026, 08:30 in Lu'an (no holiday near it)."""
    simulated = SimulatedClock(_local(2026, 11, 20, 8, 30))
    monkeypatch.setattr(timezone, "now", simulated.now)
    return simulated


@pytest.fixture
def government_source() -> Iterator[None]:
    """Stands in for the e-certificate app: answers the materials the government holds."""

    def provider(material: Material, applicant: User) -> sources.FetchedMaterial:
        return sources.FetchedMaterial(
            reference=f"DZZZ-{material.certificate_type_code or material.data_resource_code}",
            provider="test-certificates",
        )

    sources.material_provider_register(provider)
    yield
    sources.material_provider_unregister(provider)


@pytest.fixture
def demo(clock: SimulatedClock, government_source: None) -> None:
    accounts_demo_load(password=PASSWORD)
    catalog_demo_load(
        actor=User.objects.get(username="demo-catalog"),
        reviewer=User.objects.get(username="demo-reviewer"),
    )


# --- helpers -----------------------------------------------------------------------------------


def _page(browser: Any, viewport: dict[str, int]) -> Any:
    return browser.new_context(viewport=viewport, locale="zh-CN").new_page()


def _sign_in(
    page: Any, live_server: Any, username: str, next_url: str, password: str = PASSWORD
) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    assert "/accounts/login/" not in page.url, page.locator("main").inner_text()


def _click(page: Any, role: str, name: str, *, exact: bool = True) -> None:
    with page.expect_navigation():
        page.get_by_role(role, name=name, exact=exact).first.click()


def _shot(page: Any, name: str) -> None:
    if SCREENSHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        # from the top, nothing focused: a scrolled page stitches badly into a full-page shot
        page.evaluate("document.activeElement && document.activeElement.blur(); scrollTo(0, 0)")
        page.screenshot(path=str(SHOTS / name), full_page=True)


def _no_sideways_scroll(page: Any, viewport: dict[str, int]) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth") <= viewport["width"])


def _messages(page: Any) -> str:
    return str(page.locator(".messages").inner_text()) if page.locator(".messages").count() else ""


def _upload_materials(page: Any) -> int:
    """A scan for every material on screen the government does not already hold."""
    uploaded = 0
    for row in page.locator(".material:visible").all():
        if row.locator(".held-by-government").count():
            continue
        row.locator("input[type=file]").set_input_files(
            {"name": "scan.png", "mimeType": "image/png", "buffer": PNG}
        )
        uploaded += 1
    return uploaded


def _submit(page: Any, live_server: Any) -> Application:
    with page.expect_navigation():
        page.get_by_role("button", name="提交申请").click()
    assert page.locator("#form-errors").count() == 0, page.locator("#form-errors").inner_text()
    application = Application.objects.order_by("-id").first()
    assert application is not None
    assert page.url == f"{live_server.url}/applications/{application.public_id}/"
    assert application.number in _messages(page)
    return application


def _accept_at_window(clerk: Any, application: Application) -> None:
    """demo-clerk (signed in) finds the case at the 受理台 and accepts it."""
    _click(clerk, "link", "受理台")
    row = clerk.locator("ol.case-list > li", has_text=application.number)
    assert row.count() == 1
    with clerk.expect_navigation():
        row.get_by_role("link").first.click()
    _click(clerk, "button", "受理")
    assert "已受理，受理通知书可下载打印。" in _messages(clerk)


def _case_tasks(page: Any) -> list[str]:
    """The 部门审批 rows of the staff case page."""
    section = page.locator("section[aria-labelledby=tasks-title]")
    return [str(t) for t in section.locator("li").all_inner_texts()] if section.count() else []


def _approve_in_inbox(page: Any, application: Application) -> str:
    """An approver (signed in) opens 待办任务: exactly one task of ``application`` for the
    department; claims it and approves it. Returns the department shown on the task."""
    _click(page, "link", "待办任务")
    rows = page.locator("ol.case-list > li", has_text=application.number)
    assert rows.count() == 1, page.locator("main").inner_text()
    department = str(rows.locator("dt:has-text('办理部门') + dd").inner_text())
    with page.expect_navigation():
        rows.get_by_role("link").first.click()
    _click(page, "button", "认领")
    assert "已认领" in _messages(page)
    page.get_by_label("同意", exact=True).check()
    page.get_by_label("办理意见", exact=True).fill("材料齐全，符合条件，同意。")
    _click(page, "button", "提交决定")
    assert "已提交审批意见。" in _messages(page)
    return department


def _conclude_and_issue(clerk: Any, application: Application, delivery: str) -> None:
    _click(clerk, "link", "工作台")
    _click(clerk, "link", "出件")
    row = clerk.locator("ol.case-list > li", has_text=application.number)
    assert row.count() == 1
    with clerk.expect_navigation():
        row.get_by_role("link").first.click()
    _click(clerk, "button", "办结")
    assert "已办结" in _messages(clerk)
    clerk.get_by_label(delivery).check()
    _click(clerk, "button", "出件")
    assert "已出件。" in _messages(clerk)


def _timeline(page: Any) -> list[str]:
    return [
        str(t).split("\n")[0].split(" · ")[0].strip()
        for t in page.locator("ol.timeline > li strong").all_inner_texts()
    ]


def _progress(page: Any, live_server: Any, number: str, last4: str) -> dict[str, str]:
    """The public progress query, as anyone may use it; the facts it shows."""
    page.goto(f"{live_server.url}/progress/")
    page.get_by_label("办件编号", exact=True).fill(number)
    page.get_by_label("联系电话后四位", exact=True).fill(last4)
    with page.expect_navigation():
        page.get_by_role("button", name="查询").click()
    section = page.locator("section[aria-labelledby=progress-title]")
    assert section.count() == 1, page.locator("main").inner_text()
    terms = section.locator("dl.facts dt").all_inner_texts()
    values = section.locator("dl.facts dd").all_inner_texts()
    return dict(zip((str(t) for t in terms), (str(v) for v in values), strict=True))


def _approver(code: str) -> tuple[str, str]:
    """The username and password of an approver of department ``code``: demo-approver for
    市场监管局, a new colleague elsewhere (the demo has one approver)."""
    if code == "la-scjgj":
        return "demo-approver", PASSWORD
    username = f"approver-{code}"
    staff_with_role(
        Role.APPROVER, Department.objects.get(code=code), username=username, real_name="审批员"
    )
    return username, TEST_PASSWORD


def _zh_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# --- 企业开办 ----------------------------------------------------------------------------------


def test_enterprise_start_up_bundle_through_the_pages(
    browser: Any, live_server: Any, demo: None, clock: SimulatedClock
) -> None:
    from playwright.sync_api import expect

    founder = User.objects.get(username="demo-legal")
    approvers = {code: _approver(code) for code in QYKB_DEPARTMENTS}
    names = {code: Department.objects.get(code=code).name for code in QYKB_DEPARTMENTS}

    # Friday 14:00: the founder fills the one form of the bundle on a desktop.
    clock.set(_local(2026, 11, 20, 14))
    citizen = _page(browser, DESKTOP)
    _sign_in(citizen, live_server, "demo-legal", "/services/bundles/qykb/")
    _click(citizen, "link", "在线申请")
    assert citizen.get_by_role("heading", level=1).inner_text() == "申请：企业开办"
    citizen.get_by_label("企业名称", exact=True).fill("六安市皋城科技有限公司")
    citizen.get_by_label("企业类型", exact=True).select_option("有限责任公司")
    citizen.get_by_label("住所（经营场所）", exact=True).fill("六安市金安区梅山南路100号")
    citizen.get_by_label("注册资本（万元）", exact=True).fill("100")
    citizen.get_by_label("经营范围", exact=True).fill("软件开发")
    citizen.get_by_label("法定代表人姓名", exact=True).fill(founder.real_name)
    citizen.get_by_label("法定代表人身份证号码", exact=True).fill(founder.id_number)
    citizen.get_by_label("刻制印章", exact=True).select_option("公章")
    # the bundle's own 联系电话 and the application's contact phone carry the same label
    phones = citizen.get_by_label("联系电话", exact=True)
    for field in phones.all():
        field.fill("13900002222")
    # Without the scans: every missing material is named, what was typed is kept, nothing
    # is created.
    with citizen.expect_navigation():
        citizen.get_by_role("button", name="提交申请").click()
    assert "公司章程" in citizen.locator("#form-errors").inner_text()
    assert citizen.get_by_label("企业名称", exact=True).input_value() == "六安市皋城科技有限公司"
    assert not Application.objects.exists()
    assert _upload_materials(citizen) >= 1
    _shot(citizen, "scenario-qykb-apply-desktop.png")
    application = _submit(citizen, live_server)
    assert application.bundle is not None
    assert application.bundle.code == "qykb"
    assert application.number[6:14] == "20261120"  # numbered on the simulated day
    detail = citizen.locator("main").inner_text()
    assert "已提交（预审）" in detail
    assert "受理后确定" in detail

    # Friday 15:00: the comprehensive window accepts; six departments' tasks open at once.
    clock.set(_local(2026, 11, 20, 15))
    clerk = _page(browser, DESKTOP)
    _sign_in(clerk, live_server, "demo-clerk", "/console/")
    _accept_at_window(clerk, application)
    tasks = _case_tasks(clerk)
    assert len(tasks) == 6
    assert sorted(t.split(" ")[0] for t in tasks) == sorted(names.values())
    assert all("待认领" in t for t in tasks)
    due = work_calendar_load().add_working_days(_local(2026, 11, 20, 15), 1).due
    assert due == date(2026, 11, 23)  # the next working day is the Monday
    assert "2026-11-23" in clerk.locator("dl.facts").first.inner_text()
    _shot(clerk, "scenario-qykb-accepted-desktop.png")

    # An approver of a department outside the bundle (卫健委) has nothing in 待办任务, and the
    # address of another department's task is a 404; nothing changes.
    outsider, outsider_password = _approver("la-wjw")
    page = _page(browser, DESKTOP)
    _sign_in(page, live_server, outsider, "/console/", password=outsider_password)
    _click(page, "link", "待办任务")
    assert page.locator("ol.case-list > li").count() == 0
    assert "没有待办任务。" in page.locator("main").inner_text()
    task = application.tasks.first()
    assert task is not None
    response = page.goto(f"{live_server.url}/console/applications/tasks/{task.public_id}/")
    assert response is not None
    assert response.status == 404
    page.context.close()
    assert not application.tasks.exclude(status=Task.Status.OPEN).exists()

    # Three departments approve on Friday afternoon, three on Monday morning.
    times = [_local(2026, 11, 20, hour, 30) for hour in (15, 16, 17)] + [
        _local(2026, 11, 23, hour, minute) for hour, minute in ((9, 0), (9, 30), (10, 0))
    ]
    seen = []
    for (code, (username, password)), at in zip(approvers.items(), times, strict=True):
        clock.set(at)
        page = _page(browser, DESKTOP)
        _sign_in(page, live_server, username, "/console/", password=password)
        seen.append(_approve_in_inbox(page, application))
        if code == "la-scjgj":
            _shot(page, "scenario-qykb-task-approved-desktop.png")
        page.context.close()
    assert sorted(seen) == sorted(names.values())

    # Monday 11:00: the window concludes and issues electronically.
    clock.set(_local(2026, 11, 23, 11))
    clerk.goto(f"{live_server.url}/console/")
    _conclude_and_issue(clerk, application, "电子送达")
    assert all("同意" in t and "已办结" in t for t in _case_tasks(clerk))
    expect(clerk.get_by_role("link", name="办结通知书（PDF）")).to_be_visible()
    _shot(clerk, "scenario-qykb-issued-desktop.png")

    # The founder sees the finished timeline, on a phone too.
    for viewport, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        citizen.set_viewport_size(viewport)
        citizen.goto(f"{live_server.url}/applications/{application.public_id}/")
        facts = citizen.locator("dl.facts").inner_text()
        assert "已出件" in facts
        assert citizen.locator("dl.facts time").first.get_attribute("datetime") == "2026-11-23"
        timeline = _timeline(citizen)
        assert timeline[0] == "提交申请"
        assert timeline.count("部门审查通过") == 6
        assert timeline[-2:] == ["已办结", "已出件"]
        reviews = citizen.locator("section[aria-labelledby=timeline-title] h3 + ul li")
        assert reviews.count() == 6
        assert all("已办结，同意" in t for t in reviews.all_inner_texts())
        assert _no_sideways_scroll(citizen, viewport)
        _shot(citizen, f"scenario-qykb-citizen-{name}.png")

    # The public progress query, without signing in.
    anyone = _page(browser, PHONE)
    shown = _progress(anyone, live_server, application.number, "2222")
    assert shown["状态"] == "已出件"
    assert shown["预计办结"] == _zh_date(due)
    assert all(n in shown["办理单位"] for n in names.values())
    assert founder.real_name not in anyone.locator("main").inner_text()
    _shot(anyone, "scenario-qykb-progress-phone.png")

    # The outcome in the database: six approvals, one issuance, within the working day.
    application.refresh_from_db()
    assert application.status == Application.Status.ISSUED
    assert application.decision == Application.Decision.APPROVED
    assert application.delivery_method == Application.Delivery.ELECTRONIC
    done = application.tasks.filter(status=Task.Status.DONE, outcome=Task.Outcome.APPROVE)
    assert done.count() == application.tasks.count() == 6
    assert sorted(done.values_list("department__code", flat=True)) == sorted(QYKB_DEPARTMENTS)
    assert application.events.filter(kind="issued").count() == 1
    assert application.due_date == due
    assert application.accepted_at is not None
    assert application.concluded_at is not None
    concluded = application.concluded_at.astimezone(SHANGHAI).date()
    assert concluded <= application.due_date
    assert work_calendar_load().working_days_between(application.accepted_at, concluded) == 1
    for page in (citizen, clerk, anyone):
        page.context.close()


# --- 住房公积金提取 (秒批) -----------------------------------------------------------------------


def test_housing_fund_withdrawal_on_retirement_is_concluded_by_the_rule(
    browser: Any, live_server: Any, demo: None, clock: SimulatedClock
) -> None:
    from yiwang.catalog.models import ItemVersion

    version = ItemVersion.objects.get(name="住房公积金提取", status="published")
    clock.set(_local(2026, 11, 20, 9))
    citizen = _page(browser, PHONE)
    guide = f"/services/{version.item.task_code}/"
    _sign_in(citizen, live_server, "demo-elder", guide)
    _click(citizen, "link", "在线申请")
    citizen.get_by_text("离休、退休", exact=True).click()
    citizen.get_by_label("年龄（周岁）", exact=True).fill(str(GJJTQ_RETIREMENT_AGE + 21))
    citizen.get_by_label("联系电话", exact=True).fill("13800000002")
    _upload_materials(citizen)
    application = _submit(citizen, live_server)
    assert application.situation == "retire"
    assert _no_sideways_scroll(citizen, PHONE)

    clock.set(_local(2026, 11, 20, 9, 30))
    clerk = _page(browser, DESKTOP)
    _sign_in(clerk, live_server, "demo-clerk", "/console/")
    _accept_at_window(clerk, application)
    badges = clerk.locator("h1 + p .badge").all_inner_texts()
    assert "已办结" in badges
    assert "准予" in badges
    tasks = _case_tasks(clerk)
    assert tasks
    assert all("已办结" in t and "同意" in t for t in tasks)
    assert "符合自动审批规则（秒批）。" in clerk.locator("main").inner_text()
    _shot(clerk, "scenario-gjj-case-desktop.png")

    citizen.goto(f"{live_server.url}/applications/{application.public_id}/")
    assert "已办结" in citizen.locator("dl.facts").inner_text()
    timeline = _timeline(citizen)
    assert "规则自动审批通过" in timeline
    assert timeline[-1] == "已办结"
    assert _no_sideways_scroll(citizen, PHONE)
    _shot(citizen, "scenario-gjj-citizen-phone.png")
    shown = _progress(citizen, live_server, application.number, "0002")
    assert shown["状态"] == "已办结"

    application.refresh_from_db()
    assert application.status == Application.Status.CONCLUDED
    assert application.decision == Application.Decision.APPROVED
    # nobody claimed or decided: the rules did, in the acceptance itself
    assert not application.tasks.exclude(assignee=None).exists()
    assert not application.tasks.exclude(outcome=Task.Outcome.APPROVE).exists()
    auto = application.events.filter(kind="auto_approved")
    assert auto.count() == application.tasks.count() == len(tasks)  # one per approval step
    assert set(auto.values_list("actor_label", flat=True)) == {"system:rules"}
    assert application.accepted_at is not None
    assert application.concluded_at is not None
    assert application.concluded_at - application.accepted_at < timedelta(seconds=5)
    concluded = Event.objects.get(application=application, kind="concluded")
    assert (concluded.actor, concluded.actor_label) == (None, "system:rules")

    # Under the retirement age the same table leaves it to the fund centre's approver.
    clock.set(_local(2026, 11, 20, 10))
    younger = _page(browser, PHONE)
    guide = f"/applications/apply/{version.item.task_code}/"
    _sign_in(younger, live_server, "demo-citizen", guide)
    younger.get_by_text("离休、退休", exact=True).click()
    younger.get_by_label("年龄（周岁）", exact=True).fill(str(GJJTQ_RETIREMENT_AGE - 1))
    younger.get_by_label("联系电话", exact=True).fill("13800000001")
    _upload_materials(younger)
    other = _submit(younger, live_server)
    _accept_at_window(clerk, other)
    assert "审批中" in clerk.locator("h1 + p .badge").all_inner_texts()
    tasks = _case_tasks(clerk)
    assert len(tasks) == 1
    assert "待认领" in tasks[0]
    assert Department.objects.get(code="la-gjjzx").name in tasks[0]
    other.refresh_from_db()
    assert other.status == Application.Status.IN_REVIEW
    assert not other.events.filter(kind="auto_approved").exists()
    for page in (citizen, clerk, younger):
        page.context.close()


# --- 二手房转移登记 ------------------------------------------------------------------------------


def _fill_house_transfer(page: Any, buyer: User) -> None:
    page.get_by_label("出卖人姓名", exact=True).fill("周卖房")
    page.get_by_label("出卖人身份证号码", exact=True).fill("341502198001010011")
    page.get_by_label("买受人姓名", exact=True).fill(buyer.real_name)
    page.get_by_label("买受人身份证号码", exact=True).fill(buyer.id_number)
    page.get_by_label("买受人联系电话", exact=True).fill("13800000001")
    page.get_by_label("不动产权证书号", exact=True).fill("皖(2020)六安市不动产权第0000001号")
    page.get_by_label("房屋坐落", exact=True).fill("六安市金安区佛子岭路1号")
    page.get_by_label("成交价格（元）", exact=True).fill("800000")
    page.get_by_label("联系电话", exact=True).fill("13800000001")


def test_second_hand_house_transfer_from_one_window(
    browser: Any, live_server: Any, demo: None, clock: SimulatedClock
) -> None:
    buyer = User.objects.get(username="demo-citizen")
    first = ["la-zjj", "la-swj", "la-zrzyghj"]
    approvers = {code: _approver(code) for code in [*first, "la-sjzyj"]}
    names = {code: Department.objects.get(code=code).name for code in approvers}

    # Friday 10:00: the buyer comes to the window; demo-clerk enters it at 前台综合受理.
    clock.set(_local(2026, 11, 20, 10))
    clerk = _page(browser, DESKTOP)
    _sign_in(clerk, live_server, "demo-clerk", "/console/")
    _click(clerk, "link", "受理台")
    _click(clerk, "link", "前台综合受理（录入窗口申请）")
    clerk.get_by_label("查找事项或一件事").fill("二手房")
    _click(clerk, "button", "查找")
    _click(clerk, "link", "二手房转移登记及水电气网联合过户")
    clerk.get_by_label("申请人姓名", exact=True).fill(buyer.real_name)
    # a mistyped ID number first: said on the field, nothing created
    clerk.get_by_label("申请人身份证号码", exact=True).fill(make_id_number(990))
    _fill_house_transfer(clerk, buyer)
    _click(clerk, "button", "提交申请（窗口录入）")
    assert "找不到姓名和身份证号码相符的实名注册用户" in clerk.locator("#form-errors").inner_text()
    assert not Application.objects.exists()
    clerk.get_by_label("申请人身份证号码", exact=True).fill(buyer.id_number)
    _fill_house_transfer(clerk, buyer)
    _upload_materials(clerk)
    _shot(clerk, "scenario-eshgh-walk-in-desktop.png")
    _click(clerk, "button", "提交申请（窗口录入）")
    application = Application.objects.get()
    assert application.number in _messages(clerk)
    assert clerk.url == f"{live_server.url}/console/applications/{application.public_id}/"
    assert (application.channel, application.applicant, application.submitted_by) == (
        Application.Channel.WINDOW,
        buyer,
        User.objects.get(username="demo-clerk"),
    )

    # The same window accepts: housing, tax and natural resources at once.
    clock.set(_local(2026, 11, 20, 10, 30))
    _click(clerk, "button", "受理")
    assert "已受理，受理通知书可下载打印。" in _messages(clerk)
    tasks = _case_tasks(clerk)
    assert sorted(t.split(" ")[0] for t in tasks) == sorted(names[c] for c in first)
    assert all("待认领" in t for t in tasks)
    _shot(clerk, "scenario-eshgh-accepted-desktop.png")

    pages = {}
    for i, code in enumerate(first):
        clock.set(_local(2026, 11, 20, 11, 10 * i))
        username, password = approvers[code]
        pages[code] = _page(browser, DESKTOP)
        _sign_in(pages[code], live_server, username, "/console/", password=password)
        assert _approve_in_inbox(pages[code], application) == names[code]

    # Then the utilities, one task.
    clerk.reload()
    tasks = _case_tasks(clerk)
    assert len(tasks) == 4
    assert [t.split(" ")[0] for t in tasks if "待认领" in t] == [names["la-sjzyj"]]
    clock.set(_local(2026, 11, 20, 14))
    username, password = approvers["la-sjzyj"]
    utilities = _page(browser, DESKTOP)
    _sign_in(utilities, live_server, username, "/console/", password=password)
    assert _approve_in_inbox(utilities, application) == names["la-sjzyj"]

    clock.set(_local(2026, 11, 20, 15))
    clerk.goto(f"{live_server.url}/console/")
    _conclude_and_issue(clerk, application, "窗口领取")
    _shot(clerk, "scenario-eshgh-issued-desktop.png")

    # The buyer finds the window's case among 我的办件 on the phone.
    citizen = _page(browser, PHONE)
    _sign_in(citizen, live_server, "demo-citizen", "/applications/")
    assert application.number in citizen.locator(".application-list").inner_text()
    citizen.goto(f"{live_server.url}/applications/{application.public_id}/")
    assert "已出件" in citizen.locator("dl.facts").inner_text()
    assert _timeline(citizen).count("部门审查通过") == 4
    assert _no_sideways_scroll(citizen, PHONE)
    _shot(citizen, "scenario-eshgh-citizen-phone.png")
    shown = _progress(citizen, live_server, application.number, "0001")
    assert shown["状态"] == "已出件"
    assert shown["预计办结"] == _zh_date(date(2026, 11, 23))

    application.refresh_from_db()
    assert application.status == Application.Status.ISSUED
    stages = {
        t.department.code: t.created_at for t in application.tasks.select_related("department")
    }
    # the three opened together at acceptance, the utilities after the last of them
    assert max(stages[c] for c in first) < stages["la-sjzyj"]
    assert {stages[c].astimezone(SHANGHAI).strftime("%H:%M") for c in first} == {"10:30"}
    assert application.events.filter(kind="issued").count() == 1
    for page in (citizen, clerk, utilities, *pages.values()):
        page.context.close()
