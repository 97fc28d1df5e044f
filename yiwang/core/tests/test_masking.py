"""Masking for display: exact patterns, safe on empty and short input, never reveals more."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from hypothesis import given
from hypothesis import strategies as st

from yiwang.core.masking import (
    MASK,
    mask_email,
    mask_form_value,
    mask_id_number,
    mask_name,
    mask_phone,
    mask_uscc,
)


@pytest.mark.parametrize(
    ("func", "value", "expected"),
    [
        (mask_id_number, "341502198001010012", "3415**********0012"),
        (mask_id_number, "11010519491231002X", "1101**********002X"),
        (mask_phone, "13812345678", "138****5678"),
        (mask_phone, "+8613812345678", "+86*******5678"),
        (mask_uscc, "91110000600037341L", "9111**********341L"),
        (mask_name, "张三", "张*"),
        (mask_name, "张三丰", "张**"),
        (mask_name, "欧阳娜娜", "欧阳**"),
        (mask_name, "司马光", "司马*"),
        (mask_name, "欧阳", "欧*"),
        (mask_name, "张", "*"),
        (mask_name, "买买提·艾力", "买*****"),
    ],
)
def test_full_values_show_their_pattern(func, value, expected):
    assert func(value) == expected


@pytest.mark.parametrize("func", [mask_id_number, mask_phone, mask_uscc, mask_name])
@pytest.mark.parametrize("value", ["", None])
def test_empty_and_none_give_empty(func, value):
    assert func(value) == ""


@pytest.mark.parametrize(
    ("func", "value", "expected"),
    [
        (mask_id_number, "34150219", "3415****"),  # half of a fragment, never the whole
        (mask_id_number, "3415", "34**"),
        (mask_id_number, "3", "*"),
        (mask_phone, "5678", "56**"),
        (mask_phone, "3371234", "337****"),
        (mask_uscc, "91110000", "9111****"),
    ],
)
def test_short_values_show_at_most_half(func, value, expected):
    assert func(value) == expected


def test_template_filters_mask_and_escape():
    template = Template(
        "{% load masking %}{{ id|mask_id_number }} {{ phone|mask_phone }} "
        "{{ name|mask_name }} {{ code|mask_uscc }} {{ missing|mask_phone }}|"
        "{{ html|mask_phone }}"
    )
    rendered = template.render(
        Context(
            {
                "id": "341502198001010012",
                "phone": "13812345678",
                "name": "欧阳娜娜",
                "code": "91110000600037341L",
                "missing": None,
                "html": "<b>1234567890</b>",
            }
        )
    )
    assert rendered == (
        "3415**********0012 138****5678 欧阳** 9111**********341L |&lt;b&gt;**********&lt;/b&gt;"
    )


# --- properties: the output has the input's length and shows only the allowed characters -----

TEXT = st.text(alphabet=st.characters(blacklist_characters=MASK, blacklist_categories=["Cs"]))


def _shown(original: str, masked: str) -> int:
    assert len(masked) == len(original)
    shown = [i for i, ch in enumerate(masked) if ch != MASK]
    assert all(masked[i] == original[i] for i in shown)
    return len(shown)


@pytest.mark.parametrize(
    ("func", "pattern", "full"),
    [(mask_id_number, 8, 18), (mask_phone, 7, 11), (mask_uscc, 8, 18)],
)
@given(value=TEXT)
def test_masks_never_reveal_more_than_their_pattern(func, pattern, full, value):
    shown = _shown(value, func(value))
    assert shown <= (pattern if len(value) >= full else len(value) // 2)


@given(value=TEXT)
def test_names_reveal_at_most_the_surname_and_never_the_whole_name(value):
    masked = mask_name(value)
    stripped = value.strip()
    shown = _shown(stripped, masked)
    assert shown <= min(2, max(len(stripped) - 1, 0))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("zhangsan@example.com", "z*******@example.com"),
        ("ab@163.com", "a*@163.com"),
        ("a@163.com", "*@163.com"),
        ("first@second@x.cn", "f***********@x.cn"),  # the last @ separates the domain
        ("not-an-address", "n*************"),
        ("", ""),
        (None, ""),
    ],
)
def test_email_shows_the_first_character_and_the_domain(value, expected):
    assert mask_email(value) == expected


@given(value=TEXT)
def test_email_never_reveals_more_than_one_character_before_the_domain(value):
    masked = mask_email(value)
    local, at, _ = value.rpartition("@")
    head = local if at else value
    assert len(masked) == len(value)
    assert masked.endswith(value[len(head) :])
    assert sum(ch != MASK for ch in masked[: len(head)]) <= min(1, len(head) // 2)


# --- form values: masked when they look like an ID number or a mobile number ------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("341502198001010012", "3415**********0012"),
        ("34150219800101001x", "3415**********001x"),
        ("341502198001010013", "3415**********0013"),  # a wrong check digit: still masked
        ("341502800101001", "3415********001"),  # the old 15 digits
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("138-1234-5678", "138****5678"),
        ("+8613812345678", "+86*******5678"),
        (13812345678, "138****5678"),  # a number in the JSON
        ("800000", "800000"),
        ("12812345678", "12812345678"),  # no mobile number starts with 12
        ("3415021980010100123", "3415021980010100123"),  # 19 digits: neither
        ("皖(2020)六安市不动产权第0000001号", "皖(2020)六安市不动产权第0000001号"),
        ("", ""),
        (None, None),
        (True, True),
        (["13812345678"], ["13812345678"]),
    ],
)
def test_form_values_are_masked_by_their_shape(value, expected):
    assert mask_form_value(value) == expected


def test_form_value_filter_escapes_what_it_does_not_mask():
    template = Template("{% load masking %}{{ a|mask_form_value }} {{ b|mask_form_value }}")

    rendered = template.render(Context({"a": "13812345678", "b": "<b>x</b>"}))

    assert rendered == "138****5678 &lt;b&gt;x&lt;/b&gt;"
