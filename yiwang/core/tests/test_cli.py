"""The `yiwang` console commands, run as a user would: in a subprocess."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

YIWANG = Path(sys.executable).with_name("yiwang")
WAIT = 120  # seconds: a bound for a hang, not a timing assertion


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _embedded_env(data_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "YIWANG_JOBS_MODE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="yiwang.settings.embedded",
        YIWANG_DATA_DIR=str(data_dir),
        PYTHONUNBUFFERED="1",
    )
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own console script
        [str(YIWANG), *args], env=env, capture_output=True, text=True, timeout=WAIT, check=False
    )


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - localhost
            return int(response.status)
    except (urllib.error.URLError, ConnectionError):
        return 0


def test_serve_refuses_an_unmigrated_database(tmp_path):
    result = _run(["serve", "--port", str(_free_port())], _embedded_env(tmp_path))

    assert result.returncode == 1
    assert "run `yiwang migrate` first" in result.stderr
    assert not (tmp_path / "static").exists()


def test_serve_runs_the_platform_and_one_beat_in_a_fresh_data_dir(tmp_path):
    # given: a fresh data folder, migrated
    env = _embedded_env(tmp_path)
    migrated = _run(["migrate", "--no-input"], env)
    assert migrated.returncode == 0, migrated.stderr
    port = _free_port()

    # when: served with two worker processes
    log = (tmp_path / "serve.log").open("w+")
    server = subprocess.Popen(  # noqa: S603
        [str(YIWANG), "serve", "--port", str(port), "--workers", "2", "--threads", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + WAIT
        status = 0
        while status != 200 and time.monotonic() < deadline and server.poll() is None:
            status = _get(f"http://127.0.0.1:{port}/api/v1/health")
            if status != 200:
                time.sleep(0.5)
        # then
        assert status == 200
        assert (tmp_path / "static" / "staticfiles.json").exists()
        # both workers started a runner; exactly one of them runs the schedule
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            text = (tmp_path / "serve.log").read_text()
            if text.count("embedded jobs runner started") == 2 and "runs the schedule" in text:
                break
            time.sleep(0.5)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=WAIT)
        log.close()
    text = (tmp_path / "serve.log").read_text()
    assert text.count("embedded jobs runner started") == 2, text
    assert text.count("runs the schedule") == 1, text


def test_worker_without_redis_url_refuses_clearly(tmp_path):
    result = _run(["worker"], _embedded_env(tmp_path))

    assert result.returncode == 1
    assert "REDIS_URL is not set" in result.stderr
    assert "未设置 REDIS_URL" in result.stderr


@pytest.mark.parametrize("args", [["audit"], ["audit", "rewrite"]])
def test_audit_needs_a_known_subcommand(tmp_path, args):
    result = _run(args, _embedded_env(tmp_path))

    assert result.returncode != 0
    assert "verify" in result.stderr
