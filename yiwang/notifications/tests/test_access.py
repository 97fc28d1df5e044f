"""access_notification_by_public_id: one's own notification, and nobody else's."""

from __future__ import annotations

import pytest

from yiwang.accounts.models import User
from yiwang.core.errors import NotFound
from yiwang.notifications.access import OUTBOX_ROLES, access_notification_by_public_id
from yiwang.notifications.tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db


def test_the_recipient_gets_their_notification(citizen: User):
    notification = NotificationFactory.create(recipient=citizen)

    assert access_notification_by_public_id(citizen, notification.public_id) == notification


@pytest.mark.parametrize("who", ["other_citizen", "platform_admin", "auditor"])
def test_anyone_else_gets_not_found(request, citizen: User, who: str):
    notification = NotificationFactory.create(recipient=citizen)

    with pytest.raises(NotFound) as caught:
        access_notification_by_public_id(request.getfixturevalue(who), notification.public_id)

    assert caught.value.code == "core.not_found"


def test_the_outbox_is_for_administrators_and_auditors():
    assert OUTBOX_ROLES == ("admin", "auditor")
