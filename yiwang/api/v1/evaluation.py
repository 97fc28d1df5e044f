"""好差评: the signed-in person's rating invitations and ratings; the rectification desk of a
department's staff and supervisors; the statistics supervisors read.

Who may do what is decided in yiwang.evaluation.access: a person sees only their own
invitations (anyone else's id is a 404); staff see the rectifications of the departments where
they hold a window, approval or handling-unit role, supervisors those of the departments they
supervise (anyone else's is a 404; without such a role, 403). The rater's name is masked.
"""

# No ``from __future__ import annotations`` here: ninja's @paginate rebuilds the operation's
# signature outside this module, where string annotations (Query[...]) would not resolve.

from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from yiwang.api.auth import request_user
from yiwang.core.errors import ValidationError
from yiwang.core.masking import mask_name
from yiwang.evaluation.access import (
    access_invitation_for_rater,
    access_rectification,
    desk_scope,
    supervisor_scope,
)
from yiwang.evaluation.models import Channel, Invitation, Rating, Rectification
from yiwang.evaluation.selectors import (
    RatingStats,
    city_today,
    invitation_list,
    rating_stats_by_department,
    rating_stats_by_item,
    rectification_is_overdue,
    rectification_list,
)
from yiwang.evaluation.services import (
    COMMENT_MAX,
    FOLLOW_UP_NOTE_MAX,
    REPLY_MAX,
    rating_submit,
    rectification_follow_up,
    rectification_reply,
)

router = Router(tags=["evaluation"])

InvitationStatus = Literal["pending", "rated"]
RectificationStatus = Literal["open", "replied", "closed"]


class RatingOut(Schema):
    id: UUID = Field(description="the rating's public id")
    level: int = Field(description="5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意")
    level_label: str
    grade: Literal["good", "neutral", "bad"] = Field(description="好评, 中评 or 差评")
    comment: str
    channel: Channel
    created_at: datetime

    @staticmethod
    def resolve_id(obj: Rating) -> UUID:
        return obj.public_id

    @staticmethod
    def resolve_level_label(obj: Rating) -> str:
        return str(obj.get_level_display())

    @staticmethod
    def resolve_grade(obj: Rating) -> str:
        return obj.grade.value


class ReplyOut(Schema):
    status: RectificationStatus
    due_on: date = Field(description="the department answers by the end of this day")
    disposition: str = Field(description="`fixed` 立行立改, `scheduled` 限期整改, `explained`")
    reply: str
    replied_at: datetime | None


class InvitationOut(Schema):
    id: UUID = Field(description="the invitation's public id (rate it with POST …/rating)")
    subject_kind: str = Field(description="what is rated, e.g. `application`")
    subject_id: str = Field(description="the public id of what is rated")
    title: str
    department: str = Field(description="the responsible department")
    channel: Channel = Field(description="where the service was delivered")
    status: InvitationStatus
    created_at: datetime
    rating: RatingOut | None
    rectification: ReplyOut | None = Field(
        description="for a bad review: the department's rectification and its reply"
    )
    link: str = Field(description="the rating page on this platform")

    @staticmethod
    def resolve_id(obj: Invitation) -> UUID:
        return obj.public_id

    @staticmethod
    def resolve_department(obj: Invitation) -> str:
        return obj.department.name

    @staticmethod
    def resolve_rating(obj: Invitation) -> Rating | None:
        return getattr(obj, "rating", None) if obj.status == Invitation.Status.RATED else None

    @staticmethod
    def resolve_rectification(obj: Invitation) -> Rectification | None:
        rating = InvitationOut.resolve_rating(obj)
        return getattr(rating, "rectification", None) if rating else None

    @staticmethod
    def resolve_link(obj: Invitation) -> str:
        return f"/evaluation/{obj.public_id}/"


class InvitationFilters(Schema):
    status: InvitationStatus | None = Field(None, description="`pending` or `rated`")


class RatingIn(Schema):
    level: int = Field(ge=1, le=5, description="5 非常满意 … 1 非常不满意")
    comment: str = Field(
        "", max_length=COMMENT_MAX, description="required for levels 2 and 1 (不满意, 非常不满意)"
    )
    channel: Channel = Field(Channel.MOBILE, description="where the rating is given")


class RectificationOut(Schema):
    id: UUID
    status: RectificationStatus
    overdue: bool = Field(description="open after the end of its due day")
    due_on: date
    due_provisional: bool
    escalated_at: datetime | None
    department: str
    title: str = Field(description="the rated service")
    rater: str = Field(
        description="the rater's name, masked; 来电群众（无账号） for a 12345 caller "
        "without an account"
    )
    real_name: bool = Field(description="实名评价: the rater is identified (to be followed up)")
    level: int
    level_label: str
    comment: str
    rated_at: datetime
    disposition: str
    reply: str
    replied_at: datetime | None
    replied_on_time: bool | None
    follow_up_result: str
    follow_up_note: str
    closed_at: datetime | None

    @staticmethod
    def resolve_id(obj: Rectification) -> UUID:
        return obj.public_id

    @staticmethod
    def resolve_overdue(obj: Rectification) -> bool:
        return rectification_is_overdue(obj)

    @staticmethod
    def resolve_department(obj: Rectification) -> str:
        return obj.department.name

    @staticmethod
    def resolve_title(obj: Rectification) -> str:
        return obj.rating.invitation.title

    @staticmethod
    def resolve_rater(obj: Rectification) -> str:
        rater = obj.rating.invitation.rater
        if rater is None:
            return str(_("来电群众（无账号）"))
        return mask_name(rater.real_name or rater.username)

    @staticmethod
    def resolve_real_name(obj: Rectification) -> bool:
        return obj.rating.real_name

    @staticmethod
    def resolve_level(obj: Rectification) -> int:
        return obj.rating.level

    @staticmethod
    def resolve_level_label(obj: Rectification) -> str:
        return str(obj.rating.get_level_display())

    @staticmethod
    def resolve_comment(obj: Rectification) -> str:
        return obj.rating.comment

    @staticmethod
    def resolve_rated_at(obj: Rectification) -> datetime:
        return obj.rating.created_at


class RectificationFilters(Schema):
    status: RectificationStatus | None = None
    overdue: bool = Field(False, description="`true`: only the open ones past their due day")


class ReplyIn(Schema):
    disposition: Rectification.Disposition
    reply: str = Field(min_length=1, max_length=REPLY_MAX)


class FollowUpIn(Schema):
    result: Rectification.FollowUpResult
    note: str = Field(min_length=1, max_length=FOLLOW_UP_NOTE_MAX)


class LevelCount(Schema):
    level: int
    label: str
    count: int


class StatsOut(Schema):
    id: int = Field(description="the department's or the service item's id")
    code: str = Field(description="the department's code or the item's 实施编码")
    name: str
    total: int
    levels: list[LevelCount]
    satisfaction_rate: Decimal | None = Field(
        description="percent of ratings that are not 差评 (非常满意+满意+基本满意)"
    )
    good_rate: Decimal | None = Field(description="percent 非常满意+满意 (好评)")
    bad: int = Field(description="差评: 不满意 + 非常不满意")
    rectifications: int
    open_overdue: int
    on_time_rate: Decimal | None = Field(
        description="percent of rectifications answered by their due day, among those answered "
        "or already overdue"
    )
    real_name_bad: int = Field(description="实名差评: bad reviews by an identified person")
    real_name_follow_up_rate: Decimal | None = Field(
        description="实名差评回访整改率: percent of real-name bad reviews whose rectification is "
        "closed (answered and followed up)"
    )


class StatsFilters(Schema):
    since: date | None = Field(None, description="first day of ratings counted (city time)")
    until: date | None = Field(None, description="last day of ratings counted (city time)")


def _stats_out(row: RatingStats) -> StatsOut:
    return StatsOut(
        id=row.key,
        code=row.code,
        name=row.label,
        total=row.total,
        levels=[LevelCount(level=lv, label=label, count=n) for lv, label, n in row.levels],
        satisfaction_rate=row.satisfaction_rate,
        good_rate=row.good_rate,
        bad=row.bad,
        rectifications=row.rectifications,
        open_overdue=row.open_overdue,
        on_time_rate=row.on_time_rate,
        real_name_bad=row.real_name_bad,
        real_name_follow_up_rate=row.real_name_follow_up_rate,
    )


def _check_period(filters: StatsFilters) -> None:
    if filters.since and filters.until and filters.since > filters.until:
        raise ValidationError("core.invalid", _("结束日期不能早于开始日期。"), field="until")


# --- the rater -----------------------------------------------------------------------------


@router.get("/me/rating-invitations", response=list[InvitationOut])
@paginate
def my_rating_invitation_list(
    request: HttpRequest, filters: Query[InvitationFilters]
) -> QuerySet[Invitation]:
    """Your rating invitations, those waiting for a rating first, then newest first."""
    return invitation_list(rater=request_user(request), status=filters.status)


@router.post("/me/rating-invitations/{invitation_id}/rating", response={201: InvitationOut})
def my_rating_submit(
    request: HttpRequest, invitation_id: UUID, payload: RatingIn
) -> Status[Invitation]:
    """Rate the service, once. A comment is required for 不满意 and 非常不满意, which open a
    rectification by the responsible department. Anyone else's invitation is a 404; a second
    rating is a 409 (`evaluation.already_rated`)."""
    user = request_user(request)
    invitation = access_invitation_for_rater(user, invitation_id)
    rating_submit(
        actor=user,
        invitation=invitation,
        level=payload.level,
        comment=payload.comment,
        channel=payload.channel,
    )
    return Status(201, access_invitation_for_rater(user, invitation_id))


# --- the rectification desk ----------------------------------------------------------------


@router.get("/evaluation/rectifications", response=list[RectificationOut])
@paginate
def rectification_desk_list(
    request: HttpRequest, filters: Query[RectificationFilters]
) -> QuerySet[Rectification]:
    """Rectifications of your departments (staff) or of those you supervise: open ones first,
    by due date."""
    return rectification_list(
        department_ids=desk_scope(request_user(request)),
        status=filters.status,
        overdue_only=filters.overdue,
        today=city_today(),
    )


@router.post("/evaluation/rectifications/{rectification_id}/reply", response=RectificationOut)
def rectification_desk_reply(
    request: HttpRequest, rectification_id: UUID, payload: ReplyIn
) -> Rectification:
    """Answer the rater (staff of the responsible department). The rater is notified."""
    user = request_user(request)
    desk_scope(user)
    rectification = access_rectification(user, rectification_id)
    rectification_reply(
        actor=user,
        rectification=rectification,
        disposition=payload.disposition.value,
        reply=payload.reply,
    )
    return access_rectification(user, rectification_id)


@router.post("/evaluation/rectifications/{rectification_id}/follow-up", response=RectificationOut)
def rectification_desk_follow_up(
    request: HttpRequest, rectification_id: UUID, payload: FollowUpIn
) -> Rectification:
    """Record the follow-up visit (回访) and close the rectification (supervisors)."""
    user = request_user(request)
    desk_scope(user)
    rectification = access_rectification(user, rectification_id)
    rectification_follow_up(
        actor=user, rectification=rectification, result=payload.result.value, note=payload.note
    )
    return access_rectification(user, rectification_id)


# --- statistics ----------------------------------------------------------------------------


@router.get("/evaluation/stats/departments", response=list[StatsOut])
def rating_stats_departments(request: HttpRequest, filters: Query[StatsFilters]) -> list[StatsOut]:
    """Ratings per department you supervise (those with ratings in the period)."""
    scope = supervisor_scope(request_user(request))
    _check_period(filters)
    rows = rating_stats_by_department(
        department_ids=scope, since=filters.since, until=filters.until
    )
    return [_stats_out(row) for row in rows]


@router.get("/evaluation/stats/items", response=list[StatsOut])
def rating_stats_items(request: HttpRequest, filters: Query[StatsFilters]) -> list[StatsOut]:
    """Ratings per service item of the departments you supervise."""
    scope = supervisor_scope(request_user(request))
    _check_period(filters)
    rows = rating_stats_by_item(department_ids=scope, since=filters.since, until=filters.until)
    return [_stats_out(row) for row in rows]
