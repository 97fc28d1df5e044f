"""The access log's compare-and-set append: two statements when this process wrote the head
last (one on PostgreSQL: a data-modifying CTE), the locked append otherwise, and the chain
exactly as before either way."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import DatabaseError, IntegrityError, connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yiwang.exchange import accesslog
from yiwang.exchange.accesslog import log_append, log_verify
from yiwang.exchange.models import AccessLogEntry, AccessLogHead

pytestmark = pytest.mark.django_db


def row(n: int) -> dict[str, Any]:
    return {
        "created_at": timezone.now(),
        "consumer_id": 1,
        "consumer_label": "测试自然资源局",
        "owner_id": 2,
        "owner_label": "测试公安局",
        "resource_code": "LA-DR-GA-001",
        "fields": ["name"],
        "outcome": "answered",
        "result_size": n,
    }


def test_the_second_append_is_an_update_and_an_insert() -> None:
    assert log_append(row(1)) == 1
    with CaptureQueriesContext(connection) as second:
        assert log_append(row(2)) == 2
    statements = [q["sql"].split()[0].upper() for q in second.captured_queries]
    if connection.vendor == "postgresql":
        assert statements == ["WITH"]
        assert "UPDATE exchange_accessloghead" in second.captured_queries[0]["sql"]
        assert "INSERT INTO exchange_accesslogentry" in second.captured_queries[0]["sql"]
    else:
        wanted = {"SELECT", "UPDATE", "INSERT"}
        assert [s for s in statements if s in wanted] == ["UPDATE", "INSERT"]
    assert log_verify().ok
    assert log_verify().rows == 2


def test_a_head_moved_elsewhere_takes_the_locked_append_and_keeps_the_chain() -> None:
    log_append(row(1))
    log_append(row(2))
    # Another process appended: the head is not the one this process remembers.
    accesslog._head_seen = (1, "0" * 64)
    assert log_append(row(3)) == 3
    accesslog._head_seen = None
    assert log_append(row(4)) == 4
    assert log_verify().ok
    assert list(AccessLogEntry.objects.order_by("seq").values_list("seq", "result_size")) == [
        (1, 1),
        (2, 2),
        (3, 3),
        (4, 4),
    ]
    head = AccessLogHead.objects.get(id=1)
    assert (head.seq, head.last_hash) == (4, AccessLogEntry.objects.get(seq=4).entry_hash)


def test_a_stale_head_writes_no_row_through_the_compare_and_set() -> None:
    log_append(row(1))
    # The compare-and-set on a head that moved must insert nothing (the CTE's INSERT reads
    # the UPDATE's RETURNING, which is empty): the locked append then writes the one row.
    seq, head = accesslog._append_cas(accesslog._normalise(row(9)), (0, "0" * 64))
    assert seq is None
    assert AccessLogEntry.objects.count() == 1
    entry = AccessLogEntry.objects.get(seq=1)
    # PostgreSQL answers with the head it saw, for the next try; SQLite takes the lock instead
    assert head == ((1, entry.entry_hash) if connection.vendor == "postgresql" else None)
    assert entry.fields == ["name"]
    assert entry.consumer_label == "测试自然资源局"
    assert entry.created_at is not None
    assert accesslog.row_hash(entry) == entry.entry_hash


def test_on_postgresql_a_moved_head_is_retried_without_the_lock() -> None:
    log_append(row(1))
    log_append(row(2))
    accesslog._head_seen = (1, AccessLogEntry.objects.get(seq=1).entry_hash)
    with CaptureQueriesContext(connection) as third:
        assert log_append(row(3)) == 3
    statements = [q["sql"].split()[0].upper() for q in third.captured_queries]
    if connection.vendor == "postgresql":
        assert statements == ["WITH", "WITH"]  # the first try learns the head, the second appends
    else:
        assert "FOR UPDATE" not in " ".join(q["sql"] for q in third.captured_queries)
        assert [s for s in statements if s in {"SELECT", "UPDATE", "INSERT"}] == [
            "UPDATE",
            "SELECT",
            "INSERT",
            "UPDATE",
        ]
    assert accesslog._head_seen == (3, AccessLogEntry.objects.get(seq=3).entry_hash)
    assert log_verify().ok
    assert log_verify().rows == 3
    # a row written by the retried statement is covered like any other: tampering shows
    AccessLogEntry.objects.filter(seq=3).update(purpose="改过的用途")
    report = log_verify()
    assert (report.ok, report.bad_seq) == (False, 3)


@pytest.mark.django_db(transaction=True)
def test_outside_any_transaction_an_append_is_one_short_write() -> None:
    """The gateway's own path (no caller's transaction): on SQLite three statements in one
    write transaction of their own (``immediate()``), on PostgreSQL the one CTE."""
    assert log_append(row(1)) == 1
    with CaptureQueriesContext(connection) as second:
        assert log_append(row(2)) == 2
    statements = [q["sql"].split()[0].upper() for q in second.captured_queries]
    if connection.vendor == "postgresql":
        assert statements == ["WITH"]
    else:
        assert statements == ["SELECT", "INSERT", "UPDATE"]
    report = log_verify()
    assert (report.ok, report.rows) == (True, 2)
    head = AccessLogHead.objects.get(id=1)
    assert (head.seq, head.last_hash) == (2, AccessLogEntry.objects.get(seq=2).entry_hash)


@pytest.mark.django_db(transaction=True)
def test_outside_any_transaction_a_failed_append_changes_nothing() -> None:
    log_append(row(1))
    first = AccessLogEntry.objects.get(seq=1)
    # A row already holding the next seq (as if written behind the log's back) makes the
    # INSERT fail: the head must not move and the next append must still work.
    AccessLogEntry.objects.create(
        **accesslog._normalise(row(7)),
        seq=2,
        prev_hash=first.entry_hash,
        entry_hash="f" * 64,
    )
    accesslog._head_seen = None
    with pytest.raises(IntegrityError):
        log_append(row(2))
    head = AccessLogHead.objects.get(id=1)
    assert (head.seq, head.last_hash) == (1, first.entry_hash)
    assert AccessLogEntry.objects.count() == 2
    AccessLogEntry.objects.filter(seq=2).delete()
    assert log_append(row(3)) == 2
    assert log_verify().ok


def _in_thread(work: Any) -> threading.Thread:
    def run() -> None:
        try:
            work()
        finally:
            connections.close_all()  # this thread's own connection

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_concurrent_calls_each_get_their_own_row_in_one_unbroken_chain() -> None:
    log_append(row(0))
    got: dict[int, list[int]] = {}

    def calls(n: int) -> Any:
        def work() -> None:
            got[n] = [log_append(row(1000 * n + i)) for i in range(25)]

        return work

    threads = [_in_thread(calls(n)) for n in range(1, 7)]
    for t in threads:
        t.join(60)
    seqs = sorted(s for mine in got.values() for s in mine)
    assert seqs == list(range(2, 152))
    sizes = dict(AccessLogEntry.objects.values_list("seq", "result_size"))
    for n, mine in got.items():
        assert [sizes[s] for s in mine] == [1000 * n + i for i in range(25)]
    report = log_verify()
    assert (report.ok, report.rows) == (True, 151)
    head = AccessLogHead.objects.get(id=1)
    assert (head.seq, head.last_hash) == (151, AccessLogEntry.objects.get(seq=151).entry_hash)


def _queued_behind_the_leader(
    records: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> tuple[list[int], dict[int, Any]]:
    """Call log_append for ``records`` in threads while this test holds the leader's lock, so
    that all of them queue; then let them go. (batch sizes appended, result by index)"""
    sizes: list[int] = []
    real = accesslog._append_batch

    def counting(batch: Any) -> Any:
        sizes.append(len(batch))
        return real(batch)

    monkeypatch.setattr(accesslog, "_append_batch", counting)
    results: dict[int, Any] = {}

    def call(i: int) -> Any:
        def work() -> None:
            try:
                results[i] = log_append(records[i])
            except BaseException as exc:
                results[i] = exc

        return work

    with accesslog._leader:
        threads = [_in_thread(call(i)) for i in range(len(records))]
        for _ in range(500):
            if len(accesslog._queue) == len(records):
                break
            time.sleep(0.01)
        assert len(accesslog._queue) == len(records)
    for t in threads:
        t.join(60)
        assert not t.is_alive()
    return sizes, results


@pytest.mark.django_db(transaction=True)
def test_rows_queued_meanwhile_are_appended_in_one_write(monkeypatch: pytest.MonkeyPatch) -> None:
    log_append(row(0))
    sizes, results = _queued_behind_the_leader([row(i) for i in range(1, 6)], monkeypatch)
    assert sizes == [5]
    assert sorted(results.values()) == [2, 3, 4, 5, 6]
    for i, seq in results.items():
        assert AccessLogEntry.objects.get(seq=seq).result_size == i + 1
    assert log_verify().ok


@pytest.mark.django_db(transaction=True)
def test_a_row_that_cannot_be_written_fails_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    log_append(row(0))
    bad = row(2**70)  # beyond any integer column
    sizes, results = _queued_behind_the_leader([row(1), bad, row(3)], monkeypatch)
    assert sizes == [3, 1, 1, 1]  # the batch fails, then each alone
    assert isinstance(results[1], (DatabaseError, OverflowError))
    assert sorted([results[0], results[2]]) == [2, 3]
    assert AccessLogEntry.objects.count() == 3
    report = log_verify()
    assert (report.ok, report.rows) == (True, 3)


@pytest.mark.django_db(transaction=True)
def test_a_leader_stopped_mid_write_fails_its_batch_and_leaves_no_one_waiting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log_append(row(0))

    def stopped(batch: Any) -> Any:
        raise SystemExit("worker stopped")

    monkeypatch.setattr(accesslog, "_append_batch", stopped)
    sizes, results = _queued_behind_the_leader([row(i) for i in range(1, 4)], monkeypatch)
    # the leader tried once; every queued call ended with the stop, none wrote or waits on
    assert sizes == [3]
    assert sorted(results) == [0, 1, 2]
    assert all(isinstance(r, SystemExit) for r in results.values())
    assert accesslog._queue == []
    assert not accesslog._leader.locked()
    assert AccessLogEntry.objects.count() == 1
