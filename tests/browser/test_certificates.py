"""E-certificates through the real pages in headless chromium, on the Lu'an demo accounts:
市场监管局 issues a 食品经营许可证 to 李小明 (through the service, as the end of a case would);
the log integrates it and two of three witnesses cosign the checkpoint. On his phone he opens
我的证照 from the header, opens the certificate, downloads the PDF, and follows the QR code's
address: the public verification page says 有效 with the witness quorum. 周审批 of
市场监管局 finds the certificate in the console and revokes it with a reason; the same address
now says 已注销, for anyone, at once. Every page is also seen in elder mode and on a desktop.

Each tab fails the test on a console error or an unexpected 4xx/5xx, and every page it would
photograph is checked for sideways scrolling. With YIWANG_SCREENSHOTS=1 it writes
certificates-*.png into docs/img (or YIWANG_SCREENSHOT_DIR).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from yiwang.accounts.demo import accounts_demo_load
from yiwang.accounts.models import Department, User
from yiwang.accounts.tests.factories import make_uscc
from yiwang.certificates import services
from yiwang.certificates.models import Certificate, CertificateType
from yiwang.core.signing import signer
from yiwang.ledger import services as ledger_services
from yiwang.ledger.models import Checkpoint, Cosignature, LogWitness
from yiwang.ledger.note import TYPE_COSIGNATURE, cosign, note_parse, vkey_format

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "yiwang-demo-2026"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SHOTS = Path(
    os.environ.get("YIWANG_SCREENSHOT_DIR") or Path(__file__).resolve().parents[2] / "docs" / "img"
)
SCREENSHOTS = os.environ.get("YIWANG_SCREENSHOTS") == "1"
REASON = "经营者申请注销（停止营业）"


class Tab:
    """A browser context and what went wrong in it: console errors, page errors, answers of
    4xx/5xx; not counted: a form sent back with 422 and the favicon the site does not have."""

    def __init__(self, browser: Any, live_server: Any, viewport: dict[str, int], *, elder: bool):
        context = browser.new_context(viewport=viewport, locale="zh-CN", accept_downloads=True)
        if elder:
            context.add_cookies([{"name": "elder", "value": "1", "url": live_server.url}])
        self.page = context.new_page()
        self.viewport = viewport
        self.url = live_server.url
        self.problems: list[str] = []
        self.page.on("pageerror", lambda exc: self.problems.append(f"pageerror: {exc}"))
        self.page.on("console", self._console)
        self.page.on("response", self._response)

    def _console(self, message: Any) -> None:
        # A form sent back with 422 is the expected answer (chromium logs it as a failure).
        if message.type != "error" or "status of 422" in message.text:
            return
        if not str(message.location.get("url", "")).endswith("/favicon.ico"):
            self.problems.append(f"{self.page.url}: {message.text}")

    def _response(self, response: Any) -> None:
        expected = response.status == 422 or response.url.endswith("/favicon.ico")
        if response.status >= 400 and not expected:
            self.problems.append(f"{response.status} {response.request.method} {response.url}")

    def sign_in(self, username: str, next_url: str) -> None:
        page = self.page
        page.goto(f"{self.url}/accounts/login/?next={next_url}")
        page.get_by_label("用户名", exact=True).fill(username)
        page.get_by_label("密码", exact=True).fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="登录").click()
        assert page.url == f"{self.url}{next_url}", page.locator("main").inner_text()

    def click(self, role: str, name: str) -> None:
        with self.page.expect_navigation():
            self.page.get_by_role(role, name=name, exact=True).first.click()

    def shot(self, name: str) -> None:
        page = self.page
        assert page.evaluate("document.documentElement.scrollWidth") <= self.viewport["width"]
        if SCREENSHOTS:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.evaluate("document.activeElement && document.activeElement.blur(); scrollTo(0,0)")
            page.screenshot(path=str(SHOTS / name), full_page=True)

    def verdict(self) -> str:
        return str(self.page.locator("#cert-verdict").inner_text())

    def close(self) -> None:
        self.page.context.close()
        assert self.problems == [], "\n".join(self.problems)


@pytest.fixture
def certificate(db: None) -> Certificate:
    accounts_demo_load(password=PASSWORD)
    scjgj = Department.objects.get(code="la-scjgj")
    scjgj.uscc = make_uscc(7001)
    scjgj.save(update_fields=["uscc"])
    ctype = CertificateType.objects.create(
        code=make_uscc(7900) + "011",
        name="食品经营许可证",
        definer_name="国家市场监督管理总局",
        face_fields=[
            {"key": "business_name", "label": "经营者名称", "required": True},
            {"key": "address", "label": "经营场所", "required": True},
            {"key": "scope", "label": "经营项目", "required": False},
        ],
        validity_years=5,
    )
    ctype.issuing_departments.add(scjgj)
    citizen = User.objects.get(username="demo-citizen")
    with transaction.atomic():
        issued = services.certificate_issue(
            actor=User.objects.get(username="demo-approver"),
            type=ctype,
            department=scjgj,
            holder_name=citizen.real_name,
            holder_number=citizen.id_number,
            face={
                "business_name": "李记小吃店",
                "address": "六安市金安区人民路与解放路交叉口东50米",
                "scope": "热食类食品制售；预包装食品（不含冷藏冷冻食品）销售",
            },
            holder_user=citizen,
        )
    ledger_services.ledger_integrate()
    _witnessed(ledger_services.checkpoint_publish(), witnesses=3, signing=2)
    return issued


def _witnessed(checkpoint: Checkpoint, *, witnesses: int, signing: int) -> None:
    """Three departments' witnesses in the log's policy; two cosign as a witness would."""
    text = note_parse(checkpoint.note).text
    for n in range(witnesses):
        name = f"witness-{n}.luan.example"
        key = signer(f"witness.browser{n}", "ed25519")
        LogWitness.objects.create(
            name=name,
            url=f"http://127.0.0.1:9/{n}",
            vkey=vkey_format(name, TYPE_COSIGNATURE, key.public_key()),
        )
        if n < signing:
            line = cosign(text, name, key, int(time.time()))
            Cosignature.objects.create(checkpoint=checkpoint, witness=name, line=line)


def test_holder_opens_a_certificate_verifies_it_and_sees_it_revoked(
    browser: Any, live_server: Any, certificate: Certificate
) -> None:
    # 李小明 on his phone: 我的证照 from the header, then the certificate.
    holder = Tab(browser, live_server, PHONE, elder=False)
    holder.sign_in("demo-citizen", "/")
    page = holder.page
    holder.click("link", "我的证照")
    assert page.url == f"{live_server.url}/certificates/"
    item = page.locator("li.cert-item", has_text="食品经营许可证")
    assert "有效" in item.locator(".cert-status").inner_text()
    holder.shot("certificates-mine-phone.png")
    holder.click("link", "食品经营许可证")
    assert page.url == f"{live_server.url}/certificates/{certificate.public_id}/"
    face = page.locator("section.cert-face")
    assert "李记小吃店" in face.inner_text()
    assert certificate.identifier in face.inner_text()
    assert page.locator(".cert-qr svg").is_visible()
    holder.shot("certificates-detail-phone.png")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载PDF", exact=True).click()
    assert download.value.suggested_filename == f"{certificate.identifier}.pdf"
    with page.expect_download() as download:
        page.get_by_role("link", name="下载离线证明", exact=True).click()
    assert download.value.suggested_filename == f"{certificate.identifier}.tlog-proof"
    verify_href = page.locator("#cert-verify-link").get_attribute("href")
    assert verify_href == f"{live_server.url}/certificates/verify/{certificate.identifier}/"
    holder.click("link", "打印")
    assert page.locator(".cert-watermark span").count() == 40
    holder.shot("certificates-print-phone.png")
    page.emulate_media(media="print")  # as printed: only the face, the watermark kept
    assert not page.locator(".site-header").is_visible()
    assert not page.locator(".cert-actions").is_visible()
    assert page.locator(".cert-watermark").is_visible()
    holder.shot("certificates-print-media-phone.png")
    page.emulate_media(media="screen")

    # Someone he shows it to scans the QR code (the same address): 有效, with the quorum.
    verifier = Tab(browser, live_server, PHONE, elder=False)
    verifier.page.goto(verify_href)
    assert verifier.verdict() == "有效"
    ledger = verifier.page.locator("section[aria-labelledby=cert-ledger-title]").inner_text()
    assert "3 个见证方中 2 个已联署（需 2 个）" in ledger
    assert "证明有效" in ledger
    assert "李小明" not in verifier.page.content()
    verifier.shot("certificates-verify-valid-phone.png")

    # 周审批 of 市场监管局 revokes it from the console.
    staff = Tab(browser, live_server, DESKTOP, elder=False)
    staff.sign_in("demo-approver", "/console/")
    staff.click("link", "电子证照")
    assert staff.page.url == f"{live_server.url}/console/certificates/"
    staff.page.get_by_label("按电子证照标识或流水号查找").fill(certificate.serial)
    staff.click("button", "查找")
    staff.shot("certificates-console-list-desktop.png")
    staff.click("link", "食品经营许可证")
    staff.click("link", "注销")
    staff.page.get_by_label("注销原因", exact=True).fill(REASON)
    staff.click("button", "确认注销")  # not confirmed yet: sent back
    assert "请勾选确认后再注销。" in staff.page.locator("#form-errors").inner_text()
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID
    staff.page.get_by_label("我已核实：注销后该证照立即失效，不能撤回。").check()
    staff.shot("certificates-console-revoke-desktop.png")
    staff.click("button", "确认注销")
    assert "证照已注销" in staff.page.locator(".messages").inner_text()
    certificate.refresh_from_db()
    assert (certificate.status, certificate.revoked_reason) == (
        Certificate.Status.REVOKED,
        REASON,
    )
    staff.shot("certificates-console-detail-desktop.png")

    # The same address, at once: 已注销 with the date and the reason.
    verifier.page.reload()
    assert verifier.verdict() == "已注销"
    assert f"注销原因：{REASON}" in verifier.page.locator(".cert-verdict").inner_text()
    verifier.shot("certificates-verify-revoked-phone.png")
    holder.page.goto(f"{live_server.url}/certificates/")
    assert "已注销" in page.locator("li.cert-item .cert-status").inner_text()

    for tab in (holder, verifier, staff):
        tab.close()


@pytest.mark.parametrize(
    ("viewport", "elder", "suffix"),
    [
        (DESKTOP, False, "desktop"),
        (DESKTOP, True, "desktop-elder"),
        (PHONE, True, "phone-elder"),
    ],
)
def test_the_pages_fit_each_screen_and_elder_mode(
    browser: Any,
    live_server: Any,
    certificate: Certificate,
    viewport: dict[str, int],
    elder: bool,
    suffix: str,
) -> None:
    holder = Tab(browser, live_server, viewport, elder=elder)
    holder.sign_in("demo-citizen", "/certificates/")
    assert holder.page.evaluate("document.body.className") == ("elder" if elder else "")
    holder.shot(f"certificates-mine-{suffix}.png")
    holder.page.goto(f"{live_server.url}/certificates/{certificate.public_id}/")
    assert holder.page.locator(".cert-qr svg").is_visible()
    holder.shot(f"certificates-detail-{suffix}.png")
    holder.page.goto(f"{live_server.url}/certificates/verify/{certificate.identifier}/")
    assert holder.verdict() == "有效"
    holder.shot(f"certificates-verify-valid-{suffix}.png")
    holder.page.goto(f"{live_server.url}/certificates/verify/?id=1.2.156.3005.2.X")
    assert "证照类型代码" in holder.page.locator("#cert-verify-error").inner_text()
    holder.shot(f"certificates-verify-malformed-{suffix}.png")
    holder.close()

    staff = Tab(browser, live_server, viewport, elder=elder)
    staff.sign_in("demo-approver", f"/console/certificates/{certificate.public_id}/")
    staff.shot(f"certificates-console-detail-{suffix}.png")
    staff.page.goto(f"{live_server.url}/console/certificates/use/")
    staff.shot(f"certificates-console-use-{suffix}.png")
    staff.close()
