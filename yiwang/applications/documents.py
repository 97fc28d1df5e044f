"""The printed documents of a case (办件) as PDF: acceptance, refusal, correction, decision.

Each document is a function of one frozen dataclass and returns the PDF's bytes: A4, Simplified
Chinese, printable at a window. The dataclasses are plain values with no database dependency;
the services fill them from the models (DESIGN "Domain apps": apps talk through services).

- ``acceptance_notice_render`` 受理通知书 (with 容缺 materials and a QR code to the public
  progress page), ``refusal_notice_render`` 不予受理通知书, ``correction_notice_render``
  补正材料一次性告知书, ``decision_notice_render`` 办结通知书.
- ``notice_fingerprint`` is the SHA-256 printed at the foot of every page: a clerk compares it with
  the one the system computes from the stored record. It is taken over the fields *as printed*
  (personal data masked), not the raw ones: an ID number or phone has so few hidden digits that
  a hash over the raw value, printed next to its masked form, would give the hidden digits away
  to anyone who tries every candidate.

Layout: reportlab's platypus with the built-in Adobe-GB1 CID font ``STSong-Light`` (no font file;
viewers substitute their own song typeface); every text is a ``Paragraph`` with
``wordWrap="CJK"`` so that nothing is cut off; lists are tables whose header row repeats on
each page; pages after the first carry the title and case number, every page the issuing
department, the document number, "第 x 页 / 共 n 页" and the fingerprint. The output is
deterministic (``invariant``): the same notice gives the same bytes.

The documents are official papers and are always written in Chinese, whatever the language of
the request that renders them.

Bad input raises ``ValidationError`` (code ``DOCUMENT_INVALID``) naming every problem at once,
before anything is drawn.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from yiwang.core.errors import ValidationError
from yiwang.core.masking import mask_id_number, mask_name, mask_phone, mask_uscc
from yiwang.core.pdf import FONT, cjk_style, register_cjk_font

# Stable error code (to be listed in yiwang/applications/errors.py). extra: errors={field: message}
DOCUMENT_INVALID = "applications.document_invalid"

SHANGHAI = ZoneInfo("Asia/Shanghai")
DOCUMENT_LANGUAGE = "zh-hans"
FINGERPRINT_VERSION = "yiwang-notice-1"  # part of the hashed text: change it with the format

MAX_SHORT = 200  # characters of a name, number or address
MAX_LONG = 1000  # characters of a reason or a problem: fits in one table cell on one page
MAX_ROWS = 500  # rows of one list

MONO = "Courier"
PAGE_W, PAGE_H = A4
MARGIN_X = 20 * mm
MARGIN_TOP = 20 * mm
MARGIN_BOTTOM = 24 * mm  # room for the two footer lines
CONTENT_W = PAGE_W - 2 * MARGIN_X
QR_SIZE = 32 * mm
GRID = colors.HexColor("#444444")
HEAD_FILL = colors.HexColor("#e8e8e8")


# --- the values the services fill -------------------------------------------------------------


class ApplicantKind(StrEnum):
    PERSON = "person"  # name and ID number printed masked
    ORGANIZATION = "organization"  # name in full (it is public), USCC masked


class MaterialForm(StrEnum):
    ORIGINAL = "original"
    COPY = "copy"
    ELECTRONIC = "electronic"  # uploaded, or taken from a government source

    @property
    def label(self) -> str:
        return {
            MaterialForm.ORIGINAL: _("原件"),
            MaterialForm.COPY: _("复印件"),
            MaterialForm.ELECTRONIC: _("电子件"),
        }[self]


class DefectKind(StrEnum):
    MISSING = "missing"
    DEFICIENT = "deficient"

    @property
    def label(self) -> str:
        return {DefectKind.MISSING: _("缺少"), DefectKind.DEFICIENT: _("需补正")}[self]


class Outcome(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return {Outcome.APPROVED: _("准予办理"), Outcome.REJECTED: _("不予办理")}[self]


class DeliveryMethod(StrEnum):
    PICKUP = "pickup"  # 窗口领取
    POST = "post"  # 邮寄送达
    ELECTRONIC = "electronic"  # 电子送达 (download)

    @property
    def label(self) -> str:
        return {
            DeliveryMethod.PICKUP: _("窗口领取"),
            DeliveryMethod.POST: _("邮寄送达"),
            DeliveryMethod.ELECTRONIC: _("电子送达"),
        }[self]


@dataclass(frozen=True, kw_only=True)
class Issuer:
    """The department that issues the document, and where the applicant can ask."""

    department: str  # 出具部门, as on its seal
    window: str = ""  # 受理窗口, e.g. "市民中心二楼 12号综合窗口"
    phone: str = ""  # 咨询电话 of the window (public, not masked)


@dataclass(frozen=True, kw_only=True)
class CaseInfo:
    """The case the document is about. Personal data is given in full and printed masked."""

    number: str  # 办件编号
    item_name: str  # 事项名称
    item_code: str  # 实施编码
    applicant_name: str
    submitted_at: datetime  # aware
    applicant_kind: ApplicantKind = ApplicantKind.PERSON
    applicant_id_number: str = ""  # resident ID number, or the USCC of an organization
    applicant_phone: str = ""

    def printed(self) -> CaseInfo:
        """This case with its personal data masked, as the documents print it."""
        person = self.applicant_kind == ApplicantKind.PERSON
        return replace(
            self,
            applicant_name=mask_name(self.applicant_name) if person else self.applicant_name,
            applicant_id_number=(mask_id_number if person else mask_uscc)(self.applicant_id_number),
            applicant_phone=mask_phone(self.applicant_phone),
        )


@dataclass(frozen=True, kw_only=True)
class ReceivedMaterial:
    name: str
    form: MaterialForm
    count: int  # 份数; 0 only for a 容缺 material not yet received
    deferred_until: date | None = None  # 容缺: the date the applicant promised to supply it by


@dataclass(frozen=True, kw_only=True)
class MaterialDefect:
    name: str
    kind: DefectKind
    problem: str  # what is wrong and what to bring


@dataclass(frozen=True, kw_only=True)
class Remedy:
    """Where the applicant may contest the decision (行政复议 / 行政诉讼)."""

    review_body: str  # 行政复议机关, e.g. "某某市人民政府"
    court: str  # e.g. "某某市某某区人民法院"


@dataclass(frozen=True, kw_only=True)
class Delivery:
    method: DeliveryMethod
    pickup_address: str = ""  # PICKUP: the window's address
    carrier: str = ""  # POST, e.g. "中国邮政EMS"
    tracking_number: str = ""  # POST
    download_url: str = ""  # ELECTRONIC: absolute http(s) URL


@dataclass(frozen=True, kw_only=True)
class _Notice:
    document_number: str  # 文书编号
    issued_at: datetime  # aware; its date in Asia/Shanghai is printed
    issuer: Issuer
    case: CaseInfo


@dataclass(frozen=True, kw_only=True)
class AcceptanceNotice(_Notice):
    """受理通知书. A 容缺 acceptance is one with a material that has ``deferred_until``."""

    accepted_at: datetime  # aware
    time_limit_days: int  # promised limit in working days; 0 = 即办
    expected_completion: date  # from the working-day calendar
    materials: tuple[ReceivedMaterial, ...]
    progress_url: str  # absolute http(s) URL of the public progress page for this case


@dataclass(frozen=True, kw_only=True)
class RefusalNotice(_Notice):
    """不予受理通知书."""

    reasons: tuple[str, ...]
    remedy: Remedy


@dataclass(frozen=True, kw_only=True)
class CorrectionNotice(_Notice):
    """补正材料一次性告知书: the clock is paused from ``issued_at`` until all is supplied."""

    defects: tuple[MaterialDefect, ...]
    supply_by: date


@dataclass(frozen=True, kw_only=True)
class DecisionNotice(_Notice):
    """办结通知书. A rejection needs its reasons and the remedy."""

    outcome: Outcome
    decided_at: datetime  # aware
    result_document: str  # 结果文书名称, e.g. "营业执照" or "不予行政许可决定书"
    delivery: Delivery
    result_document_number: str = ""  # 文号, when it has one
    reasons: tuple[str, ...] = ()
    remedy: Remedy | None = None


Notice = AcceptanceNotice | RefusalNotice | CorrectionNotice | DecisionNotice


# --- public functions -------------------------------------------------------------------------


def acceptance_notice_render(*, notice: AcceptanceNotice) -> bytes:
    """受理通知书 as PDF bytes."""
    with translation.override(DOCUMENT_LANGUAGE):
        _check(notice, _acceptance_problems(notice))
        return _build(notice, _("受理通知书"), _acceptance_story(notice))


def refusal_notice_render(*, notice: RefusalNotice) -> bytes:
    """不予受理通知书 as PDF bytes."""
    with translation.override(DOCUMENT_LANGUAGE):
        _check(notice, _refusal_problems(notice))
        return _build(notice, _("不予受理通知书"), _refusal_story(notice))


def correction_notice_render(*, notice: CorrectionNotice) -> bytes:
    """补正材料一次性告知书 as PDF bytes."""
    with translation.override(DOCUMENT_LANGUAGE):
        _check(notice, _correction_problems(notice))
        return _build(notice, _("补正材料一次性告知书"), _correction_story(notice))


def decision_notice_render(*, notice: DecisionNotice) -> bytes:
    """办结通知书 as PDF bytes."""
    with translation.override(DOCUMENT_LANGUAGE):
        _check(notice, _decision_problems(notice))
        return _build(notice, _("办结通知书"), _decision_story(notice))


def notice_fingerprint(*, notice: Notice) -> str:
    """The SHA-256 (hex) printed on every page of the notice's PDF.

    Over a canonical JSON of the notice's fields as printed: personal data masked, instants
    in Asia/Shanghai, the notice's type and ``FINGERPRINT_VERSION`` included."""
    payload = {
        "version": FINGERPRINT_VERSION,
        "kind": type(notice).__name__,
        "fields": _canonical(notice),
    }
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, CaseInfo):
        value = value.printed()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _canonical(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, tuple | list):
        return [_canonical(v) for v in value]
    return value


# --- validation -------------------------------------------------------------------------------

Problems = dict[str, str]


def _check(notice: Notice, problems: Problems) -> None:
    problems = {**_common_problems(notice), **_unprintable_problems(notice), **problems}
    if problems:
        raise ValidationError(
            DOCUMENT_INVALID,
            _("文书信息有误，未能生成：%(list)s") % {"list": "；".join(problems.values())},
            errors=problems,
        )


def _unprintable(char: str) -> bool:
    """A character the built-in font cannot print: one outside the Basic Multilingual Plane
    (a rare character of CJK Extension B and later, an emoji) is sent as UTF-16 surrogates that
    the font's UCS-2 encoding reads as two wrong characters, which would print a wrong name
    without any sign; a control character has no glyph."""
    if ord(char) > 0xFFFF:
        return True
    return unicodedata.category(char) in {"Cc", "Cs"} and char not in "\t\n\r"


def _unprintable_problems(notice: Notice) -> Problems:
    """Every printed text with a character that cannot be printed (checked after masking: a
    rare character hidden by the mask is not printed)."""
    p: Problems = {}

    def walk(path: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{path}.{key}" if path else key, item)
        elif isinstance(value, list):
            for i, item in enumerate(value, start=1):
                walk(f"{path}.{i}", item)
        elif isinstance(value, str) and (bad := [c for c in value if _unprintable(c)]):
            named = dict.fromkeys(c if ord(c) > 0xFFFF else repr(c) for c in bad)
            p[path] = _("“%(text)s”含有文书字体无法打印的字符“%(chars)s”") % {
                "text": "".join(c if c.isprintable() else "?" for c in value[:30]),
                "chars": "”“".join(named),
            }

    walk("", _canonical(notice))
    return p


def _text(problems: Problems, key: str, value: str, label: str, limit: int = MAX_SHORT) -> None:
    if not value.strip():
        problems[key] = _("%(label)s不能为空") % {"label": label}
    elif len(value) > limit:
        problems[key] = _("%(label)s不能超过%(n)d个字") % {"label": label, "n": limit}


def _aware(problems: Problems, key: str, value: datetime, label: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        problems[key] = _("%(label)s须带时区") % {"label": label}


def _absolute_url(problems: Problems, key: str, value: str, label: str) -> None:
    try:
        URLValidator(schemes=["http", "https"])(value)
    except DjangoValidationError:
        problems[key] = _("%(label)s须为以 http:// 或 https:// 开头的完整网址：%(url)s") % {
            "label": label,
            "url": value[:MAX_SHORT] or _("（空）"),
        }


def _rows(problems: Problems, key: str, values: tuple[Any, ...], label: str) -> None:
    if not values:
        problems[key] = _("%(label)s至少须有一项") % {"label": label}
    elif len(values) > MAX_ROWS:
        problems[key] = _("%(label)s不能超过%(n)d项") % {"label": label, "n": MAX_ROWS}


def _local_date(value: datetime) -> date:
    return value.astimezone(SHANGHAI).date()


def _common_problems(notice: Notice) -> Problems:
    p: Problems = {}
    _text(p, "document_number", notice.document_number, _("文书编号"))
    _aware(p, "issued_at", notice.issued_at, _("出具时间"))
    _text(p, "issuer.department", notice.issuer.department, _("出具部门"))
    _text(p, "issuer.window", notice.issuer.window or "-", _("受理窗口"))
    _text(p, "issuer.phone", notice.issuer.phone or "-", _("咨询电话"))
    case = notice.case
    _text(p, "case.number", case.number, _("办件编号"))
    _text(p, "case.item_name", case.item_name, _("事项名称"))
    _text(p, "case.item_code", case.item_code, _("实施编码"))
    _text(p, "case.applicant_name", case.applicant_name, _("申请人名称"))
    _text(p, "case.applicant_id_number", case.applicant_id_number or "-", _("申请人证件号码"))
    _text(p, "case.applicant_phone", case.applicant_phone or "-", _("申请人联系电话"))
    _aware(p, "case.submitted_at", case.submitted_at, _("申请时间"))
    return p


def _acceptance_problems(notice: AcceptanceNotice) -> Problems:
    p: Problems = {}
    _aware(p, "accepted_at", notice.accepted_at, _("受理时间"))
    if notice.time_limit_days < 0:
        p["time_limit_days"] = _("承诺时限不能为负数")
    accepted_on = _local_date(notice.accepted_at) if "accepted_at" not in p else None
    if accepted_on and notice.expected_completion < accepted_on:
        p["expected_completion"] = _("预计办结日期不能早于受理日期")
    if len(notice.materials) > MAX_ROWS:
        p["materials"] = _("已收取材料不能超过%(n)d项") % {"n": MAX_ROWS}
    for i, m in enumerate(notice.materials[:MAX_ROWS], start=1):
        key = f"materials.{i}"
        _text(p, f"{key}.name", m.name, _("第%(n)d项材料的名称") % {"n": i})
        if m.count < (0 if m.deferred_until else 1) or m.count > 999:
            p[f"{key}.count"] = _("第%(n)d项材料的份数有误") % {"n": i}
        if m.deferred_until and accepted_on and m.deferred_until < accepted_on:
            p[f"{key}.deferred_until"] = _("第%(n)d项容缺材料的承诺补交日期不能早于受理日期") % {
                "n": i
            }
    _absolute_url(p, "progress_url", notice.progress_url, _("进度查询网址"))
    return p


def _refusal_problems(notice: RefusalNotice) -> Problems:
    p: Problems = {}
    _reasons_problems(p, notice.reasons, _("不予受理的理由"))
    _remedy_problems(p, notice.remedy)
    return p


def _reasons_problems(p: Problems, reasons: tuple[str, ...], label: str) -> None:
    _rows(p, "reasons", reasons, label)
    for i, reason in enumerate(reasons[:MAX_ROWS], start=1):
        _text(
            p, f"reasons.{i}", reason, _("%(label)s第%(n)d条") % {"label": label, "n": i}, MAX_LONG
        )


def _remedy_problems(p: Problems, remedy: Remedy) -> None:
    _text(p, "remedy.review_body", remedy.review_body, _("行政复议机关"))
    _text(p, "remedy.court", remedy.court, _("人民法院"))


def _correction_problems(notice: CorrectionNotice) -> Problems:
    p: Problems = {}
    _rows(p, "defects", notice.defects, _("需补正的材料"))
    for i, d in enumerate(notice.defects[:MAX_ROWS], start=1):
        _text(p, f"defects.{i}.name", d.name, _("第%(n)d项补正材料的名称") % {"n": i})
        _text(
            p, f"defects.{i}.problem", d.problem, _("第%(n)d项补正材料的说明") % {"n": i}, MAX_LONG
        )
    aware = notice.issued_at.utcoffset() is not None
    if aware and notice.supply_by < _local_date(notice.issued_at):
        p["supply_by"] = _("补正期限不能早于出具日期")
    return p


def _decision_problems(notice: DecisionNotice) -> Problems:
    p: Problems = {}
    _aware(p, "decided_at", notice.decided_at, _("办结时间"))
    _text(p, "result_document", notice.result_document, _("结果文书名称"))
    _text(p, "result_document_number", notice.result_document_number or "-", _("结果文书文号"))
    if notice.outcome == Outcome.REJECTED:
        _reasons_problems(p, notice.reasons, _("不予办理的理由"))
        if notice.remedy is None:
            p["remedy"] = _("不予办理须告知行政复议机关和人民法院")
    elif notice.reasons:
        _reasons_problems(p, notice.reasons, _("办理意见"))
    if notice.remedy is not None:
        _remedy_problems(p, notice.remedy)
    d = notice.delivery
    if d.method == DeliveryMethod.PICKUP:
        _text(p, "delivery.pickup_address", d.pickup_address, _("领取地址"))
    elif d.method == DeliveryMethod.POST:
        _text(p, "delivery.carrier", d.carrier, _("寄递企业"))
        _text(p, "delivery.tracking_number", d.tracking_number, _("邮寄运单号"))
    else:
        _absolute_url(p, "delivery.download_url", d.download_url, _("下载网址"))
    return p


# --- drawing ----------------------------------------------------------------------------------


@cache
def _styles() -> dict[str, ParagraphStyle]:
    register_cjk_font()
    return {
        "org": cjk_style("org", 13, alignment=TA_CENTER),
        "title": cjk_style("title", 20, alignment=TA_CENTER, spaceAfter=2),
        "docno": cjk_style("docno", 10, alignment=TA_RIGHT, spaceAfter=6),
        "body": cjk_style("body", 11, firstLineIndent=22, spaceAfter=3),
        "plain": cjk_style("plain", 11, spaceAfter=3),
        "item": cjk_style("item", 11, leftIndent=22, firstLineIndent=-11, spaceAfter=2),
        "heading": cjk_style("heading", 11.5, spaceBefore=6, spaceAfter=3),
        "cell": cjk_style("cell", 9.5, leading=13),
        "cellhead": cjk_style("cellhead", 9.5, leading=13, alignment=TA_CENTER),
        "center": cjk_style("center", 8.5, alignment=TA_CENTER),
        "note": cjk_style("note", 9, spaceAfter=1),
        "sign": cjk_style("sign", 11, alignment=TA_RIGHT),
    }


def _p(text: str, style: str = "body") -> Paragraph:
    """A paragraph of plain text (escaped: user text may hold ``<`` or ``&``)."""
    return Paragraph(escape(text), _styles()[style])


def _day(value: date) -> str:
    return _("%(y)d年%(m)d月%(d)d日") % {"y": value.year, "m": value.month, "d": value.day}


def _minute(value: datetime) -> str:
    local = value.astimezone(SHANGHAI)
    return f"{_day(local.date())} {local:%H:%M}"


def _table(
    rows: list[list[str]], widths: list[float], *, head: bool, key_column: bool = False
) -> Table:
    """A grid of wrapped text; with ``head`` the first row is a header repeated on each page."""
    cells = [
        [_p(text, "cellhead" if head and r == 0 else "cell") for text in row]
        for r, row in enumerate(rows)
    ]
    style = [
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if head:
        style.append(("BACKGROUND", (0, 0), (-1, 0), HEAD_FILL))
    if key_column:
        style.append(("BACKGROUND", (0, 0), (0, -1), HEAD_FILL))
    return Table(
        cells, colWidths=widths, repeatRows=1 if head else 0, style=TableStyle(style), hAlign="LEFT"
    )


def _qr(value: str, caption: str, under: str) -> Table:
    """A QR code with a caption above and ``under`` printed below it (a person can type it)."""
    widget = QrCodeWidget(value, barLevel="M", barWidth=QR_SIZE, barHeight=QR_SIZE)
    drawing = Drawing(QR_SIZE, QR_SIZE)
    drawing.add(widget)
    return Table(
        [[_p(caption, "center")], [drawing], [_p(under, "center")]],
        colWidths=[QR_SIZE + 8],
        style=TableStyle(
            [
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        ),
    )


def _case_rows(notice: Notice) -> list[list[str]]:
    case = notice.case.printed()
    rows = [
        [_("办件编号"), case.number],
        [_("事项名称"), case.item_name],
        [_("实施编码"), case.item_code],
        [_("申请人"), case.applicant_name],
    ]
    if case.applicant_id_number:
        label = (
            _("证件号码") if case.applicant_kind == ApplicantKind.PERSON else _("统一社会信用代码")
        )
        rows.append([label, case.applicant_id_number])
    if case.applicant_phone:
        rows.append([_("联系电话"), case.applicant_phone])
    rows.append([_("申请时间"), _minute(case.submitted_at)])
    return rows


def _key_values(rows: list[list[str]], width: float = CONTENT_W) -> Table:
    return _table(rows, [32 * mm, width - 32 * mm], head=False, key_column=True)


def _salutation(notice: Notice) -> Paragraph:
    return _p(
        _("%(name)s：") % {"name": notice.case.printed().applicant_name},
        "plain",
    )


def _contact(notice: Notice) -> list[Flowable]:
    issuer = notice.issuer
    parts = []
    if issuer.window:
        parts.append(_("受理窗口：%(w)s") % {"w": issuer.window})
    if issuer.phone:
        parts.append(_("咨询电话：%(p)s") % {"p": issuer.phone})
    return [_p("　　".join(parts), "plain")] if parts else []


def _closing(notice: Notice) -> KeepTogether:
    """Where to ask, then the department (its seal goes over the name) and the date: kept
    together so that a page never holds the seal alone."""
    return KeepTogether(
        [
            *_contact(notice),
            Spacer(1, 8 * mm),
            _p(_("%(department)s（印章）") % {"department": notice.issuer.department}, "sign"),
            _p(_day(_local_date(notice.issued_at)), "sign"),
        ]
    )


def _numbered(items: Iterable[str]) -> list[Flowable]:
    return [_p(f"{i}. {text}", "item") for i, text in enumerate(items, start=1)]


def _remedy(remedy: Remedy) -> Paragraph:
    # Periods from the Administrative Reconsideration Law (2023) art. 20 and the Administrative
    # Procedure Law art. 46.
    return _p(
        _(
            "申请人如不服，可依法申请行政复议或者提起行政诉讼：可以自收到本通知书之日起六十日内"
            "向%(review)s申请行政复议，或者自收到本通知书之日起六个月内向%(court)s提起行政诉讼。"
        )
        % {"review": remedy.review_body, "court": remedy.court}
    )


def _acceptance_story(notice: AcceptanceNotice) -> list[Flowable]:
    deferred = [m for m in notice.materials if m.deferred_until]
    item = notice.case.item_name
    if deferred:
        body = _(
            "你（单位）于%(at)s提交的“%(item)s”申请，经审查，主要申请材料齐全、符合法定形式，"
            "所缺次要材料已书面承诺限期补交，本机关决定予以容缺受理。"
        )
    else:
        body = _(
            "你（单位）于%(at)s提交的“%(item)s”申请，经审查，申请材料齐全、符合法定形式，"
            "本机关决定予以受理。"
        )
    limit = (
        _("即办")
        if notice.time_limit_days == 0
        else _("%(n)d个工作日") % {"n": notice.time_limit_days}
    )
    info_w = CONTENT_W - QR_SIZE - 12
    info = _key_values(
        [
            *_case_rows(notice),
            [_("受理时间"), _minute(notice.accepted_at)],
            [_("受理部门"), notice.issuer.department],
            [_("承诺时限"), limit],
            [_("预计办结"), _day(notice.expected_completion)],
        ],
        info_w,
    )
    qr = _qr(notice.progress_url, _("扫码查询办理进度"), notice.case.number)
    top = Table(
        [[info, qr]],
        colWidths=[info_w, CONTENT_W - info_w],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("ALIGN", (1, 0), (1, 0), "RIGHT"),
            ]
        ),
    )
    rows = [[_("序号"), _("材料名称"), _("形式"), _("份数"), _("备注")]]
    for i, m in enumerate(notice.materials, start=1):
        note = (
            _("容缺，承诺于%(day)s前补交") % {"day": _day(m.deferred_until)}
            if m.deferred_until
            else ""
        )
        rows.append([str(i), m.name, m.form.label, str(m.count), note])
    if not notice.materials:
        rows.append(["", _("（无）"), "", "", ""])
    notes = [
        _(
            "承诺时限按工作日计算；依法补正材料、听证、专家评审、现场勘验等特别程序所需时间"
            "不计入承诺时限，预计办结日期相应顺延。"
        ),
        _("可扫描上方二维码，或在政务服务网凭办件编号和手机号码后四位查询办理进度。"),
    ]
    if deferred:
        notes.append(
            _(
                "标注“容缺”的材料须在承诺日期前补交；逾期未补交的，按有关规定处理，"
                "并可能影响办理结果。"
            )
        )
    return [
        _salutation(notice),
        _p(body % {"at": _minute(notice.case.submitted_at), "item": item}),
        Spacer(1, 3 * mm),
        top,
        _p(_("已收取材料清单（共%(n)d项）") % {"n": len(notice.materials)}, "heading"),
        _table(rows, [12 * mm, 76 * mm, 18 * mm, 14 * mm, CONTENT_W - 120 * mm], head=True),
        _p(_("温馨提示："), "heading"),
        *[_p(f"{i}. {text}", "note") for i, text in enumerate(notes, start=1)],
        Spacer(1, 2 * mm),
        _closing(notice),
    ]


def _refusal_story(notice: RefusalNotice) -> list[Flowable]:
    return [
        _salutation(notice),
        _p(
            _("你（单位）于%(at)s提交的“%(item)s”申请，经审查，存在下列情形，本机关决定不予受理：")
            % {"at": _minute(notice.case.submitted_at), "item": notice.case.item_name}
        ),
        *_numbered(notice.reasons),
        Spacer(1, 3 * mm),
        _key_values(_case_rows(notice)),
        Spacer(1, 3 * mm),
        _remedy(notice.remedy),
        _closing(notice),
    ]


def _correction_story(notice: CorrectionNotice) -> list[Flowable]:
    rows = [[_("序号"), _("材料名称"), _("情形"), _("问题说明及补正要求")]]
    rows += [
        [str(i), d.name, d.kind.label, d.problem] for i, d in enumerate(notice.defects, start=1)
    ]
    return [
        _salutation(notice),
        _p(
            _(
                "你（单位）于%(at)s提交的“%(item)s”申请，申请材料不齐全或者不符合法定形式。"
                "现将需要补正的全部内容一次性告知如下（共%(n)d项）："
            )
            % {
                "at": _minute(notice.case.submitted_at),
                "item": notice.case.item_name,
                "n": len(notice.defects),
            }
        ),
        _table(rows, [12 * mm, 52 * mm, 18 * mm, CONTENT_W - 82 * mm], head=True),
        Spacer(1, 3 * mm),
        _p(_("请于%(day)s前一次性提交上述全部补正材料。") % {"day": _day(notice.supply_by)}),
        _p(
            _(
                "自本告知书出具之日（%(from)s）起至收到全部补正材料之日止，办理时限暂停计算；"
                "补正材料齐全后恢复计算。"
            )
            % {"from": _day(_local_date(notice.issued_at))}
        ),
        Spacer(1, 3 * mm),
        _key_values(_case_rows(notice)),
        Spacer(1, 2 * mm),
        _closing(notice),
    ]


def _decision_story(notice: DecisionNotice) -> list[Flowable]:
    approved = notice.outcome == Outcome.APPROVED
    values = {"item": notice.case.item_name, "doc": notice.result_document}
    body = (
        _("你（单位）申请的“%(item)s”已办结。经审查，本机关决定准予办理，出具《%(doc)s》。")
        if approved
        else _("你（单位）申请的“%(item)s”已办结。经审查，本机关决定不予办理，出具《%(doc)s》。")
    )
    rows = [
        *_case_rows(notice),
        [_("办理结果"), notice.outcome.label],
        [_("结果文书"), notice.result_document],
    ]
    if notice.result_document_number:
        rows.append([_("文书文号"), notice.result_document_number])
    rows += [
        [_("办结时间"), _minute(notice.decided_at)],
        [_("送达方式"), notice.delivery.method.label],
    ]
    story: list[Flowable] = [_salutation(notice), _p(body % values)]
    if notice.reasons:
        story.append(_p(_("理由如下：") if not approved else _("办理意见："), "plain"))
        story += _numbered(notice.reasons)
    if notice.remedy is not None:
        story.append(_remedy(notice.remedy))
    story += [Spacer(1, 3 * mm), _key_values(rows)]
    story += [_p(_("结果送达"), "heading"), *_delivery(notice.delivery)]
    return [*story, _closing(notice)]


def _delivery(d: Delivery) -> list[Flowable]:
    if d.method == DeliveryMethod.PICKUP:
        return [
            _p(
                _(
                    "请携带本通知书和本人有效身份证件（委托他人领取的，另带授权委托书及受托人"
                    "身份证件）到以下地址领取：%(address)s"
                )
                % {"address": d.pickup_address}
            )
        ]
    if d.method == DeliveryMethod.POST:
        return [
            _p(
                _("结果文书已通过%(carrier)s邮寄，运单号：%(number)s。")
                % {"carrier": d.carrier, "number": d.tracking_number}
            )
        ]
    text = [
        _p(_("请访问以下网址或扫描右侧二维码下载电子结果文书：")),
        _p(d.download_url, "plain"),
    ]
    return [
        Table(
            [[text, _qr(d.download_url, _("扫码下载"), "")]],
            colWidths=[CONTENT_W - QR_SIZE - 12, QR_SIZE + 12],
            style=TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (0, 0), 0),
                ]
            ),
        )
    ]


# --- pages ------------------------------------------------------------------------------------


def _canvas_class(notice: Notice, title: str) -> type[Canvas]:
    """A canvas that holds its pages back until the end, so that each page can say how many
    there are ("第 x 页 / 共 n 页"), and draws the running header and the footer on each."""
    fingerprint = notice_fingerprint(notice=notice)
    footer = _("%(department)s　文书编号：%(no)s") % {
        "department": notice.issuer.department,
        "no": notice.document_number,
    }
    label = _("内容校验码（SHA-256）：")
    running = _("%(title)s（续）　办件编号：%(number)s") % {
        "title": title,
        "number": notice.case.number,
    }
    page_of = _("第 %(page)d 页 / 共 %(pages)d 页")

    class NumberedCanvas(Canvas):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._decorate(number, len(self._pages))
                super().showPage()
            super().save()

        def _decorate(self, page: int, pages: int) -> None:
            self.saveState()
            self.setFillColor(colors.black)
            self.setStrokeColor(GRID)
            self.setLineWidth(0.4)
            if page > 1:
                self.setFont(FONT, 8.5)
                self.drawString(MARGIN_X, PAGE_H - 12 * mm, running)
                self.line(MARGIN_X, PAGE_H - 13.5 * mm, PAGE_W - MARGIN_X, PAGE_H - 13.5 * mm)
            self.line(MARGIN_X, 17 * mm, PAGE_W - MARGIN_X, 17 * mm)
            self.setFont(FONT, 8)
            self.drawString(MARGIN_X, 13 * mm, footer)
            self.drawRightString(
                PAGE_W - MARGIN_X, 13 * mm, page_of % {"page": page, "pages": pages}
            )
            self.setFont(FONT, 7)
            self.drawString(MARGIN_X, 9 * mm, label)
            self.setFont(MONO, 7)
            self.drawString(MARGIN_X + pdfmetrics.stringWidth(label, FONT, 7), 9 * mm, fingerprint)
            self.restoreState()

    return NumberedCanvas


def _build(notice: Notice, title: str, story: list[Flowable]) -> bytes:
    out = BytesIO()
    doc = BaseDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=f"{title} {notice.document_number}",
        author=notice.issuer.department,
        subject=notice.case.number,
        creator="yiwang",
        invariant=1,
    )
    frame = Frame(
        MARGIN_X,
        MARGIN_BOTTOM,
        CONTENT_W,
        PAGE_H - MARGIN_TOP - MARGIN_BOTTOM,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="body",
    )
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    head: list[Flowable] = [
        _p(notice.issuer.department, "org"),
        _p(title, "title"),
        _p(_("文书编号：%(no)s") % {"no": notice.document_number}, "docno"),
    ]
    canvasmaker: Callable[..., Canvas] = _canvas_class(notice, title)
    doc.build([*head, *story], canvasmaker=canvasmaker)
    return out.getvalue()
