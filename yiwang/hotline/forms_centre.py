"""Forms of the 12345 centre's pages (operator console, dispatch, return visits): shape only.
The rules (a phone or an account to answer, a location inside the city, a reason for every
refusal, a comment when the caller is unsatisfied) are in the services; their problems come
back onto the field they are about (``add_domain_error``)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from yiwang.accounts.forms import DomainErrorForm
from yiwang.accounts.models import Department
from yiwang.core.errors import DomainError
from yiwang.hotline import errors
from yiwang.hotline.location import COUNTIES
from yiwang.hotline.models import Category, Urgency, WorkOrder
from yiwang.hotline.selectors import category_leaves

TEXT_MAX = 2000
CONTENT_MAX = 4000

# The national five levels of satisfaction (好差评 / 12345 回访).
SATISFACTION_CHOICES = [
    ("5", _("非常满意")),
    ("4", _("满意")),
    ("3", _("基本满意")),
    ("2", _("不满意")),
    ("1", _("非常不满意")),
]
EMERGENCY_NUMBERS = [
    ("119", _("119 消防救援（火灾、燃气泄漏）")),
    ("110", _("110 公安（违法犯罪、暴力）")),
    ("120", _("120 急救（伤病）")),
    ("122", _("122 交通事故")),
]
OUTCOME_CHOICES = [
    ("explained", _("已解释说明")),
    ("resolved", _("已解决")),
    ("not_resolvable", _("暂不能解决")),
]


def category_choices() -> list[tuple[str, Any]]:
    """The active leaves of the category tree grouped by their level-1 / level-2 names
    (a select with optgroups: the operator types to jump, the group says where it sits)."""
    leaves = category_leaves().select_related("parent", "parent__parent")
    groups: dict[str, list[tuple[str, str]]] = {}
    for leaf in leaves.order_by(
        "parent__parent__sort_order", "parent__sort_order", "sort_order", "code"
    ):
        names = [p.name for p in (leaf.parent.parent if leaf.parent else None, leaf.parent) if p]
        groups.setdefault(" / ".join(names) or str(_("其他")), []).append((leaf.code, leaf.name))
    return [("", _("（未选：由系统建议或派单员确定）")), *groups.items()]


def division_choices() -> list[tuple[str, Any]]:
    return [("", _("（不选：按地址识别）")), *((c.code, c.name) for c in COUNTIES)]


def units() -> Any:
    """Departments a dispatcher may route to (every active unit above the community level)."""
    return Department.objects.filter(active=True).exclude(kind=Department.Kind.COMMUNITY)


class CentreForm(DomainErrorForm):
    """Puts each problem of a ``hotline.invalid`` error on its own field; ``FIELD_FOR_PROBLEM``
    renames the service's field names to the form's."""

    FIELD_FOR_PROBLEM: dict[str, str] = {}

    def add_domain_error(self, error: DomainError) -> None:
        problems = error.extra.get("problems") or []
        if not problems:
            super().add_domain_error(error)
            return
        for problem in problems:
            name = str(problem.get("field", ""))
            name = self.FIELD_FOR_PROBLEM.get(name, name)
            self.add_error(name if name in self.fields else None, problem.get("message", ""))


class IntakeForm(CentreForm):
    """The operator's form: one call, in the order the caller tells it."""

    FIELD_FOR_PROBLEM = {"location": "address", "title": "content"}
    FIELD_FOR_CODE = {errors.CATEGORY_UNKNOWN: "category"}

    caller_phone = forms.CharField(
        label=_("来电号码"),
        max_length=20,
        required=False,
        help_text=_("手机或固话，如 13800000000、0564-3370000"),
        widget=forms.TextInput(
            attrs={
                "type": "tel",
                "autocomplete": "off",
                "autofocus": True,
                "accesskey": "p",
                "inputmode": "tel",
            }
        ),
    )
    callback_requested = forms.BooleanField(
        label=_("需回电"), required=False, initial=True, widget=forms.CheckboxInput()
    )
    caller_name = forms.CharField(
        label=_("来电人姓名"),
        max_length=50,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "accesskey": "n"}),
    )
    content = forms.CharField(
        label=_("诉求内容"),
        max_length=CONTENT_MAX,
        help_text=_("记录来电人所说的事情、时间和诉求"),
        widget=forms.Textarea(attrs={"rows": 5, "accesskey": "c"}),
    )
    address = forms.CharField(
        label=_("详细地址"),
        max_length=200,
        required=False,
        help_text=_("如：金安区人民路与解放路交叉口"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "accesskey": "l"}),
    )
    division_code = forms.ChoiceField(
        label=_("所在县区"), required=False, widget=forms.Select(attrs={"accesskey": "d"})
    )
    kind = forms.ChoiceField(
        label=_("诉求类型"),
        choices=WorkOrder.Kind.choices,
        initial=WorkOrder.Kind.COMPLAINT,
        widget=forms.Select(attrs={"accesskey": "k"}),
    )
    category = forms.ChoiceField(
        label=_("诉求分类"), required=False, widget=forms.Select(attrs={"accesskey": "g"})
    )
    urgency = forms.ChoiceField(
        label=_("紧急程度"),
        choices=Urgency.choices,
        initial=Urgency.NORMAL,
        widget=forms.Select(attrs={"accesskey": "u"}),
    )
    confidential = forms.BooleanField(label=_("来电人要求保密"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["division_code"]).choices = division_choices()
        cast(forms.ChoiceField, self.fields["category"]).choices = category_choices()


class DispatchForm(CentreForm):
    """Confirm or correct the category and route the order: lead and assisting units, by
    default those of the dispatch catalogue."""

    FIELD_FOR_CODE = {
        errors.CATEGORY_UNKNOWN: "category",
        errors.NO_DISPATCH_RULE: "lead_unit",
        errors.UNIT_INVALID: "lead_unit",
    }

    category = forms.ChoiceField(label=_("诉求分类"))
    lead_unit = forms.ModelChoiceField(
        label=_("主办单位"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=_("（按派单目录）"),
    )
    assisting_units = forms.ModelMultipleChoiceField(
        label=_("协办单位"),
        queryset=Department.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "choice-list unit-choices"}),
        help_text=_("可多选；按派单目录预选。"),
    )
    note = forms.CharField(label=_("派单意见"), max_length=TEXT_MAX, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = category_choices()
        choices[0] = ("", _("请选择"))
        cast(forms.ChoiceField, self.fields["category"]).choices = choices
        cast("forms.ModelChoiceField[Department]", self.fields["lead_unit"]).queryset = units()
        cast(
            "forms.ModelMultipleChoiceField[Department]", self.fields["assisting_units"]
        ).queryset = units()

    def chosen_category(self) -> Category | None:
        return Category.objects.filter(code=self.cleaned_data["category"], active=True).first()


class ReturnReviewForm(CentreForm):
    """The dispatcher's answer to a unit's return (退单审核)."""

    FIELD_FOR_CODE = {errors.UNIT_INVALID: "lead_unit", errors.REASON_REQUIRED: "note"}

    decision = forms.ChoiceField(
        label=_("审核意见"),
        choices=[
            ("accept", _("同意退单，改派新的主办单位")),
            ("refuse", _("不同意，原单位继续办理")),
        ],
        widget=forms.RadioSelect(attrs={"class": "choice-list"}),
    )
    lead_unit = forms.ModelChoiceField(
        label=_("新的主办单位"),
        queryset=Department.objects.none(),
        required=False,
        help_text=_("同意退单时必选"),
    )
    assisting_units = forms.ModelMultipleChoiceField(
        label=_("协办单位"),
        queryset=Department.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "choice-list unit-choices"}),
    )
    note = forms.CharField(
        label=_("审核说明"),
        max_length=TEXT_MAX,
        required=False,
        help_text=_("不同意退单时必填，会告知承办单位"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[Department]", self.fields["lead_unit"]).queryset = units()
        cast(
            "forms.ModelMultipleChoiceField[Department]", self.fields["assisting_units"]
        ).queryset = units()


class MergeForm(CentreForm):
    """并单: the open order this one repeats (a proposed candidate or a number)."""

    FIELD_FOR_CODE = {errors.MERGE_INVALID: "into"}

    into = forms.CharField(
        label=_("并入工单编号"),
        max_length=32,
        help_text=_("已填入最相似的疑似重复工单，也可输入其他未办结工单的编号"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class TransferForm(CentreForm):
    FIELD_FOR_CODE = {errors.NOT_EMERGENCY: "number"}

    number = forms.ChoiceField(label=_("转接号码"), choices=EMERGENCY_NUMBERS)


class CloseForm(CentreForm):
    """直接答复: a consultation answered on the phone is closed at once."""

    FIELD_FOR_CODE = {errors.OUTCOME_INVALID: "outcome", errors.REASON_REQUIRED: "note"}

    outcome = forms.ChoiceField(label=_("办结结果"), choices=OUTCOME_CHOICES)
    note = forms.CharField(
        label=_("答复内容"),
        max_length=TEXT_MAX,
        help_text=_("电话中给来电人的答复，会以短信告知"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ExtensionForm(CentreForm):
    FIELD_FOR_CODE = {errors.INVALID_TRANSITION: "approve"}

    approve = forms.ChoiceField(
        label=_("审批意见"),
        choices=[("yes", _("批准延期")), ("no", _("不批准"))],
        widget=forms.RadioSelect(attrs={"class": "choice-list"}),
    )
    note = forms.CharField(label=_("说明"), max_length=TEXT_MAX, required=False)


class VisitForm(CentreForm):
    """回访 by phone: the caller's five-level answer, whether the problem is solved, their
    words. "未能联系上" is a second submit button (``unreachable``)."""

    FIELD_FOR_CODE = {errors.SATISFACTION_INVALID: "satisfaction"}

    satisfaction = forms.TypedChoiceField(
        label=_("满意度"),
        choices=SATISFACTION_CHOICES,
        coerce=int,
        required=False,
        empty_value=None,
        widget=forms.RadioSelect(attrs={"class": "choice-list"}),
    )
    resolved = forms.TypedChoiceField(
        label=_("问题是否解决"),
        choices=[("yes", _("已解决")), ("no", _("未解决"))],
        coerce=lambda v: v == "yes",
        required=False,
        empty_value=None,
        widget=forms.RadioSelect(attrs={"class": "choice-list"}),
    )
    comment = forms.CharField(
        label=_("回访意见"),
        max_length=TEXT_MAX,
        required=False,
        help_text=_("不满意时必填：记录来电人的意见"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
