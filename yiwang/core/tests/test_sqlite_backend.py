"""The embedded SQLite backend's queue of writers: taken at BEGIN, always given back."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from django.db.backends.sqlite3 import base as django_sqlite

from yiwang.core.db.sqlite3 import base as backend


def _wrapper(path: Path, *, timeout: float = 5) -> backend.DatabaseWrapper:
    settings: dict[str, Any] = {
        "ENGINE": "yiwang.core.db.sqlite3",
        "NAME": str(path),
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": timeout},
        "TIME_ZONE": None,
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
        "AUTOCOMMIT": True,
        "ATOMIC_REQUESTS": False,
        "USER": "",
        "PASSWORD": "",
        "HOST": "",
        "PORT": "",
        "TEST": {},
    }
    wrapper = backend.DatabaseWrapper(settings, alias="queue-test")
    wrapper.inc_thread_sharing()  # the tests hand one wrapper between threads
    return wrapper


@pytest.fixture(autouse=True)
def _own_database(django_db_blocker: Any) -> Any:
    # These tests open a database file of their own, not the test database.
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    path = tmp_path / "queue.sqlite3"
    w = _wrapper(path)
    with w.cursor() as cursor:
        cursor.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    w.close()
    return path


def _begin(w: backend.DatabaseWrapper) -> None:
    w.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)


def _end(w: backend.DatabaseWrapper, how: str) -> None:
    if how == "commit":
        w.commit()
    elif how == "rollback":
        w.rollback()
    else:
        w.close()
        return
    w.set_autocommit(True)


@pytest.mark.parametrize("how", ["commit", "rollback", "close"])
def test_the_queue_is_held_for_the_transaction_and_given_back(db_file: Path, how: str):
    w = _wrapper(db_file)
    assert not backend._writers.locked()
    _begin(w)
    assert backend._writers.locked()
    with w.cursor() as cursor:
        cursor.execute("INSERT INTO t (v) VALUES ('a')")
    _end(w, how)
    assert not backend._writers.locked()
    w.close()


def test_a_second_writer_waits_for_the_first_to_commit(db_file: Path):
    first, second = _wrapper(db_file), _wrapper(db_file)
    _begin(first)
    with first.cursor() as cursor:
        cursor.execute("INSERT INTO t (v) VALUES ('first')")
    entered = threading.Event()
    seen: list[int] = []

    def write() -> None:
        _begin(second)  # blocks in the queue, not in SQLite, until `first` commits
        entered.set()
        with second.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM t")
            seen.append(cursor.fetchone()[0])
        _end(second, "commit")

    worker = threading.Thread(target=write)
    worker.start()
    assert not entered.wait(0.3)  # still queued
    _end(first, "commit")
    worker.join(10)
    assert entered.is_set()
    assert seen == [1]  # it began after the first commit, so it sees the row
    assert not backend._writers.locked()
    first.close()
    second.close()


def test_a_failed_begin_gives_the_queue_back(db_file: Path, monkeypatch: pytest.MonkeyPatch):
    w = _wrapper(db_file)

    def broken(self: Any) -> None:
        raise RuntimeError("disk gone")

    monkeypatch.setattr(
        django_sqlite.DatabaseWrapper, "_start_transaction_under_autocommit", broken
    )
    with pytest.raises(RuntimeError):
        w._start_transaction_under_autocommit()
    assert not backend._writers.locked()
    w.close()


def test_after_the_timeout_a_writer_goes_ahead_and_never_frees_another_s_turn(db_file: Path):
    backend._writers.acquire()  # someone else's turn, never given back in time
    try:
        w = _wrapper(db_file, timeout=0.2)
        _begin(w)  # waits 0.2 s, then goes ahead under SQLite's own lock
        with w.cursor() as cursor:
            cursor.execute("INSERT INTO t (v) VALUES ('late')")
        _end(w, "commit")
        assert backend._writers.locked()  # the other holder still has its turn
        w.close()
    finally:
        backend._writers.release()


def _rows(path: Path) -> list[str]:
    w = _wrapper(path)
    with w.cursor() as cursor:
        cursor.execute("SELECT v FROM t ORDER BY id")
        values = [v for (v,) in cursor.fetchall()]
    w.close()
    return values


def test_immediate_commits_its_block_and_gives_the_queue_back(db_file: Path):
    w = _wrapper(db_file)
    with w.immediate() as db:
        assert backend._writers.locked()
        assert w.connection.in_transaction
        db.execute("INSERT INTO t (v) VALUES (?)", ("a",))
        db.execute("INSERT INTO t (v) VALUES (?)", ("b",))
    assert not backend._writers.locked()
    assert not w.connection.in_transaction
    w.close()
    assert _rows(db_file) == ["a", "b"]


def test_immediate_rolls_back_the_whole_block_on_an_error(db_file: Path):
    from django.db import IntegrityError

    w = _wrapper(db_file)

    def same_id_twice() -> None:
        with w.immediate() as db:
            db.execute("INSERT INTO t (id, v) VALUES (?, ?)", (1, "first"))
            db.execute("INSERT INTO t (id, v) VALUES (?, ?)", (1, "same id"))

    def crash_mid_way() -> None:
        with w.immediate() as db:
            db.execute("INSERT INTO t (v) VALUES (?)", ("then a crash",))
            raise RuntimeError("crash mid-way")

    with pytest.raises(IntegrityError):  # SQLite's error, as Django's
        same_id_twice()
    assert not backend._writers.locked()
    assert not w.connection.in_transaction
    with pytest.raises(RuntimeError):
        crash_mid_way()
    assert not backend._writers.locked()
    w.close()
    assert _rows(db_file) == []


def test_immediate_waits_in_the_queue_for_a_transaction_of_the_orm(db_file: Path):
    first, second = _wrapper(db_file), _wrapper(db_file)
    _begin(first)
    with first.cursor() as cursor:
        cursor.execute("INSERT INTO t (v) VALUES ('orm')")
    entered = threading.Event()

    def write() -> None:
        with second.immediate() as db:
            entered.set()
            db.execute("INSERT INTO t (v) VALUES (?)", ("raw",))

    worker = threading.Thread(target=write)
    worker.start()
    assert not entered.wait(0.3)  # queued behind the ORM's transaction
    _end(first, "commit")
    worker.join(10)
    assert entered.is_set()
    first.close()
    second.close()
    assert _rows(db_file) == ["orm", "raw"]


def test_immediate_refuses_to_run_inside_an_atomic_block(db_file: Path):
    from django.db.transaction import TransactionManagementError

    w = _wrapper(db_file)
    w.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    w.in_atomic_block = True
    with pytest.raises(TransactionManagementError), w.immediate():
        pass
    w.in_atomic_block = False
    w.rollback()
    w.set_autocommit(True)
    assert not backend._writers.locked()
    w.close()


def test_immediate_records_its_statements_where_django_records_queries(db_file: Path):
    w = _wrapper(db_file)
    w.force_debug_cursor = True
    with w.immediate() as db:
        db.execute("INSERT INTO t (v) VALUES (?)", ("logged",))
    assert [q["sql"] for q in w.queries] == ["INSERT INTO t (v) VALUES (?) ('logged',)"]
    w.close()
