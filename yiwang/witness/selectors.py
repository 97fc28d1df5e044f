"""Reads for the witness status page."""

from __future__ import annotations

import hashlib

from django.db.models import Count, QuerySet

from yiwang.witness.models import WitnessedLog


def witnessed_logs() -> QuerySet[WitnessedLog]:
    return WitnessedLog.objects.annotate(evidence_count=Count("evidence")).order_by("origin")


def witnessed_checkpoint(origin_hash: str) -> str | None:
    """The latest cosigned checkpoint (with this witness's cosignature) of the log whose origin
    hashes (SHA-256, hex) to ``origin_hash``: the tlog-witness monitoring path."""
    for origin, checkpoint in WitnessedLog.objects.values_list("origin", "checkpoint"):
        if hashlib.sha256(origin.encode()).hexdigest() == origin_hash:
            return checkpoint or None
    return None
