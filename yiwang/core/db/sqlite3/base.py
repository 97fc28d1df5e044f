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

Used automatically for ``sqlite:`` database URLs (yiwang.settings.base).
"""

from __future__ import annotations

import threading
from typing import Any

from django.db.backends.sqlite3 import base

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
