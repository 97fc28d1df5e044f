"""Root URL configuration: every route here must have an access rule (see yiwang.core.access)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from yiwang.core.access import public

urlpatterns = [
    # The API first: monitoring calls /api/v1/health constantly, and resolution is in order.
    path("api/", include("yiwang.api.urls")),
    path("", include("yiwang.portal.urls")),
    path("services/", include("yiwang.catalog.urls")),
    path("accounts/", include("yiwang.accounts.urls")),
    path("console/applications/", include("yiwang.applications.urls_staff")),
    path("console/hotline/", include("yiwang.hotline.urls_staff")),
    path("console/certificates/", include("yiwang.certificates.urls_staff")),
    path("console/exchange/", include("yiwang.exchange.urls_staff")),
    path("console/", include("yiwang.console.urls")),
    path("notifications/", include("yiwang.notifications.urls")),
    path("evaluation/", include("yiwang.evaluation.urls")),
    path("hotline/", include("yiwang.hotline.urls")),
    path("open311/v2/", include("yiwang.hotline.urls_open311")),
    path("certificates/", include("yiwang.certificates.urls")),
    path("exchange/", include("yiwang.exchange.urls")),
    path("witness/", include("yiwang.witness.urls")),
    path("", include("yiwang.applications.urls")),
    path("i18n/setlang/", public(set_language), name="set_language"),
    path("admin/", admin.site.urls),
]

if settings.YIWANG_OIDC_ENABLED:
    urlpatterns.append(path("oidc/", include("mozilla_django_oidc.urls")))

handler400 = "yiwang.portal.views.error_400"
handler403 = "yiwang.portal.views.error_403"
handler404 = "yiwang.portal.views.error_404"
handler500 = "yiwang.portal.views.error_500"
