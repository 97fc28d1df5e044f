"""Writes of the evaluation app (好差评). Every function is atomic, checks its input before it
touches a row, locks the row whose state it changes, and writes its audit row in the same
transaction; notifications go through ``notify`` in that transaction. A refused request
changes nothing and leaves no audit row.

Other apps call ``rating_invite`` when a service event ends (an application concluded, a work
order closed), inside their own transaction, or ``rating_record`` when the rating was already
given to them (a 12345 return visit by phone, SMS or online); the rest is driven by the
evaluation pages and API.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from yiwang.accounts.models import Department, User
from yiwang.accounts.selectors import delegation_list
from yiwang.catalog.models import ServiceItem
from yiwang.core.audit import audit_record
from yiwang.core.calendar import work_calendar_load
from yiwang.core.errors import Conflict, PermissionDenied, ValidationError
from yiwang.evaluation import errors
from yiwang.evaluation.models import (
    BAD_LEVELS,
    NO_ACCOUNT_CHANNELS,
    Channel,
    Invitation,
    Level,
    Rating,
    Rectification,
)
from yiwang.evaluation.selectors import (
    RECTIFIER_ROLES,
    SUPERVISOR_ROLE,
    city_today,
    department_people_with_roles,
    rectifier_department_ids,
    supervised_department_ids,
)
from yiwang.notifications.services import notify

SYSTEM_ACTOR = "system:evaluation"

SUBJECT_KIND_RE = re.compile(r"[a-z][a-z0-9_]{0,31}")
SUBJECT_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
TITLE_MAX = 100
COMMENT_MAX = 500
REPLY_MIN = 5
REPLY_MAX = 2000
FOLLOW_UP_NOTE_MAX = 1000
RATER_KINDS = (User.Kind.CITIZEN, User.Kind.ENTERPRISE)


def rectification_working_days() -> int:
    """Working days a department has to answer a bad review (YIWANG_RECTIFICATION_DAYS)."""
    return int(getattr(settings, "YIWANG_RECTIFICATION_DAYS", 5))


# --- snapshots for the audit trail -------------------------------------------------------


def _invitation_snapshot(i: Invitation) -> dict[str, Any]:
    return {
        "subject_kind": i.subject_kind,
        "subject_id": i.subject_id,
        "rater_id": i.rater_id,
        "principal_id": i.principal_id,
        "department_id": i.department_id,
        "item_id": i.item_id,
        "title": i.title,
        "channel": i.channel,
        "status": i.status,
    }


def _rating_snapshot(r: Rating) -> dict[str, Any]:
    return {
        "invitation": str(r.invitation.public_id),
        "level": r.level,
        "comment": r.comment,
        "channel": r.channel,
        "rated_by_id": r.rated_by_id,
        "real_name": r.real_name,
    }


def _rectification_snapshot(r: Rectification) -> dict[str, Any]:
    return {
        "status": r.status,
        "department_id": r.department_id,
        "due_on": r.due_on.isoformat(),
        "due_provisional": r.due_provisional,
        "escalated_at": r.escalated_at.isoformat() if r.escalated_at else None,
        "disposition": r.disposition,
        "reply": r.reply,
        "replied_on_time": r.replied_on_time,
        "follow_up_result": r.follow_up_result,
        "follow_up_note": r.follow_up_note,
    }


# --- helpers -----------------------------------------------------------------------------


def _principal_for_notice(rater: User, principal: User | None) -> User | None:
    """The principal to name in a notification to ``rater``, if the delegation still holds
    (notify refuses a principal without one, and a lapsed delegation must not make the
    caller's whole step fail)."""
    if principal is None:
        return None
    active = delegation_list(user=rater, role="held", status="active")
    return principal if active.filter(principal=principal).exists() else None


def _rate_link(invitation: Invitation) -> str:
    return reverse("evaluation:rate", kwargs={"public_id": invitation.public_id})


def _rectification_link(rectification: Rectification) -> str:
    return reverse("evaluation:rectification", kwargs={"public_id": rectification.public_id})


def _check_invitation_input(
    *,
    subject_kind: str,
    subject_id: str,
    rater: User | None,
    principal: User | None,
    title: str,
    channel: str,
) -> str:
    if not isinstance(subject_kind, str) or not SUBJECT_KIND_RE.fullmatch(subject_kind):
        raise ValidationError(
            errors.SUBJECT_INVALID,
            _("评价对象类型应为小写英文字母开头的代码，例如 application。"),
        )
    if not isinstance(subject_id, str) or not SUBJECT_ID_RE.fullmatch(subject_id):
        raise ValidationError(
            errors.SUBJECT_INVALID, _("评价对象编号不能为空，且只能包含字母、数字和 .:_-。")
        )
    title = (title or "").strip()
    if not title or len(title) > TITLE_MAX:
        raise ValidationError(
            errors.TITLE_INVALID, _("评价标题不能为空，且不超过 %(n)d 个字。") % {"n": TITLE_MAX}
        )
    if channel not in Channel.values:
        raise ValidationError(
            errors.CHANNEL_INVALID,
            _("未知的服务渠道：%(c)s（可选：%(ok)s）")
            % {"c": channel, "ok": "、".join(Channel.values)},
        )
    if rater is None:
        if channel not in NO_ACCOUNT_CHANNELS:
            raise ValidationError(
                errors.RATER_INVALID, _("没有账号的群众只能通过 12345 热线或短信评价。")
            )
    elif not rater.is_active or rater.kind not in RATER_KINDS:
        raise ValidationError(errors.RATER_INVALID, _("评价人必须是办事的群众或企业用户。"))
    if principal is not None and (
        rater is None or principal.pk == rater.pk or principal.kind not in RATER_KINDS
    ):
        raise ValidationError(errors.RATER_INVALID, _("被代办人必须是评价人以外的群众或企业用户。"))
    return title


# --- invitations ---------------------------------------------------------------------------


@transaction.atomic
def rating_invite(
    *,
    subject_kind: str,
    subject_id: str,
    rater: User,
    department: Department,
    item: ServiceItem | None = None,
    title: str,
    channel: str,
    principal: User | None = None,
    actor: Any = None,
) -> Invitation:
    """Invite ``rater`` to rate the service event ``subject_kind``/``subject_id`` delivered by
    ``department``, and tell them in-app with a link to the rating page.

    Idempotent per subject: a second call returns the first invitation unchanged (and
    notifies nobody); one naming another rater or department is a Conflict. ``principal`` is
    the person the rater acted for under a delegation (代办). ``actor`` is whoever caused the
    event (a user or a system label); it defaults to ``"system:evaluation"``. Runs in the
    caller's transaction when there is one."""
    if rater is None:  # only rating_record takes a rating from someone without an account
        raise ValidationError(errors.RATER_INVALID, _("评价邀请必须发给群众或企业的账号。"))
    title = _check_invitation_input(
        subject_kind=subject_kind,
        subject_id=subject_id,
        rater=rater,
        principal=principal,
        title=title,
        channel=channel,
    )
    existing = Invitation.objects.filter(subject_kind=subject_kind, subject_id=subject_id).first()
    if existing is None:
        try:
            with transaction.atomic():
                invitation = Invitation.objects.create(
                    subject_kind=subject_kind,
                    subject_id=subject_id,
                    rater=rater,
                    principal=principal,
                    department=department,
                    item=item,
                    title=title,
                    channel=channel,
                )
        except IntegrityError:
            # Another transaction invited for the same subject first.
            existing = Invitation.objects.get(subject_kind=subject_kind, subject_id=subject_id)
    if existing is not None:
        if existing.rater_id != rater.pk or existing.department_id != department.pk:
            raise Conflict(
                errors.INVITATION_MISMATCH,
                _("该事项已邀请评价，但评价人或责任单位与本次不同。"),
            )
        return existing
    actor = actor or SYSTEM_ACTOR
    audit_record(
        actor=actor,
        action="evaluation.invite",
        obj=invitation,
        on_behalf_of=principal,
        after=_invitation_snapshot(invitation),
    )
    notify(
        recipient=rater,
        event="evaluation.invited",
        title=gettext("请您评价：%(title)s") % {"title": title},
        body=gettext(
            "您办理的事项已办结。请对本次服务作出评价（非常满意、满意、基本满意、不满意、"
            "非常不满意），您的意见会督促我们改进。"
        ),
        link=_rate_link(invitation),
        channels=(),
        actor=actor,
        principal=_principal_for_notice(rater, principal),
    )
    return invitation


# --- ratings -------------------------------------------------------------------------------


def _check_level(level: Any) -> int:
    """An int 1–5, or its decimal string (from a form); nothing else (no 4.5, no True)."""
    value = 0
    if isinstance(level, int) and not isinstance(level, bool):
        value = level
    elif isinstance(level, str) and level.strip().isdecimal():
        value = int(level.strip())
    if value not in Level.values:
        raise ValidationError(
            errors.LEVEL_INVALID,
            _("请选择评价等级：非常满意、满意、基本满意、不满意或非常不满意。"),
        )
    return value


def _check_comment(level: int, comment: str | None) -> str:
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise ValidationError(
            errors.COMMENT_TOO_LONG, _("评价内容不能超过 %(n)d 个字。") % {"n": COMMENT_MAX}
        )
    if level in BAD_LEVELS and not comment:
        raise ValidationError(
            errors.COMMENT_REQUIRED,
            _("选择“不满意”或“非常不满意”时，请写下不满意的原因，以便责任单位整改。"),
        )
    return comment


@transaction.atomic
def rating_submit(
    *,
    actor: User,
    invitation: Invitation,
    level: int,
    comment: str = "",
    channel: str = Channel.ONLINE,
) -> Rating:
    """The rater rates the service: one rating per invitation, by its rater only. A comment
    is required for 不满意 and 非常不满意, which open a rectification for the responsible
    department due in YIWANG_RECTIFICATION_DAYS working days."""
    value = _check_level(level)
    comment = _check_comment(value, comment)
    if channel not in Channel.values:
        raise ValidationError(errors.CHANNEL_INVALID, _("未知的评价渠道：%(c)s") % {"c": channel})
    if invitation.rater_id != actor.pk:
        raise PermissionDenied(errors.NOT_RATER, _("只有办事人本人可以评价这次服务。"))
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if locked.status != Invitation.Status.PENDING:
        raise Conflict(errors.ALREADY_RATED, _("您已经评价过这次服务，每次服务只能评价一次。"))
    locked.status = Invitation.Status.RATED
    locked.save(update_fields=["status", "updated_at"])
    rating = _rating_create(
        invitation=locked,
        level=value,
        comment=comment,
        channel=channel,
        real_name=True,  # an account holder, the invitation's rater (checked above)
        actor=actor,
    )
    invitation.status = locked.status
    return rating


@transaction.atomic
def rating_record(
    *,
    subject_kind: str,
    subject_id: str,
    department: Department,
    title: str,
    channel: str,
    level: int,
    comment: str,
    rater: User | None,
    recorded_by: Any,
    real_name: bool,
    item: ServiceItem | None = None,
) -> Rating:
    """Record in one step a rating that was given to someone else: a 12345 operator's return
    call, an SMS survey answer, an online answer taken by another app. The invitation is
    created already rated, with the rating; a 差评 opens a rectification exactly as
    ``rating_submit`` does, and needs a comment as there.

    ``rater`` is the person's account, or None for a caller without one (channels ``hotline``
    and ``sms`` only). ``real_name`` says whether the person is identified: always True with
    an account; for a caller without one, the recording app decides (the hotline: a name and
    a phone number recorded, and no request for confidentiality). ``recorded_by`` is who
    entered it (an operator, the citizen, a system label); it is the audit rows' actor.

    One rating per subject (一事一评): a second call with the same rater, department, level,
    comment, channel and ``real_name`` returns the first rating unchanged (a retried SMS
    reply), anything else is a Conflict (``evaluation.already_rated``; another rater or
    department: ``evaluation.invitation_mismatch``). A subject with a pending invitation for
    the same rater and department has that invitation rated. Runs in the caller's
    transaction when there is one."""
    title = _check_invitation_input(
        subject_kind=subject_kind,
        subject_id=subject_id,
        rater=rater,
        principal=None,
        title=title,
        channel=channel,
    )
    value = _check_level(level)
    comment = _check_comment(value, comment)
    if not isinstance(real_name, bool) or (rater is not None and not real_name):
        raise ValidationError(
            errors.REAL_NAME_INVALID, _("有账号的评价人均为实名评价；实名标记应为是或否。")
        )
    actor = recorded_by or SYSTEM_ACTOR
    rater_id = rater.pk if rater is not None else None
    invitation = (
        Invitation.objects.select_for_update()
        .filter(subject_kind=subject_kind, subject_id=subject_id)
        .first()
    )
    if invitation is None:
        try:
            with transaction.atomic():
                invitation = Invitation.objects.create(
                    subject_kind=subject_kind,
                    subject_id=subject_id,
                    rater=rater,
                    department=department,
                    item=item,
                    title=title,
                    channel=channel,
                    status=Invitation.Status.RATED,
                )
        except IntegrityError:
            # Another transaction recorded or invited for the same subject first.
            invitation = Invitation.objects.select_for_update().get(
                subject_kind=subject_kind, subject_id=subject_id
            )
        else:
            audit_record(
                actor=actor,
                action="evaluation.invite",
                obj=invitation,
                after=_invitation_snapshot(invitation),
            )
            return _rating_create(
                invitation=invitation,
                level=value,
                comment=comment,
                channel=channel,
                real_name=real_name,
                actor=actor,
            )
    if invitation.rater_id != rater_id or invitation.department_id != department.pk:
        raise Conflict(
            errors.INVITATION_MISMATCH,
            _("该事项已有评价邀请或评价，但评价人或责任单位与本次不同。"),
        )
    if invitation.status != Invitation.Status.PENDING:
        rating = Rating.objects.get(invitation=invitation)
        if (rating.level, rating.comment, rating.channel, rating.real_name) == (
            value,
            comment,
            channel,
            real_name,
        ):
            return rating
        raise Conflict(errors.ALREADY_RATED, _("这次服务已经评价过，每次服务只能评价一次。"))
    invitation.status = Invitation.Status.RATED
    invitation.save(update_fields=["status", "updated_at"])
    return _rating_create(
        invitation=invitation,
        level=value,
        comment=comment,
        channel=channel,
        real_name=real_name,
        actor=actor,
    )


def _rating_create(
    *,
    invitation: Invitation,
    level: int,
    comment: str,
    channel: str,
    real_name: bool,
    actor: Any,
) -> Rating:
    """The rating of a locked, rated ``invitation`` by its rater, its audit row, and the
    rectification of a 差评."""
    rating = Rating.objects.create(
        invitation=invitation,
        level=level,
        comment=comment,
        channel=channel,
        rated_by_id=invitation.rater_id,
        real_name=real_name,
        on_behalf_of_id=invitation.principal_id,
    )
    audit_record(
        actor=actor,
        action="evaluation.rate",
        obj=rating,
        on_behalf_of=invitation.principal,
        after=_rating_snapshot(rating),
    )
    if level in BAD_LEVELS:
        _rectification_open(rating=rating, actor=actor)
    return rating


def _rectification_open(*, rating: Rating, actor: Any) -> Rectification:
    invitation = rating.invitation
    deadline = work_calendar_load().add_working_days(
        rating.created_at, rectification_working_days()
    )
    rectification = Rectification.objects.create(
        rating=rating,
        department_id=invitation.department_id,
        due_on=deadline.due,
        due_provisional=deadline.provisional,
    )
    audit_record(
        actor=actor,
        action="evaluation.rectification_open",
        obj=rectification,
        on_behalf_of=invitation.principal,
        after=_rectification_snapshot(rectification),
    )
    for person in department_people_with_roles(invitation.department, RECTIFIER_ROLES):
        notify(
            recipient=person,
            event="evaluation.rectification_opened",
            title=gettext("收到差评，请在 %(due)s 前整改答复") % {"due": deadline.due},
            body=gettext("“%(title)s”收到“%(level)s”评价：%(comment)s")
            % {
                "title": invitation.title,
                "level": rating.get_level_display(),
                "comment": rating.comment,
            },
            link=_rectification_link(rectification),
            channels=(),
            actor=actor,
        )
    return rectification


# --- rectification -------------------------------------------------------------------------


@transaction.atomic
def rectification_reply(
    *, actor: User, rectification: Rectification, disposition: str, reply: str
) -> Rectification:
    """Staff of the responsible department answer the rater: how it was dealt with
    (立行立改, 限期整改 or 解释说明) and what they say. The rater is notified (in-app and SMS).
    Replying after the due day is allowed and recorded as late."""
    if disposition not in Rectification.Disposition.values:
        raise ValidationError(
            errors.DISPOSITION_INVALID, _("请选择处理方式：立行立改、限期整改或解释说明。")
        )
    reply = (reply or "").strip()
    if not REPLY_MIN <= len(reply) <= REPLY_MAX:
        raise ValidationError(
            errors.REPLY_INVALID,
            _("答复内容应为 %(min)d 到 %(max)d 个字，说明核实情况和整改措施。")
            % {"min": REPLY_MIN, "max": REPLY_MAX},
        )
    if rectification.department_id not in rectifier_department_ids(actor):
        raise PermissionDenied(errors.NOT_RECTIFIER, _("只有责任单位的工作人员可以答复整改。"))
    locked = Rectification.objects.select_for_update().get(pk=rectification.pk)
    if locked.status != Rectification.Status.OPEN:
        raise Conflict(
            errors.RECTIFICATION_STATE,
            _("该整改已经答复（状态：%(s)s），不能再次答复。") % {"s": locked.get_status_display()},
        )
    before = _rectification_snapshot(locked)
    now = timezone.now()
    locked.status = Rectification.Status.REPLIED
    locked.disposition = disposition
    locked.reply = reply
    locked.replied_at = now
    locked.replied_by = actor
    locked.replied_on_time = city_today(now) <= locked.due_on
    locked.save(
        update_fields=[
            "status",
            "disposition",
            "reply",
            "replied_at",
            "replied_by",
            "replied_on_time",
            "updated_at",
        ]
    )
    invitation = Invitation.objects.select_related("rater", "principal").get(
        rating__rectification=locked
    )
    audit_record(
        actor=actor,
        action="evaluation.rectification_reply",
        obj=locked,
        on_behalf_of=invitation.principal,
        before=before,
        after=_rectification_snapshot(locked),
    )
    # A caller without an account hears the answer in the supervisor's follow-up call: this
    # app keeps no phone numbers.
    if invitation.rater is not None:
        notify(
            recipient=invitation.rater,
            event="evaluation.rectification_replied",
            title=gettext("您的评价已收到答复：%(title)s") % {"title": invitation.title},
            body=gettext("%(department)s（%(disposition)s）：%(reply)s")
            % {
                "department": locked.department.name,
                "disposition": locked.get_disposition_display(),
                "reply": reply,
            },
            link=_rate_link(invitation),
            channels=("sms",),
            actor=actor,
            principal=_principal_for_notice(invitation.rater, invitation.principal),
        )
    _copy_state(rectification, locked)
    return locked


@transaction.atomic
def rectification_follow_up(
    *, actor: User, rectification: Rectification, result: str, note: str
) -> Rectification:
    """A supervisor records the follow-up visit (回访) with the rater after the department's
    reply, and closes the rectification."""
    if result not in Rectification.FollowUpResult.values:
        raise ValidationError(
            errors.FOLLOW_UP_RESULT_INVALID,
            _("请选择回访结果：满意、基本满意、不满意或未能联系上。"),
        )
    note = (note or "").strip()
    if not note or len(note) > FOLLOW_UP_NOTE_MAX:
        raise ValidationError(
            errors.FOLLOW_UP_NOTE_INVALID,
            _("请填写回访记录（不超过 %(n)d 个字）。") % {"n": FOLLOW_UP_NOTE_MAX},
        )
    if rectification.department_id not in supervised_department_ids(actor):
        raise PermissionDenied(errors.NOT_SUPERVISOR, _("只有督办人员可以登记回访。"))
    locked = Rectification.objects.select_for_update().get(pk=rectification.pk)
    if locked.status != Rectification.Status.REPLIED:
        raise Conflict(
            errors.RECTIFICATION_STATE,
            _("只能对已答复的整改登记回访（当前状态：%(s)s）。")
            % {"s": locked.get_status_display()},
        )
    before = _rectification_snapshot(locked)
    locked.status = Rectification.Status.CLOSED
    locked.follow_up_result = result
    locked.follow_up_note = note
    locked.closed_at = timezone.now()
    locked.closed_by = actor
    locked.save(
        update_fields=[
            "status",
            "follow_up_result",
            "follow_up_note",
            "closed_at",
            "closed_by",
            "updated_at",
        ]
    )
    audit_record(
        actor=actor,
        action="evaluation.rectification_follow_up",
        obj=locked,
        before=before,
        after=_rectification_snapshot(locked),
    )
    _copy_state(rectification, locked)
    return locked


def _copy_state(target: Rectification, source: Rectification) -> None:
    """Keep the caller's instance in step with the row (it may be reused after the call)."""
    for name in (
        "status",
        "disposition",
        "reply",
        "replied_at",
        "replied_by_id",
        "replied_on_time",
        "follow_up_result",
        "follow_up_note",
        "closed_at",
        "closed_by_id",
        "escalated_at",
    ):
        setattr(target, name, getattr(source, name))


def rectifications_escalate_overdue(*, now: datetime | None = None) -> int:
    """The periodic job: each open rectification past its due day that has not been escalated
    yet is flagged (``escalated_at``) and its department's supervisors are told. One
    transaction per rectification, so one failure does not hold back the others. Returns how
    many were escalated by this run."""
    now = now or timezone.now()
    today = city_today(now)
    candidates = list(
        Rectification.objects.filter(
            status=Rectification.Status.OPEN, due_on__lt=today, escalated_at__isnull=True
        ).values_list("pk", flat=True)
    )
    escalated = 0
    for pk in candidates:
        with transaction.atomic():
            locked = (
                Rectification.objects.select_for_update()
                .filter(
                    pk=pk,
                    status=Rectification.Status.OPEN,
                    due_on__lt=today,
                    escalated_at__isnull=True,
                )
                .first()
            )
            if locked is None:  # answered or escalated meanwhile
                continue
            before = _rectification_snapshot(locked)
            locked.escalated_at = now
            locked.save(update_fields=["escalated_at", "updated_at"])
            audit_record(
                actor=SYSTEM_ACTOR,
                action="evaluation.rectification_escalate",
                obj=locked,
                reason=f"overdue since {locked.due_on.isoformat()}",
                before=before,
                after=_rectification_snapshot(locked),
            )
            department = locked.department
            title = Invitation.objects.filter(rating__rectification=locked).values_list(
                "title", flat=True
            )[0]
            for person in department_people_with_roles(department, (SUPERVISOR_ROLE,)):
                notify(
                    recipient=person,
                    event="evaluation.rectification_overdue",
                    title=gettext("差评整改超期：%(department)s") % {"department": department.name},
                    body=gettext("“%(title)s”的差评整改期限为 %(due)s，至今未答复，请督办。")
                    % {"title": title, "due": locked.due_on},
                    link=_rectification_link(locked),
                    channels=(),
                    actor=SYSTEM_ACTOR,
                )
            escalated += 1
    return escalated
