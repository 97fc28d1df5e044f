"""Forms of the citizen pages: shape only. The rules (which materials, which situations, the
phone, 容缺, 代办) are in ``services.application_submit``; its ``problems`` come back onto the
field or the material they are about through ``add_problems``.

The application form is built from the item: the 办理情形 as large radio choices, the facts
its DMN table reads (a single item; a 一件事 uses the bundle's merged form), the contact phone,
whom the user acts for (代办) and a hidden idempotency key. Materials are not form fields:
each is a file input ``material_<id>`` and, for 容缺 materials, a ``promise_<id>`` checkbox.
The same form serves the portal, the self-service terminal and, with the walk-in applicant's
name and ID number added (``WalkInForm``), the window's 前台综合受理.

Field labels (``form_field_labels``, ``field_label``): the label the catalog gives a field
(the DMN input's ``label``; the merged form of a 一件事 that fills this item's field), else a
label for common field names, else the name made readable: never a bare ``shop_name``."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from lxml import etree

from yiwang.accounts.models import User
from yiwang.applications.sources import material_origin
from yiwang.catalog.bundles import bundle_form, bundle_materials
from yiwang.catalog.models import Bundle, ItemVersion, Material

FACT_RE = re.compile(r"^\s*(?:(?:int|float|str)\(\s*)?([A-Za-z_]\w*)\s*\)?\s*$")
FORM_PREFIX = "f_"
SELF = "self"


@dataclass(frozen=True)
class Fact:
    name: str
    label: str
    type: str


def dmn_facts(dmn_xml: str) -> list[Fact]:
    """The facts a version's DMN table reads from the form (not ``situation``: that is the
    radio choice), in table order."""
    if not dmn_xml.strip():
        return []
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(dmn_xml.encode("utf-8"), parser)
    except etree.XMLSyntaxError:
        return []
    found: list[Fact] = []
    for node in root.iter():
        if not str(node.tag).endswith("}input") and node.tag != "input":
            continue
        expression = next((c for c in node if str(c.tag).endswith("inputExpression")), None)
        if expression is None:
            continue
        text = next((c.text or "" for c in expression if str(c.tag).endswith("text")), "")
        match = FACT_RE.match(text)
        if match is None or match.group(1) == "situation":
            continue
        if any(f.name == match.group(1) for f in found):
            continue
        found.append(
            Fact(
                name=match.group(1),
                label=(node.get("label") or "").strip(),  # "" when the table names none
                type=expression.get("typeRef", "string"),
            )
        )
    return found


# Labels of field names that item versions commonly use without labelling them (the catalog's
# DMN tables and API clients name facts in English or pinyin initials).
COMMON_FIELD_LABELS: dict[str, Any] = {
    "name": _("姓名"),
    "real_name": _("姓名"),
    "age": _("年龄"),
    "gender": _("性别"),
    "sex": _("性别"),
    "birth_date": _("出生日期"),
    "id_number": _("身份证号码"),
    "phone": _("联系电话"),
    "mobile": _("手机号码"),
    "email": _("电子邮箱"),
    "address": _("地址"),
    "purpose": _("申请事由"),
    "reason": _("申请理由"),
    "remark": _("备注"),
    "note": _("备注"),
    "amount": _("金额"),
    "area": _("面积"),
    "quantity": _("数量"),
    "start_date": _("开始日期"),
    "end_date": _("结束日期"),
    "shop_name": _("店铺名称"),
    "business_address": _("经营场所"),
    "business_scope": _("经营范围"),
    "company": _("企业名称"),
    "company_name": _("企业名称"),
    "enterprise_name": _("企业名称"),
    "uscc": _("统一社会信用代码"),
    "legal_representative": _("法定代表人"),
    "registered_capital": _("注册资本"),
    "registered_address": _("住所"),
    "employees": _("从业人数"),
    "household_size": _("家庭人口数"),
    "monthly_income": _("月收入"),
}


def readable_field_name(name: str) -> str:
    """``shop_name`` → ``shop name``: the last resort when nothing labels a field."""
    return re.sub(r"[_\s]+", " ", name).strip() or name


def form_field_labels(version: ItemVersion | None, bundle: Bundle | None) -> dict[str, str]:
    """The labels the catalog gives the form fields of ``version`` (or of ``bundle``'s merged
    form): the version's DMN input labels first, then the labels of the fields of published
    一件事 whose merged form fills a field of this item."""
    labels: dict[str, str] = {}
    if bundle is not None:
        for merged in bundle_form(bundle):
            labels[merged.name] = merged.label
        return labels
    if version is None:
        return labels
    for fact in dmn_facts(version.dmn_xml):
        if fact.label:
            labels[fact.name] = fact.label
    code = version.item.task_code
    for schema in Bundle.objects.filter(
        status=Bundle.Status.PUBLISHED, members__item_id=version.item_id
    ).values_list("form_schema", flat=True):
        for raw in schema or []:
            if not isinstance(raw, dict):
                continue
            member_field = (raw.get("maps_to") or {}).get(code)
            label = str(raw.get("label") or "").strip()
            if isinstance(member_field, str) and label:
                labels.setdefault(member_field, label)
    return labels


def field_label(name: str, labels: dict[str, str]) -> str:
    """What a page shows for the form field ``name``."""
    return labels.get(name) or str(COMMON_FIELD_LABELS.get(name, "")) or readable_field_name(name)


@dataclass
class MaterialRow:
    """One material of the apply page, with the problems found for it."""

    pk: int
    name: str
    necessity: str
    necessity_label: str
    fetched: bool
    tolerated: bool
    notes: str = ""
    situations: list[str] = field(default_factory=list)
    situation_names: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    promised: bool = False
    # Where a government-held material will come from (e.g. 由…通过数据共享提供：…), or "".
    origin: str = ""


def material_rows(version: ItemVersion | None, bundle: Bundle | None) -> list[MaterialRow]:
    """The materials to show: the version's (with the situations each applies to) or, for a
    一件事, the first material of each entry of its merged list."""
    if bundle is not None:
        rows = []
        for merged in bundle_materials(bundle):
            if not merged.uses:
                continue
            rows.append(
                MaterialRow(
                    pk=merged.uses[0].material_id,
                    name=merged.name,
                    necessity=merged.necessity,
                    necessity_label=str(Material.Necessity(merged.necessity).label),
                    fetched=merged.fetched,
                    tolerated=merged.necessity == Material.Necessity.TOLERATED,
                    notes=merged.note,
                    origin=material_origin(merged.certificate_type_code, merged.data_resource_code)
                    if merged.fetched
                    else "",
                )
            )
        return rows
    if version is None:
        raise ValueError("material_rows needs a version or a bundle")
    return [
        MaterialRow(
            pk=m.pk,
            name=m.name,
            necessity=m.necessity,
            necessity_label=str(m.get_necessity_display()),
            fetched=m.fetched,
            tolerated=m.necessity == Material.Necessity.TOLERATED,
            notes=m.notes,
            situations=[s.code for s in m.situations.all()],
            situation_names=[s.name for s in m.situations.all()],
            origin=material_origin(m.certificate_type_code, m.data_resource_code)
            if m.fetched
            else "",
        )
        for m in version.materials.prefetch_related("situations").order_by("sort_order", "id")
    ]


class ApplyForm(forms.Form):
    """The application form of one item (``version``) or one 一件事 (``bundle``)."""

    FIRST_FIELDS: tuple[str, ...] = ()

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100, required=False)
    contact_phone = forms.CharField(
        label=_("联系电话"),
        help_text=_("11 位手机号码。办理进度会发短信告诉您；查询进度时要用到后四位。"),
        max_length=20,
        required=False,  # the service checks it (one message for empty and malformed)
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )

    def __init__(
        self,
        data: Any = None,
        *,
        version: ItemVersion | None,
        bundle: Bundle | None,
        principals: list[User],
        initial: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(data, initial=initial)
        self.fact_names: list[str] = []
        self.labels = form_field_labels(version, bundle)
        if version is not None and bundle is None:
            situations = list(version.situations.order_by("sort_order", "id"))
            if situations:
                self.fields["situation"] = forms.ChoiceField(
                    label=_("请选择您的办理情形"),
                    choices=[(s.code, s.name) for s in situations],
                    widget=forms.RadioSelect(attrs={"class": "situation-radio"}),
                    required=False,  # the service checks it
                    error_messages={"invalid_choice": _("请选择办理情形。")},
                )
                self.situation_hints = {s.code: s.description for s in situations}
            for fact in dmn_facts(version.dmn_xml):
                label = fact.label or field_label(fact.name, self.labels)
                self._add_fact(fact.name, label, fact.type, required=True, options=())
        if bundle is not None:
            for merged in bundle_form(bundle):
                self._add_fact(
                    merged.name,
                    merged.label,
                    merged.type,
                    required=merged.required,
                    options=merged.options,
                )
        if principals:
            self.fields["principal"] = forms.ChoiceField(
                label=_("为谁办理"),
                help_text=_("您持有他人的代办授权，可以为委托人提交申请。"),
                choices=[(SELF, _("为自己办理"))]
                + [(str(p.public_id), _("代 %(n)s 办理") % {"n": p.real_name}) for p in principals],
                widget=forms.RadioSelect(attrs={"class": "choice-list"}),
                initial=SELF,
            )
        # the phone last, the hidden key anywhere
        self.order_fields(
            [*self.FIRST_FIELDS, *(k for k in self.fields if k != "contact_phone"), "contact_phone"]
        )
        if not self.is_bound and not self.initial.get("idempotency_key"):
            self.initial["idempotency_key"] = uuid.uuid4().hex

    def _add_fact(
        self, name: str, label: str, type_: str, *, required: bool, options: tuple[str, ...]
    ) -> None:
        key = FORM_PREFIX + name
        self.fact_names.append(name)
        message = {"required": _("请填写“%(f)s”。") % {"f": label}}
        if options:
            self.fields[key] = forms.ChoiceField(
                label=label,
                required=required,
                choices=[("", _("请选择"))] + [(o, o) for o in options],
                error_messages=message,
            )
        elif type_ in ("integer", "number", "long", "int"):
            self.fields[key] = forms.IntegerField(
                label=label,
                required=required,
                error_messages={**message, "invalid": _("“%(f)s”须填写整数。") % {"f": label}},
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )
        elif type_ == "boolean":
            self.fields[key] = forms.TypedChoiceField(
                label=label,
                required=required,
                choices=[("true", _("是")), ("false", _("否"))],
                coerce=lambda value: value == "true",
                empty_value=None,
                widget=forms.RadioSelect(attrs={"class": "choice-list"}),
                error_messages=message,
            )
        elif type_ == "date":
            self.fields[key] = forms.DateField(
                label=label,
                required=required,
                error_messages=message,
                widget=forms.DateInput(attrs={"type": "date"}),
            )
        else:
            self.fields[key] = forms.CharField(
                label=label, required=required, max_length=500, error_messages=message
            )

    def form_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name in self.fact_names:
            value = self.cleaned_data.get(FORM_PREFIX + name)
            if value is None or value == "":
                continue
            data[name] = value.isoformat() if hasattr(value, "isoformat") else value
        return data

    def raw_form_data(self) -> dict[str, Any]:
        """The facts as typed (for the service's own checks when the form is invalid)."""
        data: dict[str, Any] = {}
        for name in self.fact_names:
            value = str(self.data.get(FORM_PREFIX + name, "")).strip()
            if value:
                data[name] = value
        return data

    def field_for_problem(self, problem_field: str) -> str | None:
        """The form field a service problem is about, or None."""
        if problem_field == "situation" and "situation" in self.fields:
            return "situation"
        if problem_field == "contact_phone":
            return "contact_phone"
        if problem_field in ("principal_id", "principal") and "principal" in self.fields:
            return "principal"
        if problem_field.startswith("form_data."):
            key = FORM_PREFIX + problem_field[len("form_data.") :]
            return key if key in self.fields else None
        return None


class WalkInForm(ApplyForm):
    """前台综合受理: the application form with the walk-in applicant's identity, which the view
    looks up among the real-name users (``citizen_find_by_identity``)."""

    FIRST_FIELDS = ("applicant_name", "applicant_id_number")

    applicant_name = forms.CharField(
        label=_("申请人姓名"),
        max_length=50,
        error_messages={"required": _("请填写申请人姓名。")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    applicant_id_number = forms.CharField(
        label=_("申请人身份证号码"),
        help_text=_("18 位居民身份证号码，核对身份证原件后录入。"),
        max_length=18,
        error_messages={"required": _("请填写申请人身份证号码。")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact_phone"].help_text = _(
            "申请人的 11 位手机号码：办理进度发短信到这个号码，查询进度要用后四位。"
        )

    def field_for_problem(self, problem_field: str) -> str | None:
        if problem_field == "applicant":
            return "applicant_id_number"
        return super().field_for_problem(problem_field)


class SupplementForm(forms.Form):
    note = forms.CharField(
        label=_("补充说明"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("撤回原因（可不填）"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ProgressForm(forms.Form):
    number = forms.CharField(
        label=_("办件编号"),
        max_length=32,
        help_text=_("提交申请后页面和短信里的编号。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": _("请填写办件编号。")},
    )
    phone_last4 = forms.RegexField(
        label=_("联系电话后四位"),
        regex=r"^\d{4}$",
        max_length=4,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={
            "required": _("请填写联系电话后四位。"),
            "invalid": _("请填写 4 位数字。"),
        },
    )
