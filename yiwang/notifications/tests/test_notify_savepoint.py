"""savepoint=False: the same rows without the savepoint, for a caller whose whole transaction
fails with any failure of the notice (the hotline's registration)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from yiwang.accounts.tests.factories import UserFactory
from yiwang.core.audit import audit_verify
from yiwang.notifications import services
from yiwang.notifications.models import Notification, OutboundMessage
from yiwang.notifications.services import notify, notify_many, notify_phone
from yiwang.notifications.tests.test_notify_many import (
    NEWS,
    _clear_notifications,
    _last_seq,
    _written_since,
)

pytestmark = pytest.mark.django_db


def _twice(tell: Callable[[bool], Any]) -> tuple[Any, Any, int, int]:
    """What ``tell`` writes with and without the savepoint, and the statements of each."""
    with transaction.atomic():  # the first audit row ever also creates the chain's head
        tell(True)
    _clear_notifications()
    seq = _last_seq()
    with CaptureQueriesContext(connection) as kept, transaction.atomic():
        tell(True)
    with_savepoint = _written_since(seq)
    _clear_notifications()
    seq = _last_seq()
    with CaptureQueriesContext(connection) as left, transaction.atomic():
        tell(False)
    return with_savepoint, _written_since(seq), len(kept), len(left)


def test_notify_without_a_savepoint_writes_the_same_rows_in_two_statements_fewer() -> None:
    person = UserFactory.create(phone="13800000001", email="zhao@example.com")

    kept, left, n_kept, n_left = _twice(
        lambda savepoint: notify(
            recipient=person, channels=("sms", "email"), savepoint=savepoint, **NEWS
        )
    )

    assert left == kept
    assert len(left["outbound"]) == 2
    assert [a[2] for a in left["audit"]] == ["notifications.notify"]
    assert n_left == n_kept - 2
    assert audit_verify().ok


def test_notify_many_without_a_savepoint_writes_the_same_rows_in_two_statements_fewer() -> None:
    people = [UserFactory.create(phone=f"1380000000{i}") for i in range(3)]

    kept, left, n_kept, n_left = _twice(
        lambda savepoint: notify_many(recipients=people, savepoint=savepoint, **NEWS)
    )

    assert left == kept
    assert len(left["notifications"]) == 3
    assert n_left == n_kept - 2


def test_notify_phone_without_a_savepoint_writes_the_same_row_in_two_statements_fewer() -> None:
    def tell(savepoint: bool) -> None:
        notify_phone(
            phone="13900000009",
            event="hotline.registered",
            body="工单编号 GD2026112800000001",
            actor="system:hotline",
            savepoint=savepoint,
        )

    with transaction.atomic():
        tell(True)
    with CaptureQueriesContext(connection) as kept, transaction.atomic():
        tell(True)
    with CaptureQueriesContext(connection) as left, transaction.atomic():
        tell(False)

    assert len(left) == len(kept) - 2
    bodies = list(OutboundMessage.objects.values_list("address", "body"))
    assert bodies == [bodies[0]] * 3


def test_a_failure_without_a_savepoint_ends_the_callers_transaction(monkeypatch) -> None:
    person = UserFactory.create(phone="13800000001")
    before = Notification.objects.count()

    def audit_down(entries: Any) -> None:
        raise RuntimeError("audit down")

    monkeypatch.setattr(services, "audit_append", audit_down)
    # with the savepoint, a caller that catches the failure goes on with its work
    with transaction.atomic():
        with pytest.raises(RuntimeError):
            notify(recipient=person, **NEWS)
        assert Notification.objects.count() == before
    # without it, the caller's transaction can only roll back
    with transaction.atomic():
        with pytest.raises(RuntimeError):
            notify(recipient=person, savepoint=False, **NEWS)
        with pytest.raises(TransactionManagementError):
            Notification.objects.count()
    assert Notification.objects.count() == before
