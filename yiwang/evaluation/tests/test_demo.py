"""The demo ratings: made through the services, once, with a rectification in each state."""

from __future__ import annotations

import pytest

from yiwang.accounts.demo import accounts_demo_load
from yiwang.accounts.models import User
from yiwang.catalog.tests.factories import PublishedVersionFactory
from yiwang.core.models import AuditEntry
from yiwang.evaluation.demo import evaluation_demo_load
from yiwang.evaluation.models import Invitation, Rating, Rectification
from yiwang.evaluation.selectors import rating_stats_by_department, supervised_department_ids

pytestmark = pytest.mark.django_db


def test_the_demo_makes_its_ratings_once():
    accounts_demo_load(password="yiwang-demo-2026")
    food = PublishedVersionFactory(name="食品经营许可", item__department__code="la-scjgj").item

    first = evaluation_demo_load()
    second = evaluation_demo_load()

    assert (first, second) == (6, 0)
    citizen = User.objects.get(username="demo-citizen")
    assert Invitation.objects.filter(rater=citizen, status="pending").count() == 1
    assert Rating.objects.count() == 5
    assert sorted(Rectification.objects.values_list("status", flat=True)) == ["closed", "open"]
    open_one = Rectification.objects.get(status="open")
    assert open_one.department.code == "la-scjgj"
    assert open_one.rating.invitation.title == "食品经营许可"
    assert open_one.rating.invitation.item == food
    # without the catalog demo, the others carry their title and no item
    assert Invitation.objects.filter(item__isnull=True).count() == 5
    assert Rating.objects.get(on_behalf_of__username="demo-elder").level == 3
    assert AuditEntry.objects.filter(action="evaluation.rectification_follow_up").count() == 1
    supervisor = User.objects.get(username="demo-supervisor")
    rows = rating_stats_by_department(department_ids=supervised_department_ids(supervisor))
    assert sum(row.total for row in rows) == 5


def test_the_demo_waits_for_the_accounts_demo():
    assert evaluation_demo_load() == 0
    assert not Invitation.objects.exists()
