"""audit_append: many rows chained with one move of the head, and the head as this process
last wrote it used only after the database confirms it."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from yiwang.core import audit
from yiwang.core.audit import audit_append, audit_entry, audit_record, audit_verify
from yiwang.core.models import AuditEntry, AuditHead

pytestmark = pytest.mark.django_db


def _entries(n: int, action: str = "demo.change") -> list[AuditEntry]:
    return [
        audit_entry(actor="system:test", action=action, object_id=str(i), after={"n": i})
        for i in range(n)
    ]


def _record_then_fail(action: str) -> None:
    with transaction.atomic():
        audit_record(actor="system:test", action=action)
        raise RuntimeError("the change failed")


def _statements(queries: CaptureQueriesContext) -> list[str]:
    """The statements of a block, without the test case's savepoint around it."""
    return [
        q["sql"]
        for q in queries.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]


def _seqs() -> list[int]:
    return list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))


def test_audit_append_chains_many_rows_in_one_insert_and_one_move_of_the_head() -> None:
    with transaction.atomic():
        audit_record(actor="system:test", action="demo.first")  # the head exists and is known
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        written = audit_append(_entries(3))
        assert [e.seq for e in written] == [None, None, None]  # chained at commit

    assert len(_statements(queries)) == 2  # the head checked and moved; the three rows
    assert [e.seq for e in written] == [2, 3, 4]
    assert [e.prev_hash for e in written[1:]] == [e.entry_hash for e in written[:-1]]
    assert _seqs() == [1, 2, 3, 4]
    head = AuditHead.objects.get()
    assert (head.seq, head.last_hash) == (4, written[-1].entry_hash)
    assert audit_verify().ok


def test_a_head_moved_by_another_writer_is_read_again() -> None:
    with transaction.atomic():
        audit_record(actor="system:test", action="demo.first")
    alias = connection.alias
    # another process appended one row since: this process's guess is one behind
    audit._head_hints[alias] = (0, audit.GENESIS_HASH)

    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        audit_record(actor="system:test", action="demo.second")

    assert (
        len(_statements(queries)) == 4
    )  # the guess refused, the head locked and read, moved, the row
    assert _seqs() == [1, 2]
    assert audit_verify().ok
    assert audit._head_hints[alias][0] == 2


def test_a_rolled_back_row_does_not_leave_a_gap() -> None:
    with transaction.atomic():
        audit_record(actor="system:test", action="demo.first")
    with pytest.raises(RuntimeError):
        _record_then_fail("demo.undone")
    # the failed change's row was never chained: the head did not move
    assert audit._head_hints[connection.alias][0] == 1
    assert AuditHead.objects.get().seq == 1
    audit._head_hints[connection.alias] = (2, "f" * 64)  # a guess from a rolled-back move

    with transaction.atomic():
        audit_append(_entries(2))

    assert _seqs() == [1, 2, 3]
    assert list(AuditEntry.objects.order_by("seq").values_list("action", flat=True)) == [
        "demo.first",
        "demo.change",
        "demo.change",
    ]
    assert audit_verify().ok


def test_a_rolled_back_savepoint_does_not_leave_a_gap() -> None:
    with transaction.atomic():
        audit_record(actor="system:test", action="demo.first")
        with pytest.raises(RuntimeError):
            _record_then_fail("demo.undone")
        audit_record(actor="system:test", action="demo.kept")

    assert list(AuditEntry.objects.order_by("seq").values_list("seq", "action")) == [
        (1, "demo.first"),
        (2, "demo.kept"),
    ]
    assert audit_verify().ok


def test_audit_append_refuses_an_entry_twice_and_outside_a_transaction() -> None:
    entries = _entries(1)
    with transaction.atomic():
        audit_append(entries)
    with pytest.raises(ValueError, match="once each"), transaction.atomic():
        audit_append(entries)
    assert _seqs() == [1]


@pytest.mark.django_db(transaction=True)
def test_audit_append_refuses_to_run_outside_a_transaction() -> None:
    with pytest.raises(audit.AuditOutsideTransaction):
        audit_append(_entries(1))
    assert _seqs() == []
