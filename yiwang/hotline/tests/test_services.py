"""The work-order loop through the services: register → dispatch → sign → reply → visit →
close, and the branches (return, re-dispatch, designation, reopen, supervision, merge,
emergency, extension). Bad input and wrong actors change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from yiwang.core.errors import Conflict, PermissionDenied, ValidationError
from yiwang.core.models import AuditEntry
from yiwang.evaluation.models import Invitation
from yiwang.hotline import services
from yiwang.hotline.models import Assignment, Event, Extension, WorkOrder
from yiwang.hotline.tests.conftest import World
from yiwang.notifications.models import Notification, OutboundMessage

Status = WorkOrder.Status
STREETLIGHT = "金安区人民路与解放路交叉口的路灯坏了好几天，晚上一片漆黑，行人很不安全"
REPLY = (
    "您好，经我局现场核查，人民路与解放路交叉口路灯因线路老化损坏，"
    "已于11月27日更换线路并恢复照明，今后我局将加强巡查。"
)


def _register(world: World, **kw: object) -> services.Intake:
    args: dict[str, object] = {
        "actor": world.dispatcher,
        "channel": WorkOrder.Channel.PHONE,
        "content": STREETLIGHT,
        "caller_name": "李小明",
        "caller_phone": "13800000001",
        "address": "六安市金安区人民路",
        "category": world.streetlight,
    }
    args.update(kw)
    return services.work_order_register(**args)  # type: ignore[arg-type]


def test_streetlight_is_dispatched_signed_replied_visited_and_closed(world: World) -> None:
    intake = _register(world)
    order = intake.order
    assert intake.dispatched is True
    assert intake.emergency is None
    order.refresh_from_db()
    assert order.status == Status.DISPATCHED
    assert order.lead_unit == world.cgj
    assert order.number.startswith("GD")
    assert len(order.number) == 18
    assert order.division_code == "341502"
    # the demo's streetlight limit: 24 natural hours
    assert order.handle_due is not None
    assert order.dispatched_at is not None
    assert order.handle_due - order.dispatched_at == timedelta(hours=24)

    services.work_order_sign(order=order, actor=world.handler)
    order.refresh_from_db()
    assert order.status == Status.HANDLING
    assert order.signed_at is not None

    services.work_order_reply(
        order=order,
        actor=world.handler,
        action="更换损坏线路，恢复照明",
        text=REPLY,
        outcome="resolved",
    )
    order.refresh_from_db()
    assert order.status == Status.REPLIED
    assert order.reply_on_time is True

    services.work_order_visit(order=order, actor=world.dispatcher, method="phone", satisfaction=5)
    order.refresh_from_db()
    assert order.status == Status.CLOSED
    assert order.outcome == "resolved"
    assert order.satisfaction == 5
    kinds = list(Event.objects.filter(order=order).values_list("kind", flat=True))
    assert kinds == [
        "registered",
        "dispatched",
        "signed",
        "replied",
        "survey_sent",  # the reply SMS to the caller's mobile asks for a rating
        "visited",
        "closed",
    ]
    actions = set(
        AuditEntry.objects.filter(
            object_id=str(order.pk), object_type="hotline.workorder"
        ).values_list("action", flat=True)
    )
    assert {"hotline.register", "hotline.dispatch", "hotline.sign", "hotline.reply"} <= actions
    # the citizen (found by account? no: a caller) got the registration and the reply by SMS
    assert Notification.objects.filter(recipient=world.citizen).count() == 0
    texts = list(
        OutboundMessage.objects.filter(recipient__isnull=True).values_list("body", flat=True)
    )
    assert any("已答复" in t for t in texts)


def test_an_online_order_of_a_citizen_is_theirs_and_invites_a_rating(world: World) -> None:
    intake = _register(
        world,
        actor=world.citizen,
        channel=WorkOrder.Channel.WEB,
        citizen=world.citizen,
        caller_name="",
        caller_phone="",
    )
    order = intake.order
    services.work_order_sign(order=order, actor=world.handler)
    services.work_order_reply(
        order=order, actor=world.handler, action="更换损坏线路", text=REPLY, outcome="resolved"
    )
    services.work_order_visit(order=order, actor=world.citizen, method="online", satisfaction=4)
    order.refresh_from_db()
    assert order.status == Status.CLOSED
    assert (
        Invitation.objects.filter(
            subject_kind="work_order", subject_id=str(order.public_id)
        ).count()
        == 1
    )
    assert (
        Notification.objects.filter(recipient=world.citizen, event="hotline.replied").count() == 1
    )


def test_bad_input_lists_every_problem_and_creates_nothing(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        services.work_order_register(
            actor=world.dispatcher,
            channel="fax",
            content="x" * 4001,
            caller_phone="12345",
            lat=31.7,
        )
    codes = {p["code"] for p in caught.value.extra["problems"]}
    assert {"hotline.channel_invalid", "hotline.content_too_long", "hotline.phone_invalid"} <= codes
    assert any(p["field"] == "location" for p in caught.value.extra["problems"])
    assert WorkOrder.objects.count() == 0


def test_html_is_stored_as_text(world: World) -> None:
    order = _register(world, content="<script>alert(1)</script>路灯不亮").order
    order.refresh_from_db()
    assert order.content == "<script>alert(1)</script>路灯不亮"


def test_only_the_lead_unit_signs_and_replies(world: World) -> None:
    order = _register(world).order
    with pytest.raises(PermissionDenied):
        services.work_order_sign(order=order, actor=world.other_handler)
    services.work_order_sign(order=order, actor=world.handler)
    with pytest.raises(PermissionDenied):
        services.work_order_reply(
            order=order,
            actor=world.other_handler,
            action="处理完毕了",
            text=REPLY,
            outcome="resolved",
        )
    order.refresh_from_db()
    assert order.status == Status.HANDLING


def test_boilerplate_reply_is_refused_and_changes_nothing(world: World) -> None:
    order = _register(world).order
    services.work_order_sign(order=order, actor=world.handler)
    with pytest.raises(ValidationError) as caught:
        services.work_order_reply(
            order=order,
            actor=world.handler,
            action="已处理完毕",
            text="已收到，正在处理。",
            outcome="resolved",
        )
    assert caught.value.code == "hotline.reply_refused"
    order.refresh_from_db()
    assert order.status == Status.HANDLING
    assert order.replies.count() == 0


def test_return_review_and_redispatch_then_designation(world: World) -> None:
    order = _register(world).order
    for round_number in (1, 2):
        lead = world.cgj if round_number == 1 else world.zjj
        actor = world.handler if round_number == 1 else world.other_handler
        services.work_order_return_request(
            order=order, actor=actor, reason="不属于本单位职责范围，应由其他单位办理"
        )
        order.refresh_from_db()
        assert order.status == Status.RETURN_REQUESTED
        services.work_order_return_review(
            order=order,
            actor=world.dispatcher,
            accept=True,
            note="同意退单",
            lead_unit=world.zjj if lead == world.cgj else world.cgj,
        )
        order.refresh_from_db()
        assert order.dispatch_count == round_number + 1
    assert order.designated is True  # third dispatch: the centre designates
    assert order.lead_unit == world.cgj
    with pytest.raises(Conflict) as caught:
        services.work_order_return_request(
            order=order, actor=world.handler, reason="还是不属于我们的职责"
        )
    assert caught.value.code == "hotline.designated"
    assert Assignment.objects.filter(order=order, status="returned").count() == 2


def test_a_refused_return_goes_back_to_the_unit(world: World) -> None:
    order = _register(world).order
    services.work_order_sign(order=order, actor=world.handler)
    services.work_order_return_request(
        order=order, actor=world.handler, reason="不属于本单位职责范围"
    )
    services.work_order_return_review(
        order=order, actor=world.dispatcher, accept=False, note="路灯属城管局职责"
    )
    order.refresh_from_db()
    assert order.status == Status.HANDLING
    assert order.lead_unit == world.cgj


def test_unsatisfied_reopens_once_then_goes_to_the_supervisor(world: World) -> None:
    order = _register(world).order
    services.work_order_sign(order=order, actor=world.handler)
    for _ in range(2):
        services.work_order_reply(
            order=order, actor=world.handler, action="更换损坏线路", text=REPLY, outcome="resolved"
        )
        services.work_order_visit(
            order=order,
            actor=world.dispatcher,
            method="phone",
            satisfaction=2,
            comment="灯还是不亮",
        )
        order.refresh_from_db()
    assert order.status == Status.SUPERVISING
    assert order.reopen_count == 1
    with pytest.raises(PermissionDenied):
        services.work_order_close(
            order=order, actor=world.dispatcher, outcome="resolved", note="已经修好了"
        )
    services.work_order_close(
        order=order, actor=world.supervisor, outcome="not_resolvable", note="线路改造需纳入明年计划"
    )
    order.refresh_from_db()
    assert order.status == Status.CLOSED
    assert order.outcome == "not_resolvable"


def test_duplicate_is_proposed_not_dispatched_and_merged_caller_gets_the_reply(
    world: World,
) -> None:
    first = _register(world).order
    second_intake = _register(
        world,
        caller_name="王",
        caller_phone="13900000002",
        content="人民路解放路交叉口路灯坏了好几天了，晚上漆黑一片很不安全",
    )
    assert [c.order.pk for c in second_intake.duplicates] == [first.pk]
    assert second_intake.dispatched is False
    second = second_intake.order
    services.work_order_merge(order=second, into=first, actor=world.dispatcher)
    second.refresh_from_db()
    assert second.status == Status.MERGED
    services.work_order_sign(order=first, actor=world.handler)
    services.work_order_reply(
        order=first, actor=world.handler, action="更换损坏线路", text=REPLY, outcome="resolved"
    )
    replies = OutboundMessage.objects.filter(body__contains="已答复").count()
    assert replies == 2


def test_an_emergency_is_flagged_and_transferred(world: World) -> None:
    intake = _register(world, content="楼下饭店着火了，现在火很大，有人被困", category=None)
    assert intake.emergency is not None
    assert intake.emergency.number == "119"
    assert intake.dispatched is False
    services.work_order_transfer(order=intake.order, actor=world.dispatcher)
    intake.order.refresh_from_db()
    assert intake.order.status == Status.TRANSFERRED
    assert intake.order.emergency_number == "119"


def test_extension_once_and_deadlines_escalate(world: World) -> None:
    order = _register(world).order
    services.work_order_sign(order=order, actor=world.handler)
    extension = services.work_order_extension_request(
        order=order, actor=world.handler, reason="需要更换变压器，等待供电部门配合"
    )
    with pytest.raises(Conflict):
        services.work_order_extension_request(
            order=order, actor=world.handler, reason="再延期一次可以吗"
        )
    services.work_order_extension_decide(extension=extension, actor=world.dispatcher, approve=True)
    order.refresh_from_db()
    assert order.extended is True
    assert Extension.objects.get(pk=extension.pk).status == "approved"
    warned, escalated = services.work_orders_check_deadlines(
        now=timezone.now() + timedelta(days=30)
    )
    assert (warned, escalated) == (0, 1)
    order.refresh_from_db()
    assert order.escalated_at is not None
    assert services.work_orders_check_deadlines(now=timezone.now() + timedelta(days=30)) == (0, 0)
