"""The 好差评 API: the rater's invitations and rating, the desk, the statistics."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from yiwang.accounts.models import ApiToken, Department, User
from yiwang.accounts.services import api_token_create
from yiwang.evaluation.models import Invitation, Rating, Rectification
from yiwang.evaluation.services import rating_submit, rectification_reply
from yiwang.evaluation.tests.conftest import invite, signed_in

pytestmark = pytest.mark.django_db


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def _rate(invitation: Invitation) -> str:
    return f"/api/v1/me/rating-invitations/{invitation.public_id}/rating"


def test_the_rater_lists_invitations_and_rates(invitation: Invitation, rater: User):
    client = signed_in(rater)

    listed = client.get("/api/v1/me/rating-invitations").json()

    assert listed["count"] == 1
    (row,) = listed["items"]
    assert row["id"] == str(invitation.public_id)
    assert row["status"] == "pending"
    assert row["department"] == "六安市市场监督管理局"
    assert row["link"] == f"/evaluation/{invitation.public_id}/"
    assert row["rating"] is None

    response = _post(client, _rate(invitation), {"level": 5, "comment": "很方便"})

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "rated"
    assert body["rating"]["level"] == 5
    assert body["rating"]["level_label"] == "非常满意"
    assert body["rating"]["grade"] == "good"
    assert body["rating"]["channel"] == "mobile"
    assert body["rectification"] is None
    pending = client.get("/api/v1/me/rating-invitations?status=pending").json()
    assert pending["count"] == 0


def test_a_bad_rating_through_the_api_returns_its_rectification(
    invitation: Invitation, rater: User
):
    response = _post(signed_in(rater), _rate(invitation), {"level": 1, "comment": "跑了三趟"})

    assert response.status_code == 201
    rectification = response.json()["rectification"]
    assert rectification["status"] == "open"
    assert rectification["due_on"] == Rectification.objects.get().due_on.isoformat()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"level": 1, "comment": ""}, 422, "evaluation.comment_required"),
        ({"level": 6}, 422, None),
        ({"level": "very good"}, 422, None),
        ({"level": 5, "channel": "fax"}, 422, None),
        ({"level": 5, "comment": "长" * 501}, 422, None),
        ({}, 422, None),
    ],
)
def test_bad_ratings_are_problems_and_change_nothing(
    invitation: Invitation, rater: User, body: dict[str, Any], status: int, code: str | None
):
    response = _post(signed_in(rater), _rate(invitation), body)

    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    if code:
        assert response.json()["code"] == code
        assert "不满意的原因" in response.json()["detail"]
    assert not Rating.objects.exists()
    invitation.refresh_from_db()
    assert invitation.status == "pending"


def test_a_second_rating_is_a_409(invitation: Invitation, rater: User):
    client = signed_in(rater)
    _post(client, _rate(invitation), {"level": 4})

    response = _post(client, _rate(invitation), {"level": 1, "comment": "改主意"})

    assert response.status_code == 409
    assert response.json()["code"] == "evaluation.already_rated"
    assert Rating.objects.get().level == 4


def test_another_persons_invitation_is_a_404(
    invitation: Invitation, other_citizen: User, clerk: User
):
    for someone in (other_citizen, clerk):
        response = _post(signed_in(someone), _rate(invitation), {"level": 5})
        assert response.status_code == 404
        assert response.json()["code"] == "core.not_found"
    assert signed_in(other_citizen).get("/api/v1/me/rating-invitations").json()["count"] == 0
    assert not Rating.objects.exists()


@pytest.fixture
def rectification(invitation: Invitation, rater: User) -> Rectification:
    rating_submit(actor=rater, invitation=invitation, level=2, comment="窗口态度差")
    return Rectification.objects.get()


def test_the_desk_lists_replies_and_the_supervisor_closes(
    rectification: Rectification, clerk: User, supervisor: User
):
    desk = signed_in(clerk)
    listed = desk.get("/api/v1/evaluation/rectifications").json()
    (row,) = listed["items"]
    assert row["id"] == str(rectification.public_id)
    assert row["rater"] == "张**"
    assert row["level_label"] == "不满意"
    assert row["overdue"] is False

    url = f"/api/v1/evaluation/rectifications/{rectification.public_id}"
    replied = _post(desk, url + "/reply", {"disposition": "fixed", "reply": "已批评教育当事人。"})
    assert replied.status_code == 200
    assert replied.json()["status"] == "replied"
    assert replied.json()["replied_on_time"] is True

    refused = _post(desk, url + "/follow-up", {"result": "satisfied", "note": "回访"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "evaluation.not_supervisor"

    closed = _post(
        signed_in(supervisor), url + "/follow-up", {"result": "satisfied", "note": "回访"}
    )
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    assert closed.json()["follow_up_result"] == "satisfied"


def test_the_desk_refuses_what_is_not_theirs(
    rectification: Rectification,
    other_clerk: User,
    roleless_staff: User,
    rater: User,
):
    url = f"/api/v1/evaluation/rectifications/{rectification.public_id}/reply"
    body = {"disposition": "fixed", "reply": "已整改完毕。"}

    assert signed_in(other_clerk).get("/api/v1/evaluation/rectifications").json()["count"] == 0
    assert _post(signed_in(other_clerk), url, body).status_code == 404
    for someone in (roleless_staff, rater):
        response = _post(signed_in(someone), url, body)
        assert response.status_code == 403
        assert response.json()["code"] == "core.forbidden"
        assert signed_in(someone).get("/api/v1/evaluation/rectifications").status_code == 403
    assert Rectification.objects.get().status == "open"


def test_a_bad_reply_is_a_problem(rectification: Rectification, clerk: User):
    url = f"/api/v1/evaluation/rectifications/{rectification.public_id}/reply"
    response = _post(signed_in(clerk), url, {"disposition": "ignore", "reply": "x"})
    assert response.status_code == 422
    short = _post(signed_in(clerk), url, {"disposition": "fixed", "reply": "好"})
    assert short.status_code == 422
    assert short.json()["code"] == "evaluation.reply_invalid"
    assert Rectification.objects.get().status == "open"


def test_stats_for_a_supervisor_with_a_personal_token(
    rectification: Rectification, clerk: User, supervisor: User, bureau: Department, rater: User
):
    rating_submit(actor=rater, invitation=invite(rater=rater, department=bureau), level=5)
    rectification_reply(
        actor=clerk, rectification=rectification, disposition="fixed", reply="已整改完毕。"
    )
    _token, raw = api_token_create(
        actor=supervisor, user=supervisor, kind=ApiToken.Kind.PERSONAL, name="stats"
    )
    client = Client(headers={"Authorization": f"Bearer {raw}"})

    (dept,) = client.get("/api/v1/evaluation/stats/departments").json()
    (item,) = client.get("/api/v1/evaluation/stats/items").json()

    assert dept["name"] == "六安市市场监督管理局"
    assert dept["total"] == 2
    assert dept["bad"] == 1
    assert dept["satisfaction_rate"] == "50.0"
    assert dept["on_time_rate"] == "100.0"
    assert [lv["count"] for lv in dept["levels"]] == [1, 0, 0, 1, 0]
    assert item["name"] == "个体工商户设立登记"
    assert item["total"] == 1
    reversed_period = client.get(
        "/api/v1/evaluation/stats/departments?since=2026-11-02&until=2026-11-01"
    )
    assert reversed_period.status_code == 422


def test_stats_refuse_people_who_do_not_supervise(clerk: User, rater: User):
    for someone in (clerk, rater):
        response = signed_in(someone).get("/api/v1/evaluation/stats/departments")
        assert response.status_code == 403
        assert response.json()["code"] == "core.forbidden"
