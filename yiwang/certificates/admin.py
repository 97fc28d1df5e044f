"""Django admin: certificate types are configuration (editable, audited); certificates and
their uses are read-only here — they change only through the services, which sign the
credential and write the ledger entry in the same transaction."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.forms import model_to_dict
from django.http import HttpRequest

from yiwang.certificates.models import Certificate, CertificateType, CertificateUse
from yiwang.core.admin import ReadOnlyAdmin
from yiwang.core.audit import audit_record


def _snapshot(obj: Model) -> dict[str, Any]:
    return dict(model_to_dict(obj, exclude=["id", "issuing_departments"]))


@admin.register(CertificateType)
class CertificateTypeAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name", "definer_name", "holder_type", "validity_years", "active")
    list_filter = ("holder_type", "trust_grade", "active")
    search_fields = ("code", "name", "definer_name")
    filter_horizontal = ("issuing_departments",)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before = _snapshot(CertificateType.objects.get(pk=obj.pk)) if change and obj.pk else None
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action="certificates.type_save",
            obj=obj,
            before=before,
            after=_snapshot(obj),
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        audit_record(
            actor=request.user,
            action="certificates.type_issuers",
            obj=form.instance,
            after={"issuers": [d.code for d in form.instance.issuing_departments.all()]},
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # certificates refer to their type forever


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = ("identifier", "type", "version", "status", "issuing_department", "issued_at")
    list_filter = ("status", "trust_grade", "type")
    search_fields = ("identifier", "serial")
    exclude = ("holder_id_number", "holder_salt", "holder_id_index")


@admin.register(CertificateUse)
class CertificateUseAdmin(ReadOnlyAdmin):
    list_display = ("certificate", "department", "reason", "case_number", "at")
    search_fields = ("certificate__identifier", "case_number")
