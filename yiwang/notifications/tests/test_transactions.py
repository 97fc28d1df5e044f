"""With real commits (transactional tests): a rolled-back change sends nothing; a committed one
is delivered right after its commit."""

from __future__ import annotations

import pytest
from django.db import transaction

from yiwang.accounts.models import User
from yiwang.core.models import AuditEntry, OutboxMessage
from yiwang.notifications.models import Notification, OutboundMessage
from yiwang.notifications.services import notify
from yiwang.notifications.tests.conftest import Gateway

pytestmark = pytest.mark.django_db(transaction=True)


def _accept(citizen: User, *, fail: bool) -> None:
    with transaction.atomic():
        notify(
            recipient=citizen,
            event="application.accepted",
            title="您的申请已受理",
            body="请留意审批结果。",
            channels=("sms",),
        )
        if fail:
            raise RuntimeError("the acceptance failed after notifying")


def test_a_rolled_back_change_sends_no_sms_and_a_committed_one_does(
    citizen: User, sms_gateway: Gateway
):
    # when the caller's transaction rolls back
    with pytest.raises(RuntimeError):
        _accept(citizen, fail=True)

    # then nothing remains and the gateway heard nothing
    assert Notification.objects.count() == 0
    assert OutboundMessage.objects.count() == 0
    assert OutboxMessage.objects.count() == 0
    assert not AuditEntry.objects.filter(action="notifications.notify").exists()
    assert sms_gateway.received == []

    # when it commits
    _accept(citizen, fail=False)

    # then the SMS went out right after the commit
    assert len(sms_gateway.received) == 1
    assert OutboundMessage.objects.get().status == "sent"
