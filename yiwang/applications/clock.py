"""Time limits of applications and tasks: due dates from the working-day calendar with the
clock stopped during pauses (补正, 特别程序), and the traffic light (green, yellow at 80 % of
the limit used, red when overdue).

Counting follows yiwang.core.calendar: the day the clock starts does not count; a pause from
p0 to p1 removes the working days d with p0 < d <= p1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from yiwang.catalog.models import TimeUnit
from yiwang.core.calendar import SHANGHAI, Deadline, Pause, WorkCalendar

YELLOW_AT = 0.8


@dataclass(frozen=True)
class Limit:
    amount: int | None
    unit: str


def _local(value: datetime | date) -> date:
    return value.astimezone(SHANGHAI).date() if isinstance(value, datetime) else value


def limit_due(
    calendar: WorkCalendar, start: datetime, limit: Limit, pauses: Sequence[Pause] = ()
) -> Deadline | None:
    """When ``limit`` ends counted from ``start``, or None when there is no limit."""
    if limit.unit == TimeUnit.IMMEDIATE:
        return Deadline(due=_local(start))
    if limit.amount is None or not limit.unit:
        return None
    if limit.unit == TimeUnit.WORKING_DAY:
        return calendar.deadline_with_pauses(start, days=limit.amount, pauses=pauses)
    if limit.unit == TimeUnit.WORKING_HOUR:
        hours = calendar.deadline_with_pauses(start, hours=limit.amount, pauses=pauses)
        return Deadline(due=_local(hours.due), provisional=hours.provisional)
    # natural days, lengthened by the paused days
    paused_days = sum((_local(p1) - _local(p0)).days for p0, p1 in pauses)
    return Deadline(due=_local(start) + timedelta(days=limit.amount + paused_days))


def working_days_used(
    calendar: WorkCalendar, start: datetime | date, now: datetime, pauses: Sequence[Pause] = ()
) -> int:
    """Working days d with start < d <= today that are not paused."""
    first, last = _local(start), _local(now)
    paused = [(_local(p0), _local(p1)) for p0, p1 in pauses]
    used, d = 0, first + timedelta(days=1)
    while d <= last:
        if calendar.is_working_day(d) and not any(p0 < d <= p1 for p0, p1 in paused):
            used += 1
        d += timedelta(days=1)
    return used


def traffic_light(
    calendar: WorkCalendar,
    *,
    start: datetime | None,
    due: date | None,
    now: datetime,
    pauses: Sequence[Pause] = (),
) -> str:
    """``none`` (no limit or not started), ``green``, ``yellow`` (80 % used) or ``red``
    (overdue)."""
    if start is None or due is None:
        return "none"
    today = _local(now)
    if today > due:
        return "red"
    total = working_days_used(
        calendar, start, datetime.combine(due, datetime.min.time(), SHANGHAI), pauses
    )
    if total <= 0:
        return "green"
    used = working_days_used(calendar, start, now, pauses)
    return "yellow" if used / total >= YELLOW_AT else "green"
