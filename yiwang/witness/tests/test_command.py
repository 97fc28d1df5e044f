"""``yiwang witness``: the subcommands in-process, and once end to end a separate witness
process (``serve --data-dir``) that cosigns a real checkpoint over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from yiwang.ledger.note import cosignature_verify, note_parse, vkey_parse
from yiwang.ledger.witness_client import add_checkpoint
from yiwang.witness.models import WitnessedLog
from yiwang.witness.tests.conftest import ORIGIN, WITNESS_NAME, FakeLog


def _vkey_args(log: FakeLog) -> list[str]:
    return [arg for vkey in log.vkeys for arg in ("--vkey", vkey)]


def _run(*args: str) -> str:
    out = StringIO()
    call_command("witness", *args, stdout=out)
    return out.getvalue().strip()


@pytest.mark.django_db
def test_init_trust_vkey_status(fake_log: FakeLog) -> None:
    vkey = _run("init", "--name", WITNESS_NAME)
    trusted = _run("trust-log", "--origin", ORIGIN, *_vkey_args(fake_log))

    assert vkey_parse(vkey).name == WITNESS_NAME
    assert _run("vkey") == vkey
    assert trusted == f"trusted {ORIGIN} (size 0)"
    assert WitnessedLog.objects.get(origin=ORIGIN).vkey_lines() == fake_log.vkeys
    assert _run("status").split("\n") == [f"witness: {vkey}", f"{ORIGIN}\t0\t-"]


@pytest.mark.django_db
def test_trust_log_with_bad_vkey_exits_1(fake_log: FakeLog) -> None:
    with pytest.raises(SystemExit) as exit_info:
        call_command(
            "witness", "trust-log", "--origin", ORIGIN, "--vkey", "nonsense", stderr=StringIO()
        )

    assert exit_info.value.code == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - our interpreter and module
        [sys.executable, "-m", "yiwang.cli", "witness", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_serve_end_to_end(tmp_path: Path, fake_log: FakeLog) -> None:
    data_dir = tmp_path / "witness1"
    # An operator's shell: no test settings, no database URL of the platform.
    env = {
        k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")
    }
    env["YIWANG_DATA_DIR"] = str(tmp_path / "operator")
    vkey = _cli(env, "init", "--name", WITNESS_NAME, "--data-dir", str(data_dir))
    vkey_args = _vkey_args(fake_log)
    _cli(env, "trust-log", "--origin", ORIGIN, *vkey_args, "--data-dir", str(data_dir))
    port = _free_port()
    command = ["witness", "serve", "--data-dir", str(data_dir), "--port", str(port)]
    server = subprocess.Popen(  # noqa: S603 - our interpreter and module
        [sys.executable, "-m", "yiwang.cli", *command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/witness/add-checkpoint"
        deadline = time.monotonic() + 90
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, "witness process ended"
                assert time.monotonic() < deadline, "witness did not start"
                time.sleep(0.3)

        first = add_checkpoint(url, 0, [], fake_log.checkpoint(6), timeout=30)
        stale = add_checkpoint(url, 0, [], fake_log.checkpoint(6), timeout=30)
        second = add_checkpoint(url, 6, fake_log.proof(6, 10), fake_log.checkpoint(10), timeout=30)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    assert (first.status, first.ok) == (200, True)
    assert (stale.status, stale.conflict_size) == (409, 6)
    assert second.status == 200
    text = note_parse(fake_log.checkpoint(10)).text
    assert cosignature_verify(text, second.cosignature_lines[0], vkey_parse(vkey)) > 0
    assert (data_dir / "witness.sqlite3").exists()
    assert not (tmp_path / "operator" / "witness.sqlite3").exists()
    down = add_checkpoint(url, 10, [], fake_log.checkpoint(10), timeout=2)
    assert (down.status, down.ok) == (0, False)
    assert down.error is not None
    assert down.error.startswith("network error")
