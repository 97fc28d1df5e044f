"""SQLite for the embedded topology, with the process's writers queued in turn.

SQLite lets one writer at a time hold the database. Every transaction here begins with
``BEGIN IMMEDIATE`` (settings), so a second writer waits in SQLite's busy handler, which
polls: it sleeps 1, 2, 5, 10 … up to 100 ms between tries. Under load (eight server threads
accepting applications) the lock is often free while every waiter sleeps, and throughput
falls to a fraction of what one thread alone achieves (bench/applications.py).

So the threads of one process take a queue first: a lock acquired before ``BEGIN`` and
released at commit, rollback or close. A waiter wakes the instant the lock is released. Other
processes (a `yiwang` command beside the server) still meet at SQLite's own lock. The wait is
bounded by the connection's ``timeout`` option; after it the transaction goes ahead without
the queue and SQLite's busy handler decides, as it would have without this backend, so a
mistake here can slow a write down but never hang it.

``immediate()`` is a short write outside Django's transaction machinery, for a hot path
with a few hand-written statements (the exchange access log): the same queue and the same
``BEGIN IMMEDIATE``, without the atomic block's bookkeeping.

Used automatically for ``sqlite:`` database URLs (yiwang.settings.base).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any, cast

from django.db.backends.sqlite3 import base
from django.db.transaction import TransactionManagementError

from yiwang.core.db.precommit import PrecommitMixin

_writers = threading.Lock()


class DatabaseWrapper(PrecommitMixin, base.DatabaseWrapper):
    _holds_writers_lock = False

    def _start_transaction_under_autocommit(self) -> None:
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
        self._holds_writers_lock = _writers.acquire(timeout=timeout)
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._release_writers_lock()
            raise

    def _release_writers_lock(self) -> None:
        if self._holds_writers_lock:
            self._holds_writers_lock = False
            _writers.release()

    def _commit(self) -> Any:
        try:
            return super()._commit()  # type: ignore[misc]
        finally:
            self._release_writers_lock()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()  # type: ignore[misc]
        finally:
            self._release_writers_lock()

    def _close(self) -> Any:
        try:
            return super()._close()  # type: ignore[misc]
        finally:
            self._release_writers_lock()

    @contextlib.contextmanager
    def immediate(self) -> Iterator[RawWriter]:
        """One write transaction on the raw connection, queued with this process's other
        writers: committed when the block ends, rolled back if it raises. Not inside an
        atomic block (it would commit the caller's work); nothing of Django's runs at its
        commit (no ``on_commit``, no pre-commit step). SQLite errors come out as Django's."""
        if self.in_atomic_block:
            raise TransactionManagementError("immediate() inside an atomic block")
        self.ensure_connection()
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
        held = _writers.acquire(timeout=timeout)
        try:
            with self.wrap_database_errors:
                raw = self.connection
                raw.execute("BEGIN IMMEDIATE")
                try:
                    yield RawWriter(self, raw)
                except BaseException:
                    if raw.in_transaction:
                        raw.execute("ROLLBACK")
                    raise
                raw.execute("COMMIT")
        finally:
            if held:
                _writers.release()


class RawWriter:
    """The statements of an ``immediate()`` block (``?`` placeholders), recorded in the
    connection's query log when Django records queries (tests, DEBUG), as its cursor does."""

    def __init__(self, wrapper: DatabaseWrapper, raw: sqlite3.Connection) -> None:
        self._wrapper, self._raw = wrapper, raw

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self._run(self._raw.execute, sql, params, many=False)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> sqlite3.Cursor:
        return self._run(self._raw.executemany, sql, rows, many=True)

    def _run(self, method: Any, sql: str, params: Any, *, many: bool) -> sqlite3.Cursor:
        if not self._wrapper.queries_logged:
            return cast("sqlite3.Cursor", method(sql, params))
        started = time.monotonic()
        try:
            return cast("sqlite3.Cursor", method(sql, params))
        finally:
            shown = f"({len(params)} rows)" if many else repr(tuple(params))
            self._wrapper.queries_log.append(
                {"sql": f"{sql} {shown}", "time": f"{time.monotonic() - started:.3f}"}
            )
