"""The hash-chained audit trail: writing, the append-only guard, and verification."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yiwang.core.audit import (
    GENESIS_HASH,
    AuditOutsideTransaction,
    audit_guard_suspended,
    audit_record,
    audit_verify,
    entry_hash,
)
from yiwang.core.models import AuditEntry, AuditHead

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor():
    return get_user_model().objects.create(username="clerk-01", real_name="张三")


def _record(actor, n: int) -> list[AuditEntry]:
    with transaction.atomic():
        return [
            audit_record(
                actor=actor,
                action="demo.change",
                object_type="demo.thing",
                object_id=str(i),
                reason=f"第 {i} 次",
                before={"n": i - 1},
                after={"n": i},
            )
            for i in range(1, n + 1)
        ]


def _raw(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- writing -------------------------------------------------------------------------------


def test_audit_record_chains_rows_and_moves_the_head(actor):
    # given / when
    first, second = _record(actor, 2)

    # then
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.entry_hash
    assert len(first.entry_hash) == 64
    head = AuditHead.objects.get()
    assert (head.seq, head.last_hash) == (2, second.entry_hash)
    stored = AuditEntry.objects.get(seq=1)
    assert (stored.actor_id, stored.actor_label) == (actor.pk, "张三")
    assert (stored.before, stored.after, stored.reason) == ({"n": 0}, {"n": 1}, "第 1 次")


def test_audit_record_uses_sm3():
    # given: the fields of a row; when: hashed; then: SM3 of prev_hash || canonical JSON
    # (GB/T 32905 test vector for "abc" checks the primitive itself)
    from cryptography.hazmat.primitives import hashes

    digest = hashes.Hash(hashes.SM3())
    digest.update(b"abc")
    assert digest.finalize().hex() == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )
    expected = hashes.Hash(hashes.SM3())
    expected.update(GENESIS_HASH.encode() + '{"a":"中","b":1}'.encode())
    assert entry_hash(GENESIS_HASH, {"b": 1, "a": "中"}) == expected.finalize().hex()


def test_audit_record_takes_type_and_id_from_the_object(actor):
    with transaction.atomic():
        entry = audit_record(actor=actor, action="accounts.user_edit", obj=actor)

    assert (entry.object_type, entry.object_id) == ("accounts.user", str(actor.pk))


@pytest.mark.django_db(transaction=True)
def test_audit_record_refuses_outside_a_transaction():
    # given: autocommit mode (a transactional test does not wrap the test in a transaction)
    actor = get_user_model().objects.create(username="clerk-03")

    # when / then
    with pytest.raises(AuditOutsideTransaction, match="inside the transaction"):
        audit_record(actor=actor, action="demo.change")
    assert AuditEntry.objects.count() == 0


def test_audit_record_normalises_before_and_after_so_the_hash_verifies(actor):
    # given: values that JSON cannot hold as they are
    identifier = uuid.UUID("12345678-1234-5678-1234-567812345678")
    before: dict[Any, Any] = {
        "day": dt.date(2025, 10, 1),
        "at": dt.datetime(2025, 10, 1, 8, 30, 15, 123456, tzinfo=dt.UTC),
        "fee": Decimal("12.50"),
        "id": identifier,
        "tags": ("a", "b"),
        "big": 1e20,
        "zero": -0.0,
        7: "int key",
    }

    # when
    with transaction.atomic():
        audit_record(actor=actor, action="demo.change", before=before, after=None)

    # then: stored as JSON-safe values, and the chain verifies over exactly what is stored
    stored = AuditEntry.objects.get()
    assert stored.before == {
        "day": "2025-10-01",
        "at": "2025-10-01T08:30:15.123Z",
        "fee": "12.50",
        "id": "12345678-1234-5678-1234-567812345678",
        "tags": ["a", "b"],
        "big": 100000000000000000000,
        "zero": 0.0,
        "7": "int key",
    }
    assert stored.after is None
    assert audit_verify().ok


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"before": {"x": object()}}, "JSON-serialisable"),
        ({"after": {"x": float("nan")}}, "JSON-serialisable"),
        ({"after": {"x": "a\x00b"}}, "NUL"),
        ({"action": ""}, "action is required"),
        ({"object_id": "x" * 65}, "object_id is longer than 64"),
    ],
)
def test_audit_record_refuses_bad_input_and_writes_nothing(actor, kwargs, message):
    with pytest.raises(ValueError, match=message), transaction.atomic():
        audit_record(**{"actor": actor, "action": "demo.change", **kwargs})

    assert AuditEntry.objects.count() == 0
    assert not AuditHead.objects.filter(seq__gt=0).exists()


def test_a_rolled_back_change_leaves_no_audit_row(actor):
    # given: a service that records its audit row and then fails
    class Boom(Exception):
        pass

    @transaction.atomic
    def failing_service() -> None:
        audit_record(actor=actor, action="demo.change", object_id="1")
        raise Boom

    # when
    with pytest.raises(Boom):
        failing_service()

    # then
    assert AuditEntry.objects.count() == 0
    assert not AuditHead.objects.filter(seq__gt=0).exists()
    assert audit_verify().ok


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    value=st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(alphabet=st.characters(blacklist_characters="\x00"))
        | st.dates()
        | st.decimals(allow_nan=False, allow_infinity=False),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.text(max_size=5).filter(lambda k: "\x00" not in k), children)
        ),
        max_leaves=8,
    )
)
def test_any_json_like_value_verifies_after_a_round_trip(actor, value):
    with transaction.atomic():
        audit_record(actor=actor, action="demo.change", after={"value": value})
        report = audit_verify()
        transaction.set_rollback(True)

    assert report.ok, report.message


# --- the database guard --------------------------------------------------------------------


def test_the_database_refuses_update_and_delete(actor):
    _record(actor, 1)

    for statement in (
        "UPDATE core_auditentry SET reason = 'x'",
        "DELETE FROM core_auditentry",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            _raw(statement, [])

    assert AuditEntry.objects.get().reason == "第 1 次"


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_trail_and_puts_the_guard_back():
    # given: committed audit rows (the test runner flushes like this after transactional tests)
    actor = get_user_model().objects.create(username="clerk-04")
    _record(actor, 2)

    # when
    call_command("flush", interactive=False, verbosity=0)

    # then
    assert AuditEntry.objects.count() == 0
    actor = get_user_model().objects.create(username="clerk-05")
    _record(actor, 1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _raw("DELETE FROM core_auditentry", [])
    assert AuditEntry.objects.count() == 1


# --- verification: each kind of tampering is named -----------------------------------------


def test_verify_reports_an_intact_chain(actor):
    entries = _record(actor, 3)

    report = audit_verify()

    assert report.ok
    assert (report.rows, report.head_hash, report.bad_seq) == (3, entries[-1].entry_hash, None)
    assert report.message == f"审计链完整 / audit chain intact: 3 rows, head {report.head_hash}"


def test_verify_of_an_empty_trail_is_intact():
    report = audit_verify()

    assert (report.ok, report.rows, report.head_hash) == (True, 0, GENESIS_HASH)


def test_verify_names_an_edited_row(actor):
    _record(actor, 5)
    with audit_guard_suspended():
        _raw("UPDATE core_auditentry SET reason = %s WHERE seq = 3", ["改过"])

    report = audit_verify()

    assert (report.ok, report.bad_seq, report.problem, report.rows) == (False, 3, "altered", 2)
    assert "seq 3" in report.message
    assert "the row was altered" in report.message


def test_verify_names_an_edited_json_field(actor):
    _record(actor, 3)
    with audit_guard_suspended():
        row = AuditEntry.objects.get(seq=2)
        row.after = {"n": 99}
        row.save(update_fields=["after"])

    report = audit_verify()

    assert (report.bad_seq, report.problem) == (2, "altered")


def test_verify_names_a_deleted_row(actor):
    _record(actor, 5)
    with audit_guard_suspended():
        _raw("DELETE FROM core_auditentry WHERE seq = 2", [])

    report = audit_verify()

    assert (report.ok, report.bad_seq, report.problem) == (False, 2, "missing")
    assert "row 2 is missing (deleted); the next row is 3" in report.message


def test_verify_names_swapped_rows(actor):
    _record(actor, 5)
    with audit_guard_suspended():
        _raw("UPDATE core_auditentry SET seq = 1000 WHERE seq = 3", [])
        _raw("UPDATE core_auditentry SET seq = 3 WHERE seq = 4", [])
        _raw("UPDATE core_auditentry SET seq = 4 WHERE seq = 1000", [])

    report = audit_verify()

    assert (report.ok, report.bad_seq, report.problem) == (False, 3, "reordered")
    assert "this row was written as seq 4" in report.message


def test_verify_names_a_truncated_tail(actor):
    _record(actor, 5)
    with audit_guard_suspended():
        _raw("DELETE FROM core_auditentry WHERE seq >= 4", [])

    report = audit_verify()

    assert (report.ok, report.bad_seq, report.problem, report.rows) == (False, 4, "truncated", 3)
    assert "the head records 5 rows, 3 remain" in report.message


def test_verify_names_a_row_whose_hash_was_recomputed(actor):
    # given: row 2 edited and its own hash recomputed; row 3 still links to the old hash
    _record(actor, 3)
    with audit_guard_suspended():
        row = AuditEntry.objects.get(seq=2)
        row.reason = "改过"
        from yiwang.core.audit import _compute_hash

        row.entry_hash = _compute_hash(row)
        row.save(update_fields=["reason", "entry_hash"])

    report = audit_verify()

    assert (report.bad_seq, report.problem) == (3, "broken_link")
    assert "prev_hash does not match row 2" in report.message


def test_audit_verify_command_prints_intact_and_exits_0(actor, capsys):
    _record(actor, 2)

    call_command("audit", "verify")

    out = capsys.readouterr().out
    head = AuditHead.objects.get().last_hash
    assert out.strip() == f"审计链完整 / audit chain intact: 2 rows, head {head}"


def test_audit_verify_command_names_the_bad_row_and_exits_1(actor, capsys):
    _record(actor, 3)
    with audit_guard_suspended():
        _raw("UPDATE core_auditentry SET action = 'x' WHERE seq = 2", [])

    with pytest.raises(SystemExit) as exit_info:
        call_command("audit", "verify")

    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "audit chain broken at seq 2" in err
    assert "the row was altered" in err


# --- concurrency (PostgreSQL: real row locks between two connections) ----------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_concurrent_writers_get_one_chain_order():
    # given: two threads that each hold their transaction open after writing
    actor = get_user_model().objects.create(username="clerk-02")
    audit_record_ready = threading.Barrier(2)
    errors: list[BaseException] = []

    def write(label: str) -> None:
        try:
            audit_record_ready.wait(timeout=30)
            for i in range(10):
                with transaction.atomic():
                    audit_record(actor=actor, action="demo.change", object_id=f"{label}{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(label,)) for label in "ab"]

    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then: 20 rows, seq 1..20 without gaps, one chain
    assert errors == []
    assert list(AuditEntry.objects.values_list("seq", flat=True)) == list(range(1, 21))
    report = audit_verify()
    assert (report.ok, report.rows) == (True, 20)
