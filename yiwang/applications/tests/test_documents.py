"""The printed documents of a case, read back as a person (pdftotext) and a phone (zbarimg) would.

Needs poppler-utils (pdftotext, pdfinfo, pdftoppm) to read the PDFs and zbar-tools (zbarimg) to
scan the QR codes; a test that needs a missing tool is skipped and says which.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from yiwang.applications.documents import (
    DOCUMENT_INVALID,
    AcceptanceNotice,
    ApplicantKind,
    CaseInfo,
    CorrectionNotice,
    DecisionNotice,
    DefectKind,
    Delivery,
    DeliveryMethod,
    Issuer,
    MaterialDefect,
    MaterialForm,
    Outcome,
    ReceivedMaterial,
    RefusalNotice,
    Remedy,
    acceptance_notice_render,
    correction_notice_render,
    decision_notice_render,
    notice_fingerprint,
    refusal_notice_render,
)
from yiwang.core.errors import ValidationError

POPPLER = shutil.which("pdftotext") and shutil.which("pdfinfo") and shutil.which("pdftoppm")
needs_poppler = pytest.mark.skipif(
    not POPPLER, reason="poppler-utils (pdftotext, pdfinfo, pdftoppm) is not installed"
)
needs_zbar = pytest.mark.skipif(
    not (POPPLER and shutil.which("zbarimg")),
    reason="zbar-tools (zbarimg) and poppler-utils are needed to scan the QR code",
)

NUMBER = "YW2026112700012"
ID_NUMBER = "341502199001010012"
PHONE = "13812345678"
NAME = "张三丰"
PROGRESS = f"https://zwfw.example.gov.cn/progress/?number={NUMBER}"
DOWNLOAD = "https://zwfw.example.gov.cn/results/5f1c2a/download/"
ISSUED = datetime(2026, 11, 27, 2, 30, tzinfo=UTC)  # 10:30 in Shanghai


def _case(**changes: Any) -> CaseInfo:
    case = CaseInfo(
        number=NUMBER,
        item_name="食品经营许可证核发",
        item_code="11341500MB1234567X4000117002000",
        applicant_name=NAME,
        submitted_at=datetime(2026, 11, 26, 1, 15, tzinfo=UTC),
        applicant_id_number=ID_NUMBER,
        applicant_phone=PHONE,
    )
    return replace(case, **changes)


def _issuer() -> Issuer:
    return Issuer(
        department="某某市市场监督管理局",
        window="市民中心二楼 综合受理窗口12号",
        phone="0550-3012345",
    )


def _remedy() -> Remedy:
    return Remedy(review_body="某某市人民政府", court="某某市琅琊区人民法院")


def _acceptance(**changes: Any) -> AcceptanceNotice:
    notice = AcceptanceNotice(
        document_number="滁市监受〔2026〕第0012号",
        issued_at=ISSUED,
        issuer=_issuer(),
        case=_case(),
        accepted_at=datetime(2026, 11, 27, 2, 5, tzinfo=UTC),
        time_limit_days=5,
        expected_completion=date(2026, 12, 4),
        materials=(
            ReceivedMaterial(name="食品经营许可申请书", form=MaterialForm.ORIGINAL, count=1),
            ReceivedMaterial(name="营业执照", form=MaterialForm.COPY, count=2),
            ReceivedMaterial(
                name="食品安全管理制度文本",
                form=MaterialForm.ORIGINAL,
                count=0,
                deferred_until=date(2026, 12, 2),
            ),
        ),
        progress_url=PROGRESS,
    )
    return replace(notice, **changes)


def _refusal(**changes: Any) -> RefusalNotice:
    notice = RefusalNotice(
        document_number="滁市监不受〔2026〕第0003号",
        issued_at=ISSUED,
        issuer=_issuer(),
        case=_case(),
        reasons=(
            "申请事项依法不需要取得行政许可。",
            "申请事项不属于本机关职权范围，请向某某区市场监督管理局申请。",
        ),
        remedy=_remedy(),
    )
    return replace(notice, **changes)


def _correction(**changes: Any) -> CorrectionNotice:
    notice = CorrectionNotice(
        document_number="滁市监补〔2026〕第0007号",
        issued_at=ISSUED,
        issuer=_issuer(),
        case=_case(),
        defects=(
            MaterialDefect(
                name="经营场所使用证明",
                kind=DefectKind.MISSING,
                problem="未提交。请提交房屋产权证明或租赁合同复印件一份。",
            ),
            MaterialDefect(
                name="法定代表人身份证明",
                kind=DefectKind.DEFICIENT,
                problem="复印件模糊不清，请提交清晰的身份证正反面复印件。",
            ),
        ),
        supply_by=date(2026, 12, 11),
    )
    return replace(notice, **changes)


def _decision(**changes: Any) -> DecisionNotice:
    notice = DecisionNotice(
        document_number="滁市监结〔2026〕第0031号",
        issued_at=ISSUED,
        issuer=_issuer(),
        case=_case(),
        outcome=Outcome.APPROVED,
        decided_at=datetime(2026, 11, 27, 2, 20, tzinfo=UTC),
        result_document="食品经营许可证",
        result_document_number="JY13415020012345",
        delivery=Delivery(
            method=DeliveryMethod.PICKUP, pickup_address="某某市市民中心一楼 统一出件窗口"
        ),
    )
    return replace(notice, **changes)


RENDERS = [
    pytest.param(acceptance_notice_render, _acceptance, "受理通知书", id="acceptance"),
    pytest.param(refusal_notice_render, _refusal, "不予受理通知书", id="refusal"),
    pytest.param(correction_notice_render, _correction, "补正材料一次性告知书", id="correction"),
    pytest.param(decision_notice_render, _decision, "办结通知书", id="decision"),
]


def _run(*args: str | Path) -> str:
    done = subprocess.run(args, capture_output=True, check=True, text=True, timeout=60)  # noqa: S603
    return done.stdout


def _write(pdf: bytes, tmp_path: Path) -> Path:
    path = tmp_path / "notice.pdf"
    path.write_bytes(pdf)
    return path


def _text(pdf: bytes, tmp_path: Path, page: int | None = None, *, layout: bool = True) -> str:
    """The text of the PDF (or one page), with all whitespace removed: lines break anywhere.

    With ``layout`` a table reads row by row (a wrapped cell's later lines come after the
    row's first line); without, each cell reads whole, one after the other."""
    pages = ["-f", str(page), "-l", str(page)] if page else []
    mode = ["-layout"] if layout else []
    raw = _run("pdftotext", *mode, *pages, _write(pdf, tmp_path), "-")
    return re.sub(r"\s+", "", raw)


def _pages(pdf: bytes, tmp_path: Path) -> int:
    info = _run("pdfinfo", _write(pdf, tmp_path))
    match = re.search(r"^Pages:\s+(\d+)$", info, re.MULTILINE)
    assert match
    return int(match.group(1))


def _qr_codes(pdf: bytes, tmp_path: Path, page: int = 1) -> list[str]:
    prefix = tmp_path / "page"
    _run(
        "pdftoppm",
        "-r",
        "200",
        "-f",
        str(page),
        "-l",
        str(page),
        "-png",
        _write(pdf, tmp_path),
        prefix,
    )
    (image,) = tmp_path.glob("page*.png")
    done = subprocess.run(  # noqa: S603
        ["zbarimg", "--raw", "-q", "-Sdisable", "-Sqrcode.enable", str(image)],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.stdout.splitlines()


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- every document ---------------------------------------------------------------------------


@needs_poppler
@pytest.mark.parametrize(("render", "build", "title"), RENDERS)
def test_document_is_a_pdf_with_its_title_case_and_issuer(render, build, title, tmp_path):
    notice = build()

    pdf = render(notice=notice)

    assert pdf.startswith(b"%PDF-")
    text = _text(pdf, tmp_path)
    for expected in [
        title,
        NUMBER,
        "食品经营许可证核发",
        "11341500MB1234567X4000117002000",
        "某某市市场监督管理局",
        _squash(notice.document_number),
        "2026年11月27日",  # the date of issue, in Shanghai
        "（印章）",
        "第1页/共1页",
        notice_fingerprint(notice=notice),
    ]:
        assert expected in text


@needs_poppler
@pytest.mark.parametrize(("render", "build", "title"), RENDERS)
def test_document_shows_no_full_personal_data(render, build, title, tmp_path):
    pdf = render(notice=build())

    assert ID_NUMBER.encode() not in pdf  # nor in the metadata
    assert PHONE.encode() not in pdf
    text = _text(pdf, tmp_path)
    assert ID_NUMBER not in text
    assert PHONE not in text
    assert NAME not in text
    assert "3415**********0012" in text
    assert "138****5678" in text
    assert "张**：" in text


@needs_poppler
@pytest.mark.parametrize(("render", "build", "title"), RENDERS)
def test_document_is_chinese_whatever_the_request_language(render, build, title, tmp_path):
    translation.activate("en")

    pdf = render(notice=build())

    assert title in _text(pdf, tmp_path)


@pytest.mark.parametrize(("render", "build", "title"), RENDERS)
def test_same_notice_gives_same_bytes(render, build, title):
    assert render(notice=build()) == render(notice=build())


@needs_poppler
@pytest.mark.parametrize(("render", "build", "title"), RENDERS)
def test_user_text_with_markup_is_printed_literally(render, build, title, tmp_path):
    case = _case(item_name="A<b>&B事项</b>")

    pdf = render(notice=build(case=case))

    assert "A<b>&B事项</b>" in _text(pdf, tmp_path)


# --- fingerprint ------------------------------------------------------------------------------


def test_fingerprint_changes_with_any_printed_field():
    base = notice_fingerprint(notice=_acceptance())

    assert notice_fingerprint(notice=_acceptance()) == base
    assert notice_fingerprint(notice=_acceptance(time_limit_days=4)) != base
    assert notice_fingerprint(notice=_acceptance(case=_case(item_code="X"))) != base
    materials = (*_acceptance().materials[:2],)
    assert notice_fingerprint(notice=_acceptance(materials=materials)) != base


def test_fingerprint_is_over_masked_personal_data():
    """The hidden digits of an ID number or phone cannot be recovered by trying each candidate
    against the printed hash: they do not enter it."""
    base = notice_fingerprint(notice=_acceptance())
    other_digits = _case(applicant_id_number="341502199909090012", applicant_phone="13899995678")

    assert notice_fingerprint(notice=_acceptance(case=other_digits)) == base
    assert notice_fingerprint(notice=_acceptance(case=_case(applicant_name="李三丰"))) != base


def test_fingerprint_depends_on_the_instant_not_its_zone():
    shanghai = ISSUED.astimezone(ZoneInfo("Asia/Shanghai"))

    assert notice_fingerprint(notice=_acceptance(issued_at=shanghai)) == notice_fingerprint(
        notice=_acceptance()
    )


# --- acceptance -------------------------------------------------------------------------------


@needs_poppler
def test_acceptance_notice_lists_time_limit_and_materials(tmp_path):
    pdf = acceptance_notice_render(notice=_acceptance())

    text = _text(pdf, tmp_path)
    for expected in [
        "2026年11月27日10:05",  # accepted at 02:05 UTC, printed in Asia/Shanghai
        "5个工作日",
        "2026年12月4日",
        "已收取材料清单（共3项）",
        "食品经营许可申请书原件1",
        "营业执照复印件2",
        "3食品安全管理制度文本原件0",
        "容缺受理",
        "市民中心二楼综合受理窗口12号",
        "0550-3012345",
        "扫码查询办理进度",
    ]:
        assert expected in text
    assert "容缺，承诺于2026年12月2日前补交" in _text(pdf, tmp_path, layout=False)


@needs_poppler
def test_acceptance_without_deferred_material_is_a_plain_acceptance(tmp_path):
    materials = _acceptance().materials[:2]

    pdf = acceptance_notice_render(notice=_acceptance(materials=materials))

    text = _text(pdf, tmp_path)
    assert "本机关决定予以受理" in text
    assert "容缺" not in text


@needs_poppler
def test_acceptance_same_day_item_says_so(tmp_path):
    notice = _acceptance(time_limit_days=0, expected_completion=date(2026, 11, 27))

    assert "承诺时限即办" in _text(acceptance_notice_render(notice=notice), tmp_path)


@needs_zbar
def test_acceptance_qr_code_scans_to_the_progress_url(tmp_path):
    pdf = acceptance_notice_render(notice=_acceptance())

    assert _qr_codes(pdf, tmp_path) == [PROGRESS]


@needs_poppler
def test_sixty_materials_flow_over_pages_with_repeated_headers(tmp_path):
    materials = tuple(
        ReceivedMaterial(name=f"第{i}号申请材料", form=MaterialForm.COPY, count=1)
        for i in range(1, 61)
    )
    notice = _acceptance(materials=materials)

    pdf = acceptance_notice_render(notice=notice)

    pages = _pages(pdf, tmp_path)
    assert pages >= 3
    fingerprint = notice_fingerprint(notice=notice)
    seen = ""
    for page in range(1, pages + 1):
        text = _text(pdf, tmp_path, page)
        assert f"第{page}页/共{pages}页" in text
        assert fingerprint in text
        if page > 1:
            assert f"受理通知书（续）办件编号：{NUMBER}" in text
        if re.search(r"第\d+号申请材料", text):
            assert "序号材料名称形式份数备注" in text  # the table's header on each of its pages
        seen += text
    for i in range(1, 61):
        assert f"{i}第{i}号申请材料复印件1" in seen


@needs_poppler
def test_long_text_wraps_without_losing_characters(tmp_path):
    long_name = "经营场所" + "平面布局图及设备布局和工艺流程图" * 11  # 180 characters
    long_problem = "请按照食品经营许可审查细则的要求重新绘制并加盖公章，" * 36  # 972 characters
    acceptance = _acceptance(
        materials=(ReceivedMaterial(name=long_name, form=MaterialForm.ORIGINAL, count=1),)
    )
    correction = _correction(
        defects=(MaterialDefect(name=long_name, kind=DefectKind.DEFICIENT, problem=long_problem),)
    )

    acceptance_pdf = acceptance_notice_render(notice=acceptance)
    correction_pdf = correction_notice_render(notice=correction)

    acceptance_text = _text(acceptance_pdf, tmp_path, layout=False)
    correction_text = _text(correction_pdf, tmp_path, layout=False)

    assert long_name in acceptance_text
    assert long_name in correction_text
    assert long_problem in correction_text


@needs_poppler
def test_organization_name_is_printed_in_full_and_its_code_masked(tmp_path):
    case = _case(
        applicant_kind=ApplicantKind.ORGANIZATION,
        applicant_name="某某市好味道餐饮管理有限公司",
        applicant_id_number="91341500MA2N0000X1",
    )

    text = _text(acceptance_notice_render(notice=_acceptance(case=case)), tmp_path)

    assert "某某市好味道餐饮管理有限公司：" in text
    assert "统一社会信用代码9134**********00X1" in text
    assert "91341500MA2N0000X1" not in text


# --- refusal, correction, decision ------------------------------------------------------------


@needs_poppler
def test_refusal_notice_gives_reasons_and_remedy(tmp_path):
    text = _text(refusal_notice_render(notice=_refusal()), tmp_path)

    assert "本机关决定不予受理" in text
    assert "1.申请事项依法不需要取得行政许可。" in text
    assert "2.申请事项不属于本机关职权范围，请向某某区市场监督管理局申请。" in text
    assert "申请人如不服，可依法申请行政复议或者提起行政诉讼" in text
    assert "六十日内向某某市人民政府申请行政复议" in text
    assert "六个月内向某某市琅琊区人民法院提起行政诉讼" in text


@needs_poppler
def test_correction_notice_lists_every_defect_deadline_and_pause(tmp_path):
    text = _text(correction_notice_render(notice=_correction()), tmp_path)

    assert "一次性告知如下（共2项）" in text
    assert "1经营场所使用证明缺少未提交。请提交房屋产权证明或租赁合同复印件一份。" in text
    assert "2法定代表人身份证明需补正复印件模糊不清，请提交清晰的身份证正反面复印件。" in text
    assert "请于2026年12月11日前一次性提交上述全部补正材料" in text
    assert (
        "自本告知书出具之日（2026年11月27日）起至收到全部补正材料之日止，办理时限暂停计算" in text
    )


@needs_poppler
def test_decision_notice_approved_for_window_pickup(tmp_path):
    text = _text(decision_notice_render(notice=_decision()), tmp_path)

    assert "本机关决定准予办理，出具《食品经营许可证》" in text
    assert "办理结果准予办理" in text
    assert "文书文号JY13415020012345" in text
    assert "送达方式窗口领取" in text
    assert "某某市市民中心一楼统一出件窗口" in text
    assert "行政复议" not in text


@needs_poppler
def test_decision_notice_rejected_by_post_gives_reasons_and_remedy(tmp_path):
    notice = _decision(
        outcome=Outcome.REJECTED,
        result_document="不予行政许可决定书",
        result_document_number="",
        reasons=("现场核查发现经营场所与生活区未有效分隔。",),
        remedy=_remedy(),
        delivery=Delivery(
            method=DeliveryMethod.POST, carrier="中国邮政EMS", tracking_number="1234567890123"
        ),
    )

    text = _text(decision_notice_render(notice=notice), tmp_path)

    assert "本机关决定不予办理，出具《不予行政许可决定书》" in text
    assert "理由如下：1.现场核查发现经营场所与生活区未有效分隔。" in text
    assert "已通过中国邮政EMS邮寄，运单号：1234567890123" in text
    assert "申请人如不服，可依法申请行政复议或者提起行政诉讼" in text
    assert "文书文号" not in text


@needs_zbar
def test_decision_notice_electronic_delivery_prints_and_encodes_the_link(tmp_path):
    notice = _decision(delivery=Delivery(method=DeliveryMethod.ELECTRONIC, download_url=DOWNLOAD))

    pdf = decision_notice_render(notice=notice)

    assert "送达方式电子送达" in _text(pdf, tmp_path)
    assert _squash(DOWNLOAD) in _text(pdf, tmp_path)
    assert _qr_codes(pdf, tmp_path) == [DOWNLOAD]


# --- bad input --------------------------------------------------------------------------------

NAIVE = datetime(2026, 11, 27, 10, 5)  # noqa: DTZ001 (the bad input under test)


@pytest.mark.parametrize(
    ("render", "notice", "field", "message"),
    [
        (
            acceptance_notice_render,
            _acceptance(case=_case(number="")),
            "case.number",
            "办件编号不能为空",
        ),
        (
            acceptance_notice_render,
            _acceptance(document_number="  "),
            "document_number",
            "文书编号不能为空",
        ),
        (
            acceptance_notice_render,
            _acceptance(progress_url=f"/progress/?number={NUMBER}"),
            "progress_url",
            "进度查询网址须为以 http:// 或 https:// 开头的完整网址",
        ),
        (
            acceptance_notice_render,
            _acceptance(progress_url="ftp://example.gov.cn/p"),
            "progress_url",
            "完整网址",
        ),
        (
            acceptance_notice_render,
            _acceptance(accepted_at=NAIVE),
            "accepted_at",
            "受理时间须带时区",
        ),
        (
            acceptance_notice_render,
            _acceptance(time_limit_days=-1),
            "time_limit_days",
            "承诺时限不能为负数",
        ),
        (
            acceptance_notice_render,
            _acceptance(expected_completion=date(2026, 11, 26)),
            "expected_completion",
            "预计办结日期不能早于受理日期",
        ),
        (
            acceptance_notice_render,
            _acceptance(
                materials=(ReceivedMaterial(name="申请书", form=MaterialForm.ORIGINAL, count=0),)
            ),
            "materials.1.count",
            "第1项材料的份数有误",
        ),
        (
            acceptance_notice_render,
            _acceptance(case=_case(item_name="事" * 201)),
            "case.item_name",
            "事项名称不能超过200个字",
        ),
        (refusal_notice_render, _refusal(reasons=()), "reasons", "不予受理的理由至少须有一项"),
        (
            refusal_notice_render,
            _refusal(remedy=Remedy(review_body="", court="某法院")),
            "remedy.review_body",
            "行政复议机关不能为空",
        ),
        (correction_notice_render, _correction(defects=()), "defects", "需补正的材料至少须有一项"),
        (
            correction_notice_render,
            _correction(supply_by=date(2026, 11, 26)),
            "supply_by",
            "补正期限不能早于出具日期",
        ),
        (
            decision_notice_render,
            _decision(outcome=Outcome.REJECTED, reasons=("不符合条件。",)),
            "remedy",
            "不予办理须告知行政复议机关和人民法院",
        ),
        (
            decision_notice_render,
            _decision(outcome=Outcome.REJECTED, remedy=_remedy()),
            "reasons",
            "不予办理的理由至少须有一项",
        ),
        (
            decision_notice_render,
            _decision(delivery=Delivery(method=DeliveryMethod.POST, carrier="EMS")),
            "delivery.tracking_number",
            "邮寄运单号不能为空",
        ),
        (
            decision_notice_render,
            _decision(delivery=Delivery(method=DeliveryMethod.PICKUP)),
            "delivery.pickup_address",
            "领取地址不能为空",
        ),
        (
            decision_notice_render,
            _decision(
                delivery=Delivery(method=DeliveryMethod.ELECTRONIC, download_url="results/1/")
            ),
            "delivery.download_url",
            "下载网址须为",
        ),
    ],
)
def test_bad_input_is_refused_with_a_chinese_message(render, notice, field, message):
    with pytest.raises(ValidationError) as caught:
        render(notice=notice)

    assert caught.value.code == DOCUMENT_INVALID
    assert caught.value.status == 422
    assert message in caught.value.extra["errors"][field]
    assert message in str(caught.value.message)
    assert list(caught.value.extra["errors"]) == [field]


def test_every_problem_is_reported_at_once():
    notice = _acceptance(case=_case(number="", item_name=""), progress_url="progress/")

    with pytest.raises(ValidationError) as caught:
        acceptance_notice_render(notice=notice)

    errors = caught.value.extra["errors"]
    assert set(errors) == {"case.number", "case.item_name", "progress_url"}
    assert str(caught.value.message).startswith("文书信息有误，未能生成：")
    assert "办件编号不能为空" in str(caught.value.message)
    assert "进度查询网址须为" in str(caught.value.message)


def test_a_character_the_font_cannot_print_is_refused_not_misprinted():
    """Outside the BMP the built-in font would print two wrong characters in its place."""
    notice = _acceptance(case=_case(item_name="𠮷野家餐饮许可"), progress_url="progress/")

    with pytest.raises(ValidationError) as caught:
        acceptance_notice_render(notice=notice)

    errors = caught.value.extra["errors"]
    assert set(errors) == {"case.item_name", "progress_url"}
    assert errors["case.item_name"] == "“𠮷野家餐饮许可”含有文书字体无法打印的字符“𠮷”"


@needs_poppler
def test_a_rare_character_hidden_by_the_mask_does_not_stop_the_document(tmp_path):
    pdf = refusal_notice_render(notice=_refusal(case=_case(applicant_name="张𠮷")))

    assert "张*：" in _text(pdf, tmp_path)
