"""Django admin for administrators. Personal data is shown masked and never edited here;
changes that the services own (staff accounts, roles, delegations, tokens) go through them so
that the admin leaves the same audit trail as every other door."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import transaction
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from yiwang.accounts import services
from yiwang.accounts.models import (
    ApiToken,
    Delegation,
    Department,
    Enterprise,
    EnterpriseMember,
    RoleAssignment,
    User,
)
from yiwang.core.audit import audit_record
from yiwang.core.errors import DomainError
from yiwang.core.masking import mask_id_number, mask_name, mask_phone

# The stubs make these generic; at run time Django's classes are not subscriptable (and
# django-stubs-ext is a development dependency only).
if TYPE_CHECKING:
    DepartmentAdminBase = admin.ModelAdmin[Department]
    EnterpriseAdminBase = admin.ModelAdmin[Enterprise]
    RoleAssignmentAdminBase = admin.ModelAdmin[RoleAssignment]
    DelegationAdminBase = admin.ModelAdmin[Delegation]
    ApiTokenAdminBase = admin.ModelAdmin[ApiToken]
    RoleInlineBase = admin.TabularInline[RoleAssignment, User]
    MemberInlineBase = admin.TabularInline[EnterpriseMember, Enterprise]
    AnyModelForm = ModelForm[Any]
    UserAdminBase = DjangoUserAdmin[User]
else:
    DepartmentAdminBase = EnterpriseAdminBase = RoleAssignmentAdminBase = admin.ModelAdmin
    DelegationAdminBase = ApiTokenAdminBase = admin.ModelAdmin
    RoleInlineBase = MemberInlineBase = admin.TabularInline
    AnyModelForm = ModelForm
    UserAdminBase = DjangoUserAdmin


@admin.register(Department)
class DepartmentAdmin(DepartmentAdminBase):
    list_display = ("tree_name", "code", "kind", "division_code", "active")
    list_filter = ("kind", "active")
    search_fields = ("name", "short_name", "code", "division_code")
    list_select_related = ("parent", "parent__parent", "parent__parent__parent")
    autocomplete_fields = ("parent",)
    ordering = ("parent_id", "sort_order", "code")

    @admin.display(description=_("机构（上级 › 本级）"), ordering="name")
    def tree_name(self, obj: Department) -> str:
        path = [obj.name]
        node = obj.parent
        while node is not None:
            path.append(node.short_name or node.name)
            node = node.parent
        return " › ".join(reversed(path))

    def save_model(self, request: HttpRequest, obj: Department, form: Any, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_record(
                actor=request.user,
                action="accounts.department_change" if change else "accounts.department_create",
                obj=obj,
                after={"code": obj.code, "name": obj.name, "parent_id": obj.parent_id},
            )


class RoleAssignmentInline(RoleInlineBase):
    """Read-only here: grant and revoke through the 角色授权 list, which calls the services."""

    model = RoleAssignment
    fk_name = "user"
    extra = 0
    fields = ("role", "department", "include_subtree", "created_at")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EnterpriseMemberInline(MemberInlineBase):
    model = EnterpriseMember
    extra = 0
    fields = ("user", "capacity", "created_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(UserAdminBase):
    """Users. ID and phone numbers appear masked and read-only; citizens correct them at a
    window with their original documents, never through this form."""

    list_display = ("username", "masked_real_name", "kind", "department", "is_active")
    list_filter = ("kind", "is_active", "is_superuser", "department")
    search_fields = ("username", "real_name")
    ordering = ("username",)
    readonly_fields = (
        "public_id",
        "masked_id_number",
        "masked_phone",
        "real_name_verified_at",
        "last_login",
        "date_joined",
    )
    fieldsets = (
        (None, {"fields": ("username", "password", "public_id")}),
        (
            _("身份"),
            {
                "fields": (
                    "kind",
                    "real_name",
                    "masked_id_number",
                    "masked_phone",
                    "real_name_verified_at",
                    "department",
                )
            },
        ),
        (_("偏好"), {"fields": ("elder_mode", "preferred_language")}),
        (_("权限"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("时间"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "real_name", "kind", "department", "password1", "password2"),
            },
        ),
    )
    inlines = (RoleAssignmentInline,)

    @admin.display(description=_("姓名"))
    def masked_real_name(self, obj: User) -> str:
        return mask_name(obj.real_name)

    @admin.display(description=_("身份证号码"))
    def masked_id_number(self, obj: User) -> str:
        return mask_id_number(obj.id_number)

    @admin.display(description=_("手机号码"))
    def masked_phone(self, obj: User) -> str:
        return mask_phone(obj.phone)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        with transaction.atomic():
            before = (
                services.user_snapshot(User.objects.get(pk=obj.pk)) if change and obj.pk else None
            )
            super().save_model(request, obj, form, change)
            audit_record(
                actor=request.user,
                action="accounts.user_admin_change" if change else "accounts.user_admin_create",
                obj=obj,
                before=before,
                after=services.user_snapshot(obj),
            )


@admin.register(Enterprise)
class EnterpriseAdmin(EnterpriseAdminBase):
    list_display = ("name", "uscc", "masked_representative", "division_code")
    search_fields = ("name", "uscc")
    fields = (
        "public_id",
        "uscc",
        "name",
        "masked_representative",
        "masked_representative_id",
        "division_code",
    )
    readonly_fields = fields
    inlines = (EnterpriseMemberInline,)

    @admin.display(description=_("法定代表人"))
    def masked_representative(self, obj: Enterprise) -> str:
        return mask_name(obj.legal_representative)

    @admin.display(description=_("法定代表人身份证号码"))
    def masked_representative_id(self, obj: Enterprise) -> str:
        return mask_id_number(obj.legal_representative_id_number)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # enterprises are registered by their people (enterprise_register)


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(RoleAssignmentAdminBase):
    """Grant and revoke roles; both go through the services (admin check, audit row)."""

    list_display = ("user", "role", "department", "include_subtree", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "user__real_name", "department__name")
    autocomplete_fields = ("user", "department")
    list_select_related = ("user", "department")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # An assignment is granted or revoked, never edited in place.
        return ("user", "role", "department", "include_subtree") if obj else ()

    def save_model(
        self, request: HttpRequest, obj: RoleAssignment, form: AnyModelForm, change: bool
    ) -> None:
        if change:
            return
        granted = services.role_grant(
            actor=request.user,  # type: ignore[arg-type]
            user=obj.user,
            role=obj.role,
            department=obj.department,
            include_subtree=obj.include_subtree,
        )
        obj.pk = granted.pk

    def delete_model(self, request: HttpRequest, obj: RoleAssignment) -> None:
        services.role_revoke(
            actor=request.user,  # type: ignore[arg-type]
            assignment=obj,
            reason=str(_("管理后台撤销")),
        )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[RoleAssignment]) -> None:
        for assignment in queryset:
            self.delete_model(request, assignment)


@admin.register(Delegation)
class DelegationAdmin(DelegationAdminBase):
    """Read-only: delegations are granted by the citizen or recorded at a window."""

    list_display = ("principal", "agent", "scopes", "starts_at", "expires_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("principal__username", "agent__username")
    readonly_fields = (
        "public_id",
        "principal",
        "agent",
        "scopes",
        "starts_at",
        "expires_at",
        "revoked_at",
        "note",
        "recorded_by",
    )
    fields = readonly_fields
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("撤销所选代办授权"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[Delegation]) -> None:
        for delegation in queryset.filter(revoked_at__isnull=True):
            try:
                services.delegation_revoke(delegation=delegation, actor=request.user)  # type: ignore[arg-type]
            except DomainError as exc:
                self.message_user(request, str(exc.message), messages.ERROR)


@admin.register(ApiToken)
class ApiTokenAdmin(ApiTokenAdminBase):
    """Read-only: only the token's prefix and hash are stored; the token itself was shown
    once to the person who created it."""

    list_display = ("name", "user", "kind", "prefix", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("kind",)
    search_fields = ("name", "user__username", "prefix")
    readonly_fields = (
        "user",
        "kind",
        "name",
        "prefix",
        "token_hash",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "created_at",
    )
    fields = readonly_fields
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("撤销所选令牌"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset.filter(revoked_at__isnull=True):
            services.api_token_revoke(actor=request.user, token=token)  # type: ignore[arg-type]
