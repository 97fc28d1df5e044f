"""二手房转移登记 through the real pages with the exchange demo loaded (no test provider): the
window's form says who provides each government-held material and asks no upload for it,
the case page lists what was fetched and from where, each first-stage department opens its
task's 共享数据 panel (case-bound reads of the others' data), and the buyer's page says what
was fetched. Uses the scenarios' browser helpers (``test_scenarios_browser``); with
YIWANG_SCREENSHOTS=1 it writes scenario-eshgh-once-*.png."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from yiwang.accounts.demo import accounts_demo_load
from yiwang.accounts.models import User
from yiwang.applications.models import Application
from yiwang.applications.tests import test_scenarios_browser as scenes
from yiwang.applications.tests.test_scenarios_browser import (
    DESKTOP,
    PASSWORD,
    PHONE,
    SimulatedClock,
    _approve_in_inbox,
    _approver,
    _click,
    _local,
    _messages,
    _page,
    _shot,
    _sign_in,
    _upload_materials,
)
from yiwang.catalog.demo import catalog_demo_load
from yiwang.exchange import owners
from yiwang.exchange.demo import exchange_demo_load
from yiwang.exchange.models import AccessLogEntry

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIRST = ["la-zjj", "la-swj", "la-zrzyghj"]
# the scenarios' fixtures: one chromium per module, the simulated clock
browser = scenes.browser
clock = scenes.clock


@pytest.fixture
def city(clock: SimulatedClock, tmp_path: Path) -> Iterator[None]:
    with override_settings(YIWANG_EXCHANGE_OWNERS_DIR=str(tmp_path / "owners")):
        accounts_demo_load(password=PASSWORD)
        catalog_demo_load(
            actor=User.objects.get(username="demo-catalog"),
            reviewer=User.objects.get(username="demo-reviewer"),
        )
        exchange_demo_load(password=PASSWORD, population=500)
        yield


def _fill(page: Any, buyer: User) -> None:
    page.get_by_label("申请人姓名", exact=True).fill(buyer.real_name)
    page.get_by_label("申请人身份证号码", exact=True).fill(buyer.id_number)
    page.get_by_label("出卖人姓名", exact=True).fill(owners.SELLER_NAME)
    page.get_by_label("出卖人身份证号码", exact=True).fill(owners.SELLER_ID_NUMBER)
    page.get_by_label("买受人姓名", exact=True).fill(buyer.real_name)
    page.get_by_label("买受人身份证号码", exact=True).fill(buyer.id_number)
    page.get_by_label("买受人联系电话", exact=True).fill("13800000001")
    page.get_by_label("不动产权证书号", exact=True).fill(owners.SELLER_CERTIFICATE_NO)
    page.get_by_label("房屋坐落", exact=True).fill(owners.SELLER_ADDRESS)
    page.get_by_label("成交价格（元）", exact=True).fill("800000")
    page.get_by_label("联系电话", exact=True).fill("13800000001")


def _shared_data(page: Any) -> str:
    """On a staff task page: ask for the 共享数据 and return what the panel shows."""
    _click(page, "link", "调取共享数据")
    return str(page.locator("section[aria-labelledby=shared-title]").inner_text())


def test_second_hand_house_transfer_fetches_what_departments_hold(
    browser: Any, live_server: Any, city: None, clock: SimulatedClock
) -> None:
    buyer = User.objects.get(username="demo-citizen")
    clock.set(_local(2026, 11, 20, 10))
    clerk = _page(browser, DESKTOP)
    _sign_in(clerk, live_server, "demo-clerk", "/console/")
    clerk.goto(f"{live_server.url}/console/applications/walk-in/bundle/eshgh/")
    _fill(clerk, buyer)
    # what a department holds is not asked for: the form says who provides it
    held = clerk.locator(".material:visible .held-by-government").all_inner_texts()
    assert sorted(held) == [
        "由六安市公安局通过数据共享提供：人口基本信息，提交后由部门获取，无需上传。",
        "由六安市自然资源和规划局通过数据共享提供：不动产登记信息，提交后由部门获取，无需上传。",
    ]
    assert _upload_materials(clerk) == 5  # the contracts, application form and deeds only
    _shot(clerk, "scenario-eshgh-once-walk-in-desktop.png")
    _click(clerk, "button", "提交申请（窗口录入）")
    application = Application.objects.get()
    assert application.number in _messages(clerk)
    materials = clerk.locator("section[aria-labelledby=materials-title]").inner_text()
    assert "由六安市公安局通过数据共享提供：人口基本信息" in materials
    assert "由六安市自然资源和规划局通过数据共享提供：不动产登记信息" in materials

    clock.set(_local(2026, 11, 20, 10, 30))
    _click(clerk, "button", "受理")
    assert "已受理" in _messages(clerk)

    panels: dict[str, str] = {}
    pages = {}
    for i, code in enumerate(FIRST):
        clock.set(_local(2026, 11, 20, 11, 10 * i))
        username, password = _approver(code)
        pages[code] = _page(browser, DESKTOP)
        _sign_in(pages[code], live_server, username, "/console/", password=password)
        _approve_in_inbox(pages[code], application)
        panels[code] = _shared_data(pages[code])
    # 住建: the seller's flat, its seizure and mortgage state; 税务: its area and use;
    # 自然资源: the buyer's 契税 record and both parties' identity
    assert owners.SELLER_CERTIFICATE_NO in panels["la-zjj"]
    assert "是否查封\n否" in panels["la-zjj"]
    assert "建筑面积（平方米）\n96.4" in panels["la-swj"]
    assert "完税证明（契税）" in panels["la-zrzyghj"]
    assert "人口基本信息" in panels["la-zrzyghj"]
    _shot(pages["la-zjj"], "scenario-eshgh-once-shared-data-desktop.png")
    readers = set(
        AccessLogEntry.objects.filter(
            case_number=application.number, outcome="answered"
        ).values_list("consumer_label", flat=True)
    )
    assert readers == {
        "六安市住房和城乡建设局",
        "国家税务总局六安市税务局",
        "六安市自然资源和规划局",
    }

    citizen = _page(browser, PHONE)
    _sign_in(citizen, live_server, "demo-citizen", f"/applications/{application.public_id}/")
    fetched = citizen.locator("section[aria-labelledby=materials-title]").inner_text()
    assert "买卖双方居民身份证：由六安市公安局通过数据共享提供：人口基本信息" in fetched
    _shot(citizen, "scenario-eshgh-once-citizen-phone.png")
    # 用数记录: the buyer sees which departments read their data, for this case
    citizen.goto(f"{live_server.url}/exchange/")
    seen = str(citizen.locator("main").inner_text())
    assert application.number in seen
    for department in ("六安市住房和城乡建设局", "六安市自然资源和规划局"):
        assert department in seen
    _shot(citizen, "scenario-eshgh-once-data-use-phone.png")
    for page in (citizen, clerk, *pages.values()):
        page.context.close()
