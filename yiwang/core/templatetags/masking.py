"""``{% load masking %}{{ user.id_number|mask_id_number }}``: the display side of
yiwang.core.masking, so that templates never print personal data unmasked by accident."""

from __future__ import annotations

from django import template

from yiwang.core import masking

register = template.Library()

register.filter("mask_id_number", masking.mask_id_number, is_safe=True)
register.filter("mask_phone", masking.mask_phone, is_safe=True)
register.filter("mask_name", masking.mask_name, is_safe=True)
register.filter("mask_uscc", masking.mask_uscc, is_safe=True)
register.filter("mask_email", masking.mask_email, is_safe=True)
register.filter("mask_form_value", masking.mask_form_value)
