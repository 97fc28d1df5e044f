"""The statistics supervisors read, and the lists of the rater and of the desk."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from yiwang.accounts.models import Department, User
from yiwang.catalog.models import ServiceItem
from yiwang.catalog.tests.factories import PublishedVersionFactory
from yiwang.evaluation.models import Invitation, Rectification
from yiwang.evaluation.selectors import (
    RatingStats,
    city_today,
    invitation_list,
    rating_stats_by_department,
    rating_stats_by_item,
    rating_stats_total,
    rectification_list,
)
from yiwang.evaluation.tests.factories import (
    InvitationFactory,
    RatingFactory,
    RectificationFactory,
)

pytestmark = pytest.mark.django_db


def _ratings(department: Department, item: ServiceItem | None, levels: list[int]) -> None:
    for level in levels:
        RatingFactory(
            invitation__department=department,
            invitation__item=item,
            level=level,
            comment="意见" if level <= 2 else "",
        )


def test_counts_and_rates_per_department(bureau: Department, other_bureau: Department):
    # given 10 ratings of the bureau: 4×5, 2×4, 1×3, 2×2, 1×1, and 3 of another bureau
    _ratings(bureau, None, [5, 5, 5, 5, 4, 4, 3, 2, 2, 1])
    _ratings(other_bureau, None, [1, 1, 5])

    (row,) = rating_stats_by_department(department_ids={bureau.pk})

    assert (row.key, row.label, row.code) == (bureau.pk, bureau.name, "la-scjgj")
    assert row.total == 10
    assert [n for _lv, _label, n in row.levels] == [4, 2, 1, 2, 1]
    assert [label for _lv, label, _n in row.levels] == [
        "非常满意",
        "满意",
        "基本满意",
        "不满意",
        "非常不满意",
    ]
    assert row.bad == 3
    assert row.good == 6
    assert row.satisfaction_rate == Decimal("70.0")
    assert row.good_rate == Decimal("60.0")


def test_rates_are_none_without_ratings_and_round_half_up():
    assert RatingStats(key=1, label="").satisfaction_rate is None
    assert RatingStats(key=1, label="").on_time_rate is None
    assert RatingStats(key=1, label="", counts={5: 2, 1: 1}).satisfaction_rate == Decimal("66.7")


def test_the_on_time_rate_counts_answered_and_overdue_only(bureau: Department):
    today = city_today()
    kw: dict[str, Any] = {"rating__invitation__department": bureau}
    replied = {"status": "replied", "replied_at": timezone.now(), "reply": "已整改。"}
    RectificationFactory(**kw, **replied, replied_on_time=True)
    RectificationFactory(**kw, **replied, replied_on_time=True)
    RectificationFactory(**kw, **replied, replied_on_time=False)
    RectificationFactory(**kw, due_on=today - timedelta(days=1))  # open, overdue
    RectificationFactory(**kw, due_on=today)  # open, still in time: not counted

    (row,) = rating_stats_by_department(department_ids={bureau.pk}, today=today)

    assert row.rectifications == 5
    assert (row.replied_on_time, row.replied_late, row.open_overdue, row.open_in_time) == (
        2,
        1,
        1,
        1,
    )
    assert row.on_time_rate == Decimal("50.0")
    assert row.bad == 5


def test_per_item_rows_carry_the_published_name_and_leave_out_ratings_without_item(
    bureau: Department, item: ServiceItem
):
    second = PublishedVersionFactory(name="食品经营许可", item__department=bureau).item
    _ratings(bureau, item, [5, 1])
    _ratings(bureau, second, [4, 4, 4])
    _ratings(bureau, None, [2])

    rows = rating_stats_by_item(department_ids={bureau.pk})

    assert [(r.label, r.total, r.bad) for r in rows] == [
        ("食品经营许可", 3, 0),
        ("个体工商户设立登记", 2, 1),
    ]
    assert rows[1].code == item.task_code


def test_the_period_is_by_the_day_of_the_rating_in_city_time(bureau: Department):
    _ratings(bureau, None, [5, 1])
    old = RatingFactory(invitation__department=bureau, level=2, comment="慢")
    from yiwang.evaluation.models import Rating

    Rating.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    today = city_today()

    (recent,) = rating_stats_by_department(
        department_ids={bureau.pk}, since=today - timedelta(days=30), until=today
    )
    (everything,) = rating_stats_by_department(department_ids={bureau.pk})

    assert recent.total == 2
    assert everything.total == 3
    assert (
        rating_stats_by_department(department_ids={bureau.pk}, until=today - timedelta(days=60))
        == []
    )


def test_departments_outside_the_scope_are_not_counted(
    bureau: Department, other_bureau: Department
):
    _ratings(other_bureau, None, [1])
    assert rating_stats_by_department(department_ids={bureau.pk}) == []
    assert rating_stats_by_item(department_ids={bureau.pk}) == []


def test_the_total_row_sums_the_rows(bureau: Department, other_bureau: Department):
    _ratings(bureau, None, [5, 1])
    _ratings(other_bureau, None, [3])
    rows = rating_stats_by_department(department_ids={bureau.pk, other_bureau.pk})

    total = rating_stats_total(rows)

    assert total.total == 3
    assert total.bad == 1
    assert [r.label for r in rows] == ["六安市市场监督管理局", "六安市公安局"]


def test_stats_take_a_fixed_number_of_queries(
    bureau: Department, item: ServiceItem, django_assert_num_queries: Any
):
    for _ in range(3):
        _ratings(bureau, item, [5, 1])
        _ratings(PublishedVersionFactory().item.department, None, [2])
    RectificationFactory(rating__invitation__department=bureau)
    ids = set(Department.objects.values_list("pk", flat=True))

    with django_assert_num_queries(3):
        rating_stats_by_department(department_ids=ids)
    with django_assert_num_queries(4):
        rating_stats_by_item(department_ids=ids)


def test_the_rater_sees_only_their_invitations_waiting_ones_first(rater: User, other_citizen: User):
    rated = RatingFactory(invitation__rater=rater).invitation
    waiting = InvitationFactory(rater=rater)
    InvitationFactory(rater=other_citizen)

    assert list(invitation_list(rater=rater)) == [waiting, rated]
    assert list(invitation_list(rater=rater, status=Invitation.Status.RATED)) == [rated]


def test_the_desk_list_flags_overdue_and_sorts_open_first(
    bureau: Department, other_bureau: Department
):
    today = city_today()
    late = RectificationFactory(rating__invitation__department=bureau, due_on=today - timedelta(1))
    soon = RectificationFactory(rating__invitation__department=bureau, due_on=today)
    done = RectificationFactory(
        rating__invitation__department=bureau,
        status=Rectification.Status.CLOSED,
        replied_at=timezone.now(),
        replied_on_time=True,
        closed_at=timezone.now(),
        due_on=today - timedelta(days=9),
    )
    RectificationFactory(rating__invitation__department=other_bureau)

    rows = list(rectification_list(department_ids={bureau.pk}, today=today))

    assert rows == [late, soon, done]
    assert [getattr(r, "overdue", None) for r in rows] == [True, False, False]
    assert list(rectification_list(department_ids={bureau.pk}, overdue_only=True)) == [late]
