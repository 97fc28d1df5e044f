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

One grouped query (lead unit × category, conditional aggregation) gives every figure; the
per-unit, per-category and total rows are sums of its rows in Python, so the page costs the
same few queries whatever the period. The ``registered_at`` index bounds the scan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, F, FloatField, Func, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.accounts.models import Department
from yiwang.core.calendar import SHANGHAI
from yiwang.evaluation.selectors import supervised_department_ids
from yiwang.hotline.models import Category, WorkOrder
from yiwang.hotline.selectors import is_dispatcher

Status = WorkOrder.Status
DEFAULT_DAYS = 30
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
    handling: float = 0.0  # seconds from registration to closing, summed over closed orders

    def add(self, row: Figures | dict[str, Any]) -> None:
        get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + (get(name) or 0))
        self.handling += float(get("handling") or 0)

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
        hours = Decimal(self.handling) / Decimal(3600 * self.closed)
        return hours.quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def average_days(self) -> Decimal | None:
        hours = self.average_hours
        if hours is None:
            return None
        days = Decimal(self.handling) / Decimal(86400 * self.closed)
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


class _Seconds(Func):
    """``end - start`` in seconds, in SQL on both databases: Django's own datetime subtraction
    calls a Python function per row on SQLite (10x slower over a year of orders)."""

    output_field = FloatField()
    arity = 2

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
            **extra,
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="EXTRACT(EPOCH FROM (%(expressions)s))",
            arg_joiner=" - ",
            **extra,
        )


def _grouped(period: Period, scope: frozenset[int] | None, now: datetime) -> list[dict[str, Any]]:
    in_period = Q(registered_at__gte=period.since, registered_at__lt=period.until)
    rows = WorkOrder.objects.filter(in_period).annotate(
        unit_id=Coalesce("lead_unit_id", "merged_into__lead_unit_id")
    )
    if scope is not None:
        rows = rows.filter(unit_id__in=scope)
    signed = Q(signed_at__isnull=False, sign_due__isnull=False)
    replied = Q(replied_at__isnull=False)
    grouped = (
        rows.values("unit_id", "category_id")
        .annotate(
            orders=Count("pk"),
            merged=Count("pk", filter=Q(status=Status.MERGED)),
            transferred=Count("pk", filter=Q(status=Status.TRANSFERRED)),
            closed=Count("pk", filter=Q(status=Status.CLOSED)),
            signed=Count("pk", filter=signed),
            signed_on_time=Count("pk", filter=signed & Q(signed_at__lte=F("sign_due"))),
            sign_overdue=Count(
                "pk",
                filter=Q(signed_at__isnull=True, sign_due__lt=now, status__in=_UNIT_RUNNING),
            ),
            replied=Count("pk", filter=replied),
            replied_on_time=Count("pk", filter=replied & Q(reply_on_time=True)),
            reply_overdue=Count(
                "pk",
                filter=Q(replied_at__isnull=True, handle_due__lt=now, status__in=_UNIT_RUNNING),
            ),
            visited=Count("pk", filter=Q(satisfaction__isnull=False)),
            satisfied=Count("pk", filter=Q(satisfaction__gte=3)),
            handling=Sum(
                _Seconds("closed_at", "registered_at"),
                filter=Q(status=Status.CLOSED, closed_at__isnull=False),
            ),
        )
        .order_by()
    )
    return [dict(row) for row in grouped]


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
    *, user: Any, period: Period | None = None, now: datetime | None = None
) -> Report:
    """The figures ``user`` may see over ``period`` (default: the last 30 days). Three
    queries: the grouped counts, the units' names, the category tree."""
    period = period or Period.default()
    now = now or timezone.now()
    scope = stats_scope(user)
    rows = _grouped(period, scope, now)
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
