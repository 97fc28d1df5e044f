"""A worker that dies mid-task loses no order and dispatches none twice.

Real processes on PostgreSQL: a child process registers (and so dispatches) orders, or runs the
deadline job, and is killed with SIGKILL in the middle; the database is then checked row by row.
Every order the child saw committed is there, complete (number, dispatch round, lead
assignment, timeline, audit row), and nothing exists twice. (SQLite test databases live in the
test process's memory, out of a child's reach: these tests run on PostgreSQL, as in the city.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from yiwang.core.models import AuditEntry
from yiwang.hotline import services
from yiwang.hotline.models import Assignment, Event, WorkOrder
from yiwang.hotline.tests.conftest import World

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parents[3]

CHILD_REGISTER = """
import django, sys
django.setup()
from yiwang.accounts.models import User
from yiwang.hotline import services
from yiwang.hotline.models import Category
actor = User.objects.get(username="demo-dispatcher")
category = Category.objects.get(code="cxjs-szss-ld")
for i in range(10_000):
    intake = services.work_order_register(
        actor=actor, channel="phone", content=f"第{i}号测试：金安区第{i}路口路灯不亮，请尽快修理",
        caller_phone="13800000001", division_code="341502", category=category,
        title=f"路灯{i}",
    )
    print(intake.order.number, flush=True)
"""

CHILD_DEADLINES = """
import django
django.setup()
from datetime import timedelta
from django.utils import timezone
from yiwang.hotline import services
print("start", flush=True)
services.work_orders_check_deadlines(now=timezone.now() + timedelta(days=30))
print("done", flush=True)
"""


def _child_env() -> dict[str, str]:
    if connection.vendor != "postgresql":
        pytest.skip("a child process cannot reach the in-memory SQLite test database")
    db = connection.settings_dict
    env = dict(os.environ)
    env["DATABASE_URL"] = (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )
    env["DJANGO_SETTINGS_MODULE"] = "yiwang.settings.test"
    env["YIWANG_DATA_DIR"] = str(settings.DATA_DIR)
    env["PYTHONPATH"] = str(REPO)
    # Every order here is about a streetlight in 金安区: without this they would be proposed as
    # duplicates of each other and wait for a dispatcher instead of being dispatched.
    env["YIWANG_HOTLINE_DUPLICATE_DAYS"] = "0"
    return env


def _run_and_kill(code: str, *, after_lines: int, timeout: float = 60) -> list[str]:
    child = subprocess.Popen(  # noqa: S603 - our own code, our own interpreter
        [sys.executable, "-c", code],
        env=_child_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while len(lines) < after_lines and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        lines.append(line.strip())
    os.kill(child.pid, signal.SIGKILL)  # mid-way through the next order or batch
    child.wait(timeout=10)
    child.stdout.close()
    return lines


def test_registering_worker_killed_loses_nothing_and_dispatches_nothing_twice(
    world: World,
) -> None:
    printed = _run_and_kill(CHILD_REGISTER, after_lines=25)
    assert len(printed) == 25

    orders = list(WorkOrder.objects.order_by("pk"))
    numbers = [o.number for o in orders]
    assert set(printed) <= set(numbers)  # nothing committed was lost
    assert len(numbers) - len(printed) in (0, 1)  # at most the one committed before the kill
    assert not any(n.startswith("tmp-") for n in numbers)  # no half-written order
    for order in orders:
        assert order.status == WorkOrder.Status.DISPATCHED
        assert order.dispatch_count == 1
        assert order.lead_unit_id == world.cgj.pk
    leads = Counter(Assignment.objects.filter(role="lead").values_list("order_id", flat=True))
    assert set(leads.values()) == {1}
    assert set(leads) == {o.pk for o in orders}
    dispatched = Counter(Event.objects.filter(kind="dispatched").values_list("order_id", flat=True))
    assert set(dispatched.values()) == {1}
    audited = Counter(
        AuditEntry.objects.filter(action="hotline.dispatch").values_list("object_id", flat=True)
    )
    assert audited == Counter({str(o.pk): 1 for o in orders})


def test_deadline_worker_killed_mid_run_then_rerun_escalates_each_order_once(
    world: World, settings: object
) -> None:
    settings.YIWANG_HOTLINE_DUPLICATE_DAYS = 0  # type: ignore[attr-defined]
    env_ok = _child_env()  # skips on SQLite before creating anything
    assert env_ok
    for i in range(60):
        services.work_order_register(
            actor=world.dispatcher,
            channel="phone",
            content=f"第{i}号：金安区人民路第{i}根路灯不亮",
            title=f"路灯{i}",
            caller_phone="13800000001",
            division_code="341502",
            category=world.streetlight,
        )
    assert WorkOrder.objects.filter(status="dispatched").count() == 60

    printed = _run_and_kill(CHILD_DEADLINES, after_lines=1)
    assert printed == ["start"]
    # The child escalated some (or all) orders, each in its own transaction, before it died.
    services.work_orders_check_deadlines(now=timezone.now() + timedelta(days=30))
    assert WorkOrder.objects.filter(escalated_at__isnull=True).count() == 0
    escalated = Counter(Event.objects.filter(kind="escalated").values_list("order_id", flat=True))
    assert len(escalated) == 60
    assert set(escalated.values()) == {1}
    audited = Counter(
        AuditEntry.objects.filter(action="hotline.escalate").values_list("object_id", flat=True)
    )
    assert set(audited.values()) == {1}
    assert len(audited) == 60
