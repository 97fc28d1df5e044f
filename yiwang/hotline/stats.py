"""The hotline's figures (工单统计) per lead unit, per first-level category and for the city,
over the orders registered in a period of Shanghai dates.

Definitions (shown on the page too; every rate is None when its denominator is 0):

* 工单量: orders registered in the period (merged and transferred ones included);
* 按时签收率 = orders the lead unit signed by ``sign_due`` ÷ (orders signed + orders still
  waiting to be signed past ``sign_due``); a returned and re-dispatched order counts with the
  dispatch in force;
* 按时办结率 = orders replied on time ÷ (orders replied + open orders past ``handle_due`` with
  no reply); "on time" is ``reply_on_time``, which the reply service records against the limit
  in force (an approved extension moves it; a direct answer by the centre is on time);
* 办结率 = closed ÷ (all − merged − transferred): a merged order is handled as part of its
  main order, a transferred one by 110/119/120/122, so neither is the unit's to close;
* 满意率 = orders whose last answered return visit (``WorkOrder.satisfaction``) is 3–5
  (基本满意 and above) ÷ orders with an answered visit;
* 平均办理时长 = mean of ``closed_at − registered_at`` over closed orders (hours, days);
* 重复诉求率 = merged orders ÷ all orders: a duplicate that the centre merged into an open
  order is a repeated request (cheap and exact; repeats of an already closed order are not
  merged and so not counted).

A merged duplicate counts under the lead unit of the order it repeats (it is usually merged
before dispatch, so it has no lead unit of its own); orders with no unit either way (waiting
for dispatch, transferred) are a row of their own in the city's view.

Grouped counts per (lead unit, leaf category) give every figure; the per-unit, per-category
and total rows are sums of them in Python. Whole Shanghai months before the current one come
from a rollup (StatsRollup: the month's counts that do not depend on the time of asking),
built on first use and rebuilt when stale: database triggers (migration 0002) mark an order's
month stale whenever a column the figures read changes, whoever writes it. The rest of the
period (the months cut by its edges, the current month) is counted from the orders, and the
overdue counts, which depend on the time of asking, always are (over the open orders only).
So a year costs about two months of orders plus a few hundred rollup rows, and the figures are
the same as counting every order (tests/test_stats_rollup.py compares both).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import DatabaseError, transaction
from django.db.models import BigIntegerField, Count, F, Func, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.accounts.models import Department
from yiwang.core.calendar import SHANGHAI
from yiwang.evaluation.selectors import supervised_department_ids
from yiwang.hotline.models import (
    Category,
    StatsMonth,
    StatsRollup,
    StatsStale,
    WorkOrder,
)
from yiwang.hotline.selectors import is_dispatcher

Status = WorkOrder.Status
DEFAULT_DAYS = 30
ROLLUP_DAYS = 5 * 366 + 1  # the longest period the page accepts (views_stats.MAX_DAYS)
# Waiting for the lead unit's signature or reply: the unit's clock is running.
_UNIT_RUNNING = (Status.DISPATCHED, Status.HANDLING, Status.RETURN_REQUESTED)
_COUNTS = (
    "orders",
    "merged",
    "transferred",
    "closed",
    "signed",
    "signed_on_time",
    "sign_overdue",
    "replied",
    "replied_on_time",
    "reply_overdue",
    "visited",
    "satisfied",
)


def city_today(now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now(), SHANGHAI).date()


@dataclass(frozen=True)
class Period:
    """Shanghai dates ``first`` to ``last``, both included: registered_at in [since, until)."""

    first: date
    last: date

    @classmethod
    def default(cls, today: date | None = None) -> Period:
        today = today or city_today()
        return cls(today - timedelta(days=DEFAULT_DAYS - 1), today)

    @property
    def since(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=SHANGHAI)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=SHANGHAI)


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100 * part) / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass
class Figures:
    """The counts behind one row; the rates are computed from them."""

    label: str
    code: str = ""
    orders: int = 0
    merged: int = 0
    transferred: int = 0
    closed: int = 0
    signed: int = 0
    signed_on_time: int = 0
    sign_overdue: int = 0  # not signed and past sign_due
    replied: int = 0
    replied_on_time: int = 0
    reply_overdue: int = 0  # open, not replied and past handle_due
    visited: int = 0
    satisfied: int = 0
    # milliseconds from registration to closing, summed over closed orders (an integer: the
    # same total whatever the order of the additions)
    handling_ms: int = 0

    def add(self, row: Figures | dict[str, Any]) -> None:
        get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
        for name in (*_COUNTS, "handling_ms"):
            setattr(self, name, getattr(self, name) + (get(name) or 0))

    @property
    def closable(self) -> int:
        return self.orders - self.merged - self.transferred

    @property
    def sign_base(self) -> int:
        return self.signed + self.sign_overdue

    @property
    def reply_base(self) -> int:
        return self.replied + self.reply_overdue

    @property
    def sign_rate(self) -> Decimal | None:
        return _percent(self.signed_on_time, self.sign_base)

    @property
    def reply_rate(self) -> Decimal | None:
        return _percent(self.replied_on_time, self.reply_base)

    @property
    def close_rate(self) -> Decimal | None:
        return _percent(self.closed, self.closable)

    @property
    def satisfaction_rate(self) -> Decimal | None:
        return _percent(self.satisfied, self.visited)

    @property
    def repeat_rate(self) -> Decimal | None:
        return _percent(self.merged, self.orders)

    @property
    def average_hours(self) -> Decimal | None:
        if not self.closed:
            return None
        hours = Decimal(self.handling_ms) / Decimal(3_600_000 * self.closed)
        return hours.quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def average_days(self) -> Decimal | None:
        hours = self.average_hours
        if hours is None:
            return None
        days = Decimal(self.handling_ms) / Decimal(86_400_000 * self.closed)
        return days.quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass
class Report:
    period: Period
    city_wide: bool  # the centre's view; else the units of a supervisor's scope
    total: Figures
    by_unit: list[Figures]
    by_category: list[Figures]


def stats_scope(user: Any) -> frozenset[int] | None:
    """None for the whole city (the 12345 centre); else the departments a supervisor
    supervises (their orders are those these units lead)."""
    if is_dispatcher(user):
        return None
    return frozenset(supervised_department_ids(user))


class _Millis(Func):
    """``end - start`` in whole milliseconds, in SQL on both databases: Django's own datetime
    subtraction calls a Python function per row on SQLite (10x slower over a year of orders).
    Integers, so that a sum is the same whatever the grouping (the rollup adds month sums)."""

    output_field = BigIntegerField()
    arity = 2

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="CAST(ROUND((julianday(%(expressions)s)) * 86400000.0) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra,
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="ROUND(EXTRACT(EPOCH FROM (%(expressions)s)) * 1000)::bigint",
            arg_joiner=" - ",
            **extra,
        )


# The counts that do not depend on the time of asking: what the rollup keeps.
_SETTLED = (
    "orders",
    "merged",
    "transferred",
    "closed",
    "signed",
    "signed_on_time",
    "replied",
    "replied_on_time",
    "visited",
    "satisfied",
    "handling_ms",
)


def _rows(ranges: list[tuple[datetime, datetime]], scope: frozenset[int] | None) -> Any:
    """The orders registered in any of ``ranges``, annotated with the unit they count under."""
    in_ranges = Q()
    for since, until in ranges:
        in_ranges |= Q(registered_at__gte=since, registered_at__lt=until)
    rows = WorkOrder.objects.filter(in_ranges).annotate(
        unit_id=Coalesce("lead_unit_id", "merged_into__lead_unit_id")
    )
    if scope is not None:
        rows = rows.filter(unit_id__in=scope)
    return rows.values("unit_id", "category_id")


def _overdue(now: datetime) -> dict[str, Any]:
    return {
        "sign_overdue": Count(
            "pk", filter=Q(signed_at__isnull=True, sign_due__lt=now, status__in=_UNIT_RUNNING)
        ),
        "reply_overdue": Count(
            "pk",
            filter=Q(replied_at__isnull=True, handle_due__lt=now, status__in=_UNIT_RUNNING),
        ),
    }


def _settled() -> dict[str, Any]:
    signed = Q(signed_at__isnull=False, sign_due__isnull=False)
    replied = Q(replied_at__isnull=False)
    return {
        "orders": Count("pk"),
        "merged": Count("pk", filter=Q(status=Status.MERGED)),
        "transferred": Count("pk", filter=Q(status=Status.TRANSFERRED)),
        "closed": Count("pk", filter=Q(status=Status.CLOSED)),
        "signed": Count("pk", filter=signed),
        "signed_on_time": Count("pk", filter=signed & Q(signed_at__lte=F("sign_due"))),
        "replied": Count("pk", filter=replied),
        "replied_on_time": Count("pk", filter=replied & Q(reply_on_time=True)),
        "visited": Count("pk", filter=Q(satisfaction__isnull=False)),
        "satisfied": Count("pk", filter=Q(satisfaction__gte=3)),
        "handling_ms": Sum(
            _Millis("closed_at", "registered_at"),
            filter=Q(status=Status.CLOSED, closed_at__isnull=False),
        ),
    }


def _live(
    ranges: list[tuple[datetime, datetime]], scope: frozenset[int] | None, now: datetime
) -> list[dict[str, Any]]:
    """Every count of the orders of ``ranges``, from the orders themselves (one pass)."""
    if not ranges:
        return []
    grouped = _rows(ranges, scope).annotate(**_settled(), **_overdue(now)).order_by()
    return [dict(row) for row in grouped]


def _month(day: date) -> date:
    return day.replace(day=1)


def _next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def _span(first: date, end: date) -> tuple[datetime, datetime]:
    """registered_at bounds of the Shanghai dates ``first`` up to ``end`` (excluded)."""
    return (
        datetime.combine(first, time.min, tzinfo=SHANGHAI),
        datetime.combine(end, time.min, tzinfo=SHANGHAI),
    )


# A busy month leaves tens of thousands of marks; SQLite takes at most 32,766 parameters.
_MARKS_PER_DELETE = 10_000


def _rollup_build(month: date, now: datetime) -> bool:
    """(Re)build one month's rollup rows; False when a concurrent build or write got in the
    way (the month is then counted live: the figures never wait for the rollup).

    The month's StatsMonth row is written first: it locks the month, so two builds of it
    never interleave (the second waits, or fails and counts live). The stale marks seen *before*
    counting are the only ones removed: a change committed while counting leaves its own mark,
    so the month is built again on the next call."""
    try:
        with transaction.atomic():
            StatsMonth.objects.update_or_create(month=month, defaults={"built_at": now})
            marks = list(StatsStale.objects.filter(month=month).values_list("pk", flat=True))
            counted = (
                _rows([_span(month, _next_month(month))], None).annotate(**_settled()).order_by()
            )
            rows = [
                StatsRollup(
                    month=month,
                    unit_id=row["unit_id"],
                    category_id=row["category_id"],
                    **{k: row[k] or 0 for k in _SETTLED},
                )
                for row in counted
            ]
            StatsRollup.objects.filter(month=month).delete()
            StatsRollup.objects.bulk_create(rows)
            for start in range(0, len(marks), _MARKS_PER_DELETE):
                StatsStale.objects.filter(pk__in=marks[start : start + _MARKS_PER_DELETE]).delete()
    except DatabaseError:
        return False
    return True


def _rolled_up(period: Period, now: datetime) -> list[date]:
    """The whole months of ``period`` before the current one, with their rollup up to date
    (built now when missing or stale)."""
    first = _month(period.first)
    if first != period.first:
        first = _next_month(first)
    months = []
    month = first
    current = _month(city_today(now))
    while _next_month(month) <= period.last + timedelta(days=1) and month < current:
        months.append(month)
        month = _next_month(month)
    if not months:
        return []
    built = set(
        StatsMonth.objects.filter(month__gte=months[0], month__lte=months[-1]).values_list(
            "month", flat=True
        )
    )
    stale = set(
        StatsStale.objects.filter(month__gte=months[0], month__lte=months[-1])
        .values_list("month", flat=True)
        .distinct()
    )
    return [m for m in months if (m in built and m not in stale) or _rollup_build(m, now)]


def stats_rollup_refresh(*, now: datetime | None = None) -> int:
    """Build the missing or stale months of the last five years (what the page lets one
    choose), so that the first person to ask for a long period after a busy day does not wait
    for it; returns how many months are up to date. Run nightly (CELERY_BEAT_SCHEDULE)."""
    now = now or timezone.now()
    today = city_today(now)
    return len(_rolled_up(Period(today - timedelta(days=ROLLUP_DAYS), today), now))


def _ranges(months: list[date]) -> list[tuple[date, date]]:
    """Consecutive months as [first day, end) date ranges."""
    out: list[tuple[date, date]] = []
    for month in months:
        if out and out[-1][1] == month:
            out[-1] = (out[-1][0], _next_month(month))
        else:
            out.append((month, _next_month(month)))
    return out


def _grouped(
    period: Period, scope: frozenset[int] | None, now: datetime, *, live_only: bool = False
) -> list[dict[str, Any]]:
    """The counts per (unit, leaf category): whole past months from the rollup (plus their
    overdue counts, live over their open orders), the rest of the period from the orders."""
    months = [] if live_only else _rolled_up(period, now)
    rolled = _ranges(months)
    live: list[tuple[date, date]] = []
    cursor = period.first
    for first, end in rolled:
        if cursor < first:
            live.append((cursor, first))
        cursor = end
    if cursor <= period.last:
        live.append((cursor, period.last + timedelta(days=1)))
    rows = _live([_span(a, b) for a, b in live], scope, now)
    if not months:
        return rows
    summed = StatsRollup.objects.filter(month__in=months)
    if scope is not None:
        summed = summed.filter(unit_id__in=scope)
    rows += [
        dict(row)
        for row in summed.values("unit_id", "category_id")
        .annotate(**{k: Sum(k) for k in _SETTLED})
        .order_by()
    ]
    spans = [_span(a, b) for a, b in rolled]
    rows += [
        dict(row)
        for row in _rows(spans, scope)
        .filter(status__in=_UNIT_RUNNING)
        .annotate(**_overdue(now))
        .order_by()
    ]
    return rows


def _level_one(categories: Iterable[Category]) -> dict[int, Category]:
    """Each category's first-level ancestor (the tree is small: one query)."""
    by_id = {c.pk: c for c in categories}
    top: dict[int, Category] = {}
    for category in by_id.values():
        node = category
        seen = {node.pk}
        while node.parent_id is not None and node.parent_id in by_id:
            node = by_id[node.parent_id]
            if node.pk in seen:
                break
            seen.add(node.pk)
        top[category.pk] = node
    return top


def hotline_stats(
    *,
    user: Any,
    period: Period | None = None,
    now: datetime | None = None,
    live_only: bool = False,
) -> Report:
    """The figures ``user`` may see over ``period`` (default: the last 30 days): the counts
    (see ``_grouped``), the units' names, the category tree. ``live_only`` counts every order
    itself, without the rollup: the reference the rollup is tested against."""
    period = period or Period.default()
    now = now or timezone.now()
    scope = stats_scope(user)
    rows = _grouped(period, scope, now, live_only=live_only)
    unit_ids = {r["unit_id"] for r in rows if r["unit_id"] is not None}
    units = {
        d.pk: d
        for d in Department.objects.filter(pk__in=unit_ids).only(
            "pk", "code", "name", "short_name", "sort_order"
        )
    }
    top = _level_one(Category.objects.only("pk", "code", "name", "parent_id", "sort_order"))

    total = Figures(label=_("全市合计") if scope is None else _("督办范围合计"))
    by_unit: dict[int | None, Figures] = {}
    by_category: dict[int | None, Figures] = {}
    for row in rows:
        total.add(row)
        unit_id = row["unit_id"]
        if unit_id not in by_unit:
            unit = units.get(unit_id) if unit_id is not None else None
            by_unit[unit_id] = Figures(
                label=unit.name if unit else _("未派至单位"), code=unit.code if unit else ""
            )
        by_unit[unit_id].add(row)
        category = top.get(row["category_id"]) if row["category_id"] is not None else None
        key = category.pk if category else None
        if key not in by_category:
            by_category[key] = Figures(
                label=category.name if category else _("未分类"),
                code=category.code if category else "",
            )
        by_category[key].add(row)

    def unit_order(item: tuple[int | None, Figures]) -> tuple[int, int, str]:
        unit = units.get(item[0]) if item[0] is not None else None
        return (1, 0, "") if unit is None else (0, unit.sort_order, unit.code)

    def category_order(item: tuple[int | None, Figures]) -> tuple[int, int, str]:
        category = top.get(item[0]) if item[0] is not None else None
        return (1, 0, "") if category is None else (0, category.sort_order, category.code)

    return Report(
        period=period,
        city_wide=scope is None,
        total=total,
        by_unit=[f for _k, f in sorted(by_unit.items(), key=unit_order)],
        by_category=[f for _k, f in sorted(by_category.items(), key=category_order)],
    )


SORT_KEYS = (
    "orders",
    "sign_rate",
    "reply_rate",
    "close_rate",
    "satisfaction_rate",
    "average_hours",
    "repeat_rate",
)


def rows_sorted(rows: list[Figures], key: str, *, descending: bool = True) -> list[Figures]:
    """``rows`` by one figure (rows without the figure last), for the sortable tables."""
    if key not in SORT_KEYS:
        return rows
    present = [r for r in rows if getattr(r, key) is not None]
    missing = [r for r in rows if getattr(r, key) is None]
    present.sort(key=lambda r: getattr(r, key), reverse=descending)
    return present + missing
