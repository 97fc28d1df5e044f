"""The certificate pages: the holder's 我的证照 and copies, the public verification page, and the
staff console (list, revoke, new version, 用证), with the access matrix of each.

Certificates are issued through the real service, so each has its signed credential and its
ledger entry; ``_checkpoint`` integrates the log and publishes a checkpoint, and
``_cosign`` adds witnesses and their cosignatures as a witness would sign them (the witness
protocol itself is tested in yiwang/witness)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yiwang.accounts.models import Department, Role, User
from yiwang.accounts.tests.factories import (
    DepartmentFactory,
    UserFactory,
    make_uscc,
    staff_with_role,
)
from yiwang.certificates import services
from yiwang.certificates.models import Certificate, CertificateType, CertificateUse
from yiwang.certificates.qr import qr_svg
from yiwang.core.identifiers import ecert_id_build
from yiwang.core.signing import signer
from yiwang.ledger import services as ledger_services
from yiwang.ledger.models import Checkpoint, Cosignature, LogWitness
from yiwang.ledger.note import TYPE_COSIGNATURE, cosign, note_parse, vkey_format

pytestmark = pytest.mark.django_db

FACE = {"business_name": "李记小吃店", "address": "六安市金安区人民路1号"}


@dataclass
class World:
    issuer: Department
    other: Department
    clerk: User  # window clerk of the issuing department
    other_clerk: User  # window clerk of another department
    handler: User  # staff with no role that may use certificates
    citizen: User
    other_citizen: User
    ctype: CertificateType
    certificate: Certificate


@pytest.fixture(autouse=True)
def _clear_cache() -> Any:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(db: None) -> World:
    issuer = DepartmentFactory(code="t-scjgj", name="六安市市场监督管理局", uscc=make_uscc(501))
    other = DepartmentFactory(code="t-zjj", name="六安市住房和城乡建设局", uscc=make_uscc(502))
    clerk = staff_with_role(Role.WINDOW_CLERK, issuer, real_name="陈受理")
    other_clerk = staff_with_role(Role.WINDOW_CLERK, other, real_name="钱受理")
    handler = staff_with_role(Role.HANDLING_UNIT, other, real_name="郑承办")
    citizen = UserFactory(real_name="李小明")
    other_citizen = UserFactory(real_name="王大妈")
    ctype = CertificateType.objects.create(
        code=make_uscc(900) + "011",
        name="食品经营许可证",
        definer_name="国家市场监督管理总局",
        face_fields=[
            {"key": "business_name", "label": "经营者名称", "required": True},
            {"key": "address", "label": "经营场所", "required": False},
        ],
        validity_years=5,
    )
    ctype.issuing_departments.add(issuer)
    certificate = services.certificate_issue(
        actor=clerk,
        type=ctype,
        department=issuer,
        holder_name=citizen.real_name,
        holder_number=citizen.id_number,
        face=FACE,
        holder_user=citizen,
    )
    return World(
        issuer, other, clerk, other_clerk, handler, citizen, other_citizen, ctype, certificate
    )


def _client(user: User | None = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _checkpoint() -> Checkpoint:
    ledger_services.ledger_integrate()
    return ledger_services.checkpoint_publish()


def _cosign(checkpoint: Checkpoint, *, witnesses: int, signing: int) -> None:
    """``witnesses`` active witnesses in the log's policy, ``signing`` of them cosigned."""
    text = note_parse(checkpoint.note).text
    for n in range(witnesses):
        name = f"witness-{n}.example"
        key = signer(f"witness.test{n}", "ed25519")
        LogWitness.objects.create(
            name=name,
            url=f"http://127.0.0.1:9/{n}",
            vkey=vkey_format(name, TYPE_COSIGNATURE, key.public_key()),
        )
        if n < signing:
            line = cosign(text, name, key, int(time.time()))
            Cosignature.objects.create(checkpoint=checkpoint, witness=name, line=line)


def _text(response: Any) -> str:
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _verify_url(certificate: Certificate) -> str:
    return f"/certificates/verify/{certificate.identifier}/"


# --- the holder ------------------------------------------------------------------------------


def test_my_certificates_lists_mine_with_status_and_validity(world: World):
    response = _client(world.citizen).get("/certificates/")
    assert response.status_code == 200
    text = _text(response)
    assert "食品经营许可证" in text
    assert "六安市市场监督管理局" in text
    assert world.certificate.identifier in text
    assert world.certificate.valid_until is not None
    assert world.certificate.valid_until.isoformat() in text
    assert 'cert-status-valid">有效<' in response.content.decode()


def test_my_certificates_is_empty_for_another_citizen(world: World):
    response = _client(world.other_citizen).get("/certificates/")
    assert response.status_code == 200
    assert world.certificate.identifier not in response.content.decode()
    assert "您还没有电子证照" in _text(response)


def test_the_portal_header_links_to_my_certificates_for_citizens_only(world: World):
    html = _client(world.citizen).get("/").content.decode()
    assert '<a class="tool-link" href="/certificates/">我的证照</a>' in html
    assert "我的证照" not in _client(world.clerk).get("/").content.decode()


def _issue_more(world: World, count: int) -> None:
    for n in range(count):
        services.certificate_issue(
            actor=world.clerk,
            type=world.ctype,
            department=world.issuer,
            holder_name=world.citizen.real_name,
            holder_number=world.citizen.id_number,
            face={**FACE, "business_name": f"李记小吃店{n}号分店"},
            holder_user=world.citizen,
        )


@pytest.mark.parametrize(
    ("who", "path"), [("citizen", "/certificates/"), ("clerk", "/console/certificates/")]
)
def test_list_pages_run_the_same_queries_for_one_or_many_certificates(
    world: World, who: str, path: str
):
    client = _client(getattr(world, who))
    client.get(path)  # warm the per-request caches that are not per list row
    with CaptureQueriesContext(connection) as one:
        assert client.get(path).status_code == 200
    _issue_more(world, 4)
    with CaptureQueriesContext(connection) as five:
        response = client.get(path)
    assert response.content.decode().count("食品经营许可证") == 5
    assert len(five.captured_queries) == len(one.captured_queries)


def test_a_superseded_certificate_points_its_holder_to_the_new_version(world: World):
    new = services.certificate_new_version(
        actor=world.clerk, certificate=world.certificate, face=FACE, reason="更正"
    )
    response = _client(world.citizen).get(f"/certificates/{world.certificate.public_id}/")
    html = response.content.decode()
    assert "该证照已更新为新版本，请使用新版本。" in html
    assert f'href="/certificates/{new.public_id}/"' in html
    assert 'cert-status-superseded">已更新<' in html


def test_certificate_page_shows_face_watermark_grade_qr_and_downloads(world: World):
    cert = world.certificate
    response = _client(world.citizen).get(f"/certificates/{cert.public_id}/")
    assert response.status_code == 200
    html = response.content.decode()
    text = _text(response)
    assert "经营者名称 李记小吃店" in text
    assert "经营场所 六安市金安区人民路1号" in text
    assert cert.watermark() in text
    assert "A级（实施机构生成）" in text
    assert '<svg role="img" aria-label="证照核验二维码"' in html
    # The holder's own number is masked even on their page (it gets printed and shown).
    assert world.citizen.id_number not in html
    assert world.citizen.id_number[:4] + "**********" + world.citizen.id_number[-4:] in html
    for label in ("打印", "下载PDF", "下载可验证凭证", "用证记录"):
        assert f">{label}</a>" in html
    # No checkpoint yet: no offline proof, and the page says why.
    assert "下载离线证明" not in html
    assert "尚未写入账本检查点，请稍后" in text


def test_qr_code_encodes_the_public_verification_address(world: World, settings):
    settings.YIWANG_SITE_URL = "https://zwfw.luan.gov.cn"
    html = _client(world.citizen).get(f"/certificates/{world.certificate.public_id}/").content
    svg = re.search(rb"<svg role=\"img\".*?</svg>", html, re.DOTALL)
    assert svg is not None
    expected = qr_svg(
        "https://zwfw.luan.gov.cn" + _verify_url(world.certificate), label="证照核验二维码"
    )
    assert svg.group(0).decode() == str(expected)


def test_other_citizen_and_staff_get_404_for_my_certificate(world: World):
    path = f"/certificates/{world.certificate.public_id}/"
    for suffix in ("", "print/", "pdf/", "credential/", "proof/"):
        assert _client(world.other_citizen).get(path + suffix).status_code == 404
        # Staff use the console; the holder pages are for holders only.
        assert _client(world.clerk).get(path + suffix).status_code == 403
    assert _client().get(path).status_code == 302


def test_anonymous_is_sent_to_login_from_my_certificates():
    response = _client().get("/certificates/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_print_page_has_the_face_watermark_and_print_button(world: World):
    response = _client(world.citizen).get(f"/certificates/{world.certificate.public_id}/print/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'onclick="window.print()"' in html
    assert html.count(f"<span>{world.certificate.watermark()}</span>") == 40
    assert "certificates/certificates.css" in html


def test_pdf_download_is_a_pdf_named_after_the_identifier(world: World):
    response = _client(world.citizen).get(f"/certificates/{world.certificate.public_id}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert (
        response["Content-Disposition"]
        == f"attachment; filename*=UTF-8''{world.certificate.identifier}.pdf"
    )


POPPLER = shutil.which("pdftotext") and shutil.which("pdftoppm") and shutil.which("zbarimg")


@pytest.mark.skipif(not POPPLER, reason="poppler-utils and zbar-tools read the PDF back")
def test_pdf_reads_back_with_face_identifier_and_a_qr_code_to_verification(
    world: World, tmp_path: Path
):
    pdf = _client(world.citizen).get(f"/certificates/{world.certificate.public_id}/pdf/").content
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(  # noqa: S603
        ["pdftotext", "-layout", str(path), "-"],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    squashed = re.sub(r"\s+", "", text)
    assert "食品经营许可证" in squashed
    assert "李记小吃店" in squashed
    subprocess.run(  # noqa: S603
        ["pdftoppm", "-r", "150", "-png", str(path), str(tmp_path / "p")],  # noqa: S607
        check=True,
    )
    (image,) = tmp_path.glob("p*.png")
    codes = subprocess.run(  # noqa: S603
        ["zbarimg", "--raw", "-q", str(image)],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    assert codes == ["http://testserver" + _verify_url(world.certificate)]


def test_credential_download_is_the_signed_credential(world: World):
    response = _client(world.citizen).get(
        f"/certificates/{world.certificate.public_id}/credential/"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    document = json.loads(response.content)
    world.certificate.refresh_from_db()
    assert document == world.certificate.credential
    assert len(document["proof"]) == 2


def test_offline_proof_before_a_checkpoint_says_to_wait(world: World):
    response = _client(world.citizen).get(f"/certificates/{world.certificate.public_id}/proof/")
    assert response.status_code == 404
    assert "尚未写入账本检查点，请稍后再下载离线证明。" in _text(response)


def test_offline_proof_after_a_checkpoint_is_a_tlog_proof_bundle(world: World):
    _checkpoint()
    page = _client(world.citizen).get(f"/certificates/{world.certificate.public_id}/")
    assert ">下载离线证明</a>" in page.content.decode()
    response = _client(world.citizen).get(f"/certificates/{world.certificate.public_id}/proof/")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.startswith("c2sp.org/tlog-proof@v1\nextra ")
    assert "\nindex 0\n" in body


def test_uses_are_listed_for_the_holder(world: World):
    services.certificate_use(
        actor=world.other_clerk,
        certificate=world.certificate,
        department=world.other,
        reason="申请装修备案",
        case_number="SQ2026000123",
    )
    text = _text(_client(world.citizen).get(f"/certificates/{world.certificate.public_id}/"))
    assert "六安市住房和城乡建设局 申请装修备案 SQ2026000123" in text


# --- the public verification -----------------------------------------------------------------


def test_verify_page_shows_valid_with_masked_holder_and_no_id_number(world: World):
    response = _client().get(_verify_url(world.certificate))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    text = _text(response)
    assert '<strong class="cert-verdict-word" id="cert-verdict">有效</strong>' in html
    assert "持证主体 李** 公民身份号码 " in text
    assert "李小明" not in html
    assert world.citizen.id_number not in html
    assert "六安市市场监督管理局" in text
    assert "食品经营许可证" in text
    assert "李记小吃店" not in html  # the face is for the holder and departments that use it


def test_verify_page_shows_ledger_entry_checkpoint_and_witness_quorum(world: World):
    checkpoint = _checkpoint()
    _cosign(checkpoint, witnesses=3, signing=2)
    text = _text(_client().get(_verify_url(world.certificate)))
    assert "记录序号 0" in text
    assert "账本前 1 条记录" in text
    assert "3 个见证方中 2 个已联署（需 2 个）" in text
    assert "证明有效：该记录已写入账本，并经见证方共同签名" in text


def test_verify_page_says_when_the_quorum_is_not_met(world: World):
    checkpoint = _checkpoint()
    _cosign(checkpoint, witnesses=3, signing=1)
    text = _text(_client().get(_verify_url(world.certificate)))
    assert "3 个见证方中 1 个已联署（需 2 个）" in text
    assert "见证方签名数量不足，未达到信任策略要求" in text


def test_verify_page_before_integration_degrades(world: World):
    text = _text(_client().get(_verify_url(world.certificate)))
    assert "已提交账本，正在写入，请稍后再查看。" in text


def test_verify_page_after_integration_without_checkpoint(world: World):
    ledger_services.ledger_integrate()
    text = _text(_client().get(_verify_url(world.certificate)))
    assert "已写入账本（记录序号 0），等待下一个检查点和见证方联署。" in text


def test_verify_page_shows_revoked_with_date_and_reason_at_once(world: World):
    services.certificate_revoke(
        actor=world.clerk, certificate=world.certificate, reason="经营者申请注销"
    )
    response = _client().get(_verify_url(world.certificate))
    html = response.content.decode()
    assert '<strong class="cert-verdict-word" id="cert-verdict">已注销</strong>' in html
    today = timezone.localdate().isoformat()
    assert f"该证照已于 {today} 注销" in _text(response)
    assert "注销原因：经营者申请注销" in _text(response)


def test_verify_page_shows_superseded_with_a_link_to_the_new_version(world: World):
    new = services.certificate_new_version(
        actor=world.clerk,
        certificate=world.certificate,
        face={**FACE, "address": "六安市裕安区解放路2号"},
    )
    html = _client().get(_verify_url(world.certificate)).content.decode()
    assert '<strong class="cert-verdict-word" id="cert-verdict">已被新版本替代</strong>' in html
    assert f'href="{_verify_url(new)}"' in html


def test_verify_page_shows_expired_past_the_end_date(world: World):
    Certificate.objects.filter(pk=world.certificate.pk).update(
        valid_until=timezone.localdate() - timedelta(days=1)
    )
    html = _client().get(_verify_url(world.certificate)).content.decode()
    assert '<strong class="cert-verdict-word" id="cert-verdict">已过期</strong>' in html
    # The holder reads the same before the daily job marks the row.
    mine = _client(world.citizen).get("/certificates/").content.decode()
    assert 'cert-status-expired">已过期<' in mine


def test_verify_page_of_a_well_formed_unknown_identifier_is_not_found(world: World):
    cert = world.certificate
    unknown = ecert_id_build(
        type_code=cert.type.code, issuer_uscc=cert.issuer_uscc, serial="99999", version=1
    )
    response = _client().get(f"/certificates/verify/{unknown}/")
    assert response.status_code == 404
    assert '<strong class="cert-verdict-word" id="cert-verdict">未找到</strong>' in (
        response.content.decode()
    )


def test_verify_page_explains_a_malformed_identifier(world: World):
    bad = world.certificate.identifier[:-1] + (
        "0" if world.certificate.identifier[-1] != "0" else "1"
    )
    response = _client().get(f"/certificates/verify/{bad}/")
    assert response.status_code == 404
    assert "电子证照标识校验位错误" in _text(response)
    response = _client().get("/certificates/verify/?id=12345")
    assert response.status_code == 422
    assert "电子证照标识应以1.2.156.3005.2开头。" in _text(response)


def test_verify_form_redirects_a_typed_identifier_normalised(world: World):
    typed = " " + world.certificate.identifier.lower() + " "
    response = _client().get("/certificates/verify/", {"id": typed})
    assert response.status_code == 302
    assert response["Location"] == _verify_url(world.certificate)


def test_verify_form_is_public(world: World):
    response = _client().get("/certificates/verify/")
    assert response.status_code == 200
    assert 'name="id"' in response.content.decode()


def test_verify_is_rate_limited_per_address(world: World, monkeypatch):
    from yiwang.certificates import selectors_pages

    monkeypatch.setattr(selectors_pages, "VERIFY_RATE_ALLOWED", 2)
    client = _client()
    assert client.get(_verify_url(world.certificate)).status_code == 200
    assert client.get(_verify_url(world.certificate)).status_code == 200
    response = client.get(_verify_url(world.certificate))
    assert response.status_code == 429
    assert "查询太频繁" in _text(response)


# --- staff ------------------------------------------------------------------------------------


def test_issuing_clerk_lists_and_searches_certificates(world: World):
    client = _client(world.clerk)
    response = client.get("/console/certificates/")
    assert response.status_code == 200
    assert world.certificate.identifier in response.content.decode()
    found = client.get("/console/certificates/", {"q": world.certificate.serial})
    assert world.certificate.identifier in found.content.decode()
    missing = client.get("/console/certificates/", {"q": "NOPE"})
    assert world.certificate.identifier not in missing.content.decode()
    assert "没有找到符合的证照。" in _text(missing)


def test_other_department_does_not_see_the_list_or_the_detail(world: World):
    client = _client(world.other_clerk)
    html = client.get("/console/certificates/").content.decode()
    assert world.certificate.identifier not in html
    detail = client.get(f"/console/certificates/{world.certificate.public_id}/")
    assert detail.status_code == 404


def test_citizens_and_anonymous_cannot_open_the_console(world: World):
    assert _client(world.citizen).get("/console/certificates/").status_code == 403
    assert _client().get("/console/certificates/").status_code == 302
    assert _client(world.citizen).get("/console/certificates/use/").status_code == 403


def test_clerk_revokes_with_reason_and_confirmation(world: World):
    client = _client(world.clerk)
    path = f"/console/certificates/{world.certificate.public_id}/revoke/"
    assert client.get(path).status_code == 200
    missing = client.post(path, {"reason": " ", "confirm": "on"})
    assert missing.status_code == 422
    assert "请填写注销原因。" in _text(missing)
    unconfirmed = client.post(path, {"reason": "经营者申请注销"})
    assert unconfirmed.status_code == 422
    assert "请勾选确认后再注销。" in _text(unconfirmed)
    world.certificate.refresh_from_db()
    assert world.certificate.status == Certificate.Status.VALID
    done = client.post(path, {"reason": "经营者申请注销", "confirm": "on"})
    assert done.status_code == 302
    world.certificate.refresh_from_db()
    assert (world.certificate.status, world.certificate.revoked_reason) == (
        Certificate.Status.REVOKED,
        "经营者申请注销",
    )


def test_other_department_cannot_revoke_or_version(world: World):
    for user, status in ((world.other_clerk, 404), (world.handler, 403)):
        client = _client(user)
        base = f"/console/certificates/{world.certificate.public_id}/"
        assert client.post(base + "revoke/", {"reason": "x", "confirm": "on"}).status_code == (
            status
        )
        assert client.get(base + "new-version/").status_code == status
    world.certificate.refresh_from_db()
    assert world.certificate.status == Certificate.Status.VALID


def test_using_department_sees_the_detail_but_cannot_revoke(world: World):
    services.certificate_use(
        actor=world.other_clerk,
        certificate=world.certificate,
        department=world.other,
        reason="申请装修备案",
        case_number="SQ1",
    )
    client = _client(world.other_clerk)
    detail = client.get(f"/console/certificates/{world.certificate.public_id}/")
    assert detail.status_code == 200
    assert ">注销</a>" not in detail.content.decode()
    revoke = client.post(
        f"/console/certificates/{world.certificate.public_id}/revoke/",
        {"reason": "x", "confirm": "on"},
    )
    assert revoke.status_code == 403
    world.certificate.refresh_from_db()
    assert world.certificate.status == Certificate.Status.VALID


def test_clerk_publishes_a_new_version_with_edited_face(world: World):
    client = _client(world.clerk)
    path = f"/console/certificates/{world.certificate.public_id}/new-version/"
    form = client.get(path)
    assert 'value="李记小吃店"' in form.content.decode()
    response = client.post(
        path,
        {
            "face-business_name": "李记小吃店",
            "face-address": "六安市裕安区解放路2号",
            "reason": "经营场所变更",
        },
    )
    assert response.status_code == 302
    world.certificate.refresh_from_db()
    new = world.certificate.superseded_by
    assert new is not None
    assert response["Location"] == f"/console/certificates/{new.public_id}/"
    assert (new.version, new.face_data["address"]) == (2, "六安市裕安区解放路2号")
    assert world.certificate.status == Certificate.Status.SUPERSEDED


def test_new_version_needs_the_required_face_field_and_a_reason(world: World):
    path = f"/console/certificates/{world.certificate.public_id}/new-version/"
    response = _client(world.clerk).post(path, {"face-business_name": "", "reason": ""})
    assert response.status_code == 422
    assert "请填写变更原因。" in _text(response)
    world.certificate.refresh_from_db()
    assert world.certificate.status == Certificate.Status.VALID


def test_another_department_uses_a_certificate_and_the_holder_sees_it(world: World):
    client = _client(world.other_clerk)
    assert client.get("/console/certificates/use/").status_code == 200
    response = client.post(
        "/console/certificates/use/",
        {
            "identifier": world.certificate.identifier,
            "department": world.other.pk,
            "reason": "申请装修备案",
            "case_number": "SQ2026000123",
        },
    )
    assert response.status_code == 200
    text = _text(response)
    assert "已调用，证照有效" in text
    assert "经营者名称 李记小吃店" in text
    use = CertificateUse.objects.get()
    assert (use.department, use.reason, use.case_number, use.user) == (
        world.other,
        "申请装修备案",
        "SQ2026000123",
        world.other_clerk,
    )


def test_use_refuses_a_revoked_certificate_and_records_nothing(world: World):
    services.certificate_revoke(actor=world.clerk, certificate=world.certificate, reason="注销")
    response = _client(world.other_clerk).post(
        "/console/certificates/use/",
        {
            "identifier": world.certificate.identifier,
            "department": world.other.pk,
            "reason": "申请装修备案",
            "case_number": "SQ1",
        },
    )
    assert response.status_code == 422
    assert "该证照当前状态为“已注销”，不能用于办事。" in _text(response)
    assert CertificateUse.objects.count() == 0


def test_use_refuses_a_department_that_is_not_mine(world: World):
    response = _client(world.other_clerk).post(
        "/console/certificates/use/",
        {
            "identifier": world.certificate.identifier,
            "department": world.issuer.pk,
            "reason": "申请装修备案",
            "case_number": "SQ1",
        },
    )
    assert response.status_code == 422
    assert CertificateUse.objects.count() == 0


def test_use_explains_a_malformed_identifier(world: World):
    response = _client(world.other_clerk).post(
        "/console/certificates/use/",
        {"identifier": "1.2.3", "department": world.other.pk, "reason": "x", "case_number": "1"},
    )
    assert response.status_code == 422
    assert "电子证照标识应以1.2.156.3005.2开头。" in _text(response)


def test_staff_without_a_using_role_is_told_so(world: World):
    response = _client(world.handler).get("/console/certificates/use/")
    assert response.status_code == 200
    assert "您没有可以用证的部门" in _text(response)


def test_console_home_links_to_certificates_for_clerks(world: World):
    html = _client(world.clerk).get("/console/").content.decode()
    assert 'href="/console/certificates/"' in html
