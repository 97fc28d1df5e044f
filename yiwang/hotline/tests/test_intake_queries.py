"""Intake cost (issue 5: orders per second): the queries of one registration with dispatch,
held exactly, and what the cheaper path still writes (numbers, events, audit rows, notices to
every handler) and leaves unwritten when it fails half-way; the API's answer to an intake,
built from the rows just written, is what a later read shows."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
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


def _listing(queries: CaptureQueriesContext) -> str:
    return "\n".join(q["sql"][:120] for q in queries.captured_queries)


def _besides_audit(queries: CaptureQueriesContext) -> int:
    """The statements of a registration but the audit chain's (core's; counted in its tests:
    two per transaction or two per audited write, depending on where the chain is built)."""
    return sum('"core_audit' not in q["sql"] for q in queries.captured_queries)


def test_one_registration_with_dispatch_costs_16_queries_besides_the_audit_rows(
    world: World,
) -> None:
    # given a first registration (the audit chain's head is then known to this process)
    _register(world, STREETLIGHT)

    # when a citizen's order of a sure category is registered and dispatched by the catalogue
    with CaptureQueriesContext(connection) as queries:
        intake = _register(world, MANHOLE)

    # then (37 with the audit rows before issue 5's intake work; then 22, 20 besides them)
    # the duplicate check 1, the order 1, the citizen's notice 3, the catalogue rule 1 (which
    # tells whether it names assisting units), the assignment 1, the time limit 1, the
    # calendar stamp 1, the dispatch 1 (with the number on PostgreSQL), the unit's handlers
    # 2, their notice 1 (the notices in the registration's transaction, no savepoint of their
    # own), the whole timeline 1, the transaction's savepoint 2
    assert intake.dispatched
    assert _besides_audit(queries) == 16, _listing(queries)


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
    assert _besides_audit(queries) == 17, _listing(queries)


def test_the_query_count_does_not_grow_with_the_handlers_of_the_unit(world: World) -> None:
    _register(world, STREETLIGHT)
    with CaptureQueriesContext(connection) as one_handler:
        _register(world, MANHOLE)
    handlers = [world.handler, *_more_handlers(world, 4)]

    with CaptureQueriesContext(connection) as five_handlers:
        intake = _register(world, "城南镇幸福路的下水道堵了，污水漫到路上")

    assert len(five_handlers) == len(one_handler)
    assert _besides_audit(five_handlers) == 16, _listing(five_handlers)
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


def _waiting(world: World, content: str) -> services.Intake:
    return services.work_order_register(
        actor=world.citizen,
        citizen=world.citizen,
        channel=WorkOrder.Channel.API,
        content=content,
        auto_dispatch=False,
    )


def test_a_waiting_registration_writes_its_number_with_the_insert_on_sqlite(world: World) -> None:
    _waiting(world, STREETLIGHT)

    with CaptureQueriesContext(connection) as queries:
        intake = _waiting(world, MANHOLE)

    # SQLite: the INSERT computes the number from the id it gives; PostgreSQL: one UPDATE more
    writes = [
        q["sql"].split(None, 1)[0]
        for q in queries.captured_queries
        if '"hotline_workorder"' in q["sql"].split("(", 1)[0]
    ]
    assert writes == (["INSERT"] if connection.vendor == "sqlite" else ["INSERT", "UPDATE"])
    order = WorkOrder.objects.get(pk=intake.order.pk)
    assert order.number == intake.order.number == f"{order.number[:10]}{order.pk:08d}"


@pytest.mark.parametrize("moved", [-(10**6), 5])
def test_the_number_is_the_id_sqlite_gives_whatever_its_sequence_says(
    world: World, moved: int
) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("sqlite_sequence is SQLite's")
    _waiting(world, STREETLIGHT)
    # given the table's sequence entry moved by hand: behind the largest id, or ahead of it
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE sqlite_sequence SET seq = max(seq + %s, 0) WHERE name = 'hotline_workorder'",
            [moved],
        )

    intake = _waiting(world, MANHOLE)

    order = WorkOrder.objects.get(pk=intake.order.pk)
    assert order.number == intake.order.number == f"{order.number[:10]}{order.pk:08d}"
    latest = WorkOrder.objects.exclude(pk=order.pk).order_by("-pk").first()
    assert latest is not None
    assert order.pk == latest.pk + (1 if moved < 0 else moved + 1)


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


# --- through the API -------------------------------------------------------------------------

ORDERS = "/api/v1/hotline/orders"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
JINAN = {"lat": 31.752, "long": 116.534}  # 金安区 (341502)
_HOTLINE_TABLE = re.compile(r'"(hotline_\w+)"')


def _citizen_client(world: World) -> Client:
    client = Client()
    client.force_login(world.citizen, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _post(client: Client, body: dict[str, Any]) -> Any:
    return client.post(ORDERS, json.dumps(body), content_type="application/json")


def _hotline_statements(queries: list[dict[str, str]]) -> list[tuple[str, list[str]]]:
    """Each statement that names a hotline table: its verb and those tables."""
    out = []
    for q in queries:
        tables = sorted(set(_HOTLINE_TABLE.findall(q["sql"])))
        if tables:
            out.append((q["sql"].split(None, 1)[0], tables))
    return out


def test_an_intake_through_the_api_reads_back_none_of_the_rows_it_wrote(world: World) -> None:
    client = _citizen_client(world)
    _post(client, {"content": STREETLIGHT, "category": "cxjs-szss-ld", **JINAN})
    photo = {"filename": "manhole.png", "content_base64": base64.b64encode(PNG).decode()}

    # (the captured queries are read at once: the next request clears the connection's log)
    with CaptureQueriesContext(connection) as queries:
        answer = _post(
            client, {"content": MANHOLE, "category": "cxjs-szss-jg", "photos": [photo], **JINAN}
        )
    statements = _hotline_statements(queries.captured_queries)

    assert answer.status_code == 201, answer.content
    assert answer.json()["status"] == "dispatched"
    # the category, the duplicate check, the writes of registration and dispatch (one INSERT
    # for the whole timeline) and nothing read back for the answer; the catalogue rule says
    # in the same query that it names no assisting unit (before: 16 statements)
    assert statements == [
        ("SELECT", ["hotline_category"]),
        ("SELECT", ["hotline_workorder"]),
        ("INSERT", ["hotline_workorder"]),
        ("INSERT", ["hotline_attachment"]),
        ("SELECT", ["hotline_dispatchrule", "hotline_dispatchrule_assisting_units"]),
        ("INSERT", ["hotline_assignment"]),
        ("SELECT", ["hotline_timelimit"]),
        ("UPDATE", ["hotline_workorder"]),
        ("INSERT", ["hotline_event"]),
    ], "\n".join(q["sql"][:120] for q in queries.captured_queries)
    # and the answer is what the citizen reads later
    later = client.get(f"/api/v1/me/hotline/orders/{answer.json()['id']}")
    assert answer.json() == later.json()
    assert [e["kind"] for e in later.json()["events"]] == ["registered", "dispatched"]
    assert later.json()["photos"] == [
        {"name": "manhole.png", "content_type": "image/png", "size": len(PNG)}
    ]
    assert later.json()["handle_due"] is not None


@pytest.mark.parametrize(
    "body",
    [
        # an assisting unit (道路破损: 城管局 leads, 住建局 assists)
        {"content": "人民路中段路面塌陷了一个大坑，车辆经过很危险", "category": "cxjs-szss-dl"},
        # an emergency: flagged, urgent, waits for a dispatcher
        {"content": "楼下饭店着火了，火很大，有人被困"},
        # no category: waits for a dispatcher
        {"content": "我想咨询一下公积金怎么提取"},
    ],
)
def test_every_kind_of_intake_answers_what_a_later_read_shows(
    world: World, body: dict[str, Any]
) -> None:
    client = _citizen_client(world)

    answer = _post(client, {**body, **JINAN})

    assert answer.status_code == 201, answer.content
    later = client.get(f"/api/v1/me/hotline/orders/{answer.json()['id']}")
    assert answer.json() == later.json()


def test_a_duplicate_intake_names_the_open_order_it_may_repeat(world: World) -> None:
    first = _register(world, STREETLIGHT)
    client = _citizen_client(world)

    with CaptureQueriesContext(connection) as queries:
        answer = _post(client, {"content": STREETLIGHT, "category": "cxjs-szss-ld", **JINAN})
    statements = _hotline_statements(queries.captured_queries)

    # waiting for a dispatcher, the first order named in the audit row: the duplicate check
    # read its number with the comparison (before: a second read of the candidates)
    assert answer.status_code == 201, answer.content
    assert answer.json()["status"] == "registered"
    assert [s for s in statements if s[0] == "SELECT"] == [
        ("SELECT", ["hotline_category"]),
        ("SELECT", ["hotline_workorder"]),
    ]
    order = WorkOrder.objects.get(public_id=answer.json()["id"])
    audit = AuditEntry.objects.get(action="hotline.register", object_id=str(order.pk))
    assert (audit.after or {})["duplicates"] == [first.order.number]
    later = client.get(f"/api/v1/me/hotline/orders/{answer.json()['id']}")
    assert answer.json() == later.json()


def test_the_duplicates_a_registration_returns_load_the_rest_when_asked(world: World) -> None:
    first = _register(world, STREETLIGHT).order

    second = _register(world, STREETLIGHT)

    [candidate] = second.duplicates
    assert candidate.order.pk == first.pk
    assert candidate.order.number == first.number
    # fields the check did not read come from the database on first use, as with .only()
    stored = WorkOrder.objects.get(pk=first.pk)
    assert candidate.order.status == stored.status == WorkOrder.Status.DISPATCHED
    assert candidate.order.content == stored.content
    assert candidate.order.lead_unit_id == world.cgj.pk
