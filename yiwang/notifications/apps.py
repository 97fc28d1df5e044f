from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "yiwang.notifications"
    label = "notifications"
    verbose_name = _("消息通知")

    def ready(self) -> None:
        # Registers the provider settings check (yiwang.notifications.checks).
        from yiwang.notifications import checks  # noqa: F401
