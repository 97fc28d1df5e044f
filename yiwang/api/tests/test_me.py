"""GET /api/v1/me and the personal tokens of staff."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from yiwang.accounts.models import ApiToken, Role, User
from yiwang.accounts.tests.factories import RoleAssignmentFactory
from yiwang.api.tests.conftest import bearer, personal_token, signed_in
from yiwang.core.models import AuditEntry


def test_a_citizen_sees_their_profile_masked(citizen: User):
    response = signed_in(citizen).get("/api/v1/me")
    assert response.status_code == 200
    number = citizen.id_number
    assert response.json() == {
        "id": str(citizen.public_id),
        "username": citizen.username,
        "kind": "citizen",
        "name": "张**",
        "id_number": number[:4] + "*" * 10 + number[-4:],
        "phone": "138****5678",
        "real_name_verified": False,
        "department": None,
        "roles": ["citizen"],
        "language": "",
        "elder_mode": False,
    }


def test_staff_see_their_department_and_roles_through_a_token(staff: User):
    # given an approver of the data bureau with a personal token
    RoleAssignmentFactory(user=staff, role=Role.APPROVER, department=staff.department)
    RoleAssignmentFactory(user=staff, role=Role.WINDOW_CLERK, department=staff.department)
    _, raw = personal_token(staff)
    # when
    body = bearer(raw).get("/api/v1/me").json()
    # then
    assert body["kind"] == "staff"
    assert body["name"] == "李*"
    assert body["id_number"] == ""
    assert body["department"] == {"code": "lasjzj", "name": "六安市数据资源局"}
    assert body["roles"] == ["approver", "window_clerk"]


def test_staff_create_a_token_and_see_it_once(staff: User):
    client = signed_in(staff)
    expires = timezone.now() + timedelta(days=30)
    # when
    response = client.post(
        "/api/v1/me/tokens",
        {"name": "report script", "expires_at": expires.isoformat()},
        content_type="application/json",
    )
    # then the raw token comes back once, and it works
    assert response.status_code == 201
    created = response.json()
    raw = created.pop("token")
    assert raw.startswith("yw_")
    token = ApiToken.objects.get(user=staff)
    assert created["id"] == token.pk
    assert created["name"] == "report script"
    assert created["kind"] == "personal"
    assert created["prefix"] == raw[:10]
    assert created["revoked_at"] is None
    assert bearer(raw).get("/api/v1/me").json()["username"] == staff.username
    # and the list shows it without the token itself
    listed = client.get("/api/v1/me/tokens").json()
    assert [t["id"] for t in listed] == [token.pk]
    assert "token" not in listed[0]
    assert raw not in client.get("/api/v1/me/tokens").content.decode()
    # and the creation is in the audit trail
    assert AuditEntry.objects.filter(action="accounts.api_token_create").count() == 1


def test_a_revoked_token_stops_working_at_once(staff: User):
    token, raw = personal_token(staff)
    assert bearer(raw).get("/api/v1/me").status_code == 200
    response = signed_in(staff).delete(f"/api/v1/me/tokens/{token.pk}")
    assert response.status_code == 204
    assert response.content == b""
    assert bearer(raw).get("/api/v1/me").status_code == 401


def test_a_token_that_expired_in_the_past_is_refused_and_not_created(staff: User):
    response = signed_in(staff).post(
        "/api/v1/me/tokens",
        {"name": "x", "expires_at": (timezone.now() - timedelta(days=1)).isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["code"] == "accounts.token_expiry"
    assert ApiToken.objects.count() == 0


def test_a_token_expiry_without_a_time_zone_is_a_field_error_not_a_crash(staff: User):
    response = signed_in(staff).post(
        "/api/v1/me/tokens",
        {"name": "x", "expires_at": "2030-01-01T00:00:00"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert [(e["field"], e["type"]) for e in response.json()["errors"]] == [
        ("expires_at", "timezone_aware")
    ]
    assert ApiToken.objects.count() == 0


def test_a_citizen_may_not_create_a_token(citizen: User):
    response = signed_in(citizen).post(
        "/api/v1/me/tokens", {"name": "x"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "只有工作人员可以管理个人访问令牌。"
    assert ApiToken.objects.count() == 0
    assert AuditEntry.objects.filter(action="accounts.api_token_create").count() == 0


def test_a_token_cannot_mint_tokens(staff: User):
    _, raw = personal_token(staff)
    response = bearer(raw).post("/api/v1/me/tokens", {"name": "x"}, content_type="application/json")
    assert response.status_code == 401
    assert ApiToken.objects.count() == 1


def test_the_token_list_takes_a_fixed_number_of_queries(staff: User, django_assert_max_num_queries):
    for i in range(5):
        personal_token(staff, name=f"t{i}")
    client = signed_in(staff)
    # session + user, then the tokens
    with django_assert_max_num_queries(3):
        response = client.get("/api/v1/me/tokens")
    assert len(response.json()) == 5
    assert Client().get("/api/v1/me/tokens").status_code == 401
