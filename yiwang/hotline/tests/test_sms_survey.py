"""回访 by SMS survey: the reply SMS to a caller's mobile asks for a digit; the SMS gateway's
callback (a system integration account) turns the answer into the return visit."""

from __future__ import annotations

from django.test import Client

from yiwang.accounts.models import ApiToken, User
from yiwang.accounts.services import api_token_create
from yiwang.accounts.tests.factories import SystemUserFactory
from yiwang.evaluation.models import Rating
from yiwang.hotline import services
from yiwang.hotline.models import Event, ReturnVisit, WorkOrder
from yiwang.hotline.tests.conftest import World
from yiwang.notifications.models import OutboundMessage

REPLY = (
    "您好，经我局现场核查，人民路与解放路交叉口路灯因线路老化损坏，"
    "已于11月27日更换线路并恢复照明，今后我局将加强巡查。"
)


def _replied(world: World, phone: str = "13900000042") -> WorkOrder:
    order = services.work_order_register(
        actor=world.dispatcher,
        channel=WorkOrder.Channel.PHONE,
        content="金安区人民路和解放路交叉口的路灯坏了好几天，晚上很黑",
        caller_name="张三",
        caller_phone=phone,
        division_code="341502",
        category=world.streetlight,
    ).order
    services.work_order_sign(order=order, actor=world.handler)
    services.work_order_reply(
        order=order, actor=world.handler, action="更换损坏线路", text=REPLY, outcome="resolved"
    )
    order.refresh_from_db()
    return order


def _gateway() -> Client:
    admin = User.objects.get(username="demo-admin")
    _, raw = api_token_create(
        actor=admin, user=SystemUserFactory.create(), kind=ApiToken.Kind.INTEGRATION, name="sms"
    )
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_the_reply_sms_carries_the_survey_and_a_digit_closes_the_order(world: World) -> None:
    order = _replied(world)
    sms = OutboundMessage.objects.filter(event="hotline.replied").get()
    assert "请回复数字评价" in sms.body
    assert Event.objects.filter(order=order, kind="survey_sent").count() == 1

    response = _gateway().post(
        "/api/v1/hotline/sms-replies",
        {"phone": "13900000042", "text": "1"},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json() == {"matched": True, "order_number": order.number, "level": 5}
    order.refresh_from_db()
    assert order.status == WorkOrder.Status.CLOSED
    visit = ReturnVisit.objects.get(order=order)
    assert (visit.method, visit.satisfaction) == ("sms", 5)
    assert Rating.objects.get(invitation__subject_id=str(order.public_id)).channel == "sms"


def test_an_unsatisfied_answer_reopens_with_the_callers_words(world: World) -> None:
    order = _replied(world)
    visit = services.work_order_survey_answer(
        phone="13900000042", text="5，灯还是不亮", actor="sms-gateway:test"
    )
    assert visit is not None
    assert visit.comment == "灯还是不亮"
    order.refresh_from_db()
    assert order.status == WorkOrder.Status.HANDLING
    assert order.reopen_count == 1


def test_texts_that_are_no_answer_or_from_another_number_change_nothing(world: World) -> None:
    order = _replied(world)
    for phone, text in [("13900000042", "谢谢"), ("13900000042", "6"), ("13911112222", "1")]:
        assert services.work_order_survey_answer(phone=phone, text=text, actor="sms") is None
    order.refresh_from_db()
    assert order.status == WorkOrder.Status.REPLIED
    assert ReturnVisit.objects.count() == 0


def test_only_a_system_account_may_call_the_gateway_endpoint(world: World) -> None:
    _replied(world)
    client = Client()
    client.force_login(world.dispatcher)
    response = client.post(
        "/api/v1/hotline/sms-replies",
        {"phone": "13900000042", "text": "1"},
        content_type="application/json",
        headers={"X-CSRFToken": "x"},
    )
    assert response.status_code in (403,)
    assert ReturnVisit.objects.count() == 0
