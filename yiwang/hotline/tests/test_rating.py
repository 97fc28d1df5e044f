"""The return visit (回访) gives the order its one rating in 好差评 (一事一评): the final visit's
level, recorded for the lead unit, with or without the caller's account; a 差评 opens a
rectification there. Closing without a rated visit invites a citizen with an account."""

from __future__ import annotations

from typing import Any

import pytest

from yiwang.core.errors import ValidationError
from yiwang.core.models import AuditEntry
from yiwang.evaluation.models import Invitation, Rating, Rectification
from yiwang.evaluation.selectors import invitation_list
from yiwang.hotline import services
from yiwang.hotline.models import WorkOrder
from yiwang.hotline.tests.conftest import World
from yiwang.notifications.models import Notification

Status = WorkOrder.Status
STREETLIGHT = "金安区人民路与解放路交叉口的路灯坏了好几天，晚上一片漆黑，行人很不安全"
REPLY = (
    "您好，经我局现场核查，人民路与解放路交叉口路灯因线路老化损坏，"
    "已于11月27日更换线路并恢复照明，今后我局将加强巡查。"
)


def _replied(world: World, **kw: Any) -> WorkOrder:
    """A phone caller's streetlight order, dispatched to 城管局, signed and replied."""
    args: dict[str, Any] = {
        "actor": world.dispatcher,
        "channel": WorkOrder.Channel.PHONE,
        "content": STREETLIGHT,
        "caller_name": "李小明",
        "caller_phone": "13800000001",
        "address": "六安市金安区人民路",
        "category": world.streetlight,
        **kw,
    }
    order = services.work_order_register(**args).order
    services.work_order_sign(order=order, actor=world.handler)
    _reply(world, order)
    return order


def _reply(world: World, order: WorkOrder) -> None:
    services.work_order_reply(
        order=order, actor=world.handler, action="更换损坏线路", text=REPLY, outcome="resolved"
    )


def _online(world: World) -> WorkOrder:
    return _replied(
        world,
        actor=world.citizen,
        channel=WorkOrder.Channel.WEB,
        citizen=world.citizen,
        caller_name="",
        caller_phone="",
    )


def _invitations(order: WorkOrder) -> list[Invitation]:
    return list(
        Invitation.objects.filter(subject_kind="work_order", subject_id=str(order.public_id))
    )


def test_a_phone_callers_unsatisfied_final_visit_opens_a_rectification_for_the_lead_unit(
    world: World,
):
    order = _replied(world)
    # the first 不满意 reopens the order: not a rating yet
    services.work_order_visit(
        order=order, actor=world.dispatcher, method="phone", satisfaction=2, comment="灯还是不亮"
    )
    order.refresh_from_db()
    assert order.status == Status.HANDLING
    assert not Rating.objects.exists()
    _reply(world, order)

    services.work_order_visit(
        order=order, actor=world.dispatcher, method="phone", satisfaction=1, comment="还是不亮"
    )

    order.refresh_from_db()
    assert order.status == Status.SUPERVISING
    (invitation,) = _invitations(order)
    assert (invitation.rater, invitation.department, invitation.status) == (
        None,
        world.cgj,
        "rated",
    )
    assert invitation.title == order.title
    rating = invitation.rating
    assert (rating.level, rating.comment, rating.channel) == (1, "还是不亮", "hotline")
    assert (rating.rated_by, rating.real_name) == (None, True)
    rectification = Rectification.objects.get()
    assert (rectification.rating, rectification.department) == (rating, world.cgj)
    assert Notification.objects.filter(
        recipient=world.handler, event="evaluation.rectification_opened"
    ).exists()
    rate = AuditEntry.objects.get(action="evaluation.rate")
    assert rate.actor_id == world.dispatcher.pk

    # the supervisor closes it: the one rating stays, nobody is invited
    services.work_order_close(
        order=order, actor=world.supervisor, outcome="not_resolvable", note="线路改造需纳入明年计划"
    )
    order.refresh_from_db()
    assert order.status == Status.CLOSED
    assert [i.pk for i in _invitations(order)] == [invitation.pk]
    assert Rating.objects.count() == 1
    assert Rectification.objects.count() == 1


def test_a_satisfied_phone_caller_is_rated_without_a_rectification(world: World):
    order = _replied(world)

    services.work_order_visit(order=order, actor=world.dispatcher, method="phone", satisfaction=4)

    order.refresh_from_db()
    assert order.status == Status.CLOSED
    (invitation,) = _invitations(order)
    assert invitation.rating.level == 4
    assert invitation.rating.channel == "hotline"
    assert invitation.rating.real_name is True
    assert not Rectification.objects.exists()
    assert not Notification.objects.filter(event="evaluation.rectification_opened").exists()


def test_a_caller_who_asked_for_confidentiality_rates_anonymously_by_sms(world: World):
    order = _replied(world, confidential=True)

    services.work_order_visit(
        order=order, actor=world.dispatcher, method="sms", satisfaction=2, comment="不满意"
    )
    _reply(world, order)
    services.work_order_visit(
        order=order, actor=world.dispatcher, method="sms", satisfaction=2, comment="态度不好"
    )

    rating = Rating.objects.get()
    assert (rating.channel, rating.real_name, rating.comment) == ("sms", False, "态度不好")
    assert Rectification.objects.get().rating == rating


def test_a_caller_without_a_name_is_not_real_name(world: World):
    order = _replied(world, caller_name="")

    services.work_order_visit(order=order, actor=world.dispatcher, method="phone", satisfaction=5)

    assert Rating.objects.get().real_name is False


def test_the_citizens_online_visit_is_their_real_name_rating_and_no_invitation_follows(
    world: World,
):
    order = _online(world)

    services.work_order_visit(order=order, actor=world.citizen, method="online", satisfaction=5)

    order.refresh_from_db()
    assert order.status == Status.CLOSED
    (invitation,) = _invitations(order)
    assert (invitation.rater, invitation.channel, invitation.status) == (
        world.citizen,
        "online",
        "rated",
    )
    rating = invitation.rating
    assert (rating.rated_by, rating.real_name, rating.level) == (world.citizen, True, 5)
    assert [i.pk for i in invitation_list(rater=world.citizen)] == [invitation.pk]
    # rated already: nobody asks them to rate
    assert not Notification.objects.filter(event="evaluation.invited").exists()


def test_a_citizen_phoned_back_is_rated_with_their_account(world: World):
    order = _online(world)

    services.work_order_visit(order=order, actor=world.dispatcher, method="phone", satisfaction=3)

    rating = Rating.objects.get()
    assert (rating.rated_by, rating.channel, rating.real_name) == (world.citizen, "hotline", True)
    assert not Notification.objects.filter(event="evaluation.invited").exists()


def test_unreachable_visits_close_and_invite_the_citizen_once(world: World, settings: Any):
    settings.YIWANG_HOTLINE_UNREACHABLE_CLOSE_AFTER = 2
    order = _online(world)

    for _ in range(2):
        services.work_order_visit(
            order=order, actor=world.dispatcher, method="phone", reached=False
        )

    order.refresh_from_db()
    assert order.status == Status.CLOSED
    (invitation,) = _invitations(order)
    assert (invitation.rater, invitation.status) == (world.citizen, "pending")
    assert not Rating.objects.exists()
    assert (
        Notification.objects.filter(recipient=world.citizen, event="evaluation.invited").count()
        == 1
    )


def test_a_phone_caller_unreachable_is_not_rated(world: World, settings: Any):
    settings.YIWANG_HOTLINE_UNREACHABLE_CLOSE_AFTER = 1
    order = _replied(world)

    services.work_order_visit(order=order, actor=world.dispatcher, method="phone", reached=False)

    order.refresh_from_db()
    assert order.status == Status.CLOSED
    assert _invitations(order) == []


def test_a_long_comment_stays_whole_on_the_visit_and_fits_the_rating(world: World):
    order = _replied(world)
    comment = "路灯" * 400  # 800 characters: the visit takes 1,000, a rating 500

    services.work_order_visit(
        order=order, actor=world.dispatcher, method="phone", satisfaction=3, comment=comment
    )

    assert order.visits.get().comment == comment
    assert Rating.objects.get().comment == comment[:500]


def test_a_refused_visit_rates_nothing(world: World):
    order = _replied(world)

    with pytest.raises(ValidationError):
        services.work_order_visit(
            order=order, actor=world.dispatcher, method="phone", satisfaction=1, comment=""
        )

    order.refresh_from_db()
    assert order.status == Status.REPLIED
    assert not order.visits.exists()
    assert not Invitation.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="evaluation.").exists()
