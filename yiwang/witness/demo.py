"""``yiwang witness demo``: the platform's log and three departments' witnesses on one machine.

Each witness is a separate process with its own folder, SQLite database and key
(``yiwang witness serve --data-dir``), exactly as a department would run one; only the
machine is shared. The platform's log learns their URLs and keys (``LogWitness``), so the
running platform (``make run``) asks them to cosign every checkpoint it publishes, and the
verifier's policy (2 of 3) is written beside them.

Idempotent: a second run reuses the folders, identities and keys.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from yiwang.ledger import selectors as ledger
from yiwang.ledger import services as ledger_services
from yiwang.ledger.models import Checkpoint

# Three departments that have no stake in the certificates they witness: finance, public
# security, market regulation; on ports FIRST_PORT, +1, +2.
DEMO_WITNESSES = ("caizheng", "gongan", "shichang")
FIRST_PORT = 8101
READY_TIMEOUT_SECONDS = 120.0


@dataclass
class DemoWitness:
    name: str
    port: int
    folder: Path
    vkey: str = ""
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/witness/add-checkpoint"


def _yiwang(*args: str) -> list[str]:
    return [sys.executable, "-m", "yiwang.cli", *args]


def _run(*args: str) -> str:
    # Our own interpreter and module, arguments we built: no shell, nothing to inject.
    done = subprocess.run(_yiwang(*args), capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"yiwang {' '.join(args)}: {done.stderr.strip() or done.stdout}")
    return done.stdout


def _prepare(witness: DemoWitness, origin: str, log_vkey: str) -> None:
    folder = str(witness.folder)
    out = _run(
        "witness", "init", "--name", f"witness.{witness.name}.luan.example", "--data-dir", folder
    )
    witness.vkey = next(w for w in out.split() if w.startswith("witness."))
    _run("witness", "trust-log", "--origin", origin, "--vkey", log_vkey, "--data-dir", folder)


def _ready(witness: DemoWitness) -> bool:
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{witness.port}/witness/", timeout=2
        ) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def witnesses_demo_start(
    base: Path, *, first_port: int = FIRST_PORT, say: Callable[[str], None] = print
) -> tuple[list[DemoWitness], Checkpoint, Path]:
    """Prepare and start the three witnesses, register them with the log, publish a cosigned
    checkpoint and write the policy. Returns the running witnesses (stop them with
    ``witnesses_demo_stop``), the checkpoint and the policy file."""
    origin = ledger.ledger_origin()
    log_vkey = ledger.log_policy_text().split()[1]
    witnesses = [
        DemoWitness(name, first_port + i, base / name) for i, name in enumerate(DEMO_WITNESSES)
    ]
    for witness in witnesses:
        witness.folder.mkdir(parents=True, exist_ok=True)
    # Each preparation is a few child processes that create a database: side by side.
    with ThreadPoolExecutor(len(witnesses)) as pool:
        list(pool.map(lambda w: _prepare(w, origin, log_vkey), witnesses))
    for witness in witnesses:
        ledger_services.witness_add(name=witness.name, url=witness.url, vkey=witness.vkey)
        # The child gets its own copy of the descriptor; ours closes at the end of the block.
        with (witness.folder / "serve.log").open("ab") as log:
            witness.process = subprocess.Popen(  # noqa: S603 - see _run
                _yiwang(
                    "witness",
                    "serve",
                    "--data-dir",
                    str(witness.folder),
                    "--port",
                    str(witness.port),
                ),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        say(f"{witness.name}: {witness.url}  ({witness.vkey})")
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    waiting = list(witnesses)
    while waiting and time.monotonic() < deadline:
        waiting = [w for w in waiting if not _ready(w)]
        if waiting:
            time.sleep(0.5)
    if waiting:
        witnesses_demo_stop(witnesses)
        names = ", ".join(f"{w.name} (see {w.folder / 'serve.log'})" for w in waiting)
        raise RuntimeError(f"witnesses did not start: {names}")
    ledger_services.ledger_integrate_all()
    checkpoint = ledger_services.checkpoint_publish()
    policy = base / "policy.txt"
    policy.write_text(ledger.log_policy_text(), encoding="utf-8")
    return witnesses, checkpoint, policy


def witnesses_demo_stop(witnesses: list[DemoWitness]) -> None:
    for witness in witnesses:
        if witness.process is not None and witness.process.poll() is None:
            witness.process.terminate()
    for witness in witnesses:
        if witness.process is not None:
            try:
                witness.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                witness.process.kill()
