"""Resident ID number (GB 11643), USCC (GB 32100) and e-certificate identifier (GB/T 36904)."""

from __future__ import annotations

import datetime

import pytest
from django import forms
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from yiwang.core.errors import ValidationError
from yiwang.core.identifiers import (
    ECERT_ALPHABET,
    EcertId,
    ResidentId,
    ecert_id_build,
    ecert_id_parse,
    resident_id_parse,
    uscc_validate,
)
from yiwang.core.validators import validate_ecert_id, validate_id_number, validate_uscc

REAL_ECERT_IDS = [
    "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
    "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F",
    "1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0",
]


def _with_check(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


def _raises(func, value, code):
    with pytest.raises(ValidationError) as info:
        func(value)
    assert info.value.code == code
    return info.value


# --- resident ID number ----------------------------------------------------------------------


def test_standard_example_parses_with_birth_date_gender_and_region():
    # given the worked example of the standard's appendix; when parsed
    result = resident_id_parse("11010519491231002X")
    # then every part is read
    assert result == ResidentId(
        number="11010519491231002X",
        birth_date=datetime.date(1949, 12, 31),
        gender="female",
        region_code="110105",
        region_name="北京市朝阳区",
        warnings=(),
    )


def test_luan_number_parses_as_male_from_jinan_district():
    result = resident_id_parse("341502198001010012")
    assert (result.gender, result.region_name, result.warnings) == ("male", "安徽省金安区", ())


def test_input_is_normalised_lower_x_full_width_and_spaces():
    # given the same number typed with a lower-case x, full-width digits and spaces
    typed = " １１０１０５ 19491231002x "
    # when parsed, then it is the canonical number
    assert resident_id_parse(typed).number == "11010519491231002X"


@pytest.mark.parametrize(
    ("body", "region_name"),
    [
        ("34242219600101001", "安徽省寿县"),  # 六安地区 era, abolished 1999
        ("34152119900101001", "安徽省寿县"),  # under 六安 1999-2015, now 340422 under 淮南
        ("44052418800101001", "广东省潮阳县"),  # abolished county, the standard's example
    ],
)
def test_historical_region_codes_stay_valid_without_warning(body, region_name):
    result = resident_id_parse(_with_check(body))
    assert (result.region_name, result.warnings) == (region_name, ())


def test_unknown_region_code_is_only_a_warning():
    # given a number whose address code is in no table
    number = _with_check("99999919900101001")
    # when parsed, then it is accepted with a warning naming the code
    result = resident_id_parse(number)
    assert result.number == number
    assert result.region_name is None
    assert result.warnings == ("地址码999999不在已知的行政区划代码中。",)


def test_wrong_check_digit_names_the_expected_digit():
    error = _raises(resident_id_parse, "110105194912310021", "core.id_number_invalid")
    assert str(error.message) == "身份证号码校验位错误：最后一位应为X，实际为1。"
    assert error.extra == {"reason": "check_digit", "expected": "X"}


@pytest.mark.parametrize(
    ("value", "reason", "message"),
    [
        ("", "length", "身份证号码应为18位，实际为0位。"),
        ("34150219800101001", "length", "身份证号码应为18位，实际为17位。"),
        ("341502800101001", "length", "身份证号码应为18位，实际为15位。"),
        ("3415021980010100X2", "characters", "身份证号码只能包含数字，最后一位可以是数字或字母X。"),
        ("34150219800101001Y", "characters", "身份证号码只能包含数字，最后一位可以是数字或字母X。"),
        ("341502198002300012", "birth_date", "身份证号码中的出生日期19800230不存在。"),
        ("341502198013010012", "birth_date", "身份证号码中的出生日期19801301不存在。"),
        ("341502179901010012", "birth_date", "身份证号码中的出生日期1799-01-01不可能。"),
    ],
)
def test_malformed_numbers_are_rejected_with_the_problem_named(value, reason, message):
    error = _raises(resident_id_parse, value, "core.id_number_invalid")
    assert (error.extra["reason"], str(error.message)) == (reason, message)


def test_birth_date_in_the_future_is_rejected():
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    number = _with_check(f"341502{tomorrow:%Y%m%d}001")
    error = _raises(resident_id_parse, number, "core.id_number_invalid")
    assert str(error.message) == f"身份证号码中的出生日期{tomorrow.isoformat()}晚于今天。"


def test_birth_date_today_is_accepted():
    today = timezone.localdate()
    assert resident_id_parse(_with_check(f"341502{today:%Y%m%d}002")).birth_date == today


# --- USCC ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["91110000600037341L", "11100000000013338W", "11430000006122244L"]
)
def test_valid_usccs_pass(value):
    assert uscc_validate(value) == value


def test_uscc_is_normalised():
    assert uscc_validate(" 91110000-600037341l ") == "91110000600037341L"


@pytest.mark.parametrize(
    ("value", "reason", "message"),
    [
        ("9111000060003734", "length", "统一社会信用代码应为18位，实际为16位。"),
        (
            "91110000600037341O",
            "characters",
            "统一社会信用代码不使用字母I、O、Z、S、V，却含有O。",
        ),
        (
            "9111000060003S34IL",
            "characters",
            "统一社会信用代码不使用字母I、O、Z、S、V，却含有I、S。",
        ),
        (
            "91110000600037341#",
            "characters",
            "统一社会信用代码只能由数字和大写字母（不含I、O、Z、S、V）组成。",
        ),
        (
            "91A10000600037341L",
            "characters",
            "统一社会信用代码第3至8位是行政区划代码，只能是数字。",
        ),
    ],
)
def test_malformed_usccs_are_rejected_with_the_problem_named(value, reason, message):
    error = _raises(uscc_validate, value, "core.uscc_invalid")
    assert (error.extra["reason"], str(error.message)) == (reason, message)


def test_uscc_wrong_check_character_names_the_expected_one():
    error = _raises(uscc_validate, "91110000600037341A", "core.uscc_invalid")
    assert str(error.message) == "统一社会信用代码校验位错误：最后一位应为L，实际为A。"
    assert error.extra == {"reason": "check_digit", "expected": "L"}


# --- e-certificate identifiers -----------------------------------------------------------------


@pytest.mark.parametrize("value", REAL_ECERT_IDS)
def test_real_ecert_ids_parse_and_rebuild_identically(value):
    parsed = ecert_id_parse(value)
    rebuilt = ecert_id_build(
        type_code=parsed.type_code,
        issuer_uscc=parsed.issuer_uscc,
        serial=parsed.serial,
        version=parsed.version,
    )
    assert (rebuilt, str(parsed)) == (value, value)


def test_ecert_id_parts():
    assert ecert_id_parse(REAL_ECERT_IDS[1]) == EcertId(
        type_code="11100000000013338W032",
        definer_uscc="11100000000013338W",
        issuer_uscc="11220000013544541J",
        serial="2430599",
        version=1,
        check="F",
    )


def test_ecert_id_wrong_check_character_names_the_expected_one():
    value = REAL_ECERT_IDS[0][:-1] + "V"
    error = _raises(ecert_id_parse, value, "core.ecert_id_invalid")
    assert str(error.message) == "电子证照标识校验位错误：应为U，实际为V。"
    assert error.extra == {"reason": "check_digit", "expected": "U"}


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1.2.156.3005.3.11100000000013338W011.11430000006122244L.20230000403.001.U", "root"),
        ("1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001", "segments"),
        ("1.2.156.3005.2.11100000000013338W11.11430000006122244L.20230000403.001.U", "type_code"),
        ("1.2.156.3005.2.11100000000013338W011.11430000006122244A.20230000403.001.U", "uscc"),
        ("1.2.156.3005.2.11100000000013338W011.11430000006122244L.2023-0403.001.U", "serial"),
        ("1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.1.U", "version"),
        ("1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.000.U", "version"),
        (
            "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.UU",
            "check_digit",
        ),
    ],
)
def test_malformed_ecert_ids_are_rejected(value, reason):
    error = _raises(ecert_id_parse, value, "core.ecert_id_invalid")
    assert error.extra["reason"] == reason


def test_ecert_id_build_refuses_bad_parts():
    with pytest.raises(ValidationError) as info:
        ecert_id_build(
            type_code="11100000000013338W032",
            issuer_uscc="11220000013544541A",
            serial="1",
            version=1,
        )
    assert info.value.code == "core.ecert_id_invalid"
    assert str(info.value.message) == (
        "电子证照标识中的机构代码有误：统一社会信用代码校验位错误：最后一位应为J，实际为A。"
    )


# --- Django validators -----------------------------------------------------------------------


def test_form_validators_show_the_same_message_and_code():
    class IdentityForm(forms.Form):
        id_number = forms.CharField(validators=[validate_id_number])
        uscc = forms.CharField(validators=[validate_uscc], required=False)
        ecert = forms.CharField(validators=[validate_ecert_id], required=False)

    form = IdentityForm(data={"id_number": "110105194912310021", "uscc": "", "ecert": "x"})
    assert not form.is_valid()
    assert form.errors.get_json_data() == {
        "id_number": [
            {
                "message": "身份证号码校验位错误：最后一位应为X，实际为1。",
                "code": "core.id_number_invalid",
            }
        ],
        "ecert": [
            {"message": "电子证照标识应以1.2.156.3005.2开头。", "code": "core.ecert_id_invalid"}
        ],
    }


# --- properties --------------------------------------------------------------------------------

REGIONS = ["341500", "341502", "341503", "341504", "341522", "341525", "342422", "110105"]
DIGITS = "0123456789"


@st.composite
def resident_ids(draw):
    region = draw(st.sampled_from(REGIONS))
    birth = draw(st.dates(datetime.date(1900, 1, 1), datetime.date(2024, 12, 31)))
    sequence = draw(st.integers(0, 999))
    return _with_check(f"{region}{birth:%Y%m%d}{sequence:03d}")


@st.composite
def usccs(draw):
    head = draw(st.sampled_from("159Y")) + draw(st.sampled_from("123"))
    region = draw(st.sampled_from(REGIONS))
    subject = draw(st.text(alphabet=uscc._alphabet, min_size=9, max_size=9))
    body = head + region + subject
    return body + uscc.calc_check_digit(body)


@st.composite
def single_changes(draw, values, alphabet):
    value = draw(values)
    position = draw(st.integers(0, len(value) - 1))
    replacement = draw(st.sampled_from(alphabet).filter(lambda c: c != value[position]))
    return value, value[:position] + replacement + value[position + 1 :]


@given(resident_ids())
def test_generated_resident_ids_parse(number):
    result = resident_id_parse(number)
    assert result.number == number
    assert result.gender == ("male" if int(number[16]) % 2 else "female")


@given(single_changes(resident_ids(), DIGITS + "X"))
def test_any_single_character_change_of_an_id_number_is_rejected(change):
    _original, changed = change
    _raises(resident_id_parse, changed, "core.id_number_invalid")


@given(usccs())
def test_generated_usccs_validate(code):
    assert uscc_validate(code) == code


@given(single_changes(usccs(), uscc._alphabet + "IOZSV"))
def test_any_single_character_change_of_a_uscc_is_rejected(change):
    _original, changed = change
    _raises(uscc_validate, changed, "core.uscc_invalid")


@st.composite
def ecert_ids(draw):
    issuer = draw(usccs())
    serial = draw(st.text(alphabet=ECERT_ALPHABET, min_size=1, max_size=20))
    return ecert_id_build(
        type_code="11100000000013338W" + f"{draw(st.integers(0, 999)):03d}",
        issuer_uscc=issuer,
        serial=serial,
        version=draw(st.integers(1, 999)),
    )


@given(ecert_ids())
def test_generated_ecert_ids_parse(value):
    assert str(ecert_id_parse(value)) == value


@given(ecert_ids(), st.data())
def test_any_change_of_an_ecert_check_character_or_serial_is_rejected(value, data):
    # the serial and the check character are free text: only the check character guards them
    *head, serial, version, check = value.split(".")
    position = data.draw(st.integers(0, len(serial)))
    alphabet = ECERT_ALPHABET
    if position == len(serial):
        replacement = data.draw(st.sampled_from(alphabet).filter(lambda c: c != check))
        changed = ".".join([*head, serial, version, replacement])
    else:
        char = data.draw(st.sampled_from(alphabet).filter(lambda c: c != serial[position]))
        new_serial = serial[:position] + char + serial[position + 1 :]
        changed = ".".join([*head, new_serial, version, check])
    _raises(ecert_id_parse, changed, "core.ecert_id_invalid")
