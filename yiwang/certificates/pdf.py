"""A certificate as a PDF copy (加注件): the face (照面), the identifier, a QR code that opens
the public verification page, and the watermark drawn diagonally across the page.

The function takes a frozen ``CertificateCopy`` (plain values; the view fills it from the model)
and returns the PDF's bytes, deterministic (``invariant``) like applications/documents.py and
with the same built-in Adobe-GB1 CID font ``STSong-Light`` (no font file; viewers substitute
their own song typeface). The watermark is drawn after the page's content with a low alpha, so
that neither a table's fill hides it nor it hides the text: a copy cannot be passed off as a
clean original by cropping one corner. A copy of a certificate that is no longer valid carries
its status in red across the top.

Always written in Chinese, whatever the language of the request: it is an official paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from yiwang.core.pdf import FONT, cjk_style, register_cjk_font

MONO = "Courier"
PAGE_W, PAGE_H = A4
MARGIN = 20 * mm
CONTENT_W = PAGE_W - 2 * MARGIN
QR_SIZE = 34 * mm
GRID = colors.HexColor("#444444")
HEAD_FILL = colors.HexColor("#eef1f5")
STATUS_RED = colors.HexColor("#a4121b")
WATERMARK_GREY = colors.HexColor("#5a5a5a")
WATERMARK_ALPHA = 0.16


@dataclass(frozen=True)
class CertificateCopy:
    """What a copy prints. ``holder_code`` is already masked by the caller; ``status`` is the
    status in words and ``valid`` says whether to print it as a warning."""

    type_name: str
    identifier: str
    holder_name: str
    holder_code: str
    holder_code_type: str
    issuer_name: str
    issued_on: date
    valid_from: date
    valid_until: date | None
    trust_grade: str
    status: str
    valid: bool
    face: tuple[tuple[str, str], ...]
    watermark: str
    verify_url: str


@cache
def _styles() -> dict[str, ParagraphStyle]:
    register_cjk_font()
    return {
        "title": cjk_style("title", 22, alignment=TA_CENTER, spaceAfter=4),
        "issuer": cjk_style("issuer", 12, alignment=TA_CENTER, spaceAfter=10),
        "status": cjk_style("status", 16, alignment=TA_CENTER, textColor=STATUS_RED, spaceAfter=8),
        "cell": cjk_style("cell", 10.5, leading=15),
        "key": cjk_style("key", 10.5, leading=15),
        "center": cjk_style("center", 9, alignment=TA_CENTER),
        "mono": ParagraphStyle(
            "mono", fontName=MONO, fontSize=7.5, leading=10, alignment=TA_CENTER
        ),
        "note": cjk_style("note", 9, spaceBefore=8),
    }


def _p(text: str, style: str = "cell") -> Paragraph:
    return Paragraph(escape(text), _styles()[style])


def _day(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def _grid(rows: list[tuple[str, str]], widths: list[float]) -> Table:
    return Table(
        [[_p(key, "key"), _p(value)] for key, value in rows],
        colWidths=widths,
        hAlign="LEFT",
        style=TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, GRID),
                ("BACKGROUND", (0, 0), (0, -1), HEAD_FILL),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        ),
    )


def _qr(copy: CertificateCopy) -> Table:
    widget = QrCodeWidget(copy.verify_url, barLevel="M", barWidth=QR_SIZE, barHeight=QR_SIZE)
    drawing = Drawing(QR_SIZE, QR_SIZE)
    drawing.add(widget)
    return Table(
        [[_p("扫码核验真伪和状态", "center")], [drawing], [_p(copy.identifier, "mono")]],
        colWidths=[QR_SIZE + 14 * mm],
        style=TableStyle(
            [
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        ),
    )


def _watermark(canvas: Canvas, text: str) -> None:
    """The watermark text in rows rotated 30°, covering the whole page."""
    canvas.saveState()
    canvas.setFillColor(WATERMARK_GREY)
    canvas.setFillAlpha(WATERMARK_ALPHA)
    size = 13
    canvas.setFont(FONT, size)
    width = pdfmetrics.stringWidth(text, FONT, size) + 30 * mm
    canvas.translate(PAGE_W / 2, PAGE_H / 2)
    canvas.rotate(30)
    span = int(max(PAGE_W, PAGE_H) / width) + 2
    for row in range(-12, 13):
        offset = (row % 2) * width / 2
        for column in range(-span, span + 1):
            canvas.drawString(column * width + offset - width / 2, row * 26 * mm / 2, text)
    canvas.restoreState()


def certificate_pdf_render(*, copy: CertificateCopy) -> bytes:
    """The PDF copy of a certificate (one A4 page for any face of up to ~25 fields)."""
    styles = _styles()
    out = BytesIO()
    doc = BaseDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"{copy.type_name} {copy.identifier}",
        author=copy.issuer_name,
        subject=copy.identifier,
        creator="yiwang",
        invariant=1,
    )
    until = _day(copy.valid_until) if copy.valid_until else "长期"
    meta = [
        ("持证主体", copy.holder_name),
        (copy.holder_code_type, copy.holder_code),
        ("颁发机构", copy.issuer_name),
        ("颁发日期", _day(copy.issued_on)),
        ("有效期", f"{_day(copy.valid_from)} 至 {until}"),
        ("证照等级", copy.trust_grade),
        ("电子证照标识", copy.identifier),
    ]
    key_w = 32 * mm
    left_w = CONTENT_W - QR_SIZE - 14 * mm - 6 * mm
    story: list[Any] = [Paragraph(escape(copy.type_name), styles["title"])]
    story.append(Paragraph(escape(copy.issuer_name), styles["issuer"]))
    if not copy.valid:
        story.append(Paragraph(escape(f"本证照{copy.status}"), styles["status"]))
    if copy.face:
        story.append(_grid(list(copy.face), [key_w, CONTENT_W - key_w]))
        story.append(Spacer(1, 6 * mm))
    story.append(
        Table(
            [[_grid(meta, [key_w, left_w - key_w]), _qr(copy)]],
            colWidths=[left_w + 6 * mm, QR_SIZE + 14 * mm],
            style=TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ]
            ),
            hAlign="LEFT",
        )
    )
    story.append(Paragraph(escape(copy.watermark), styles["note"]))
    story.append(
        Paragraph(
            escape(
                "扫描二维码或在政务服务网“证照核验”输入电子证照标识，可核验本证照的真伪和当前状态。"
            ),
            styles["note"],
        )
    )

    def decorate(canvas: Canvas, _doc: Any) -> None:
        _watermark(canvas, copy.watermark)

    frame = Frame(MARGIN, MARGIN, CONTENT_W, PAGE_H - 2 * MARGIN, id="body")
    # onPageEnd: drawn over the content (see the module's docstring).
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPageEnd=decorate)])
    doc.build(story)
    return out.getvalue()
