"""The staff console of 办件 in a real browser, on the Lu'an demo: demo-clerk accepts a
个体工商户设立登记 at the 受理台, demo-approver approves it from 待办任务, demo-clerk concludes
and issues it at 出件 (desktop); the case and task pages also fit a phone. With
YIWANG_SCREENSHOTS=1 it writes applications-staff-*.png into docs/img (or
YIWANG_SCREENSHOT_DIR)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from yiwang.accounts.demo import accounts_demo_load
from yiwang.accounts.models import Role, User
from yiwang.accounts.tests.factories import TEST_PASSWORD, UserFactory, staff_with_role
from yiwang.applications import services, sources
from yiwang.applications.models import Application
from yiwang.applications.tests.factories import PNG
from yiwang.catalog.demo import catalog_demo_load
from yiwang.catalog.models import ItemVersion, Material

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "yiwang-demo-2026"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
IMG_DIR = Path(
    os.environ.get("YIWANG_SCREENSHOT_DIR") or Path(__file__).resolve().parents[2] / "docs" / "img"
)
SCREENSHOTS = os.environ.get("YIWANG_SCREENSHOTS") == "1"


@pytest.fixture
def government_source() -> Iterator[None]:
    """Stands in for the e-certificate app: answers the materials the government holds."""

    def provider(material: Material, applicant: User) -> sources.FetchedMaterial:
        return sources.FetchedMaterial(reference="DZZZ-TEST", provider="test-certificates")

    sources.material_provider_register(provider)
    yield
    sources.material_provider_unregister(provider)


def _page(browser: Any, viewport: dict[str, int], *, elder_at: str = "") -> Any:
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    if elder_at:
        context.add_cookies([{"name": "elder", "value": "1", "url": elder_at}])
    return context.new_page()


def _sign_in(
    page: Any, live_server: Any, username: str, next_url: str, password: str = PASSWORD
) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
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


def _demo_application() -> Application:
    accounts_demo_load(password=PASSWORD)
    catalog_demo_load(
        actor=User.objects.get(username="demo-catalog"),
        reviewer=User.objects.get(username="demo-reviewer"),
    )
    version = ItemVersion.objects.get(name="个体工商户设立登记", status="published")
    citizen = UserFactory(real_name="刘个体", phone="13900003333")
    uploads = [
        services.MaterialInput(material_id=m.pk, content=PNG, filename="m.png")
        for m in version.materials.all()
        if not m.fetched
    ]
    with transaction.atomic():
        return services.application_submit(
            actor=citizen,
            item=version.item,
            form_data={"shop_name": "皋城小卖部"},
            contact_phone="13900003333",
            materials=uploads,
        )


def test_accept_approve_and_issue_a_demo_application(
    browser: Any, live_server: Any, government_source: None
):
    application = _demo_application()

    # 受理台: demo-clerk finds it from the console and accepts it.
    clerk = _page(browser, DESKTOP)
    _sign_in(clerk, live_server, "demo-clerk", "/console/")
    _click(clerk, "link", "受理台")
    assert application.number in clerk.content()
    _shot(clerk, "applications-staff-queue-desktop.png")
    _click(clerk, "link", application.name)
    assert "皋城小卖部" in clerk.content()
    _shot(clerk, "applications-staff-case-desktop.png")
    _click(clerk, "button", "受理")
    assert "已受理，受理通知书可下载打印。" in clerk.content()
    assert clerk.get_by_role("link", name="受理通知书（PDF）").is_visible()
    application.refresh_from_db()
    assert application.status == Application.Status.IN_REVIEW

    # 待办任务: a colleague and demo-approver open the same task; demo-approver claims first,
    # the colleague's claim loses with the service's message.
    task = application.tasks.get(status="open")
    colleague = _page(browser, DESKTOP)
    staff_with_role(Role.APPROVER, task.department, username="scjg-colleague")
    _sign_in(colleague, live_server, "scjg-colleague", "/console/", password=TEST_PASSWORD)
    _click(colleague, "link", "待办任务")
    _click(colleague, "link", f"{application.name}：", exact=False)
    approver = _page(browser, DESKTOP)
    _sign_in(approver, live_server, "demo-approver", "/console/")
    _click(approver, "link", "待办任务")
    _click(approver, "link", f"{application.name}：", exact=False)
    _click(approver, "button", "认领")
    _click(colleague, "button", "认领")
    assert "该任务已由周审批认领，请刷新后查看。" in colleague.content()
    _shot(colleague, "applications-staff-task-conflict-desktop.png")
    colleague.context.close()

    # demo-approver approves each task of the case as it opens.
    for _round in range(5):
        application.refresh_from_db()
        if application.status != Application.Status.IN_REVIEW:
            break
        _click(approver, "link", "待办任务")
        _shot(approver, "applications-staff-tasks-desktop.png")
        _click(approver, "link", f"{application.name}：", exact=False)
        if approver.get_by_role("button", name="认领", exact=True).count():
            _click(approver, "button", "认领")
            assert "已认领" in approver.content()
        approver.get_by_label("同意", exact=True).check()
        approver.get_by_label("办理意见").fill("材料齐全，符合条件，同意。")
        _shot(approver, "applications-staff-task-desktop.png")
        _click(approver, "button", "提交决定")
        assert "已提交审批意见。" in approver.content()
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED

    # 出件: demo-clerk concludes and hands the licence over at the window.
    clerk.goto(f"{live_server.url}/console/")
    _click(clerk, "link", "出件")
    assert application.number in clerk.content()
    _click(clerk, "link", application.name)
    _click(clerk, "button", "办结")
    assert "已办结" in clerk.content()
    clerk.get_by_label("窗口领取").check()
    _shot(clerk, "applications-staff-issue-desktop.png")
    _click(clerk, "button", "出件")
    assert "已出件。" in clerk.content()
    assert clerk.get_by_role("link", name="办结通知书（PDF）").is_visible()
    _shot(clerk, "applications-staff-issued-desktop.png")
    application.refresh_from_db()
    assert (application.status, application.delivery_method) == ("issued", "window")

    # The case on a phone in elder mode: one column, nothing wider than the screen.
    phone = _page(browser, PHONE, elder_at=live_server.url)
    _sign_in(phone, live_server, "demo-clerk", f"/console/applications/{application.public_id}/")
    assert phone.get_by_role("heading", level=1).inner_text() == application.name
    assert phone.evaluate("document.body.className") == "elder"
    assert _no_sideways_scroll(phone, PHONE)
    _shot(phone, "applications-staff-case-phone-elder.png")
    for page in (clerk, approver, phone):
        page.context.close()
