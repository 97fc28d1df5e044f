"""The citizen pages of the 12345 hotline (/hotline/) with the Django test client: who may
see what (anonymous, the citizen, another citizen, staff); writing a request with a photo;
bad input explained and nothing created; a double submit makes one order; the satisfaction
form closes or reopens the order; mailbox letters and their publication; what people typed
is shown escaped."""

from __future__ import annotations

import re
import struct
import zlib
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from yiwang.accounts.models import User
from yiwang.evaluation.models import Invitation
from yiwang.hotline import services
from yiwang.hotline.models import Attachment, Event, Mailbox, WorkOrder
from yiwang.hotline.tests.conftest import World

Status = WorkOrder.Status
STREETLIGHT = "金安区人民路与解放路交叉口的路灯坏了好几天，晚上一片漆黑，行人很不安全"
REPLY = (
    "您好，经我局现场核查，人民路与解放路交叉口路灯因线路老化损坏，"
    "已于11月27日更换线路并恢复照明，今后我局将加强巡查。"
)
SCRIPT = "<script>alert('x')</script>"


def _png() -> bytes:
    """A real 1×1 PNG (signature, IHDR, IDAT, IEND with their CRCs)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def signed_in(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def html(response: Any) -> str:
    return str(response.content.decode())


def form_data(**kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "token": "tok-0001",
        "channel": "web",
        "kind": "complaint",
        "title": "",
        "content": STREETLIGHT,
        "address": "六安市金安区人民路",
        "lat": "",
        "long": "",
        "category": "",
    }
    data.update(kw)
    return data


def submit(world: World, **kw: Any) -> WorkOrder:
    response = signed_in(world.citizen).post("/hotline/new/", form_data(**kw))
    assert response.status_code == 302, html(response)
    return WorkOrder.objects.get(public_id=response["Location"].split("/")[-2])


def replied_order(world: World, **kw: Any) -> WorkOrder:
    order = submit(world, category=world.streetlight.code, **kw)
    assert order.status == Status.DISPATCHED
    services.work_order_sign(order=order, actor=world.handler)
    services.work_order_reply(
        order=order,
        actor=world.handler,
        action="更换损坏线路，恢复照明",
        text=REPLY,
        outcome="resolved",
    )
    order.refresh_from_db()
    assert order.status == Status.REPLIED
    return order


def my_url(order: WorkOrder, suffix: str = "") -> str:
    return f"/hotline/my/{order.public_id}/{suffix}"


# --- who may see what ---------------------------------------------------------------------------


def test_the_hotline_page_is_public_with_the_emergency_numbers_and_the_ways_in(world: World):
    response = signed_in(None).get("/hotline/")

    page = html(response)
    assert response.status_code == 200
    assert "紧急情况请直接拨打" in page
    for number in ("110", "119", "120", "122"):
        assert f'href="tel:{number}"' in page
    assert 'href="tel:12345"' in page
    assert 'href="/hotline/new/"' in page
    assert 'href="/hotline/my/"' in page
    assert 'href="/hotline/mailbox/mayor/write/"' in page
    assert 'href="/hotline/mailbox/la-cgj/write/"' in page
    assert "还没有公开的来信。" in page


@pytest.mark.parametrize("path", ["/hotline/new/", "/hotline/my/", "/hotline/mailbox/mayor/write/"])
def test_anonymous_people_are_sent_to_sign_in(world: World, path: str):
    response = signed_in(None).get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("path", ["/hotline/mailbox/", "/hotline/letters/"])
def test_the_mailboxes_and_the_letters_are_public(world: World, path: str):
    assert signed_in(None).get(path).status_code == 200


def test_the_mailbox_list_names_the_active_mailboxes(world: World):
    Mailbox.objects.filter(code="la-cgj").update(active=False)

    page = html(signed_in(None).get("/hotline/mailbox/"))

    assert "市长信箱" in page
    assert "城管局局长信箱" not in page
    assert signed_in(world.citizen).get("/hotline/mailbox/la-cgj/write/").status_code == 404


def test_another_citizen_gets_404_for_an_order_and_its_form(world: World):
    order = replied_order(world)
    other = signed_in(world.other_citizen)

    assert other.get(my_url(order)).status_code == 404
    assert other.post(my_url(order, "visit/"), {"satisfaction": "5"}).status_code == 404
    assert order.number not in html(other.get("/hotline/my/"))
    order.refresh_from_db()
    assert order.status == Status.REPLIED


def test_staff_may_not_use_the_citizen_pages(world: World):
    order = submit(world)
    staff = signed_in(world.dispatcher)

    assert staff.get("/hotline/").status_code == 200
    assert staff.get("/hotline/new/").status_code == 403
    assert staff.get(my_url(order)).status_code == 403
    assert staff.get("/hotline/my/").status_code == 403


# --- writing a request --------------------------------------------------------------------------


def test_the_form_offers_photos_from_the_camera_a_token_and_the_location_button(world: World):
    page = html(signed_in(world.citizen).get("/hotline/new/"))

    assert 'accept="image/*"' in page
    assert 'capture="environment"' in page
    assert 'enctype="multipart/form-data"' in page
    assert 'name="token"' in page
    assert 'id="id_lat"' in page
    assert 'id="id_long"' in page
    assert 'id="hlp-use-location"' in page
    assert 'maxlength="4000"' in page
    assert "紧急情况请直接拨打" in page
    assert '<option value="cxjs-szss-ld">路灯故障</option>' in page


def test_a_request_with_a_photo_is_registered_dispatched_and_shown(world: World):
    photo = SimpleUploadedFile("light.png", _png(), content_type="image/png")
    client = signed_in(world.citizen)

    response = client.post(
        "/hotline/new/",
        form_data(category=world.streetlight.code, photos=[photo], lat="31.7347", long="116.5078"),
    )

    assert response.status_code == 302
    order = WorkOrder.objects.get()
    assert response["Location"] == my_url(order)
    assert order.citizen == world.citizen
    assert order.registered_by == world.citizen
    assert order.channel == "web"
    assert order.idempotency_key == "tok-0001"
    assert order.status == Status.DISPATCHED
    assert order.lead_unit == world.cgj
    assert (order.lat, order.long) == (31.7347, 116.5078)
    assert order.title == STREETLIGHT[:30]
    attachment = Attachment.objects.get(order=order)
    assert (attachment.name, attachment.content_type) == ("light.png", "image/png")
    page = html(client.get(response["Location"]))
    assert order.number in page
    assert "提交成功，工单编号" in page
    assert f"已派给{world.cgj.name}办理" in page
    assert "已派给承办单位，等待签收" in page


def test_a_phone_sized_layout_files_the_request_as_mobile(world: World):
    order = submit(world, channel="mobile")

    assert order.channel == "mobile"
    assert (
        signed_in(world.citizen)
        .post("/hotline/new/", form_data(token="t2", channel="phone"))
        .status_code
        == 422
    )


def test_bad_input_is_explained_on_its_fields_and_creates_nothing(world: World):
    client = signed_in(world.citizen)

    response = client.post(
        "/hotline/new/",
        form_data(content="   ", title="x" * 101, category="no-such", lat="200", long="1"),
    )

    page = html(response)
    assert response.status_code == 422
    assert 'id="id_content_error"' in page
    assert "请填写诉求内容。" in page
    assert 'id="id_title_error"' in page
    assert 'id="id_category_error"' in page
    assert "位置坐标无效" in page
    assert 'value="tok-0001"' in page
    assert WorkOrder.objects.count() == 0


def test_a_file_that_is_not_an_image_is_refused_by_content_and_creates_nothing(world: World):
    fake = SimpleUploadedFile("photo.png", b"<html>not a picture</html>", content_type="image/png")

    response = signed_in(world.citizen).post("/hotline/new/", form_data(photos=[fake]))

    page = html(response)
    assert response.status_code == 422
    assert 'id="id_photos_error"' in page
    assert "“photo.png”不是 JPEG、PNG 或 WebP 图片。" in page
    assert WorkOrder.objects.count() == 0
    assert Attachment.objects.count() == 0


def test_seven_photos_are_too_many(world: World):
    photos = [SimpleUploadedFile(f"p{i}.png", _png(), content_type="image/png") for i in range(7)]

    response = signed_in(world.citizen).post("/hotline/new/", form_data(photos=photos))

    assert response.status_code == 422
    assert "照片最多 6 张。" in html(response)
    assert WorkOrder.objects.count() == 0


def test_an_address_outside_the_city_is_shown_on_the_address_field(world: World):
    response = signed_in(world.citizen).post(
        "/hotline/new/", form_data(address="合肥市蜀山区长江西路")
    )

    assert response.status_code == 422
    assert 'id="id_address_error"' in html(response)
    assert WorkOrder.objects.count() == 0


def test_a_double_submit_with_the_same_token_makes_one_order(world: World):
    client = signed_in(world.citizen)

    first = client.post("/hotline/new/", form_data())
    second = client.post("/hotline/new/", form_data())

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert WorkOrder.objects.count() == 1
    assert Event.objects.filter(kind="registered").count() == 1


def test_the_same_token_with_other_words_is_refused_and_a_new_token_offered(world: World):
    client = signed_in(world.citizen)
    client.post("/hotline/new/", form_data())

    response = client.post("/hotline/new/", form_data(content="小区门口的垃圾三天没人清运"))

    page = html(response)
    assert response.status_code == 422
    assert "该幂等键已用于另一份内容不同的诉求" in page
    assert 'value="tok-0001"' not in page
    assert WorkOrder.objects.count() == 1


def test_an_emergency_shows_the_number_to_call_now(world: World):
    order = submit(world, content="我家楼下的饭店着火了，浓烟很大，有人被困在楼上", address="")

    page = html(signed_in(world.citizen).get(my_url(order)))

    assert order.emergency_number == "119"
    assert order.status == Status.REGISTERED
    assert 'class="hlp-call-now" role="alert"' in page
    assert '<a class="hlp-call-number" href="tel:119">119</a>' in page


# --- following an order -------------------------------------------------------------------------


def test_my_orders_lists_only_my_own_in_plain_words(world: World):
    mine = submit(world)
    theirs = services.work_order_register(
        actor=world.other_citizen,
        citizen=world.other_citizen,
        channel="web",
        content="小区门口的垃圾三天没人清运，气味很大",
    ).order

    page = html(signed_in(world.citizen).get("/hotline/my/"))

    assert mine.number in page
    assert theirs.number not in page
    assert mine.status == Status.REGISTERED  # no category, no classifier: the dispatcher routes
    assert "已受理，正在分派给负责的部门" in page


def test_the_order_page_escapes_what_people_wrote_and_hides_staff_notes(world: World):
    order = submit(
        world, content=f"{STREETLIGHT}{SCRIPT}", title=SCRIPT, category=world.streetlight.code
    )
    services.work_order_return_request(
        order=order, actor=world.handler, reason="内部意见：不归我局管，应由住建局办理"
    )
    services.work_order_return_review(
        order=order, actor=world.dispatcher, accept=False, note="调度备注：按目录由城管局承办"
    )
    services.work_order_sign(order=order, actor=world.handler)
    services.work_order_reply(
        order=order,
        actor=world.handler,
        action="更换损坏线路，恢复照明",
        text=REPLY + "<b>完</b>",
        outcome="resolved",
    )

    page = html(signed_in(world.citizen).get(my_url(order)))

    assert SCRIPT not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<b>完</b>" not in page
    assert "&lt;b&gt;完&lt;/b&gt;" in page
    assert "内部意见" not in page
    assert "调度备注" not in page
    assert "更换损坏线路，恢复照明" not in page  # the unit's working note, not the reply
    assert f"{world.cgj.name}已签收" in page
    assert f"{world.cgj.name}已答复" in page
    assert "13800000001" not in page


def test_a_satisfied_citizen_closes_the_order_and_is_offered_the_rating(world: World):
    order = replied_order(world)
    client = signed_in(world.citizen)
    page = html(client.get(my_url(order)))
    assert 'action="/hotline/my/' in page
    assert 'name="satisfaction"' in page
    assert REPLY in page

    response = client.post(my_url(order, "visit/"), {"satisfaction": "5", "comment": ""})

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Status.CLOSED
    assert order.satisfaction == 5
    assert order.visits.get().method == "online"
    invitation = Invitation.objects.get(subject_kind="work_order", subject_id=str(order.public_id))
    page = html(client.get(my_url(order)))
    assert f'href="/evaluation/{invitation.public_id}/"' in page
    assert "评价：非常满意" in page
    assert 'name="satisfaction"' not in page
    assert client.post(my_url(order, "visit/"), {"satisfaction": "1"}).status_code == 302
    order.refresh_from_db()
    assert order.status == Status.CLOSED


def test_a_very_unsatisfied_citizen_must_say_why_and_then_reopens_the_order(world: World):
    order = replied_order(world)
    client = signed_in(world.citizen)

    refused = client.post(my_url(order, "visit/"), {"satisfaction": "1", "comment": " "})

    assert refused.status_code == 422
    assert 'id="id_comment_error"' in html(refused)
    order.refresh_from_db()
    assert order.status == Status.REPLIED
    assert order.visits.count() == 0

    response = client.post(
        my_url(order, "visit/"), {"satisfaction": "1", "comment": "路灯还是不亮"}
    )

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Status.HANDLING
    assert order.reopen_count == 1
    assert "您不满意，已重新办理" in html(client.get(my_url(order)))


def test_no_level_chosen_is_explained(world: World):
    order = replied_order(world)

    response = signed_in(world.citizen).post(my_url(order, "visit/"), {"comment": "好"})

    assert response.status_code == 422
    assert "请选择满意程度。" in html(response)


# --- mailboxes and published letters ------------------------------------------------------------


def test_a_letter_to_a_department_mailbox_goes_to_the_department(world: World):
    client = signed_in(world.citizen)

    response = client.post(
        "/hotline/mailbox/la-cgj/write/",
        {
            "token": "l1",
            "kind": "complaint",
            "title": "路灯不亮",
            "content": STREETLIGHT,
            "publish_consent": "on",
        },
    )

    assert response.status_code == 302
    order = WorkOrder.objects.get()
    assert order.channel == "mailbox"
    assert order.mailbox is not None
    assert order.mailbox.code == "la-cgj"
    assert order.publish_consent is True
    assert order.lead_unit == world.cgj


def test_a_letter_needs_a_title_and_creates_nothing_without_one(world: World):
    response = signed_in(world.citizen).post(
        "/hotline/mailbox/mayor/write/",
        {"token": "l1", "kind": "suggestion", "title": "", "content": "建议多建口袋公园"},
    )

    assert response.status_code == 422
    assert "请填写标题。" in html(response)
    assert "个人信息" in html(response)
    assert WorkOrder.objects.count() == 0


def _closed_letter(world: World, *, title: str, content: str) -> WorkOrder:
    mailbox = Mailbox.objects.get(code="la-cgj")
    order = services.work_order_register(
        actor=world.citizen,
        citizen=world.citizen,
        channel="mailbox",
        mailbox=mailbox,
        title=title,
        content=content,
        publish_consent=True,
    ).order
    services.work_order_sign(order=order, actor=world.handler)
    services.work_order_reply(
        order=order,
        actor=world.handler,
        action="更换损坏线路，恢复照明",
        text=REPLY,
        outcome="resolved",
    )
    services.work_order_visit(order=order, actor=world.citizen, method="online", satisfaction=5)
    order.refresh_from_db()
    return order


def test_unpublished_letters_are_not_public(world: World):
    order = _closed_letter(world, title="路灯不亮", content=STREETLIGHT)

    assert signed_in(None).get(f"/hotline/letters/{order.public_id}/").status_code == 404
    assert "路灯不亮" not in html(signed_in(None).get("/hotline/letters/"))


def test_a_published_letter_shows_only_its_public_texts_escaped(world: World):
    order = _closed_letter(world, title="路灯不亮 13800000001", content=f"{STREETLIGHT} 我是李小明")
    services.work_order_publish(
        order=order,
        actor=world.dispatcher,
        public_title=f"人民路路灯不亮{SCRIPT}",
        public_content=f"{STREETLIGHT}<img src=x onerror=alert(1)>",
        public_reply=REPLY,
    )
    anonymous = signed_in(None)

    listing = html(anonymous.get("/hotline/letters/"))
    page = html(anonymous.get(f"/hotline/letters/{order.public_id}/"))

    assert f'href="/hotline/letters/{order.public_id}/"' in listing
    assert SCRIPT not in listing
    assert SCRIPT not in page
    assert "人民路路灯不亮&lt;script&gt;" in page
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert REPLY in page
    assert "城管局局长信箱" in page
    assert "13800000001" not in page
    assert "李小明" not in page
    assert f'href="/hotline/letters/{order.public_id}/"' in html(anonymous.get("/hotline/"))


# --- staff: publishing a letter -----------------------------------------------------------------


def test_staff_publish_a_letter_from_texts_with_personal_data_masked(world: World):
    order = _closed_letter(
        world, title="路灯不亮 13800000001", content=f"{STREETLIGHT}，电话13900000002"
    )
    url = f"/console/hotline/orders/{order.public_id}/publish/"
    client = signed_in(world.handler)

    page = html(client.get(url))

    assert "13800000001" not in page
    assert "13900000002" not in page
    assert "路灯不亮 ***********" in page
    response = client.post(
        url,
        {"public_title": "人民路路灯不亮", "public_content": STREETLIGHT, "public_reply": REPLY},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/hotline/letters/{order.public_id}/"
    order.refresh_from_db()
    assert order.published_at is not None
    assert order.public_title == "人民路路灯不亮"


def test_a_phone_number_left_in_a_published_text_is_refused_on_its_field(world: World):
    order = _closed_letter(world, title="路灯不亮", content=STREETLIGHT)
    url = f"/console/hotline/orders/{order.public_id}/publish/"

    response = signed_in(world.dispatcher).post(
        url,
        {"public_title": "路灯不亮", "public_content": "请回电13800000001", "public_reply": REPLY},
    )

    assert response.status_code == 422
    assert 'id="id_public_content_error"' in html(response)
    order.refresh_from_db()
    assert order.published_at is None


def test_only_staff_who_see_the_letter_may_publish_it(world: World):
    order = _closed_letter(world, title="路灯不亮", content=STREETLIGHT)
    url = f"/console/hotline/orders/{order.public_id}/publish/"
    data = {"public_title": "路灯不亮", "public_content": STREETLIGHT, "public_reply": REPLY}

    assert signed_in(world.citizen).post(url, data).status_code == 403
    assert signed_in(world.other_handler).post(url, data).status_code == 404
    assert signed_in(None).get(url).status_code == 302
    order.refresh_from_db()
    assert order.published_at is None


def test_a_letter_without_consent_offers_no_publish_form(world: World):
    order = submit(world)  # a web request, not a letter

    response = signed_in(world.dispatcher).post(
        f"/console/hotline/orders/{order.public_id}/publish/",
        {"public_title": "x", "public_content": "x", "public_reply": "x"},
    )

    assert response.status_code == 200
    assert "只有来信人同意公开、并且已经办结的信箱来信可以公开。" in html(response)
    assert 'name="public_title"' not in html(response)
    order.refresh_from_db()
    assert order.published_at is None


def test_elder_mode_marks_the_page_and_keeps_the_optional_fields_out_of_the_way(world: World):
    client = signed_in(world.citizen)
    client.cookies["elder"] = "1"

    page = html(client.get("/hotline/new/"))

    assert '<body class="elder' in page
    for name in ("title", "category"):  # site.css hides .secondary in elder mode
        assert re.search(
            rf'<div class="secondary">\s*<div class="field">\s*<label for="id_{name}">', page
        )
    assert not re.search(
        r'<div class="secondary">\s*<div class="field">\s*<label for="id_content">', page
    )
    assert '<label for="id_content">' in page


def test_a_point_outside_the_city_is_explained_and_dropped_from_the_form(world: World):
    response = signed_in(world.citizen).post(
        "/hotline/new/", form_data(address="", lat="39.9042", long="116.4074")
    )

    page = html(response)
    assert response.status_code == 422
    assert 'id="id_address_error"' in page
    assert 'name="lat" id="id_lat"' in page
    assert 'value="39.9042"' not in page
    assert WorkOrder.objects.count() == 0
