"""好差评 in a real browser: an elderly citizen rates on a phone in elder mode; the bureau
answers on a desktop; the supervisor reads the statistics on a phone. With YIWANG_SCREENSHOTS=1
it writes docs/img/evaluation-*.png (or into YIWANG_SCREENSHOT_DIR)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from yiwang.accounts.models import Department, Role, User
from yiwang.accounts.tests.factories import (
    TEST_PASSWORD,
    DepartmentFactory,
    RoleAssignmentFactory,
    StaffFactory,
    UserFactory,
    staff_with_role,
)
from yiwang.evaluation.models import Channel, Invitation, Rating, Rectification
from yiwang.evaluation.services import rating_invite, rating_submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
IMG_DIR = Path(
    os.environ.get("YIWANG_SCREENSHOT_DIR") or Path(__file__).resolve().parents[2] / "docs" / "img"
)
SCREENSHOTS = os.environ.get("YIWANG_SCREENSHOTS") == "1"


def _page(browser: Any, live_server: Any, viewport: dict[str, int], *, elder: bool) -> Any:
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    if elder:
        context.add_cookies([{"name": "elder", "value": "1", "url": live_server.url}])
    return context.new_page()


def _sign_in(page: Any, live_server: Any, username: str, next_url: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()


def _no_sideways_scroll(page: Any, viewport: dict[str, int]) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth") <= viewport["width"])


def _shot(page: Any, name: str) -> None:
    if SCREENSHOTS:
        IMG_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(IMG_DIR / name), full_page=True)


def _world() -> tuple[Department, User, Invitation]:
    city = DepartmentFactory(code="la-city", name="六安市人民政府")
    bureau = DepartmentFactory(code="la-gjj", name="六安市住房公积金管理中心", parent=city)
    elder = UserFactory(username="wangnainai", real_name="王秀兰")
    with transaction.atomic():
        invitation = rating_invite(
            subject_kind="application",
            subject_id=str(uuid.uuid4()),
            rater=elder,
            department=bureau,
            title="退休提取住房公积金",
            channel=Channel.WINDOW,
        )
    return bureau, elder, invitation


def test_an_elderly_citizen_rates_on_a_phone_in_elder_mode(browser: Any, live_server: Any):
    bureau, _elder, invitation = _world()
    staff_with_role(Role.WINDOW_CLERK, bureau, username="gjjclerk")
    page = _page(browser, live_server, PHONE, elder=True)

    # Given the link of the in-app invitation, she signs in and lands on the rating page.
    _sign_in(page, live_server, "wangnainai", f"/evaluation/{invitation.public_id}/")
    assert page.get_by_role("heading", level=1).inner_text() == "服务评价"
    assert page.evaluate("document.body.className") == "elder"
    assert "退休提取住房公积金" in page.content()

    # The five choices are large targets, one under the other.
    choices = page.locator("label.level-choice")
    assert choices.count() == 5
    boxes = [choices.nth(i).bounding_box() for i in range(5)]
    assert all(box["height"] >= 60 and box["width"] >= 250 for box in boxes), boxes
    assert [round(b["x"]) for b in boxes] == [round(boxes[0]["x"])] * 5
    assert _no_sideways_scroll(page, PHONE)
    _shot(page, "evaluation-rate-phone-elder.png")

    # She taps 不满意 without saying why: the page explains, nothing is recorded.
    page.get_by_label("不满意", exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name="提交评价").click()
    assert "请写下不满意的原因" in page.locator("#id_comment_error").inner_text()
    assert page.get_by_label("不满意", exact=True).is_checked()
    assert Rating.objects.count() == 0
    assert _no_sideways_scroll(page, PHONE)
    _shot(page, "evaluation-rate-error-phone-elder.png")

    # With the reason, the rating goes through and is handed to the bureau.
    page.get_by_label("评价内容").fill("窗口让我跑了两趟，材料清单前后不一样。")
    with page.expect_navigation():
        page.get_by_role("button", name="提交评价").click()
    assert "已转交六安市住房公积金管理中心整改" in page.content()
    assert page.get_by_role("heading", name="您的评价").is_visible()
    assert page.locator("label.level-choice").count() == 0
    _shot(page, "evaluation-rated-phone-elder.png")
    rating = Rating.objects.get()
    assert (rating.level, rating.channel) == (2, "online")
    assert Rectification.objects.get().department == bureau
    page.context.close()


def test_the_bureau_answers_and_the_supervisor_reads_the_statistics(browser: Any, live_server: Any):
    bureau, elder, invitation = _world()
    staff_with_role(Role.WINDOW_CLERK, bureau, username="gjjclerk", real_name="陈受理")
    supervisor = StaffFactory(username="dubanren", real_name="王督办", department=bureau.parent)
    RoleAssignmentFactory(
        user=supervisor, role=Role.SUPERVISOR, department=bureau.parent, include_subtree=True
    )
    with transaction.atomic():
        rating_submit(actor=elder, invitation=invitation, level=1, comment="等了两个小时。")

    # The clerk opens the desk, sees the bad review and answers it.
    page = _page(browser, live_server, DESKTOP, elder=False)
    _sign_in(page, live_server, "gjjclerk", "/evaluation/rectifications/")
    with page.expect_navigation():
        page.get_by_role("link", name="退休提取住房公积金").click()
    page.get_by_label("立行立改").check()
    page.get_by_label("答复群众").fill("已增设公积金提取专窗，高峰时段增派人员。向您致歉。")
    _shot(page, "evaluation-reply-desktop.png")
    with page.expect_navigation():
        page.get_by_role("button", name="提交答复").click()
    assert "已答复评价人" in page.content()
    assert Rectification.objects.get().status == "replied"
    page.context.close()

    # The supervisor reads the statistics on a phone: the wide table scrolls in its own box.
    page = _page(browser, live_server, PHONE, elder=False)
    _sign_in(page, live_server, "dubanren", "/evaluation/stats/")
    assert page.get_by_role("heading", level=1).inner_text() == "好差评统计"
    row = page.locator("table.stats-table tbody tr").first
    assert "六安市住房公积金管理中心" in row.inner_text()
    assert _no_sideways_scroll(page, PHONE)
    _shot(page, "evaluation-stats-phone.png")
    page.context.close()
