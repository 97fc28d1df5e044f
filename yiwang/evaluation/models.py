"""好差评: rating invitations on any service event, the ratings, and the rectification (整改) of
bad reviews. See README.md for the rules; the writes are in services.py."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.accounts.models import Department, User
from yiwang.catalog.models import ServiceItem
from yiwang.core.models import TimeStamped


class Level(models.IntegerChoices):
    """The five levels of 国办发〔2019〕51号, stored as the 5–1 stars most platforms show."""

    VERY_SATISFIED = 5, _("非常满意")
    SATISFIED = 4, _("满意")
    BASIC = 3, _("基本满意")
    DISSATISFIED = 2, _("不满意")
    VERY_DISSATISFIED = 1, _("非常不满意")


# 差评 (a bad review): opens a rectification and needs a comment.
BAD_LEVELS = frozenset({Level.DISSATISFIED.value, Level.VERY_DISSATISFIED.value})
# 好评: 非常满意 and 满意; 中评: 基本满意 (the common local reading of the national levels).
GOOD_LEVELS = frozenset({Level.VERY_SATISFIED.value, Level.SATISFIED.value})


class Grade(models.TextChoices):
    GOOD = "good", _("好评")
    NEUTRAL = "neutral", _("中评")
    BAD = "bad", _("差评")


def grade_of(level: int) -> Grade:
    if level in GOOD_LEVELS:
        return Grade.GOOD
    if level in BAD_LEVELS:
        return Grade.BAD
    return Grade.NEUTRAL


class Channel(models.TextChoices):
    """Where a service was delivered (the invitation) or a rating was given (the rating):
    online 一事一评, on site 一次一评, and the 12345 hotline are all in scope."""

    ONLINE = "online", _("网上办事大厅")
    MOBILE = "mobile", _("移动端")
    WINDOW = "window", _("窗口（现场评价器）")
    TERMINAL = "terminal", _("自助终端")
    HOTLINE = "hotline", _("12345 热线")
    SMS = "sms", _("短信")


# A person without an account can only be reached by phone (an operator's call) or by SMS:
# those are the only channels where a rating may have no rater account.
NO_ACCOUNT_CHANNELS = ("hotline", "sms")


class Invitation(TimeStamped):
    """A request to rate one service event (an application concluded, a work order closed …),
    named by ``subject_kind`` and ``subject_id`` (the subject's public id): one per subject."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待评价")
        RATED = "rated", _("已评价")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    subject_kind = models.CharField(_("评价对象类型"), max_length=32)
    subject_id = models.CharField(_("评价对象编号"), max_length=64)
    # None: a 12345 caller without an account, whose rating an operator or the SMS survey
    # recorded (rating_record); only the hotline and SMS channels reach such a person.
    rater = models.ForeignKey(
        User,
        verbose_name=_("评价人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    principal = models.ForeignKey(
        User,
        verbose_name=_("被代办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    department = models.ForeignKey(
        Department, verbose_name=_("责任单位"), on_delete=models.PROTECT, related_name="+"
    )
    item = models.ForeignKey(
        ServiceItem,
        verbose_name=_("政务服务事项"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    title = models.CharField(_("标题"), max_length=100)
    channel = models.CharField(_("服务渠道"), max_length=16, choices=Channel.choices)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.PENDING
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("评价邀请")
        verbose_name_plural = _("评价邀请")
        constraints = [
            models.UniqueConstraint(
                fields=["subject_kind", "subject_id"], name="evaluation_invitation_one_per_subject"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "rated"]),
                name="evaluation_invitation_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    channel__in=["online", "mobile", "window", "terminal", "hotline", "sms"]
                ),
                name="evaluation_invitation_channel_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(rater__isnull=False) | models.Q(channel__in=NO_ACCOUNT_CHANNELS),
                name="evaluation_invitation_no_account_by_phone_or_sms",
            ),
        ]
        indexes = [models.Index(fields=["rater", "status"], name="evaluation_inv_rater_status")]

    def __str__(self) -> str:
        return f"{self.subject_kind}:{self.subject_id}"


class Rating(TimeStamped):
    """The rating given for one invitation (at most one), by its rater. Never changed."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    invitation = models.OneToOneField(
        Invitation, verbose_name=_("评价邀请"), on_delete=models.PROTECT, related_name="rating"
    )
    level = models.PositiveSmallIntegerField(_("评价等级"), choices=Level.choices)
    comment = models.TextField(_("评价内容"), blank=True)
    channel = models.CharField(_("评价渠道"), max_length=16, choices=Channel.choices)
    # The rater's account; None for a caller without one (see Invitation.rater).
    rated_by = models.ForeignKey(
        User,
        verbose_name=_("评价人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # 实名评价: the person is identified (an account, or a caller who gave a name and a
    # phone number and did not ask to stay anonymous), so a bad review must be followed up.
    # No default: whoever records a rating says which it is.
    real_name = models.BooleanField(_("实名评价"))
    on_behalf_of = models.ForeignKey(
        User,
        verbose_name=_("被代办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("评价")
        verbose_name_plural = _("评价")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level__gte=1, level__lte=5), name="evaluation_rating_level_1_5"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    channel__in=["online", "mobile", "window", "terminal", "hotline", "sms"]
                ),
                name="evaluation_rating_channel_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(rated_by__isnull=False)
                | models.Q(channel__in=NO_ACCOUNT_CHANNELS),
                name="evaluation_rating_no_account_by_phone_or_sms",
            ),
            # An account is a real-name identity: only a caller without one may be anonymous.
            models.CheckConstraint(
                condition=models.Q(rated_by__isnull=True) | models.Q(real_name=True),
                name="evaluation_rating_account_is_real_name",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invitation} {self.get_level_display()}"

    @property
    def grade(self) -> Grade:
        return grade_of(self.level)


class Rectification(TimeStamped):
    """差评整改: a bad rating handed to the responsible department, which replies to the rater
    by ``due_on`` (end of that day, Shanghai); a supervisor then records the follow-up visit
    (回访) and closes it. open → replied → closed."""

    class Status(models.TextChoices):
        OPEN = "open", _("待整改")
        REPLIED = "replied", _("已答复，待回访")
        CLOSED = "closed", _("已办结")

    class Disposition(models.TextChoices):
        """How the department dealt with it (国办发〔2019〕51号: 情况清楚、诉求合理的立行立改；
        情况复杂的限期整改；没有法律依据的作出解释说明)."""

        FIXED = "fixed", _("立行立改")
        SCHEDULED = "scheduled", _("限期整改")
        EXPLAINED = "explained", _("解释说明")

    class FollowUpResult(models.TextChoices):
        SATISFIED = "satisfied", _("满意")
        BASIC = "basic", _("基本满意")
        DISSATISFIED = "dissatisfied", _("不满意")
        UNREACHABLE = "unreachable", _("未能联系上")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    rating = models.OneToOneField(
        Rating, verbose_name=_("差评"), on_delete=models.PROTECT, related_name="rectification"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("整改单位"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default="open")
    due_on = models.DateField(_("整改期限"))
    due_provisional = models.BooleanField(_("期限待定（次年节假日未公布）"), default=False)
    escalated_at = models.DateTimeField(_("超期督办时间"), null=True, blank=True)
    disposition = models.CharField(
        _("处理方式"), max_length=16, choices=Disposition.choices, blank=True
    )
    reply = models.TextField(_("答复内容"), blank=True)
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    replied_by = models.ForeignKey(
        User,
        verbose_name=_("答复人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    replied_on_time = models.BooleanField(_("按期答复"), null=True, blank=True)
    follow_up_result = models.CharField(
        _("回访结果"), max_length=16, choices=FollowUpResult.choices, blank=True
    )
    follow_up_note = models.TextField(_("回访记录"), blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        User,
        verbose_name=_("回访人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("差评整改")
        verbose_name_plural = _("差评整改")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["open", "replied", "closed"]),
                name="evaluation_rectification_status_valid",
            ),
            # A replied or closed rectification carries its reply; an open one has none.
            models.CheckConstraint(
                condition=models.Q(status="open", replied_at__isnull=True)
                | models.Q(
                    status__in=["replied", "closed"],
                    replied_at__isnull=False,
                    replied_on_time__isnull=False,
                ),
                name="evaluation_rectification_reply_matches_status",
            ),
            models.CheckConstraint(
                condition=models.Q(status="closed", closed_at__isnull=False)
                | (~models.Q(status="closed") & models.Q(closed_at__isnull=True)),
                name="evaluation_rectification_closed_matches_status",
            ),
        ]
        indexes = [
            models.Index(fields=["department", "status"], name="evaluation_rect_dept_status"),
        ]

    def __str__(self) -> str:
        return f"{self.rating.invitation} {self.get_status_display()}"
