"""Forms of the staff console: shape only; the rules live in the accounts services."""

from __future__ import annotations

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

# A personal token is a standing credential: a year at most, so that a forgotten one dies.
TOKEN_MAX_DAYS = 365


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("名称"),
        max_length=100,
        help_text=_("写明用途，便于日后区分，例如“月度统计脚本”。"),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    expires_in_days = forms.IntegerField(
        label=_("有效期（天）"),
        required=False,
        min_value=1,
        max_value=TOKEN_MAX_DAYS,
        help_text=format_lazy(
            _("1 到 {max} 天；留空表示长期有效，直到您撤销。"), max=TOKEN_MAX_DAYS
        ),
        # A text input (styled like the others) that brings up the digit keyboard on phones.
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
