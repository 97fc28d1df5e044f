"""The public catalog in a real browser, as a citizen uses it: search 公积金 from the home page,
open the guide, pick a situation. Desktop and phone, normal and elder mode. With
YIWANG_SCREENSHOTS=1 it also writes docs/img/catalog-*.png."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from yiwang.accounts.tests.factories import DepartmentFactory
from yiwang.catalog.models import ItemVersion, Material, ProcessStep, Theme
from yiwang.catalog.search import search_index_reset
from yiwang.catalog.tests.factories import (
    FaqFactory,
    LegalBasisFactory,
    MaterialFactory,
    ProcessStepFactory,
    PublishedVersionFactory,
    ServiceItemFactory,
    SituationFactory,
    ThemeFactory,
    public_service_type,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
IMG_DIR = Path(__file__).resolve().parents[2] / "docs" / "img"


def _housing_fund_catalog() -> ItemVersion:
    """住房公积金提取 with three situations, as the demo catalog has it, and two neighbours."""
    centre = DepartmentFactory(code="la-gjj", name="六安市住房公积金管理中心")
    version = PublishedVersionFactory(
        item=ServiceItemFactory(department=centre),
        name="住房公积金提取",
        dept_name="六安市住房公积金管理中心",
        item_type=public_service_type(),
        keywords="公积金 提取 取公积金",
        accept_condition="缴存职工购买、建造、翻建、大修自住住房，离休、退休，或与单位终止劳动关系"
        "且未再就业满半年的，可以申请提取本人住房公积金账户内的存储余额。",
        anticipate_limit=3,
        promise_limit=1,
        transact_addr="六安市政务服务中心三楼住房公积金窗口（梅山南路与皋城路交叉口）",
        transact_time="周一至周五 9:00-12:00，13:00-17:00（法定节假日除外）",
        consult_way="0564-12329",
        supervise_way="0564-12345",
        result_name="住房公积金提取到账",
        result_type=ItemVersion.ResultType.OTHER,
        children=False,
    )
    version.themes.add(ThemeFactory(audience=Theme.Audience.NATURAL, name="住房保障"))
    buy = SituationFactory(version=version, code="buy", name="购买自住住房", sort_order=1)
    retire = SituationFactory(version=version, code="retire", name="离休、退休", sort_order=2)
    leave = SituationFactory(version=version, code="leave", name="离职未再就业", sort_order=3)
    MaterialFactory(version=version, name="居民身份证", sort_order=1)
    MaterialFactory(
        version=version,
        name="本人银行卡",
        kind=Material.Kind.ORIGINAL_AND_COPY,
        form=Material.Form.PAPER,
        sort_order=2,
    )
    MaterialFactory(
        version=version,
        name="不动产权证书",
        source=Material.Source.GOVERNMENT,
        certificate_type_code="11100000000013338W009",
        situations=[buy],
        sort_order=3,
    )
    MaterialFactory(version=version, name="购房合同及购房发票", situations=[buy], sort_order=4)
    MaterialFactory(
        version=version,
        name="退休证或退休审批表",
        situations=[retire],
        necessity=Material.Necessity.TOLERATED,
        sort_order=5,
    )
    MaterialFactory(
        version=version,
        name="与单位解除劳动关系证明",
        situations=[leave],
        blank_form="catalog/forms/leave.docx",
        sort_order=6,
    )
    for i, (name, kind) in enumerate(
        (
            ("网上申请或窗口受理", ProcessStep.Kind.ACCEPT),
            ("审核", ProcessStep.Kind.REVIEW),
            ("资金划转", ProcessStep.Kind.CONCLUDE),
        )
    ):
        ProcessStepFactory(
            version=version, name=name, kind=kind, stage=i, sort_order=i, time_limit=1
        )
    FaqFactory(
        version=version,
        question="离职后多久可以提取？",
        answer="与单位终止劳动关系满半年且未再就业。",
    )
    LegalBasisFactory(
        version=version,
        law_name="《住房公积金管理条例》",
        doc_number="国务院令第350号",
        article="第二十四条",
        content="职工有下列情形之一的，可以提取职工住房公积金账户内的存储余额……",
    )
    PublishedVersionFactory(name="住房公积金缴存登记", dept_name="六安市住房公积金管理中心")
    PublishedVersionFactory(name="居民身份证申领", dept_name="六安市公安局")
    search_index_reset()
    return version


def _page(browser: Any, live_server: Any, viewport: dict[str, int], *, elder: bool) -> Any:
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    if elder:
        context.add_cookies([{"name": "elder", "value": "1", "url": live_server.url}])
    return context.new_page()


def _material_names(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("#materials .material-name strong").all_inner_texts()]


def _no_sideways_scroll(page: Any, viewport: dict[str, int]) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_citizen_searches_opens_the_guide_and_picks_a_situation(
    browser: Any, live_server: Any, viewport: dict[str, int], elder: bool
) -> None:
    from playwright.sync_api import expect

    version = _housing_fund_catalog()
    page = _page(browser, live_server, viewport, elder=elder)
    page.goto(live_server.url + "/")

    page.get_by_label("搜索办事事项").fill("公积金")
    with page.expect_navigation():
        page.get_by_role("button", name="搜索").click()

    assert page.url == live_server.url + "/services/?q=%E5%85%AC%E7%A7%AF%E9%87%91"
    results = page.locator("#catalog-results .result h3").all_inner_texts()
    assert sorted(results) == ["住房公积金提取", "住房公积金缴存登记"]
    assert page.get_by_role("heading", level=2).first.inner_text() == "找到 2 个事项"
    _no_sideways_scroll(page, viewport)

    with page.expect_navigation():
        page.get_by_role("link", name="住房公积金提取").click()

    assert page.url == f"{live_server.url}/services/{version.item.task_code}/"
    assert page.get_by_role("heading", level=1).inner_text() == "住房公积金提取"
    assert _material_names(page) == [
        "居民身份证",
        "本人银行卡",
        "不动产权证书",
        "购房合同及购房发票",
        "退休证或退休审批表",
        "与单位解除劳动关系证明",
    ]
    assert page.get_by_text("无需提交，由部门共享获取").count() == 1
    _no_sideways_scroll(page, viewport)

    page.get_by_role("link", name="离职未再就业").click()

    expect(page.locator("#materials .material-group")).to_have_count(2)
    assert _material_names(page) == ["居民身份证", "本人银行卡", "与单位解除劳动关系证明"]
    assert page.url.endswith("?situation=leave")
    assert page.get_by_role("link", name="离职未再就业").get_attribute("aria-current") == "true"
    assert page.get_by_role("link", name="下载空白表格").is_visible()
    _no_sideways_scroll(page, viewport)
    page.context.close()


def test_situation_picker_works_without_javascript(browser: Any, live_server: Any) -> None:
    version = _housing_fund_catalog()
    context = browser.new_context(viewport=PHONE, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/services/{version.item.task_code}/")

    with page.expect_navigation():
        page.get_by_role("link", name="离休、退休").click()

    assert page.url.endswith("?situation=retire#materials")
    assert _material_names(page) == ["居民身份证", "本人银行卡", "退休证或退休审批表"]
    context.close()


def test_print_hides_the_shell_and_prints_black_on_white(browser: Any, live_server: Any) -> None:
    version = _housing_fund_catalog()
    page = _page(browser, live_server, DESKTOP, elder=False)
    page.goto(f"{live_server.url}/services/{version.item.task_code}/")

    page.emulate_media(media="print")

    assert not page.locator(".site-header").is_visible()
    assert not page.locator(".site-footer").is_visible()
    assert not page.get_by_role("button", name="打印指南").is_visible()
    assert page.get_by_role("heading", level=1).is_visible()
    colour = page.evaluate("getComputedStyle(document.querySelector('.guide-dept')).color")
    assert colour == "rgb(0, 0, 0)"
    page.context.close()


@pytest.mark.skipif(os.environ.get("YIWANG_SCREENSHOTS") != "1", reason="YIWANG_SCREENSHOTS=1")
def test_write_catalog_screenshots(browser: Any, live_server: Any) -> None:
    IMG_DIR.mkdir(parents=True, exist_ok=True)
    version = _housing_fund_catalog()
    guide = f"{live_server.url}/services/{version.item.task_code}/?situation=buy"

    page = _page(browser, live_server, DESKTOP, elder=False)
    page.goto(live_server.url + "/services/?q=%E5%85%AC%E7%A7%AF%E9%87%91")
    page.screenshot(path=str(IMG_DIR / "catalog-search-desktop.png"), full_page=True)
    page.context.close()

    for elder in (False, True):
        page = _page(browser, live_server, PHONE, elder=elder)
        page.goto(guide)
        suffix = "-elder" if elder else ""
        page.screenshot(path=str(IMG_DIR / f"catalog-guide-phone{suffix}.png"), full_page=True)
        page.context.close()

    # A4 at 96 dpi is 794 px wide: the screenshot shows what the printer gets.
    page = _page(browser, live_server, {"width": 794, "height": 1123}, elder=False)
    page.goto(guide)
    page.emulate_media(media="print")
    page.screenshot(path=str(IMG_DIR / "catalog-guide-print.png"), full_page=True)
    page.context.close()
