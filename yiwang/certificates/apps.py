from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    name = "yiwang.certificates"
    label = "certificates"
    verbose_name = _("电子证照")

    def ready(self) -> None:
        # Issuance hook and material provider (applications calls them without importing us).
        from yiwang.certificates.hooks import register

        register()
