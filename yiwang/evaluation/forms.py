"""Forms of the evaluation pages: shape only. The rules (a comment for a bad review, one rating
per invitation, who may reply) are in the services; their errors come back onto the field
they are about through ``add_domain_error``."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from yiwang.accounts.forms import DomainErrorForm
from yiwang.evaluation import errors
from yiwang.evaluation.models import Level, Rectification
from yiwang.evaluation.selectors import LEVELS_HIGH_TO_LOW
from yiwang.evaluation.services import COMMENT_MAX, FOLLOW_UP_NOTE_MAX, REPLY_MAX

LEVEL_HINTS = {
    5: _("服务很好，超出期待"),
    4: _("服务好，顺利办成"),
    3: _("办成了，但有不便"),
    2: _("有问题，需要改进"),
    1: _("问题严重，必须整改"),
}


class RatingForm(DomainErrorForm):
    FIELD_FOR_CODE = {
        errors.LEVEL_INVALID: "level",
        errors.COMMENT_REQUIRED: "comment",
        errors.COMMENT_TOO_LONG: "comment",
    }

    level = forms.TypedChoiceField(
        label=_("您对这次服务满意吗？"),
        coerce=int,
        choices=[(lv, Level(lv).label) for lv in LEVELS_HIGH_TO_LOW],
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择一个评价等级。")},
    )
    comment = forms.CharField(
        label=_("评价内容"),
        help_text=_("选择“不满意”或“非常不满意”时必填，请写明原因。最多 %(n)d 字。")
        % {"n": COMMENT_MAX},
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ReplyForm(DomainErrorForm):
    FIELD_FOR_CODE = {
        errors.DISPOSITION_INVALID: "disposition",
        errors.REPLY_INVALID: "reply",
    }

    disposition = forms.ChoiceField(
        label=_("处理方式"),
        choices=Rectification.Disposition.choices,
        widget=forms.RadioSelect(attrs={"class": "choice-list"}),
        error_messages={"required": _("请选择处理方式。")},
    )
    reply = forms.CharField(
        label=_("答复群众"),
        help_text=_("说明核实的情况、已采取或将采取的整改措施。答复会发送给评价人。"),
        max_length=REPLY_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("请填写答复内容。")},
    )


class FollowUpForm(DomainErrorForm):
    FIELD_FOR_CODE = {
        errors.FOLLOW_UP_RESULT_INVALID: "result",
        errors.FOLLOW_UP_NOTE_INVALID: "note",
    }

    result = forms.ChoiceField(
        label=_("回访结果：评价人对整改是否满意"),
        choices=Rectification.FollowUpResult.choices,
        widget=forms.RadioSelect(attrs={"class": "choice-list"}),
        error_messages={"required": _("请选择回访结果。")},
    )
    note = forms.CharField(
        label=_("回访记录"),
        help_text=_("回访的时间、方式和评价人的意见。"),
        max_length=FOLLOW_UP_NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("请填写回访记录。")},
    )


class StatsFilterForm(forms.Form):
    since = forms.DateField(
        label=_("评价日期从"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("至"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("结束日期不能早于开始日期。"))
        return data
