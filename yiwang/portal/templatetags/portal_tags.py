from __future__ import annotations

from datetime import timedelta

from django import template

register = template.Library()


@register.filter
def minutes(value: timedelta | None) -> int | str:
    """A cool-off period as whole minutes (django-axes gives a timedelta); '' when unknown."""
    if not isinstance(value, timedelta):
        return ""
    return max(1, round(value.total_seconds() / 60))
