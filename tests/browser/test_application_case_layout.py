"""Layout of the case pages and the apply form on a 390 px phone, measured in headless
chromium: the 24-digit 办件编号 on one line (the citizen's and the window's case page), every
material card with its full border, and drop-downs as tall and as wide as the text fields
beside them. Screenshots to YIWANG_SCREENSHOT_DIR (default docs/img) with YIWANG_SCREENSHOTS=1."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from yiwang.accounts.demo import accounts_demo_load
from yiwang.accounts.models import User
from yiwang.applications import services
from yiwang.applications.models import Application
from yiwang.applications.tests.factories import PNG
from yiwang.catalog.demo import catalog_demo_load
from yiwang.catalog.models import ItemVersion

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "yiwang-demo-2026"
PHONE = {"width": 390, "height": 844}
SHOTS = Path(
    os.environ.get("YIWANG_SCREENSHOT_DIR") or Path(__file__).resolve().parents[2] / "docs" / "img"
)
SCREENSHOTS = os.environ.get("YIWANG_SCREENSHOTS") == "1"


def _shot(page: Any, name: str) -> None:
    if SCREENSHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / name), full_page=True)


def _sign_in(page: Any, live_server: Any, username: str, next_url: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()


def _phone(browser: Any, live_server: Any, *, elder: bool = False) -> Any:
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    if elder:
        context.add_cookies([{"name": "elder", "value": "1", "url": live_server.url}])
    return context.new_page()


def _demo_application() -> Application:
    accounts_demo_load(password=PASSWORD)
    catalog_demo_load(
        actor=User.objects.get(username="demo-catalog"),
        reviewer=User.objects.get(username="demo-reviewer"),
    )
    version = ItemVersion.objects.get(name="个体工商户设立登记", status="published")
    uploads = [
        services.MaterialInput(material_id=m.pk, content=PNG, filename="m.png")
        for m in version.materials.all()
    ]
    with transaction.atomic():
        return services.application_submit(
            actor=User.objects.get(username="demo-citizen"),
            item=version.item,
            form_data={"shop_name": "皋城小卖部"},
            contact_phone="13900003333",
            materials=uploads,
        )


def _number_lines(page: Any) -> float:
    """How many lines the 办件编号 takes (its box height over its line height); infinite
    when it runs out of its box."""
    return float(
        page.evaluate(
            """() => {
              const dd = document.querySelector("dd.application-number");
              if (dd.scrollWidth > dd.clientWidth) return Infinity;
              const line = parseFloat(getComputedStyle(dd).lineHeight);
              return dd.getBoundingClientRect().height / line;
            }"""
        )
    )


def test_the_case_number_sits_on_one_line_on_a_phone(browser: Any, live_server: Any) -> None:
    application = _demo_application()
    for elder in (False, True):
        citizen = _phone(browser, live_server, elder=elder)
        _sign_in(citizen, live_server, "demo-citizen", f"/applications/{application.public_id}/")
        number = citizen.locator("dd.application-number")
        assert number.inner_text() == application.number
        assert _number_lines(citizen) < 1.5, elder
        assert citizen.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        _shot(citizen, f"pagefix-case-citizen-phone{'-elder' if elder else ''}.png")
        citizen.context.close()

    clerk = _phone(browser, live_server)
    _sign_in(clerk, live_server, "demo-clerk", f"/console/applications/{application.public_id}/")
    assert clerk.locator("dd.application-number").inner_text() == application.number
    assert _number_lines(clerk) < 1.5
    assert clerk.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _shot(clerk, "pagefix-case-staff-phone.png")
    clerk.context.close()


def test_apply_form_cards_and_drop_downs_on_a_phone(browser: Any, live_server: Any) -> None:
    accounts_demo_load(password=PASSWORD)
    catalog_demo_load(
        actor=User.objects.get(username="demo-catalog"),
        reviewer=User.objects.get(username="demo-reviewer"),
    )
    page = _phone(browser, live_server)
    _sign_in(page, live_server, "demo-legal", "/applications/apply/bundle/qykb/")
    assert page.get_by_role("heading", level=1).inner_text() == "申请：企业开办"
    _shot(page, "pagefix-apply-qykb-phone.png")

    # every card, the last one too, has its bottom border
    borders = page.evaluate(
        """() => [...document.querySelectorAll(".material-list .material")].map(
              (li) => parseFloat(getComputedStyle(li).borderBottomWidth))"""
    )
    assert len(borders) >= 2
    assert all(width >= 2 for width in borders), borders

    # a drop-down is as tall and as wide as the text field above it, with the same border
    sizes = page.evaluate(
        """() => {
          const box = (el) => {
            const r = el.getBoundingClientRect(), s = getComputedStyle(el);
            return [Math.round(r.height), Math.round(r.width), s.borderTopWidth];
          };
          const text = document.querySelector(".apply-form input[type=text]");
          return [box(text), ...[...document.querySelectorAll(".apply-form select")].map(box)];
        }"""
    )
    text, *selects = sizes
    assert selects
    for select in selects:
        assert select == text, (select, text)
    page.context.close()
