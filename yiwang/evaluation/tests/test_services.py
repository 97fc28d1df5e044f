"""The services of 好差评: invitations, ratings, rectification, escalation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from yiwang.accounts.models import Department, Role, User
from yiwang.accounts.tests.factories import (
    DelegationFactory,
    RoleAssignmentFactory,
    StaffFactory,
    UserFactory,
    staff_with_role,
)
from yiwang.catalog.models import ServiceItem
from yiwang.core.calendar import work_calendar_load
from yiwang.core.errors import Conflict, PermissionDenied, ValidationError
from yiwang.core.models import AuditEntry
from yiwang.evaluation.models import Channel, Invitation, Rating, Rectification
from yiwang.evaluation.selectors import city_today
from yiwang.evaluation.services import (
    rating_invite,
    rating_submit,
    rectification_follow_up,
    rectification_reply,
    rectifications_escalate_overdue,
)
from yiwang.evaluation.tests.conftest import invite
from yiwang.evaluation.tests.factories import RectificationFactory
from yiwang.notifications.models import Notification

pytestmark = pytest.mark.django_db


def _audit(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("seq"))


def _invite(**overrides: Any) -> Invitation:
    args: dict[str, Any] = {
        "subject_kind": "application",
        "subject_id": "5a0c8a4e-1111-4c2b-9d7e-000000000001",
        "title": "个体工商户设立登记",
        "channel": Channel.ONLINE,
        **overrides,
    }
    with transaction.atomic():
        return rating_invite(**args)


def _bad(invitation: Invitation, rater: User, level: int = 1) -> Rating:
    return rating_submit(
        actor=rater, invitation=invitation, level=level, comment="材料清单和窗口要求不一致。"
    )


# --- rating_invite ---------------------------------------------------------------------------


def test_invite_creates_the_invitation_audits_and_notifies_the_rater_in_app(
    rater: User, bureau: Department, item: ServiceItem
):
    invitation = _invite(rater=rater, department=bureau, item=item)

    assert invitation.status == Invitation.Status.PENDING
    assert (invitation.subject_kind, invitation.department, invitation.item) == (
        "application",
        bureau,
        item,
    )
    (entry,) = _audit("evaluation.invite")
    assert entry.actor_label == "system:evaluation"
    assert (entry.after or {})["subject_id"] == invitation.subject_id
    (note,) = Notification.objects.filter(recipient=rater)
    assert note.event == "evaluation.invited"
    assert note.title == "请您评价：个体工商户设立登记"
    assert note.link == f"/evaluation/{invitation.public_id}/"
    assert not note.outbound_messages.exists()  # in-app only


def test_invite_is_idempotent_per_subject(rater: User, bureau: Department):
    first = _invite(rater=rater, department=bureau)

    again = _invite(rater=rater, department=bureau, title="另一个标题")

    assert again.pk == first.pk
    assert again.title == "个体工商户设立登记"
    assert Invitation.objects.count() == 1
    assert len(_audit("evaluation.invite")) == 1
    assert Notification.objects.filter(recipient=rater).count() == 1


def test_a_second_invite_for_another_rater_is_a_conflict(
    rater: User, other_citizen: User, bureau: Department
):
    _invite(rater=rater, department=bureau)

    with pytest.raises(Conflict) as exc:
        _invite(rater=other_citizen, department=bureau)

    assert exc.value.code == "evaluation.invitation_mismatch"
    assert Invitation.objects.count() == 1


def test_the_same_subject_id_of_another_kind_is_another_invitation(rater: User, bureau: Department):
    a = _invite(rater=rater, department=bureau)
    b = _invite(rater=rater, department=bureau, subject_kind="work_order")
    assert a.pk != b.pk


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"subject_kind": "Application"}, "evaluation.subject_invalid"),
        ({"subject_kind": ""}, "evaluation.subject_invalid"),
        ({"subject_id": ""}, "evaluation.subject_invalid"),
        ({"subject_id": "has space"}, "evaluation.subject_invalid"),
        ({"subject_id": "x" * 65}, "evaluation.subject_invalid"),
        ({"title": "   "}, "evaluation.title_invalid"),
        ({"title": "长" * 101}, "evaluation.title_invalid"),
        ({"channel": "fax"}, "evaluation.channel_invalid"),
    ],
)
def test_invite_refuses_bad_input_and_changes_nothing(
    rater: User, bureau: Department, overrides: dict[str, Any], code: str
):
    with pytest.raises(ValidationError) as exc:
        _invite(rater=rater, department=bureau, **overrides)

    assert exc.value.code == code
    assert str(exc.value.message)
    assert Invitation.objects.count() == 0
    assert not _audit("evaluation.invite")
    assert not Notification.objects.exists()


def test_staff_and_inactive_people_are_not_raters(bureau: Department, clerk: User):
    with pytest.raises(ValidationError) as exc:
        _invite(rater=clerk, department=bureau)
    assert exc.value.code == "evaluation.rater_invalid"

    gone = UserFactory(is_active=False)
    with pytest.raises(ValidationError):
        _invite(rater=gone, department=bureau)
    assert Invitation.objects.count() == 0


def test_an_agent_is_invited_for_the_principal_and_the_notice_names_them(
    bureau: Department,
):
    elder = UserFactory(real_name="李秀英")
    daughter = UserFactory(real_name="李小明")
    DelegationFactory(principal=elder, agent=daughter)

    invitation = _invite(rater=daughter, department=bureau, principal=elder)

    assert invitation.principal == elder
    note = Notification.objects.get(recipient=daughter)
    assert note.principal == elder
    assert _audit("evaluation.invite")[0].on_behalf_of_id == elder.pk


def test_a_lapsed_delegation_does_not_fail_the_callers_step(bureau: Department):
    elder = UserFactory()
    agent = UserFactory()
    DelegationFactory(principal=elder, agent=agent, revoked_at=timezone.now() - timedelta(days=1))

    invitation = _invite(rater=agent, department=bureau, principal=elder)

    assert Notification.objects.get(recipient=agent).principal is None
    assert invitation.principal == elder


def test_the_principal_cannot_be_the_rater(rater: User, bureau: Department):
    with pytest.raises(ValidationError):
        _invite(rater=rater, department=bureau, principal=rater)


# --- rating_submit ---------------------------------------------------------------------------


@pytest.mark.parametrize("level", [5, 4, 3])
def test_a_good_or_neutral_rating_needs_no_comment_and_opens_nothing(
    invitation: Invitation, rater: User, level: int
):
    rating = rating_submit(actor=rater, invitation=invitation, level=level, comment="")

    assert rating.level == level
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.RATED
    assert not Rectification.objects.exists()
    (entry,) = _audit("evaluation.rate")
    assert entry.actor_id == rater.pk
    assert entry.after == {
        "invitation": str(invitation.public_id),
        "level": level,
        "comment": "",
        "channel": "online",
        "rated_by_id": rater.pk,
        "real_name": True,
    }


def test_grades_follow_the_levels(invitation: Invitation, rater: User):
    rating = rating_submit(actor=rater, invitation=invitation, level=3)
    assert rating.grade == "neutral"
    assert [Rating(level=lv).grade for lv in (5, 4, 3, 2, 1)] == [
        "good",
        "good",
        "neutral",
        "bad",
        "bad",
    ]


@pytest.mark.parametrize("level", [2, 1])
def test_a_bad_rating_needs_a_comment(invitation: Invitation, rater: User, level: int):
    with pytest.raises(ValidationError) as exc:
        rating_submit(actor=rater, invitation=invitation, level=level, comment="   ")

    assert exc.value.code == "evaluation.comment_required"
    assert "不满意的原因" in str(exc.value.message)
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING
    assert not Rating.objects.exists()
    assert not _audit("evaluation.rate")


@pytest.mark.parametrize("level", [0, 6, -1, "5a", None, "", True, 4.5])
def test_a_level_outside_the_five_is_refused(invitation: Invitation, rater: User, level: Any):
    with pytest.raises(ValidationError) as exc:
        rating_submit(actor=rater, invitation=invitation, level=level, comment="好")
    assert exc.value.code == "evaluation.level_invalid"
    assert not Rating.objects.exists()


def test_a_too_long_comment_is_refused(invitation: Invitation, rater: User):
    with pytest.raises(ValidationError) as exc:
        rating_submit(actor=rater, invitation=invitation, level=5, comment="好" * 501)
    assert exc.value.code == "evaluation.comment_too_long"
    assert not Rating.objects.exists()


def test_an_unknown_channel_is_refused(invitation: Invitation, rater: User):
    with pytest.raises(ValidationError):
        rating_submit(actor=rater, invitation=invitation, level=5, channel="fax")
    assert not Rating.objects.exists()


def test_only_the_rater_may_rate(invitation: Invitation, other_citizen: User, clerk: User):
    for someone in (other_citizen, clerk):
        with pytest.raises(PermissionDenied) as exc:
            rating_submit(actor=someone, invitation=invitation, level=5)
        assert exc.value.code == "evaluation.not_rater"
    assert not Rating.objects.exists()


def test_one_rating_per_invitation(invitation: Invitation, rater: User):
    rating_submit(actor=rater, invitation=invitation, level=5)

    with pytest.raises(Conflict) as exc:
        rating_submit(actor=rater, invitation=invitation, level=1, comment="改主意了")

    assert exc.value.code == "evaluation.already_rated"
    assert Rating.objects.get().level == 5
    assert not Rectification.objects.exists()
    # a stale copy of the invitation does not get past the lock either
    stale = Invitation.objects.get(pk=invitation.pk)
    stale.status = Invitation.Status.PENDING
    with pytest.raises(Conflict):
        rating_submit(actor=rater, invitation=stale, level=4)
    assert Rating.objects.count() == 1


def test_a_rating_under_delegation_is_attributed_to_both(bureau: Department):
    elder, agent = UserFactory(), UserFactory()
    DelegationFactory(principal=elder, agent=agent)
    invitation = _invite(rater=agent, department=bureau, principal=elder)

    rating = rating_submit(actor=agent, invitation=invitation, level=4)

    assert rating.on_behalf_of == elder
    assert rating.rated_by == agent
    assert _audit("evaluation.rate")[0].on_behalf_of_id == elder.pk


@pytest.mark.parametrize("level", [2, 1])
def test_a_bad_rating_opens_a_rectification_due_in_five_working_days(
    invitation: Invitation,
    rater: User,
    bureau: Department,
    clerk: User,
    other_clerk: User,
    supervisor: User,
    level: int,
):
    rating = _bad(invitation, rater, level)

    rectification = Rectification.objects.get()
    assert rectification.rating == rating
    assert rectification.department == bureau
    assert rectification.status == Rectification.Status.OPEN
    calendar = work_calendar_load()
    expected = calendar.add_working_days(rating.created_at, 5)
    assert rectification.due_on == expected.due
    assert calendar.working_days_between(rating.created_at, rectification.due_on) == 5
    assert rectification.due_provisional == expected.provisional
    (entry,) = _audit("evaluation.rectification_open")
    assert (entry.after or {})["due_on"] == rectification.due_on.isoformat()
    # the responsible bureau's staff are told; the other bureau and the supervisor are not
    told = set(
        Notification.objects.filter(event="evaluation.rectification_opened").values_list(
            "recipient", flat=True
        )
    )
    assert told == {clerk.pk}
    assert other_clerk.pk not in told


def test_the_deadline_comes_from_the_setting(invitation: Invitation, rater: User, settings: Any):
    settings.YIWANG_RECTIFICATION_DAYS = 15

    rating = _bad(invitation, rater)

    due = Rectification.objects.get().due_on
    assert work_calendar_load().working_days_between(rating.created_at, due) == 15


def test_people_above_the_bureau_with_subtree_are_told_too(
    invitation: Invitation, rater: User, city: Department
):
    # a handling-unit role at the city with its subtree reaches the bureau's work
    handler = StaffFactory(department=city)
    RoleAssignmentFactory(
        user=handler, role=Role.HANDLING_UNIT, department=city, include_subtree=True
    )
    without_subtree = staff_with_role(Role.APPROVER, city)

    _bad(invitation, rater)

    told = set(
        Notification.objects.filter(event="evaluation.rectification_opened").values_list(
            "recipient", flat=True
        )
    )
    assert handler.pk in told
    assert without_subtree.pk not in told


# --- rectification_reply ---------------------------------------------------------------------


@pytest.fixture
def rectification(invitation: Invitation, rater: User) -> Rectification:
    _bad(invitation, rater)
    return Rectification.objects.get()


def test_the_bureau_replies_and_the_rater_is_told_by_sms_too(
    rectification: Rectification, clerk: User, rater: User
):
    done = rectification_reply(
        actor=clerk,
        rectification=rectification,
        disposition="fixed",
        reply="已核实，窗口已统一材料清单，并安排专人回电致歉。",
    )

    assert done.status == Rectification.Status.REPLIED
    assert done.replied_by == clerk
    assert done.replied_on_time is True
    assert rectification.status == Rectification.Status.REPLIED  # the caller's copy follows
    (entry,) = _audit("evaluation.rectification_reply")
    assert ((entry.before or {})["status"], (entry.after or {})["status"]) == ("open", "replied")
    note = Notification.objects.get(recipient=rater, event="evaluation.rectification_replied")
    assert "立行立改" in note.body
    assert note.outbound_messages.get().channel == "sms"


def test_a_late_reply_is_recorded_as_late(rectification: Rectification, clerk: User):
    Rectification.objects.filter(pk=rectification.pk).update(
        due_on=city_today() - timedelta(days=1)
    )
    rectification.refresh_from_db()

    done = rectification_reply(
        actor=clerk, rectification=rectification, disposition="scheduled", reply="下周整改完毕。"
    )

    assert done.replied_on_time is False


def test_only_the_responsible_departments_staff_may_reply(
    rectification: Rectification,
    other_clerk: User,
    supervisor: User,
    roleless_staff: User,
    rater: User,
):
    for someone in (other_clerk, supervisor, roleless_staff, rater):
        with pytest.raises(PermissionDenied) as exc:
            rectification_reply(
                actor=someone,
                rectification=rectification,
                disposition="fixed",
                reply="已整改完毕。",
            )
        assert exc.value.code == "evaluation.not_rectifier"
    rectification.refresh_from_db()
    assert rectification.status == Rectification.Status.OPEN
    assert not _audit("evaluation.rectification_reply")


@pytest.mark.parametrize(
    ("disposition", "reply", "code"),
    [
        ("ignore", "已整改完毕。", "evaluation.disposition_invalid"),
        ("", "已整改完毕。", "evaluation.disposition_invalid"),
        ("fixed", "好的", "evaluation.reply_invalid"),
        ("fixed", "  ", "evaluation.reply_invalid"),
        ("fixed", "长" * 2001, "evaluation.reply_invalid"),
    ],
)
def test_a_reply_with_bad_input_changes_nothing(
    rectification: Rectification, clerk: User, disposition: str, reply: str, code: str
):
    with pytest.raises(ValidationError) as exc:
        rectification_reply(
            actor=clerk, rectification=rectification, disposition=disposition, reply=reply
        )
    assert exc.value.code == code
    rectification.refresh_from_db()
    assert rectification.status == Rectification.Status.OPEN
    assert rectification.reply == ""
    assert not Notification.objects.filter(event="evaluation.rectification_replied").exists()


def test_a_second_reply_is_a_conflict(rectification: Rectification, clerk: User):
    rectification_reply(
        actor=clerk, rectification=rectification, disposition="fixed", reply="已整改完毕。"
    )
    stale = Rectification.objects.get(pk=rectification.pk)
    stale.status = Rectification.Status.OPEN

    with pytest.raises(Conflict) as exc:
        rectification_reply(
            actor=clerk, rectification=stale, disposition="explained", reply="再答复一次。"
        )

    assert exc.value.code == "evaluation.rectification_state"
    assert Rectification.objects.get().reply == "已整改完毕。"


# --- rectification_follow_up -----------------------------------------------------------------


def test_the_supervisor_follows_up_and_closes(
    rectification: Rectification, clerk: User, supervisor: User
):
    rectification_reply(
        actor=clerk, rectification=rectification, disposition="fixed", reply="已整改完毕。"
    )

    closed = rectification_follow_up(
        actor=supervisor,
        rectification=rectification,
        result="satisfied",
        note="电话回访，群众表示满意。",
    )

    assert closed.status == Rectification.Status.CLOSED
    assert closed.closed_by == supervisor
    assert closed.closed_at is not None
    (entry,) = _audit("evaluation.rectification_follow_up")
    assert (entry.after or {})["follow_up_result"] == "satisfied"


def test_a_follow_up_before_the_reply_is_a_conflict(rectification: Rectification, supervisor: User):
    with pytest.raises(Conflict) as exc:
        rectification_follow_up(
            actor=supervisor, rectification=rectification, result="satisfied", note="回访。"
        )
    assert exc.value.code == "evaluation.rectification_state"
    assert Rectification.objects.get().status == Rectification.Status.OPEN


def test_only_a_supervisor_of_the_department_may_follow_up(
    rectification: Rectification, clerk: User, other_supervisor: User
):
    rectification_reply(
        actor=clerk, rectification=rectification, disposition="fixed", reply="已整改完毕。"
    )
    for someone in (clerk, other_supervisor):
        with pytest.raises(PermissionDenied) as exc:
            rectification_follow_up(
                actor=someone, rectification=rectification, result="satisfied", note="回访。"
            )
        assert exc.value.code == "evaluation.not_supervisor"
    assert Rectification.objects.get().status == Rectification.Status.REPLIED


@pytest.mark.parametrize(
    ("result", "note", "code"),
    [
        ("happy", "回访。", "evaluation.follow_up_result_invalid"),
        ("satisfied", " ", "evaluation.follow_up_note_invalid"),
        ("satisfied", "长" * 1001, "evaluation.follow_up_note_invalid"),
    ],
)
def test_a_follow_up_with_bad_input_changes_nothing(
    rectification: Rectification,
    clerk: User,
    supervisor: User,
    result: str,
    note: str,
    code: str,
):
    rectification_reply(
        actor=clerk, rectification=rectification, disposition="fixed", reply="已整改完毕。"
    )
    with pytest.raises(ValidationError) as exc:
        rectification_follow_up(
            actor=supervisor, rectification=rectification, result=result, note=note
        )
    assert exc.value.code == code
    assert Rectification.objects.get().status == Rectification.Status.REPLIED
    assert not _audit("evaluation.rectification_follow_up")


# --- escalation of overdue rectifications ----------------------------------------------------


def test_overdue_rectifications_are_escalated_once_and_supervisors_told(
    bureau: Department, clerk: User, supervisor: User, other_supervisor: User
):
    today = city_today()
    overdue = RectificationFactory(
        rating__invitation__department=bureau, due_on=today - timedelta(days=1)
    )
    due_today = RectificationFactory(rating__invitation__department=bureau, due_on=today)
    answered = RectificationFactory(
        rating__invitation__department=bureau,
        due_on=today - timedelta(days=3),
        status=Rectification.Status.REPLIED,
        replied_at=timezone.now(),
        replied_on_time=False,
        reply="已答复。",
    )

    assert rectifications_escalate_overdue() == 1
    assert rectifications_escalate_overdue() == 0  # once only

    overdue.refresh_from_db()
    due_today.refresh_from_db()
    answered.refresh_from_db()
    assert overdue.escalated_at is not None
    assert due_today.escalated_at is None
    assert answered.escalated_at is None
    (entry,) = _audit("evaluation.rectification_escalate")
    assert entry.actor_label == "system:evaluation"
    assert entry.object_id == str(overdue.pk)
    told = list(
        Notification.objects.filter(event="evaluation.rectification_overdue").values_list(
            "recipient", flat=True
        )
    )
    assert told == [supervisor.pk]


def test_the_escalation_task_runs_the_service(bureau: Department, supervisor: User):
    from yiwang.evaluation import tasks

    RectificationFactory(
        rating__invitation__department=bureau, due_on=city_today() - timedelta(days=2)
    )

    result = tasks.rectifications_escalate.apply()

    assert result.successful()
    assert result.result == 1
    assert Rectification.objects.get().escalated_at is not None


def test_invite_helper_world_is_consistent(rater: User, bureau: Department):
    # the helper used by the other test modules goes through the service
    invitation = invite(rater=rater, department=bureau)
    assert _audit("evaluation.invite")[0].object_id == str(invitation.pk)
