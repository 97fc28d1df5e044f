"""National identifiers: resident ID number (GB 11643), unified social credit code (GB 32100)
and the e-certificate identifier (GB/T 36904).

Each parser normalises its input (full-width characters, spaces, hyphens, lower case) and either
returns the normalised value or raises ``yiwang.core.errors.ValidationError`` whose message names
the problem in the user's language and whose ``extra["reason"]`` is a stable machine-readable word
(``length``, ``characters``, ``birth_date``, ``check_digit``...). Check-digit arithmetic comes from
python-stdnum, so that it is the same code other projects review.
"""

from __future__ import annotations

import datetime
import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.iso7064 import mod_37_36

from yiwang.core.errors import ValidationError

ID_NUMBER_INVALID = "core.id_number_invalid"
USCC_INVALID = "core.uscc_invalid"
ECERT_ID_INVALID = "core.ecert_id_invalid"

# Birth years before this are impossible for a living or recently deceased resident; the
# standard's own worked example (440524188001010014) is from 1880.
EARLIEST_BIRTH_YEAR = 1800

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_FORBIDDEN = frozenset("IOZSV")

ECERT_ROOT = "1.2.156.3005.2"
ECERT_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ECERT_SERIAL_MAX = 40
_ECERT_SERIAL_RE = re.compile(rf"[0-9A-Z]{{1,{ECERT_SERIAL_MAX}}}")


def _normalise(value: str, *, drop: str = " -") -> str:
    """Full-width to half-width (people type ID numbers with Chinese input methods), drop
    separators and surrounding space, upper case."""
    text = unicodedata.normalize("NFKC", value or "")
    return "".join(ch for ch in text if ch not in drop and not ch.isspace()).upper()


def _fail(code: str, reason: str, message: str | Promise, **extra: Any) -> ValidationError:
    return ValidationError(code, message, reason=reason, **extra)


# --- Resident ID number (公民身份号码, GB 11643-1999) ----------------------------------------


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: datetime.date
    gender: Literal["male", "female"]
    region_code: str
    region_name: str | None
    warnings: tuple[str, ...] = ()


# A pure function of stdnum's static table; its lookup is most of a check's time (the exchange
# gateway checks every key): remember the codes and years seen.
@functools.lru_cache(maxsize=8192)
def _region_name(code: str, birth_year: int) -> str | None:
    """Name of the GB/T 2260 address code from stdnum's historical table, or None if unknown.

    The address code is the county where the number was first assigned, which may be years
    after birth and may have been renamed or abolished since (3424xx, 341521): a code that is
    known at any time is a known code. Prefer the name valid in the birth year."""
    parts = numdb.get("cn/loc").info(code)
    info = {k: v for _part, props in parts for k, v in props.items()}
    county = info.get("county")
    if not county:
        return None
    names: list[str] = []
    for entry in county.split(","):
        if not entry.startswith("["):
            names.append(entry)
            continue
        years, name = entry[1:].split("]", 1)
        start, _sep, end = years.partition("-")
        if (not start or birth_year >= int(start)) and (not end or birth_year <= int(end)):
            return info.get("province", "") + name
        names.append(name)
    return info.get("province", "") + names[-1]


def resident_id_parse(value: str) -> ResidentId:
    """Parse and check a resident ID number; raise ValidationError naming the problem.

    An unknown region code is only a warning: codes are historical and a number never changes.
    """
    number = _normalise(value)
    if len(number) != 18:
        raise _fail(
            ID_NUMBER_INVALID,
            "length",
            format_lazy(_("身份证号码应为18位，实际为{length}位。"), length=len(number)),
        )
    if not number[:17].isascii() or not number[:17].isdigit() or number[17] not in "0123456789X":
        raise _fail(
            ID_NUMBER_INVALID,
            "characters",
            _("身份证号码只能包含数字，最后一位可以是数字或字母X。"),
        )
    try:
        birth = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise _fail(
            ID_NUMBER_INVALID,
            "birth_date",
            format_lazy(_("身份证号码中的出生日期{date}不存在。"), date=number[6:14]),
        ) from None
    if birth > timezone.localdate():
        raise _fail(
            ID_NUMBER_INVALID,
            "birth_date",
            format_lazy(_("身份证号码中的出生日期{date}晚于今天。"), date=birth.isoformat()),
        )
    if birth.year < EARLIEST_BIRTH_YEAR:
        raise _fail(
            ID_NUMBER_INVALID,
            "birth_date",
            format_lazy(_("身份证号码中的出生日期{date}不可能。"), date=birth.isoformat()),
        )
    expected = ric.calc_check_digit(number)
    if number[17] != expected:
        raise _fail(
            ID_NUMBER_INVALID,
            "check_digit",
            format_lazy(
                _("身份证号码校验位错误：最后一位应为{expected}，实际为{actual}。"),
                expected=expected,
                actual=number[17],
            ),
            expected=expected,
        )
    region_code = number[:6]
    region_name = _region_name(region_code, birth.year)
    warnings: tuple[str, ...] = ()
    if region_name is None:
        warnings = (
            str(format_lazy(_("地址码{code}不在已知的行政区划代码中。"), code=region_code)),
        )
    return ResidentId(
        number=number,
        birth_date=birth,
        gender="male" if int(number[16]) % 2 else "female",
        region_code=region_code,
        region_name=region_name,
        warnings=warnings,
    )


# --- Unified social credit code (统一社会信用代码, GB 32100-2015) ------------------------------


def uscc_validate(value: str) -> str:
    """Check a unified social credit code; return it normalised or raise ValidationError."""
    code = _normalise(value)
    if len(code) != 18:
        raise _fail(
            USCC_INVALID,
            "length",
            format_lazy(_("统一社会信用代码应为18位，实际为{length}位。"), length=len(code)),
        )
    forbidden = sorted({ch for ch in code if ch in USCC_FORBIDDEN})
    if forbidden:
        raise _fail(
            USCC_INVALID,
            "characters",
            format_lazy(
                _("统一社会信用代码不使用字母I、O、Z、S、V，却含有{letters}。"),
                letters="、".join(forbidden),
            ),
        )
    if any(ch not in USCC_ALPHABET for ch in code):
        raise _fail(
            USCC_INVALID,
            "characters",
            _("统一社会信用代码只能由数字和大写字母（不含I、O、Z、S、V）组成。"),
        )
    if not code[2:8].isdigit():
        raise _fail(
            USCC_INVALID,
            "characters",
            _("统一社会信用代码第3至8位是行政区划代码，只能是数字。"),
        )
    expected = uscc.calc_check_digit(code)
    if code[17] != expected:
        raise _fail(
            USCC_INVALID,
            "check_digit",
            format_lazy(
                _("统一社会信用代码校验位错误：最后一位应为{expected}，实际为{actual}。"),
                expected=expected,
                actual=code[17],
            ),
            expected=expected,
        )
    return code


# --- E-certificate identifier (电子证照标识, GB/T 36904-2018) -------------------------------


@dataclass(frozen=True)
class EcertId:
    """``1.2.156.3005.2.<type code>.<issuer USCC>.<serial>.<version>.<check>``; the type code
    is the defining authority's USCC followed by a 3-digit number."""

    type_code: str
    definer_uscc: str
    issuer_uscc: str
    serial: str
    version: int
    check: str

    def __str__(self) -> str:
        version = f"{self.version:03d}"
        return ".".join(
            (ECERT_ROOT, self.type_code, self.issuer_uscc, self.serial, version, self.check)
        )


def _ecert_fail(reason: str, message: str | Promise, **extra: Any) -> ValidationError:
    return _fail(ECERT_ID_INVALID, reason, message, **extra)


def _ecert_parts(type_code: str, issuer_uscc: str, serial: str, version: int) -> EcertId:
    """Check the parts (everything but the check character); return them with the check."""
    if len(type_code) != 21 or not type_code[18:].isdigit():
        raise _ecert_fail(
            "type_code",
            _("证照类型代码应为定义机构的统一社会信用代码加3位数字，共21位。"),
        )
    try:
        definer = uscc_validate(type_code[:18])
        issuer = uscc_validate(issuer_uscc)
    except ValidationError as exc:
        raise _ecert_fail(
            "uscc", format_lazy(_("电子证照标识中的机构代码有误：{detail}"), detail=exc.message)
        ) from exc
    if not _ECERT_SERIAL_RE.fullmatch(serial):
        raise _ecert_fail(
            "serial",
            format_lazy(_("证照流水号应为1至{max}位数字或大写字母。"), max=ECERT_SERIAL_MAX),
        )
    if not 1 <= version <= 999:
        raise _ecert_fail("version", _("证照版本号应为001至999。"))
    body = f"{type_code}{issuer}{serial}{version:03d}"
    return EcertId(
        type_code=type_code,
        definer_uscc=definer,
        issuer_uscc=issuer,
        serial=serial,
        version=version,
        check=mod_37_36.calc_check_digit(body, alphabet=ECERT_ALPHABET),
    )


def ecert_id_build(*, type_code: str, issuer_uscc: str, serial: str, version: int) -> str:
    """Assemble an e-certificate identifier and append its ISO 7064 MOD 37,36 check character."""
    parts = _ecert_parts(
        _normalise(type_code), _normalise(issuer_uscc), _normalise(serial), version
    )
    return str(parts)


def ecert_id_parse(value: str) -> EcertId:
    """Split and check an e-certificate identifier; raise ValidationError naming the problem."""
    text = _normalise(value, drop=" ")
    prefix = ECERT_ROOT + "."
    if not text.startswith(prefix):
        raise _ecert_fail("root", format_lazy(_("电子证照标识应以{root}开头。"), root=ECERT_ROOT))
    segments = text[len(prefix) :].split(".")
    if len(segments) != 5:
        raise _ecert_fail(
            "segments",
            _(
                "电子证照标识应由根代码、证照类型代码、颁发机构代码、流水号、版本号、校验位组成，以点分隔。"
            ),
        )
    type_code, issuer, serial, version_text, check = segments
    if len(version_text) != 3 or not version_text.isdigit():
        raise _ecert_fail("version", _("证照版本号应为3位数字，如001。"))
    parts = _ecert_parts(type_code, issuer, serial, int(version_text))
    if len(check) != 1 or check not in ECERT_ALPHABET:
        raise _ecert_fail("check_digit", _("校验位应为1位数字或大写字母。"))
    if check != parts.check:
        raise _ecert_fail(
            "check_digit",
            format_lazy(
                _("电子证照标识校验位错误：应为{expected}，实际为{actual}。"),
                expected=parts.check,
                actual=check,
            ),
            expected=parts.check,
        )
    return parts
