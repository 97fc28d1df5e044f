"""rating_record: a rating given to an operator on the phone, by SMS or online, recorded in one
step, with or without the person's account; real-name bad reviews and their follow-up rate."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.urls import reverse

from yiwang.accounts.models import Department, User
from yiwang.accounts.tests.factories import StaffFactory
from yiwang.core.calendar import work_calendar_load
from yiwang.core.errors import Conflict, NotFound, ValidationError
from yiwang.core.models import AuditEntry
from yiwang.evaluation.access import access_invitation_for_rater
from yiwang.evaluation.models import Channel, Invitation, Rating, Rectification
from yiwang.evaluation.selectors import (
    invitation_list,
    invitation_pending_count,
    rating_stats_by_department,
    rating_stats_total,
)
from yiwang.evaluation.services import (
    rating_invite,
    rating_record,
    rating_submit,
    rectification_follow_up,
    rectification_reply,
)
from yiwang.evaluation.tests.conftest import invite, signed_in
from yiwang.evaluation.tests.factories import InvitationFactory, RatingFactory
from yiwang.notifications.models import Notification, OutboundMessage

pytestmark = pytest.mark.django_db

SUBJECT = "0b6f2a10-7c1d-4e55-9a0b-000000000001"


@pytest.fixture
def operator(city: Department) -> User:
    return StaffFactory(department=city, real_name="孙话务")


def _record(**overrides: Any) -> Rating:
    args: dict[str, Any] = {
        "subject_kind": "work_order",
        "subject_id": SUBJECT,
        "title": "人民路路灯不亮",
        "channel": Channel.HOTLINE,
        "level": 5,
        "comment": "",
        "rater": None,
        "real_name": True,
        **overrides,
    }
    with transaction.atomic():
        return rating_record(**args)


def _actions() -> list[str]:
    return list(AuditEntry.objects.order_by("seq").values_list("action", flat=True))


# --- recording -------------------------------------------------------------------------------


def test_a_callers_good_rating_without_an_account_is_recorded_rated_in_one_step(
    bureau: Department, operator: User, clerk: User
):
    rating = _record(department=bureau, recorded_by=operator, level=4)

    invitation = rating.invitation
    assert (invitation.rater, invitation.status, invitation.channel) == (None, "rated", "hotline")
    assert (invitation.subject_kind, invitation.subject_id) == ("work_order", SUBJECT)
    assert (invitation.department, invitation.title) == (bureau, "人民路路灯不亮")
    assert (rating.level, rating.rated_by, rating.real_name, rating.channel) == (
        4,
        None,
        True,
        "hotline",
    )
    assert _actions() == ["evaluation.invite", "evaluation.rate"]
    assert set(AuditEntry.objects.values_list("actor_id", flat=True)) == {operator.pk}
    assert (AuditEntry.objects.get(action="evaluation.rate").after or {})["rated_by_id"] is None
    assert not Rectification.objects.exists()
    assert not Notification.objects.exists()


def test_a_rating_with_an_account_is_the_raters_and_real_name(
    bureau: Department, rater: User, operator: User
):
    rating = _record(department=bureau, rater=rater, recorded_by=operator, channel="sms")

    assert rating.invitation.rater == rater
    assert rating.rated_by == rater
    assert rating.real_name is True
    assert rating.channel == "sms"
    # the rater rated already: nobody is asked to rate, and their list shows it as rated
    assert not Notification.objects.filter(recipient=rater).exists()
    assert [i.status for i in invitation_list(rater=rater)] == ["rated"]
    assert invitation_pending_count(rater=rater) == 0


@pytest.mark.parametrize(("level", "real_name"), [(2, True), (1, False)])
def test_a_callers_bad_rating_opens_a_rectification_as_online(
    bureau: Department,
    operator: User,
    clerk: User,
    other_clerk: User,
    level: int,
    real_name: bool,
):
    rating = _record(
        department=bureau,
        recorded_by=operator,
        level=level,
        comment="路灯修了又坏",
        real_name=real_name,
    )

    rectification = Rectification.objects.get()
    assert rectification.rating == rating
    assert rectification.department == bureau
    assert rectification.status == Rectification.Status.OPEN
    assert rectification.due_on == work_calendar_load().add_working_days(rating.created_at, 5).due
    assert rating.real_name is real_name
    assert _actions() == [
        "evaluation.invite",
        "evaluation.rate",
        "evaluation.rectification_open",
        "notifications.notify",  # the clerk's in-app notice
    ]
    told = Notification.objects.filter(event="evaluation.rectification_opened")
    assert [n.recipient_id for n in told] == [clerk.pk]


def test_the_desk_answers_a_caller_without_an_account_and_the_supervisor_closes(
    bureau: Department, operator: User, clerk: User, supervisor: User
):
    _record(department=bureau, recorded_by=operator, level=1, comment="没人处理")
    rectification = Rectification.objects.get()

    rectification_reply(
        actor=clerk, rectification=rectification, disposition="fixed", reply="已更换路灯线路。"
    )
    rectification_follow_up(
        actor=supervisor, rectification=rectification, result="satisfied", note="电话回访满意"
    )

    rectification.refresh_from_db()
    assert rectification.status == Rectification.Status.CLOSED
    # nobody to notify in-app or by SMS: the follow-up call tells the caller
    assert not Notification.objects.filter(event="evaluation.rectification_replied").exists()
    assert not OutboundMessage.objects.exists()


# --- bad input changes nothing ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"level": 1, "comment": "  "}, "evaluation.comment_required"),
        ({"level": 0}, "evaluation.level_invalid"),
        ({"level": True}, "evaluation.level_invalid"),
        ({"comment": "长" * 501}, "evaluation.comment_too_long"),
        ({"channel": "online"}, "evaluation.rater_invalid"),
        ({"channel": "window"}, "evaluation.rater_invalid"),
        ({"channel": "fax"}, "evaluation.channel_invalid"),
        ({"title": " "}, "evaluation.title_invalid"),
        ({"subject_id": "<script>"}, "evaluation.subject_invalid"),
        ({"real_name": "yes"}, "evaluation.real_name_invalid"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    bureau: Department, operator: User, clerk: User, overrides: dict[str, Any], code: str
):
    with pytest.raises(ValidationError) as caught:
        _record(department=bureau, recorded_by=operator, **overrides)

    assert caught.value.code == code
    assert not Invitation.objects.exists()
    assert not Rating.objects.exists()
    assert not AuditEntry.objects.exists()
    assert not Notification.objects.exists()


def test_an_account_holder_cannot_be_recorded_as_anonymous(
    bureau: Department, rater: User, operator: User, clerk: User
):
    with pytest.raises(ValidationError) as caught:
        _record(department=bureau, rater=rater, recorded_by=operator, real_name=False)

    assert caught.value.code == "evaluation.real_name_invalid"
    assert not Invitation.objects.exists()


def test_an_invitation_needs_an_account(bureau: Department):
    with pytest.raises(ValidationError) as caught, transaction.atomic():
        rating_invite(
            subject_kind="work_order",
            subject_id=SUBJECT,
            rater=None,  # type: ignore[arg-type]
            department=bureau,
            title="人民路路灯不亮",
            channel=Channel.HOTLINE,
        )

    assert caught.value.code == "evaluation.rater_invalid"
    assert not Invitation.objects.exists()


def test_staff_are_not_raters(bureau: Department, operator: User, clerk: User):
    with pytest.raises(ValidationError) as caught:
        _record(department=bureau, rater=clerk, recorded_by=operator)

    assert caught.value.code == "evaluation.rater_invalid"
    assert not Invitation.objects.exists()


def test_the_database_refuses_a_rating_without_account_outside_phone_and_sms(
    bureau: Department,
):
    with pytest.raises(IntegrityError), transaction.atomic():
        InvitationFactory(rater=None, department=bureau, channel=Channel.ONLINE)
    with pytest.raises(IntegrityError), transaction.atomic():
        RatingFactory(invitation__rater=None, invitation__channel="sms", channel="mobile")
    with pytest.raises(IntegrityError), transaction.atomic():
        RatingFactory(real_name=False)  # an account is real-name
    assert not Invitation.objects.exists()


# --- one rating per subject ------------------------------------------------------------------


def test_the_same_rating_again_returns_the_first_and_writes_nothing(
    bureau: Department, operator: User, clerk: User
):
    first = _record(department=bureau, recorded_by=operator, level=2, comment="不满意")
    actions = _actions()

    again = _record(department=bureau, recorded_by=operator, level=2, comment=" 不满意 ")

    assert again.pk == first.pk
    assert _actions() == actions
    assert Rating.objects.count() == 1
    assert Rectification.objects.count() == 1


@pytest.mark.parametrize(
    "overrides",
    [{"level": 3}, {"comment": "还行"}, {"channel": "sms"}, {"real_name": False}],
)
def test_another_rating_of_the_same_subject_is_a_conflict(
    bureau: Department, operator: User, overrides: dict[str, Any]
):
    _record(department=bureau, recorded_by=operator, level=4, comment="好")
    actions = _actions()

    with pytest.raises(Conflict) as caught:
        _record(
            department=bureau, recorded_by=operator, **{"level": 4, "comment": "好", **overrides}
        )

    assert caught.value.code == "evaluation.already_rated"
    assert Rating.objects.get().level == 4
    assert _actions() == actions


def test_another_rater_or_department_for_the_subject_is_a_mismatch(
    bureau: Department, other_bureau: Department, rater: User, operator: User
):
    _record(department=bureau, recorded_by=operator)

    for overrides in ({"rater": rater}, {"department": other_bureau}):
        with pytest.raises(Conflict) as caught:
            _record(**{"department": bureau, "recorded_by": operator, **overrides})
        assert caught.value.code == "evaluation.invitation_mismatch"
    assert Rating.objects.count() == 1


def test_a_pending_invitation_is_rated_by_the_recorded_rating_and_only_once(
    bureau: Department, rater: User, operator: User
):
    invitation = invite(rater=rater, department=bureau, subject_id=SUBJECT)
    assert invitation.subject_kind == "application"

    rating = _record(
        subject_kind="application", department=bureau, rater=rater, recorded_by=operator, level=3
    )

    invitation.refresh_from_db()
    assert rating.invitation == invitation
    assert invitation.status == Invitation.Status.RATED
    assert invitation.channel == "online"  # where the service was delivered
    assert rating.channel == "hotline"  # where the rating was given
    with pytest.raises(Conflict) as caught:
        rating_submit(actor=rater, invitation=invitation, level=5)
    assert caught.value.code == "evaluation.already_rated"


# --- reading ratings without an account ------------------------------------------------------


def test_nobody_reaches_a_callers_invitation_as_its_rater(
    bureau: Department, operator: User, rater: User
):
    invitation = _record(department=bureau, recorded_by=operator).invitation

    for someone in (AnonymousUser(), rater, operator):
        with pytest.raises(NotFound):
            access_invitation_for_rater(someone, invitation.public_id)
    assert list(invitation_list(rater=rater)) == []
    response = signed_in(rater).get(
        reverse("evaluation:rate", kwargs={"public_id": invitation.public_id})
    )
    assert response.status_code == 404


def test_the_desk_shows_a_caller_without_an_account(
    bureau: Department, operator: User, clerk: User
):
    _record(department=bureau, recorded_by=operator, level=2, comment="<b>太慢</b>")
    rectification = Rectification.objects.get()
    desk = signed_in(clerk)

    listed = desk.get(reverse("evaluation:rectifications")).content.decode()
    page = desk.get(
        reverse("evaluation:rectification", kwargs={"public_id": rectification.public_id})
    ).content.decode()
    api = desk.get("/api/v1/evaluation/rectifications").json()

    assert "来电群众（无账号）" in listed
    assert "来电群众（无账号）" in page
    assert "评价人没有平台账号，答复不会自动通知本人" in page
    assert "&lt;b&gt;太慢&lt;/b&gt;" in page
    assert "<b>太慢</b>" not in page
    (row,) = api["items"]
    assert (row["rater"], row["real_name"], row["comment"]) == (
        "来电群众（无账号）",
        True,
        "<b>太慢</b>",
    )


# --- 实名差评回访整改率 ------------------------------------------------------------------------


def test_the_real_name_follow_up_rate_counts_closed_real_name_bad_reviews(
    bureau: Department,
    other_bureau: Department,
    operator: User,
    clerk: User,
    supervisor: User,
    rater: User,
):
    # given the bureau's ratings: 3 real-name 差评 (one closed, one replied, one open),
    # one anonymous 差评 (closed), one real-name 好评; and a real-name 差评 elsewhere
    def bad(n: int, *, real_name: bool = True, department: Department = bureau) -> Rectification:
        rating = _record(
            subject_id=f"wo-{n}",
            department=department,
            recorded_by=operator,
            level=1,
            comment="不满意",
            real_name=real_name,
        )
        return Rectification.objects.get(rating=rating)

    def reply(r: Rectification) -> None:
        rectification_reply(actor=clerk, rectification=r, disposition="fixed", reply="已整改完毕。")

    def close(r: Rectification) -> None:
        reply(r)
        rectification_follow_up(actor=supervisor, rectification=r, result="basic", note="回访")

    close(bad(1))
    reply(bad(2))
    bad(3)
    close(bad(4, real_name=False))
    _record(subject_id="wo-5", department=bureau, recorded_by=operator, rater=rater, level=5)
    bad(6, department=other_bureau)

    (row,) = rating_stats_by_department(department_ids={bureau.pk})

    assert (row.total, row.bad) == (5, 4)
    assert (row.real_name_bad, row.real_name_bad_followed_up) == (3, 1)
    assert row.real_name_follow_up_rate == Decimal("33.3")
    rows = rating_stats_by_department(department_ids={bureau.pk, other_bureau.pk})
    total = rating_stats_total(rows)
    assert (total.real_name_bad, total.real_name_bad_followed_up) == (4, 1)
    assert total.real_name_follow_up_rate == Decimal("25.0")

    client = signed_in(supervisor)
    (api_row,) = client.get("/api/v1/evaluation/stats/departments").json()
    assert (api_row["real_name_bad"], api_row["real_name_follow_up_rate"]) == (3, "33.3")
    html = client.get(reverse("evaluation:stats")).content.decode()
    assert "实名差评回访整改率" in html
    assert '<td class="num">33.3%</td>' in html


def test_no_real_name_bad_review_has_no_follow_up_rate(bureau: Department, operator: User):
    _record(department=bureau, recorded_by=operator, level=1, comment="差", real_name=False)

    (row,) = rating_stats_by_department(department_ids={bureau.pk})

    assert (row.bad, row.real_name_bad) == (1, 0)
    assert row.real_name_follow_up_rate is None
