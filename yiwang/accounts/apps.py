from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "yiwang.accounts"
    label = "accounts"
    verbose_name = _("用户与机构")

    def ready(self) -> None:
        from yiwang.accounts import auth_events

        auth_events.connect_axes_signals()
