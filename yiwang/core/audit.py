"""The append-only, hash-chained audit trail.

``audit_record`` is called by every service that changes state, inside that service's
transaction, so that the change and its audit row commit or roll back together.
``audit_verify`` walks the chain and names the first row that was altered, removed or
reordered (``yiwang audit verify`` prints its report).

How the chain is built
----------------------
* One order. Every write locks the single ``AuditHead`` row (``SELECT ... FOR UPDATE``) and
  takes ``seq = head.seq + 1``, so concurrent transactions append one after the other; the
  unique ``seq`` backs this up. SQLite serialises writers anyway (``BEGIN IMMEDIATE``).
  When the head is still where this process last left it, the lock, the check and the move
  are one ``UPDATE ... WHERE seq = s AND last_hash = h`` (0 rows: the plain path).
  ``audit_append`` chains many rows with one move of the head and one INSERT.
* Chained at commit. The head's lock is held until the transaction ends, and every writer of
  the city waits for it. So the rows a transaction records are kept (yiwang.core.db.precommit)
  and chained all at once just before its COMMIT: one move of the head per transaction, and
  the lock is held for that move and the commit only, whatever the transaction does after
  its first audit row. They still commit or roll back with the change: the move is inside
  the transaction. Until then the returned rows have no ``seq`` or hash. Where there is no
  such point (another database backend; only a test case's transaction) they are chained at
  once, as before.
* Hash. ``entry_hash = SM3(prev_hash_hex || canonical_json(fields))`` in lower-case hex, where
  ``fields`` are every stored column except ``id``, ``prev_hash`` and ``entry_hash``, the
  datetime as ISO 8601 in UTC, and canonical JSON is sorted keys, no spaces, UTF-8. The first
  row chains from 64 zeros. We use SM3 (GB/T 32905) rather than SHA-256 because the commercial
  cryptography evaluation (密评, GB/T 39786) expects the national algorithms for the integrity of
  important data such as audit logs; both give 256-bit digests, so nothing else depends on the
  choice. The ledger's Merkle log (RFC 9162) stays on SHA-256 as its standard requires.
* What is hashed is what is stored. ``before``/``after`` are normalised to JSON-safe values
  first (dates and datetimes to ISO strings, ``Decimal`` and ``UUID`` to strings, tuples to
  lists, integral floats written with an exponent to integers, as PostgreSQL's ``jsonb`` would
  return them), so the hash recomputed from the row read back equals the one written.
  Unsupported values (NaN, NUL characters, arbitrary objects) are refused with ``ValueError``.
* Database guard. A trigger (migration ``core.0003``) refuses UPDATE and DELETE on
  ``core_auditentry`` on PostgreSQL and SQLite. Someone with DDL rights can drop it; the chain
  then still shows the change, and the head row shows a truncated tail.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives import hashes
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, models, transaction
from django.utils import timezone

from yiwang.core.db.precommit import precommit_add, precommit_register
from yiwang.core.models import AuditEntry, AuditHead

GENESIS_HASH = "0" * 64
HASH_ALGORITHM = "SM3"

_HASHED_FIELDS = (
    "seq",
    "created_at",
    "actor_id",
    "actor_label",
    "on_behalf_of_id",
    "on_behalf_of_label",
    "action",
    "object_type",
    "object_id",
    "reason",
    "before",
    "after",
)
_LABEL_MAX = 150


class AuditOutsideTransaction(RuntimeError):
    """``audit_record`` was called in autocommit mode: the row could outlive a failed change."""


# --- hashing -------------------------------------------------------------------------------


def _canonical(fields: Mapping[str, Any]) -> bytes:
    return json.dumps(
        fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def entry_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """SM3 over the previous hash (hex) and the canonical JSON of one row's fields."""
    digest = hashes.Hash(hashes.SM3())
    digest.update(prev_hash.encode("ascii"))
    digest.update(_canonical(fields))
    return digest.finalize().hex()


def _hashed_fields(entry: AuditEntry) -> dict[str, Any]:
    fields = {name: getattr(entry, name) for name in _HASHED_FIELDS}
    fields["created_at"] = entry.created_at.astimezone(dt.UTC).isoformat()
    return fields


def _compute_hash(entry: AuditEntry, *, seq: int | None = None) -> str:
    fields = _hashed_fields(entry)
    if seq is not None:
        fields["seq"] = seq
    return entry_hash(entry.prev_hash, fields)


def json_safe(value: Any) -> Any:
    """``value`` as the JSON value the database will give back, or ``ValueError``."""
    try:
        encoded = json.dumps(value, cls=DjangoJSONEncoder, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"audit before/after must be JSON-serialisable: {exc}") from exc
    return _as_stored(json.loads(encoded))


def _as_stored(value: Any) -> Any:
    if isinstance(value, dict):
        for key in value:
            _no_nul(key)
        return {key: _as_stored(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_stored(item) for item in value]
    if isinstance(value, str):
        _no_nul(value)
        return value
    if isinstance(value, float):
        if value == 0:
            return 0.0  # jsonb has no negative zero
        text = repr(value)
        if "e" in text and value.is_integer():
            # jsonb returns 1e+16 as 10000000000000000: store the integer it will become.
            return int(Decimal(text))
    return value


def _no_nul(text: str) -> None:
    # PostgreSQL text and jsonb cannot hold NUL; refuse it on every backend alike.
    if "\x00" in text:
        raise ValueError("audit fields may not contain NUL characters")


# --- writing -------------------------------------------------------------------------------


def _who(person: Any, role: str) -> tuple[int | None, str]:
    if person is None:
        return None, ""
    if isinstance(person, str):  # a system actor such as "system:outbox"
        return None, person[:_LABEL_MAX]
    pk = getattr(person, "pk", None)
    if pk is not None and not isinstance(pk, int):
        raise ValueError(f"audit {role} must have an integer primary key, got {pk!r}")
    return pk, str(person)[:_LABEL_MAX]


def _check_length(name: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise ValueError(f"audit {name} is longer than {limit} characters: {value[:40]!r}...")
    _no_nul(value)


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
    """Append one audit row. Must run inside the caller's transaction (it refuses otherwise).

    ``actor`` and ``on_behalf_of`` are users (stored by id and label, never by foreign key),
    a string naming a system actor, or ``None``. ``obj`` fills ``object_type``/``object_id``
    unless they are given.
    """
    _require_transaction()
    entry = audit_entry(
        actor=actor,
        action=action,
        obj=obj,
        object_type=object_type,
        object_id=object_id,
        reason=reason,
        before=before,
        after=after,
        on_behalf_of=on_behalf_of,
    )
    return audit_append([entry])[0]


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise AuditOutsideTransaction(
            "audit_record must run inside the transaction of the change it records"
        )


def audit_entry(
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
    """One checked audit row, not yet in the chain: ``audit_append`` gives it its place.
    Same arguments and refusals (``ValueError``) as ``audit_record``."""
    if not action:
        raise ValueError("audit action is required")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    object_id = str(object_id)
    _check_length("action", action, 100)
    _check_length("object_type", object_type, 100)
    _check_length("object_id", object_id, 64)
    _no_nul(reason)
    actor_id, actor_label = _who(actor, "actor")
    behalf_id, behalf_label = _who(on_behalf_of, "on_behalf_of")
    return AuditEntry(
        created_at=timezone.now(),
        actor_id=actor_id,
        actor_label=actor_label,
        on_behalf_of_id=behalf_id,
        on_behalf_of_label=behalf_label,
        action=action,
        object_type=object_type,
        object_id=object_id,
        reason=reason,
        before=None if before is None else json_safe(before),
        after=None if after is None else json_safe(after),
    )


def audit_append(entries: Sequence[AuditEntry]) -> list[AuditEntry]:
    """Chain ``entries`` (from ``audit_entry``), in their order, after the current head and
    store them, just before the caller's transaction commits (see "Chained at commit"): the
    head is locked and moved once and the rows go in one INSERT for the whole transaction,
    whatever their number. Must run inside the caller's transaction (it refuses otherwise)."""
    _require_transaction()
    if not entries:
        return []
    for entry in entries:
        if entry.pk is not None or entry.seq is not None or getattr(entry, _KEPT, False):
            raise ValueError("audit_append takes new entries from audit_entry, once each")
    entries = list(entries)
    if precommit_add(PRECOMMIT_KIND, entries):
        for entry in entries:
            setattr(entry, _KEPT, True)  # an entry handed over twice is refused at once
        return entries
    return _append_now(entries)


PRECOMMIT_KIND = "core.audit"
_KEPT = "_yiwang_audit_kept"


def _append_kept(batches: list[list[AuditEntry]]) -> None:
    _append_now([entry for batch in batches for entry in batch])


def _append_now(entries: list[AuditEntry]) -> list[AuditEntry]:
    alias = transaction.get_connection().alias
    hint = _head_hints.get(alias)
    moved = 0
    if hint is not None:
        # The head as this process last wrote it: moving it on only if it is still there
        # locks it, checks it and moves it in one statement (one round trip instead of two).
        # Another writer since, or a rollback, leaves it elsewhere: then 0 rows and the
        # plain path below.
        seq, last_hash = _chain(entries, *hint)
        moved = AuditHead.objects.filter(id=1, seq=hint[0], last_hash=hint[1]).update(
            seq=seq, last_hash=last_hash
        )
    if not moved:
        # The lock on the head row gives every audit row its place: a concurrent writer
        # waits here until this transaction commits or rolls back.
        head, _created = AuditHead.objects.select_for_update().get_or_create(id=1)
        seq, last_hash = _chain(entries, head.seq, head.last_hash)
        head.seq, head.last_hash = seq, last_hash
        head.save(update_fields=["seq", "last_hash"])
    if len(entries) == 1:
        entries[0].save(force_insert=True)
    else:
        AuditEntry.objects.bulk_create(entries)
    _head_hints[alias] = (seq, last_hash)
    return list(entries)


# Per database alias, the head this process wrote last: only a guess (it may come from a
# transaction that rolled back, or be overtaken by another process); audit_append checks it
# in the database before it relies on it.
_head_hints: dict[str, tuple[int, str]] = {}


precommit_register(PRECOMMIT_KIND, _append_kept)


def _chain(entries: Sequence[AuditEntry], seq: int, last_hash: str) -> tuple[int, str]:
    for entry in entries:
        seq += 1
        entry.seq = seq
        entry.prev_hash = last_hash
        entry.entry_hash = last_hash = _compute_hash(entry)
    return seq, last_hash


# --- verifying -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditReport:
    """The result of walking the chain. ``bad_seq`` names the first bad row, if any."""

    ok: bool
    rows: int
    head_hash: str
    bad_seq: int | None = None
    problem: str = ""  # "altered" | "reordered" | "missing" | "broken_link" | "truncated"
    detail: str = ""

    @property
    def message(self) -> str:
        if self.ok:
            return f"审计链完整 / audit chain intact: {self.rows} rows, head {self.head_hash}"
        return f"审计链已被篡改 / audit chain broken at seq {self.bad_seq}: {self.detail}"


def _original_seq(entry: AuditEntry) -> int | None:
    """The seq a moved row was written with, found through its neighbours' links."""
    candidates: set[int] = set()
    before = AuditEntry.objects.filter(entry_hash=entry.prev_hash).values_list("seq", flat=True)
    after = AuditEntry.objects.filter(prev_hash=entry.entry_hash).values_list("seq", flat=True)
    candidates.update(seq + 1 for seq in before)
    candidates.update(seq - 1 for seq in after if seq > 1)
    if entry.prev_hash == GENESIS_HASH:
        candidates.add(1)
    candidates.discard(entry.seq)
    for seq in sorted(candidates):
        if _compute_hash(entry, seq=seq) == entry.entry_hash:
            return seq
    return None


def _broken(seq: int, problem: str, detail: str, rows: int, head_hash: str) -> AuditReport:
    return AuditReport(False, rows, head_hash, bad_seq=seq, problem=problem, detail=detail)


def audit_verify() -> AuditReport:
    """Walk the trail in ``seq`` order and report the first row that breaks the chain.

    The head is read first and only rows up to its ``seq`` are checked, so rows appended by
    concurrent transactions during the walk are not mistaken for tampering.
    """
    head = AuditHead.objects.filter(id=1).first()
    head_seq = head.seq if head else 0
    head_hash = head.last_hash if head else GENESIS_HASH
    prev_hash, expected, last = GENESIS_HASH, 1, None
    rows = AuditEntry.objects.filter(seq__lte=head_seq) if head else AuditEntry.objects.all()
    for entry in rows.order_by("seq").iterator(chunk_size=2000):
        count = expected - 1
        if entry.seq != expected:
            return _broken(
                expected,
                "missing",
                f"第 {expected} 行缺失（已被删除），下一行是第 {entry.seq} 行"
                f" / row {expected} is missing (deleted); the next row is {entry.seq}",
                count,
                head_hash,
            )
        if _compute_hash(entry) != entry.entry_hash:
            original = _original_seq(entry)
            if original is not None:
                return _broken(
                    entry.seq,
                    "reordered",
                    f"此行原为第 {original} 行，顺序被调换"
                    f" / this row was written as seq {original}: rows were reordered",
                    count,
                    head_hash,
                )
            return _broken(
                entry.seq,
                "altered",
                "内容与其哈希不符（此行被修改）"
                " / its content does not match its hash: the row was altered",
                count,
                head_hash,
            )
        if entry.prev_hash != prev_hash:
            return _broken(
                entry.seq,
                "broken_link",
                f"前一哈希与第 {entry.seq - 1} 行不符：其前的行被删除、替换或重算了哈希"
                f" / prev_hash does not match row {entry.seq - 1}: a row before it was"
                " removed, replaced or rehashed",
                count,
                head_hash,
            )
        prev_hash, expected, last = entry.entry_hash, expected + 1, entry
    count = expected - 1
    if head is None:
        if last is None:
            return AuditReport(True, 0, GENESIS_HASH)
        return _broken(
            1,
            "truncated",
            "审计链头记录缺失 / the audit head row is missing",
            count,
            GENESIS_HASH,
        )
    if count < head_seq:
        return _broken(
            count + 1,
            "truncated",
            f"链尾被截断：链头记录到第 {head_seq} 行，但只剩 {count} 行"
            f" / the tail was truncated: the head records {head_seq} rows, {count} remain",
            count,
            head_hash,
        )
    if prev_hash != head_hash:
        return _broken(
            count,
            "altered",
            "最后一行与链头哈希不符（被替换或重算）"
            " / the last row does not match the head hash: it was replaced or rehashed",
            count,
            head_hash,
        )
    return AuditReport(True, count, head_hash)


# --- the database guard --------------------------------------------------------------------

# The same statements as migration core.0003 (a migration must not import app code).
_GUARD_SQL: dict[str, tuple[list[str], list[str]]] = {
    "postgresql": (
        [
            "CREATE TRIGGER core_auditentry_append_only BEFORE UPDATE OR DELETE"
            " ON core_auditentry FOR EACH ROW EXECUTE FUNCTION core_auditentry_append_only();"
        ],
        ["DROP TRIGGER IF EXISTS core_auditentry_append_only ON core_auditentry;"],
    ),
    "sqlite": (
        [
            "CREATE TRIGGER core_auditentry_no_update BEFORE UPDATE ON core_auditentry"
            " BEGIN SELECT RAISE(ABORT, 'core_auditentry is append-only: UPDATE refused'); END;",
            "CREATE TRIGGER core_auditentry_no_delete BEFORE DELETE ON core_auditentry"
            " BEGIN SELECT RAISE(ABORT, 'core_auditentry is append-only: DELETE refused'); END;",
        ],
        [
            "DROP TRIGGER IF EXISTS core_auditentry_no_update;",
            "DROP TRIGGER IF EXISTS core_auditentry_no_delete;",
        ],
    ),
}


@contextmanager
def audit_guard_suspended(*, using: str = "default") -> Iterator[None]:
    """Drop the append-only trigger for the duration of the block, then put it back.

    Only for maintenance that must delete the whole trail (``yiwang flush`` on SQLite) and for
    tests that tamper on purpose. It needs DDL rights, which the application role should not
    have in the city topology.
    """
    connection = connections[using]
    install, remove = _GUARD_SQL.get(connection.vendor, ([], []))
    with connection.cursor() as cursor:
        for sql in remove:
            cursor.execute(sql)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for sql in install:
                cursor.execute(sql)
