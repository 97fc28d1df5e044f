"""Reading the log: proofs from the stored tiles, checkpoints, bundles, the published policy, and
the audit that recomputes everything from the entries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.db.models import Count

from yiwang.core.signing import signer
from yiwang.ledger import merkle, tiles
from yiwang.ledger.bundle import bundle_format
from yiwang.ledger.models import Checkpoint, Entry, LogState, LogWitness, Tile
from yiwang.ledger.note import TYPE_ED25519, vkey_format

MAX_LISTED = 100  # names in an audit report; the counts are exact


def ledger_origin() -> str:
    return str(getattr(settings, "YIWANG_LEDGER_ORIGIN", "ledger.yiwang.luan.example/v1"))


def log_size() -> int:
    state = LogState.objects.filter(id=1).values_list("size", flat=True).first()
    return int(state or 0)


def load_tiles(keys: Iterable[tiles.TileKey]) -> dict[tiles.TileKey, tiles.TileData]:
    """The tiles named, in one query. Raw SQL: this is the hot path of every proof, and
    compiling the equivalent ORM query costs more than running it."""
    by_level: dict[int, list[int]] = {}
    for level, index in keys:
        by_level.setdefault(level, []).append(index)
    if not by_level:
        return {}
    where, params = [], []
    for level, indexes in by_level.items():
        where.append(f"(level = %s AND tile_index IN ({', '.join(['%s'] * len(indexes))}))")
        params += [level, *indexes]
    # Only placeholders and the model's own table name are interpolated.
    sql = f"SELECT level, tile_index, width, hashes FROM {Tile._meta.db_table} WHERE "  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql + " OR ".join(where), params)
        return {(lv, ix): (w, bytes(h)) for lv, ix, w, h in cursor.fetchall()}


def _stored_proof(ranges: list[merkle.Range]) -> list[bytes]:
    nodes = [n for lo, hi in ranges for n in merkle.range_nodes(lo, hi)]
    known = load_tiles(tiles.tile_keys(nodes))
    try:
        return merkle.proof_from_nodes(ranges, lambda n: tiles.node_from(known, n))
    except KeyError as exc:
        raise merkle.ProofError("the stored tree is missing a node") from exc


def inclusion_proof(index: int, size: int) -> list[bytes]:
    """Audit path of entry ``index`` in the tree of ``size`` (any size up to the log's). A size
    beyond the log needs a node that is not stored yet, so it raises ProofError without a
    separate look at the log state."""
    return _stored_proof(merkle.inclusion_ranges(index, size))


def consistency_proof(size1: int, size2: int) -> list[bytes]:
    return _stored_proof(merkle.consistency_ranges(size1, size2))


def latest_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-size", "-created_at", "-id").first()


def cosigned_note(checkpoint: Checkpoint) -> str:
    """The checkpoint note with the witnesses' cosignature lines appended (verifiers ignore
    signature lines of keys they do not know)."""
    lines = [c.line.rstrip("\n") + "\n" for c in checkpoint.cosignatures.order_by("witness")]
    return checkpoint.note + "".join(lines)


def _bundle_checkpoint(index: int) -> Checkpoint | None:
    """The latest checkpoint covering ``index`` that a majority of the active witnesses
    cosigned (the published quorum), else the latest covering it: a minute in which the
    witnesses were unreachable must not leave new bundles without cosignatures."""
    covering = Checkpoint.objects.filter(size__gt=index).order_by("-size", "-id")
    witnesses = LogWitness.objects.filter(active=True).count()
    if witnesses:
        quorum = witnesses // 2 + 1
        cosigned = covering.annotate(n=Count("cosignatures")).filter(n__gte=quorum).first()
        if cosigned is not None:
            return cosigned
    return covering.first()


def entry_bundle(entry: Entry) -> str | None:
    """The tlog-proof of an entry (see _bundle_checkpoint), with the leaf input as extra
    data; None until the entry is integrated and a checkpoint covers it."""

    entry.refresh_from_db(fields=["index"])
    if entry.index is None:
        return None
    checkpoint = _bundle_checkpoint(entry.index)
    if checkpoint is None:
        return None
    proof = inclusion_proof(entry.index, checkpoint.size)
    return bundle_format(entry.index, proof, cosigned_note(checkpoint), bytes(entry.leaf_input))


def log_policy_text() -> str:
    """The tlog-policy the log publishes: its Ed25519 key, the active witnesses and a majority
    quorum of them (none while the log has no witness)."""

    origin = ledger_origin()
    key = vkey_format(origin, TYPE_ED25519, signer("ledger.log", "ed25519").public_key())
    lines = [f"log {key}"]
    witnesses = list(LogWitness.objects.filter(active=True).order_by("name"))
    lines.extend(f"witness {w.name} {w.vkey}" for w in witnesses)
    if witnesses:
        names = " ".join(w.name for w in witnesses)
        lines.append(f"group witnesses {len(witnesses) // 2 + 1} {names}")
        lines.append("quorum witnesses")
    else:
        lines.append("quorum none")
    return "".join(line + "\n" for line in lines)


# --- audit ------------------------------------------------------------------------------------


@dataclass
class AuditResult:
    size: int = 0
    entries: int = 0
    altered: list[int] = field(default_factory=list)  # leaf input no longer matches the tree
    missing: list[int] = field(default_factory=list)  # index gone from 0..size-1
    bad_tiles: list[tiles.TileKey] = field(default_factory=list)  # stored hash ≠ recomputed
    forked_checkpoints: list[int] = field(default_factory=list)  # Checkpoint ids, root ≠ tree
    root_ok: bool = True
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (
            not (self.altered or self.missing or self.bad_tiles or self.forked_checkpoints)
            and self.root_ok
        )

    @property
    def first_altered(self) -> int | None:
        return min(self.altered, default=None)

    def note(self, kind: str, value: object) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        bucket = getattr(self, kind)
        if len(bucket) < MAX_LISTED:
            bucket.append(value)


class _Rebuild:
    """Rebuilds the tree from recomputed leaf hashes batch by batch, keeping only the right
    edge, and compares every tile it produces with the stored one."""

    def __init__(self, result: AuditResult) -> None:
        self.result = result
        self.size = 0
        self.edge: dict[tiles.TileKey, tiles.TileData] = {}
        # Positions where the recomputed leaf hash differs from the stored tile.
        self.leaf_diffs: list[int] = []

    def add(self, leaves: list[bytes]) -> None:
        """Full tiles are final and compared now; partial ones (the right edge) at finish()."""
        changed = tiles.extend(self.size, leaves, lambda k: tiles.tile_base(*self.edge[k]))
        full = {k: d for k, d in changed.items() if d[0] == tiles.WIDTH}
        self._compare(full)
        for key, data in changed.items():
            if data[0] < tiles.WIDTH:
                self.edge[key] = data
            else:
                self.edge.pop(key, None)
        self.size += len(leaves)

    def finish(self) -> None:
        self._compare(self.edge)

    def _compare(self, built: dict[tiles.TileKey, tiles.TileData]) -> None:
        stored = load_tiles(built.keys())
        for key, (width, blob) in sorted(built.items()):
            if stored.get(key) != (width, blob):
                self.result.note("bad_tiles", key)
                if key[0] == 0 and key in stored:
                    self._name_leaves(key, blob, stored[key][1])

    def _name_leaves(self, key: tiles.TileKey, blob: bytes, stored: bytes) -> None:
        size = merkle.HASH_SIZE
        for j in range(min(len(blob), len(stored)) // size):
            if (
                j < tiles.WIDTH
                and blob[j * size : (j + 1) * size] != stored[j * size : (j + 1) * size]
            ):
                self.leaf_diffs.append(key[1] * tiles.WIDTH + j)


def ledger_audit(batch: int = 4096) -> AuditResult:
    """Recompute every leaf hash from the stored leaf inputs, rebuild the tree, and compare it
    with the stored tiles, the log state and every stored checkpoint's root.

    A missing entry is stood in for by the stored tile's leaf hash so that the rest of the log
    is still checked; it is reported by index."""
    state = LogState.objects.filter(id=1).first()
    size = state.size if state else 0
    result = AuditResult(size=size)
    checkpoints: dict[int, list[tuple[int, bytes]]] = {}
    for cid, csize, croot in Checkpoint.objects.values_list("id", "size", "root"):
        checkpoints.setdefault(csize, []).append((cid, bytes(croot)))
    rebuild = _Rebuild(result)
    compact = merkle.CompactRange()

    def check_roots() -> None:
        for cid, croot in checkpoints.get(compact.size, []):
            if croot != compact.root():
                result.note("forked_checkpoints", cid)

    check_roots()
    rows = (
        Entry.objects.filter(index__isnull=False)
        .order_by("index")
        .values_list("index", "leaf_input", "leaf_hash")
        .iterator(chunk_size=batch)
    )
    expected = 0
    leaves: list[bytes] = []

    def flush() -> None:
        if leaves:
            rebuild.add(leaves)
            leaves.clear()

    for index, leaf_input, stored_hash in rows:
        if index is None or index >= size:  # None is filtered out above
            break
        while expected < index:  # a gap: entries removed
            result.note("missing", expected)
            leaves.append(_stored_leaf(expected))
            compact.append(leaves[-1])
            check_roots()
            expected += 1
        computed = merkle.leaf_hash(bytes(leaf_input))
        result.entries += 1
        if computed != bytes(stored_hash):
            result.note("altered", index)
        leaves.append(computed)
        compact.append(computed)
        check_roots()
        expected += 1
        if len(leaves) >= batch:
            flush()
    while expected < size:
        result.note("missing", expected)
        leaves.append(_stored_leaf(expected))
        compact.append(leaves[-1])
        check_roots()
        expected += 1
    flush()
    rebuild.finish()
    result.root_ok = state is None or compact.root() == bytes(state.root)
    # A leaf that differs from its stored tile is an altered entry (input and leaf_hash column
    # rewritten together) when the entries no longer give the signed roots; when they still do,
    # only the tile was damaged, and bad_tiles says so.
    if not result.root_ok or result.forked_checkpoints:
        for index in rebuild.leaf_diffs:
            if index not in result.altered:
                result.note("altered", index)
    for csize, items in checkpoints.items():
        if csize > size:
            result.forked_checkpoints.extend(cid for cid, _root in items)
    result.altered.sort()
    return result


def _stored_leaf(index: int) -> bytes:
    key = (0, index // tiles.WIDTH)
    found = load_tiles([key])
    if key not in found:
        return b"\x00" * merkle.HASH_SIZE
    try:
        return tiles.node_from(found, (0, index))
    except KeyError:
        return b"\x00" * merkle.HASH_SIZE
