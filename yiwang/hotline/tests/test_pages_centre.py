"""The 12345 centre's pages: operator console (register, live checks), dispatch desk
(dispatch, merge, transfer, close, return review, extension), return visits. Only
dispatchers get in; bad input creates nothing; what callers said is shown escaped."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from yiwang.accounts.models import User
from yiwang.core.models import AuditEntry
from yiwang.hotline import services
from yiwang.hotline.models import Assignment, Extension, ReturnVisit, WorkOrder
from yiwang.hotline.tests.conftest import World

Status = WorkOrder.Status
STREETLIGHT = "金安区人民路与解放路交叉口的路灯坏了好几天，晚上一片漆黑，行人很不安全"
REPLY = (
    "您好，经我局现场核查，人民路与解放路交叉口路灯因线路老化损坏，"
    "已于11月27日更换线路并恢复照明，今后我局将加强巡查。"
)
SCRIPT = "<script>alert(1)</script>"


def _client(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _register(world: World, **kw: Any) -> WorkOrder:
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
    return services.work_order_register(**args).order


def _waiting(world: World, **kw: Any) -> WorkOrder:
    """An order that waits for a dispatcher (no category given, no classifier)."""
    args: dict[str, Any] = {"category": None, "content": "小区门口垃圾桶满了没人清运，气味很大"}
    args.update(kw)
    return _register(world, **args)


def _replied(world: World, **kw: Any) -> WorkOrder:
    order = _register(world, **kw)
    services.work_order_sign(order=order, actor=world.handler)
    services.work_order_reply(
        order=order,
        actor=world.handler,
        action="更换损坏线路，恢复照明",
        text=REPLY,
        outcome="resolved",
    )
    order.refresh_from_db()
    return order


def _intake(**kw: str) -> dict[str, str]:
    data = {
        "caller_phone": "13800000002",
        "callback_requested": "on",
        "caller_name": "王芳",
        "content": STREETLIGHT,
        "address": "金安区人民路与解放路交叉口",
        "division_code": "",
        "kind": "complaint",
        "category": "cxjs-szss-ld",
        "urgency": "normal",
    }
    data.update(kw)
    return data


# --- access ------------------------------------------------------------------------------


def _pages(world: World) -> list[str]:
    waiting = _waiting(world)
    replied = _replied(
        world, content="人民路路灯不亮了，一到晚上一片漆黑", address="裕安区鼓楼街道"
    )
    return [
        reverse("hotline_staff:console"),
        reverse("hotline_staff:dispatch_queue"),
        reverse("hotline_staff:dispatch", args=[waiting.public_id]),
        reverse("hotline_staff:visits"),
        reverse("hotline_staff:visit", args=[replied.public_id]),
    ]


def test_every_page_opens_for_the_dispatcher(world: World) -> None:
    client = _client(world.dispatcher)
    for url in _pages(world):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("who", ["citizen", "handler", "supervisor"])
def test_other_people_are_refused(world: World, who: str) -> None:
    client = _client(getattr(world, who))
    for url in _pages(world):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("hotline_staff:check"), _intake()).status_code == 403
    before = WorkOrder.objects.count()
    assert client.post(reverse("hotline_staff:console"), _intake()).status_code == 403
    assert WorkOrder.objects.count() == before


def test_anonymous_is_sent_to_login(world: World) -> None:
    client = _client(None)
    for url in _pages(world):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:login")), url


def test_posts_need_the_csrf_token(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.dispatcher)
    response = client.post(reverse("hotline_staff:console"), _intake())
    assert response.status_code == 403
    assert WorkOrder.objects.count() == 0


def test_an_unknown_order_is_404(world: World) -> None:
    client = _client(world.dispatcher)
    url = reverse("hotline_staff:dispatch", args=["00000000-0000-0000-0000-000000000000"])
    assert client.get(url).status_code == 404


# --- the operator console ----------------------------------------------------------------


def test_the_console_is_built_for_the_keyboard(world: World) -> None:
    html = _client(world.dispatcher).get(reverse("hotline_staff:console")).content.decode()
    assert 'name="caller_phone"' in html
    assert "autofocus" in html.split('name="caller_phone"')[1].split(">")[0] or (
        "autofocus" in html.split('name="caller_phone"')[0].rsplit("<input", 1)[1]
    )
    assert 'accesskey="s"' in html
    assert "Alt+S" in html
    # the tab order follows the call: phone, name, what was said, place, kind, category
    order = [
        html.index(f'name="{n}"')
        for n in ("caller_phone", "caller_name", "content", "address", "kind", "category")
    ]
    assert order == sorted(order)
    assert 'tabindex="' not in html.split('id="intake-form"')[1].split("</form>")[0]
    # the category picker groups the tree by level 1 / level 2
    assert '<optgroup label="城乡建设 / 市政设施">' in html
    assert '<option value="341524">金寨县</option>' in html


def test_register_from_the_console_creates_and_dispatches_the_streetlight_order(
    world: World,
) -> None:
    client = _client(world.dispatcher)
    response = client.post(reverse("hotline_staff:console"), _intake())
    assert response.status_code == 302
    order = WorkOrder.objects.get()
    assert (
        response["Location"] == f"{reverse('hotline_staff:console')}?registered={order.public_id}"
    )
    assert order.channel == "phone"
    assert order.status == Status.DISPATCHED
    assert order.lead_unit == world.cgj
    assert order.registered_by == world.dispatcher
    assert order.caller_phone == "13800000002"
    assert order.callback_requested is True
    assert order.division_code == "341502"
    html = client.get(response["Location"]).content.decode()
    assert order.number in html
    assert "已自动派单：主办 六安市城市管理局" in html


def test_an_order_without_a_category_waits_with_its_reason(world: World) -> None:
    client = _client(world.dispatcher)
    response = client.post(
        reverse("hotline_staff:console"), _intake(category="", content="楼下的广场舞声音太大了")
    )
    order = WorkOrder.objects.get()
    assert order.status == Status.REGISTERED
    html = client.get(response["Location"]).content.decode()
    assert "待派单" in html
    assert "原因：未确定诉求分类" in html


def test_an_emergency_is_not_dispatched_and_can_be_transferred_from_the_console(
    world: World,
) -> None:
    client = _client(world.dispatcher)
    response = client.post(
        reverse("hotline_staff:console"), _intake(content="我家楼下着火了，火势很大", category="")
    )
    order = WorkOrder.objects.get()
    assert order.status == Status.REGISTERED
    assert order.emergency_number == "119"
    html = client.get(response["Location"]).content.decode()
    assert "疑似火警：请立即转接 119" in html
    assert "转接 119" in html
    response = client.post(
        reverse("hotline_staff:dispatch_transfer", args=[order.public_id]),
        {"number": "119", "back": "console"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("hotline_staff:console")
    order.refresh_from_db()
    assert order.status == Status.TRANSFERRED


def test_bad_input_shows_messages_on_the_fields_and_creates_nothing(world: World) -> None:
    client = _client(world.dispatcher)
    response = client.post(
        reverse("hotline_staff:console"),
        _intake(caller_phone="12345", content="", address="合肥市蜀山区长江西路"),
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "请修改以下问题后再提交" in html
    assert WorkOrder.objects.count() == 0
    # the form checks the shape first (content is required) ...
    form = response.context["form"]
    assert list(form.errors) == ["content"]
    # ... then the service: each problem on its field
    response = client.post(
        reverse("hotline_staff:console"),
        _intake(caller_phone="12345", address="合肥市蜀山区长江西路"),
    )
    assert response.status_code == 422
    form = response.context["form"]
    assert form.errors["caller_phone"] == ["联系电话格式不正确。"]
    assert list(form.errors) == ["caller_phone", "address"]
    assert WorkOrder.objects.count() == 0
    # what the operator typed stays in the form
    assert "合肥市蜀山区长江西路" in response.content.decode()


def test_a_caller_without_a_phone_is_refused(world: World) -> None:
    response = _client(world.dispatcher).post(
        reverse("hotline_staff:console"), _intake(caller_phone="")
    )
    assert response.status_code == 422
    assert response.context["form"].errors["caller_phone"] == ["请留下联系电话，以便答复。"]
    assert WorkOrder.objects.count() == 0


def test_the_check_flags_a_fire_with_119_and_changes_nothing(world: World) -> None:
    client = _client(world.dispatcher)
    audit_before = AuditEntry.objects.count()
    response = client.post(
        reverse("hotline_staff:check"),
        _intake(content="着火了！三楼冒出浓烟", category=""),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html  # the fragment only
    assert "疑似火警：请立即转接 119" in html
    assert 'role="alert"' in html
    assert WorkOrder.objects.count() == 0
    assert AuditEntry.objects.count() == audit_before


def test_the_check_without_javascript_answers_the_whole_console(world: World) -> None:
    response = _client(world.dispatcher).post(
        reverse("hotline_staff:check"), _intake(content="着火了！三楼冒出浓烟")
    )
    html = response.content.decode()
    assert "<html" in html
    assert "疑似火警：请立即转接 119" in html
    assert "着火了！三楼冒出浓烟" in html  # the form keeps what was typed
    assert WorkOrder.objects.count() == 0


def test_the_check_shows_open_duplicates_and_the_callers_earlier_orders(world: World) -> None:
    first = _register(world, caller_phone="13800000002")
    response = _client(world.dispatcher).post(
        reverse("hotline_staff:check"), _intake(), headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert first.number in html
    assert reverse("hotline_staff:order", args=[first.public_id]) in html
    assert "138****0002：此前有 1 张工单" in html
    assert "13800000002" not in html


def test_the_check_without_a_model_suggests_nothing(world: World) -> None:
    response = _client(world.dispatcher).post(
        reverse("hotline_staff:check"), _intake(category=""), headers={"HX-Request": "true"}
    )
    assert response.context["check"].suggestion is None
    assert "未启用分类模型" in response.content.decode()


# --- escaping ------------------------------------------------------------------------------


def test_html_in_what_was_said_is_escaped_on_every_page(world: World) -> None:
    waiting = _waiting(world, content=f"{SCRIPT}垃圾桶满了没人清运", address=f"金安区{SCRIPT}")
    replied = _replied(world, content=f"{SCRIPT}人民路路灯不亮了，晚上一片漆黑")
    client = _client(world.dispatcher)
    pages = [
        reverse("hotline_staff:dispatch_queue"),
        reverse("hotline_staff:dispatch", args=[waiting.public_id]),
        reverse("hotline_staff:visits"),
        reverse("hotline_staff:visit", args=[replied.public_id]),
        f"{reverse('hotline_staff:console')}?registered={waiting.public_id}",
    ]
    for url in pages:
        html = client.get(url).content.decode()
        assert "<script>alert" not in html, url
        assert "&lt;script&gt;" in html, url
    check = client.post(
        reverse("hotline_staff:check"),
        _intake(content=f"{SCRIPT}垃圾桶满了没人清运", category=""),
        headers={"HX-Request": "true"},
    ).content.decode()
    assert waiting.number in check
    assert "<script>alert" not in check
    assert "&lt;script&gt;" in check


# --- the dispatch desk --------------------------------------------------------------------------


def test_the_queue_lists_emergencies_first(world: World) -> None:
    plain = _waiting(world)
    fire = _waiting(world, content="楼道里着火了，浓烟滚滚", caller_phone="13800000009")
    html = _client(world.dispatcher).get(reverse("hotline_staff:dispatch_queue")).content.decode()
    assert html.index(fire.number) < html.index(plain.number)
    assert "紧急·转119" in html


def test_the_dispatch_page_of_an_emergency_says_where_to_transfer(world: World) -> None:
    fire = _waiting(world, content="楼道里着火了，浓烟滚滚", caller_phone="13800000009")
    client = _client(world.dispatcher)
    html = client.get(reverse("hotline_staff:dispatch", args=[fire.public_id])).content.decode()
    assert "疑似火警：请立即转接 119" in html
    response = client.post(
        reverse("hotline_staff:dispatch_transfer", args=[fire.public_id]), {"number": "119"}
    )
    assert response["Location"] == reverse("hotline_staff:dispatch_queue")
    fire.refresh_from_db()
    assert fire.status == Status.TRANSFERRED


def test_the_queue_pages_make_a_bounded_number_of_queries(
    world: World, django_assert_max_num_queries: Any, settings: Any
) -> None:
    settings.YIWANG_HOTLINE_DUPLICATE_DAYS = 0  # similar test orders are not duplicates here
    client = _client(world.dispatcher)
    for i in range(3):
        _waiting(world, content=f"第{i}号楼下垃圾桶满了没人清运", caller_phone=f"1380000010{i}")
        _replied(world, content=f"第{i}号路口路灯坏了，晚上漆黑", caller_phone=f"1390000010{i}")
    queue, visits = reverse("hotline_staff:dispatch_queue"), reverse("hotline_staff:visits")
    client.get(queue)  # warm the session
    counts = []
    for url in (queue, visits):
        with django_assert_max_num_queries(8) as few:
            assert client.get(url).context["rows"] != []
        counts.append(len(few.captured_queries))
    for i in range(3, 12):
        _waiting(
            world, content=f"第{i}号楼下垃圾桶满了没人清运", caller_phone=f"1380000011{i % 10}"
        )
        _replied(
            world, content=f"第{i}号路口路灯坏了，晚上漆黑", caller_phone=f"1390000011{i % 10}"
        )
    for url, count in zip((queue, visits), counts, strict=True):
        with django_assert_max_num_queries(count):
            assert len(client.get(url).context["rows"]) == 12


def test_dispatch_with_the_catalogue_default(world: World) -> None:
    order = _waiting(world)
    client = _client(world.dispatcher)
    page = client.get(reverse("hotline_staff:dispatch", args=[order.public_id]))
    assert page.context["actions"]["dispatch"].initial == {"category": ""}
    response = client.post(
        reverse("hotline_staff:dispatch_order", args=[order.public_id]),
        {"category": "cxjs-rqhj-lj", "lead_unit": "", "note": ""},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Status.DISPATCHED
    assert order.category is not None
    assert order.category.code == "cxjs-rqhj-lj"
    assert order.lead_unit == world.cgj


def test_dispatch_to_a_chosen_lead_and_assisting_unit(world: World) -> None:
    order = _waiting(world)
    response = _client(world.dispatcher).post(
        reverse("hotline_staff:dispatch_order", args=[order.public_id]),
        {
            "category": "cxjs-rqhj-lj",
            "lead_unit": str(world.zjj.pk),
            "assisting_units": [str(world.cgj.pk)],
            "note": "小区内部垃圾由物业负责",
        },
    )
    assert response.status_code == 302
    rows = set(Assignment.objects.filter(order=order).values_list("unit__code", "role", "status"))
    assert rows == {("la-zjj", "lead", "pending"), ("la-cgj", "assist", "pending")}


def test_dispatch_without_a_category_is_refused_and_changes_nothing(world: World) -> None:
    order = _waiting(world)
    response = _client(world.dispatcher).post(
        reverse("hotline_staff:dispatch_order", args=[order.public_id]),
        {"category": "", "lead_unit": ""},
    )
    assert response.status_code == 422
    assert "category" in response.context["actions"]["dispatch"].errors
    order.refresh_from_db()
    assert order.status == Status.REGISTERED
    assert Assignment.objects.filter(order=order).count() == 0


def test_merge_into_the_proposed_duplicate(world: World) -> None:
    first = _register(world)
    second = _register(world, caller_phone="13800000003")
    assert second.status == Status.REGISTERED  # a duplicate waits
    client = _client(world.dispatcher)
    page = client.get(reverse("hotline_staff:dispatch", args=[second.public_id]))
    assert [c.order for c in page.context["candidates"]] == [first]
    assert page.context["actions"]["merge"].initial == {"into": first.number}
    response = client.post(
        reverse("hotline_staff:dispatch_merge", args=[second.public_id]), {"into": first.number}
    )
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.status == Status.MERGED
    assert second.merged_into == first


def test_merge_into_an_unknown_number_is_refused(world: World) -> None:
    order = _waiting(world)
    response = _client(world.dispatcher).post(
        reverse("hotline_staff:dispatch_merge", args=[order.public_id]), {"into": "GD000"}
    )
    assert response.status_code == 422
    assert response.context["actions"]["merge"].errors["into"] == ["找不到该工单编号。"]
    order.refresh_from_db()
    assert order.status == Status.REGISTERED


def test_close_a_consultation_answered_on_the_phone(world: World) -> None:
    order = _waiting(world, kind="consult", content="请问居住证在哪里办理，需要什么材料")
    client = _client(world.dispatcher)
    response = client.post(
        reverse("hotline_staff:dispatch_close", args=[order.public_id]),
        {"outcome": "explained", "note": "x"},
    )
    assert response.status_code == 422
    assert response.context["actions"]["close"].errors["note"] == [
        "请写明办结说明（至少 5 个字）。"
    ]
    response = client.post(
        reverse("hotline_staff:dispatch_close", args=[order.public_id]),
        {"outcome": "explained", "note": "已告知到所在街道派出所办理，需身份证和居住证明"},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Status.CLOSED
    assert order.outcome == "explained"


def test_return_review_shows_the_reason_and_accepts_with_a_new_lead(world: World) -> None:
    order = _register(world)
    services.work_order_return_request(
        order=order, actor=world.handler, reason="该路段路灯由住建局代建尚未移交"
    )
    client = _client(world.dispatcher)
    html = client.get(reverse("hotline_staff:dispatch", args=[order.public_id])).content.decode()
    assert "该路段路灯由住建局代建尚未移交" in html
    # accepting without a new lead is refused on the field
    response = client.post(
        reverse("hotline_staff:dispatch_return", args=[order.public_id]),
        {"decision": "accept", "lead_unit": "", "note": ""},
    )
    assert response.status_code == 422
    assert response.context["actions"]["return"].errors["lead_unit"] == [
        "同意退单时须选择新的主办单位。"
    ]
    response = client.post(
        reverse("hotline_staff:dispatch_return", args=[order.public_id]),
        {"decision": "accept", "lead_unit": str(world.zjj.pk), "note": "改派住建局"},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Status.DISPATCHED
    assert order.lead_unit == world.zjj
    assert order.dispatch_count == 2


def test_return_review_refused_with_a_note(world: World) -> None:
    order = _register(world)
    services.work_order_return_request(
        order=order, actor=world.handler, reason="不属于本单位职责范围"
    )
    response = _client(world.dispatcher).post(
        reverse("hotline_staff:dispatch_return", args=[order.public_id]),
        {"decision": "refuse", "note": "路灯维护属城管局职责"},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Status.DISPATCHED
    assert order.lead_unit == world.cgj


def test_an_extension_is_listed_and_approved(world: World) -> None:
    order = _register(world)
    services.work_order_sign(order=order, actor=world.handler)
    extension = services.work_order_extension_request(
        order=order, actor=world.handler, reason="需要更换整条线路，等待材料到货"
    )
    client = _client(world.dispatcher)
    queue = client.get(reverse("hotline_staff:dispatch_queue")).content.decode()
    assert "需要更换整条线路，等待材料到货" in queue
    response = client.post(
        reverse("hotline_staff:dispatch_extension", args=[order.public_id, extension.pk]),
        {"approve": "yes", "note": "同意"},
    )
    assert response.status_code == 302
    extension.refresh_from_db()
    assert extension.status == Extension.Status.APPROVED


# --- return visits ------------------------------------------------------------------------------


def test_the_phone_is_shown_in_full_only_on_request_and_the_read_is_audited(world: World) -> None:
    order = _replied(world)
    client = _client(world.dispatcher)
    html = client.get(reverse("hotline_staff:visit", args=[order.public_id])).content.decode()
    assert "138****0001" in html
    assert "13800000001" not in html
    assert REPLY in html
    assert AuditEntry.objects.filter(action="hotline.caller_phone_read").count() == 0
    response = client.post(reverse("hotline_staff:visit_phone", args=[order.public_id]))
    assert response.status_code == 200
    assert "13800000001" in response.content.decode()
    entry = AuditEntry.objects.get(action="hotline.caller_phone_read")
    assert entry.reason == "回访"
    assert entry.object_id == str(order.pk)
    assert entry.actor_id == world.dispatcher.pk


def test_a_satisfied_visit_closes_the_order(world: World) -> None:
    order = _replied(world)
    response = _client(world.dispatcher).post(
        reverse("hotline_staff:visit_record", args=[order.public_id]),
        {"satisfaction": "5", "resolved": "yes", "comment": "修得很快"},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Status.CLOSED
    assert order.satisfaction == 5
    visit = ReturnVisit.objects.get(order=order)
    assert (visit.method, visit.resolved, visit.visitor) == ("phone", True, world.dispatcher)


def test_an_unsatisfied_visit_needs_the_callers_words(world: World) -> None:
    order = _replied(world)
    client = _client(world.dispatcher)
    response = client.post(
        reverse("hotline_staff:visit_record", args=[order.public_id]),
        {"satisfaction": "1", "resolved": "no", "comment": ""},
    )
    assert response.status_code == 422
    assert response.context["form"].errors["comment"] == ["不满意时请记录群众的意见。"]
    assert ReturnVisit.objects.count() == 0
    response = client.post(
        reverse("hotline_staff:visit_record", args=[order.public_id]),
        {"satisfaction": "1", "resolved": "no", "comment": "灯又坏了"},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Status.HANDLING
    assert order.reopen_count == 1


def test_a_visit_without_a_level_is_refused(world: World) -> None:
    order = _replied(world)
    response = _client(world.dispatcher).post(
        reverse("hotline_staff:visit_record", args=[order.public_id]), {"comment": ""}
    )
    assert response.status_code == 422
    assert response.context["form"].errors["satisfaction"] == [
        "请选择满意度（非常满意至非常不满意）。"
    ]
    assert ReturnVisit.objects.count() == 0


def test_an_unreachable_caller_is_recorded(world: World) -> None:
    order = _replied(world)
    response = _client(world.dispatcher).post(
        reverse("hotline_staff:visit_record", args=[order.public_id]), {"unreachable": "1"}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Status.REPLIED
    visit = ReturnVisit.objects.get(order=order)
    assert visit.result == "unreachable"
    assert visit.satisfaction is None


# --- the console home ----------------------------------------------------------------------


def test_the_console_home_links_the_dispatcher_to_the_centre(world: World) -> None:
    html = _client(world.dispatcher).get(reverse("console:home")).content.decode()
    assert f'href="{reverse("hotline_staff:console")}"' in html
    assert f'href="{reverse("hotline_staff:dispatch_queue")}"' in html
    assert f'href="{reverse("hotline_staff:visits")}"' in html
    handler = _client(world.handler).get(reverse("console:home")).content.decode()
    assert f'href="{reverse("hotline_staff:console")}"' not in handler
