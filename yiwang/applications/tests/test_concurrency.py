"""Two people acting on one task at the same moment: one wins, the other gets a conflict
(real threads on PostgreSQL, whose row locks the services rely on)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

from yiwang.applications import errors, services
from yiwang.applications.models import Application, Task
from yiwang.applications.tests.conftest import submit
from yiwang.core.errors import Conflict
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db(transaction=True)


def race(*calls: Callable[[], object]) -> tuple[list[object], list[BaseException]]:
    barrier = threading.Barrier(len(calls))
    results: list[object] = []
    failures: list[BaseException] = []

    def run(call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results.append(call())
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, failures


@pytest.fixture
def task_of_b(version, citizen, clerk, dept_b) -> Task:
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite serialises whole transactions)")
    application = services.application_accept(application=submit(version, citizen), actor=clerk)
    return application.tasks.get(department=dept_b)


def test_two_claimants_one_wins_the_other_gets_a_conflict(task_of_b, approver_b, approver_b2):
    results, failures = race(
        lambda: services.task_claim(task=task_of_b, actor=approver_b),
        lambda: services.task_claim(task=task_of_b, actor=approver_b2),
    )

    assert len(results) == 1
    assert len(failures) == 1
    assert isinstance(failures[0], Conflict)
    assert failures[0].code == errors.TASK_TAKEN
    task_of_b.refresh_from_db()
    assert task_of_b.assignee in (approver_b, approver_b2)
    assert AuditEntry.objects.filter(action="applications.task_claim").count() == 1


def test_two_deciders_one_decision(task_of_b, approver_b, approver_b2):
    results, failures = race(
        lambda: services.task_complete(
            task=task_of_b, actor=approver_b, outcome="approve", opinion="同意"
        ),
        lambda: services.task_complete(
            task=task_of_b, actor=approver_b2, outcome="refuse", opinion="不同意"
        ),
    )

    assert len(results) == 1
    assert len(failures) == 1
    assert isinstance(failures[0], Conflict)
    task_of_b.refresh_from_db()
    application = Application.objects.get(pk=task_of_b.application_id)
    expected = "rejected" if task_of_b.outcome == "refuse" else "in_review"
    assert application.status == expected
    assert AuditEntry.objects.filter(action="applications.task_complete").count() == 1


def test_parallel_departments_completing_together_both_count(
    version, citizen, clerk, approver_b, approver_c, dept_b, dept_c
):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    application = services.application_accept(application=submit(version, citizen), actor=clerk)
    tax = application.tasks.get(department=dept_b)
    housing = application.tasks.get(department=dept_c)

    results, failures = race(
        lambda: services.task_complete(
            task=tax, actor=approver_b, outcome="approve", opinion="同意"
        ),
        lambda: services.task_complete(
            task=housing, actor=approver_c, outcome="approve", opinion="同意"
        ),
    )

    assert failures == []
    assert len(results) == 2
    # the join saw both branches: the decision task is open
    assert [t.name for t in application.tasks.filter(status="open")] == ["决定"]


def test_a_double_submit_with_one_key_makes_one_application(version, citizen):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")

    results, failures = race(
        lambda: submit(version, citizen, idempotency_key="double-click"),
        lambda: submit(version, citizen, idempotency_key="double-click"),
    )

    assert failures == []
    assert len({a.pk for a in results}) == 1  # type: ignore[attr-defined]
    assert Application.objects.count() == 1
