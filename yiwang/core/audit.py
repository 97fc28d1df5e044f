"""The append-only, hash-chained audit trail.

``audit_record`` is called by every service that changes state, inside that service's
transaction, so that the change and its audit row commit or roll back together.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from yiwang.core.models import AuditEntry, AuditHead

GENESIS_HASH = "0" * 64


def _canonical(fields: dict[str, Any]) -> bytes:
    return json.dumps(
        fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str
    ).encode()


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + _canonical(fields)).hexdigest()


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    reason: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    on_behalf_of: Any = None,
) -> AuditEntry:
    """Append one audit row. Must run inside the caller's transaction (it refuses otherwise)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    head, _ = AuditHead.objects.select_for_update().get_or_create(id=1)
    fields = {
        "seq": head.seq + 1,
        "created_at": timezone.now().isoformat(),
        "actor_id": getattr(actor, "pk", None),
        "actor_label": str(actor) if actor is not None else "",
        "on_behalf_of_id": getattr(on_behalf_of, "pk", None),
        "on_behalf_of_label": str(on_behalf_of) if on_behalf_of is not None else "",
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "reason": reason,
        "before": before,
        "after": after,
    }
    digest = entry_hash(head.last_hash, fields)
    entry = AuditEntry.objects.create(
        **{**fields, "created_at": timezone.datetime.fromisoformat(fields["created_at"])},
        prev_hash=head.last_hash,
        entry_hash=digest,
    )
    head.seq, head.last_hash = fields["seq"], digest
    head.save(update_fields=["seq", "last_hash"])
    return entry
