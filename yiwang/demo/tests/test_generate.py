"""`yiwang generate`: counts, a realistic status mix, readable by the progress query, run once."""

from __future__ import annotations

from datetime import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from yiwang.accounts.models import User
from yiwang.applications.clock import Limit, limit_due
from yiwang.applications.models import Application, Event, Task
from yiwang.applications.selectors import progress_lookup
from yiwang.core.calendar import SHANGHAI, work_calendar_load

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> None:
    call_command("demo", stdout=StringIO())


def _snapshot() -> list[tuple[str, str, str, int]]:
    return list(
        Application.objects.order_by("id").values_list("number", "status", "channel", "item_id")
    )


def test_generate_fills_the_database_and_refuses_a_second_run(demo: None) -> None:
    out = StringIO()
    call_command("generate", "--count", "400", "--batch", "150", "--seed", "7", stdout=out)

    assert Application.objects.count() == 400
    assert User.objects.filter(username__startswith="gen-").count() == 100
    assert "applications: 400/400" in out.getvalue()
    statuses = {
        s: Application.objects.filter(status=s).count()
        for s in ("issued", "concluded", "refused", "withdrawn", "in_review")
    }
    assert statuses["issued"] > 400 // 3
    assert statuses["issued"] + statuses["concluded"] > 400 // 2
    assert statuses["refused"] + statuses["withdrawn"] > 0
    assert statuses["in_review"] > 0
    # Every application has a timeline; decided ones have their department task.
    assert Event.objects.values("application").distinct().count() == 400
    issued = Application.objects.filter(status="issued")
    assert Task.objects.filter(application__in=issued, status="done").count() == issued.count()
    assert all(a.issued_at and a.concluded_at and a.accepted_at for a in issued)

    # Due dates are the promised limit on the work calendar from acceptance, as the service
    # computes them (a weekend or a holiday never ends a working-day limit).
    calendar = work_calendar_load()
    checked = 0
    for app in Application.objects.filter(accepted_at__isnull=False).select_related("version"):
        assert app.accepted_at is not None
        limit = Limit(app.version.promise_limit, app.version.promise_unit)
        deadline = limit_due(calendar, app.accepted_at, limit)
        if deadline is None:
            assert app.due_date is None
            continue
        due = deadline.due
        expected = due.astimezone(SHANGHAI).date() if isinstance(due, datetime) else due
        assert app.due_date == expected, app.number
        if limit.unit == "working_day" and limit.amount:
            assert calendar.is_working_day(app.due_date)
        checked += 1
    assert checked > 100

    # The public progress query finds a generated case by number + last four digits only.
    case = Application.objects.filter(status="issued").order_by("id").first()
    assert case is not None
    assert case.contact_phone[-4:] == case.contact_phone_last4
    found = progress_lookup(number=case.number, phone_last4=case.contact_phone_last4)
    assert found is not None
    assert found.status == "issued"
    assert found.events[0].kind == "submitted"
    wrong = "0000" if case.contact_phone_last4 != "0000" else "1111"
    assert progress_lookup(number=case.number, phone_last4=wrong) is None

    with pytest.raises(CommandError, match="--append"):
        call_command("generate", "--count", "10", stdout=StringIO())
    assert Application.objects.count() == 400

    call_command("generate", "--count", "20", "--append", stdout=StringIO())
    assert Application.objects.count() == 420
    assert Application.objects.values("number").distinct().count() == 420


def test_generate_needs_the_demo_catalog() -> None:
    with pytest.raises(CommandError, match="demo"):
        call_command("generate", "--count", "5", stdout=StringIO())
    assert not Application.objects.exists()


def test_generate_is_deterministic_for_a_seed(demo: None) -> None:
    call_command("generate", "--count", "50", "--seed", "3", stdout=StringIO())
    first = _snapshot()
    Event.objects.all().delete()
    Task.objects.all().delete()
    Application.objects.all().delete()
    User.objects.filter(username__startswith="gen-").delete()
    call_command("generate", "--count", "50", "--seed", "3", stdout=StringIO())
    second = _snapshot()
    # Ids (and so numbers) move on; the generated mix is the same.
    assert [row[1:] for row in first] == [row[1:] for row in second]
