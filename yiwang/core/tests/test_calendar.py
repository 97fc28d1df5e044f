"""The working-day calendar against real arrangements, loaded from the seeded tables."""

from __future__ import annotations

import importlib
import logging
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.apps import apps as django_apps
from django.test import override_settings

from yiwang.core.calendar import (
    ADMIN_NOTICE_TOPIC,
    SHANGHAI,
    CalendarInvalid,
    Deadline,
    WorkCalendar,
    calendar_next_year_check,
    work_calendar_load,
)
from yiwang.core.models import CalendarDay, CalendarYear, OutboxMessage
from yiwang.core.tests.test_calendar_properties import CAL as CHINESE_CALENDAR

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def seeded(db):
    """The seed migration's rows; a transactional test elsewhere may have flushed them."""
    if not CalendarYear.objects.exists():
        seed = importlib.import_module("yiwang.core.migrations.0002_calendar_seed")
        seed.seed(django_apps, None)


@pytest.fixture
def cal() -> WorkCalendar:
    return work_calendar_load()


def shanghai(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0):
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


# --- the seed ---------------------------------------------------------------------------------


def test_the_seed_loads_every_chinese_calendar_date_for_2004_to_2026(cal):
    assert cal == CHINESE_CALENDAR
    assert sorted(CalendarYear.objects.values_list("year", flat=True)) == list(range(2004, 2027))
    assert set(CalendarYear.objects.values_list("official", "source")) == {(True, "seed")}
    assert not CalendarDay.objects.exclude(source="seed").exists()


def test_the_seed_names_days_in_chinese(cal):
    assert cal.holiday_name(date(2025, 10, 1)) == "国庆节"
    assert cal.holiday_name(date(2025, 10, 6)) == "中秋节"
    assert cal.holiday_name(date(2024, 9, 29)) == "国庆节"
    assert cal.holiday_name(date(2026, 2, 17)) == "春节"
    assert cal.holiday_name(date(2015, 9, 3)).startswith("中国人民抗日战争")
    assert cal.holiday_name(date(2024, 9, 30)) == ""
    assert CalendarDay.objects.get(date=date(2024, 9, 29)).kind == CalendarDay.Kind.WORKDAY


def test_the_seed_migration_reverses_and_reapplies():
    seed = importlib.import_module("yiwang.core.migrations.0002_calendar_seed")
    count = CalendarDay.objects.count()
    seed.unseed(django_apps, None)
    assert not CalendarDay.objects.exists()
    assert not CalendarYear.objects.exists()
    seed.seed(django_apps, None)
    seed.seed(django_apps, None)  # idempotent: no duplicate dates
    assert CalendarDay.objects.count() == count
    assert CalendarYear.objects.count() == 23


# --- real cases -------------------------------------------------------------------------------


def test_national_day_2024_with_its_sunday_make_up_day(cal):
    assert cal.is_working_day(date(2024, 9, 29))  # Sunday, 调休上班
    assert all(not cal.is_working_day(date(2024, 10, d)) for d in range(1, 8))
    assert cal.is_working_day(date(2024, 10, 12))  # Saturday, 调休上班
    # Submitted Friday 27 September: Sunday 29th is day 1, Monday 30th day 2, 8 October day 3.
    assert cal.add_working_days(date(2024, 9, 27), 3) == Deadline(due=date(2024, 10, 8))
    assert cal.working_days_between(date(2024, 9, 27), date(2024, 10, 8)) == 3


def test_national_day_2025_merged_with_mid_autumn(cal):
    assert all(not cal.is_working_day(date(2025, 10, d)) for d in range(1, 9))
    assert cal.is_working_day(date(2025, 9, 28))  # Sunday
    assert cal.is_working_day(date(2025, 10, 11))  # Saturday
    assert cal.add_working_days(date(2025, 9, 30), 1).due == date(2025, 10, 9)
    assert cal.add_working_days(date(2025, 9, 30), 3).due == date(2025, 10, 11)
    # 28 and 29 and 30 September, 9, 10 and 11 October.
    assert cal.working_days_between(date(2025, 9, 26), date(2025, 10, 12)) == 6


def test_spring_festival_2026(cal):
    assert all(not cal.is_working_day(date(2026, 2, d)) for d in range(15, 24))
    assert cal.is_working_day(date(2026, 2, 14))  # Saturday before
    assert cal.is_working_day(date(2026, 2, 28))  # Saturday after
    assert cal.add_working_days(date(2026, 2, 13), 1).due == date(2026, 2, 14)
    assert cal.add_working_days(date(2026, 2, 13), 2).due == date(2026, 2, 24)


def test_the_first_day_never_counts_even_when_submitted_at_dawn(cal):
    # 00:30 on Monday 2 March 2026 in Shanghai is still Sunday 1 March in UTC.
    submitted = shanghai(2026, 3, 2, 0, 30)
    assert cal.add_working_days(submitted, 1).due == date(2026, 3, 3)
    assert cal.add_working_days(date(2026, 3, 1), 1).due == date(2026, 3, 2)
    assert cal.add_working_days(submitted, 0).due == date(2026, 3, 2)


def test_working_hours_skip_lunch_evenings_and_holidays(cal):
    # 16:30 on the last working day before National Day 2024: one hour that day, one after.
    due = cal.add_working_hours(shanghai(2024, 9, 30, 16, 30), 2)
    assert due == Deadline(due=datetime(2024, 10, 8, 2, 0, tzinfo=UTC))  # 10:00 in Shanghai
    assert cal.add_working_hours(shanghai(2026, 3, 2, 12, 10), 1).due == shanghai(
        2026, 3, 2, 14, 30
    ).astimezone(UTC)
    # Ending exactly at noon stays at noon; it does not jump to 13:30.
    assert cal.add_working_hours(shanghai(2026, 3, 2, 9), 3).due == shanghai(2026, 3, 2, 12)
    assert cal.working_hours_between(shanghai(2026, 3, 2, 8), shanghai(2026, 3, 3, 8)) == 7.0
    assert cal.working_hours_between(shanghai(2026, 3, 3, 8), shanghai(2026, 3, 2, 8)) == -7.0


def test_pauses_stop_the_clock(cal):
    start = shanghai(2026, 3, 2, 9)  # Monday
    # A supplement request from Monday 10:00 to Wednesday 10:00 stops 14 office hours.
    pause = (shanghai(2026, 3, 2, 10), shanghai(2026, 3, 4, 10))
    deadline = cal.deadline_with_pauses(start, hours=2, pauses=[pause])
    assert deadline.due == shanghai(2026, 3, 4, 11).astimezone(UTC)
    # In days: the pause covers Tuesday 3rd and Wednesday 4th (restart day), so 2 days end on Fri.
    assert cal.deadline_with_pauses(date(2026, 3, 2), days=2, pauses=[pause]).due == date(
        2026, 3, 6
    )
    assert cal.deadline_with_pauses(
        date(2026, 3, 2), days=2, pauses=[(date(2026, 3, 2), date(2026, 3, 4))]
    ).due == date(2026, 3, 6)


def test_a_deadline_reaching_into_2027_is_provisional(cal):
    assert cal.is_working_day(date(2027, 1, 1))  # weekends only: a Friday, though 元旦
    assert not cal.is_working_day(date(2026, 1, 1))
    deadline = cal.add_working_days(date(2026, 12, 1), 30)
    assert deadline == Deadline(due=date(2027, 1, 12), provisional=True, provisional_years=(2027,))
    assert cal.add_working_days(date(2026, 12, 1), 5).provisional is False
    hours = cal.add_working_hours(shanghai(2026, 12, 31, 17), 1)
    assert hours.provisional_years == (2027,)
    assert cal.provisional_years_between(date(2026, 6, 1), date(2028, 1, 1)) == (2027, 2028)


def test_deadline_is_overdue_after_its_day_or_instant():
    by_day = Deadline(due=date(2026, 3, 2))
    assert not by_day.is_overdue(now=shanghai(2026, 3, 2, 23, 59))
    assert by_day.is_overdue(now=shanghai(2026, 3, 3, 0, 0))
    by_hour = Deadline(due=shanghai(2026, 3, 2, 12).astimezone(UTC))
    assert not by_hour.is_overdue(now=shanghai(2026, 3, 2, 12))
    assert by_hour.is_overdue(now=shanghai(2026, 3, 2, 12, 0, 1))


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda c: c.add_working_days(date(2026, 3, 2), -1), "core.calendar_negative"),
        (lambda c: c.add_working_hours(shanghai(2026, 3, 2), -0.5), "core.calendar_negative"),
        (
            lambda c: c.add_working_hours(shanghai(2026, 3, 2), float("nan")),
            "core.calendar_not_finite",
        ),
        (lambda c: c.add_working_hours(datetime(2026, 3, 2, 9), 1), "core.calendar_naive"),  # noqa: DTZ001
        (lambda c: c.add_working_days(datetime(2026, 3, 2, 9), 1), "core.calendar_naive"),  # noqa: DTZ001
        (lambda c: c.deadline_with_pauses(date(2026, 3, 2), hours=1), "core.calendar_naive"),
        (lambda c: c.deadline_with_pauses(date(2026, 3, 2)), "core.calendar_unit"),
        (
            lambda c: c.deadline_with_pauses(date(2026, 3, 2), days=1, hours=1),
            "core.calendar_unit",
        ),
        (
            lambda c: c.deadline_with_pauses(
                date(2026, 3, 2), days=1, pauses=[(date(2026, 3, 4), date(2026, 3, 3))]
            ),
            "core.calendar_pause",
        ),
        (
            lambda c: c.add_working_hours(
                shanghai(2026, 3, 2), 1, [(date(2026, 3, 2), date(2026, 3, 3))]
            ),
            "core.calendar_pause",
        ),
        (
            lambda c: c.deadline_with_pauses(
                date(2026, 3, 2), days=1, pauses=[(date(2026, 3, 2), shanghai(2026, 3, 3))]
            ),
            "core.calendar_pause",
        ),
        (
            lambda c: c.deadline_with_pauses(
                date(2026, 3, 2),
                days=1,
                pauses=[(datetime(2026, 3, 2), shanghai(2026, 3, 3))],  # noqa: DTZ001
            ),
            "core.calendar_naive",
        ),
    ],
)
def test_bad_arguments_are_refused_with_a_code_and_a_message(cal, call, code):
    with pytest.raises(CalendarInvalid) as refused:
        call(cal)
    assert refused.value.code == code
    assert str(refused.value.message)


def test_bad_office_hours_are_refused():
    with pytest.raises(CalendarInvalid) as refused:
        WorkCalendar(office_hours=((time(9), time(12)), (time(11), time(17))))
    assert refused.value.code == "core.calendar_office_hours"
    with pytest.raises(CalendarInvalid):
        WorkCalendar(office_hours=())


# --- loading and the cache --------------------------------------------------------------------


def test_an_unchanged_calendar_is_reused_after_one_small_query(django_assert_num_queries):
    first = work_calendar_load()
    with django_assert_num_queries(1):  # the stamp of both tables
        assert work_calendar_load() is first


def test_editing_the_table_changes_the_next_load():
    before = work_calendar_load()
    assert before.is_working_day(date(2025, 10, 9))

    day = CalendarDay.objects.create(date=date(2025, 10, 9), kind="holiday", name="测试")
    assert not work_calendar_load().is_working_day(date(2025, 10, 9))

    day.kind = CalendarDay.Kind.WORKDAY
    day.save()
    assert work_calendar_load().is_working_day(date(2025, 10, 9))

    CalendarDay.objects.filter(date=date(2024, 9, 29)).delete()
    assert not work_calendar_load().is_working_day(date(2024, 9, 29))


def test_days_entered_for_an_unofficial_year_apply_only_once_it_is_official():
    CalendarDay.objects.create(date=date(2027, 1, 1), kind="holiday", name="元旦")
    assert work_calendar_load().is_working_day(date(2027, 1, 1))
    assert work_calendar_load().add_working_days(date(2026, 12, 31), 1).due == date(2027, 1, 1)

    year = CalendarYear.objects.create(year=2027, official=False, source="admin")
    assert work_calendar_load().is_working_day(date(2027, 1, 1))

    year.official = True
    year.save()
    cal = work_calendar_load()
    assert not cal.is_working_day(date(2027, 1, 1))
    assert cal.add_working_days(date(2026, 12, 31), 1) == Deadline(due=date(2027, 1, 4))


@override_settings(YIWANG_OFFICE_HOURS=[("08:30", "12:00"), ("14:30", "17:30")])
def test_office_hours_come_from_settings():
    cal = work_calendar_load()
    assert cal.office_hours == ((time(8, 30), time(12)), (time(14, 30), time(17, 30)))
    assert cal.add_working_hours(shanghai(2026, 3, 2, 11), 2).due == shanghai(2026, 3, 2, 15, 30)


# --- the yearly reminder ----------------------------------------------------------------------


def test_the_reminder_is_silent_before_november():
    assert calendar_next_year_check(today=date(2026, 10, 31)) is None
    assert calendar_next_year_check(today=date(2027, 1, 1)) is None
    assert not OutboxMessage.objects.exists()


def test_the_reminder_queues_one_notice_per_day_in_november_and_december(caplog):
    with caplog.at_level(logging.WARNING, logger="yiwang.core.calendar"):
        text = calendar_next_year_check(today=date(2026, 11, 1))
    assert text is not None
    assert "2027" in text
    notice = OutboxMessage.objects.get()
    assert notice.topic == ADMIN_NOTICE_TOPIC
    assert notice.status == OutboxMessage.Status.PENDING
    assert notice.payload["title"] == "2027 年节假日安排尚未载入"
    assert notice.payload["body"] == text
    assert [r.levelname for r in caplog.records] == ["WARNING"]

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="yiwang.core.calendar"):
        assert calendar_next_year_check(today=date(2026, 11, 1)) == text
    assert OutboxMessage.objects.count() == 1
    assert caplog.records == []

    assert calendar_next_year_check(today=date(2026, 12, 31)) == text
    assert OutboxMessage.objects.count() == 2


def test_the_reminder_fires_for_an_unofficial_year_and_stops_once_it_is_official():
    year = CalendarYear.objects.create(year=2027, official=False, source="admin")
    assert calendar_next_year_check(today=date(2026, 11, 26)) is not None
    year.official = True
    year.save()
    assert calendar_next_year_check(today=date(2026, 11, 27)) is None
    assert calendar_next_year_check(today=date(2025, 12, 1)) is None  # 2026 is seeded
    assert OutboxMessage.objects.count() == 1


def test_loaded_calendars_use_utc_and_shanghai_consistently(cal):
    # 23:30 UTC on Sunday 1 March is 07:30 on Monday 2 March in Shanghai.
    start = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    assert cal.add_working_hours(start, 1).due == datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    assert cal.is_working_day(start)
    assert cal.working_time_between(start, start + timedelta(days=1)) == timedelta(hours=7)
