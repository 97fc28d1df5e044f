"""GET /api/v1/me/notifications, POST …/{id}/read and …/read-all (the access matrix is in
yiwang/api/tests/test_api_access.py)."""

from __future__ import annotations

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yiwang.accounts.models import User
from yiwang.accounts.tests.factories import DelegationFactory, UserFactory
from yiwang.notifications.models import Notification
from yiwang.notifications.tests.conftest import EMAIL, PHONE, signed_in
from yiwang.notifications.tests.factories import NotificationFactory, OutboundMessageFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/me/notifications"
READ_ALL = "/api/v1/me/notifications/read-all"


def _read_url(notification: Notification) -> str:
    return f"/api/v1/me/notifications/{notification.public_id}/read"


def test_the_list_is_ones_own_newest_first_and_paginated(citizen: User, other_citizen: User):
    older = NotificationFactory.create(recipient=citizen, title="材料已收到")
    newer = NotificationFactory.create(recipient=citizen, title="您的申请已受理")
    NotificationFactory.create(recipient=other_citizen)

    response = signed_in(citizen).get(LIST, {"page_size": 1})

    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["page"], body["page_size"]) == (2, 1, 1)
    assert body["items"] == [
        {
            "id": str(newer.public_id),
            "event": "application.accepted",
            "title": "您的申请已受理",
            "body": "请在 5 个工作日内留意审批结果。",
            "link": "/accounts/me/",
            "principal": None,
            "created_at": DjangoJSONEncoder().default(newer.created_at),
            "read_at": None,
        }
    ]
    second = signed_in(citizen).get(LIST, {"page_size": 1, "page": 2}).json()
    assert [item["id"] for item in second["items"]] == [str(older.public_id)]


def test_the_unread_filter(citizen: User):
    unread = NotificationFactory.create(recipient=citizen)
    read = NotificationFactory.create(recipient=citizen, read_at=timezone.now())
    client = signed_in(citizen)

    only_unread = client.get(LIST, {"unread": "true"}).json()
    only_read = client.get(LIST, {"unread": "false"}).json()

    assert [i["id"] for i in only_unread["items"]] == [str(unread.public_id)]
    assert only_unread["count"] == 1
    assert [i["id"] for i in only_read["items"]] == [str(read.public_id)]


def test_the_principal_is_masked(citizen: User):
    elder = UserFactory.create(real_name="李秀英")
    DelegationFactory.create(principal=elder, agent=citizen)
    NotificationFactory.create(recipient=citizen, principal=elder)

    items = signed_in(citizen).get(LIST).json()["items"]

    assert [i["principal"] for i in items] == ["李**"]


def test_bad_list_parameters_are_refused(citizen: User):
    client = signed_in(citizen)

    assert client.get(LIST, {"page_size": 101}).status_code == 422
    assert client.get(LIST, {"unread": "perhaps"}).status_code == 422


def test_the_list_query_count_does_not_grow_with_the_rows(citizen: User):
    elder = UserFactory.create(real_name="李秀英")
    NotificationFactory.create_batch(2, recipient=citizen, principal=elder)
    client = signed_in(citizen)
    with CaptureQueriesContext(connection) as few:
        client.get(LIST)
    NotificationFactory.create_batch(10, recipient=citizen, principal=elder)

    with CaptureQueriesContext(connection) as many:
        client.get(LIST)

    assert len(many) == len(few)


def test_marking_one_read(citizen: User):
    notification = NotificationFactory.create(recipient=citizen)
    client = signed_in(citizen)

    first = client.post(_read_url(notification))
    again = client.post(_read_url(notification))

    assert first.status_code == 200
    assert first.json()["id"] == str(notification.public_id)
    assert first.json()["read_at"] is not None
    assert again.json()["read_at"] == first.json()["read_at"]
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_another_persons_notification_is_a_404_problem(citizen: User, other_citizen: User):
    theirs = NotificationFactory.create(recipient=other_citizen)

    response = signed_in(citizen).post(_read_url(theirs))

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "core.not_found"
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_a_malformed_id_is_refused(citizen: User):
    response = signed_in(citizen).post("/api/v1/me/notifications/not-a-uuid/read")

    assert response.status_code == 422


def test_read_all_marks_only_ones_own(citizen: User, other_citizen: User):
    NotificationFactory.create_batch(3, recipient=citizen)
    NotificationFactory.create(recipient=citizen, read_at=timezone.now())
    theirs = NotificationFactory.create(recipient=other_citizen)
    client = signed_in(citizen)

    response = client.post(READ_ALL)
    again = client.post(READ_ALL)

    assert response.json() == {"updated": 3}
    assert again.json() == {"updated": 0}
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_no_response_carries_an_address(citizen: User):
    note = NotificationFactory.create(recipient=citizen)
    OutboundMessageFactory.create(notification=note)
    OutboundMessageFactory.create(notification=note, channel="email", address=EMAIL)
    client = signed_in(citizen)

    bodies = [
        client.get(LIST).content.decode(),
        client.post(_read_url(note)).content.decode(),
        client.post(READ_ALL).content.decode(),
    ]

    assert all(PHONE not in body and EMAIL not in body for body in bodies)
