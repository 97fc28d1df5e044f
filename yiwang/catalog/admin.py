"""Django admin for the catalog administrators (事项管理员) and system administrators.

Access comes from yiwang.catalog.access, not from Django model permissions: editors
(catalog_admin, admin) change drafts and move versions through the workflow; other staff who
can sign in to the admin only look. A version that is not a draft is shown read-only with its
children, and every write re-checks the status under a row lock (``version_require_draft``)
so that a version published while the form was open is not changed either. Workflow actions
call the services; a refused publication lists each quality violation as a message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from yiwang.accounts.models import User
from yiwang.catalog import bundles, process, services
from yiwang.catalog.access import catalog_can_edit, catalog_can_view_drafts
from yiwang.catalog.models import (
    Bundle,
    BundleMember,
    Faq,
    FeeItem,
    ItemType,
    ItemVersion,
    LegalBasis,
    Material,
    ProcessStep,
    ServiceItem,
    Situation,
    Theme,
)
from yiwang.catalog.quality import quality_check
from yiwang.core.audit import audit_record
from yiwang.core.errors import DomainError

if TYPE_CHECKING:
    ModelAdmin = admin.ModelAdmin
    TabularInline = admin.TabularInline
    StackedInline = admin.StackedInline
    AnyModelForm = ModelForm[Any]
    AnyFormSet = BaseInlineFormSet[Any, Any, Any]
else:
    ModelAdmin = admin.ModelAdmin
    TabularInline = admin.TabularInline
    StackedInline = admin.StackedInline
    AnyModelForm = ModelForm
    AnyFormSet = BaseInlineFormSet

Status = ItemVersion.Status


def _actor(request: HttpRequest) -> User:
    # The admin site only lets signed-in staff through, so this is always a User.
    return cast(User, request.user)


def _can_view(request: HttpRequest) -> bool:
    return bool(request.user.is_staff and catalog_can_view_drafts(request.user))


def _can_edit(request: HttpRequest) -> bool:
    return bool(request.user.is_staff and catalog_can_edit(request.user))


class CatalogAccessMixin:
    """Admin permissions from yiwang.catalog.access instead of model permissions."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _can_view(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _can_view(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return _can_edit(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _can_edit(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _can_edit(request)

    def has_edit_permission(self, request: HttpRequest) -> bool:
        """For the workflow actions (``@admin.action(permissions=["edit"])``)."""
        return _can_edit(request)


class _AuditedConfigAdmin(CatalogAccessMixin, ModelAdmin):  # type: ignore[type-arg]
    """Configuration lists: every change leaves an audit row."""

    audit_fields: tuple[str, ...] = ()

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before = {f: form.initial.get(f) for f in form.changed_data} if change else None
        super().save_model(request, obj, form, change)
        label = obj._meta.model_name
        audit_record(
            actor=request.user,
            action=f"catalog.{label}_change" if change else f"catalog.{label}_create",
            obj=obj,
            before=before,
            after={f: getattr(obj, f) for f in self.audit_fields},
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        object_id = str(obj.pk)
        label = obj._meta.model_name
        before = {f: getattr(obj, f) for f in self.audit_fields}
        super().delete_model(request, obj)
        audit_record(
            actor=request.user,
            action=f"catalog.{label}_delete",
            object_type=obj._meta.label_lower,
            object_id=object_id,
            before=before,
        )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(ItemType)
class ItemTypeAdmin(_AuditedConfigAdmin):
    list_display = ("code", "name", "is_power", "sort_order", "active")
    list_editable = ("sort_order", "active")
    search_fields = ("code", "name")
    audit_fields = ("code", "name", "is_power", "sort_order", "active")


@admin.register(Theme)
class ThemeAdmin(_AuditedConfigAdmin):
    list_display = ("name", "audience", "sort_order")
    list_filter = ("audience",)
    search_fields = ("name",)
    audit_fields = ("audience", "name", "sort_order")


# --- item versions -------------------------------------------------------------------------


class _VersionChildInline(CatalogAccessMixin):
    """Children of a version: editable while the version is a draft, read-only after."""

    extra = 0

    def _draft(self, obj: ItemVersion | None) -> bool:
        return obj is None or obj.status == Status.DRAFT

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _can_edit(request) and self._draft(obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _can_edit(request) and self._draft(obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _can_edit(request) and self._draft(obj)


class LegalBasisInline(_VersionChildInline, StackedInline):  # type: ignore[type-arg]
    model = LegalBasis
    fields = (("law_name", "doc_number", "article"), ("issuer", "effective_date"), "content")


class SituationInline(_VersionChildInline, TabularInline):  # type: ignore[type-arg]
    model = Situation
    fields = ("code", "name", "description", "sort_order")


class MaterialInline(_VersionChildInline, StackedInline):  # type: ignore[type-arg]
    model = Material
    fields = (
        ("name", "necessity", "sort_order"),
        ("kind", "form", "paper_count", "spec"),
        ("source", "source_explain"),
        ("certificate_type_code", "data_resource_code"),
        ("blank_form", "sample_file"),
        "situations",
        "notes",
        "accept_standard",
        "legal_basis",
    )
    filter_horizontal = ("situations",)

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        request._catalog_version = obj  # type: ignore[attr-defined]
        return super().get_formset(request, obj, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        # A material may only apply to situations of its own version.
        if db_field.name == "situations":
            version = getattr(request, "_catalog_version", None)
            kwargs["queryset"] = (
                Situation.objects.filter(version=version)
                if version is not None
                else Situation.objects.none()
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class FeeItemInline(_VersionChildInline, TabularInline):  # type: ignore[type-arg]
    model = FeeItem
    fields = ("name", "standard", "basis", "reducible", "reduce_basis", "sort_order")


class FaqInline(_VersionChildInline, StackedInline):  # type: ignore[type-arg]
    model = Faq
    fields = (("question", "sort_order"), "answer")


class ProcessStepInline(_VersionChildInline, TabularInline):  # type: ignore[type-arg]
    model = ProcessStep
    fields = ("name", "kind", "stage", "role", "department", "time_limit", "sort_order")


def _formfield(db_field: Any, **kwargs: Any) -> Any:
    # Addresses without a scheme are web addresses of government portals: https.
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


UPLOAD_FIELDS = frozenset({"bpmn_upload", "bpmn_reset", "dmn_upload", "dmn_clear"})


class ItemVersionForm(AnyModelForm):
    """The elements of a version; identity and workflow fields are not editable here."""

    class Meta:
        model = ItemVersion
        exclude = ("item", "number", "status", "bpmn_xml", "bpmn_custom", "dmn_xml")
        formfield_callback = _formfield

    TEXT_LISTS = ("server_types", "handle_forms", "special_procedures")

    # The process and the rules are uploaded as files and go through the process services,
    # which validate them with SpiffWorkflow's parser; its reason becomes the form error.
    bpmn_upload = forms.FileField(
        label=_("上传自定义 BPMN 流程"),
        required=False,
        help_text=_("BPMN 2.0 XML；不上传则按办理环节自动生成标准流程。"),
    )
    bpmn_reset = forms.BooleanField(label=_("改回按办理环节自动生成的标准流程"), required=False)
    dmn_upload = forms.FileField(
        label=_("上传 DMN 决策表"),
        required=False,
        help_text=_("用于资格判断和自动审批的 DMN 1.3 决策表。"),
    )
    dmn_clear = forms.BooleanField(label=_("删除 DMN 决策表"), required=False)

    def _xml_upload(self, name: str, kind: str) -> str | None:
        upload = self.cleaned_data.get(name)
        if not upload:
            return None
        if upload.size > process.MAX_XML_BYTES:
            raise forms.ValidationError(_("文件过大。"))
        raw = upload.read()
        try:
            text: str = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(_("文件不是 UTF-8 编码的 XML。")) from exc
        try:
            process.process_validate(text, kind=kind)
        except DomainError as exc:
            raise forms.ValidationError(str(exc.message)) from exc
        return text

    def clean_bpmn_upload(self) -> str | None:
        return self._xml_upload("bpmn_upload", "bpmn")

    def clean_dmn_upload(self) -> str | None:
        return self._xml_upload("dmn_upload", "dmn")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.TEXT_LISTS:
            # An empty list is a legitimate value (the quality rules judge it), not "missing".
            if name in self.fields:
                self.fields[name].required = False

    def _text_list(self, name: str) -> Any:
        value = self.cleaned_data.get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            raise forms.ValidationError(_("应为文字列表。"))
        return value

    def clean_server_types(self) -> Any:
        return self._text_list("server_types")

    def clean_handle_forms(self) -> Any:
        return self._text_list("handle_forms")

    def clean_special_procedures(self) -> Any:
        return self._text_list("special_procedures")


@admin.register(ItemVersion)
class ItemVersionAdmin(CatalogAccessMixin, ModelAdmin):  # type: ignore[type-arg]
    form = ItemVersionForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ("name", "task_code", "number", "status", "item_type", "dept_name", "updated_at")
    list_filter = ("status", "item_type", "use_level")
    search_fields = ("name", "item__task_code", "dept_name", "keywords")
    list_select_related = ("item", "item_type")
    filter_horizontal = ("themes",)
    readonly_fields = (
        "task_code",
        "number",
        "status",
        "submitted_at",
        "published_at",
        "published_by",
        "retired_at",
        "quality",
    )
    inlines = (
        LegalBasisInline,
        SituationInline,
        MaterialInline,
        FeeItemInline,
        FaqInline,
        ProcessStepInline,
    )
    actions = ("action_submit", "action_publish", "action_retire", "action_new_draft")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # new items come from item_create (import, demo, API); changes are drafts

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _can_edit(request) and (obj is None or obj.status == Status.DRAFT)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # versions are history: retire instead

    @admin.display(description=_("实施编码"), ordering="item__task_code")
    def task_code(self, obj: ItemVersion) -> str:
        return obj.item.task_code

    @admin.display(description=_("质量检查"))
    def quality(self, obj: ItemVersion) -> str:
        if obj.pk is None:
            return "—"
        violations = quality_check(obj)
        if not violations:
            return str(_("符合全部质量规则。"))
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>[{}] {} ({})</li>",
                (
                    ("错误" if v.severity == "error" else "提示", v.message, v.rule)
                    for v in violations
                ),
            ),
        )

    def save_model(self, request: HttpRequest, obj: ItemVersion, form: Any, change: bool) -> None:
        # Only what really differs from the stored row (form.changed_data also lists JSON
        # fields whose text was re-encoded), so the audit row shows the real change.
        stored = ItemVersion.objects.get(pk=obj.pk)
        changes = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in form.cleaned_data
            and name != "themes"
            and name not in UPLOAD_FIELDS
            and form.cleaned_data[name] != getattr(stored, name)
        }
        for name, value in changes.items():
            if value is False and name in ("result_sample",):
                changes[name] = ""  # the "clear" box of a file field
        # version_update re-reads and locks the row, refuses anything but a draft, validates
        # and audits the changed fields.
        if changes:
            services.version_update(actor=_actor(request), version=obj, **changes)
        else:  # only children or themes changed: still refuse anything but a draft
            services.version_require_draft(version=obj)
        data = form.cleaned_data
        if data.get("bpmn_upload"):
            process.process_set_custom(
                actor=_actor(request), version=obj, bpmn_xml=data["bpmn_upload"]
            )
        elif data.get("bpmn_reset"):
            process.process_reset_generated(actor=_actor(request), version=obj)
        if data.get("dmn_upload"):
            process.rules_set_dmn(actor=_actor(request), version=obj, dmn_xml=data["dmn_upload"])
        elif data.get("dmn_clear"):
            process.rules_set_dmn(actor=_actor(request), version=obj, dmn_xml="")

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        version = services.version_require_draft(version=form.instance)
        before_themes = sorted(version.themes.values_list("pk", flat=True))
        super().save_related(request, form, formsets, change)
        children: dict[str, Any] = {}
        for formset in formsets:
            name = formset.model._meta.model_name
            added = [str(o) for o in formset.new_objects]
            changed = [str(o) for o, _fields in formset.changed_objects]
            deleted = [str(o) for o in formset.deleted_objects]
            if added or changed or deleted:
                children[name] = {"added": added, "changed": changed, "deleted": deleted}
        after_themes = sorted(version.themes.values_list("pk", flat=True))
        if children or before_themes != after_themes:
            audit_record(
                actor=request.user,
                action="catalog.version_admin_children",
                obj=version,
                before={"themes": before_themes},
                after={"themes": after_themes, "children": children},
            )

    # --- workflow actions ------------------------------------------------------------------

    def _run(self, request: HttpRequest, queryset: QuerySet[ItemVersion], call: Any) -> None:
        done = 0
        for version in queryset.select_related("item"):
            try:
                call(version)
            except DomainError as exc:
                messages.error(request, f"{version}: {exc.message}")
                for v in exc.extra.get("violations", []):
                    level = messages.ERROR if v["severity"] == "error" else messages.WARNING
                    messages.add_message(request, level, f"{version} · {v['message']}")
            else:
                done += 1
        if done:
            messages.success(request, _("已处理 %(n)d 个版本。") % {"n": done})

    @admin.action(description=_("提交审核"), permissions=["edit"])
    def action_submit(self, request: HttpRequest, queryset: QuerySet[ItemVersion]) -> None:
        self._run(
            request, queryset, lambda v: services.version_submit(actor=_actor(request), version=v)
        )

    @admin.action(description=_("发布（先执行质量检查）"), permissions=["edit"])
    def action_publish(self, request: HttpRequest, queryset: QuerySet[ItemVersion]) -> None:
        self._run(
            request, queryset, lambda v: services.version_publish(actor=_actor(request), version=v)
        )

    @admin.action(description=_("停用"), permissions=["edit"])
    def action_retire(self, request: HttpRequest, queryset: QuerySet[ItemVersion]) -> None:
        self._run(
            request,
            queryset,
            lambda v: services.version_retire(
                actor=_actor(request), version=v, reason=str(_("管理后台停用"))
            ),
        )

    @admin.action(description=_("基于此版本新建草稿"), permissions=["edit"])
    def action_new_draft(self, request: HttpRequest, queryset: QuerySet[ItemVersion]) -> None:
        self._run(
            request,
            queryset,
            lambda v: services.version_new_draft(
                actor=_actor(request), item=v.item, from_version=v
            ),
        )


class ItemVersionReadInline(CatalogAccessMixin, TabularInline):  # type: ignore[type-arg]
    model = ItemVersion
    fields = ("number", "name", "status", "published_at", "retired_at")
    readonly_fields = fields
    extra = 0
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ServiceItem)
class ServiceItemAdmin(CatalogAccessMixin, ModelAdmin):  # type: ignore[type-arg]
    """Item identities with their versions; the codes never change once created."""

    list_display = ("task_code", "catalog_code", "department")
    search_fields = ("task_code", "catalog_code", "versions__name")
    list_select_related = ("department",)
    readonly_fields = ("task_code", "catalog_code", "department", "public_id")
    inlines = (ItemVersionReadInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- bundles (一件事) -----------------------------------------------------------------------


class BundleMemberInline(CatalogAccessMixin, TabularInline):  # type: ignore[type-arg]
    model = BundleMember
    fields = ("item", "stage", "required", "sort_order")
    autocomplete_fields = ("item",)
    extra = 0

    def _draft(self, obj: Any) -> bool:
        return obj is None or obj.status == Bundle.Status.DRAFT

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _can_edit(request) and self._draft(obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _can_edit(request) and self._draft(obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _can_edit(request) and self._draft(obj)


@admin.register(Bundle)
class BundleAdmin(CatalogAccessMixin, ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "code", "status", "lead_department", "dispatch", "promise_limit")
    list_filter = ("status", "dispatch")
    search_fields = ("name", "code", "keywords")
    filter_horizontal = ("cooperating_departments",)
    readonly_fields = ("status", "published_at")
    inlines = (BundleMemberInline,)
    actions = ("action_publish",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _can_edit(request) and (obj is None or obj.status == Bundle.Status.DRAFT)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _can_edit(request) and obj is not None and obj.status == Bundle.Status.DRAFT

    def save_model(self, request: HttpRequest, obj: Bundle, form: Any, change: bool) -> None:
        if change:
            locked = Bundle.objects.select_for_update().get(pk=obj.pk)
            if locked.status != Bundle.Status.DRAFT:
                raise DomainError("catalog.bundle_not_draft", _("只有草稿可以修改。"))
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action="catalog.bundle_change" if change else "catalog.bundle_create",
            obj=obj,
            after=bundles.bundle_snapshot(obj),
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        members = sorted(form.instance.members.values_list("item__task_code", flat=True))
        audit_record(
            actor=request.user,
            action="catalog.bundle_members_admin",
            obj=form.instance,
            after={"members": members},
        )

    @admin.action(description=_("发布"), permissions=["edit"])
    def action_publish(self, request: HttpRequest, queryset: QuerySet[Bundle]) -> None:
        for bundle in queryset:
            try:
                bundles.bundle_publish(actor=_actor(request), bundle=bundle)
            except DomainError as exc:
                messages.error(request, f"{bundle}: {exc.message}")
            else:
                messages.success(request, _("已发布：%(b)s") % {"b": bundle})
