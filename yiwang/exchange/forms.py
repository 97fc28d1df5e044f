"""Forms of the exchange pages. They only shape the input: the services decide (access, the
fields a grant may hold, the state a request must be in) and their DomainErrors are shown on
the form, so that nothing is saved when a form is refused."""

from __future__ import annotations

import json
from datetime import date
from typing import Any, cast

from django import forms
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.accounts.models import Department
from yiwang.exchange.models import (
    FIELD_KEY_MAX,
    FIELDS_MAX,
    AccessLogEntry,
    AdapterKind,
    DataResource,
    MaskKind,
    SharingClass,
    SubjectType,
    UpdateFrequency,
)

TEXT_MAX = 2000
MASK_CHOICES = [("", _("不脱敏")), *MaskKind.choices]


def _department_choices(departments: list[Department]) -> list[tuple[int, str]]:
    return [(d.pk, d.name) for d in departments]


class ResourceForm(forms.Form):
    owner = forms.TypedChoiceField(label=_("提供部门"), coerce=int)
    code = forms.CharField(
        label=_("资源代码"),
        max_length=50,
        help_text=_("例如 LA-DR-GA-001；发布后事项材料按此代码引用，请勿随意修改。"),
        error_messages={"required": _("请填写资源代码。")},
    )
    name = forms.CharField(
        label=_("资源名称"), max_length=200, error_messages={"required": _("请填写资源名称。")}
    )
    description = forms.CharField(
        label=_("资源摘要"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    subject_type = forms.ChoiceField(label=_("查询主体类型"), choices=SubjectType.choices)
    update_frequency = forms.ChoiceField(label=_("更新周期"), choices=UpdateFrequency.choices)
    legal_basis = forms.CharField(
        label=_("共享依据"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("法律、法规或规章的名称和条款。"),
        error_messages={"required": _("请填写共享依据。")},
    )
    sharing_class = forms.ChoiceField(
        label=_("共享类型"),
        choices=SharingClass.choices,
        widget=forms.RadioSelect(attrs={"class": "choice-list"}),
    )
    sharing_condition = forms.CharField(
        label=_("共享条件或不予共享依据"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("有条件共享须写明条件；不予共享须写明依据。"),
    )
    adapter_kind = forms.ChoiceField(label=_("接入方式"), choices=AdapterKind.choices)
    adapter_config = forms.CharField(
        label=_("接入配置（JSON）"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off"}),
        help_text=_("含连接口令，保存后不再显示；修改资源时留空表示沿用原配置。"),
    )
    rate_limit_per_minute = forms.IntegerField(
        label=_("默认每分钟调用上限"), min_value=1, max_value=100000, initial=600
    )

    def __init__(
        self, *args: Any, departments: list[Department], editing: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        owner = cast(forms.TypedChoiceField, self.fields["owner"])
        owner.choices = _department_choices(departments)
        if len(departments) == 1:
            owner.initial = departments[0].pk

    def clean_code(self) -> str:
        code = str(self.cleaned_data["code"]).strip()
        if not code.isascii() or not code.replace("-", "").replace("_", "").isalnum():
            raise forms.ValidationError(_("资源代码只能由字母、数字、短横线和下划线组成。"))
        return code

    def clean_adapter_config(self) -> dict[str, Any] | None:
        text = str(self.cleaned_data["adapter_config"]).strip()
        if not text:
            if self.editing:
                return None  # keep the stored configuration
            raise forms.ValidationError(_("请填写接入配置。"))
        try:
            value = json.loads(text)
        except ValueError:
            raise forms.ValidationError(_("接入配置不是有效的 JSON。")) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(_('接入配置应为 JSON 对象，例如 {"url": …}。'))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        klass = data.get("sharing_class")
        condition = str(data.get("sharing_condition") or "").strip()
        if klass in (SharingClass.CONDITIONAL, SharingClass.NONE) and not condition:
            self.add_error(
                "sharing_condition",
                _("有条件共享须写明共享条件，不予共享须写明依据。"),
            )
        data["sharing_condition"] = condition
        return data


class FieldRowForm(forms.Form):
    """One information item (信息项) of a resource: a row of the fields table."""

    # The rows are a table: the column headers are what a sighted user reads, aria-label is
    # what a screen reader announces for each cell's control.
    key = forms.CharField(
        label=_("字段名"),
        max_length=FIELD_KEY_MAX,
        required=False,
        widget=forms.TextInput(attrs={"aria-label": _("字段名"), "spellcheck": "false"}),
    )
    label = forms.CharField(
        label=_("名称"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"aria-label": _("名称")}),
    )
    personal = forms.BooleanField(
        label=_("个人信息"),
        required=False,
        widget=forms.CheckboxInput(attrs={"aria-label": _("个人信息")}),
    )
    mask = forms.ChoiceField(
        label=_("默认脱敏"),
        choices=MASK_CHOICES,
        required=False,
        widget=forms.Select(attrs={"aria-label": _("默认脱敏")}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        key = str(data.get("key") or "").strip()
        label = str(data.get("label") or "").strip()
        data["key"], data["label"] = key, label
        if key and not label:
            self.add_error("label", _("请填写字段名称。"))
        elif label and not key:
            self.add_error("key", _("请填写字段名。"))
        elif key and (not key.isascii() or not key.isidentifier()):
            self.add_error("key", _("字段名只能由字母、数字和下划线组成，且不以数字开头。"))
        return data


class BaseFieldRows(forms.BaseFormSet):  # type: ignore[type-arg]
    def clean(self) -> None:
        if any(self.errors):
            return
        seen: set[str] = set()
        for row in self.forms:
            key = str(row.cleaned_data.get("key") or "")
            if not key:
                continue
            if key in seen:
                row.add_error("key", _("字段名“%(k)s”重复。") % {"k": key})
            seen.add(key)
        if not seen:
            raise forms.ValidationError(_("至少填写一个信息项。"))

    def spec(self) -> list[dict[str, Any]]:
        return [
            {
                "key": row.cleaned_data["key"],
                "label": row.cleaned_data["label"],
                "personal": bool(row.cleaned_data.get("personal")),
                "mask": str(row.cleaned_data.get("mask") or ""),
            }
            for row in self.forms
            if row.cleaned_data.get("key")
        ]


FieldRows = formset_factory(
    FieldRowForm, formset=BaseFieldRows, extra=3, max_num=FIELDS_MAX, validate_max=True
)


def field_rows(data: Any = None, *, resource: DataResource | None = None) -> BaseFieldRows:
    # Initial rows only for the unbound form: a posted row equal to its initial value would
    # count as "unchanged" and be skipped by the formset's validation.
    initial = list(resource.fields) if resource is not None and data is None else None
    return cast(BaseFieldRows, FieldRows(data, initial=initial, prefix="f"))


class ReasonForm(forms.Form):
    """A reason and a confirmation (withdraw a resource, revoke a grant)."""

    reason = forms.CharField(
        label=_("原因"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("请填写原因。")},
    )
    confirm = forms.BooleanField(error_messages={"required": _("请勾选确认。")})

    def __init__(self, *args: Any, confirm_label: Any, reason_label: Any = None, **kw: Any):
        super().__init__(*args, **kw)
        self.fields["confirm"].label = confirm_label
        if reason_label:
            self.fields["reason"].label = reason_label

    def clean_reason(self) -> str:
        text = str(self.cleaned_data["reason"]).strip()
        if not text:
            raise forms.ValidationError(_("请填写原因。"))
        return text


class RequestForm(forms.Form):
    consumer = forms.TypedChoiceField(label=_("申请部门"), coerce=int)
    fields_wanted = forms.MultipleChoiceField(
        label=_("申请信息项"),
        widget=forms.CheckboxSelectMultiple(attrs={"class": "choice-list"}),
        error_messages={"required": _("请至少选择一个信息项。")},
    )
    item_codes = forms.MultipleChoiceField(
        label=_("用于事项"),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "choice-list xc-items"}),
        help_text=_("可多选。有条件共享的资源须至少选择一个事项。"),
    )
    purpose = forms.CharField(
        label=_("使用用途"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("写明用于办理什么业务、为何需要这些信息项。"),
        error_messages={"required": _("请填写使用用途。")},
    )
    valid_until = forms.DateField(
        label=_("申请使用期限"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("留空表示长期。"),
    )

    def __init__(
        self,
        *args: Any,
        resource: DataResource,
        departments: list[Department],
        items: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.resource = resource
        consumer = cast(forms.TypedChoiceField, self.fields["consumer"])
        consumer.choices = _department_choices(departments)
        if len(departments) == 1:
            consumer.initial = departments[0].pk
        wanted = cast(forms.MultipleChoiceField, self.fields["fields_wanted"])
        wanted.choices = [(str(f["key"]), str(f["label"])) for f in resource.fields]
        cast(forms.MultipleChoiceField, self.fields["item_codes"]).choices = items

    def clean_purpose(self) -> str:
        text = str(self.cleaned_data["purpose"]).strip()
        if not text:
            raise forms.ValidationError(_("请填写使用用途。"))
        return text

    def clean_valid_until(self) -> date | None:
        day: date | None = self.cleaned_data.get("valid_until")
        if day is not None and day < timezone.localdate():
            raise forms.ValidationError(_("使用期限不能早于今天。"))
        return day

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.resource.sharing_class == SharingClass.CONDITIONAL and not data.get("item_codes"):
            self.add_error("item_codes", _("有条件共享的资源须写明用于哪些事项。"))
        return data

    def ordered_fields(self) -> list[str]:
        wanted = set(self.cleaned_data["fields_wanted"])
        return [k for k in self.resource.field_keys() if k in wanted]


MASK_PREFIX = "mask-"


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("审核结果"),
        choices=[("approve", _("同意")), ("refuse", _("拒绝"))],
        widget=forms.RadioSelect(attrs={"class": "choice-list"}),
        error_messages={"required": _("请选择同意或拒绝。")},
    )
    fields_granted = forms.MultipleChoiceField(
        label=_("同意共享的信息项"),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "choice-list"}),
    )
    item_codes = forms.MultipleChoiceField(
        label=_("限用事项"),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "choice-list"}),
    )
    valid_until = forms.DateField(
        label=_("有效期至"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("留空表示长期有效。"),
    )
    rate_limit_per_minute = forms.IntegerField(
        label=_("每分钟调用上限"), min_value=1, max_value=100000, required=False
    )
    reason = forms.CharField(
        label=_("审核意见"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("拒绝时必填，申请部门会看到。"),
    )

    def __init__(
        self,
        *args: Any,
        resource: DataResource,
        requested: list[str],
        items: list[tuple[str, str]],
        valid_until: date | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        labels = {str(f["key"]): str(f["label"]) for f in resource.fields}
        defaults = {str(f["key"]): str(f.get("mask") or "") for f in resource.fields}
        self.requested = [k for k in requested if k in labels]
        granted = cast(forms.MultipleChoiceField, self.fields["fields_granted"])
        granted.choices = [(k, labels[k]) for k in self.requested]
        granted.initial = list(self.requested)
        codes = cast(forms.MultipleChoiceField, self.fields["item_codes"])
        codes.choices = items
        codes.initial = [code for code, _name in items]
        self.fields["rate_limit_per_minute"].initial = resource.rate_limit_per_minute
        self.fields["valid_until"].initial = valid_until
        for key in self.requested:
            self.fields[MASK_PREFIX + key] = forms.ChoiceField(
                label=labels[key], choices=MASK_CHOICES, required=False, initial=defaults[key]
            )

    def mask_fields(self) -> list[forms.BoundField]:
        return [self[MASK_PREFIX + k] for k in self.requested]

    def clean_valid_until(self) -> date | None:
        day: date | None = self.cleaned_data.get("valid_until")
        if day is not None and day < timezone.localdate():
            raise forms.ValidationError(_("有效期不能早于今天。"))
        return day

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        reason = str(data.get("reason") or "").strip()
        data["reason"] = reason
        if data.get("decision") == "refuse" and not reason:
            self.add_error("reason", _("拒绝时请写明理由。"))
        if data.get("decision") == "approve" and not data.get("fields_granted"):
            self.add_error("fields_granted", _("同意时请至少选择一个信息项。"))
        return data

    def granted(self) -> list[str]:
        chosen = set(self.cleaned_data["fields_granted"])
        return [k for k in self.requested if k in chosen]

    def masks(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for key in self.granted():
            mask = str(self.cleaned_data.get(MASK_PREFIX + key) or "")
            if mask:
                out[key] = mask
        return out


class CatalogueFilterForm(forms.Form):
    q = forms.CharField(label=_("关键词"), max_length=100, required=False)
    owner = forms.TypedChoiceField(
        label=_("提供部门"), coerce=int, required=False, empty_value=None
    )
    sharing_class = forms.ChoiceField(
        label=_("共享类型"), choices=[("", _("全部")), *SharingClass.choices], required=False
    )

    def __init__(self, *args: Any, owners: list[Department], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = cast(forms.TypedChoiceField, self.fields["owner"])
        owner.choices = [("", _("全部")), *_department_choices(owners)]


class LogFilterForm(forms.Form):
    consumer = forms.TypedChoiceField(
        label=_("使用部门"), coerce=int, required=False, empty_value=None
    )
    resource = forms.ChoiceField(label=_("数据资源"), required=False)
    outcome = forms.ChoiceField(
        label=_("结果"), choices=[("", _("全部")), *AccessLogEntry.Outcome.choices], required=False
    )
    case_number = forms.CharField(label=_("办件编号"), max_length=40, required=False)
    since = forms.DateField(
        label=_("日期从"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("至"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(
        self,
        *args: Any,
        consumers: list[tuple[int, str]],
        resources: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.TypedChoiceField, self.fields["consumer"]).choices = [
            ("", _("全部")),
            *consumers,
        ]
        cast(forms.ChoiceField, self.fields["resource"]).choices = [("", _("全部")), *resources]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("结束日期不能早于开始日期。"))
        return data


class CloseAnomalyForm(forms.Form):
    note = forms.CharField(
        label=_("处理说明"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("请填写处理说明。")},
    )

    def clean_note(self) -> str:
        text = str(self.cleaned_data["note"]).strip()
        if not text:
            raise forms.ValidationError(_("请填写处理说明。"))
        return text


class QueryForm(forms.Form):
    grant = forms.TypedChoiceField(label=_("已授权的数据资源"), coerce=int)
    key = forms.CharField(
        label=_("查询主体"),
        max_length=60,
        help_text=_("公民身份号码、统一社会信用代码等，按资源的查询主体类型填写。"),
        error_messages={"required": _("请填写查询主体。")},
    )
    case_number = forms.CharField(
        label=_("办件编号"),
        max_length=40,
        required=False,
        help_text=_("有条件共享的资源必须填写。"),
    )
    purpose = forms.CharField(
        label=_("查询用途"),
        max_length=500,
        required=False,
        help_text=_("有条件共享的资源必须填写；数据主体可以看到。"),
    )

    def __init__(self, *args: Any, grants: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.TypedChoiceField, self.fields["grant"]).choices = grants


class PeriodForm(forms.Form):
    since = forms.DateField(
        label=_("统计期间从"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("至"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("结束日期不能早于开始日期。"))
        return data
