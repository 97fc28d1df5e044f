from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "yiwang.exchange"
    label = "exchange"
    verbose_name = _("数据共享交换")

    def ready(self) -> None:
        # Material provider and form prefill (applications calls them without importing us).
        from yiwang.exchange.gatewaycache import connect
        from yiwang.exchange.hooks import register

        register()
        # The gateway's cached resources and grants are forgotten on every change.
        connect()
