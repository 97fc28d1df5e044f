"""The exchange's access log: one hash-chained row per gateway call, anchored in the ledger.

The chain is built like the audit trail (``yiwang.core.audit``): every write locks the single
``AccessLogHead`` row, takes ``seq = head.seq + 1`` and stores
``entry_hash = SM3(prev_hash || canonical JSON of the other columns)``.

A log row never depends on the caller's transaction
---------------------------------------------------
The gateway may run inside a caller's atomic block (an application submission fetching its
materials). If that block rolls back, a refusal (or a read that did happen) must still be on
record. So, when the call is inside a caller's transaction:

* PostgreSQL: the row is written through a second connection of its own (a copy of the
  ``default`` connection kept per thread) and committed at once, whatever the caller does.
* SQLite, or if the second connection cannot take the head lock within ``LOCK_TIMEOUT_MS``:
  a second connection cannot write at all while the caller's ``BEGIN IMMEDIATE`` holds the
  database, so the row is written in the caller's transaction and a copy of it is put in a
  small journal (a separate SQLite file, autocommit) first. The caller's commit removes the
  copy (``on_commit``); after a rollback the copy stays and ``log_settle`` appends it: the same
  thread's next gateway call does, and the hourly anchor task settles any copy older than
  ``JOURNAL_STALE``. The row keeps the time of the call.

Outside any caller's transaction the row is written and committed in its own transaction.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import os
import re
import sqlite3
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.db import DatabaseError, connections, models, transaction
from django.db.models import Field
from django.utils import timezone

from yiwang.core.audit import entry_hash, json_safe
from yiwang.core.db.prepared import fetch_all_prepared
from yiwang.exchange.models import GENESIS_HASH, AccessLogEntry, AccessLogHead
from yiwang.ledger.services import entry_append

logger = logging.getLogger("yiwang.exchange")

LOCK_TIMEOUT_MS = 3000
JOURNAL_STALE = dt.timedelta(hours=1)
JOURNAL_FILE = "exchange-log-journal.sqlite3"
LABEL_MAX = {"consumer_label": 100, "owner_label": 100, "actor_label": 150}

HASHED_FIELDS = (
    "seq",
    "created_at",
    "consumer_id",
    "consumer_label",
    "owner_id",
    "owner_label",
    "resource_code",
    "grant_id",
    "actor_id",
    "actor_label",
    "fields",
    "case_number",
    "purpose",
    "subject_index",
    "subject_type",
    "outcome",
    "code",
    "result_size",
    "duration_ms",
)
_COLUMNS = (*HASHED_FIELDS, "prev_hash", "entry_hash")


def _hashed(values: Mapping[str, Any]) -> dict[str, Any]:
    fields = {name: values[name] for name in HASHED_FIELDS}
    fields["created_at"] = values["created_at"].astimezone(dt.UTC).isoformat()
    return fields


def row_hash(entry: AccessLogEntry) -> str:
    return entry_hash(entry.prev_hash, _hashed(entry.__dict__))


def _normalise(values: Mapping[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {n: values.get(n) for n in HASHED_FIELDS if n != "seq"}
    for name, limit in LABEL_MAX.items():
        record[name] = str(record[name] or "")[:limit]
    for name in ("resource_code", "case_number", "purpose", "subject_index", "subject_type"):
        record[name] = str(record[name] or "")
    record["code"] = str(record["code"] or "")[:60]
    record["case_number"] = record["case_number"][:40]
    fields = list(record["fields"] or [])
    # Field keys (plain text) are stored as they are; anything else as the database gives it
    # back, or refused (json_safe).
    if not all(type(f) is str and "\x00" not in f for f in fields):
        fields = json_safe(fields)
    record["fields"] = fields
    record["result_size"] = int(record["result_size"] or 0)
    record["duration_ms"] = int(record["duration_ms"] or 0)
    record["created_at"] = record["created_at"] or timezone.now()
    return record


# --- writing -------------------------------------------------------------------------------


# The head this process wrote last, (seq, last_hash): the next append of this process tries
# a compare-and-set on it (UPDATE … WHERE seq AND last_hash, then INSERT: two statements, no
# SELECT … FOR UPDATE). The WHERE makes it exact: if another process or thread appended, or
# the transaction that wrote it rolled back, no row matches and the append takes the lock.
_head_seen: tuple[int, str] | None = None


@functools.cache
def _statements(vendor: str) -> tuple[str, str]:
    """(the compare-and-set of the head, the append that follows it). On PostgreSQL one
    statement does both (a data-modifying CTE: the row is inserted only if the head moved, in
    one round trip and without an explicit transaction) and answers with the head it saw, for
    the next try when another process moved it; on SQLite two, in the caller's ``atomic``.
    Raw SQL: the ORM's compiling cost more than the write on this path."""
    head, entry = AccessLogHead._meta.db_table, AccessLogEntry._meta.db_table
    # Table and column names come from the models, values are parameters.
    cas = (
        f"UPDATE {head} SET seq = %s, last_hash = %s"  # noqa: S608
        " WHERE id = 1 AND seq = %s AND last_hash = %s"
    )
    columns = ", ".join(_COLUMNS)
    if vendor != "postgresql":
        values = ", ".join(["%s"] * len(_COLUMNS))
        return cas, f"INSERT INTO {entry} ({columns}) VALUES ({values})"  # noqa: S608
    return _many_statement(1), ""


def _cast_type(name: str, connection: Any) -> str:
    return _VARCHAR.sub("varchar", str(_field(name).db_type(connection)))


_VARCHAR = re.compile(r"^(?:character varying|varchar)\(\d+\)$")


def _field(name: str) -> Field[Any, Any]:
    return cast("Field[Any, Any]", AccessLogEntry._meta.get_field(name))


@functools.cache
def _preparers() -> tuple[tuple[str, Field[Any, Any], type | None], ...]:
    """(column, field, the Python type that reaches the database as it is, or None). For a
    text or integer column, ``get_db_prep_save`` of a value of that exact type (or None) is
    the value itself: only the others (the time, the JSON list, a str subclass) need it."""
    plain: list[tuple[str, Field[Any, Any], type | None]] = []
    for name in _COLUMNS:
        field = _field(name)
        kind: type | None = None
        if isinstance(field, models.CharField | models.TextField):
            kind = str
        elif isinstance(field, models.IntegerField):
            kind = int
        plain.append((name, field, kind))
    return tuple(plain)


def _params(values: Mapping[str, Any], connection: Any) -> list[Any]:
    row: list[Any] = []
    for name, field, kind in _preparers():
        value = values[name]
        if kind is not None and (value is None or type(value) is kind):
            row.append(value)
        else:
            row.append(field.get_db_prep_save(value, connection))
    return row


@functools.cache
def _many_statement(rows: int) -> str:
    """The PostgreSQL compare-and-set with ``rows`` rows appended (``_statements``' CTE with a
    VALUES list): one statement for a batch of the process's queued calls."""
    head, entry = AccessLogHead._meta.db_table, AccessLogEntry._meta.db_table
    conn = connections["default"]
    # varchar without its length: an explicit CAST to varchar(n) would cut a long value
    # silently, the assignment to the column refuses it (as the ORM's INSERT does).
    casts = ", ".join(f"CAST(%s AS {_cast_type(name, conn)})" for name in _COLUMNS)
    values = ", ".join([f"({casts})"] * rows)
    names = ", ".join(_COLUMNS)
    return (
        f"WITH moved AS (UPDATE {head} SET seq = %s, last_hash = %s"  # noqa: S608
        " WHERE id = 1 AND seq = %s AND last_hash = %s RETURNING 1),"
        f" added AS (INSERT INTO {entry} ({names}) SELECT v.* FROM moved,"
        f" (VALUES {values}) AS v ({names}) RETURNING 1)"
        f" SELECT (SELECT count(*) FROM added), seq, last_hash FROM {head} WHERE id = 1"
    )


def _chained(
    records: Sequence[Mapping[str, Any]], after: tuple[int, str], connection: Any
) -> tuple[list[list[Any]], tuple[int, str]]:
    """The rows of ``records`` chained after the head ``after``, as statement parameters, and
    the head after the last of them."""
    rows: list[list[Any]] = []
    seq, last = after
    for record in records:
        seq += 1
        values = {**record, "seq": seq}
        digest = entry_hash(last, _hashed(values))
        rows.append(_params({**values, "prev_hash": last, "entry_hash": digest}, connection))
        last = digest
    return rows, (seq, last)


# Tries of the compare-and-set before taking the lock: on PostgreSQL a failed try returns
# the head it saw, so the next one usually succeeds while other processes append too.
CAS_TRIES = 4


def _append_cas(
    record: Mapping[str, Any], seen: tuple[int, str]
) -> tuple[int | None, tuple[int, str] | None]:
    """Append after the head ``seen``: (the row's seq, None), or (None, the head as the
    statement saw it, None if unknown) if the head has moved since."""
    global _head_seen
    connection = transaction.get_connection()
    cas, insert = _statements(connection.vendor)
    (row,), after = _chained([record], seen, connection)
    head = [after[0], after[1], seen[0], seen[1]]
    if insert:
        with connection.cursor() as cursor:
            cursor.execute(cas, head)
            if cursor.rowcount != 1:
                return None, None
            cursor.execute(insert, row)
    else:
        # Prepared: PostgreSQL plans the statement once per connection, not per call.
        answers = fetch_all_prepared(cas, head + row)
        if not answers:  # no head row yet
            return None, None
        if answers[0][0] != 1:
            # The statement's snapshot: a head committed meanwhile makes the next try fail
            # too, and the one after it sees that head.
            return None, (int(answers[0][1]), str(answers[0][2]))
    _head_seen = after
    return after[0], None


def _append_optimistic(record: Mapping[str, Any]) -> int | None:
    """Append by compare-and-set from the head this process saw last, or None (take the
    lock)."""
    seen = _head_seen
    for _try in range(CAS_TRIES):
        if seen is None:
            return None
        seq, seen = _append_cas(record, seen)
        if seq is not None:
            return seq
    return None


def _append_orm(record: Mapping[str, Any]) -> int:
    """Append through the default connection; the caller holds a transaction."""
    global _head_seen
    seq = _append_optimistic(record)
    if seq is not None:
        return seq
    seq, digest = _append_locked(record)
    _head_seen = (seq, digest)
    return seq


def _append_locked(record: Mapping[str, Any]) -> tuple[int, str]:
    head = AccessLogHead.objects.select_for_update().filter(id=1).first()
    if head is None:  # the very first call
        AccessLogHead.objects.get_or_create(id=1)
        head = AccessLogHead.objects.select_for_update().get(id=1)
    values = {**record, "seq": head.seq + 1}
    digest = entry_hash(head.last_hash, _hashed(values))
    AccessLogEntry.objects.create(**values, prev_hash=head.last_hash, entry_hash=digest)
    head.seq, head.last_hash = values["seq"], digest
    head.save(update_fields=["seq", "last_hash"])
    return int(values["seq"]), digest


@functools.cache
def _immediate_statements() -> tuple[str, str, str]:
    """(read the head, insert the row, move the head) with ``?`` placeholders, for SQLite."""
    head, entry = AccessLogHead._meta.db_table, AccessLogEntry._meta.db_table
    columns, marks = ", ".join(_COLUMNS), ", ".join("?" * len(_COLUMNS))
    return (
        f"SELECT seq, last_hash FROM {head} WHERE id = 1",  # noqa: S608 - names from the models
        f"INSERT INTO {entry} ({columns}) VALUES ({marks})",  # noqa: S608
        f"UPDATE {head} SET seq = ?, last_hash = ? WHERE id = 1",  # noqa: S608
    )


def _append_many_cas(records: Sequence[Mapping[str, Any]]) -> int | None:
    """PostgreSQL: append ``records`` in one statement by compare-and-set from the head this
    process saw last (tried again from the head the statement saw); the first row's seq, or
    None (no head known, or still moving: take the lock)."""
    global _head_seen
    connection = transaction.get_connection()
    seen = _head_seen
    for _try in range(CAS_TRIES):
        if seen is None:
            return None
        rows, after = _chained(records, seen, connection)
        params = [after[0], after[1], seen[0], seen[1]]
        for row in rows:
            params.extend(row)
        answers = fetch_all_prepared(_many_statement(len(rows)), params)
        if not answers:  # no head row yet
            return None
        if answers[0][0] == len(rows):
            _head_seen = after
            return seen[0] + 1
        seen = (int(answers[0][1]), str(answers[0][2]))
    return None


def _append_many_immediate(records: Sequence[Mapping[str, Any]]) -> int | None:
    """SQLite: append ``records`` in one write transaction of their own (``immediate()`` of
    the platform's SQLite backend: under the write lock the head read is the head, and none of
    an atomic block's bookkeeping); the first row's seq, or None if there is no head row yet
    (the ORM path creates it)."""
    global _head_seen
    connection = transaction.get_connection()
    read, insert, move = _immediate_statements()
    with connection.immediate() as db:
        head = db.execute(read).fetchone()
        if head is None:
            return None
        rows, after = _chained(records, (int(head[0]), str(head[1])), connection)
        db.executemany(insert, rows)
        db.execute(move, after)
    _head_seen = after
    return int(head[0]) + 1


# The process's queue of rows to append (outside a caller's transaction). A call puts its row
# in the queue and takes the leader's lock; whoever holds it appends every row queued by then
# (at most BATCH_MAX at a time) in one write: one statement on PostgreSQL, one transaction on
# SQLite. Under concurrent calls the single head is moved once per batch instead of once per
# row, and the threads of a process no longer race each other's compare-and-set (each lost
# race costs a round trip and another hash). A call returns only when its own row is committed.
BATCH_MAX = 32


class _Turn:
    __slots__ = ("done", "error", "record", "seq")

    def __init__(self, record: Mapping[str, Any]) -> None:
        self.record = record
        self.done = False
        self.seq: int | None = None
        self.error: BaseException | None = None


_queue: list[_Turn] = []
_queue_lock = threading.Lock()
_leader = threading.Lock()


def _append_batch(records: Sequence[Mapping[str, Any]]) -> int | None:
    if transaction.get_connection().vendor == "postgresql":
        return _append_many_cas(records)
    return _append_many_immediate(records)


def _append_queued(record: Mapping[str, Any]) -> int | None:
    """Append ``record`` through the process's queue: its seq, or None (no head row yet, or
    the head kept moving under the compare-and-set: the caller takes the locked path)."""
    turn = _Turn(record)
    with _queue_lock:
        _queue.append(turn)
    with _leader:
        while not turn.done:
            with _queue_lock:
                batch = _queue[:BATCH_MAX]
                del _queue[:BATCH_MAX]
            if not batch:  # cannot happen while every leader marks what it took; never spin
                return None
            stopped: BaseException | None = None
            try:
                try:
                    first = _append_batch([t.record for t in batch])
                except Exception as exc:
                    if len(batch) == 1:
                        batch[0].error = exc
                    else:  # one row must not fail the others: each alone, then
                        for t in batch:
                            try:
                                t.seq = _append_batch([t.record])
                            except Exception as alone:
                                t.error = alone
                else:
                    for offset, t in enumerate(batch):
                        t.seq = None if first is None else first + offset
            except BaseException as exc:  # the thread is being stopped: fail, never write twice
                stopped = exc
                raise
            finally:
                for t in batch:
                    if stopped is not None and t.seq is None and t.error is None:
                        t.error = stopped
                    t.done = True
    if turn.error is not None:
        raise turn.error
    return turn.seq


def _append_independent(record: Mapping[str, Any]) -> int:
    """Append and commit through a second PostgreSQL connection (not the caller's), opened
    for this row only: such calls are few (inside a caller's transaction) and a connection
    kept per thread would outlive its thread."""
    side = connections["default"].copy()
    try:
        with side.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_MS}ms'")
            cursor.execute(
                "INSERT INTO exchange_accessloghead (id, seq, last_hash, anchored_seq)"
                " VALUES (1, 0, %s, 0) ON CONFLICT (id) DO NOTHING",
                [GENESIS_HASH],
            )
            cursor.execute(
                "SELECT seq, last_hash FROM exchange_accessloghead WHERE id = 1 FOR UPDATE"
            )
            seq, last_hash = cursor.fetchone()
            values = {**record, "seq": seq + 1}
            digest = entry_hash(last_hash, _hashed(values))
            row = {**values, "prev_hash": last_hash, "entry_hash": digest}
            row["fields"] = json.dumps(row["fields"], ensure_ascii=False)
            cursor.execute(
                f"INSERT INTO exchange_accesslogentry ({', '.join(_COLUMNS)})"  # noqa: S608
                f" VALUES ({', '.join(['%s'] * len(_COLUMNS))})",
                [row[name] for name in _COLUMNS],
            )
            cursor.execute(
                "UPDATE exchange_accessloghead SET seq = %s, last_hash = %s WHERE id = 1",
                [seq + 1, digest],
            )
            cursor.execute("COMMIT")
        return int(seq + 1)
    finally:
        side.close()


def _inside_caller_transaction() -> bool:
    """True inside an atomic block of the application. A test case's transaction (always
    rolled back, by design) counts as none: rows then live and die with the test."""
    connection = transaction.get_connection()
    if any(getattr(block, "_from_testcase", False) for block in connection.atomic_blocks):
        return False
    return bool(connection.in_atomic_block)


def log_append(values: Mapping[str, Any]) -> int:
    """Append one row (every column but ``seq`` and the hashes) and return its ``seq``; the
    row is committed whatever the caller's transaction does (see the module docstring)."""
    record = _normalise(values)
    if not _inside_caller_transaction():
        log_settle()
        connection = transaction.get_connection()
        if not connection.in_atomic_block and (
            connection.vendor == "postgresql" or hasattr(connection, "immediate")
        ):
            # Through the process's queue: one statement on PostgreSQL (atomic on its own, no
            # BEGIN/COMMIT round trips), one short write on SQLite, for all the rows queued.
            seq = _append_queued(record)
            if seq is not None:
                return seq
        elif connection.vendor == "postgresql":
            # (inside a test case's transaction, which a queued row of another thread must not
            # join) one statement for this row alone
            seq = _append_optimistic(record)
            if seq is not None:
                return seq
        with transaction.atomic():
            return _append_orm(record)
    if transaction.get_connection().vendor == "postgresql":
        try:
            return _append_independent(record)
        except DatabaseError as exc:
            logger.warning("access log: second connection failed (%s); journaling", exc)
    token = _journal_add(record)
    with transaction.atomic():
        seq = _append_orm(record)
    transaction.on_commit(lambda: _journal_drop(token))
    return seq


# --- the journal of rows written inside a caller's transaction ------------------------------


def _journal() -> sqlite3.Connection:
    path = Path(settings.DATA_DIR) / JOURNAL_FILE
    conn = sqlite3.connect(path, timeout=10, isolation_level=None)
    conn.execute(
        "CREATE TABLE IF NOT EXISTS pending (token TEXT PRIMARY KEY, owner TEXT NOT NULL,"
        " created_at TEXT NOT NULL, record TEXT NOT NULL)"
    )
    return conn


def _me() -> str:
    return f"{os.getpid()}:{threading.get_ident()}"


# Threads of this process that journaled a row: only they have anything to settle, so the
# gateway's common path (no journal) never opens the journal file.
_journaling: set[str] = set()


def _journal_add(record: Mapping[str, Any]) -> str:
    token = uuid.uuid4().hex
    _journaling.add(_me())
    stored = {**record, "created_at": record["created_at"].isoformat()}
    conn = _journal()
    try:
        conn.execute(
            "INSERT INTO pending VALUES (?, ?, ?, ?)",
            (token, _me(), stored["created_at"], json.dumps(stored, ensure_ascii=False)),
        )
    finally:
        conn.close()
    return token


def _journal_drop(token: str) -> None:
    conn = _journal()
    try:
        conn.execute("DELETE FROM pending WHERE token = ?", (token,))
    finally:
        conn.close()


def log_settle(*, stale: bool = False) -> int:
    """Append the journaled rows whose caller's transaction rolled back: this thread's (it
    is outside any transaction now), and with ``stale`` every row older than JOURNAL_STALE.
    Returns how many rows were appended."""
    if not (stale or _me() in _journaling):
        return 0  # the gateway's common path: no journal, no look at its file
    if not (Path(settings.DATA_DIR) / JOURNAL_FILE).exists():
        return 0
    _journaling.discard(_me())
    conn = _journal()
    try:
        cutoff = (timezone.now() - JOURNAL_STALE).isoformat()
        rows = conn.execute(
            "SELECT token, record FROM pending WHERE owner = ? OR (? AND created_at < ?)"
            " ORDER BY created_at",
            (_me(), stale, cutoff),
        ).fetchall()
        appended = 0
        for token, text in rows:
            record = json.loads(text)
            record["created_at"] = dt.datetime.fromisoformat(record["created_at"])
            with transaction.atomic():
                exists = AccessLogEntry.objects.filter(
                    created_at=record["created_at"],
                    consumer_id=record["consumer_id"],
                    resource_code=record["resource_code"],
                    outcome=record["outcome"],
                    subject_index=record["subject_index"],
                ).exists()
                if not exists:
                    _append_orm(record)
                    appended += 1
            conn.execute("DELETE FROM pending WHERE token = ?", (token,))
        return appended
    finally:
        conn.close()


# --- verifying and anchoring ---------------------------------------------------------------


@dataclass(frozen=True)
class LogReport:
    ok: bool
    rows: int
    head_hash: str
    bad_seq: int | None = None
    detail: str = ""

    @property
    def message(self) -> str:
        if self.ok:
            return f"共享调用日志完整 / access log intact: {self.rows} rows, head {self.head_hash}"
        return f"共享调用日志已被篡改 / access log broken at seq {self.bad_seq}: {self.detail}"


def log_verify() -> LogReport:
    """Walk the chain in ``seq`` order and name the first bad row."""
    head = AccessLogHead.objects.filter(id=1).first()
    head_seq = head.seq if head else 0
    head_hash = head.last_hash if head else GENESIS_HASH
    prev_hash, expected = GENESIS_HASH, 1
    rows = AccessLogEntry.objects.filter(seq__lte=head_seq).order_by("seq")
    for entry in rows.iterator(chunk_size=2000):
        count = expected - 1
        if entry.seq != expected:
            return LogReport(
                False, count, head_hash, expected, f"row {expected} is missing (deleted)"
            )
        if row_hash(entry) != entry.entry_hash:
            return LogReport(
                False, count, head_hash, entry.seq, "its content does not match its hash"
            )
        if entry.prev_hash != prev_hash:
            return LogReport(
                False,
                count,
                head_hash,
                entry.seq,
                f"prev_hash does not match row {entry.seq - 1}",
            )
        prev_hash, expected = entry.entry_hash, expected + 1
    count = expected - 1
    if count < head_seq:
        return LogReport(
            False, count, head_hash, count + 1, f"the head records {head_seq} rows, {count} remain"
        )
    if prev_hash != head_hash:
        return LogReport(False, count, head_hash, count, "the last row does not match the head")
    return LogReport(True, count, head_hash)


def log_anchor() -> int:
    """Commit the log's head (seq, last hash) into the ledger (kind ``exchange.anchor``);
    returns the anchored seq. Settles stale journal rows first, so that they are covered."""
    log_settle(stale=True)
    with transaction.atomic():
        AccessLogHead.objects.get_or_create(id=1)
        head = AccessLogHead.objects.select_for_update().get(id=1)
        entry_append(
            kind="exchange.anchor",
            subject=f"exchange:{head.seq}",
            payload={"seq": head.seq, "last_hash": head.last_hash},
        )
        head.anchored_seq = head.seq
        head.save(update_fields=["anchored_seq"])
        return int(head.seq)
