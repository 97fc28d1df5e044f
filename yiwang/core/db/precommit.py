"""Work done once per transaction, just before it commits.

Django runs callbacks after a commit (``transaction.on_commit``) but offers no point just
before it. Some work belongs there: the audit trail chains every row a transaction recorded in
one move of its head, so that the head's row lock, which every writer of the city waits for,
is held from that move to the commit only, not from the first audit row of a request to its
end (yiwang.core.audit; bench/applications.py measured most concurrent acceptances waiting
on that lock).

* ``precommit_add(kind, item)`` keeps ``item`` for the current transaction and returns True;
  it returns False, and keeps nothing, where there is no such point: no transaction opened by
  the code (autocommit, or only a test case's transaction), or a database backend other than
  the platform's own (yiwang.core.db.postgresql, yiwang.core.db.sqlite3). The caller then does
  the work at once.
* ``precommit_register(kind, flush)``: ``flush(items)`` runs just before COMMIT with every
  item of ``kind`` the transaction kept, in the order they were added, inside the transaction:
  what it writes commits with the rest, and if it fails the whole transaction rolls back.
* As with ``on_commit``, items added inside a savepoint that is rolled back are dropped with
  it, and a rollback drops them all.
* A test case's transaction (pytest-django, Django's TestCase) never commits: there, leaving
  the outermost block that the code under test opened counts as the commit, so that a test
  sees what a committed transaction would have written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, transaction

Flush = Callable[[list[Any]], None]

_flushers: dict[str, Flush] = {}


def precommit_register(kind: str, flush: Flush) -> None:
    """Name the function that does the kept work of ``kind`` (one per kind)."""
    existing = _flushers.get(kind)
    if existing is not None and existing is not flush:
        raise ValueError(f"pre-commit kind {kind!r} already has a flush function")
    _flushers[kind] = flush


def precommit_add(kind: str, item: Any, *, using: str | None = None) -> bool:
    """Keep ``item`` until just before the current transaction commits (see the module)."""
    if kind not in _flushers:
        raise ValueError(f"no pre-commit flush function registered for {kind!r}")
    connection = transaction.get_connection(using)
    if not isinstance(connection, PrecommitMixin) or not connection.precommit_possible():
        return False
    connection.precommit_items.append((kind, item, frozenset(connection.savepoint_ids)))
    return True


class PrecommitMixin:
    """For the platform's DatabaseWrapper classes (put it first among the bases)."""

    precommit_items: list[tuple[str, Any, frozenset[str]]]
    atomic_blocks: list[Any]
    savepoint_ids: list[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.precommit_items = []

    def precommit_possible(self) -> bool:
        code = [block for block in self.atomic_blocks if not _from_testcase(block)]
        if not code:
            return False
        if len(code) == len(self.atomic_blocks):
            return True  # a real transaction: the point is its commit
        # Under a test case's transaction the point is the release of the code's outermost
        # block, which a block without a savepoint (atomic(savepoint=False)) does not have.
        return bool(code[0].savepoint)

    def precommit_run(self) -> None:
        items, self.precommit_items = self.precommit_items, []
        batches: dict[str, list[Any]] = {}
        for kind, item, _sids in items:
            batches.setdefault(kind, []).append(item)
        try:
            for kind, batch in batches.items():
                _flushers[kind](batch)
        except DatabaseError:
            raise
        except Exception as exc:
            # Django's atomic() rolls back when the commit raises a DatabaseError: make any
            # failure of the pre-commit work one, so the transaction never half-commits.
            raise DatabaseError(f"pre-commit work failed: {exc!r}") from exc

    def commit(self) -> None:
        if self.precommit_items:
            self.precommit_run()
        super().commit()  # type: ignore[misc]

    def savepoint_commit(self, sid: str) -> None:
        # Under a test case's transaction: the code's outermost block ends here (Django has
        # already taken it off atomic_blocks).
        if self.precommit_items and all(_from_testcase(block) for block in self.atomic_blocks):
            self.precommit_run()
        super().savepoint_commit(sid)  # type: ignore[misc]

    def savepoint_rollback(self, sid: str) -> None:
        super().savepoint_rollback(sid)  # type: ignore[misc]
        self.precommit_items = [entry for entry in self.precommit_items if sid not in entry[2]]

    def rollback(self) -> None:
        self.precommit_items = []
        super().rollback()  # type: ignore[misc]

    def close(self) -> None:
        self.precommit_items = []
        super().close()  # type: ignore[misc]


def _from_testcase(block: Any) -> bool:
    # Django marks the atomic blocks that TestCase (and so pytest-django) opens around a test.
    return bool(getattr(block, "_from_testcase", False))
