"""Django admin: everything of the exchange is read-only here. Resources, requests and grants
change through the services (permission checks, row locks, audit rows), the access log only
through the gateway (its hash chain), snapshots only through ``file_refresh``."""

from __future__ import annotations

from django.contrib import admin

from yiwang.core.admin import ReadOnlyAdmin
from yiwang.exchange.models import (
    AccessAnomaly,
    AccessLogEntry,
    DataResource,
    Grant,
    SharingRequest,
)


@admin.register(DataResource)
class DataResourceAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "owner", "sharing_class", "adapter_kind", "status")
    list_filter = ("status", "sharing_class", "adapter_kind", "subject_type")
    search_fields = ("code", "name")
    # the adapter configuration may hold an owner's database credentials
    exclude = ("adapter_config",)


@admin.register(SharingRequest)
class SharingRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "resource", "consumer", "status", "created_at", "decided_at")
    list_filter = ("status",)
    search_fields = ("resource__code", "consumer__name")


@admin.register(Grant)
class GrantAdmin(ReadOnlyAdmin):
    list_display = ("id", "resource", "consumer", "valid_from", "valid_until", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("resource__code", "consumer__name")


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(ReadOnlyAdmin):
    list_display = ("seq", "created_at", "consumer_label", "resource_code", "outcome", "code")
    list_filter = ("outcome",)
    search_fields = ("resource_code", "case_number", "consumer_label")
    exclude = ("subject_index",)


@admin.register(AccessAnomaly)
class AccessAnomalyAdmin(ReadOnlyAdmin):
    list_display = ("resource", "consumer", "window_end", "calls", "cases", "closed_at")
    list_filter = ("closed_at",)
