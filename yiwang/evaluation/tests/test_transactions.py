"""With real commits: a caller that rolls back leaves no invitation and sends nothing; a fault in
the middle of a rating leaves no half-written rating; two people acting at once cannot both
win (PostgreSQL: row locks)."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from django.db import connection, connections, transaction

from yiwang.accounts.models import Department, User
from yiwang.core.errors import Conflict, ValidationError
from yiwang.core.models import AuditEntry, OutboxMessage
from yiwang.evaluation.models import Channel, Invitation, Rating, Rectification
from yiwang.evaluation.services import rating_invite, rating_submit, rectification_reply
from yiwang.notifications.models import Notification

pytestmark = pytest.mark.django_db(transaction=True)


def _invite_in_callers_transaction(rater: User, department: Department, *, fail: bool) -> None:
    with transaction.atomic():
        rating_invite(
            subject_kind="application",
            subject_id="0f6c2f0e-0000-4000-8000-000000000001",
            rater=rater,
            department=department,
            title="公积金提取",
            channel=Channel.WINDOW,
        )
        if fail:
            raise RuntimeError("the caller's conclusion failed after inviting")


def test_an_invitation_goes_with_the_callers_rollback(rater: User, bureau: Department):
    with pytest.raises(RuntimeError):
        _invite_in_callers_transaction(rater, bureau, fail=True)

    assert Invitation.objects.count() == 0
    assert Notification.objects.count() == 0
    assert not AuditEntry.objects.filter(action="evaluation.invite").exists()

    _invite_in_callers_transaction(rater, bureau, fail=False)

    assert Invitation.objects.count() == 1
    assert Notification.objects.filter(recipient=rater).count() == 1


def test_a_fault_after_the_rating_row_leaves_nothing_half_written(
    invitation: Invitation, rater: User, clerk: User, settings: Any
):
    # a misconfigured deadline fails the rectification after the rating row was written
    settings.YIWANG_RECTIFICATION_DAYS = -1
    outbox_before = OutboxMessage.objects.count()

    with pytest.raises(ValidationError) as exc:
        rating_submit(actor=rater, invitation=invitation, level=1, comment="跑了三趟")

    assert exc.value.code == "core.calendar_negative"

    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING
    assert Rating.objects.count() == 0
    assert Rectification.objects.count() == 0
    assert not AuditEntry.objects.filter(action__startswith="evaluation.rate").exists()
    assert not Notification.objects.filter(event="evaluation.rectification_opened").exists()
    assert OutboxMessage.objects.count() == outbox_before


def _race(work: list[Any]) -> list[BaseException]:
    barrier = threading.Barrier(len(work))
    failures: list[BaseException] = []

    def run(call: Any) -> None:
        try:
            barrier.wait()
            call()
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return failures


def test_two_ratings_at_once_one_wins(invitation: Invitation, rater: User):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite serialises whole transactions)")

    failures = _race(
        [
            lambda: rating_submit(actor=rater, invitation=invitation, level=5),
            lambda: rating_submit(actor=rater, invitation=invitation, level=1, comment="差"),
        ]
    )

    assert len(failures) == 1
    assert isinstance(failures[0], Conflict)
    assert failures[0].code == "evaluation.already_rated"
    assert Rating.objects.count() == 1
    assert AuditEntry.objects.filter(action="evaluation.rate").count() == 1


def test_two_replies_at_once_one_wins(invitation: Invitation, rater: User, clerk: User):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite serialises whole transactions)")
    rating_submit(actor=rater, invitation=invitation, level=2, comment="慢")
    rectification = Rectification.objects.get()

    failures = _race(
        [
            lambda: rectification_reply(
                actor=clerk,
                rectification=rectification,
                disposition="fixed",
                reply="第一份答复内容。",
            ),
            lambda: rectification_reply(
                actor=clerk,
                rectification=rectification,
                disposition="explained",
                reply="第二份答复内容。",
            ),
        ]
    )

    assert [getattr(f, "code", f) for f in failures] == ["evaluation.rectification_state"]
    assert AuditEntry.objects.filter(action="evaluation.rectification_reply").count() == 1
    assert Notification.objects.filter(event="evaluation.rectification_replied").count() == 1


def test_two_invites_of_one_subject_at_once_make_one_invitation(rater: User, bureau: Department):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent inserts need PostgreSQL")
    subject = str(uuid.uuid4())

    def call() -> None:
        with transaction.atomic():
            rating_invite(
                subject_kind="application",
                subject_id=subject,
                rater=rater,
                department=bureau,
                title="公积金提取",
                channel=Channel.ONLINE,
            )

    failures = _race([call, call])

    assert failures == []
    assert Invitation.objects.filter(subject_id=subject).count() == 1
    assert AuditEntry.objects.filter(action="evaluation.invite").count() == 1
