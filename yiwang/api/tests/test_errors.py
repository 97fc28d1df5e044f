"""Every API error is problem+json (RFC 9457) in the user's language."""

from __future__ import annotations

import logging
import re

import pytest
from django.test import Client
from django.utils import translation

from yiwang.accounts.models import ApiToken, User
from yiwang.api.errors import TITLES
from yiwang.api.tests.conftest import personal_token, signed_in
from yiwang.api.tests.urls_problems import SECRET

PROBLEM = "application/problem+json"
CJK = re.compile(r"[\u4e00-\u9fff]")
MEMBERS = {"type", "title", "status", "detail", "code", "instance"}


def test_unknown_api_path_is_a_404_problem_not_an_html_page(db: None):
    response = Client().get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert response.json() == {
        "type": "urn:yiwang:problem:api.unknown_path",
        "title": "未找到",
        "status": 404,
        "detail": "没有这个接口，请查看 /api/docs 中的接口列表。",
        "code": "api.unknown_path",
        "instance": "/api/v1/no-such-thing",
    }


def test_the_api_root_is_a_404_problem(db: None):
    response = Client().get("/api/")
    assert response.status_code == 404
    assert response.json()["code"] == "api.unknown_path"


def test_problems_follow_accept_language(db: None):
    response = Client(headers={"Accept-Language": "en"}).get("/api/v1/me")
    assert response.status_code == 401
    body = response.json()
    with translation.override("en"):
        assert body["title"] == str(TITLES[401])
    assert body["title"] != "未登录或凭据无效"
    assert not CJK.search(body["title"])
    assert not CJK.search(body["detail"])
    assert body["code"] == "core.unauthenticated"


def test_chinese_is_the_default_language(db: None):
    body = Client().get("/api/v1/me").json()
    assert body["title"] == "未登录或凭据无效"


def test_unauthenticated_is_401_with_a_challenge(db: None):
    response = Client().get("/api/v1/me")
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM
    assert response["WWW-Authenticate"] == 'Bearer realm="yiwang"'
    assert set(response.json()) == MEMBERS


def test_invalid_query_is_a_422_with_field_errors(db: None):
    response = Client().get("/api/v1/departments?page=0&page_size=abc")
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["code"] == "api.invalid_input"
    assert body["title"] == "输入有误"
    assert body["detail"] == "请求中有 2 处输入有误，请按 errors 中的说明修改。"
    assert body["errors"] == [
        {
            "field": "page",
            "loc": ["query", "page"],
            "type": "greater_than_equal",
            "message": "不能小于 1。",
        },
        {
            "field": "page_size",
            "loc": ["query", "page_size"],
            "type": "int_parsing",
            "message": "请输入整数。",
        },
    ]


def test_invalid_body_is_a_422_naming_the_field_and_changes_nothing(staff: User):
    response = signed_in(staff).post(
        "/api/v1/me/tokens",
        {"name": "", "expires_at": "tomorrow"},
        content_type="application/json",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    body = response.json()
    assert not CJK.search(body["detail"])
    assert "2" in body["detail"]
    assert [(e["field"], e["type"]) for e in body["errors"]] == [
        ("name", "string_too_short"),
        ("expires_at", "datetime_from_date_parsing"),
    ]
    assert not any(CJK.search(e["message"]) for e in body["errors"])
    assert ApiToken.objects.count() == 0


def test_malformed_json_is_a_400_problem_that_does_not_echo_the_body(staff: User):
    response = signed_in(staff).post(
        "/api/v1/me/tokens", "{not json hunter2", content_type="application/json"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "api.malformed_body"
    assert "hunter2" not in response.content.decode()
    assert ApiToken.objects.count() == 0


def test_a_method_the_operation_does_not_have_is_a_405_problem(staff: User):
    response = signed_in(staff).put("/api/v1/me/tokens")
    assert response.status_code == 405
    assert response["Content-Type"] == PROBLEM
    assert response["Allow"] == "GET, POST"
    assert response.json()["code"] == "api.method_not_allowed"
    assert response.json()["detail"] == "此接口支持的请求方法：GET, POST。"


def test_domain_error_keeps_its_status_code_and_message(staff: User):
    # given a token that is already revoked
    token, _ = personal_token(staff)
    client = signed_in(staff)
    assert client.delete(f"/api/v1/me/tokens/{token.pk}").status_code == 204
    token.refresh_from_db()
    revoked_at = token.revoked_at
    # when it is revoked again
    response = client.delete(f"/api/v1/me/tokens/{token.pk}")
    # then the service's Conflict comes through as it is, and nothing changed
    assert response.status_code == 409
    assert response["Content-Type"] == PROBLEM
    assert response.json() == {
        "type": "urn:yiwang:problem:accounts.token_revoked",
        "title": "与当前状态冲突",
        "status": 409,
        "detail": "该令牌已经撤销。",
        "code": "accounts.token_revoked",
        "instance": f"/api/v1/me/tokens/{token.pk}",
    }
    token.refresh_from_db()
    assert token.revoked_at == revoked_at


def test_someone_elses_token_is_not_found_and_stays_active(staff: User):
    from yiwang.accounts.tests.factories import StaffFactory

    other = StaffFactory.create()
    token, _ = personal_token(other)
    response = signed_in(staff).delete(f"/api/v1/me/tokens/{token.pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "core.not_found"
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.urls("yiwang.api.tests.urls_problems")
def test_domain_error_extras_are_added_but_cannot_forge_members(db: None):
    response = Client().get("/failing/conflict")
    assert response.status_code == 409
    assert response.json() == {
        "type": "urn:yiwang:problem:testing.busy",
        "title": "与当前状态冲突",
        "status": 409,
        "detail": "正在处理中",
        "code": "testing.busy",
        "instance": "/failing/conflict",
        "holder": "窗口 3",
    }


@pytest.mark.urls("yiwang.api.tests.urls_problems")
@pytest.mark.parametrize("debug", [False, True])
def test_unexpected_exception_is_a_500_problem_without_traceback(
    db: None, settings, caplog, debug: bool
):
    settings.DEBUG = debug
    with caplog.at_level(logging.ERROR, logger="yiwang.api"):
        response = Client().get("/failing/crash")
    assert response.status_code == 500
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    incident = body.pop("incident")
    assert body == {
        "type": "urn:yiwang:problem:core.internal",
        "title": "服务器内部错误",
        "status": 500,
        "detail": "服务器出现意外错误，已记录。请稍后重试；如需联系我们，请提供事件编号。",
        "code": "core.internal",
        "instance": "/failing/crash",
    }
    assert "hunter2" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    # the operator finds the cause in the log under the incident number
    [record] = [r for r in caplog.records if r.name == "yiwang.api"]
    assert incident in record.getMessage()
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == SECRET
