"""Forms of the accounts pages: shape only (required, lengths, the two passwords agree). The
rules live in the services; a DomainError they raise comes back onto the field it is about
through ``add_domain_error``, so the person sees the service's own message next to the input
they need to change."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.accounts import errors
from yiwang.accounts.models import Delegation, User
from yiwang.accounts.selectors import citizen_find_by_identity
from yiwang.core.errors import DomainError
from yiwang.core.identifiers import ID_NUMBER_INVALID

NO_SUCH_CITIZEN = _(
    "没有找到姓名和身份证号码都相符的实名注册用户。请核对后重试；对方需要先在本平台实名注册。"
)

# Long enough for a number typed with spaces or hyphens; the service normalises it.
ID_NUMBER_MAX_LENGTH = 30


class DomainErrorForm(forms.Form):
    """A form that can show a service's DomainError on the field the error code is about
    (``FIELD_FOR_CODE``); codes not listed become a form-level error."""

    FIELD_FOR_CODE: Mapping[str, str] = {}

    def add_domain_error(self, error: DomainError) -> None:
        self.add_error(self.FIELD_FOR_CODE.get(error.code), str(error.message))

    def find_citizen(self, *, name_field: str, id_field: str) -> User | None:
        """The registered citizen named by two of this (valid) form's fields, or None with the
        reason added to ``id_field``. One message for "no such number" and "wrong name"."""
        try:
            citizen = citizen_find_by_identity(
                real_name=self.cleaned_data[name_field], id_number=self.cleaned_data[id_field]
            )
        except DomainError as exc:
            self.add_error(id_field, str(exc.message))
            return None
        if citizen is None:
            self.add_error(id_field, NO_SUCH_CITIZEN)
        return citizen


def _text(label: Any, *, max_length: int, autocomplete: str = "off", **attrs: Any) -> Any:
    return forms.CharField(
        label=label,
        max_length=max_length,
        widget=forms.TextInput(attrs={"autocomplete": autocomplete, **attrs}),
    )


def _id_number(label: Any) -> Any:
    return forms.CharField(
        label=label,
        max_length=ID_NUMBER_MAX_LENGTH,
        help_text=_("18位，最后一位可能是字母X"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class CitizenRegisterForm(DomainErrorForm):
    FIELD_FOR_CODE = {
        errors.USERNAME_TAKEN: "username",
        errors.REAL_NAME_REQUIRED: "real_name",
        ID_NUMBER_INVALID: "id_number",
        errors.ID_NUMBER_TAKEN: "id_number",
        errors.PHONE_INVALID: "phone",
        errors.PASSWORD_WEAK: "password1",
    }

    username = forms.CharField(
        label=_("用户名"),
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text=_("登录时使用，可用字母、数字和 @ . + - _"),
        widget=forms.TextInput(attrs={"autocomplete": "username", "spellcheck": "false"}),
    )
    real_name = _text(_("真实姓名"), max_length=50, autocomplete="name")
    id_number = _id_number(_("身份证号码"))
    phone = forms.CharField(
        label=_("手机号码"),
        max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    password1 = forms.CharField(
        label=_("密码"),
        strip=False,
        help_text=_("至少8位，不能全是数字，不要与用户名或姓名相近"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("再次输入密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("两次输入的密码不一致。"))
        return cleaned


# --- delegation (代办) ----------------------------------------------------------------------


def delegation_latest_expiry_date() -> datetime.date:
    """The last day the expiry field offers (a hint for the date picker; the service enforces
    YIWANG_DELEGATION_MAX_DAYS itself)."""
    limit = timezone.now() + datetime.timedelta(days=settings.YIWANG_DELEGATION_MAX_DAYS)
    return timezone.localdate(limit) - datetime.timedelta(days=1)


def delegation_default_expiry_date() -> datetime.date:
    """One year from today, or the latest day allowed if that is sooner."""
    today = timezone.localdate()
    try:
        in_a_year = today.replace(year=today.year + 1)
    except ValueError:  # 29 February
        in_a_year = today.replace(year=today.year + 1, day=28)
    return min(in_a_year, delegation_latest_expiry_date())


def delegation_expires_at(day: datetime.date) -> datetime.datetime:
    """A delegation "valid until" ``day`` ends when that day ends in the city's time zone."""
    next_midnight = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time())
    return timezone.make_aware(next_midnight)


class DelegationTermsForm(DomainErrorForm):
    """What is delegated and until when; the parties come from the subclasses."""

    FIELD_FOR_CODE = {
        errors.DELEGATION_SCOPE: "scopes",
        errors.DELEGATION_EXPIRY: "expires_on",
    }

    scopes = forms.MultipleChoiceField(
        label=_("授权范围"),
        choices=Delegation.Scope.choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "choice-list"}),
        error_messages={"required": _("请至少选择一项授权范围。")},
    )
    expires_on = forms.DateField(
        label=_("有效期至"),
        help_text=_("授权在这一天结束时失效"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("请选择授权的有效期。"), "invalid": _("请输入有效的日期。")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["expires_on"].initial = delegation_default_expiry_date()
        self.fields["expires_on"].widget.attrs.update(
            min=timezone.localdate().isoformat(), max=delegation_latest_expiry_date().isoformat()
        )

    @property
    def expires_at(self) -> datetime.datetime:
        return delegation_expires_at(self.cleaned_data["expires_on"])


class DelegationGrantForm(DelegationTermsForm):
    """A citizen authorises an agent, named by real name and ID number."""

    FIELD_FOR_CODE = {
        **DelegationTermsForm.FIELD_FOR_CODE,
        ID_NUMBER_INVALID: "agent_id_number",
        errors.DELEGATION_SELF: "agent_id_number",
        errors.DELEGATION_PARTIES: "agent_id_number",
    }

    agent_name = _text(_("代办人姓名"), max_length=50)
    agent_id_number = _id_number(_("代办人身份证号码"))
    field_order = ("agent_name", "agent_id_number", "scopes", "expires_on")


class DelegationRecordForm(DelegationTermsForm):
    """A window clerk records a signed paper authorisation: both parties by name and ID
    number, and the paper's reference."""

    FIELD_FOR_CODE = {
        **DelegationTermsForm.FIELD_FOR_CODE,
        errors.DELEGATION_SELF: "agent_id_number",
    }

    principal_name = _text(_("委托人姓名"), max_length=50)
    principal_id_number = _id_number(_("委托人身份证号码"))
    agent_name = _text(_("代办人姓名"), max_length=50)
    agent_id_number = _id_number(_("代办人身份证号码"))
    note = forms.CharField(
        label=_("授权书编号及说明"),
        max_length=200,
        help_text=_("例如：纸质授权书编号，原件存放位置"),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    field_order = (
        "principal_name",
        "principal_id_number",
        "agent_name",
        "agent_id_number",
        "scopes",
        "expires_on",
        "note",
    )
