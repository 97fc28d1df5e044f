"""Read-only admin: the log only changes through its services (append, integrate, publish) and
``yiwang ledger add-witness``; an edit here would be exactly the tampering the audit reports."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from yiwang.ledger.models import Checkpoint, Cosignature, Entry, LogState, LogWitness


class ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Entry)
class EntryAdmin(ReadOnly):
    list_display = ["index", "kind", "subject", "created_at"]
    list_filter = ["kind"]
    search_fields = ["subject"]
    exclude = ["leaf_input", "leaf_hash"]  # bytes: the API and the audit show them
    ordering = ["-id"]


@admin.register(LogState)
class LogStateAdmin(ReadOnly):
    list_display = ["size", "updated_at"]
    exclude = ["root"]


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnly):
    list_display = ["size", "created_at"]
    exclude = ["root"]
    ordering = ["-id"]


@admin.register(Cosignature)
class CosignatureAdmin(ReadOnly):
    list_display = ["checkpoint", "witness", "received_at"]


@admin.register(LogWitness)
class LogWitnessAdmin(ReadOnly):
    list_display = ["name", "url", "active", "last_size"]
