"""``yiwang witness <subcommand>``: run this codebase as a transparency-log witness.

    yiwang witness init --name NAME [--data-dir DIR]      (creates the identity, prints its vkey)
    yiwang witness trust-log --origin O --vkey V [--vkey V2] [--data-dir DIR]
    yiwang witness vkey [--data-dir DIR]
    yiwang witness status [--data-dir DIR]
    yiwang witness serve --data-dir DIR --port P [--host 127.0.0.1]
    yiwang witness demo [--base-dir DIR] [--first-port 8101]   (three witnesses for this log)

``--data-dir`` makes a separate witness: its own SQLite database, secrets and keys in DIR, so
that a department (or the demo, three times on one machine) runs a witness independent of the
platform's database. The subcommand then runs in a child process whose environment points
there (``YIWANG_DATA_DIR``, ``DATABASE_URL``); ``serve`` migrates that database and replaces
itself with the platform's production server, ``yiwang serve``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from yiwang.core.management.subcommands import Subcommand, SubcommandCommand
from yiwang.witness.demo import FIRST_PORT, witnesses_demo_start, witnesses_demo_stop
from yiwang.witness.errors import WitnessRefused
from yiwang.witness.selectors import witnessed_logs
from yiwang.witness.services import (
    witness_identity,
    witness_init,
    witness_trust_log,
    witness_vkey,
)

CHILD_MARK = "YIWANG_WITNESS_DATA_DIR"
# The platform's own secrets must not leak into a separate witness: it generates its own.
INHERITED_SECRETS = (
    "YIWANG_SECRET_KEY",
    "YIWANG_FIELD_KEYS",
    "YIWANG_BLIND_INDEX_KEY",
    "YIWANG_ENV",
    "REDIS_URL",
)


def witness_environment(data_dir: Path) -> dict[str, str]:
    """The environment of a separate witness process living in ``data_dir``."""
    env = {k: v for k, v in os.environ.items() if k not in INHERITED_SECRETS}
    env.update(
        {
            "YIWANG_DATA_DIR": str(data_dir),
            "DATABASE_URL": f"sqlite:///{data_dir / 'witness.sqlite3'}",
            "DJANGO_SETTINGS_MODULE": "yiwang.settings.embedded",
            CHILD_MARK: str(data_dir),
        }
    )
    return env


def _python_yiwang(*args: str) -> list[str]:
    return [sys.executable, "-m", "yiwang.cli", *args]


def _run(args: list[str], env: dict[str, str]) -> int:
    # Our own interpreter and module with arguments from argparse: no shell, nothing to inject.
    return subprocess.run(args, env=env, check=False).returncode  # noqa: S603


def _elsewhere(options: dict[str, Any], *args: str) -> int | None:
    """With ``--data-dir``: run ``yiwang witness <args>`` in a child process whose settings
    point at that folder and return its exit code. In that child: migrate its database and
    return None (the caller then does the work here)."""
    data_dir = options.get("data_dir")
    if not data_dir:
        return None
    path = Path(data_dir).resolve()
    if os.environ.get(CHILD_MARK) == str(path):
        call_command("migrate", interactive=False, verbosity=0)
        return None
    path.mkdir(parents=True, exist_ok=True)
    return _run(
        _python_yiwang("witness", *args, "--data-dir", str(path)), witness_environment(path)
    )


def _data_dir_argument(parser: CommandParser, required: bool = False) -> None:
    parser.add_argument(
        "--data-dir",
        required=required,
        help="独立见证方的数据目录（自带 SQLite 数据库）/ a separate witness's data folder",
    )


def _refused(command: BaseCommand, exc: WitnessRefused) -> int:
    command.stderr.write(f"{exc.code}: {exc.message}")
    return 1


# --- init -------------------------------------------------------------------------------


def init_arguments(parser: CommandParser) -> None:
    parser.add_argument(
        "--name", required=True, help="见证方名称，如 witness.caizheng.luan.example"
    )
    _data_dir_argument(parser)


def init_run(command: BaseCommand, options: dict[str, Any]) -> int:
    code = _elsewhere(options, "init", "--name", options["name"])
    if code is not None:
        return code
    try:
        identity = witness_init(name=options["name"])
    except WitnessRefused as exc:
        return _refused(command, exc)
    command.stdout.write(witness_vkey(identity))
    return 0


# --- trust-log --------------------------------------------------------------------------


def trust_arguments(parser: CommandParser) -> None:
    parser.add_argument("--origin", required=True, help="账本标识（检查点第一行）/ log origin")
    parser.add_argument(
        "--vkey", required=True, action="append", help="账本公钥（可重复）/ log vkey (repeatable)"
    )
    _data_dir_argument(parser)


def trust_run(command: BaseCommand, options: dict[str, Any]) -> int:
    args = ["trust-log", "--origin", options["origin"]]
    for vkey in options["vkey"]:
        args += ["--vkey", vkey]
    code = _elsewhere(options, *args)
    if code is not None:
        return code
    try:
        log = witness_trust_log(origin=options["origin"], vkeys=options["vkey"])
    except WitnessRefused as exc:
        return _refused(command, exc)
    command.stdout.write(f"trusted {log.origin} (size {log.size})")
    return 0


# --- vkey / status ------------------------------------------------------------------------


def vkey_run(command: BaseCommand, options: dict[str, Any]) -> int:
    code = _elsewhere(options, "vkey")
    if code is not None:
        return code
    identity = witness_identity()
    if identity is None:
        command.stderr.write("witness not initialised: run `yiwang witness init --name NAME`")
        return 1
    command.stdout.write(witness_vkey(identity))
    return 0


def status_run(command: BaseCommand, options: dict[str, Any]) -> int:
    code = _elsewhere(options, "status")
    if code is not None:
        return code
    identity = witness_identity()
    command.stdout.write(f"witness: {witness_vkey(identity) if identity else '(not initialised)'}")
    for log in witnessed_logs():
        command.stdout.write(f"{log.origin}\t{log.size}\t{log.root_hash or '-'}")
    return 0


# --- serve --------------------------------------------------------------------------------


def serve_arguments(parser: CommandParser) -> None:
    _data_dir_argument(parser, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")


def serve_run(command: BaseCommand, options: dict[str, Any]) -> int:
    path = Path(options["data_dir"]).resolve()
    if os.environ.get(CHILD_MARK) != str(path):
        path.mkdir(parents=True, exist_ok=True)
        # Replace this process with one configured for the witness's folder: signals sent to
        # it (a service manager stopping the witness) reach the server directly.
        argv = _python_yiwang(
            "witness",
            "serve",
            "--data-dir",
            str(path),
            "--host",
            options["host"],
            "--port",
            str(options["port"]),
        )
        os.execve(sys.executable, argv, witness_environment(path))  # noqa: S606 - no shell
    call_command("migrate", interactive=False, verbosity=0)
    command.stdout.write(f"witness data in {path}")
    call_command("serve", host=options["host"], port=options["port"], workers=1)
    return 0


# --- demo ---------------------------------------------------------------------------------


def demo_arguments(parser: CommandParser) -> None:
    parser.add_argument(
        "--base-dir",
        default=None,
        help="三个见证方的数据目录所在位置（默认 <数据目录>/witnesses）/ where the witnesses live",
    )
    parser.add_argument(
        "--first-port", type=int, default=FIRST_PORT, help="第一个见证方的端口（其后两个依次加一）"
    )


def demo_run(command: BaseCommand, options: dict[str, Any]) -> int:
    base = Path(options["base_dir"] or Path(settings.DATA_DIR) / "witnesses").resolve()
    try:
        witnesses, checkpoint, policy = witnesses_demo_start(
            base, first_port=options["first_port"], say=command.stdout.write
        )
    except RuntimeError as exc:
        command.stderr.write(str(exc))
        return 1
    cosigners = ", ".join(checkpoint.cosignatures.values_list("witness", flat=True))
    command.stdout.write(
        f"checkpoint {checkpoint.size} cosigned by: {cosigners or '(none)'}\n"
        f"policy (2 of 3): {policy}\n"
        f"offline: yiwang ledger verify-bundle FILE --policy {policy}\n"
        "the witnesses run until Ctrl-C; `yiwang serve` asks them to cosign every checkpoint"
    )
    # A service manager's SIGTERM stops the witnesses as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    stopped: set[str] = set()
    try:
        # Stopping one witness is part of the demo (the other two still make the quorum).
        while any(w.process is not None and w.process.poll() is None for w in witnesses):
            for witness in witnesses:
                if (
                    witness.name not in stopped
                    and witness.process
                    and witness.process.poll() is not None
                ):
                    stopped.add(witness.name)
                    command.stderr.write(f"{witness.name} stopped (see {witness.folder}/serve.log)")
            time.sleep(1)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        witnesses_demo_stop(witnesses)


def _data_dir_only(parser: CommandParser) -> None:
    _data_dir_argument(parser)


class Command(SubcommandCommand):
    help = "账本见证方 / transparency-log witness"
    subcommands = {
        "init": Subcommand("创建见证方身份并输出公钥 / create identity", init_arguments, init_run),
        "trust-log": Subcommand(
            "信任一个账本的公钥 / trust a log's key", trust_arguments, trust_run
        ),
        "vkey": Subcommand("输出见证公钥 / print the witness vkey", _data_dir_only, vkey_run),
        "status": Subcommand("见证的账本与大小 / witnessed logs", _data_dir_only, status_run),
        "serve": Subcommand(
            "作为独立见证方运行 / serve a separate witness", serve_arguments, serve_run
        ),
        "demo": Subcommand(
            "演示：本机运行三个见证方并为本平台账本联署 / three demo witnesses for this log",
            demo_arguments,
            demo_run,
        ),
    }
