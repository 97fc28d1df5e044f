"""The hotline API (yiwang/api/v1/hotline.py): the streetlight scenario end to end, the
authorization matrix of every operation, idempotency, bad input, plain-text content and photos.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from yiwang.accounts.models import ApiToken, Department, Role, User
from yiwang.accounts.services import api_token_create, role_grant, staff_create
from yiwang.hotline import services
from yiwang.hotline.models import Attachment, Event, Extension, WorkOrder
from yiwang.hotline.tests.conftest import World
from yiwang.notifications.models import OutboundMessage

Status = WorkOrder.Status
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
STREETLIGHT = "人民路与解放路交叉口的路灯坏了好几天，晚上一片漆黑，行人很不安全"
JINAN = {"lat": 31.752, "long": 116.534}  # 金安区 (341502)
REPLY = (
    "您好，经我局现场核查，人民路与解放路交叉口路灯因线路老化损坏，"
    "已于11月27日更换线路并恢复照明，今后我局将加强巡查。"
)
ORDERS = "/api/v1/hotline/orders"
MINE = "/api/v1/me/hotline/orders"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def bearer(user: User) -> Client:
    _, raw = api_token_create(actor=user, user=user, kind=ApiToken.Kind.PERSONAL, name="app")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def post(client: Client, url: str, data: dict[str, Any] | None = None, **headers: str) -> Any:
    return client.post(
        url, json.dumps(data or {}), content_type="application/json", headers=headers
    )


def file_order(world: World, **fields: Any) -> services.Intake:
    """An order the citizen filed with their account (channel api), through the service."""
    args: dict[str, Any] = {
        "actor": world.citizen,
        "citizen": world.citizen,
        "channel": WorkOrder.Channel.API,
        "content": STREETLIGHT,
        "category": world.streetlight,
        **JINAN,
    }
    args.update(fields)
    return services.work_order_register(**args)


# --- the streetlight scenario ------------------------------------------------------------------


def test_streetlight_from_the_city_app_to_the_citizens_rating(world: World) -> None:
    # given the citizen in the city app and the 城管局 handler's integration by bearer token
    app = signed_in(world.citizen)
    handler = bearer(world.handler)

    # when the citizen reports the dark streetlight with a point in 金安区
    created = post(
        app,
        ORDERS,
        {"content": STREETLIGHT, "category": "cxjs-szss-ld", "kind": "help", **JINAN},
        **{"Idempotency-Key": "streetlight-1"},
    )

    # then the order is registered through the API and went straight to 城管局
    assert created.status_code == 201, created.content
    order = created.json()
    assert order["channel"] == "api"
    assert order["status"] == "dispatched"
    assert order["lead_unit"] == {"code": "la-cgj", "name": world.cgj.name}
    assert order["category"] == {"code": "cxjs-szss-ld", "name": "路灯故障"}
    assert order["division_code"] == "341502"
    assert order["emergency"] is None
    assert order["number"].startswith("GD")

    # when the handler finds it in the unit's list, signs it and replies
    listed = handler.get(ORDERS, {"status": "dispatched"})
    assert [row["number"] for row in listed.json()["items"]] == [order["number"]]
    signed = post(handler, f"{ORDERS}/{order['id']}/sign")
    assert signed.status_code == 200, signed.content
    assert signed.json()["status"] == "handling"
    replied = post(
        handler,
        f"{ORDERS}/{order['id']}/reply",
        {"action": "更换损坏线路，恢复照明", "text": REPLY, "outcome": "resolved"},
    )
    assert replied.status_code == 200, replied.content
    assert replied.json()["status"] == "replied"

    # then the citizen sees the reply and may rate it
    mine = app.get(f"{MINE}/{order['id']}").json()
    assert mine["status"] == "replied"
    assert mine["can_rate"] is True
    assert [(r["unit"], r["text"], r["outcome"]) for r in mine["replies"]] == [
        (world.cgj.name, REPLY, "resolved")
    ]
    assert [e["kind"] for e in mine["events"]] == ["registered", "dispatched", "signed", "replied"]

    # when the citizen rates it 5 (非常满意)
    rated = post(app, f"{MINE}/{order['id']}/satisfaction", {"level": 5, "comment": "修得很快"})

    # then it is closed, resolved, within the demo's 24 hours, and the citizen got an SMS
    assert rated.status_code == 200, rated.content
    assert (rated.json()["status"], rated.json()["outcome"]) == ("closed", "resolved")
    assert rated.json()["satisfaction"] == 5
    assert rated.json()["can_rate"] is False
    closed = WorkOrder.objects.get(number=order["number"])
    assert closed.closed_at is not None
    assert closed.closed_at - closed.registered_at < timedelta(hours=24)
    assert closed.handle_due is not None
    assert closed.replied_at is not None
    assert closed.replied_at <= closed.handle_due
    sms = OutboundMessage.objects.filter(channel="sms", recipient=world.citizen)
    assert set(sms.values_list("event", flat=True)) == {"hotline.registered", "hotline.replied"}
    assert REPLY[:40] in sms.get(event="hotline.replied").body
    assert [e["kind"] for e in rated.json()["events"]][-2:] == ["visited", "closed"]


# --- the authorization matrix ------------------------------------------------------------------


@dataclass
class People:
    world: World
    stranger: User  # a handling unit of 公安局: sees none of these orders

    def client(self, name: str) -> Client:
        if name == "anonymous":
            return Client()
        user = self.stranger if name == "stranger" else getattr(self.world, name)
        return signed_in(user)


@pytest.fixture
def people(world: World) -> People:
    admin = User.objects.get(username="demo-admin")
    gaj = Department.objects.get(code="la-gaj")
    stranger = staff_create(
        actor=admin, username="gaj-handler", real_name="孙承办", department=gaj, password="x" * 12
    )
    role_grant(actor=admin, user=stranger, role=Role.HANDLING_UNIT, department=gaj)
    return People(world, stranger)


def _registered(world: World) -> WorkOrder:
    # no category and no classifier: it waits for a dispatcher
    return file_order(world, category=None).order


def _dispatched(world: World) -> WorkOrder:
    return file_order(world).order


def _handling(world: World) -> WorkOrder:
    order = _dispatched(world)
    services.work_order_sign(order=order, actor=world.handler)
    return order


def _assisted(world: World) -> WorkOrder:
    # 道路破损: 城管局 leads, 住建局 assists
    return file_order(
        world, category="cxjs-szss-dl", content="人民路上有个大坑，道路破损严重"
    ).order


def _return_requested(world: World) -> WorkOrder:
    order = _dispatched(world)
    services.work_order_return_request(
        order=order, actor=world.handler, reason="路灯属供电公司资产，不属于本单位职责"
    )
    return order


def _replied(world: World) -> WorkOrder:
    order = _handling(world)
    services.work_order_reply(
        order=order, actor=world.handler, action="更换损坏线路", text=REPLY, outcome="resolved"
    )
    return order


def _extension(world: World) -> WorkOrder:
    order = _handling(world)
    services.work_order_extension_request(
        order=order, actor=world.handler, reason="需要更换变压器，等待供电部门配合"
    )
    return order


STAFF_REFUSED = {"anonymous": 401, "citizen": 403, "other_citizen": 403, "stranger": 404}
CENTRE = {**STAFF_REFUSED, "handler": 403, "dispatcher": 200}
LEAD = {**STAFF_REFUSED, "other_handler": 404, "dispatcher": 403, "handler": 200}
OWN = {"anonymous": 401, "dispatcher": 403, "handler": 403, "other_citizen": 404, "citizen": 200}


@dataclass
class Case:
    method: str
    path: str  # {id} is the order's public id, {x} its extension's id
    setup: Callable[[World], WorkOrder]
    expected: dict[str, int]  # principal → status, in the order tried (the allowed one last)
    body: dict[str, Any] | None = None


CASES: dict[str, Case] = {
    "mine_detail": Case("GET", MINE + "/{id}", _dispatched, OWN),
    "mine_rate": Case(
        "POST", MINE + "/{id}/satisfaction", _replied, OWN, {"level": 4, "comment": "满意"}
    ),
    "staff_detail": Case(
        "GET",
        ORDERS + "/{id}",
        _dispatched,
        {**STAFF_REFUSED, "other_handler": 404, "dispatcher": 200, "handler": 200},
    ),
    "dispatch": Case(
        "POST",
        ORDERS + "/{id}/dispatch",
        _registered,
        {
            **STAFF_REFUSED,
            "handler": 404,
            "dispatcher": 200,
        },
        {"category": "cxjs-szss-ld"},
    ),
    "sign": Case("POST", ORDERS + "/{id}/sign", _dispatched, LEAD),
    "return": Case(
        "POST", ORDERS + "/{id}/return", _dispatched, LEAD, {"reason": "不属于本单位职责范围"}
    ),
    "return_review": Case(
        "POST",
        ORDERS + "/{id}/return-review",
        _return_requested,
        CENTRE,
        {"accept": False, "note": "路灯属城管局职责"},
    ),
    "assist": Case(
        "POST",
        ORDERS + "/{id}/assist",
        _assisted,
        {**STAFF_REFUSED, "dispatcher": 403, "handler": 403, "other_handler": 200},
        {"note": "已派员配合现场勘查"},
    ),
    "reply": Case(
        "POST",
        ORDERS + "/{id}/reply",
        _handling,
        LEAD,
        {"action": "更换损坏线路", "text": REPLY, "outcome": "resolved"},
    ),
    "extension": Case(
        "POST",
        ORDERS + "/{id}/extension",
        _handling,
        LEAD,
        {"reason": "需要更换变压器，等待供电部门配合"},
    ),
    "extension_decision": Case(
        "POST",
        ORDERS + "/{id}/extensions/{x}/decision",
        _extension,
        CENTRE,
        {"approve": True},
    ),
    "visit": Case(
        "POST", ORDERS + "/{id}/visit", _replied, CENTRE, {"method": "phone", "satisfaction": 5}
    ),
    "close": Case(
        "POST",
        ORDERS + "/{id}/close",
        _registered,
        {**STAFF_REFUSED, "handler": 404, "dispatcher": 200},
        {"outcome": "explained", "note": "已电话解释路灯维修安排"},
    ),
    "merge": Case(
        "POST",
        ORDERS + "/{id}/merge",
        _registered,
        {**STAFF_REFUSED, "handler": 404, "dispatcher": 200},
    ),
    "transfer": Case(
        "POST",
        ORDERS + "/{id}/transfer",
        _registered,
        {**STAFF_REFUSED, "handler": 404, "dispatcher": 200},
        {"number": "110"},
    ),
}
CODES = {401: "core.unauthenticated", 403: "core.forbidden", 404: "core.not_found"}


@pytest.mark.parametrize("name", list(CASES))
def test_authorization_matrix(people: People, name: str) -> None:
    world = people.world
    case = CASES[name]
    order = case.setup(world)
    body = dict(case.body or {})
    if name == "merge":
        body = {
            "into": file_order(world, content="另一条街的路灯也不亮了", category=None).order.number
        }
    extension = Extension.objects.filter(order=order).first()
    url = case.path.format(id=order.public_id, x=extension.pk if extension else 0)
    for principal, expected in case.expected.items():
        before = (WorkOrder.objects.get(pk=order.pk).status, Event.objects.count())
        # when
        response = people.client(principal).generic(
            case.method, url, json.dumps(body), content_type="application/json"
        )
        # then
        assert response.status_code == expected, (principal, response.content)
        if expected >= 400:
            assert response["Content-Type"] == "application/problem+json"
            problem = response.json()
            assert problem["code"] in {CODES[expected], "hotline.not_your_order"}
            # and a refused request changed nothing
            after = (WorkOrder.objects.get(pk=order.pk).status, Event.objects.count())
            assert after == before


def test_lists_show_only_what_each_person_may_see(people: People) -> None:
    world = people.world
    order = _dispatched(world)
    _registered(world)  # waiting for the centre: no unit sees it yet

    def numbers(principal: str, url: str) -> list[str] | int:
        response = people.client(principal).get(url)
        if response.status_code != 200:
            return int(response.status_code)
        return [row["number"] for row in response.json()["items"]]

    assert numbers("anonymous", ORDERS) == 401
    assert numbers("citizen", ORDERS) == 403
    assert numbers("stranger", ORDERS) == []
    assert numbers("other_handler", ORDERS) == []
    assert numbers("handler", ORDERS) == [order.number]
    assert len(numbers("dispatcher", ORDERS)) == 2  # type: ignore[arg-type]
    assert numbers("dispatcher", ORDERS + "?unit=la-cgj&category=cxjs") == [order.number]
    assert numbers("dispatcher", ORDERS + "?category=hjbh") == []
    assert numbers("anonymous", MINE) == 401
    assert numbers("handler", MINE) == 403
    assert len(numbers("citizen", MINE)) == 2  # type: ignore[arg-type]
    assert numbers("other_citizen", MINE) == []


def test_the_category_tree_needs_a_sign_in(world: World) -> None:
    assert Client().get("/api/v1/hotline/categories").status_code == 401

    tree = signed_in(world.citizen).get("/api/v1/hotline/categories").json()

    top = next(node for node in tree if node["code"] == "cxjs")
    middle = next(node for node in top["children"] if node["code"] == "cxjs-szss")
    assert [leaf["code"] for leaf in middle["children"]] == [
        "cxjs-szss-ld",
        "cxjs-szss-dl",
        "cxjs-szss-jg",
        "cxjs-szss-ps",
    ]
    assert middle["children"][0]["children"] == []


def test_staff_cannot_file_an_order_and_a_unit_cannot_rate_its_own(world: World) -> None:
    refused = post(signed_in(world.handler), ORDERS, {"content": STREETLIGHT, **JINAN})
    order = _replied(world)
    rated = post(
        signed_in(world.handler),
        f"{ORDERS}/{order.public_id}/visit",
        {"method": "sms", "satisfaction": 5},
    )

    assert refused.status_code == 403
    assert rated.status_code == 403
    assert WorkOrder.objects.get(pk=order.pk).status == Status.REPLIED


# --- the citizen's view ------------------------------------------------------------------------


def test_the_citizen_never_sees_working_notes_nor_the_staff_view(world: World) -> None:
    order = _return_requested(world)
    services.work_order_return_review(
        order=order, actor=world.dispatcher, accept=False, note="路灯属城管局职责，请继续办理"
    )

    mine = signed_in(world.citizen).get(f"{MINE}/{order.public_id}")
    staff = signed_in(world.handler).get(f"{ORDERS}/{order.public_id}")

    assert mine.status_code == 200
    text = mine.content.decode()
    assert "不属于本单位职责" not in text
    assert "请继续办理" not in text
    assert "caller_phone" not in mine.json()
    assert [e["kind"] for e in mine.json()["events"]] == ["registered", "dispatched"]
    # the unit sees the working notes, and the caller masked
    assert staff.status_code == 200
    kinds = [e["kind"] for e in staff.json()["events"]]
    assert kinds == ["registered", "dispatched", "return_requested", "return_refused"]
    assert staff.json()["caller_phone"] == "138****0001"
    assert staff.json()["caller_name"] == "李**"
    assert "13800000001" not in staff.content.decode()


def test_html_and_script_come_back_as_the_same_plain_text(world: World) -> None:
    content = '<script>alert("x")</script><img src=x onerror=alert(1)> 路灯不亮 & 很黑'

    created = post(signed_in(world.citizen), ORDERS, {"content": content, **JINAN})

    assert created.status_code == 201, created.content
    assert created["Content-Type"] == "application/json; charset=utf-8"
    assert created.json()["content"] == content
    assert created.json()["title"] == content[:30]
    detail = signed_in(world.dispatcher).get(f"{ORDERS}/{created.json()['id']}")
    assert detail.json()["content"] == content
    assert WorkOrder.objects.get().content == content


# --- idempotency, bad input ----------------------------------------------------------------------


def test_the_same_idempotency_key_answers_the_same_order(world: World) -> None:
    app = signed_in(world.citizen)
    body = {"content": STREETLIGHT, "category": "cxjs-szss-ld", **JINAN}

    first = post(app, ORDERS, body, **{"Idempotency-Key": "k-1"})
    again = post(app, ORDERS, body, **{"Idempotency-Key": "k-1"})
    other = post(app, ORDERS, {**body, "content": "另一件事"}, **{"Idempotency-Key": "k-1"})

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert other.status_code == 409
    assert other.json()["code"] == "hotline.idempotency_conflict"
    assert other.json()["number"] == first.json()["number"]
    assert WorkOrder.objects.count() == 1
    # the same key of another citizen is theirs alone
    theirs = post(signed_in(world.other_citizen), ORDERS, body, **{"Idempotency-Key": "k-1"})
    assert theirs.status_code == 201
    assert WorkOrder.objects.count() == 2


def test_bad_input_lists_every_problem_and_creates_nothing(world: World) -> None:
    response = post(
        signed_in(world.citizen),
        ORDERS,
        {
            "content": "   ",
            "category": "no-such-category",
            "lat": 31.7,
            "photos": [{"filename": "a.png", "content_base64": base64.b64encode(PNG).decode()}],
        },
    )

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "hotline.invalid"
    assert {(p["field"], p["code"]) for p in problem["problems"]} == {
        ("content", "hotline.content_required"),
        ("category", "hotline.category_unknown"),
        ("location", "hotline.location_coordinates_invalid"),
    }
    assert WorkOrder.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert OutboundMessage.objects.count() == 0


def test_a_wrong_type_is_a_field_error(world: World) -> None:
    response = post(signed_in(world.citizen), ORDERS, {"content": "路灯不亮", "kind": "rant"})

    assert response.status_code == 422
    assert response.json()["code"] == "api.invalid_input"
    assert [e["field"] for e in response.json()["errors"]] == ["kind"]
    assert WorkOrder.objects.count() == 0


def test_a_boilerplate_reply_is_refused_with_its_problems(world: World) -> None:
    order = _handling(world)

    response = post(
        bearer(world.handler),
        f"{ORDERS}/{order.public_id}/reply",
        {"action": "已处理完毕", "text": "已收到，正在处理。", "outcome": "resolved"},
    )

    assert response.status_code == 422
    assert response.json()["code"] == "hotline.reply_refused"
    assert response.json()["problems"]
    assert all(p["field"] == "text" for p in response.json()["problems"])
    assert WorkOrder.objects.get(pk=order.pk).status == Status.HANDLING


def test_rating_an_order_that_is_not_replied_is_a_conflict(world: World) -> None:
    order = _handling(world)

    response = post(
        signed_in(world.citizen), f"{MINE}/{order.public_id}/satisfaction", {"level": 5}
    )

    assert response.status_code == 409
    assert response.json()["code"] == "hotline.invalid_transition"


# --- photos ------------------------------------------------------------------------------------


def test_a_photo_by_multipart_is_stored(world: World) -> None:
    payload = json.dumps({"content": STREETLIGHT, **JINAN})

    response = signed_in(world.citizen).post(
        ORDERS,
        {
            "payload": payload,
            "photo": SimpleUploadedFile("lamp.png", PNG, content_type="application/octet-stream"),
        },
    )

    assert response.status_code == 201, response.content
    assert response.json()["photos"] == [
        {"name": "lamp.png", "content_type": "image/png", "size": len(PNG)}
    ]
    stored = Attachment.objects.get()
    with stored.file.open("rb") as f:
        assert f.read() == PNG


def test_a_photo_in_base64_is_stored(world: World) -> None:
    photo = {"filename": "lamp.png", "content_base64": base64.b64encode(PNG).decode()}

    response = post(signed_in(world.citizen), ORDERS, {"content": STREETLIGHT, "photos": [photo]})

    assert response.status_code == 201, response.content
    assert [p["content_type"] for p in response.json()["photos"]] == ["image/png"]
    assert Attachment.objects.get().size == len(PNG)


def test_a_file_that_is_not_an_image_is_refused_and_nothing_is_created(world: World) -> None:
    payload = json.dumps({"content": STREETLIGHT, **JINAN})

    response = signed_in(world.citizen).post(
        ORDERS,
        {
            "payload": payload,
            "photo": SimpleUploadedFile("lamp.png", PDF, content_type="image/png"),
        },
    )

    assert response.status_code == 422
    assert [(p["field"], p["code"]) for p in response.json()["problems"]] == [
        ("photos", "hotline.photo_type")
    ]
    assert WorkOrder.objects.count() == 0
    assert Attachment.objects.count() == 0


def test_bad_base64_is_a_problem(world: World) -> None:
    photo = {"filename": "lamp.png", "content_base64": "not base64!"}

    response = post(signed_in(world.citizen), ORDERS, {"content": STREETLIGHT, "photos": [photo]})

    assert response.status_code == 422
    assert [p["code"] for p in response.json()["problems"]] == ["hotline.photo_base64"]
    assert WorkOrder.objects.count() == 0


def test_an_emergency_carries_the_notice(world: World) -> None:
    response = post(
        signed_in(world.citizen), ORDERS, {"content": "楼下饭店着火了，火很大，有人被困", **JINAN}
    )

    assert response.status_code == 201
    assert response.json()["emergency"]["number"] == "119"
    assert "119" in response.json()["emergency"]["notice"]
    assert response.json()["status"] == "registered"


def test_the_lists_take_the_same_queries_for_one_order_or_many(world: World) -> None:
    def queries(client: Client, url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    dispatcher, citizen = signed_in(world.dispatcher), signed_in(world.citizen)
    file_order(world, content="人民路的路灯不亮")
    one = (queries(dispatcher, ORDERS), queries(citizen, MINE))
    for street in ("解放路", "梅山路", "皖西路"):
        file_order(world, content=f"{street}的路灯不亮", category=None)

    many = (queries(dispatcher, ORDERS), queries(citizen, MINE))

    assert many == one
