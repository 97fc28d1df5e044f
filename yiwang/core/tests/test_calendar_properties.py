"""Properties of the deadline arithmetic, on a calendar built straight from chinese-calendar
(the same data the seed migration loads; test_calendar.py checks that they agree)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import chinese_calendar
from hypothesis import given, settings
from hypothesis import strategies as st

from yiwang.core.calendar import SHANGHAI, Deadline, WorkCalendar

SEED_YEARS = range(2004, 2027)
CAL = WorkCalendar(
    holidays=frozenset(d for d in chinese_calendar.holidays if d.year in SEED_YEARS),
    workdays=frozenset(d for d in chinese_calendar.workdays if d.year in SEED_YEARS),
    official_years=frozenset(SEED_YEARS),
)
ONE_DAY = timedelta(days=1)
TINY = timedelta(microseconds=1)

dates = st.dates(min_value=date(2003, 6, 1), max_value=date(2027, 12, 31))
day_counts = st.integers(min_value=0, max_value=300)
instants = st.datetimes(
    min_value=datetime(2003, 6, 1),  # noqa: DTZ001  # hypothesis bounds are naive by design
    max_value=datetime(2027, 12, 31),  # noqa: DTZ001
    timezones=st.just(SHANGHAI),
    allow_imaginary=False,
)
durations = st.integers(min_value=0, max_value=7 * 60 * 40).map(lambda m: timedelta(minutes=m))

calendar_settings = settings(deadline=None, max_examples=150)


def _in_office_period(cal: WorkCalendar, instant: datetime) -> bool:
    local = instant.astimezone(SHANGHAI)
    if not cal.is_working_day(local.date()):
        return False
    return any(t0 < local.time() <= t1 for t0, t1 in cal.office_hours)


# --- days -------------------------------------------------------------------------------------


@calendar_settings
@given(start=dates, n=day_counts)
def test_adding_n_working_days_then_counting_gives_n(start, n):
    deadline = CAL.add_working_days(start, n)
    assert CAL.working_days_between(start, deadline.due) == n


@calendar_settings
@given(start=dates, n=st.integers(min_value=1, max_value=300))
def test_a_deadline_lands_on_the_first_working_day_that_completes_n(start, n):
    due = CAL.add_working_days(start, n).due
    assert isinstance(due, date)
    assert due > start
    assert CAL.is_working_day(due)
    assert CAL.working_days_between(start, due - ONE_DAY) == n - 1


@calendar_settings
@given(start=dates, n=day_counts, later_by=st.integers(min_value=0, max_value=40))
def test_deadlines_are_monotonic_in_length_and_start(start, n, later_by):
    due = CAL.add_working_days(start, n).due
    assert CAL.add_working_days(start, n + 1).due > due
    assert CAL.add_working_days(start + timedelta(days=later_by), n).due >= due


@calendar_settings
@given(a=dates, b=dates)
def test_counting_between_is_antisymmetric_and_additive(a, b):
    assert CAL.working_days_between(a, b) == -CAL.working_days_between(b, a)
    middle = min(a, b) + (max(a, b) - min(a, b)) / 2
    low, high = min(a, b), max(a, b)
    assert CAL.working_days_between(low, high) == CAL.working_days_between(
        low, middle
    ) + CAL.working_days_between(middle, high)


@calendar_settings
@given(start=dates, n=day_counts)
def test_provisional_exactly_when_the_counted_days_cross_a_year_without_a_calendar(start, n):
    deadline = CAL.add_working_days(start, n)
    assert isinstance(deadline.due, date)
    counted_years = set(range((start + ONE_DAY).year, deadline.due.year + 1)) if n else set()
    expected = tuple(sorted(counted_years - set(SEED_YEARS)))
    assert deadline.provisional_years == expected
    assert deadline.provisional is bool(expected)


@calendar_settings
@given(day=st.dates(min_value=date(2027, 1, 1), max_value=date(2030, 12, 31)))
def test_a_year_without_a_calendar_uses_weekends_only(day):
    assert CAL.is_working_day(day) is (day.weekday() < 5)


# --- hours ------------------------------------------------------------------------------------


@calendar_settings
@given(start=instants, duration=durations)
def test_adding_working_time_then_measuring_gives_it_back(start, duration):
    deadline = CAL.add_working_time(start, duration)
    assert isinstance(deadline.due, datetime)
    assert deadline.due.tzinfo == UTC
    assert CAL.working_time_between(start, deadline.due) == duration


@calendar_settings
@given(start=instants, duration=durations.filter(bool))
def test_an_hour_deadline_is_the_earliest_instant_and_lies_in_office_hours(start, duration):
    due = CAL.add_working_time(start, duration).due
    assert isinstance(due, datetime)
    assert due > start
    assert _in_office_period(CAL, due)
    assert CAL.working_time_between(start, due - TINY) < duration


@calendar_settings
@given(start=instants, duration=durations, more=durations)
def test_hour_deadlines_are_monotonic(start, duration, more):
    due = CAL.add_working_time(start, duration).due
    assert CAL.add_working_time(start, duration + more).due >= due


@calendar_settings
@given(start=instants, hours=st.integers(min_value=0, max_value=200))
def test_working_hours_and_working_time_agree(start, hours):
    due = CAL.add_working_hours(start, hours).due
    assert isinstance(due, datetime)
    assert CAL.working_hours_between(start, due) == hours


# --- pauses -----------------------------------------------------------------------------------


@st.composite
def disjoint_pauses(draw, start: datetime) -> list[tuple[datetime, datetime]]:
    """A few sorted, disjoint pauses near ``start`` (some before it, most after)."""
    cursor = start - timedelta(days=draw(st.integers(min_value=0, max_value=5)))
    pauses = []
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        cursor += timedelta(minutes=draw(st.integers(min_value=0, max_value=60 * 24 * 10)))
        end = cursor + timedelta(minutes=draw(st.integers(min_value=0, max_value=60 * 24 * 15)))
        pauses.append((cursor, end))
        cursor = end
    return pauses


@calendar_settings
@given(data=st.data(), start=instants, duration=durations.filter(bool))
def test_hour_pauses_extend_the_deadline_by_exactly_the_paused_working_time(data, start, duration):
    pauses = data.draw(disjoint_pauses(start))
    due = CAL.add_working_time(start, duration, pauses).due
    assert isinstance(due, datetime)
    paused = sum(
        (
            CAL.working_time_between(max(p0, start), min(p1, due))
            for p0, p1 in pauses
            if min(p1, due) > max(p0, start)
        ),
        timedelta(0),
    )
    assert CAL.working_time_between(start, due) == duration + paused
    assert CAL.working_time_between(start, due, pauses) == duration
    assert CAL.add_working_time(start, duration + paused).due == due
    assert not any(p0 <= due - TINY < p1 for p0, p1 in pauses)


@calendar_settings
@given(
    start=dates,
    n=st.integers(min_value=1, max_value=200),
    spans=st.lists(
        st.tuples(st.integers(min_value=-5, max_value=200), st.integers(min_value=0, max_value=30)),
        max_size=4,
    ),
)
def test_day_pauses_extend_the_deadline_by_exactly_the_paused_working_days(start, n, spans):
    pauses = [
        (start + timedelta(days=offset), start + timedelta(days=offset + length))
        for offset, length in spans
    ]
    due = CAL.deadline_with_pauses(start, days=n, pauses=pauses).due
    assert isinstance(due, date)

    def paused(d: date) -> bool:
        return any(p0 < d <= p1 for p0, p1 in pauses)

    skipped = sum(
        1
        for k in range(1, (due - start).days + 1)
        if CAL.is_working_day(start + timedelta(days=k)) and paused(start + timedelta(days=k))
    )
    assert due == CAL.add_working_days(start, n + skipped).due
    assert CAL.is_working_day(due)
    assert not paused(due)


@calendar_settings
@given(start=instants, duration=durations)
def test_no_pauses_means_the_plain_deadline(start, duration):
    assert CAL.deadline_with_pauses(
        start, hours=duration / timedelta(hours=1), pauses=[]
    ) == CAL.add_working_hours(start, duration / timedelta(hours=1))


def test_deadline_is_a_value():
    assert Deadline(due=date(2026, 1, 5)) == Deadline(date(2026, 1, 5), False, ())
    assert CAL.office_hours == ((time(9), time(12)), (time(13, 30), time(17, 30)))
