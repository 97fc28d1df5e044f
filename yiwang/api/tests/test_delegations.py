"""/api/v1/me/delegations: a citizen's delegations (代办) for the city's mobile app."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.test import Client
from django.utils import timezone

from yiwang.accounts.models import Delegation, User
from yiwang.accounts.selectors import id_number_blind_index
from yiwang.accounts.tests.factories import (
    DelegationFactory,
    StaffFactory,
    UserFactory,
    make_id_number,
)
from yiwang.api.tests.conftest import signed_in
from yiwang.core.models import AuditEntry

URL = "/api/v1/me/delegations"


def person(real_name: str, sequence: int, *, kind: str = User.Kind.CITIZEN) -> User:
    """A registered citizen with a known ID number (a birth date no factory default uses)."""
    number = make_id_number(sequence, birth="19900202")
    user: User = UserFactory.create(
        real_name=real_name,
        kind=kind,
        id_number=number,
        id_number_index=id_number_blind_index(number),
    )
    return user


@pytest.fixture
def agent(db: None) -> User:
    return person("王小明", 1)


def masked(number: str) -> str:
    return number[:4] + "*" * 10 + number[-4:]


def as_json(moment: datetime) -> str:
    """A datetime as the API writes it (Django's JSON encoder: milliseconds, Z for UTC)."""
    return str(DjangoJSONEncoder().default(moment))


def in_days(days: float) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


def grant_body(to: User, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "agent": {"real_name": to.real_name, "id_number": to.id_number},
        "scopes": ["apply", "query"],
        "expires_at": in_days(30),
    }
    body.update(overrides)
    return body


def post(client: Client, body: Any) -> Any:
    return client.post(URL, json.dumps(body), content_type="application/json")


def delegation_audit_rows() -> int:
    return AuditEntry.objects.filter(action__startswith="accounts.delegation_").count()


# --- list ------------------------------------------------------------------------------------


def test_the_list_shows_given_and_held_delegations_with_both_parties_masked(
    citizen: User, agent: User
):
    # given one delegation the citizen gave and one they hold
    given = DelegationFactory(principal=citizen, agent=agent, scopes=["apply", "receive"])
    mother = person("欧阳娜娜", 2)
    held = DelegationFactory(principal=mother, agent=citizen, scopes=["query"], note="母亲")
    # when
    response = signed_in(citizen).get(URL)
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert (body["page"], body["page_size"]) == (1, 20)
    assert [item["id"] for item in body["items"]] == [str(held.public_id), str(given.public_id)]
    assert body["items"][1] == {
        "id": str(given.public_id),
        "role": "given",
        "status": "active",
        "principal": {"name": "张**", "id_number": masked(citizen.id_number)},
        "agent": {"name": "王**", "id_number": masked(agent.id_number)},
        "scopes": ["apply", "receive"],
        "starts_at": as_json(given.starts_at),
        "expires_at": as_json(given.expires_at),
        "revoked_at": None,
        "note": "",
        "created_at": as_json(given.created_at),
    }
    assert body["items"][0]["role"] == "held"
    assert body["items"][0]["principal"] == {
        "name": "欧阳**",
        "id_number": masked(mother.id_number),
    }
    assert body["items"][0]["note"] == "母亲"
    # and no ID number appears unmasked anywhere in the response
    content = response.content.decode()
    for number in (citizen.id_number, agent.id_number, mother.id_number):
        assert number not in content


def test_the_list_leaves_out_other_peoples_delegations(citizen: User, agent: User):
    DelegationFactory(principal=agent, agent=person("赵六", 3))
    response = signed_in(citizen).get(URL)
    assert response.json() == {"items": [], "count": 0, "page": 1, "page_size": 20}


@pytest.fixture
def three_kinds(citizen: User, agent: User) -> dict[str, Delegation]:
    """An active and an expired delegation the citizen gave, and a revoked one they hold."""
    now = timezone.now()
    return {
        "active": DelegationFactory(principal=citizen, agent=agent),
        "expired": DelegationFactory(
            principal=citizen,
            agent=agent,
            starts_at=now - timedelta(days=10),
            expires_at=now - timedelta(days=1),
        ),
        "revoked": DelegationFactory(
            principal=person("孙七", 4), agent=citizen, revoked_at=now - timedelta(hours=1)
        ),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["revoked", "expired", "active"]),
        ("?role=given", ["expired", "active"]),
        ("?role=held", ["revoked"]),
        ("?status=active", ["active"]),
        ("?status=expired", ["expired"]),
        ("?status=revoked", ["revoked"]),
        ("?role=held&status=active", []),
        ("?role=given&status=expired", ["expired"]),
    ],
)
def test_the_list_filters_by_role_and_status(
    citizen: User, three_kinds: dict[str, Delegation], query: str, expected: list[str]
):
    body = signed_in(citizen).get(URL + query).json()
    ids = {str(d.public_id): name for name, d in three_kinds.items()}
    assert [ids[item["id"]] for item in body["items"]] == expected
    assert [item["status"] for item in body["items"]] == expected
    assert body["count"] == len(expected)


def test_the_list_is_paginated(citizen: User, agent: User):
    made = [DelegationFactory(principal=citizen, agent=agent) for _ in range(5)]
    newest_first = [str(d.public_id) for d in reversed(made)]
    client = signed_in(citizen)
    # when
    second = client.get(URL + "?page=2&page_size=2").json()
    past_the_end = client.get(URL + "?page=4&page_size=2").json()
    # then
    assert [i["id"] for i in second["items"]] == newest_first[2:4]
    assert (second["count"], second["page"], second["page_size"]) == (5, 2, 2)
    assert past_the_end == {"items": [], "count": 5, "page": 4, "page_size": 2}


@pytest.mark.parametrize(
    ("query", "field", "kind"),
    [
        ("?role=mine", "role", "literal_error"),
        ("?status=pending", "status", "literal_error"),
        ("?page_size=101", "page_size", "less_than_equal"),
        ("?page=0", "page", "greater_than_equal"),
    ],
)
def test_a_bad_list_query_names_the_field(citizen: User, query: str, field: str, kind: str):
    response = signed_in(citizen).get(URL + query)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "api.invalid_input"
    assert [(e["field"], e["type"]) for e in body["errors"]] == [(field, kind)]


def test_a_bad_role_is_explained_with_the_allowed_values(citizen: User):
    body = signed_in(citizen).get(URL + "?role=mine").json()
    assert body["errors"][0]["message"] == "取值无效，可选值：'given' or 'held'。"


def test_the_list_takes_the_same_number_of_queries_for_one_row_or_many(
    citizen: User, agent: User, django_assert_num_queries: Any
):
    client = signed_in(citizen)
    DelegationFactory(principal=citizen, agent=agent)
    # session, user, count, the page with both parties joined
    with django_assert_num_queries(4):
        assert client.get(URL).json()["count"] == 1
    for i in range(6):
        DelegationFactory(principal=person(f"钱{i}", 10 + i), agent=citizen)
    with django_assert_num_queries(4):
        assert client.get(URL).json()["count"] == 7


# --- grant -----------------------------------------------------------------------------------


def test_a_citizen_authorises_an_agent_by_name_and_id_number(citizen: User, agent: User):
    expires = timezone.now() + timedelta(days=30)
    # when (the ID number typed with spaces and a full-width digit, as an input method might)
    typed = (
        agent.id_number[:6] + " " + agent.id_number[6:-1] + chr(0xFF10 + int(agent.id_number[-1]))
    )
    response = post(
        signed_in(citizen),
        grant_body(
            agent,
            agent={"real_name": " 王小明 ", "id_number": typed},
            scopes=["query", "apply"],
            expires_at=expires.isoformat(),
            note="帮我办社保",
        ),
    )
    # then
    assert response.status_code == 201, response.content
    delegation = Delegation.objects.get()
    assert (delegation.principal, delegation.agent) == (citizen, agent)
    assert delegation.scopes == ["apply", "query"]
    assert delegation.expires_at == expires
    assert delegation.recorded_by == citizen
    body = response.json()
    assert body["id"] == str(delegation.public_id)
    assert (body["role"], body["status"]) == ("given", "active")
    assert body["agent"] == {"name": "王**", "id_number": masked(agent.id_number)}
    assert body["scopes"] == ["apply", "query"]
    assert body["note"] == "帮我办社保"
    assert body["revoked_at"] is None
    assert agent.id_number not in response.content.decode()
    # and the grant is in the audit trail, attributed to the principal
    entry = AuditEntry.objects.get(action="accounts.delegation_grant")
    assert (entry.actor_id, entry.on_behalf_of_id) == (citizen.pk, citizen.pk)
    assert entry.object_id == str(delegation.pk)
    assert entry.after is not None
    assert entry.after["agent_id"] == agent.pk
    assert agent.id_number not in json.dumps(entry.after)
    # and the agent now sees it as held
    held = signed_in(agent).get(URL + "?role=held").json()
    assert [i["id"] for i in held["items"]] == [str(delegation.public_id)]


def test_the_agent_lookup_does_not_tell_an_unknown_number_from_a_wrong_name(
    citizen: User, agent: User
):
    client = signed_in(citizen)
    unregistered = make_id_number(999, birth="19770707")
    # when the number is registered but the name is wrong, and when the number is unknown
    wrong_name = post(
        client, grant_body(agent, agent={"real_name": "王小红", "id_number": agent.id_number})
    )
    unknown = post(
        client, grant_body(agent, agent={"real_name": "王小明", "id_number": unregistered})
    )
    # then both answers are the same, byte for byte
    assert wrong_name.status_code == unknown.status_code == 422
    assert wrong_name.content == unknown.content
    assert wrong_name.json()["code"] == "accounts.delegation_agent_unknown"
    assert wrong_name.json()["detail"] == "找不到姓名和身份证号码相符的实名注册用户，请核对后重试。"
    assert wrong_name.json()["field"] == "agent"
    assert agent.id_number not in wrong_name.content.decode()
    assert Delegation.objects.count() == 0
    assert delegation_audit_rows() == 0


def test_a_staff_members_id_number_is_not_found_as_an_agent(citizen: User):
    # Staff accounts are not agents even if one carried an ID number.
    number = make_id_number(5, birth="19900202")
    staff = StaffFactory(
        real_name="周八", id_number=number, id_number_index=id_number_blind_index(number)
    )
    response = post(signed_in(citizen), grant_body(staff))
    assert response.json()["code"] == "accounts.delegation_agent_unknown"
    assert Delegation.objects.count() == 0


def _field_errors(response: Any) -> list[tuple[str, str]]:
    return [(e["field"], e["type"]) for e in response.json()["errors"]]


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        (lambda b: b.pop("agent"), [("agent", "missing")]),
        (lambda b: b.pop("expires_at"), [("expires_at", "missing")]),
        (lambda b: b.update(scopes=[]), [("scopes", "too_short")]),
        (lambda b: b.update(scopes=["apply", "sell_house"]), [("scopes.1", "enum")]),
        (lambda b: b.update(expires_at="2030-01-01T00:00:00"), [("expires_at", "timezone_aware")]),
        (
            lambda b: b.update(expires_at="next month"),
            [("expires_at", "datetime_from_date_parsing")],
        ),
        (lambda b: b["agent"].update(real_name=""), [("agent.real_name", "string_too_short")]),
        (lambda b: b.update(note="长" * 201), [("note", "string_too_long")]),
    ],
)
def test_malformed_input_gets_field_errors_and_changes_nothing(
    citizen: User, agent: User, change: Any, errors: list[tuple[str, str]]
):
    body = grant_body(agent)
    change(body)
    response = post(signed_in(citizen), body)
    assert response.status_code == 422
    assert response.json()["code"] == "api.invalid_input"
    assert _field_errors(response) == errors
    assert Delegation.objects.count() == 0
    assert delegation_audit_rows() == 0


def test_field_errors_are_explained_in_the_users_language(citizen: User, agent: User):
    client = signed_in(citizen)
    empty = post(client, grant_body(agent, scopes=[])).json()["errors"][0]["message"]
    unknown = post(client, grant_body(agent, scopes=["sell_house"])).json()["errors"][0]
    naive = post(client, grant_body(agent, expires_at="2030-01-01T00:00:00")).json()
    assert empty == "至少需要 1 项。"
    assert unknown["message"] == (
        "取值无效，可选值：'apply', 'query', 'receive', 'complain' or 'certificates'。"
    )
    assert naive["errors"][0]["message"] == (
        "请在日期时间中注明时区，例如 2026-12-31T23:59:59+08:00。"
    )
    english = client.post(
        URL,
        json.dumps(grant_body(agent, scopes=[])),
        content_type="application/json",
        headers={"Accept-Language": "en"},
    ).json()
    assert english["errors"][0]["message"] == "Add at least 1 item(s)."


@pytest.mark.parametrize(
    ("overrides", "code", "detail"),
    [
        (
            {"expires_at": "2020-01-01T00:00:00+08:00"},
            "accounts.delegation_expiry",
            "授权到期时间必须晚于当前时间。",
        ),
        ({"expires_at": in_days(400)}, "accounts.delegation_expiry", "授权期限不能超过 366 天。"),
    ],
)
def test_an_expiry_in_the_past_or_too_far_ahead_is_refused(
    citizen: User, agent: User, overrides: dict[str, Any], code: str, detail: str
):
    response = post(signed_in(citizen), grant_body(agent, **overrides))
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["detail"]) == (code, detail)
    assert Delegation.objects.count() == 0
    assert delegation_audit_rows() == 0


def test_a_citizen_cannot_delegate_to_themself(citizen: User):
    response = post(signed_in(citizen), grant_body(citizen))
    assert response.status_code == 422
    assert response.json()["code"] == "accounts.delegation_self"
    assert response.json()["detail"] == "不能委托自己为代办人。"
    assert Delegation.objects.count() == 0
    assert delegation_audit_rows() == 0


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("3415", "length"),
        ("34150219900202001A", "characters"),
        ("341502199002020011", "check_digit"),
    ],
)
def test_a_malformed_agent_id_number_is_named(citizen: User, agent: User, typed: str, reason: str):
    if reason == "check_digit":
        typed = agent.id_number[:17] + ("0" if agent.id_number[17] != "0" else "1")
    body = grant_body(agent, agent={"real_name": "王小明", "id_number": typed})
    response = post(signed_in(citizen), body)
    assert response.status_code == 422
    problem = response.json()
    assert (problem["code"], problem["reason"], problem["field"]) == (
        "core.id_number_invalid",
        reason,
        "agent.id_number",
    )
    assert Delegation.objects.count() == 0


def test_an_enterprise_account_cannot_be_a_principal(agent: User):
    company = person("吴九", 6, kind=User.Kind.ENTERPRISE)
    response = post(signed_in(company), grant_body(agent))
    assert response.status_code == 422
    assert response.json()["code"] == "accounts.delegation_parties"
    assert Delegation.objects.count() == 0
    # but it may read its (empty) list
    assert signed_in(company).get(URL).json()["count"] == 0


def test_a_session_post_without_the_csrf_token_is_refused(citizen: User, agent: User):
    client = signed_in(citizen, enforce_csrf_checks=True)
    response = post(client, grant_body(agent))
    assert response.status_code == 403
    assert response.json()["code"] == "api.csrf_failed"
    assert Delegation.objects.count() == 0


def test_staff_are_told_why_they_are_refused(staff: User):
    response = signed_in(staff).get(URL)
    assert response.status_code == 403
    assert response.json()["detail"] == "只有群众和企业用户可以管理代办授权。"


# --- revoke ----------------------------------------------------------------------------------


def test_the_principal_revokes_a_delegation(citizen: User, agent: User):
    delegation = DelegationFactory(principal=citizen, agent=agent)
    client = signed_in(citizen)
    # when
    response = client.delete(f"{URL}/{delegation.public_id}")
    # then
    assert response.status_code == 204
    assert response.content == b""
    delegation.refresh_from_db()
    assert delegation.revoked_at is not None
    entry = AuditEntry.objects.get(action="accounts.delegation_revoke")
    assert (entry.actor_id, entry.on_behalf_of_id) == (citizen.pk, citizen.pk)
    assert entry.before is not None
    assert entry.after is not None
    assert (entry.before["revoked_at"], entry.after["revoked_at"]) == (
        None,
        delegation.revoked_at.isoformat(),
    )
    listed = client.get(URL).json()["items"]
    assert [(i["status"], i["revoked_at"] is not None) for i in listed] == [("revoked", True)]
    # and revoking again is a conflict that changes nothing
    again = client.delete(f"{URL}/{delegation.public_id}")
    assert again.status_code == 409
    assert again.json()["code"] == "accounts.delegation_revoked"
    assert AuditEntry.objects.filter(action="accounts.delegation_revoke").count() == 1


@pytest.mark.parametrize("who", ["agent", "other_citizen"])
def test_only_the_principal_may_revoke_everyone_else_gets_404(citizen: User, agent: User, who: str):
    delegation = DelegationFactory(principal=citizen, agent=agent)
    actor = agent if who == "agent" else person("郑十", 7)
    response = signed_in(actor).delete(f"{URL}/{delegation.public_id}")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "core.not_found"
    delegation.refresh_from_db()
    assert delegation.revoked_at is None
    assert delegation_audit_rows() == 0


def test_an_unknown_or_malformed_id_is_404_or_422(citizen: User):
    client = signed_in(citizen)
    assert client.delete(f"{URL}/{uuid.uuid4()}").status_code == 404
    malformed = client.delete(f"{URL}/not-a-uuid")
    assert malformed.status_code == 422
    assert _field_errors(malformed) == [("public_id", "uuid_parsing")]


def test_the_schema_lists_the_scopes_a_client_may_send():
    schema = Client().get("/api/v1/openapi.json").json()
    scope = schema["components"]["schemas"]["Scope"]
    assert scope["enum"] == ["apply", "query", "receive", "complain", "certificates"]
