"""Open311 GeoReport v2 at /open311/v2/: every resource in XML and JSON with the spec's exact
field sets, its errors (403 key, 400 input, 404 unknown), what a public read may not show,
the key command, and the `georeport` PyPI client against a live server."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from io import StringIO
from typing import Any

import pytest
import requests
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from georeport import GeoReport  # type: ignore[import-untyped]
from lxml import etree

from yiwang.core.calendar import SHANGHAI
from yiwang.core.models import AuditEntry
from yiwang.hotline import selectors, services
from yiwang.hotline.models import Category, Mailbox, Open311Key, WorkOrder
from yiwang.hotline.tests.conftest import World

Status = WorkOrder.Status
BASE = "/open311/v2/"
XML_TYPE = "text/xml; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>'
SERVICE_FIELDS = [
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
]
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
STREETLIGHT = "金安区人民路与解放路交叉口的路灯坏了好几天，晚上一片漆黑，行人很不安全"
REPLY = (
    "您好，经我局现场核查，人民路与解放路交叉口路灯因线路老化损坏，"
    "已于11月27日更换线路并恢复照明，今后我局将加强巡查。"
)
NOTICE = "如遇火警、警情、急救等紧急情况，请直接拨打 119、110、120。"


# --- helpers -------------------------------------------------------------------------------


def _xml(response: Any) -> Any:
    assert response["Content-Type"] == XML_TYPE
    assert response.content.startswith(XML_DECLARATION + b"\n")
    return etree.fromstring(response.content)


def _json(response: Any) -> Any:
    assert response["Content-Type"] == JSON_TYPE
    return json.loads(response.content)


def _children(element: Any) -> list[str]:
    return [child.tag for child in element]


def _xml_errors(response: Any) -> list[tuple[str, str]]:
    root = _xml(response)
    assert root.tag == "errors"
    assert all(_children(e) == ["code", "description"] for e in root)
    return [(e.findtext("code"), e.findtext("description")) for e in root]


def _json_errors(response: Any) -> list[tuple[int, str]]:
    body = _json(response)
    assert isinstance(body, list)
    assert all(list(e) == ["code", "description"] for e in body)
    return [(e["code"], e["description"]) for e in body]


def _key(name: str = "城市App") -> tuple[Open311Key, str]:
    return services.open311_key_create(name=name, actor="test")


def _post(client: Client, fmt: str, key: str | None, **fields: Any) -> Any:
    data: dict[str, Any] = {"service_code": "cxjs-szss-ld", "address_string": "六安市金安区人民路"}
    if key is not None:
        data["api_key"] = key
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(f"{BASE}requests.{fmt}", data)


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


def _closed(world: World) -> WorkOrder:
    order = _register(world)
    services.work_order_sign(order=order, actor=world.handler)
    services.work_order_reply(
        order=order,
        actor=world.handler,
        action="更换损坏线路，恢复照明",
        text=REPLY,
        outcome="resolved",
    )
    services.work_order_visit(order=order, actor=world.dispatcher, method="phone", satisfaction=5)
    order.refresh_from_db()
    assert order.status == Status.CLOSED
    return order


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(SHANGHAI).isoformat(timespec="seconds") if value else None


def _leaf_codes() -> list[str]:
    return list(selectors.category_leaves().values_list("code", flat=True))


# --- discovery -----------------------------------------------------------------------------


def test_discovery_xml_and_json(world: World, client: Client) -> None:
    latest = Category.objects.order_by("-updated_at").first()
    assert latest is not None
    changeset = _iso(latest.updated_at)
    root = _xml(client.get(f"{BASE}discovery.xml"))
    assert root.tag == "discovery"
    assert _children(root) == ["changeset", "contact", "key_service", "endpoints"]
    assert root.findtext("changeset") == changeset
    assert "12345" in root.findtext("contact")
    assert "yiwang open311 create-key" in root.findtext("key_service")
    endpoints = root.find("endpoints")
    assert _children(endpoints) == ["endpoint"]
    endpoint = endpoints[0]
    assert _children(endpoint) == ["specification", "url", "changeset", "type", "formats"]
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint.findtext("url") == "http://testserver/open311/v2/"
    assert endpoint.findtext("type") == "production"
    assert [f.text for f in endpoint.find("formats")] == ["text/xml", "application/json"]
    assert [f.tag for f in endpoint.find("formats")] == ["format", "format"]

    body = _json(client.get(f"{BASE}discovery.json"))
    assert body == {
        "changeset": changeset,
        "contact": root.findtext("contact"),
        "key_service": root.findtext("key_service"),
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": "http://testserver/open311/v2/",
                "changeset": changeset,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


def test_discovery_url_follows_the_site_url_setting(
    world: World, client: Client, settings: Any
) -> None:
    settings.YIWANG_SITE_URL = "https://12345.luan.gov.cn"
    body = _json(client.get(f"{BASE}discovery.json"))
    assert body["endpoints"][0]["url"] == "https://12345.luan.gov.cn/open311/v2/"


def test_discovery_changeset_moves_when_a_category_changes(world: World, client: Client) -> None:
    before = _json(client.get(f"{BASE}discovery.json"))["changeset"]
    Category.objects.filter(code="cxjs-szss-ld").update(
        updated_at=timezone.now() + timedelta(seconds=5)
    )
    after = _json(client.get(f"{BASE}discovery.json"))["changeset"]
    assert after > before


# --- services ------------------------------------------------------------------------------


def test_service_list_is_the_active_leaf_categories_in_both_formats(
    world: World, client: Client
) -> None:
    Category.objects.filter(code="hjbh-wr-sz").update(active=False)
    codes = _leaf_codes()
    assert len(codes) == Category.objects.filter(level=3).count() - 1
    assert "hjbh-wr-sz" not in codes

    body = _json(client.get(f"{BASE}services.json"))
    assert [s["service_code"] for s in body] == codes
    assert all(list(s) == SERVICE_FIELDS for s in body)
    streetlight = body[0]
    assert streetlight == {
        "service_code": "cxjs-szss-ld",
        "service_name": "路灯故障",
        "description": "城乡建设／市政设施／路灯故障",
        "metadata": False,
        "type": "realtime",
        "keywords": "路灯,不亮,灯坏,照明",
        "group": "城乡建设",
    }
    noise = next(s for s in body if s["service_code"] == "hjbh-wr-zs")
    assert noise["group"] == "环境保护"

    root = _xml(client.get(f"{BASE}services.xml"))
    assert root.tag == "services"
    assert _children(root) == ["service"] * len(codes)
    assert all(_children(s) == SERVICE_FIELDS for s in root)
    first = root[0]
    assert {child.tag: child.text for child in first} == {
        "service_code": "cxjs-szss-ld",
        "service_name": "路灯故障",
        "description": "城乡建设／市政设施／路灯故障",
        "metadata": "false",
        "type": "realtime",
        "keywords": "路灯,不亮,灯坏,照明",
        "group": "城乡建设",
    }


def test_service_definition_both_formats_and_unknown_code(world: World, client: Client) -> None:
    assert _json(client.get(f"{BASE}services/cxjs-szss-ld.json")) == {
        "service_code": "cxjs-szss-ld",
        "attributes": [],
    }
    root = _xml(client.get(f"{BASE}services/cxjs-szss-ld.xml"))
    assert root.tag == "service_definition"
    assert _children(root) == ["service_code", "attributes"]
    assert root.findtext("service_code") == "cxjs-szss-ld"
    assert _children(root.find("attributes")) == []

    for code in ("nope", "cxjs"):  # unknown; a level-1 category is no service
        response = client.get(f"{BASE}services/{code}.json")
        assert response.status_code == 404
        assert _json_errors(response) == [(404, f"服务代码“{code}”不存在。")]
        response = client.get(f"{BASE}services/{code}.xml")
        assert response.status_code == 404
        assert _xml_errors(response) == [("404", f"服务代码“{code}”不存在。")]


@pytest.mark.parametrize(
    "path",
    [
        "discovery.html",
        "services.csv",
        "services/cxjs-szss-ld.yaml",
        "requests.txt",
        "requests/GD2026010100000001.php",
    ],
)
def test_an_unknown_format_extension_is_404(world: World, client: Client, path: str) -> None:
    response = client.get(BASE + path)
    assert response.status_code == 404
    ext = path.rsplit(".", 1)[1]
    assert _xml_errors(response) == [("404", f"不支持的格式“{ext}”，请使用 xml 或 json。")]


def test_a_resource_without_extension_is_404(world: World, client: Client) -> None:
    assert client.get(f"{BASE}services").status_code == 404
    assert client.get(f"{BASE}requests/").status_code == 404


# --- POST requests -------------------------------------------------------------------------


def test_post_json_registers_an_open311_order_that_is_dispatched(
    world: World, client: Client
) -> None:
    row, key = _key()
    response = _post(
        client,
        "json",
        key,
        description=STREETLIGHT,
        phone="13800000009",
        first_name="小明",
        last_name="李",
        email="li@example.com",
    )
    assert response.status_code == 200
    order = WorkOrder.objects.get()
    assert _json(response) == [{"service_request_id": order.number, "service_notice": NOTICE}]
    assert order.channel == WorkOrder.Channel.OPEN311
    assert order.category == world.streetlight
    assert order.content == STREETLIGHT
    assert order.caller_phone == "13800000009"
    assert order.caller_name == "李小明"
    assert order.callback_requested is True
    assert order.registered_by is None
    assert order.division_code == "341502"
    assert order.status == Status.DISPATCHED
    assert order.lead_unit == world.cgj
    entry = AuditEntry.objects.get(action="hotline.register", object_id=str(order.pk))
    assert entry.actor_label == f"open311:{row.prefix}"
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_post_xml_with_a_point_and_the_key_in_the_query_string(
    world: World, client: Client
) -> None:
    _, key = _key()
    response = client.post(
        f"{BASE}requests.xml?api_key={key}",
        {
            "service_code": "hjbh-wr-zs",
            "lat": "31.7536",
            "long": "116.5078",
            "description": "广场舞噪音太大",
        },
    )
    assert response.status_code == 200
    order = WorkOrder.objects.get()
    root = _xml(response)
    assert root.tag == "service_requests"
    assert _children(root) == ["request"]
    assert _children(root[0]) == ["service_request_id", "service_notice"]
    assert root[0].findtext("service_request_id") == order.number
    assert (order.lat, order.long) == (31.7536, 116.5078)
    assert order.caller_phone == ""
    assert order.callback_requested is False
    assert order.category == world.noise


def test_post_with_address_id_is_the_division_code(world: World, client: Client) -> None:
    _, key = _key()
    response = _post(client, "json", key, address_string=None, address_id="341522")
    assert response.status_code == 200
    order = WorkOrder.objects.get()
    assert order.division_code == "341522"
    # the catalogue routes 霍邱县's streetlights to the county
    assert order.lead_unit is not None
    assert order.lead_unit.code == "la-hqx"


def test_post_without_description_uses_the_service_name(world: World, client: Client) -> None:
    _, key = _key()
    assert _post(client, "json", key).status_code == 200
    assert WorkOrder.objects.get().content == "路灯故障"


def test_post_emergency_gets_the_emergency_notice(world: World, client: Client) -> None:
    _, key = _key()
    response = _post(
        client,
        "json",
        key,
        service_code="cxjs-zf-rq",
        description="楼道里有很浓的煤气味，现在还在漏",
    )
    assert response.status_code == 200
    notice = _json(response)[0]["service_notice"]
    assert notice.startswith("燃气泄漏")
    assert "119" in notice
    assert WorkOrder.objects.get().status == Status.REGISTERED  # never routed automatically


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_without_a_valid_key_is_403_and_changes_nothing(
    world: World, client: Client, fmt: str
) -> None:
    _, key = _key()
    revoked, revoked_key = _key("旧App")
    services.open311_key_revoke(prefix=revoked.prefix, actor="test")
    message = "api_key 缺失或无效，无法提交诉求。"
    for given in (None, "", "o311_wrong", key + "x", revoked_key):
        response = _post(client, fmt, given, description=STREETLIGHT)
        assert response.status_code == 403
        errors = _json_errors(response) if fmt == "json" else _xml_errors(response)
        assert errors == [(403 if fmt == "json" else "403", message)]
    assert WorkOrder.objects.count() == 0
    # the key is checked before anything else: an unknown service still gets 403
    assert _post(client, fmt, None, service_code="nope").status_code == 403
    assert _post(client, fmt, key).status_code == 200


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_bad_input_is_400_or_404_with_the_spec_error_body(
    world: World, client: Client, fmt: str
) -> None:
    _, key = _key()

    def errors(**fields: Any) -> tuple[int, list[str]]:
        response = _post(client, fmt, key, **fields)
        found = _json_errors(response) if fmt == "json" else _xml_errors(response)
        assert all(str(code) == str(response.status_code) for code, _ in found)
        return response.status_code, [text for _, text in found]

    assert errors(service_code="") == (400, ["请提供 service_code。"])
    assert errors(service_code="nope") == (404, ["服务代码“nope”不存在。"])
    assert errors(address_string="") == (
        400,
        ["请提供位置：lat 和 long、address_string 或 address_id 之一。"],
    )
    assert errors(address_string="", lat="31.75") == (
        400,
        ["请提供位置：lat 和 long、address_string 或 address_id 之一。"],
    )
    assert errors(lat="north", long="116.5") == (400, ["lat 应为数字（WGS-84 坐标）。"])
    assert errors(lat="31.7", long="inf") == (400, ["long 应为数字（WGS-84 坐标）。"])
    assert errors(address_string="", lat="39.9", long="116.4") == (400, ["坐标不在本市范围。"])
    assert errors(description="灯" * 4001) == (400, ["description 不能超过 4000 个字符。"])
    assert errors(phone="12345") == (400, ["联系电话格式不正确。"])
    assert errors(media_url="javascript:alert(1)") == (400, ["media_url 应为 http 或 https 链接。"])
    status, texts = errors(address_string="", address_id="999999")
    assert status == 400
    assert len(texts) == 1
    assert WorkOrder.objects.count() == 0
    assert _post(client, fmt, key, description="灯" * 4000).status_code == 200
    assert WorkOrder.objects.count() == 1


def test_post_media_url_is_kept_with_the_text(world: World, client: Client) -> None:
    _, key = _key()
    url = "https://img.example.com/a.jpg"
    assert _post(client, "json", key, description="路灯不亮", media_url=url).status_code == 200
    assert WorkOrder.objects.get().content == f"路灯不亮\n图片链接：{url}"


def test_post_needs_no_csrf_token(world: World) -> None:
    _, key = _key()
    client = Client(enforce_csrf_checks=True)
    assert _post(client, "json", key).status_code == 200


def test_other_methods_are_refused(world: World, client: Client) -> None:
    response = client.put(f"{BASE}requests.json")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, POST"
    assert _json_errors(response) == [(405, "只支持 GET 和 POST。")]


def test_html_in_the_description_is_stored_as_text_and_escaped_in_xml(
    world: World, client: Client
) -> None:
    _, key = _key()
    text = '路灯坏了<script>alert("x")</script><b>&amp;</b>'
    assert _post(client, "json", key, description=text).status_code == 200
    order = WorkOrder.objects.get()
    assert order.content == text
    response = client.get(f"{BASE}requests/{order.number}.xml")
    assert b"<script>" not in response.content
    assert (
        b'&lt;script&gt;alert("x")&lt;/script&gt;&lt;b&gt;&amp;amp;&lt;/b&gt;' in response.content
    )
    assert _xml(response)[0].findtext("description") == text
    assert _json(client.get(f"{BASE}requests/{order.number}.json"))[0]["description"] == text


def test_control_characters_do_not_break_the_xml(world: World, client: Client) -> None:
    order = _register(world, content="路灯\x01坏了\x0b很久")
    root = _xml(client.get(f"{BASE}requests/{order.number}.xml"))
    assert root[0].findtext("description") == "路灯坏了很久"


# --- GET requests --------------------------------------------------------------------------


def test_single_request_in_both_formats_with_the_exact_field_set(
    world: World, client: Client
) -> None:
    order = _register(world)
    order.refresh_from_db()
    expected = {
        "service_request_id": order.number,
        "status": "open",
        "status_notes": "待签收",
        "service_name": "路灯故障",
        "service_code": "cxjs-szss-ld",
        "description": STREETLIGHT,
        "agency_responsible": "六安市城市管理局",
        "service_notice": None,
        "requested_datetime": _iso(order.registered_at),
        "updated_datetime": _iso(order.updated_at),
        "expected_datetime": _iso(order.handle_due),
        "address": "六安市金安区人民路",
        "address_id": "341502",
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }
    body = _json(client.get(f"{BASE}requests/{order.number}.json"))
    assert body == [expected]
    assert list(body[0]) == REQUEST_FIELDS
    assert body[0]["requested_datetime"].endswith("+08:00")

    root = _xml(client.get(f"{BASE}requests/{order.number}.xml"))
    assert root.tag == "service_requests"
    assert _children(root) == ["request"]
    assert _children(root[0]) == REQUEST_FIELDS
    assert {c.tag: c.text for c in root[0]} == {
        k: (None if v is None else str(v)) for k, v in expected.items()
    }


def test_single_unknown_request_is_404(world: World, client: Client) -> None:
    for fmt in ("json", "xml"):
        response = client.get(f"{BASE}requests/GD2026010199999999.{fmt}")
        assert response.status_code == 404
        errors = _json_errors(response) if fmt == "json" else _xml_errors(response)
        assert [text for _, text in errors] == ["诉求“GD2026010199999999”不存在。"]


def test_statuses_map_to_open_and_closed(world: World, client: Client) -> None:
    closed = _closed(world)
    merged = _register(
        world,
        caller_phone="13900000002",
        content="人民路解放路交叉口路灯坏了好几天了，晚上漆黑一片很不安全",
    )
    services.work_order_merge(
        order=merged, into=_register(world, content="龙河路路灯不亮"), actor=world.dispatcher
    )
    fire = _register(world, content="楼下饭店着火了，现在火很大，有人被困", category=world.noise)
    services.work_order_transfer(order=fire, actor=world.dispatcher)
    unclassified = _register(world, content="想咨询一下办事流程", category=None)
    by_id = {r["service_request_id"]: r for r in _json(client.get(f"{BASE}requests.json"))}
    assert unclassified.number not in by_id  # not a service request until it has a category
    closed.refresh_from_db()
    assert by_id[closed.number]["status"] == "closed"
    assert by_id[closed.number]["status_notes"] == "已办结：已解决"
    assert by_id[closed.number]["updated_datetime"] == _iso(closed.closed_at)
    merged.refresh_from_db()
    assert merged.merged_into is not None
    assert by_id[merged.number]["status"] == "closed"
    assert (
        by_id[merged.number]["status_notes"]
        == f"已并单：与工单 {merged.merged_into.number} 合并办理"
    )
    assert by_id[fire.number]["status"] == "closed"
    assert by_id[fire.number]["status_notes"] == "已转紧急热线（119）"
    assert by_id[merged.merged_into.number]["status"] == "open"


def test_list_filters(world: World, client: Client) -> None:
    closed = _closed(world)
    noise = _register(world, content="工地夜间施工噪音扰民", category=world.noise)
    light = _register(world, content="龙河路路灯不亮")

    def numbers(**params: str) -> list[str]:
        response = client.get(f"{BASE}requests.json", params)
        assert response.status_code == 200, response.content
        return [r["service_request_id"] for r in _json(response)]

    assert numbers() == [light.number, noise.number, closed.number]  # newest first
    assert numbers(status="open") == [light.number, noise.number]
    assert numbers(status="closed") == [closed.number]
    assert numbers(status="open,closed") == [light.number, noise.number, closed.number]
    assert numbers(status="") == numbers()  # optional: empty is the same as absent
    assert numbers(service_code="hjbh-wr-zs") == [noise.number]
    assert numbers(service_code="hjbh-wr-zs,cxjs-szss-ld", status="closed") == [closed.number]
    assert numbers(service_code="nope") == []
    # a list of ids overrides every other argument
    assert numbers(service_request_id=f"{closed.number},{noise.number}", status="open") == [
        noise.number,
        closed.number,
    ]
    now = timezone.now()
    assert numbers(start_date=(now + timedelta(minutes=1)).isoformat()) == []
    assert numbers(end_date=(now - timedelta(days=1)).isoformat()) == []
    assert len(numbers(start_date=(now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))) == 3
    # a "+" left unencoded in the query string arrives as a space
    later = f"{(now + timedelta(minutes=1)).astimezone(SHANGHAI):%Y-%m-%dT%H:%M:%S}+08:00"
    raw = client.get(f"{BASE}requests.json?start_date={later}")
    assert raw.status_code == 200
    assert _json(raw) == []
    earlier = f"{(now - timedelta(days=1)).astimezone(SHANGHAI):%Y-%m-%dT%H:%M:%S}+08:00"
    assert len(_json(client.get(f"{BASE}requests.json?start_date={earlier}"))) == 3
    assert len(numbers(start_date=f"{now.astimezone(SHANGHAI) - timedelta(days=1):%Y-%m-%d}")) == 3


def test_default_window_is_the_last_90_days(world: World, client: Client) -> None:
    old = _register(world, content="龙河路路灯不亮")
    recent = _register(world, content="工地夜间施工噪音扰民", category=world.noise)
    WorkOrder.objects.filter(pk=old.pk).update(registered_at=timezone.now() - timedelta(days=91))
    assert [r["service_request_id"] for r in _json(client.get(f"{BASE}requests.json"))] == [
        recent.number
    ]
    start = (timezone.now() - timedelta(days=100)).isoformat()
    found = _json(client.get(f"{BASE}requests.json", {"start_date": start}))
    assert [r["service_request_id"] for r in found] == [old.number]
    # by id it is found whatever its age
    by_id = _json(client.get(f"{BASE}requests.json", {"service_request_id": old.number}))
    assert [r["service_request_id"] for r in by_id] == [old.number]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-02T00:00:00Z"},
            "查询时间范围不能超过 90 天。",
        ),
        (
            {"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"},
            "end_date 不能早于 start_date。",
        ),
        (
            {"start_date": "yesterday"},
            "start_date 应为带时区的 W3C 日期时间，例如 2026-01-01T00:00:00+08:00。",
        ),
        (
            {"end_date": "2026-13-01T00:00:00Z"},
            "end_date 应为带时区的 W3C 日期时间，例如 2026-01-01T00:00:00+08:00。",
        ),
        (
            {"start_date": "2026-01-01T00:00:00"},
            "start_date 应为带时区的 W3C 日期时间，例如 2026-01-01T00:00:00+08:00。",
        ),
        ({"status": "pending"}, "status 只能是 open 或 closed。"),
    ],
)
def test_bad_list_arguments_are_400(
    world: World, client: Client, params: dict[str, str], message: str
) -> None:
    response = client.get(f"{BASE}requests.json", params)
    assert response.status_code == 400
    assert _json_errors(response) == [(400, message)]
    response = client.get(f"{BASE}requests.xml", params)
    assert response.status_code == 400
    assert _xml_errors(response) == [("400", message)]


def test_exactly_90_days_is_allowed(world: World, client: Client) -> None:
    params = {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-01T00:00:00Z"}
    assert client.get(f"{BASE}requests.json", params).status_code == 200


def test_list_is_capped_at_1000_with_constant_queries(
    world: World, client: Client, django_assert_max_num_queries: Any
) -> None:
    now = timezone.now()
    WorkOrder.objects.bulk_create(
        WorkOrder(
            number=f"GDBULK{i:06d}",
            channel=WorkOrder.Channel.PHONE,
            title="路灯",
            content=f"第{i}号路灯不亮",
            category=world.streetlight,
            lead_unit=world.cgj,
            status=Status.HANDLING,
            registered_at=now - timedelta(minutes=i),
        )
        for i in range(1001)
    )
    with django_assert_max_num_queries(3):
        response = client.get(f"{BASE}requests.json")
    body = _json(response)
    assert len(body) == 1000
    assert body[0]["service_request_id"] == "GDBULK000000"
    assert body[-1]["service_request_id"] == "GDBULK000999"
    root = _xml(client.get(f"{BASE}requests.xml"))
    assert len(root) == 1000


def test_xml_list_parses_with_every_request_complete(world: World, client: Client) -> None:
    _register(world)
    _register(world, content="工地夜间施工噪音扰民", category=world.noise)
    root = _xml(client.get(f"{BASE}requests.xml"))
    assert _children(root) == ["request", "request"]
    assert all(_children(r) == REQUEST_FIELDS for r in root)


# --- what a public read may not show -------------------------------------------------------


def test_personal_data_in_the_text_is_masked_and_the_caller_never_shown(
    world: World, client: Client
) -> None:
    text = "我是李小明，电话13812345678，身份证341502199001011234，人民路路灯坏了"
    order = _register(world, content=text, caller_phone="13800000001")
    for fmt in ("json", "xml"):
        response = client.get(f"{BASE}requests.{fmt}")
        content = response.content.decode()
        for secret in ("李小明", "13812345678", "341502199001011234", "13800000001"):
            assert secret not in content
    description = _json(client.get(f"{BASE}requests/{order.number}.json"))[0]["description"]
    assert description == "我是李**，电话***********，身份证******************，人民路路灯坏了"


def test_a_confidential_order_shows_neither_text_nor_place(world: World, client: Client) -> None:
    order = _register(
        world,
        content="举报邻居在龙河路88号私搭乱建，请为我保密",
        address="六安市金安区龙河路88号",
        lat=31.7536,
        long=116.5078,
        confidential=True,
        category=Category.objects.get(code="cxjs-rqhj-wj"),
    )
    for fmt in ("json", "xml"):
        for url in (f"{BASE}requests.{fmt}", f"{BASE}requests/{order.number}.{fmt}"):
            content = client.get(url).content.decode()
            assert order.number in content
            for secret in ("龙河路", "88号", "31.7536", "116.5078", "私搭乱建", "李小明"):
                assert secret not in content
    body = _json(client.get(f"{BASE}requests/{order.number}.json"))[0]
    assert (body["description"], body["address"], body["lat"], body["long"]) == (
        None,
        None,
        None,
        None,
    )
    assert body["service_name"] == "违法建设"


def test_a_mailbox_letter_shows_only_its_published_version(world: World, client: Client) -> None:
    order = services.work_order_register(
        actor=world.citizen,
        channel=WorkOrder.Channel.MAILBOX,
        citizen=world.citizen,
        mailbox=Mailbox.objects.get(code="mayor"),
        content="市长您好，我家门口的路灯坏了一个月了",
        address="六安市金安区梅山路5号",
        category=world.streetlight,
        publish_consent=True,
    ).order
    body = _json(client.get(f"{BASE}requests/{order.number}.json"))[0]
    assert (body["description"], body["address"]) == (None, None)
    assert "梅山路" not in client.get(f"{BASE}requests.xml").content.decode()

    services.work_order_sign(order=order, actor=world.handler)
    services.work_order_reply(
        order=order,
        actor=world.handler,
        action="更换损坏线路，恢复照明",
        text=REPLY,
        outcome="resolved",
    )
    services.work_order_visit(order=order, actor=world.dispatcher, method="phone", satisfaction=5)
    services.work_order_publish(
        order=order,
        actor=world.dispatcher,
        public_title="关于路灯损坏的来信",
        public_content="反映金安区某路段路灯损坏一个月未修。",
        public_reply=REPLY,
    )
    body = _json(client.get(f"{BASE}requests/{order.number}.json"))[0]
    assert body["status"] == "closed"
    assert body["description"] == "反映金安区某路段路灯损坏一个月未修。"
    assert body["status_notes"] == REPLY
    assert (body["address"], body["lat"]) == (None, None)


# --- the key command -----------------------------------------------------------------------


def test_command_creates_lists_and_revokes_a_working_key(world: World, client: Client) -> None:
    out, err = StringIO(), StringIO()
    call_command("open311", "create-key", "--name", "城市App", stdout=out, stderr=err)
    key = out.getvalue().strip()
    assert key.startswith("o311_")
    assert len(key) > 30
    row = Open311Key.objects.get()
    assert row.name == "城市App"
    assert key not in err.getvalue()
    assert row.prefix in err.getvalue()
    assert key not in row.key_hash
    assert _post(client, "json", key).status_code == 200

    out = StringIO()
    call_command("open311", "list", stdout=out)
    assert out.getvalue().startswith(f"{row.prefix}\t城市App\t")
    assert out.getvalue().rstrip().endswith("active")
    assert key not in out.getvalue()

    out = StringIO()
    call_command("open311", "revoke", "--prefix", row.prefix, stdout=out)
    assert out.getvalue() == f"revoked {row.prefix} 城市App\n"
    assert _post(client, "json", key).status_code == 403
    assert AuditEntry.objects.filter(action="hotline.open311_key_revoke").count() == 1


def test_command_revoke_of_an_unknown_prefix_fails(world: World) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="没有该前缀的有效密钥"):
        call_command("open311", "revoke", "--prefix", "o311_none")


# --- a real client -------------------------------------------------------------------------


def test_the_georeport_client_reads_services_and_requests_and_we_post_one(
    world: World, live_server: Any
) -> None:
    _, key = _key("georeport")
    root = f"{live_server.url}/open311/v2"
    discovery = requests.get(f"{root}/discovery.json", timeout=10).json()
    assert discovery["endpoints"][0]["url"] == f"{live_server.url}/open311/v2/"
    client = GeoReport(discovery["endpoints"][0]["url"], api_key=key)

    service_list = client.get_service_list()
    assert [s["service_code"] for s in service_list] == _leaf_codes()
    definition = client.get_service_definition("cxjs-szss-ld")
    assert definition == {"service_code": "cxjs-szss-ld", "attributes": []}
    xml_client = GeoReport(client.root_address, output_format="xml")
    xml_services = xml_client.get_service_list()
    assert [s["service_code"] for s in xml_services] == _leaf_codes()
    assert xml_services[0]["metadata"] == "false"

    # the package has no create method: POST as it would, with its root address and key
    posted = requests.post(
        f"{client.root_address}/requests.json",
        data={
            "api_key": client.api_key,
            "service_code": "cxjs-szss-ld",
            "address_string": "六安市金安区人民路",
            "description": STREETLIGHT,
        },
        timeout=10,
    )
    assert posted.status_code == 200
    number = posted.json()[0]["service_request_id"]
    assert WorkOrder.objects.get(number=number).channel == WorkOrder.Channel.OPEN311

    listed = client.get_service_requests(service_code="cxjs-szss-ld", status="open")
    assert [r["service_request_id"] for r in listed] == [number]
    single = client.get_service_request(number)
    assert list(single) == REQUEST_FIELDS
    assert single["agency_responsible"] == "六安市城市管理局"
    assert single["status"] == "open"
    xml_single = xml_client.get_service_request(number)
    assert xml_single["service_request_id"] == number
    assert xml_single["description"] == STREETLIGHT
    with pytest.raises(requests.HTTPError):
        client.get_service_request("GD2026010199999999")
