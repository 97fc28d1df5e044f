"""Writing to the log: append, integrate, publish checkpoints, anchor the audit trail.

``entry_append`` runs in the caller's transaction and only inserts a pending row, so issuing a
certificate never waits for the tree. ``ledger_integrate`` (every 2 s) gives pending rows their
indexes and extends the stored tree; it locks the ``LogState`` row, so two integrators (two
workers, a command and the beat) never interleave and a rerun after a crash repeats nothing.
``checkpoint_publish`` (every 60 s) signs the current size and root and gathers witnesses'
cosignatures; a witness that is down costs a timeout, not the checkpoint.
"""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import rfc8785
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from yiwang.core.models import AuditHead
from yiwang.core.signing import signer
from yiwang.ledger import merkle, tiles, witness_client
from yiwang.ledger.checkpoint import Checkpoint as CheckpointBody
from yiwang.ledger.checkpoint import checkpoint_format
from yiwang.ledger.models import Checkpoint, Cosignature, Entry, LogState, LogWitness, Tile
from yiwang.ledger.note import note_sign, vkey_parse
from yiwang.ledger.selectors import (
    consistency_proof,
    cosigned_note,
    entry_bundle,
    ledger_origin,
    load_tiles,
)

__all__ = ["cosigned_note", "entry_bundle"]  # part of the services interface

logger = logging.getLogger("yiwang.ledger")

KINDS = (
    "certificate.issue",
    "certificate.version",
    "certificate.revoke",
    "audit.anchor",
    "exchange.anchor",
)
WITNESS_TIMEOUT_SECONDS = 5.0


def leaf_input_encode(*, kind: str, subject: str, payload: dict[str, Any], at: datetime) -> bytes:
    """RFC 8785 canonical JSON: any verifier re-encodes the same event to the same bytes."""
    stamp = at.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    return rfc8785.dumps(
        {"v": 1, "kind": kind, "subject": subject, "payload": payload, "at": stamp}
    )


def entry_append(*, kind: str, subject: str, payload: dict[str, Any]) -> Entry:
    if kind not in KINDS:
        raise ValueError(f"unknown ledger entry kind {kind!r}")
    now = datetime.now(UTC)
    data = leaf_input_encode(kind=kind, subject=subject, payload=payload, at=now)
    return Entry.objects.create(
        kind=kind,
        subject=subject,
        leaf_input=data,
        leaf_hash=merkle.leaf_hash(data),
        created_at=now,
    )


def _locked_state() -> LogState:
    LogState.objects.get_or_create(id=1)
    return LogState.objects.select_for_update().get(id=1)


def _assign_indexes(ids: list[int], first_index: int) -> None:
    """One UPDATE per run of consecutive ids (usually one per batch): ids are ordered, so
    index = id - run start + the run's first index."""
    start = 0
    while start < len(ids):
        end = start
        while end + 1 < len(ids) and ids[end + 1] == ids[end] + 1:
            end += 1
        Entry.objects.filter(id__gte=ids[start], id__lte=ids[end]).update(
            index=F("id") - ids[start] + first_index + start
        )
        start = end + 1


def ledger_integrate(max_batch: int = 10_000) -> int:
    """Integrate up to ``max_batch`` pending entries; returns how many. Memory: the batch's
    leaf hashes plus one partial tile per tile level (the right edge), whatever the log size."""
    # Runs every 2 s: with nothing pending, do not take the log's lock (on SQLite, the
    # database's write lock) at all.
    if not Entry.objects.filter(index__isnull=True).exists():
        return 0
    with transaction.atomic():
        state = _locked_state()
        pending = list(
            Entry.objects.filter(index__isnull=True)
            .order_by("id")
            .values_list("id", "leaf_hash")[:max_batch]
        )
        if not pending:
            return 0
        ids = [row[0] for row in pending]
        leaves = [bytes(row[1]) for row in pending]

        def load_base(key: tiles.TileKey) -> list[bytes]:
            width, blob = load_tiles({key})[key]
            return tiles.tile_base(width, blob)

        changed = tiles.extend(state.size, leaves, load_base)
        new_size = state.size + len(leaves)
        _assign_indexes(ids, state.size)
        Tile.objects.bulk_create(
            [Tile(level=k[0], index=k[1], width=w, hashes=b) for k, (w, b) in changed.items()],
            update_conflicts=True,
            unique_fields=["level", "index"],
            update_fields=["width", "hashes"],
        )
        nodes = merkle.range_nodes(0, new_size)
        known = dict(changed)
        known.update(load_tiles(tiles.tile_keys(nodes) - known.keys()))
        state.size = new_size
        state.root = merkle.fold([tiles.node_from(known, n) for n in nodes])
        state.save(update_fields=["size", "root", "updated_at"])
    return len(leaves)


def ledger_integrate_all(max_batch: int = 10_000) -> int:
    total = 0
    while count := ledger_integrate(max_batch):
        total += count
    return total


def entry_anchor() -> Entry:
    """Commit the core audit trail's head (seq, last hash) into the log, so that rewriting the
    audit trail after the anchor also needs a fork of the witnessed log."""
    head = AuditHead.objects.filter(id=1).first()
    seq, last_hash = (head.seq, head.last_hash) if head else (0, "0" * 64)
    with transaction.atomic():
        return entry_append(
            kind="audit.anchor",
            subject=f"audit:{seq}",
            payload={"seq": seq, "last_hash": last_hash},
        )


def _log_signers() -> list[tuple[str, Any]]:
    origin = ledger_origin()
    return [(origin, signer("ledger.log", "ed25519")), (origin, signer("ledger.log", "sm2"))]


def _ask_witness(witness: LogWitness, checkpoint: Checkpoint) -> str | None:
    """One witness's cosignature line, or None. A 409 tells the size it has: retry once from
    there (it may have cosigned a checkpoint whose answer we lost)."""
    old = witness.last_size
    for _attempt in range(2):
        if old > checkpoint.size:
            logger.warning("witness %s is ahead of the log (%s)", witness.name, old)
            return None
        proof = consistency_proof(old, checkpoint.size) if 0 < old < checkpoint.size else []
        result = witness_client.add_checkpoint(
            witness.url, old, proof, checkpoint.note, timeout=WITNESS_TIMEOUT_SECONDS
        )
        if result.ok:
            LogWitness.objects.filter(id=witness.id).update(last_size=checkpoint.size)
            return result.cosignature_lines[0]
        if result.status == 409 and result.conflict_size is not None:
            old = result.conflict_size
            LogWitness.objects.filter(id=witness.id).update(last_size=old)
            continue
        logger.warning(
            "witness %s refused or is down: %s %s", witness.name, result.status, result.error
        )
        return None
    return None


def checkpoint_publish(*, force: bool = True) -> Checkpoint:
    """Sign the integrated tree and ask each active witness to cosign it.

    Without ``force`` (the periodic job) a log that has not grown since the latest checkpoint
    gets a new one only after ``YIWANG_LEDGER_CHECKPOINT_REFRESH`` seconds: witnesses still see
    it regularly (fresh timestamps), and the table does not gain 1,440 identical rows a day."""
    state, _created = LogState.objects.get_or_create(id=1)
    if not force:
        latest = Checkpoint.objects.order_by("-id").first()
        refresh = timedelta(seconds=settings.YIWANG_LEDGER_CHECKPOINT_REFRESH)
        if latest and latest.size == state.size and timezone.now() - latest.created_at < refresh:
            return latest
    root = bytes(state.root)
    text = checkpoint_format(CheckpointBody(ledger_origin(), state.size, root))
    checkpoint = Checkpoint.objects.create(
        size=state.size, root=root, note=note_sign(text, _log_signers())
    )
    for witness in LogWitness.objects.filter(active=True).order_by("name"):
        line = _ask_witness(witness, checkpoint)
        if line:
            Cosignature.objects.create(checkpoint=checkpoint, witness=witness.name, line=line)
    return checkpoint


def witness_add(*, name: str, url: str, vkey: str) -> LogWitness:
    vkey_parse(vkey)  # NoteError on a malformed key: refuse before storing
    witness, _created = LogWitness.objects.update_or_create(
        name=name, defaults={"url": url, "vkey": vkey, "active": True}
    )
    return witness


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
