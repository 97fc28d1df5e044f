"""Template filters for showing personal data: always masked (yiwang.core.masking)."""

from __future__ import annotations

from django import template

from yiwang.core import masking

register = template.Library()


@register.filter
def masked_name(value: str | None) -> str:
    return masking.mask_name(value)


@register.filter
def masked_id_number(value: str | None) -> str:
    return masking.mask_id_number(value)


@register.filter
def masked_phone(value: str | None) -> str:
    return masking.mask_phone(value)
