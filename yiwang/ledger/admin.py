"""Read-only admin: the log only changes through its services (append, integrate, publish) and
``yiwang ledger add-witness``; an edit here would be exactly the tampering the audit reports."""

from __future__ import annotations

from django.contrib import admin

from yiwang.core.admin import ReadOnlyAdmin
from yiwang.ledger.models import Checkpoint, Cosignature, Entry, LogState, LogWitness


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ["index", "kind", "subject", "created_at"]
    list_filter = ["kind"]
    search_fields = ["subject"]
    exclude = ["leaf_input", "leaf_hash"]  # bytes: the API and the audit show them
    ordering = ["-id"]


@admin.register(LogState)
class LogStateAdmin(ReadOnlyAdmin):
    list_display = ["size", "updated_at"]
    exclude = ["root"]


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ["size", "created_at"]
    exclude = ["root"]
    ordering = ["-id"]


@admin.register(Cosignature)
class CosignatureAdmin(ReadOnlyAdmin):
    list_display = ["checkpoint", "witness", "received_at"]


@admin.register(LogWitness)
class LogWitnessAdmin(ReadOnlyAdmin):
    list_display = ["name", "url", "active", "last_size"]
