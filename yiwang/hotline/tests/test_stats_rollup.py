"""The figures' monthly rollup gives exactly what counting every order gives, on generated
orders and on the edge cases (reopened, extended, merged, transferred, on a month's edges), and
stays exact when an order changes after its month was rolled up, however it is written."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command

from yiwang.core.calendar import SHANGHAI
from yiwang.hotline.models import StatsMonth, StatsRollup, StatsStale, WorkOrder
from yiwang.hotline.stats import (
    Period,
    Report,
    city_today,
    hotline_stats,
)
from yiwang.hotline.stats import stats_rollup_refresh as stats_rollup
from yiwang.hotline.tests.conftest import World

Status = WorkOrder.Status
_serial = iter(range(1, 10_000))


def _figures(report: Report) -> dict[str, Any]:
    return {
        "total": asdict(report.total),
        "by_unit": [asdict(f) for f in report.by_unit],
        "by_category": [asdict(f) for f in report.by_category],
    }


def _same(user: Any, period: Period, now: datetime) -> Report:
    """The report through the rollup, after checking it against the live count."""
    rolled = hotline_stats(user=user, period=period, now=now)
    live = hotline_stats(user=user, period=period, now=now, live_only=True)
    assert _figures(rolled) == _figures(live)
    return rolled


def _order(**fields: Any) -> WorkOrder:
    values: dict[str, Any] = {
        "number": f"GDROLL{next(_serial):06d}",
        "channel": WorkOrder.Channel.PHONE,
        "title": "路灯不亮",
        "content": "小区门口路灯不亮",
        "status": Status.CLOSED,
    }
    values.update(fields)
    return WorkOrder.objects.create(**values)


def _closed(unit: Any, category: Any, registered: datetime, **fields: Any) -> WorkOrder:
    values: dict[str, Any] = {
        "lead_unit": unit,
        "category": category,
        "registered_at": registered,
        "dispatched_at": registered,
        "sign_due": registered + timedelta(hours=2),
        "signed_at": registered + timedelta(hours=1),
        "handle_due": registered + timedelta(days=5),
        "replied_at": registered + timedelta(hours=30),
        "reply_on_time": True,
        "satisfaction": 5,
        "closed_at": registered + timedelta(hours=31, seconds=7, microseconds=1234),
        "outcome": WorkOrder.Outcome.RESOLVED,
    }
    values.update(fields)
    return _order(**values)


def _month_ago(now: datetime, months: int) -> date:
    day = city_today(now).replace(day=1)
    for _ in range(months):
        day = (day - timedelta(days=1)).replace(day=1)
    return day


@pytest.fixture
def edges(world: World) -> dict[str, WorkOrder]:
    """Hand-made orders two and three months back, around the months' edges."""
    now = datetime.now(tz=SHANGHAI)
    two = _month_ago(now, 2)
    three = _month_ago(now, 3)
    last_instant = datetime.combine(two, datetime.min.time(), tzinfo=SHANGHAI) - timedelta(
        microseconds=1
    )
    first_instant = datetime.combine(two, datetime.min.time(), tzinfo=SHANGHAI)
    cgj, zjj, light = world.cgj, world.zjj, world.streetlight
    main = _closed(cgj, light, first_instant + timedelta(days=3), status=Status.HANDLING)
    main.closed_at = None
    main.satisfaction = None
    main.replied_at = None
    main.reply_on_time = None
    main.save()
    return {
        "last_of_month": _closed(cgj, light, last_instant),
        "first_of_month": _closed(zjj, light, first_instant),
        "main": main,
        "merged": _order(
            category=light,
            registered_at=first_instant + timedelta(days=4),
            status=Status.MERGED,
            merged_into=main,
        ),
        "transferred": _order(
            category=None,
            registered_at=first_instant + timedelta(days=5),
            status=Status.TRANSFERRED,
        ),
        # A month later, so that a period can count one transferred order live and the
        # other from the rollup: both in the one row of orders without a unit.
        "transferred_later": _order(
            category=None,
            registered_at=datetime.combine(_month_ago(now, 1), datetime.min.time(), tzinfo=SHANGHAI)
            + timedelta(days=3),
            status=Status.TRANSFERRED,
        ),
        "extended": _closed(
            zjj,
            light,
            datetime.combine(three, datetime.min.time(), tzinfo=SHANGHAI) + timedelta(days=9),
            handle_due=first_instant + timedelta(days=20),
            extended=True,
            reply_on_time=True,
        ),
        "late": _closed(
            cgj,
            light,
            first_instant + timedelta(days=6),
            signed_at=first_instant + timedelta(days=6, hours=3),
            reply_on_time=False,
            satisfaction=2,
        ),
        "overdue": _order(
            lead_unit=cgj,
            category=light,
            registered_at=first_instant + timedelta(days=7),
            status=Status.DISPATCHED,
            dispatched_at=first_instant + timedelta(days=7),
            sign_due=first_instant + timedelta(days=7, hours=2),
            handle_due=first_instant + timedelta(days=12),
        ),
    }


def _periods(now: datetime) -> list[Period]:
    today = city_today(now)
    two = _month_ago(now, 2)
    return [
        Period(today - timedelta(days=29), today),  # the default: nothing rolled up
        Period(today - timedelta(days=364), today),
        Period(today - timedelta(days=5 * 366), today),
        Period(two, (two + timedelta(days=40)).replace(day=1) - timedelta(days=1)),  # one month
        Period(two - timedelta(days=1), two),  # across an edge: live only
        Period(two + timedelta(days=2), today),  # starts inside a month
        Period(_month_ago(now, 3), two - timedelta(days=1)),
    ]


def test_rollup_equals_live_on_edges_and_after_changes(
    world: World, edges: dict[str, WorkOrder]
) -> None:
    now = datetime.now(tz=SHANGHAI)
    two = _month_ago(now, 2)
    for period in _periods(now):
        for user in (world.dispatcher, world.supervisor):
            _same(user, period, now)
    # The months were rolled up, and are up to date.
    assert StatsMonth.objects.filter(month=two).exists()
    assert StatsRollup.objects.filter(month=two).exists()
    assert not StatsStale.objects.filter(month__lte=two).exists()
    year = Period(city_today(now) - timedelta(days=364), city_today(now))
    before = hotline_stats(user=world.dispatcher, period=year, now=now)
    assert before.total.orders == 9
    assert before.total.merged == 1
    assert before.total.transferred == 2
    assert before.total.sign_overdue == 1

    # Reopened after its return visit (as the service does: save() of a few fields).
    late = edges["late"]
    late.status = Status.HANDLING
    late.reopen_count = 1
    late.closed_at = None
    late.satisfaction = None
    late.save(update_fields=["status", "reopen_count", "closed_at", "satisfaction"])
    # Re-dispatched to another unit: its merged duplicate follows it.
    WorkOrder.objects.filter(pk=edges["main"].pk).update(lead_unit=world.zjj)
    # Moved across the month's edge, and an extension granted then replied on time.
    WorkOrder.objects.filter(pk=edges["last_of_month"].pk).update(
        registered_at=datetime.combine(two, datetime.min.time(), tzinfo=SHANGHAI)
    )
    WorkOrder.objects.filter(pk=edges["overdue"].pk).update(
        status=Status.REPLIED,
        signed_at=edges["overdue"].sign_due,
        replied_at=edges["overdue"].handle_due,
        reply_on_time=True,
    )
    assert StatsStale.objects.filter(month=two).exists()

    after = _same(world.dispatcher, year, now)
    assert after.total.closed == before.total.closed - 1
    assert after.total.satisfied == before.total.satisfied
    assert after.total.visited == before.total.visited - 1
    assert after.total.sign_overdue == 0
    assert after.total.replied_on_time == before.total.replied_on_time + 1
    zjj = next(f for f in after.by_unit if f.code == "la-zjj")
    assert zjj.merged == 1  # the duplicate counts under its main order's new unit
    for period in _periods(now):
        _same(world.supervisor, period, now)
    assert not StatsStale.objects.filter(month__lte=two).exists()

    # Deleted and back-dated new orders mark their months too.
    WorkOrder.objects.filter(pk=edges["transferred"].pk).delete()
    _closed(world.cgj, world.streetlight, datetime(2025, 1, 31, 23, 59, tzinfo=SHANGHAI))
    five = Period(city_today(now) - timedelta(days=5 * 366), city_today(now))
    assert _same(world.dispatcher, five, now).total.orders == 9


def test_rollup_equals_live_on_generated_orders(world: World) -> None:
    call_command("generate_orders", count=1500, seed=11)
    now = datetime.now(tz=SHANGHAI)
    for period in _periods(now):
        _same(world.dispatcher, period, now)
    five = Period(city_today(now) - timedelta(days=5 * 366), city_today(now))
    assert _same(world.dispatcher, five, now).total.orders == 1500
    scoped = _same(world.supervisor, five, now).total
    # Transferred orders have no unit, so no supervisor's scope has them.
    assert scoped.orders == 1500 - WorkOrder.objects.filter(status=Status.TRANSFERRED).count()
    assert StatsMonth.objects.count() >= 59
    built = StatsMonth.objects.count()

    # Every kind of change, written behind the figures' back, after the months were built.
    closed = list(
        WorkOrder.objects.filter(status=Status.CLOSED, registered_at__lt=now - timedelta(days=90))
        .order_by("pk")
        .values_list("pk", flat=True)[:40]
    )
    WorkOrder.objects.filter(pk__in=closed[:10]).update(
        status=Status.HANDLING, closed_at=None, satisfaction=None, reopen_count=1
    )
    WorkOrder.objects.filter(pk__in=closed[10:20]).update(satisfaction=1)
    WorkOrder.objects.filter(pk__in=closed[20:30]).update(lead_unit=world.zjj)
    WorkOrder.objects.filter(pk__in=closed[30:40]).update(
        status=Status.MERGED, merged_into_id=closed[0], lead_unit=None
    )
    assert StatsStale.objects.filter(month__lt=_month_ago(now, 2)).exists()
    # The nightly task rebuilds them (the page would, on first use, otherwise).
    assert stats_rollup(now=now) == built
    months = list(StatsMonth.objects.values_list("month", flat=True))
    assert not StatsStale.objects.filter(month__in=months).exists()
    for period in _periods(now):
        _same(world.dispatcher, period, now)
    _same(world.supervisor, five, now)
