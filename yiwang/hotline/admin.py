"""Django admin for the hotline's configuration: the category tree, the dispatch catalogue
(派单目录), time limits, mailboxes, classifier models (switch the active one) and Open311 keys
(read-only: create them with ``yiwang open311 create-key``). Work orders themselves change only
through the services (the consoles and the API), so they are not editable here.

Every change writes an audit row in the admin's own transaction, with before and after.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.forms import model_to_dict
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from yiwang.core.audit import audit_record
from yiwang.core.errors import DomainError
from yiwang.hotline import services
from yiwang.hotline.models import (
    Category,
    ClassifierModel,
    DispatchRule,
    Mailbox,
    Open311Key,
    TimeLimit,
)

if TYPE_CHECKING:
    ModelAdmin = admin.ModelAdmin
else:
    ModelAdmin = admin.ModelAdmin


def _snapshot(obj: Model) -> dict[str, Any]:
    return {k: v for k, v in model_to_dict(obj).items() if k not in ("id",)}


class AuditedAdmin(ModelAdmin):  # type: ignore[type-arg]
    """Writes ``hotline.config_<model>_<save|delete>`` audit rows."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before = None
        if change and obj.pk:
            before = _snapshot(type(obj).objects.get(pk=obj.pk))
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action=f"hotline.config_{obj._meta.model_name}_save",
            obj=obj,
            before=before,
            after=_snapshot(obj),
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if isinstance(form.instance, DispatchRule):
            audit_record(
                actor=request.user,
                action="hotline.config_dispatchrule_assisting",
                obj=form.instance,
                after={"assisting": [u.code for u in form.instance.assisting_units.all()]},
            )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        audit_record(
            actor=request.user,
            action=f"hotline.config_{obj._meta.model_name}_delete",
            obj=obj,
            before=_snapshot(obj),
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(Category)
class CategoryAdmin(AuditedAdmin):
    list_display = ("code", "name", "level", "parent", "active", "sort_order")
    list_filter = ("level", "active")
    search_fields = ("code", "name", "keywords")
    autocomplete_fields = ("parent",)


@admin.register(TimeLimit)
class TimeLimitAdmin(AuditedAdmin):
    list_display = (
        "category",
        "urgency",
        "sign_amount",
        "sign_unit",
        "handle_amount",
        "handle_unit",
        "return_amount",
        "return_unit",
    )
    list_filter = ("urgency",)
    autocomplete_fields = ("category",)


@admin.register(DispatchRule)
class DispatchRuleAdmin(AuditedAdmin):
    list_display = ("category", "division_prefix", "lead_unit", "basis")
    search_fields = ("category__name", "category__code", "lead_unit__name")
    autocomplete_fields = ("category", "lead_unit", "assisting_units")


@admin.register(Mailbox)
class MailboxAdmin(AuditedAdmin):
    list_display = ("code", "name", "kind", "department", "active")


@admin.register(ClassifierModel)
class ClassifierModelAdmin(AuditedAdmin):
    list_display = ("name", "active", "auto_dispatch_threshold", "created_at")
    readonly_fields = ("active", "labels", "metrics")
    actions = ("activate",)

    @admin.action(description=_("启用所选分类模型"))
    def activate(self, request: HttpRequest, queryset: QuerySet[ClassifierModel]) -> None:
        if queryset.count() != 1:
            self.message_user(request, _("请只选择一个模型。"), messages.ERROR)
            return
        try:
            model = services.classifier_activate(model=queryset.get(), actor=request.user)
        except DomainError as error:
            self.message_user(request, str(error.message), messages.ERROR)
            return
        self.message_user(request, _("已启用分类模型：%s") % model.name)


@admin.register(Open311Key)
class Open311KeyAdmin(ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("name", "prefix", "key_hash", "created_at", "last_used_at", "revoked_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
