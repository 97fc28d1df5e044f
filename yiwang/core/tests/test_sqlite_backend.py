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
