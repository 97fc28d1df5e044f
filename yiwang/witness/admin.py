"""Read-only admin: the witness's state changes only through its protocol and its command
(``yiwang witness init`` / ``trust-log``), so that every change is checked and audited."""

from __future__ import annotations

from django.contrib import admin

from yiwang.core.admin import ReadOnlyAdmin
from yiwang.witness.models import WitnessedLog, WitnessEvidence, WitnessIdentity


@admin.register(WitnessIdentity)
class WitnessIdentityAdmin(ReadOnlyAdmin):
    list_display = ["name", "created_at"]


@admin.register(WitnessedLog)
class WitnessedLogAdmin(ReadOnlyAdmin):
    list_display = ["origin", "size", "cosigned_at", "updated_at"]
    readonly_fields = ["origin", "log_vkeys", "size", "root_hash", "checkpoint", "cosigned_at"]


@admin.register(WitnessEvidence)
class WitnessEvidenceAdmin(ReadOnlyAdmin):
    list_display = ["log", "reason", "witnessed_size", "created_at"]
    readonly_fields = ["log", "reason", "witnessed_size", "witnessed_root", "request_body"]
