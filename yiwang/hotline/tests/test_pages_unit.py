"""The handling units' and supervisors' pages (/console/hotline/) with the Django test client:
who may see an order, the inbox and the supervision page; each action on the order page
through its service (sign, return, assist, extension, reply, decide, close); a refused
reply shows why and saves nothing; what people typed is shown escaped; photos are served
only to those who may see the order."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from yiwang.accounts.models import Department, Role, User
from yiwang.accounts.services import role_grant, staff_create
from yiwang.hotline import services
from yiwang.hotline.access import access_order_for_staff, access_own_order
from yiwang.hotline.models import Assignment, Category, Event, Extension, Reply, WorkOrder
from yiwang.hotline.tests.conftest import World

Status = WorkOrder.Status
BASE = "/console/hotline/"
STREETLIGHT = "金安区人民路与解放路交叉口的路灯坏了好几天，晚上一片漆黑，行人很不安全"
ROAD = "金安区梅山路中段路面塌陷出现大坑，电动车经过容易摔倒，请尽快修补"
REPLY = (
    "您好，经我局现场核查，人民路与解放路交叉口路灯因线路老化损坏，"
    "已于11月27日更换线路并恢复照明，今后我局将加强巡查。"
)
PNG = (
    b"\x89PNG\r\n\x1a\n"
    + b"\x00\x00\x00\rIHDR"
    + b"\x00\x00\x00\x01" * 2
    + b"\x08\x02"
    + b"\x00" * 60
)


def url(order: WorkOrder, action: str = "") -> str:
    return f"{BASE}orders/{order.public_id}/" + (f"{action}/" if action else "")


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response: Any) -> str:
    return str(response.content.decode())


def register(world: World, **kw: Any) -> WorkOrder:
    args: dict[str, Any] = {
        "actor": world.dispatcher,
        "channel": WorkOrder.Channel.PHONE,
        "content": STREETLIGHT,
        "caller_name": "李小明",
        "caller_phone": "13800000001",
        "address": "六安市金安区人民路",
        "category": world.streetlight,
    }
    args.update(kw)
    order = services.work_order_register(**args).order
    if order.status == Status.REGISTERED:  # a proposed duplicate waits for a dispatcher
        services.work_order_dispatch(order=order, actor=world.dispatcher)
    order.refresh_from_db()
    return order


def road(world: World, **kw: Any) -> WorkOrder:
    """An order led by 城管局 (world.handler) with 住建局 (world.other_handler) assisting."""
    return register(world, content=ROAD, category=Category.objects.get(code="cxjs-szss-dl"), **kw)


@pytest.fixture
def stranger(world: World) -> User:
    """A handling unit of 交通运输局: neither lead nor assisting on the orders here."""
    admin = User.objects.get(username="demo-admin")
    unit = Department.objects.get(code="la-jtysj")
    user = staff_create(
        actor=admin, username="jt-handler", real_name="孙承办", department=unit, password="x" * 12
    )
    role_grant(actor=admin, user=user, role=Role.HANDLING_UNIT, department=unit)
    return user


# --- access ----------------------------------------------------------------------------------


def test_who_may_open_the_order_page(world: World, stranger: User) -> None:
    order = road(world)
    assert order.status == Status.DISPATCHED

    seen = {
        name: signed_in(user).get(url(order)).status_code
        for name, user in [
            ("dispatcher", world.dispatcher),
            ("lead", world.handler),
            ("assist", world.other_handler),
            ("supervisor", world.supervisor),
            ("other_unit", stranger),
            ("citizen", world.citizen),
        ]
    }
    anonymous = Client().get(url(order))

    assert seen == {
        "dispatcher": 200,
        "lead": 200,
        "assist": 200,
        "supervisor": 200,
        "other_unit": 404,
        "citizen": 403,
    }
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")


def test_an_order_of_another_unit_is_404_for_every_action(world: World, stranger: User) -> None:
    order = register(world)
    client = signed_in(stranger)
    codes = [
        client.post(url(order, action), data).status_code
        for action, data in [
            ("sign", {}),
            ("return", {"reason": "不属于本单位职责范围"}),
            ("assist", {"note": "配合处理完毕了"}),
            ("extension", {"reason": "需要协调多个部门"}),
            ("reply", {"action": "更换线路", "text": REPLY, "outcome": "resolved"}),
            ("close", {"outcome": "resolved", "note": "已经处理好了"}),
        ]
    ]
    assert codes == [404] * 6
    order.refresh_from_db()
    assert order.status == Status.DISPATCHED
    assert Event.objects.filter(order=order).count() == 2  # registered, dispatched


def test_access_functions(world: World, stranger: User) -> None:
    order = register(world, actor=world.citizen, channel="web", citizen=world.citizen)
    assert access_order_for_staff(world.handler, order.public_id) == order
    assert access_order_for_staff(world.handler, str(order.public_id)) == order
    assert access_own_order(world.citizen, str(order.public_id)) == order
    from yiwang.core.errors import NotFound

    for call in (
        lambda: access_order_for_staff(stranger, order.public_id),
        lambda: access_order_for_staff(world.citizen, order.public_id),
        lambda: access_order_for_staff(world.handler, "not-a-uuid"),
        lambda: access_own_order(world.other_citizen, order.public_id),
        lambda: access_own_order(world.handler, order.public_id),
    ):
        with pytest.raises(NotFound):
            call()


def test_who_may_open_the_inbox_and_the_supervision_page(world: World) -> None:
    inbox = {
        name: signed_in(user).get(f"{BASE}inbox/").status_code
        for name, user in [
            ("dispatcher", world.dispatcher),
            ("unit", world.handler),
            ("supervisor", world.supervisor),
            ("citizen", world.citizen),
        ]
    }
    supervision = {
        name: signed_in(user).get(f"{BASE}supervision/").status_code
        for name, user in [
            ("unit", world.handler),
            ("supervisor", world.supervisor),
            ("citizen", world.citizen),
        ]
    }
    assert inbox == {"dispatcher": 403, "unit": 200, "supervisor": 403, "citizen": 403}
    assert supervision == {"unit": 403, "supervisor": 200, "citizen": 403}
    assert Client().get(f"{BASE}inbox/").status_code == 302


# --- the inbox -------------------------------------------------------------------------------


def test_the_inbox_lists_the_units_orders_with_role_and_light(world: World, stranger: User) -> None:
    led = register(world)
    assisted = road(world, address="六安市金安区梅山路")
    noise = register(world, content="小区旁工地夜间施工噪声很大", category=world.noise)

    lead_page = text(signed_in(world.handler).get(f"{BASE}inbox/"))
    assist_page = text(signed_in(world.other_handler).get(f"{BASE}inbox/"))
    other_page = text(signed_in(stranger).get(f"{BASE}inbox/"))

    assert led.number in lead_page
    assert assisted.number in lead_page
    assert noise.lead_unit is not None
    assert noise.lead_unit.code == "la-sthjj"
    assert noise.number in lead_page  # 城管局 assists on noise
    assert "共 3 件" in lead_page
    assert assisted.number in assist_page
    assert led.number not in assist_page
    assert "协办" in assist_page
    assert "共 0 件" in other_page
    assert "本单位暂时没有待办工单" in other_page
    assert "hl-light-green" in lead_page


def test_the_inbox_filters_by_status_and_overdue(world: World) -> None:
    first = register(world)
    second = register(world, content="梅山路路灯不亮，已经一个星期了")
    services.work_order_sign(order=first, actor=world.handler)
    WorkOrder.objects.filter(pk=second.pk).update(sign_due=timezone.now() - timedelta(hours=1))
    client = signed_in(world.handler)

    handling = text(client.get(f"{BASE}inbox/?status=handling"))
    overdue = text(client.get(f"{BASE}inbox/?overdue=on"))
    bad = client.get(f"{BASE}inbox/?status=nonsense")

    assert first.number in handling
    assert second.number not in handling
    assert second.number in overdue
    assert first.number not in overdue
    assert "超时未签收" in overdue
    assert bad.status_code == 200
    assert "共 2 件" in text(bad)


def test_the_inbox_pages_with_a_bounded_number_of_queries(
    world: World, django_assert_max_num_queries: Any
) -> None:
    client = signed_in(world.handler)
    register(world)
    client.get(f"{BASE}inbox/")
    with django_assert_max_num_queries(12) as few:
        client.get(f"{BASE}inbox/")
    for n in range(24):
        register(world, content=f"第{n}处路灯不亮，位置在人民路{n}号门口")
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        response = client.get(f"{BASE}inbox/")
    page = text(response)
    assert "共 25 件" in page
    assert "第 1 页，共 2 页" in page
    assert len(many.captured_queries) == len(few.captured_queries)
    second = text(client.get(f"{BASE}inbox/?page=2"))
    assert "第 2 页，共 2 页" in second


# --- the order page: sign, reply ---------------------------------------------------------------


def test_sign_then_reply_through_the_pages(world: World) -> None:
    order = register(world)
    client = signed_in(world.handler)
    page = text(client.get(url(order)))
    assert f'action="{url(order, "sign")}"' in page
    assert f'action="{url(order, "reply")}"' not in page  # not signed yet
    assert "李**" in page
    assert "138****0001" in page
    assert "13800000001" not in page
    assert "李小明" not in page

    signed = client.post(url(order, "sign"), follow=True)
    order.refresh_from_db()
    assert "已签收。" in text(signed)
    assert order.status == Status.HANDLING
    assert f'action="{url(order, "sign")}"' not in text(signed)
    assert f'action="{url(order, "reply")}"' in text(signed)

    replied = client.post(
        url(order, "reply"),
        {"action": "更换损坏线路，恢复照明", "text": REPLY, "outcome": "resolved"},
        follow=True,
    )
    order.refresh_from_db()
    assert "答复已提交" in text(replied)
    assert order.status == Status.REPLIED
    assert order.replies.get().text == REPLY
    assert "已解决" in text(replied)
    assert f'action="{url(order, "reply")}"' not in text(replied)


def test_a_boilerplate_reply_shows_why_and_saves_nothing(world: World) -> None:
    order = register(world)
    services.work_order_sign(order=order, actor=world.handler)
    response = signed_in(world.handler).post(
        url(order, "reply"),
        {"action": "已处理完毕", "text": "已收到，正在处理。", "outcome": "resolved"},
    )
    page = text(response)
    order.refresh_from_db()
    assert response.status_code == 422
    assert "请修改以下问题后再提交" in page
    assert 'class="field-error" id="id_text_error"' in page
    assert "已收到，正在处理。" in page  # the handler's text is kept in the form
    assert order.status == Status.HANDLING
    assert Reply.objects.count() == 0
    assert not Event.objects.filter(order=order, kind="replied").exists()


def test_a_reply_needs_an_outcome_and_an_action(world: World) -> None:
    order = register(world)
    services.work_order_sign(order=order, actor=world.handler)
    response = signed_in(world.handler).post(url(order, "reply"), {"action": "", "text": REPLY})
    page = text(response)
    assert response.status_code == 422
    assert 'id="id_action_error"' in page
    assert 'id="id_outcome_error"' in page
    assert Reply.objects.count() == 0


def test_an_assisting_unit_cannot_reply_and_a_conflict_is_a_message(world: World) -> None:
    order = road(world)
    services.work_order_sign(order=order, actor=world.handler)
    client = signed_in(world.other_handler)
    assert f'action="{url(order, "reply")}"' not in text(client.get(url(order)))

    refused = client.post(
        url(order, "reply"),
        {"action": "更换线路", "text": REPLY, "outcome": "resolved"},
        follow=True,
    )
    assert "只有主办单位的承办人员可以进行此操作。" in text(refused)
    again = signed_in(world.handler).post(url(order, "sign"), follow=True)
    assert "该工单已签收。" in text(again)
    assert Reply.objects.count() == 0


# --- return, assist, extension, supervision ------------------------------------------------------


def test_return_request_with_reason(world: World) -> None:
    order = register(world)
    client = signed_in(world.handler)
    short = client.post(url(order, "return"), {"reason": "不是"})
    assert short.status_code == 422
    assert "请写明退单理由" in text(short)
    order.refresh_from_db()
    assert order.status == Status.DISPATCHED

    done = client.post(
        url(order, "return"), {"reason": "路灯属住建局代管的小区内部设施"}, follow=True
    )
    order.refresh_from_db()
    assert "退单申请已提交" in text(done)
    assert order.status == Status.RETURN_REQUESTED
    lead = Assignment.objects.get(order=order, role="lead")
    assert lead.return_reason == "路灯属住建局代管的小区内部设施"
    assert "路灯属住建局代管的小区内部设施" in text(done)
    assert f'action="{url(order, "return")}"' not in text(done)


def test_return_is_hidden_when_designated_or_too_late(world: World) -> None:
    order = register(world)
    client = signed_in(world.handler)
    WorkOrder.objects.filter(pk=order.pk).update(return_due=timezone.now() - timedelta(minutes=1))
    late_page = text(client.get(url(order)))
    late = client.post(url(order, "return"), {"reason": "不属于本单位职责范围"}, follow=True)
    WorkOrder.objects.filter(pk=order.pk).update(return_due=None, designated=True)
    designated_page = text(client.get(url(order)))

    assert f'action="{url(order, "return")}"' not in late_page
    assert "已超过退单时限" in text(late)
    assert f'action="{url(order, "return")}"' not in designated_page
    assert "指定承办，不能退单" in designated_page
    order.refresh_from_db()
    assert order.status == Status.DISPATCHED


def test_assisting_unit_gives_its_opinion(world: World) -> None:
    order = road(world)
    client = signed_in(world.other_handler)
    page = text(client.get(url(order)))
    assert f'action="{url(order, "assist")}"' in page
    assert f'action="{url(order, "return")}"' not in page  # only the lead returns

    done = client.post(url(order, "assist"), {"note": "住建局已核实该路段管网无渗漏"}, follow=True)
    mine = Assignment.objects.get(order=order, role="assist")
    assert "协办意见已提交" in text(done)
    assert mine.status == Assignment.Status.DONE
    assert mine.note == "住建局已核实该路段管网无渗漏"
    assert f'action="{url(order, "assist")}"' not in text(done)
    lead_page = text(signed_in(world.handler).get(url(order)))
    assert "住建局已核实该路段管网无渗漏" in lead_page


def test_extension_requested_by_the_unit_and_decided_by_the_supervisor(world: World) -> None:
    order = register(world)
    services.work_order_sign(order=order, actor=world.handler)
    before = order.handle_due
    done = signed_in(world.handler).post(
        url(order, "extension"), {"reason": "需更换整段电缆，材料采购需要时间"}, follow=True
    )
    extension = Extension.objects.get(order=order)
    assert "延期申请已提交" in text(done)
    assert f'action="{url(order, "extension")}"' not in text(done)  # once only

    page = text(signed_in(world.supervisor).get(url(order)))
    decide = url(order, f"extension/{extension.pk}/decide")
    assert f'action="{decide}"' in page
    assert f'action="{decide}"' not in text(signed_in(world.handler).get(url(order)))
    refused_by_unit = signed_in(world.handler).post(decide, {"decision": "approve"}, follow=True)
    assert "只有该单位的督办人员可以进行此操作。" in text(refused_by_unit)

    approved = signed_in(world.supervisor).post(
        decide, {"decision": "approve", "note": "同意延期"}, follow=True
    )
    extension.refresh_from_db()
    order.refresh_from_db()
    assert "延期申请已审批" in text(approved)
    assert extension.status == Extension.Status.APPROVED
    assert order.extended is True
    assert before is not None
    assert order.handle_due is not None
    assert order.handle_due > before


def test_supervisor_sees_and_closes_a_supervising_order(world: World) -> None:
    order = register(world)
    services.work_order_sign(order=order, actor=world.handler)
    for _ in range(2):
        services.work_order_reply(
            order=order, actor=world.handler, action="更换损坏线路", text=REPLY, outcome="resolved"
        )
        services.work_order_visit(
            order=order,
            actor=world.dispatcher,
            method="phone",
            satisfaction=1,
            comment="灯还是不亮",
        )
    order.refresh_from_db()
    assert order.status == Status.SUPERVISING
    late = register(world, content="梅山路路灯不亮，已经一个星期了")
    WorkOrder.objects.filter(pk=late.pk).update(sign_due=timezone.now() - timedelta(hours=1))
    services.work_orders_check_deadlines()
    quiet = register(world, content="长安路路灯闪烁，时亮时不亮")

    client = signed_in(world.supervisor)
    queue = text(client.get(f"{BASE}supervision/"))
    assert order.number in queue
    assert late.number in queue
    assert quiet.number not in queue
    assert "群众再次不满意" in queue
    assert "超时督办" in queue
    assert f'href="{url(order)}"' in queue

    assert f'action="{url(order, "close")}"' not in text(signed_in(world.handler).get(url(order)))
    short = client.post(url(order, "close"), {"outcome": "resolved", "note": "好"})
    assert short.status_code == 422
    assert "请写明办结说明" in text(short)
    closed = client.post(
        url(order, "close"),
        {"outcome": "not_resolvable", "note": "线路改造需纳入明年计划，已向群众解释"},
        follow=True,
    )
    order.refresh_from_db()
    assert "工单已办结" in text(closed)
    assert order.status == Status.CLOSED
    assert order.outcome == "not_resolvable"


# --- escaping, photos ----------------------------------------------------------------------------


def test_html_in_content_and_replies_is_shown_escaped(world: World) -> None:
    order = register(
        world,
        title="<b>路灯</b>",
        content='<script>alert("x")</script>路灯坏了好几天，晚上一片漆黑',
    )
    services.work_order_sign(order=order, actor=world.handler)
    services.work_order_reply(
        order=order,
        actor=world.handler,
        action="<img src=x onerror=alert(1)>更换损坏线路",
        text=REPLY + "<script>alert(2)</script>",
        outcome="resolved",
    )
    page = text(signed_in(world.dispatcher).get(url(order)))
    inbox_order = register(world, title="<i>标题</i>", content="人民路路灯<script>不亮</script>")
    inbox = text(signed_in(world.handler).get(f"{BASE}inbox/"))

    assert "<script>" not in page
    assert "<img src=x" not in page
    assert "<b>路灯" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page
    assert "&lt;b&gt;路灯&lt;/b&gt;" in page
    assert inbox_order.number in inbox
    assert "<i>标题</i>" not in inbox
    assert "&lt;i&gt;标题&lt;/i&gt;" in inbox


def test_photos_are_served_only_to_those_who_may_see_the_order(
    world: World, stranger: User
) -> None:
    order = register(world, photos=[services.Photo(name="路灯.png", content=PNG)])
    other = register(world, content="长安路路灯闪烁，时亮时不亮")
    photo = order.attachments.get()
    photo_url = url(order, f"photos/{photo.pk}")

    page = text(signed_in(world.handler).get(url(order)))
    shown = signed_in(world.handler).get(photo_url)
    assert f'src="{photo_url}"' in page
    assert "/media/" not in page
    assert shown.status_code == 200
    assert b"".join(shown.streaming_content) == PNG  # type: ignore[attr-defined]
    assert shown["Content-Type"] == "image/png"
    assert shown["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in shown["Content-Security-Policy"]

    assert signed_in(stranger).get(photo_url).status_code == 404
    assert signed_in(world.handler).get(url(other, f"photos/{photo.pk}")).status_code == 404
    assert signed_in(world.citizen).get(photo_url).status_code == 403
    assert Client().get(photo_url).status_code == 302


def test_posts_need_the_csrf_token(world: World) -> None:
    order = register(world)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.handler)
    assert client.post(url(order, "sign")).status_code == 403
    order.refresh_from_db()
    assert order.status == Status.DISPATCHED


def test_console_home_links_to_the_inbox_and_the_supervision_page(world: World) -> None:
    unit_home = text(signed_in(world.handler).get("/console/"))
    supervisor_home = text(signed_in(world.supervisor).get("/console/"))
    assert f'href="{BASE}inbox/"' in unit_home
    assert f'href="{BASE}supervision/"' in supervisor_home
    assert f'href="{BASE}supervision/"' not in unit_home


def test_the_order_page_query_count_does_not_grow_with_its_history(
    world: World, django_assert_max_num_queries: Any
) -> None:
    order = road(world)
    client = signed_in(world.handler)
    client.get(url(order))
    with django_assert_max_num_queries(25) as before:
        client.get(url(order))
    services.work_order_sign(order=order, actor=world.handler)
    services.work_order_assist(
        order=order, actor=world.other_handler, note="住建局已核实管网无渗漏"
    )
    services.work_order_extension_request(
        order=order, actor=world.handler, reason="需封闭半幅道路施工，需与交警协调时间"
    )
    with django_assert_max_num_queries(len(before.captured_queries)):
        page = text(client.get(url(order)))
    assert "住建局已核实管网无渗漏" in page
    assert "需封闭半幅道路施工" in page
