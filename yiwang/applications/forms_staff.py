"""Forms of the staff console pages (受理台, 待办任务, 出件): shape only. The rules (which
materials may be tolerated, a reason for every refusal, the tracking number of a post) are in
the services; their errors come back onto the field they are about."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from yiwang.accounts.forms import DomainErrorForm
from yiwang.applications import errors
from yiwang.applications.models import Application, Pause, Task
from yiwang.core.errors import DomainError

TEXT_MAX = 2000


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _textarea(label: Any, *, help_text: Any = "", required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=required,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class StaffForm(DomainErrorForm):
    """Puts each problem of an ``applications.invalid`` error on its own field."""

    def add_domain_error(self, error: DomainError) -> None:
        problems = error.extra.get("problems") or []
        if not problems:
            super().add_domain_error(error)
            return
        for problem in problems:
            name = problem.get("field")
            self.add_error(name if name in self.fields else None, problem.get("message", ""))


class AcceptForm(StaffForm):
    tolerated = forms.TypedMultipleChoiceField(
        label=_("容缺受理的材料"),
        help_text=_("申请人尚未提交、承诺以后补交的非主要材料；没有可不选。"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "choice-list"}),
    )
    promised_due = forms.DateField(
        label=_("约定补交日期"),
        help_text=_("容缺受理时必填。"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    note = forms.CharField(label=_("受理备注"), required=False, max_length=TEXT_MAX)

    def __init__(self, *args: Any, tolerable: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.TypedMultipleChoiceField, self.fields["tolerated"]).choices = tolerable
        if not tolerable:
            del self.fields["tolerated"]
            del self.fields["promised_due"]


class RefuseForm(StaffForm):
    FIELD_FOR_CODE = {errors.REASON_REQUIRED: "reasons"}

    reasons = _textarea(_("不予受理理由"), help_text=_("每行一条理由，申请人会收到全部理由。"))

    def reason_list(self) -> list[str]:
        return _lines(self.cleaned_data["reasons"])


class SupplementForm(StaffForm):
    FIELD_FOR_CODE = {errors.REASON_REQUIRED: "items", errors.INVALID: "items"}

    items = _textarea(
        _("需要补正的事项"),
        help_text=_("每行一项，一次性告知全部需要补正的材料或内容。"),
    )

    def item_list(self) -> list[str]:
        return _lines(self.cleaned_data["items"])


class CompleteForm(StaffForm):
    FIELD_FOR_CODE = {errors.REASON_REQUIRED: "opinion", errors.INVALID: "outcome"}

    outcome = forms.ChoiceField(
        label=_("审批结果"),
        choices=[(Task.Outcome.APPROVE, _("同意")), (Task.Outcome.REFUSE, _("不同意"))],
        widget=forms.RadioSelect(attrs={"class": "choice-list"}),
        error_messages={"required": _("请选择同意或不同意。")},
    )
    opinion = _textarea(_("办理意见"))


class SpecialStartForm(StaffForm):
    FIELD_FOR_CODE = {errors.REASON_REQUIRED: "reason", errors.INVALID: "kind"}

    kind = forms.ChoiceField(
        label=_("特别程序种类"),
        choices=[(k, label) for k, label in Pause.Kind.choices if k != Pause.Kind.SUPPLEMENT],
    )
    reason = _textarea(_("理由或依据"))


class SpecialEndForm(StaffForm):
    FIELD_FOR_CODE = {errors.REASON_REQUIRED: "result"}

    result = _textarea(_("特别程序结果"))


class ConcludeForm(StaffForm):
    note = forms.CharField(label=_("办结说明"), required=False, max_length=TEXT_MAX)


class IssueForm(StaffForm):
    delivery_method = forms.ChoiceField(
        label=_("送达方式"),
        choices=[
            (Application.Delivery.WINDOW, Application.Delivery.WINDOW.label),
            (Application.Delivery.POST, Application.Delivery.POST.label),
            (Application.Delivery.ELECTRONIC, Application.Delivery.ELECTRONIC.label),
        ],
        widget=forms.RadioSelect(attrs={"class": "choice-list"}),
        error_messages={"required": _("请选择送达方式。")},
    )
    tracking_number = forms.CharField(
        label=_("快递单号"), help_text=_("邮寄送达时必填。"), required=False, max_length=40
    )
    address = forms.CharField(
        label=_("邮寄地址"), help_text=_("邮寄送达时必填。"), required=False, max_length=300
    )
