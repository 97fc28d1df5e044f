"""The working-day calendar: deadline arithmetic in working days and working hours.

A small pure module in the manner of FixMyStreet's ``WorkingDays.pm``: a ``WorkCalendar`` value
object answers every question from sets held in memory, and ``work_calendar_load()`` builds it
from the admin-editable tables (``CalendarYear``, ``CalendarDay``) once per change.

Conventions (the same everywhere in this module):

* **Working day.** In a year with an official arrangement (a ``CalendarYear`` row with
  ``official=True``) a day is a working day when it is a make-up working day (调休上班), or a
  Monday–Friday that is not a holiday. A year without one is computed on weekends only and every
  result that touches it is flagged *provisional*; ``CalendarDay`` rows entered for such a year
  are ignored until an administrator marks the year official, so that a half-entered notice never
  changes deadlines.
* **Days: the first day does not count** (期间开始之日不计算在期间内, as in the Administrative
  Licensing Law). A time limit of N working days from an application submitted on day D ends at
  the end of the Nth working day *after* D, whatever the hour of submission and whether D is a
  working day. ``working_days_between(a, b)`` counts the working days d with a < d <= b, so
  ``working_days_between(D, add_working_days(D, N).due) == N``. Adding 0 days gives D itself.
* **Hours: time counts from the instant itself**, but only within office hours on working days
  (default 09:00–12:00 and 13:30–17:30 Asia/Shanghai, ``settings.YIWANG_OFFICE_HOURS``). Adding a
  duration gives the earliest instant by which that much office time has passed; it can be the end
  of a period (12:00), never a lunch break, an evening, a weekend or a holiday.
* **Pauses** (special procedures 特别程序, requests for supplements 补正) stop the clock. In hours,
  office time inside a pause does not count. In days, a pause from p0 to p1 removes the working
  days d with p0 < d <= p1: the day the clock stops was running, and the day it restarts counts as
  a new first day, which does not count.
* **Time zones.** Instants are aware datetimes; results are returned in UTC (as stored), and days
  and office hours are reckoned in Asia/Shanghai. Naive datetimes are refused.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _

from yiwang.core.errors import ValidationError
from yiwang.core.memo import memo_invalidated_by, request_memo
from yiwang.core.models import CalendarDay, CalendarYear, OutboxMessage
from yiwang.core.outbox import outbox_enqueue

logger = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_OFFICE_HOURS: tuple[tuple[time, time], ...] = (
    (time(9, 0), time(12, 0)),
    (time(13, 30), time(17, 30)),
)
ADMIN_NOTICE_TOPIC = "admin.notice"
_ONE_DAY = timedelta(days=1)

# A pause as given by callers: instants for hour deadlines; instants or dates for day deadlines.
Pause = tuple[datetime | date, datetime | date]


class CalendarInvalid(ValidationError):
    """A deadline was asked with arguments that make no sense (negative length, naive time...)."""

    code = "core.calendar_invalid"


@dataclass(frozen=True)
class Deadline:
    """When a time limit ends.

    ``due`` is a ``date`` for day limits (the limit ends at the end of that day, Shanghai time)
    and an aware UTC ``datetime`` for hour limits. ``provisional`` is true when the computation
    crossed a year that has no official holiday arrangement yet (``provisional_years``); compute
    again once the year is loaded.
    """

    due: datetime | date
    provisional: bool = False
    provisional_years: tuple[int, ...] = ()

    def is_overdue(self, *, now: datetime) -> bool:
        if isinstance(self.due, datetime):
            return _aware(now, "now") > self.due
        return _aware(now, "now").astimezone(SHANGHAI).date() > self.due


@dataclass(frozen=True)
class WorkCalendar:
    """Holidays, make-up working days and office hours, with the arithmetic over them.

    Build it with ``work_calendar_load()`` in application code; tests may build one directly.
    """

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    official_years: frozenset[int] = frozenset()
    office_hours: tuple[tuple[time, time], ...] = DEFAULT_OFFICE_HOURS
    names: Mapping[date, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        _check_office_hours(self.office_hours)

    # --- days ------------------------------------------------------------------------------

    def is_official_year(self, year: int) -> bool:
        return year in self.official_years

    def is_working_day(self, day: date | datetime) -> bool:
        d = _local_date(day)
        if d.year in self.official_years:
            if d in self.workdays:
                return True
            if d in self.holidays:
                return False
        return d.weekday() < 5

    def holiday_name(self, day: date | datetime) -> str:
        """The name of the holiday or make-up day on ``day`` (only in official years), or ''."""
        d = _local_date(day)
        return self.names.get(d, "") if d.year in self.official_years else ""

    def add_working_days(self, start: date | datetime, days: int) -> Deadline:
        """The end of the ``days``-th working day after the day of ``start``."""
        return self._add_days(_local_date(start), _non_negative(days, "days"), ())

    def working_days_between(self, a: date | datetime, b: date | datetime) -> int:
        """Working days d with a < d <= b (negative when b is before a)."""
        first, last = _local_date(a), _local_date(b)
        if last < first:
            return -self.working_days_between(last, first)
        return sum(1 for d in _days(first + _ONE_DAY, last) if self.is_working_day(d))

    def provisional_years_between(self, a: date | datetime, b: date | datetime) -> tuple[int, ...]:
        """Years between a and b (inclusive) that have no official arrangement yet."""
        first, last = sorted((_local_date(a), _local_date(b)))
        return self._unofficial(first.year, last.year)

    # --- hours -----------------------------------------------------------------------------

    def add_working_hours(
        self, start: datetime, hours: int | float | Decimal, pauses: Sequence[Pause] = ()
    ) -> Deadline:
        """The instant by which ``hours`` of office time have passed since ``start``."""
        if not math.isfinite(hours):
            raise CalendarInvalid(
                "core.calendar_not_finite", _("时限须为有限的数。"), field="hours"
            )
        return self.add_working_time(start, timedelta(hours=float(hours)), pauses)

    def add_working_time(
        self, start: datetime, duration: timedelta, pauses: Sequence[Pause] = ()
    ) -> Deadline:
        begin = _utc(start, "start")
        if duration < timedelta(0):
            raise CalendarInvalid("core.calendar_negative", _("时限不能为负数。"), field="hours")
        if duration == timedelta(0):
            return Deadline(due=begin)
        stops = _merge_pauses(pauses)
        remaining = duration
        for lo, hi in self._counting_intervals(begin, stops):
            if hi - lo >= remaining:
                due = lo + remaining
                return self._deadline(due, begin.astimezone(SHANGHAI).year, due)
            remaining -= hi - lo
        raise AssertionError("unreachable: office intervals never run out")  # pragma: no cover

    def working_time_between(
        self, a: datetime, b: datetime, pauses: Sequence[Pause] = ()
    ) -> timedelta:
        """Office time between two instants, less the paused part (negative when b < a)."""
        begin, end = _utc(a, "a"), _utc(b, "b")
        if end < begin:
            return -self.working_time_between(b, a, pauses)
        stops = _merge_pauses(pauses)
        total = timedelta(0)
        for lo, hi in self._counting_intervals(begin, stops):
            if lo >= end:
                break
            total += min(hi, end) - lo
        return total

    def working_hours_between(
        self, a: datetime, b: datetime, pauses: Sequence[Pause] = ()
    ) -> float:
        return self.working_time_between(a, b, pauses) / timedelta(hours=1)

    # --- pauses ----------------------------------------------------------------------------

    def deadline_with_pauses(
        self,
        start: date | datetime,
        *,
        days: int | None = None,
        hours: int | float | Decimal | None = None,
        pauses: Sequence[Pause] = (),
    ) -> Deadline:
        """A deadline of ``days`` working days or ``hours`` office hours, with the clock stopped
        during ``pauses`` (see the module docstring for what a paused day is)."""
        if hours is not None and days is None:
            if not isinstance(start, datetime):
                raise CalendarInvalid(
                    "core.calendar_naive", _("按工作小时计算时，起算时间须含时区。"), field="start"
                )
            return self.add_working_hours(start, hours, pauses)
        if days is not None and hours is None:
            paused = [
                (_local_date(p0, "pause"), _local_date(p1, "pause"))
                for p0, p1 in _checked_pauses(pauses)
            ]
            return self._add_days(_local_date(start), _non_negative(days, "days"), paused)
        raise CalendarInvalid(
            "core.calendar_unit", _("时限须以工作日或工作小时之一计算。"), field="days"
        )

    # --- internals -------------------------------------------------------------------------

    def _add_days(self, start: date, days: int, paused: Sequence[tuple[date, date]]) -> Deadline:
        d = start
        remaining = days
        while remaining > 0:
            d += _ONE_DAY
            if self.is_working_day(d) and not any(p0 < d <= p1 for p0, p1 in paused):
                remaining -= 1
        if days == 0:
            return Deadline(due=start)
        return self._deadline(d, (start + _ONE_DAY).year, d)

    def _deadline(self, due: datetime | date, first_year: int, last: datetime | date) -> Deadline:
        last_year = last.astimezone(SHANGHAI).year if isinstance(last, datetime) else last.year
        years = self._unofficial(first_year, last_year)
        return Deadline(due=due, provisional=bool(years), provisional_years=years)

    def _unofficial(self, first_year: int, last_year: int) -> tuple[int, ...]:
        return tuple(y for y in range(first_year, last_year + 1) if y not in self.official_years)

    def _office_intervals(self, first: date) -> Iterator[tuple[datetime, datetime]]:
        """Office periods in UTC from ``first`` on, forever."""
        d = first
        while True:
            if self.is_working_day(d):
                for t0, t1 in self.office_hours:
                    # Via the zone, not by adding hours: Shanghai kept DST in 1986–1991.
                    yield (
                        datetime.combine(d, t0, SHANGHAI).astimezone(UTC),
                        datetime.combine(d, t1, SHANGHAI).astimezone(UTC),
                    )
            d += _ONE_DAY

    def _counting_intervals(
        self, begin: datetime, stops: Sequence[tuple[datetime, datetime]]
    ) -> Iterator[tuple[datetime, datetime]]:
        """Office time from ``begin`` on, with the paused parts cut out, in order."""
        for lo, hi in self._office_intervals(begin.astimezone(SHANGHAI).date()):
            if hi <= begin:
                continue
            yield from _subtract((max(lo, begin), hi), stops)


# --- loading from the database, cached per process ------------------------------------------

_cache_lock = threading.Lock()
memo_invalidated_by(CalendarDay, CalendarYear)  # an edit in the request shows at once
_cache: tuple[tuple[Any, ...], WorkCalendar] | None = None


def office_hours_from_settings() -> tuple[tuple[time, time], ...]:
    """``settings.YIWANG_OFFICE_HOURS`` as [("09:00", "12:00"), ...], or the default."""
    configured = getattr(settings, "YIWANG_OFFICE_HOURS", None)
    if not configured:
        return DEFAULT_OFFICE_HOURS
    hours = tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in configured)
    _check_office_hours(hours)
    return hours


def _stamp() -> tuple[Any, ...]:
    # Any save through the ORM moves max(updated_at); a delete moves the count. Read the stamp
    # before the rows, so a change racing the load leaves a stale stamp and forces a reload.
    # Both tables in one round trip: every dispatch of a work order and every acceptance of an
    # application pays for this stamp. The values are only compared with the previous stamp.
    parts = []
    for model in (CalendarDay, CalendarYear):
        table = connection.ops.quote_name(model._meta.db_table)
        updated = connection.ops.quote_name(str(model._meta.get_field("updated_at").column))
        parts += [f"(SELECT COUNT(*) FROM {table})", f"(SELECT MAX({updated}) FROM {table})"]  # noqa: S608 (model names)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts))
        row = cursor.fetchone()
    return (*row, office_hours_from_settings())


def work_calendar_load() -> WorkCalendar:
    """The calendar as the tables hold it now: one cheap aggregate query when nothing changed,
    a full read after any edit (in this process or another); once per request."""
    return request_memo(("core.calendar",), _calendar_load)


def _calendar_load() -> WorkCalendar:
    global _cache
    stamp = _stamp()
    cached = _cache
    if cached is not None and cached[0] == stamp:
        return cached[1]
    rows = list(CalendarDay.objects.values_list("date", "kind", "name"))
    calendar = WorkCalendar(
        holidays=frozenset(d for d, kind, _n in rows if kind == CalendarDay.Kind.HOLIDAY),
        workdays=frozenset(d for d, kind, _n in rows if kind == CalendarDay.Kind.WORKDAY),
        official_years=frozenset(
            CalendarYear.objects.filter(official=True).values_list("year", flat=True)
        ),
        office_hours=stamp[-1],
        names={d: name for d, _k, name in rows if name},
    )
    with _cache_lock:
        _cache = (stamp, calendar)
    return calendar


# --- the yearly reminder --------------------------------------------------------------------


def calendar_next_year_check(*, today: date) -> str | None:
    """In November and December, warn administrators while next year's arrangement is missing.

    Returns the warning (or None when all is well). The notice goes to the outbox once per year
    and day, however often the job runs; delivery is the outbox's business.
    """
    if today.month < 11:
        return None
    year = today.year + 1
    if CalendarYear.objects.filter(year=year, official=True).exists():
        return None
    title = str(_("{year} 年节假日安排尚未载入").format(year=year))
    body = str(
        _(
            "{year} 年的国务院节假日安排尚未录入工作日历。请在管理后台录入节假日与调休上班日，"
            "并将 {year} 年标记为“已载入”。在此之前，涉及 {year} 年的办理时限仅按周末计算，"
            "并标注为暂定。"
        ).format(year=year)
    )
    dedupe_key = f"calendar.next_year_missing:{year}:{today.isoformat()}"
    with transaction.atomic():
        already = OutboxMessage.objects.filter(
            topic=ADMIN_NOTICE_TOPIC, payload__dedupe_key=dedupe_key
        ).exists()
        if not already:
            outbox_enqueue(
                topic=ADMIN_NOTICE_TOPIC,
                payload={"title": title, "body": body, "dedupe_key": dedupe_key, "year": year},
            )
            logger.warning("calendar: no official holiday arrangement for %s yet", year)
    return body


# --- helpers ---------------------------------------------------------------------------------


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise CalendarInvalid(
            "core.calendar_naive", _("时间须含时区（{name}）。").format(name=name), field=name
        )
    return value


def _utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise CalendarInvalid(
            "core.calendar_naive", _("时间须含时区（{name}）。").format(name=name), field=name
        )
    return _aware(value, name).astimezone(UTC)


def _local_date(value: date | datetime, name: str = "start") -> date:
    if isinstance(value, datetime):
        return _aware(value, name).astimezone(SHANGHAI).date()
    return value


def _non_negative(n: int, name: str) -> int:
    if n < 0:
        raise CalendarInvalid("core.calendar_negative", _("时限不能为负数。"), field=name)
    return n


def _days(first: date, last: date) -> Iterator[date]:
    d = first
    while d <= last:
        yield d
        d += _ONE_DAY


def _checked_pauses(pauses: Iterable[Pause]) -> list[Pause]:
    checked = list(pauses)
    for p0, p1 in checked:
        if isinstance(p0, datetime) != isinstance(p1, datetime):
            raise CalendarInvalid(
                "core.calendar_pause", _("暂停区间的起止须同为日期或同为时间。"), field="pauses"
            )
        if isinstance(p0, datetime) and isinstance(p1, datetime):
            _aware(p0, "pauses")
            _aware(p1, "pauses")
        if p1 < p0:
            raise CalendarInvalid(
                "core.calendar_pause", _("暂停区间的结束早于开始。"), field="pauses"
            )
    return checked


def _merge_pauses(pauses: Sequence[Pause]) -> list[tuple[datetime, datetime]]:
    """Pauses as sorted, disjoint UTC intervals."""
    spans = []
    for p0, p1 in _checked_pauses(pauses):
        if not isinstance(p0, datetime) or not isinstance(p1, datetime):
            raise CalendarInvalid(
                "core.calendar_pause",
                _("按工作小时计算时，暂停区间须为含时区的时间。"),
                field="pauses",
            )
        spans.append((_utc(p0, "pause"), _utc(p1, "pause")))
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _subtract(
    span: tuple[datetime, datetime], stops: Sequence[tuple[datetime, datetime]]
) -> Iterator[tuple[datetime, datetime]]:
    lo, hi = span
    for s0, s1 in stops:
        if s1 <= lo or s0 >= hi:
            continue
        if s0 > lo:
            yield (lo, s0)
        lo = max(lo, s1)
        if lo >= hi:
            return
    if lo < hi:
        yield (lo, hi)


def _check_office_hours(hours: tuple[tuple[time, time], ...]) -> None:
    previous_end: time | None = None
    for t0, t1 in hours:
        if t0 >= t1 or (previous_end is not None and t0 < previous_end):
            raise CalendarInvalid(
                "core.calendar_office_hours",
                _("办公时间须为按时间先后排列、互不重叠的时段。"),
                field="office_hours",
            )
        previous_end = t1
    if previous_end is None:
        raise CalendarInvalid(
            "core.calendar_office_hours", _("至少需要一个办公时段。"), field="office_hours"
        )
