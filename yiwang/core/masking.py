"""Masking of personal data for display (PIPL; DESIGN "Personal data").

Every function keeps the length of its input, replaces hidden characters with ``*`` and shows at
most its pattern: a fixed number of leading and trailing characters for a value of full length,
and never more than half of a shorter (malformed or truncated) value, so that a fragment of an ID
number is not shown whole. ``None`` and ``""``
give ``""``. Input is not validated here: masking must never fail while a page renders.
"""

from __future__ import annotations

import re

MASK = "*"

# 复姓: kept whole, so that "欧阳娜娜" shows as "欧阳**" rather than "欧***". A name of only two
# characters is read as a one-character surname (a compound surname alone is not a full name).
_COMPOUND_SURNAMES_TEXT = """
    欧阳 太史 端木 上官 司马 东方 独孤 南宫 万俟 闻人 夏侯 诸葛 尉迟 公羊 赫连 澹台 皇甫
    宗政 濮阳 公冶 太叔 申屠 公孙 慕容 仲孙 钟离 长孙 宇文 司徒 鲜于 司空 闾丘 子车 亓官
    司寇 巫马 公西 颛孙 壤驷 公良 漆雕 乐正 宰父 谷梁 拓跋 夹谷 轩辕 令狐 段干 百里 呼延
    东郭 南门 羊舌 微生 公户 公玉 公仪 梁丘 公仲 公上 公门 公山 公坚 左丘 公伯 西门 公祖
    第五 公乘 贯丘 公皙 南荣 东里 东宫 仲长 子书 子桑 即墨 达奚 褚师"""
COMPOUND_SURNAMES = frozenset(_COMPOUND_SURNAMES_TEXT.split())


def _mask(value: str | None, *, head: int, tail: int, full: int) -> str:
    """Show ``head`` leading and ``tail`` trailing characters of a value at least ``full``
    long; of a shorter value show at most half, taken from the head first."""
    text = value or ""
    n = len(text)
    if n == 0:
        return ""
    budget = head + tail if n >= full else n // 2  # at most this many characters are shown
    show_head = min(head, budget)
    show_tail = min(tail, budget - show_head)
    return text[:show_head] + MASK * (n - show_head - show_tail) + text[n - show_tail :]


def mask_id_number(value: str | None) -> str:
    """``341502199001010012`` → ``3415**********0012``."""
    return _mask(value, head=4, tail=4, full=18)


def mask_phone(value: str | None) -> str:
    """``13812345678`` → ``138****5678``."""
    return _mask(value, head=3, tail=4, full=11)


def mask_uscc(value: str | None) -> str:
    """``91341500MA2N0000X1`` → ``9134**********00X1``: like an ID number, the subject
    identifier in the middle is hidden."""
    return _mask(value, head=4, tail=4, full=18)


def mask_email(value: str | None) -> str:
    """``zhangsan@example.com`` → ``z*******@example.com``: the domain is shown (it tells which
    mailbox provider), the local part keeps its first character only. A value without ``@`` is
    masked like any short value."""
    text = value or ""
    local, at, domain = text.rpartition("@")
    if not at:
        return _mask(text, head=1, tail=0, full=2)
    return _mask(local, head=1, tail=0, full=2) + at + domain


def mask_name(value: str | None) -> str:
    """``张三`` → ``张*``, ``欧阳娜娜`` → ``欧阳**``; a single character is hidden whole."""
    text = (value or "").strip()
    if len(text) <= 1:
        return MASK * len(text)
    keep = 2 if len(text) > 2 and text[:2] in COMPOUND_SURNAMES else 1
    return text[:keep] + MASK * (len(text) - keep)


# The shapes of the identifiers that a free form (申请表) may carry without saying what they are:
# a resident ID number (18 characters, or the old 15 digits) and a mainland mobile number. The
# check digit is not required: a mistyped ID number is still someone's ID number.
_ID_NUMBER_SHAPE = re.compile(r"\d{17}[\dXx]|\d{15}")
_MOBILE_SHAPE = re.compile(r"(?:\+?86)?1[3-9]\d{9}")
_SEPARATORS = re.compile(r"[\s-]")


def mask_form_value(value: object) -> object:
    """A value of an application form as staff see it: masked like the page's own ID number
    and phone when it has the shape of a resident ID number or a mobile number (spaces and
    hyphens ignored); any other value is returned as it is."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return value
    compact = _SEPARATORS.sub("", str(value))
    if _ID_NUMBER_SHAPE.fullmatch(compact):
        return mask_id_number(compact)
    if _MOBILE_SHAPE.fullmatch(compact):
        return mask_phone(compact)
    return value
