from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WitnessConfig(AppConfig):
    name = "yiwang.witness"
    label = "witness"
    verbose_name = _("见证")
