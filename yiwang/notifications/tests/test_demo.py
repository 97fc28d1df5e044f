"""The demo notifications: sent through notify with the default (record) provider, once."""

from __future__ import annotations

import pytest

from yiwang.accounts.demo import accounts_demo_load
from yiwang.accounts.models import User
from yiwang.notifications.demo import notifications_demo_load
from yiwang.notifications.models import Notification, OutboundMessage

pytestmark = pytest.mark.django_db


def test_the_demo_sends_two_notifications_once(django_capture_on_commit_callbacks):
    accounts_demo_load(password="yiwang-demo-2026")

    with django_capture_on_commit_callbacks(execute=True):
        first = notifications_demo_load()
    second = notifications_demo_load()

    citizen = User.objects.get(username="demo-citizen")
    assert (first, second) == (2, 0)
    rows = Notification.objects.filter(recipient=citizen).order_by("created_at", "id")
    assert [(n.event, n.principal and n.principal.username) for n in rows] == [
        ("demo.account_ready", None),
        ("demo.delegation_granted", "demo-elder"),
    ]
    assert sorted(OutboundMessage.objects.values_list("status", "address_masked")) == [
        ("recorded", "138****0001"),
        ("recorded", "138****0001"),
    ]
