"""Intake cost (issue 5: orders per second): the queries of one registration with dispatch,
held exactly, and what the cheaper path still writes (numbers, events, audit rows, notices to
every handler) and leaves unwritten when it fails half-way."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yiwang.accounts.models import Role, User
from yiwang.accounts.services import role_grant, staff_create
from yiwang.core.audit import audit_verify
from yiwang.core.errors import ValidationError
from yiwang.core.models import AuditEntry, OutboxMessage
from yiwang.hotline import services
from yiwang.hotline.models import Assignment, Event, WorkOrder
from yiwang.hotline.tests.conftest import World
from yiwang.notifications.models import Notification, OutboundMessage

STREETLIGHT = "人民路与解放路交叉口的路灯坏了好几天，晚上一片漆黑，行人很不安全"
MANHOLE = "高新区天堂寨路的井盖丢了，晚上很危险"


def _register(world: World, content: str) -> services.Intake:
    return services.work_order_register(
        actor=world.citizen,
        citizen=world.citizen,
        channel=WorkOrder.Channel.API,
        content=content,
        category=world.streetlight,
        division_code="341502",
    )


def _more_handlers(world: World, n: int) -> list[User]:
    admin = User.objects.get(username="demo-admin")
    people = []
    for i in range(n):
        person = staff_create(
            actor=admin,
            username=f"cgj-handler-{i}",
            real_name=f"城管承办{i}",
            department=world.cgj,
            password="yiwang-demo-2026",
        )
        role_grant(actor=admin, user=person, role=Role.HANDLING_UNIT, department=world.cgj)
        people.append(person)
    return people


def test_one_registration_with_dispatch_costs_30_queries(world: World) -> None:
    # given a first registration (the audit chain's head is then known to this process)
    _register(world, STREETLIGHT)

    # when a citizen's order of a sure category is registered and dispatched by the catalogue
    with CaptureQueriesContext(connection) as queries:
        intake = _register(world, MANHOLE)

    # then (37 before issue 5's intake work) the duplicate check 1, the order and its events
    # 2, its audit row 2, the citizen's notice 7, the catalogue rule 2, the assignment 1,
    # the time limit 1, the calendar stamp 1, the dispatch 2 + audit 2, the unit's handlers
    # 2, their notices 5, the transaction's savepoint 2
    assert intake.dispatched
    assert len(queries) == 30, "\n".join(q["sql"][:120] for q in queries.captured_queries)


def test_a_category_given_by_its_code_is_read_with_its_chain_in_one_query(world: World) -> None:
    _register(world, STREETLIGHT)

    with CaptureQueriesContext(connection) as queries:
        intake = services.work_order_register(
            actor=world.citizen,
            citizen=world.citizen,
            channel=WorkOrder.Channel.API,
            content=MANHOLE,
            category=world.streetlight.code,
            division_code="341502",
        )

    # one query more than with the category object: the category and its two ancestors
    assert intake.dispatched
    assert intake.order.category == world.streetlight
    assert len(queries) == 31, "\n".join(q["sql"][:120] for q in queries.captured_queries)


def test_the_query_count_does_not_grow_with_the_handlers_of_the_unit(world: World) -> None:
    _register(world, STREETLIGHT)
    with CaptureQueriesContext(connection) as one_handler:
        _register(world, MANHOLE)
    handlers = [world.handler, *_more_handlers(world, 4)]

    with CaptureQueriesContext(connection) as five_handlers:
        intake = _register(world, "城南镇幸福路的下水道堵了，污水漫到路上")

    assert len(five_handlers) == len(one_handler) == 30
    order = intake.order
    told = Notification.objects.filter(
        event="hotline.dispatched", link=f"/console/hotline/orders/{order.public_id}/"
    ).order_by("pk")
    assert [n.recipient_id for n in told] == [h.pk for h in handlers]
    assert {n.body for n in told} == {f"工单 {order.number}：{order.title}"}
    audit_rows = AuditEntry.objects.filter(object_id__in=[str(n.pk) for n in told]).filter(
        action="notifications.notify"
    )
    assert sorted((a.after or {})["recipient_id"] for a in audit_rows) == sorted(
        h.pk for h in handlers
    )


def test_a_dispatched_registration_writes_what_it_wrote_before(world: World) -> None:
    seq = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0

    intake = _register(world, MANHOLE)

    order = WorkOrder.objects.get(pk=intake.order.pk)
    assert order.number == intake.order.number
    assert order.number.startswith("GD")
    assert order.number.endswith(f"{order.pk:08d}")
    assert order.status == WorkOrder.Status.DISPATCHED
    assert order.lead_unit_id == world.cgj.pk
    assert order.sign_due is not None
    assert order.handle_due is not None
    assert list(order.events.order_by("pk").values_list("kind", flat=True)) == [
        "registered",
        "dispatched",
    ]
    assert list(
        Assignment.objects.filter(order=order).values_list("round", "unit_id", "role", "status")
    ) == [(1, world.cgj.pk, "lead", "pending")]
    trail = list(AuditEntry.objects.filter(seq__gt=seq).order_by("seq"))
    assert [(a.action, a.object_type) for a in trail] == [
        ("hotline.register", "hotline.workorder"),
        ("notifications.notify", "notifications.notification"),
        ("hotline.dispatch", "hotline.workorder"),
        ("notifications.notify", "notifications.notification"),
    ]
    assert (trail[0].after or {})["number"] == order.number
    assert (trail[2].after or {})["lead"] == "la-cgj"
    assert (trail[3].after or {})["recipient_id"] == world.handler.pk
    assert audit_verify().ok
    # the citizen: in-app and SMS after the commit
    sms = OutboundMessage.objects.get(recipient=world.citizen, event="hotline.registered")
    assert order.number in sms.body
    assert OutboxMessage.objects.filter(payload__outbound_id=sms.pk).count() == 1


def test_a_registration_left_waiting_gets_its_number_too(world: World) -> None:
    intake = services.work_order_register(
        actor=world.citizen,
        citizen=world.citizen,
        channel=WorkOrder.Channel.API,
        content=MANHOLE,
        auto_dispatch=False,
    )

    order = WorkOrder.objects.get(pk=intake.order.pk)
    assert not intake.dispatched
    assert order.status == WorkOrder.Status.REGISTERED
    assert order.number == intake.order.number == f"{order.number[:10]}{order.pk:08d}"


def test_a_dispatch_that_fails_half_way_leaves_nothing_written(world: World) -> None:
    # given the catalogue's lead unit closed (the dispatch refuses it after the order, its
    # event, its audit row and the citizen's notice are written)
    world.cgj.active = False
    world.cgj.save(update_fields=["active"])
    orders, events, notices = (
        WorkOrder.objects.count(),
        Event.objects.count(),
        Notification.objects.count(),
    )
    seq = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0

    with pytest.raises(ValidationError) as caught:
        _register(world, MANHOLE)

    assert caught.value.code == "hotline.unit_invalid"
    assert WorkOrder.objects.count() == orders
    assert Event.objects.count() == events
    assert Notification.objects.count() == notices
    assert AuditEntry.objects.filter(seq__gt=seq).count() == 0
    assert audit_verify().ok
