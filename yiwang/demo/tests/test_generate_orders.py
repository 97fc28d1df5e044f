"""`yiwang generate_orders`: counts, a realistic mix, rows the pages can use, deterministic."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from yiwang.accounts.selectors import phone_blind_index
from yiwang.core import crypto
from yiwang.hotline.models import Assignment, Reply, ReturnVisit, WorkOrder
from yiwang.hotline.selectors import dispatch_rule_for

pytestmark = pytest.mark.django_db
Status = WorkOrder.Status


@pytest.fixture
def demo() -> None:
    call_command("demo", stdout=StringIO())


def _snapshot() -> list[tuple[str, str, str, int | None, int | None, int | None]]:
    return list(
        WorkOrder.objects.order_by("id").values_list(
            "number", "status", "channel", "category_id", "lead_unit_id", "satisfaction"
        )
    )


def _delete_generated() -> None:
    WorkOrder.objects.filter(merged_into__isnull=False).delete()
    WorkOrder.objects.all().delete()


def test_generate_orders_fills_the_hotline(demo: None) -> None:
    out = StringIO()
    call_command(
        "generate_orders", "--count", "600", "--batch", "250", "--seed", "7", "--phones", "50",
        stdout=out,
    )  # fmt: skip

    assert WorkOrder.objects.count() == 600
    assert "orders: 600/600" in out.getvalue()
    statuses = dict(WorkOrder.objects.values_list("status").annotate(n=Count("id")).order_by())
    assert statuses[Status.CLOSED] > 600 * 0.9
    # Open orders are recent: nothing registered a month ago is still open.
    old_open = WorkOrder.objects.filter(
        status__in=WorkOrder.OPEN_STATUSES, registered_at__lt=timezone.now() - timedelta(days=30)
    )
    assert old_open.count() == 0
    # Every routed order follows the catalogue and has its lead assignment and reply.
    routed = WorkOrder.objects.filter(lead_unit__isnull=False).select_related("category")
    for order in routed[:100]:
        assert order.category is not None
        rule = dispatch_rule_for(order.category, order.division_code)
        assert rule is not None
        assert rule.lead_unit_id == order.lead_unit_id
        assert Assignment.objects.filter(
            order=order, round=order.dispatch_count, unit=order.lead_unit, role="lead"
        ).exists()
        assert order.sign_due is not None
        assert order.handle_due is not None
    closed_routed = routed.filter(status=Status.CLOSED)
    assert Reply.objects.filter(order__in=closed_routed).values("order").distinct().count() == (
        closed_routed.count()
    )
    # The last answered visit is the order's satisfaction.
    visited = WorkOrder.objects.filter(satisfaction__isnull=False).first()
    assert visited is not None
    last = ReturnVisit.objects.filter(order=visited, result="answered").order_by("-created_at")[0]
    assert last.satisfaction == visited.satisfaction
    # Merged duplicates point at an order of the same matter; phones are encrypted like real ones.
    merged = WorkOrder.objects.filter(status=Status.MERGED).select_related("merged_into")
    assert all(m.merged_into and m.merged_into.category_id == m.category_id for m in merged)
    called = WorkOrder.objects.exclude(caller_phone="").first()
    assert called is not None
    assert called.caller_phone.startswith("1")
    assert called.caller_phone_index == phone_blind_index(called.caller_phone)
    with connection.cursor() as cursor:
        cursor.execute("SELECT caller_phone FROM hotline_workorder WHERE id = %s", [called.pk])
        stored = cursor.fetchone()[0]
    assert stored != called.caller_phone
    assert crypto.decrypt(stored) == called.caller_phone

    with pytest.raises(CommandError, match="already exist"):
        call_command("generate_orders", "--count", "5", stdout=StringIO())
    call_command("generate_orders", "--count", "20", "--append", stdout=StringIO())
    assert WorkOrder.objects.count() == 620


def test_generate_orders_needs_the_demo() -> None:
    with pytest.raises(CommandError, match="run `yiwang demo` first"):
        call_command("generate_orders", "--count", "5", stdout=StringIO())


def test_generate_orders_is_deterministic_for_a_seed(demo: None) -> None:
    call_command("generate_orders", "--count", "120", "--seed", "3", "--phones", "20",
                 stdout=StringIO())  # fmt: skip
    first = _snapshot()
    _delete_generated()
    call_command("generate_orders", "--count", "120", "--seed", "3", "--phones", "20",
                 stdout=StringIO())  # fmt: skip

    assert _snapshot() == first
    assert len({row[2] for row in first}) >= 2  # channels
