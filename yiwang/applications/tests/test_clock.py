"""Time limits: due dates with pauses and the traffic light (pure, on a hand-made calendar)."""

from __future__ import annotations

from datetime import date, datetime

from yiwang.applications.clock import Limit, limit_due, traffic_light, working_days_used
from yiwang.core.calendar import SHANGHAI, WorkCalendar

# 2026-10-01..07 National Day holidays, with a make-up working day on Saturday 2026-10-10.
CAL = WorkCalendar(
    holidays=frozenset(date(2026, 10, d) for d in range(1, 8)),
    workdays=frozenset({date(2026, 10, 10)}),
    official_years=frozenset({2026}),
)


def at(day: int, month: int = 11, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SHANGHAI)


def due(*args, **kwargs) -> date | datetime:
    deadline = limit_due(*args, **kwargs)
    assert deadline is not None
    return deadline.due


def test_working_days_skip_weekends_and_the_start_day():
    # Monday 2026-11-23 + 5 working days = Monday 2026-11-30
    assert due(CAL, at(23), Limit(5, "working_day")) == date(2026, 11, 30)


def test_holidays_and_make_up_days_count_as_the_calendar_says():
    # Wednesday 2026-09-30 + 3: Oct 8 (Thu), 9 (Fri), 10 (make-up Saturday)
    assert due(CAL, at(30, 9), Limit(3, "working_day")) == date(2026, 10, 10)


def test_a_pause_moves_the_due_date_by_the_paused_working_days():
    pauses = [(at(24), at(26))]  # removes Wed 25 and Thu 26
    assert due(CAL, at(23), Limit(5, "working_day"), pauses) == date(2026, 12, 2)


def test_natural_days_are_lengthened_by_paused_days():
    pauses = [(at(24), at(26))]
    assert due(CAL, at(23), Limit(10, "natural_day"), pauses) == date(2026, 12, 5)


def test_immediate_items_are_due_the_same_day_and_no_limit_is_none():
    assert due(CAL, at(23), Limit(None, "immediate")) == date(2026, 11, 23)
    assert limit_due(CAL, at(23), Limit(None, "")) is None


def test_working_days_used_leaves_out_pauses():
    assert working_days_used(CAL, at(23), at(27)) == 4
    assert working_days_used(CAL, at(23), at(27), [(at(24), at(25))]) == 3


def test_traffic_light_green_yellow_red():
    start, due = at(23), date(2026, 11, 30)  # five working days
    assert traffic_light(CAL, start=start, due=due, now=at(24)) == "green"  # 1/5
    assert traffic_light(CAL, start=start, due=due, now=at(27)) == "yellow"  # 4/5
    assert traffic_light(CAL, start=start, due=due, now=at(30)) == "yellow"  # last day
    assert traffic_light(CAL, start=start, due=due, now=at(1, 12)) == "red"
    assert traffic_light(CAL, start=None, due=due, now=at(24)) == "none"
