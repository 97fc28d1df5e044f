"""Time limits of work orders: when a unit must sign, may still return, must reply; when to
warn. Limits are configuration (``TimeLimit`` rows: category × urgency, the most specific
wins, then the city's default row, then ``DEFAULT_LIMITS``), because no national figure
exists (standards.md §3.4: Tianjin signs urgent orders within 30 minutes regardless of working
days, Shandong closes ordinary ones within 5 working days and returns within 2).

Every due moment is an aware datetime: a limit in working days ends at the end of its last
day, Shanghai time (so "within 5 working days" and the traffic light agree with the window's
practice), one in working hours at the instant the office time runs out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Q

from yiwang.core.calendar import SHANGHAI, WorkCalendar
from yiwang.hotline.models import Category, TimeLimit, TimeUnit, Urgency
from yiwang.hotline.selectors import category_chain_ids


@dataclass(frozen=True)
class Span:
    amount: int
    unit: str

    def __str__(self) -> str:
        return f"{self.amount} {TimeUnit(self.unit).label}"


@dataclass(frozen=True)
class Limits:
    sign: Span
    handle: Span
    return_: Span
    extension: Span
    warn_ratio: float


DEFAULT_LIMITS: dict[str, Limits] = {
    Urgency.NORMAL: Limits(
        sign=Span(1, TimeUnit.WORKING_DAYS),
        handle=Span(5, TimeUnit.WORKING_DAYS),
        return_=Span(1, TimeUnit.WORKING_DAYS),
        extension=Span(5, TimeUnit.WORKING_DAYS),
        warn_ratio=0.8,
    ),
    Urgency.URGENT: Limits(
        sign=Span(30, TimeUnit.MINUTES),
        handle=Span(24, TimeUnit.HOURS),
        return_=Span(2, TimeUnit.HOURS),
        extension=Span(24, TimeUnit.HOURS),
        warn_ratio=0.8,
    ),
}


def _end_of_day(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=SHANGHAI)


def span_end(calendar: WorkCalendar, start: datetime, span: Span) -> datetime:
    """The moment ``span`` ends, counted from ``start`` (aware)."""
    if span.unit == TimeUnit.MINUTES:
        return start + timedelta(minutes=span.amount)
    if span.unit == TimeUnit.HOURS:
        return start + timedelta(hours=span.amount)
    if span.unit == TimeUnit.DAYS:
        return _end_of_day(start.astimezone(SHANGHAI).date() + timedelta(days=span.amount))
    if span.unit == TimeUnit.WORKING_HOURS:
        due = calendar.add_working_hours(start, Decimal(span.amount)).due
        return due if isinstance(due, datetime) else _end_of_day(due)
    if span.unit == TimeUnit.WORKING_DAYS:
        due_day = calendar.add_working_days(start, span.amount).due
        return _end_of_day(due_day if not isinstance(due_day, datetime) else due_day.date())
    raise ValueError(f"unknown time unit {span.unit!r}")


def limits_for(category: Category | None, urgency: str) -> Limits:
    ids = category_chain_ids(category)
    chain: list[int | None] = [*ids, None]  # most specific first, then the city's default
    rules = {
        rule.category_id: rule
        for rule in TimeLimit.objects.filter(
            Q(category_id__in=ids) | Q(category__isnull=True), urgency=urgency
        ).order_by()  # one row per category at most (a constraint): no need to sort
    }
    for category_id in chain:
        rule = rules.get(category_id)
        if rule is not None:
            return Limits(
                sign=Span(rule.sign_amount, rule.sign_unit),
                handle=Span(rule.handle_amount, rule.handle_unit),
                return_=Span(rule.return_amount, rule.return_unit),
                extension=Span(rule.extension_amount, rule.extension_unit),
                warn_ratio=float(rule.warn_ratio),
            )
    return DEFAULT_LIMITS[Urgency(urgency)]


@dataclass(frozen=True)
class Deadlines:
    sign_due: datetime
    handle_due: datetime
    return_due: datetime


def deadlines_from(calendar: WorkCalendar, start: datetime, limits: Limits) -> Deadlines:
    """The deadlines of one dispatch round starting at ``start``."""
    return Deadlines(
        sign_due=span_end(calendar, start, limits.sign),
        handle_due=span_end(calendar, start, limits.handle),
        return_due=span_end(calendar, start, limits.return_),
    )


def warn_at(start: datetime, due: datetime, ratio: float) -> datetime:
    """When ``ratio`` of the time between start and due has passed (elapsed time: a warning is
    about the calendar a person sees, not office hours)."""
    return start + (due - start) * ratio


def light(*, now: datetime, start: datetime | None, due: datetime | None, ratio: float) -> str:
    """green / yellow (warn ratio reached) / red (overdue) / none (no running limit)."""
    if start is None or due is None:
        return "none"
    if now > due:
        return "red"
    if now >= warn_at(start, due, ratio):
        return "yellow"
    return "green"
