"""Read-only admin: the witness's state changes only through its protocol and its command
(``yiwang witness init`` / ``trust-log``), so that every change is checked and audited."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from yiwang.witness.models import WitnessedLog, WitnessEvidence, WitnessIdentity


class ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(WitnessIdentity)
class WitnessIdentityAdmin(ReadOnly):
    list_display = ["name", "created_at"]


@admin.register(WitnessedLog)
class WitnessedLogAdmin(ReadOnly):
    list_display = ["origin", "size", "cosigned_at", "updated_at"]
    readonly_fields = ["origin", "log_vkeys", "size", "root_hash", "checkpoint", "cosigned_at"]


@admin.register(WitnessEvidence)
class WitnessEvidenceAdmin(ReadOnly):
    list_display = ["log", "reason", "witnessed_size", "created_at"]
    readonly_fields = ["log", "reason", "witnessed_size", "witnessed_root", "request_body"]
