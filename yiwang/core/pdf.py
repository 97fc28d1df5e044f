"""The PDF font every generated document uses (case notices, certificate copies).

reportlab's built-in Adobe-GB1 CID font ``STSong-Light`` needs no font file: the PDF names it
and the viewer substitutes its own Chinese font, so nothing is bundled or downloaded.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont

FONT = "STSong-Light"


@cache
def register_cjk_font() -> None:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def cjk_style(name: str, size: float, **kw: Any) -> ParagraphStyle:
    """A paragraph style in the CJK font that wraps between any two characters (Chinese has
    no spaces to break at), with 1.5 line spacing unless ``leading`` says otherwise."""
    register_cjk_font()
    kw.setdefault("leading", size * 1.5)
    return ParagraphStyle(name, fontName=FONT, fontSize=size, wordWrap="CJK", **kw)
