"""Template filters of the exchange pages."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def through_day(value: datetime | None) -> date | None:
    """The last day a grant is valid on: ``valid_until`` is the first instant it is not
    (midnight after the day the officer chose), so the day shown is the one before."""
    if value is None:
        return None
    return timezone.localtime(value - timedelta(microseconds=1)).date()
