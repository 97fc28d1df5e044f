"""工单统计: each figure on a hand-built set of orders, the supervisor's scope, the page and its
Excel export (access, query count, same numbers)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from io import BytesIO
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from yiwang.accounts.models import Department, Role, User
from yiwang.accounts.services import role_grant, staff_create
from yiwang.core.calendar import SHANGHAI
from yiwang.hotline.models import WorkOrder
from yiwang.hotline.stats import Figures, Period, hotline_stats, rows_sorted
from yiwang.hotline.tests.conftest import World

Status = WorkOrder.Status
PERIOD = Period(date(2026, 11, 1), date(2026, 11, 30))
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=SHANGHAI)
_serial = iter(range(1, 10_000))


def _at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=SHANGHAI)


def _order(**fields: Any) -> WorkOrder:
    n = next(_serial)
    values: dict[str, Any] = {
        "number": f"GDTEST{n:06d}",
        "channel": WorkOrder.Channel.PHONE,
        "title": "路灯不亮",
        "content": "小区门口路灯不亮",
        "status": Status.CLOSED,
    }
    values.update(fields)
    return WorkOrder.objects.create(**values)


def _handled(
    unit: Department,
    category: Any,
    *,
    registered: datetime,
    sign_late: bool = False,
    reply_on_time: bool = True,
    satisfaction: int | None = 5,
    hours: float = 48,
) -> WorkOrder:
    """A closed order: dispatched at once, signed, replied, visited, closed after ``hours``."""
    signed = registered + timedelta(hours=3 if sign_late else 1)
    return _order(
        lead_unit=unit,
        category=category,
        registered_at=registered,
        dispatched_at=registered,
        sign_due=registered + timedelta(hours=2),
        signed_at=signed,
        handle_due=registered + timedelta(days=5),
        replied_at=registered + timedelta(hours=hours - 1),
        reply_on_time=reply_on_time,
        satisfaction=satisfaction,
        closed_at=registered + timedelta(hours=hours),
        outcome=WorkOrder.Outcome.RESOLVED,
    )


@pytest.fixture
def orders(world: World) -> dict[str, WorkOrder]:
    cgj, zjj = world.cgj, world.zjj
    first = _handled(cgj, world.streetlight, registered=_at(2), hours=48)
    made = {
        "on_time": first,
        # Signed and replied late, unsatisfied (closed by the supervisor): 24 h.
        "late": _handled(
            cgj,
            world.streetlight,
            registered=_at(3),
            sign_late=True,
            reply_on_time=False,
            satisfaction=2,
            hours=24,
        ),
        # Signed on time, not replied and past the handling limit.
        "reply_overdue": _order(
            lead_unit=cgj,
            category=world.streetlight,
            status=Status.HANDLING,
            registered_at=_at(10),
            dispatched_at=_at(10),
            sign_due=_at(10, 11),
            signed_at=_at(10, 10),
            handle_due=_at(17),
        ),
        # Not signed and past the signing limit (handling limit still ahead).
        "sign_overdue": _order(
            lead_unit=cgj,
            category=world.streetlight,
            status=Status.DISPATCHED,
            registered_at=_at(26),
            dispatched_at=_at(26),
            sign_due=_at(26, 11),
            handle_due=_at(30),
        ),
        # A duplicate merged before dispatch: it counts under the unit of the order it
        # repeats, as a repeat and not as a late signature.
        "merged": _order(
            lead_unit=None,
            category=world.streetlight,
            status=Status.MERGED,
            merged_into=first,
            registered_at=_at(2, 10),
            dispatched_at=_at(2, 10),
            sign_due=_at(2, 12),
            handle_due=_at(7),
        ),
        "zjj": _handled(zjj, world.noise, registered=_at(20), satisfaction=3, hours=12),
        # An emergency transferred to 119 before dispatch: no unit, no category.
        "transferred": _order(
            status=Status.TRANSFERRED,
            registered_at=_at(21),
            closed_at=_at(21, 10),
            outcome=WorkOrder.Outcome.TRANSFERRED,
            emergency_number="119",
        ),
    }
    # Outside the period ([Nov 1, Dec 1) in Shanghai): 23:30 on Oct 31 there.
    _handled(cgj, world.streetlight, registered=datetime(2026, 10, 31, 23, 30, tzinfo=SHANGHAI))
    _handled(cgj, world.streetlight, registered=datetime(2026, 12, 1, 0, 0, tzinfo=SHANGHAI))
    return made


def _row(rows: list[Figures], label: str) -> Figures:
    return next(r for r in rows if r.label == label)


def test_each_figure_per_unit_on_hand_built_orders(world: World, orders: dict[str, Any]) -> None:
    report = hotline_stats(user=world.dispatcher, period=PERIOD, now=NOW)

    assert report.city_wide is True
    # In the departments' order (sort_order, code), the unrouted orders last.
    assert [r.label for r in report.by_unit] == [world.zjj.name, world.cgj.name, "未派至单位"]
    cgj = _row(report.by_unit, world.cgj.name)
    assert (cgj.orders, cgj.merged, cgj.transferred, cgj.closed) == (5, 1, 0, 2)
    assert (cgj.signed, cgj.signed_on_time, cgj.sign_overdue) == (3, 2, 1)
    assert cgj.sign_rate == Decimal("50.0")  # 2 on time of 3 signed + 1 overdue
    assert (cgj.replied, cgj.replied_on_time, cgj.reply_overdue) == (2, 1, 1)
    assert cgj.reply_rate == Decimal("33.3")
    assert cgj.closable == 4
    assert cgj.close_rate == Decimal("50.0")  # 2 closed of 5 − 1 merged
    assert (cgj.visited, cgj.satisfied) == (2, 1)
    assert cgj.satisfaction_rate == Decimal("50.0")
    assert cgj.average_hours == Decimal("36.0")  # (48 + 24) / 2
    assert cgj.average_days == Decimal("1.50")
    assert cgj.repeat_rate == Decimal("20.0")  # 1 merged of 5

    zjj = _row(report.by_unit, world.zjj.name)
    assert (zjj.orders, zjj.sign_rate, zjj.reply_rate, zjj.close_rate) == (
        1,
        Decimal("100.0"),
        Decimal("100.0"),
        Decimal("100.0"),
    )
    assert (zjj.satisfaction_rate, zjj.average_hours, zjj.repeat_rate) == (
        Decimal("100.0"),  # 3 (基本满意) counts as satisfied
        Decimal("12.0"),
        Decimal("0.0"),
    )
    nobody = _row(report.by_unit, "未派至单位")
    assert (nobody.orders, nobody.transferred, nobody.closable) == (1, 1, 0)
    assert nobody.close_rate is None  # a transferred order is not the city's to close
    assert nobody.average_hours is None  # nor counted in the handling time


def test_city_totals_and_first_level_categories(world: World, orders: dict[str, Any]) -> None:
    report = hotline_stats(user=world.dispatcher, period=PERIOD, now=NOW)

    t = report.total
    assert t.label == "全市合计"
    assert (t.orders, t.merged, t.transferred, t.closed, t.closable) == (7, 1, 1, 3, 5)
    assert t.sign_rate == Decimal("60.0")  # 3 of 4 signed + 1 overdue
    assert t.reply_rate == Decimal("50.0")  # 2 of 3 replied + 1 overdue
    assert t.close_rate == Decimal("60.0")
    assert t.satisfaction_rate == Decimal("66.7")  # 5 and 3 of 5, 3, 2
    assert t.average_hours == Decimal("28.0")  # (48 + 24 + 12) / 3
    assert t.average_days == Decimal("1.17")
    assert t.repeat_rate == Decimal("14.3")  # 1 of 7
    assert [(r.label, r.code, r.orders) for r in report.by_category] == [
        ("城乡建设", "cxjs", 5),
        ("环境保护", "hjbh", 1),
        ("未分类", "", 1),
    ]
    assert _row(report.by_category, "城乡建设").close_rate == Decimal("50.0")


def test_the_open_clock_uses_now(world: World, orders: dict[str, Any]) -> None:
    # Before the unsigned order's limit passed, it is not late yet.
    report = hotline_stats(user=world.dispatcher, period=PERIOD, now=_at(26, 10))

    cgj = _row(report.by_unit, world.cgj.name)
    assert (cgj.sign_overdue, cgj.sign_rate) == (0, Decimal("66.7"))


def test_a_period_without_orders_has_no_rates(world: World, orders: dict[str, Any]) -> None:
    report = hotline_stats(
        user=world.dispatcher, period=Period(date(2025, 1, 1), date(2025, 1, 31)), now=NOW
    )

    assert report.by_unit == []
    assert report.by_category == []
    t = report.total
    assert (t.orders, t.sign_rate, t.reply_rate, t.close_rate, t.satisfaction_rate) == (
        0,
        None,
        None,
        None,
        None,
    )
    assert (t.average_hours, t.average_days, t.repeat_rate) == (None, None, None)


def _cgj_supervisor(world: World) -> User:
    admin = User.objects.get(username="demo-admin")
    user = staff_create(
        actor=admin,
        username="cgj-supervisor",
        real_name="孙督办",
        department=world.cgj,
        password="yiwang-demo-2026",
    )
    role_grant(actor=admin, user=user, role=Role.SUPERVISOR, department=world.cgj)
    return user


def test_a_supervisor_of_one_unit_sees_only_it(world: World, orders: dict[str, Any]) -> None:
    report = hotline_stats(user=_cgj_supervisor(world), period=PERIOD, now=NOW)

    assert report.city_wide is False
    assert [r.label for r in report.by_unit] == [world.cgj.name]
    assert report.total.label == "督办范围合计"
    assert (report.total.orders, report.total.close_rate) == (5, Decimal("50.0"))
    assert [r.label for r in report.by_category] == ["城乡建设"]


def test_a_city_wide_supervisor_sees_the_units_not_the_unrouted(
    world: World, orders: dict[str, Any]
) -> None:
    report = hotline_stats(user=world.supervisor, period=PERIOD, now=NOW)

    assert report.city_wide is False
    assert [r.label for r in report.by_unit] == [world.zjj.name, world.cgj.name]
    assert report.total.orders == 6


def test_rows_sort_by_a_figure_with_missing_ones_last(world: World, orders: dict[str, Any]) -> None:
    report = hotline_stats(user=world.dispatcher, period=PERIOD, now=NOW)

    by_close = rows_sorted(report.by_unit, "close_rate")
    assert [r.label for r in by_close] == [world.zjj.name, world.cgj.name, "未派至单位"]
    assert rows_sorted(report.by_unit, "no_such_figure") == report.by_unit


# --- the page and the Excel file -----------------------------------------------------------


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def recent(world: World) -> None:
    """Two orders of this week, inside the page's default period (the last 30 days)."""
    now = timezone.now()
    _handled(world.cgj, world.streetlight, registered=now - timedelta(days=3), hours=30)
    _handled(world.zjj, world.noise, registered=now - timedelta(days=2), hours=10, satisfaction=1)


@pytest.mark.parametrize("name", ["hotline_staff:stats", "hotline_staff:stats_xlsx"])
def test_only_supervisors_and_the_centre_may_see_the_figures(world: World, name: str) -> None:
    url = reverse(name)

    assert Client().get(url).status_code == 302  # to the login page
    assert _client(world.handler).get(url).status_code == 403
    assert _client(world.citizen).get(url).status_code == 403
    assert _client(world.dispatcher).get(url).status_code == 200
    assert _client(world.supervisor).get(url).status_code == 200


def test_the_page_shows_the_figures_in_bounded_queries(
    world: World, recent: None, django_assert_max_num_queries: Any
) -> None:
    client = _client(world.dispatcher)
    client.get(reverse("hotline_staff:stats"))  # warm caches (session, roles)

    with django_assert_max_num_queries(12):
        response = client.get(reverse("hotline_staff:stats"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "全市合计" in html
    assert world.cgj.name in html
    assert world.zjj.name in html
    assert "50.0%" in html  # 满意率: 5 and 1
    assert "20.0 小时（0.83 天）" in html  # (30 + 10) / 2
    assert "并单（重复诉求合并办理）÷ 工单量" in html  # the definitions are on the page


def test_the_page_takes_a_period_and_refuses_a_reversed_one(
    world: World, orders: dict[str, Any]
) -> None:
    client = _client(world.dispatcher)

    response = client.get(
        reverse("hotline_staff:stats"), {"first": "2026-11-01", "last": "2026-11-30"}
    )
    assert response.status_code == 200
    assert response.context["report"].total.orders == 7
    assert response.context["report"].period == PERIOD

    reversed_ = client.get(
        reverse("hotline_staff:stats"), {"first": "2026-11-30", "last": "2026-11-01"}
    )
    assert reversed_.status_code == 200
    assert "结束日期不能早于开始日期。" in reversed_.content.decode()
    assert reversed_.context["report"].period == Period.default()


def test_sorting_the_table_by_a_column(world: World, orders: dict[str, Any]) -> None:
    response = _client(world.dispatcher).get(
        reverse("hotline_staff:stats"),
        {"first": "2026-11-01", "last": "2026-11-30", "sort": "orders"},
    )

    assert [r.label for r in response.context["by_unit"]] == [
        world.cgj.name,
        world.zjj.name,
        "未派至单位",
    ]
    assert 'aria-sort="descending"' in response.content.decode()


def test_the_excel_file_has_the_same_numbers(world: World, orders: dict[str, Any]) -> None:
    response = _client(world.dispatcher).get(
        reverse("hotline_staff:stats_xlsx"), {"first": "2026-11-01", "last": "2026-11-30"}
    )

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="hotline-stats-20261101-20261130.xlsx"'
    )
    book = load_workbook(BytesIO(response.content))
    assert book.sheetnames == ["按单位", "按一级分类", "说明"]
    ws = book["按单位"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["名称", "工单量", "按时签收率"]
    rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    cgj = rows[world.cgj.name]
    col = {name: i for i, name in enumerate(header)}
    assert cgj[col["工单量"]] == 5
    assert cgj[col["按时签收率"]] == pytest.approx(0.5)
    assert cgj[col["按时办结率"]] == pytest.approx(0.333)
    assert cgj[col["办结率"]] == pytest.approx(0.5)
    assert cgj[col["满意率"]] == pytest.approx(0.5)
    assert cgj[col["平均办理时长（小时）"]] == pytest.approx(36.0)
    assert cgj[col["重复诉求率"]] == pytest.approx(0.2)
    total = rows["全市合计"]
    assert (total[col["工单量"]], total[col["办结率"]]) == (7, pytest.approx(0.6))
    assert ws.cell(row=2, column=col["按时签收率"] + 1).number_format == "0.0%"
    categories = {r[0]: r[1] for r in book["按一级分类"].iter_rows(min_row=2, values_only=True)}
    assert categories == {"城乡建设": 5, "环境保护": 1, "未分类": 1, "全市合计": 7}
    assert book["说明"]["B1"].value == "2026-11-01 至 2026-11-30"
