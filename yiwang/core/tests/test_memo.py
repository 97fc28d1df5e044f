"""The request-scoped memo: once per request, forgotten on a change, never across requests."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext

from yiwang.core.calendar import work_calendar_load
from yiwang.core.memo import memo_forget, request_memo
from yiwang.core.models import CalendarDay, CalendarYear


class RequestBrackets:
    """Brackets the body like a request: the signals Django's handlers send (without closing
    the test's database connection, as Django's test client does)."""

    def __enter__(self) -> None:
        request_started.disconnect(close_old_connections)
        request_started.send(sender=self.__class__, environ={})

    def __exit__(self, *exc: object) -> None:
        request_finished.disconnect(close_old_connections)
        try:
            request_finished.send(sender=self.__class__)
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


def test_outside_a_request_every_call_computes():
    calls = []
    request_memo(("test",), lambda: calls.append(1))
    request_memo(("test",), lambda: calls.append(1))
    assert len(calls) == 2


@pytest.mark.django_db
def test_inside_a_request_once_and_never_into_the_next():
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    with RequestBrackets():
        assert request_memo(("test",), compute) == 1
        assert request_memo(("test",), compute) == 1
        assert request_memo(("other",), compute) == 2
        memo_forget()
        assert request_memo(("test",), compute) == 3
    with RequestBrackets():
        assert request_memo(("test",), compute) == 4
    assert request_memo(("test",), compute) == 5  # after the request: no memo at all


@pytest.mark.django_db
def test_calendar_once_per_request_and_an_edit_in_the_request_is_seen():
    CalendarYear.objects.create(year=2030, official=True, source="admin")
    with RequestBrackets():
        before = work_calendar_load()
        with CaptureQueriesContext(connection) as again:
            assert work_calendar_load() is before
        assert len(again) == 0
        CalendarDay.objects.create(
            date=date(2030, 10, 8), kind=CalendarDay.Kind.HOLIDAY, name="国庆节", source="admin"
        )
        after = work_calendar_load()
        assert date(2030, 10, 8) not in before.holidays
        assert date(2030, 10, 8) in after.holidays
