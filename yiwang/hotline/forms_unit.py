"""Forms of the handling units' and supervisors' order page: shape only. The rules (a reason
of at least five characters, the return time, the reply check) live in the services; their
errors come back onto the field they are about."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from yiwang.accounts.forms import DomainErrorForm
from yiwang.core.errors import DomainError
from yiwang.hotline import errors
from yiwang.hotline.models import WorkOrder

TEXT_MAX = 4000
REPLY_OUTCOMES = [
    (WorkOrder.Outcome.RESOLVED.value, WorkOrder.Outcome.RESOLVED.label),
    (WorkOrder.Outcome.EXPLAINED.value, WorkOrder.Outcome.EXPLAINED.label),
    (WorkOrder.Outcome.NOT_RESOLVABLE.value, WorkOrder.Outcome.NOT_RESOLVABLE.label),
]


def _textarea(label: Any, *, help_text: Any = "", rows: int = 4, required: bool = True) -> Any:
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=required,
        max_length=TEXT_MAX,
        strip=True,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class UnitForm(DomainErrorForm):
    """Puts each problem of a service's error (``extra["problems"]``) on its own field."""

    def add_domain_error(self, error: DomainError) -> None:
        problems = error.extra.get("problems") or []
        if not problems:
            super().add_domain_error(error)
            return
        for problem in problems:
            name = problem.get("field")
            self.add_error(name if name in self.fields else None, problem.get("message", ""))


class SignForm(UnitForm):
    pass


class ReturnRequestForm(UnitForm):
    FIELD_FOR_CODE = {errors.REASON_REQUIRED: "reason"}

    reason = _textarea(
        _("退单理由"),
        help_text=_("写明不属于本单位职责的依据（如“三定”方案条款）及建议的承办单位。"),
    )


class AssistForm(UnitForm):
    FIELD_FOR_CODE = {errors.REASON_REQUIRED: "note"}

    note = _textarea(_("协办意见"), help_text=_("本单位配合办理的情况，主办单位答复时参考。"))


class ExtensionRequestForm(UnitForm):
    FIELD_FOR_CODE = {errors.REASON_REQUIRED: "reason", errors.EXTENSION_USED: "reason"}

    reason = _textarea(_("延期理由"), help_text=_("每个工单只能申请延期一次，须在办结时限前申请。"))


class ExtensionDecideForm(UnitForm):
    DECISIONS = [("approve", _("批准延期")), ("refuse", _("不批准"))]

    decision = forms.ChoiceField(
        label=_("审批意见"),
        choices=DECISIONS,
        widget=forms.RadioSelect(attrs={"class": "choice-list"}),
    )
    note = _textarea(_("审批说明"), rows=3, required=False)


class ReplyForm(UnitForm):
    FIELD_FOR_CODE = {
        errors.OUTCOME_INVALID: "outcome",
        "hotline.action_required": "action",
        errors.REPLY_REFUSED: "text",
    }

    action = _textarea(
        _("办理情况"),
        help_text=_("本单位做了什么、何时做的，例如“11月27日派员到现场更换线路”。"),
        rows=3,
    )
    text = _textarea(
        _("答复内容"),
        help_text=_(
            "直接回应群众的诉求，写明结果；不能解决的须说明原因和依据。群众会收到这段答复。"
        ),
        rows=6,
    )
    outcome = forms.ChoiceField(
        label=_("办理结果"),
        choices=REPLY_OUTCOMES,
        widget=forms.RadioSelect(attrs={"class": "choice-list"}),
    )


class CloseForm(UnitForm):
    FIELD_FOR_CODE = {errors.OUTCOME_INVALID: "outcome", errors.REASON_REQUIRED: "note"}

    outcome = forms.ChoiceField(
        label=_("办结结果"),
        choices=REPLY_OUTCOMES,
        widget=forms.RadioSelect(attrs={"class": "choice-list"}),
    )
    note = _textarea(_("办结说明"), help_text=_("督办的经过和结论（至少 5 个字）。"))


class InboxFilterForm(forms.Form):
    STATUSES = [
        ("", _("全部")),
        (WorkOrder.Status.DISPATCHED.value, WorkOrder.Status.DISPATCHED.label),
        (WorkOrder.Status.HANDLING.value, WorkOrder.Status.HANDLING.label),
        (WorkOrder.Status.RETURN_REQUESTED.value, WorkOrder.Status.RETURN_REQUESTED.label),
    ]

    status = forms.ChoiceField(label=_("状态"), choices=STATUSES, required=False)
    overdue = forms.BooleanField(label=_("只看已超时"), required=False)
