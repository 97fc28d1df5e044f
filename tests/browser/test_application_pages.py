"""Applying online in a real browser, the way a retiree would: on a phone, in elder mode, for
the demo's 住房公积金提取. A first try without files shows every problem on its material; the
second goes through and the case is in 我的办件. Screenshots go to .notes/pages/ when
YIWANG_SCREENSHOTS=1."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from yiwang.accounts.demo import accounts_demo_load
from yiwang.accounts.models import User
from yiwang.accounts.tests.factories import TEST_PASSWORD, UserFactory
from yiwang.applications.models import Application
from yiwang.applications.tests.factories import PNG
from yiwang.catalog.demo import catalog_demo_load
from yiwang.catalog.models import ItemVersion

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
SHOTS = Path(__file__).resolve().parents[2] / ".notes" / "pages"
SCREENSHOTS = os.environ.get("YIWANG_SCREENSHOTS") == "1"


def _shot(page: Any, name: str) -> None:
    if SCREENSHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / name), full_page=True)


def _no_sideways_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"])


def test_apply_for_a_demo_item_on_a_phone_in_elder_mode(browser: Any, live_server: Any) -> None:
    accounts_demo_load(password=TEST_PASSWORD)
    catalog_demo_load(
        actor=User.objects.get(username="demo-catalog"),
        reviewer=User.objects.get(username="demo-reviewer"),
    )
    version = ItemVersion.objects.get(name="住房公积金提取", status="published")
    UserFactory(username="zhaotuixiu", real_name="赵退休", phone="13900003333")

    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    context.add_cookies([{"name": "elder", "value": "1", "url": live_server.url}])
    page = context.new_page()
    guide = f"/services/{version.item.task_code}/"
    page.goto(f"{live_server.url}/accounts/login/?next={guide}")
    page.get_by_label("用户名").fill("zhaotuixiu")
    page.get_by_label("密码").fill(TEST_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()

    # From the guide to the form.
    with page.expect_navigation():
        page.get_by_role("link", name="在线申请").click()
    assert page.get_by_role("heading", level=1).inner_text() == "申请：住房公积金提取"
    assert page.evaluate("document.body.className") == "elder"
    page.get_by_text("离休、退休", exact=True).click()
    # only the retirement materials are left on screen
    assert not page.get_by_text("购房契税完税凭证").is_visible()
    assert page.get_by_text("退休证明").first.is_visible()
    page.get_by_label("年龄（周岁）").fill("65")
    page.get_by_label("联系电话").fill("139 0000 3333")

    # Without files: every missing material is named on its own row, nothing is created.
    with page.expect_navigation():
        page.get_by_role("button", name="提交申请").click()
    errors = page.locator("#form-errors").inner_text()
    assert "本人银行借记卡" in errors
    assert page.locator(".material.has-error").count() >= 2
    assert page.get_by_label("年龄（周岁）").input_value() == "65"  # kept
    assert page.locator('input[name="situation"]:checked').get_attribute("value") == "retire"
    assert Application.objects.count() == 0
    assert _no_sideways_scroll(page)
    _shot(page, "apply-errors-phone-elder.png")

    # With a file for every material on screen, it goes through.
    for upload in page.locator(".material:not([hidden]) input[type=file]").all():
        upload.set_input_files({"name": "scan.png", "mimeType": "image/png", "buffer": PNG})
    with page.expect_navigation():
        page.get_by_role("button", name="提交申请").click()
    application = Application.objects.get()
    assert page.url == f"{live_server.url}/applications/{application.public_id}/"
    assert application.number in page.locator(".messages").inner_text()
    assert application.situation == "retire"
    assert application.form_data == {"age": 65}
    assert _no_sideways_scroll(page)
    _shot(page, "application-detail-phone-elder.png")

    # 我的办件 lists it.
    with page.expect_navigation():
        page.get_by_role("link", name="我的办件").click()
    assert application.number in page.locator(".application-list").inner_text()
    assert "已提交（预审）" in page.locator(".application-list").inner_text()
    assert _no_sideways_scroll(page)
    _shot(page, "my-applications-phone-elder.png")

    # The public progress query, signed in or not, shows it by number and phone ending.
    page.goto(f"{live_server.url}/progress/")
    page.get_by_label("办件编号").fill(application.number)
    page.get_by_label("联系电话后四位").fill("3333")
    with page.expect_navigation():
        page.get_by_role("button", name="查询").click()
    assert "已提交（预审）" in page.content()
    assert "赵退休" not in page.content().split("</header>", 1)[1]
    _shot(page, "progress-phone-elder.png")
    context.close()


@pytest.mark.skipif(not SCREENSHOTS, reason="YIWANG_SCREENSHOTS=1")
def test_write_desktop_screenshots(browser: Any, live_server: Any) -> None:
    accounts_demo_load(password=TEST_PASSWORD)
    catalog_demo_load(
        actor=User.objects.get(username="demo-catalog"),
        reviewer=User.objects.get(username="demo-reviewer"),
    )
    version = ItemVersion.objects.get(name="住房公积金提取", status="published")
    UserFactory(username="qianxiansheng", real_name="钱先生", phone="13900004444")
    page = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
    page.goto(
        f"{live_server.url}/accounts/login/?next=/applications/apply/{version.item.task_code}/"
    )
    page.get_by_label("用户名").fill("qianxiansheng")
    page.get_by_label("密码").fill(TEST_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    page.get_by_label("联系电话").fill("1390000")
    with page.expect_navigation():
        page.get_by_role("button", name="提交申请").click()
    _shot(page, "apply-errors-desktop.png")
    page.get_by_text("购买自住住房", exact=True).click()
    page.get_by_label("年龄（周岁）").fill("40")
    page.get_by_label("联系电话").fill("13900004444")
    for upload in page.locator(".material:not([hidden]) input[type=file]").all():
        upload.set_input_files({"name": "scan.png", "mimeType": "image/png", "buffer": PNG})
    with page.expect_navigation():
        page.get_by_role("button", name="提交申请").click()
    _shot(page, "application-detail-desktop.png")
    with page.expect_navigation():
        page.get_by_role("link", name="撤回申请").click()
    _shot(page, "withdraw-confirm-desktop.png")
    page.context.close()
