"""Work kept until just before COMMIT (yiwang.core.db.precommit), and the audit trail chained
there: one move of the head per transaction, its lock held only from that move on."""

from __future__ import annotations

import threading

import psycopg
import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yiwang.core.audit import audit_record, audit_verify
from yiwang.core.db import precommit
from yiwang.core.models import AuditEntry, AuditHead, OutboxMessage

pytestmark = pytest.mark.django_db


def _actions() -> list[str]:
    return list(AuditEntry.objects.order_by("seq").values_list("action", flat=True))


def test_a_transactions_rows_are_chained_together_when_it_ends() -> None:
    with transaction.atomic():
        audit_record(actor="system:test", action="demo.zero")  # the head row exists
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        first = audit_record(actor="system:test", action="demo.one")
        second = audit_record(actor="system:test", action="demo.two")
        # nothing is written while the transaction runs
        assert first.seq is None
        assert second.seq is None
        assert AuditEntry.objects.count() == 1

    moves = [q for q in queries.captured_queries if "core_audithead" in q["sql"]]
    assert len(moves) == 1  # one move of the head for both rows
    assert (first.seq, second.seq) == (2, 3)
    assert second.prev_hash == first.entry_hash
    assert _actions() == ["demo.zero", "demo.one", "demo.two"]
    assert audit_verify().ok


def test_rows_of_a_rolled_back_savepoint_are_dropped_and_the_rest_kept() -> None:
    with transaction.atomic():
        audit_record(actor="system:test", action="demo.kept")
        try:
            with transaction.atomic():
                audit_record(actor="system:test", action="demo.undone")
                raise RuntimeError("the inner change failed")
        except RuntimeError:
            pass
        audit_record(actor="system:test", action="demo.after")

    assert _actions() == ["demo.kept", "demo.after"]
    assert AuditHead.objects.get().seq == 2
    assert audit_verify().ok


def test_a_failed_transaction_leaves_no_row_and_does_not_move_the_head() -> None:
    with transaction.atomic():
        audit_record(actor="system:test", action="demo.before")

    def failing_change() -> None:
        with transaction.atomic():
            audit_record(actor="system:test", action="demo.undone")
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        failing_change()

    assert _actions() == ["demo.before"]
    assert AuditHead.objects.get().seq == 1
    assert connection.precommit_items == []  # type: ignore[attr-defined]


def test_without_a_transaction_of_its_own_a_row_is_chained_at_once() -> None:
    # only the test case's transaction is open: there is no commit to wait for
    entry = audit_record(actor="system:test", action="demo.now")

    assert entry.seq == 1
    assert _actions() == ["demo.now"]


def test_an_entry_is_kept_once() -> None:
    from yiwang.core.audit import audit_append, audit_entry

    entry = audit_entry(actor="system:test", action="demo.once")
    with transaction.atomic():
        audit_append([entry])
        with pytest.raises(ValueError, match="once each"):
            audit_append([entry])


@pytest.mark.django_db(transaction=True)
def test_a_failing_pre_commit_step_rolls_the_whole_transaction_back() -> None:
    def broken(_items: list[object]) -> None:
        raise ValueError("the step failed")

    def change() -> None:
        with transaction.atomic():
            OutboxMessage.objects.create(topic="test.kept", payload={}, available_at=timezone.now())
            audit_record(actor="system:test", action="demo.change")
            assert precommit.precommit_add("test.broken", 1)

    precommit.precommit_register("test.broken", broken)
    with pytest.raises(DatabaseError, match="pre-commit work failed"):
        change()

    assert not OutboxMessage.objects.exists()
    assert not AuditEntry.objects.exists()
    # and the connection works on
    with transaction.atomic():
        audit_record(actor="system:test", action="demo.next")
    assert _actions() == ["demo.next"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="row locks seen from a second connection: PostgreSQL",
)
def test_the_head_is_not_locked_while_the_transaction_works() -> None:
    with transaction.atomic():
        audit_record(actor="system:test", action="demo.first")  # the head row exists
    params = connection.get_connection_params()
    other = psycopg.connect(
        **{k: v for k, v in params.items() if k in ("dbname", "user", "host", "port")},
        autocommit=True,
    )
    seen: list[str] = []

    def try_the_head() -> None:
        try:
            other.execute("SELECT seq FROM core_audithead WHERE id = 1 FOR UPDATE NOWAIT")
            seen.append("free")
        except psycopg.errors.LockNotAvailable:
            seen.append("locked")

    try:
        with transaction.atomic():
            audit_record(actor="system:test", action="demo.change")
            OutboxMessage.objects.create(
                topic="test.later", payload={}, available_at=timezone.now()
            )
            worker = threading.Thread(target=try_the_head)  # another writer, meanwhile
            worker.start()
            worker.join()
    finally:
        other.close()

    assert seen == ["free"]
    assert _actions() == ["demo.first", "demo.change"]


def test_under_a_block_without_a_savepoint_a_row_is_chained_at_once() -> None:
    # a test case's transaction, and the code's outermost block has no savepoint to release
    with transaction.atomic(savepoint=False):
        entry = audit_record(actor="system:test", action="demo.now")
        assert entry.seq == 1

    assert _actions() == ["demo.now"]
