"""The exchange API with an owner, a consumer and a citizen: who may do what, and the shapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from yiwang.accounts.models import User
from yiwang.exchange.models import AccessLogEntry, Grant, SharingClass, SharingRequest
from yiwang.exchange.tests.factories import make_grant, make_world

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def post(user: User, url: str, body: dict[str, Any]) -> Any:
    return signed_in(user).post(
        "/api/v1" + url, data=json.dumps(body), content_type="application/json"
    )


def test_query_answers_the_consumers_staff_with_masked_granted_fields(tmp_path: Path) -> None:
    world = make_world(tmp_path, sharing_class=SharingClass.UNCONDITIONAL)
    make_grant(world.resource, world.consumer, fields=["name", "phone"], masks={"phone": "phone"})
    row = world.rows[0]
    response = post(
        world.consumer_clerk,
        "/exchange/query",
        {"resource": world.resource.code, "key": row["id_number"]},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["records"] == [
        {"name": row["name"], "phone": row["phone"][:3] + "****" + row["phone"][-4:]}
    ]
    assert (body["resource"], body["owner"], body["fields"]) == (
        "LA-DR-GA-001",
        "测试公安局",
        ["name", "phone"],
    )
    assert body["log_seq"] == AccessLogEntry.objects.get().seq
    # staff of another department have no grant: refused, logged, problem+json
    refused = post(
        world.other_clerk,
        "/exchange/query",
        {"resource": world.resource.code, "key": row["id_number"]},
    )
    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "exchange.no_grant"
    assert AccessLogEntry.objects.count() == 2
    # a citizen cannot query at all (and nothing is logged: there is no consumer)
    assert post(world.citizen, "/exchange/query", {"resource": "X", "key": "k"}).status_code == 403
    assert AccessLogEntry.objects.count() == 2


def test_an_owner_down_is_503_and_a_field_outside_the_grant_names_it(tmp_path: Path) -> None:
    world = make_world(tmp_path, sharing_class=SharingClass.UNCONDITIONAL)
    make_grant(world.resource, world.consumer, fields=["name"])
    key = world.rows[0]["id_number"]
    outside = post(
        world.consumer_clerk,
        "/exchange/query",
        {"resource": world.resource.code, "key": key, "fields": ["name", "address"]},
    )
    assert (outside.status_code, outside.json()["code"], outside.json()["fields"]) == (
        403,
        "exchange.field_not_granted",
        ["address"],
    )
    (tmp_path / "owner.sqlite3").unlink()
    down = post(
        world.consumer_clerk, "/exchange/query", {"resource": world.resource.code, "key": key}
    )
    assert (down.status_code, down.json()["code"]) == (503, "exchange.source_unavailable")
    assert "请稍后重试" in down.json()["detail"]


def test_catalogue_for_staff_only(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    listing = signed_in(world.other_clerk).get("/api/v1/exchange/resources")
    assert listing.status_code == 200
    assert [r["code"] for r in listing.json()["items"]] == ["LA-DR-GA-001"]
    detail = signed_in(world.other_clerk).get("/api/v1/exchange/resources/LA-DR-GA-001")
    assert [f["key"] for f in detail.json()["fields"]] == [
        "id_number",
        "name",
        "address",
        "phone",
        "marital",
    ]
    assert signed_in(world.citizen).get("/api/v1/exchange/resources").status_code == 403


def test_request_approve_refuse_revoke_by_the_right_data_officers(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    body = {
        "resource": world.resource.code,
        "fields": ["name"],
        "item_codes": [],
        "purpose": "核验",
    }
    assert post(world.consumer_clerk, "/exchange/requests", body).status_code == 403
    created = post(world.consumer_officer, "/exchange/requests", body)
    assert created.status_code == 201, created.content
    request_id = created.json()["id"]
    approve = {"fields": ["name"], "masks": {"name": "name"}}
    # the consumer's own officer, other staff and a citizen may not decide
    assert (
        post(
            world.consumer_officer, f"/exchange/requests/{request_id}/approve", approve
        ).status_code
        == 403
    )
    assert (
        post(world.other_clerk, f"/exchange/requests/{request_id}/approve", approve).status_code
        == 404
    )
    assert (
        post(world.citizen, f"/exchange/requests/{request_id}/approve", approve).status_code == 403
    )
    granted = post(world.owner_officer, f"/exchange/requests/{request_id}/approve", approve)
    assert granted.status_code == 200, granted.content
    assert (granted.json()["fields"], granted.json()["masks"]) == (["name"], {"name": "name"})
    again = post(world.owner_officer, f"/exchange/requests/{request_id}/approve", approve)
    assert (again.status_code, again.json()["code"]) == (409, "exchange.state")
    grant_id = granted.json()["id"]
    assert (
        post(
            world.consumer_officer, f"/exchange/grants/{grant_id}/revoke", {"reason": "x"}
        ).status_code
        == 404
    )
    revoked = post(world.admin, f"/exchange/grants/{grant_id}/revoke", {"reason": "超范围"})
    assert revoked.status_code == 200
    assert Grant.objects.get().revoke_reason == "超范围"
    second = post(world.consumer_officer, "/exchange/requests", body).json()["id"]
    refused = post(
        world.owner_officer, f"/exchange/requests/{second}/refuse", {"reason": "用途不明"}
    )
    assert refused.json()["status"] == "refused"
    assert SharingRequest.objects.filter(status="refused").count() == 1


def test_the_owners_log_and_the_citizens_log(tmp_path: Path) -> None:
    world = make_world(tmp_path, sharing_class=SharingClass.UNCONDITIONAL)
    make_grant(world.resource, world.consumer)
    key = world.rows[0]["id_number"]
    post(
        world.consumer_clerk,
        "/exchange/query",
        {"resource": world.resource.code, "key": key, "purpose": "核验户籍", "case_number": "C-9"},
    )
    post(world.other_clerk, "/exchange/query", {"resource": world.resource.code, "key": key})
    post(
        world.consumer_clerk,
        "/exchange/query",
        {"resource": world.resource.code, "key": world.rows[1]["id_number"]},
    )
    log = signed_in(world.owner_officer).get("/api/v1/exchange/access-log")
    assert log.status_code == 200
    assert [(e["consumer"], e["outcome"]) for e in log.json()["items"]] == [
        ("测试自然资源局", "answered"),
        ("测试其他局", "refused"),
        ("测试自然资源局", "answered"),
    ]
    # the consumer's data officer sees the log of its own resources only: none
    theirs = signed_in(world.consumer_officer).get("/api/v1/exchange/access-log")
    assert (theirs.status_code, theirs.json()["items"]) == (200, [])
    assert signed_in(world.citizen).get("/api/v1/exchange/access-log").status_code == 403
    mine = signed_in(world.citizen).get("/api/v1/exchange/my-access-log")
    assert mine.status_code == 200
    items = mine.json()["items"]
    assert [(i["consumer"], i["resource_name"], i["purpose"], i["case_number"]) for i in items] == [
        ("测试自然资源局", "人口基础信息", "核验户籍", "C-9")
    ]
    assert key not in mine.content.decode()
    assert world.rows[0]["name"] not in mine.content.decode()
