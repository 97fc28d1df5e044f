"""E-certificate transparency log benchmark (issue 6).

    .venv/bin/python bench/ledger.py                          # 1,000,000 entries, SQLite + PG
    .venv/bin/python bench/ledger.py --size 200000            # quicker
    .venv/bin/python bench/ledger.py --size 20000 --skip-pg --skip-pymerkle   # smoke test

What it does, in a throwaway data folder (and, for PostgreSQL, a scratch database created from
--pg-url's server and dropped at the end):

1. SQLite: migrates, inserts --size pending entries (canonical JSON leaf inputs, as
   ``entry_append`` writes them, in bulk: appending is not what is measured), then integrates
   them all in a separate process (``ledger_integrate_all``, batches of --batch):
   ``sqlite_integrate_per_s`` and that process's peak RSS, ``integrate_peak_rss_mb``;
2. inclusion proofs from the stored tiles at tree size --size for --samples random indexes
   (each checked against the root once): ``proof_p50_ms``/``proof_p95_ms`` (wall) and
   ``proof_cpu_p95_ms`` (CPU time of the process, which a loaded machine distorts less);
3. pymerkle's SqliteTree (GPL; imported only here) over the same leaf inputs, then
   prove_inclusion at the same size for --pymerkle-samples indexes: ``pymerkle_p50_ms`` and
   ``speedup_p50`` = pymerkle p50 / ours (same root checked first);
4. PostgreSQL: the same integration with --pg-size entries (default: --size):
   ``pg_integrate_per_s`` and ``pg_proof_p95_ms``;
5. ``audit_s``/``pg_audit_s``: ``ledger_audit()`` over the whole log (``audit_ok`` must be True);
6. ``credential_verify_per_s`` from yiwang.certificates.credential when present ("na" if not).

Goals (issue 6): integrate >= 5,000/s on SQLite and PostgreSQL; proof p95 < 2 ms at 1M;
>= 10x pymerkle; peak RSS <= 300 MB. The script prints figures; it asserts none. The LAST line
holds every figure as name=value.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_DEFAULT = "postgres://postgres@127.0.0.1:5432/yiwang_bench_ledger"


def leaf_input(i: int) -> bytes:
    """The shape entry_append writes (RFC 8785 JSON, keys sorted), with a made-up payload."""
    return (
        '{"at":"2026-11-27T08:00:00.000000Z","kind":"certificate.issue","payload":'
        f'{{"identifier":"1.2.156.3005.2.11100000000013338W032.{i:018d}","version":1}},'
        f'"subject":"C{i}","v":1}}'
    ).encode()


# --- phases run in a child process with Django set up --------------------------------------


def _django() -> None:
    import django

    django.setup()


def phase_fill(count: int) -> dict[str, Any]:
    _django()
    from django.core.management import call_command

    from yiwang.ledger.merkle import leaf_hash
    from yiwang.ledger.models import Entry

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    chunk = 5000
    for lo in range(0, count, chunk):
        rows = []
        for i in range(lo, min(count, lo + chunk)):
            data = leaf_input(i)
            rows.append(
                Entry(
                    kind="certificate.issue",
                    subject=f"C{i}",
                    leaf_input=data,
                    leaf_hash=leaf_hash(data),
                )
            )
        Entry.objects.bulk_create(rows)
    return {"fill_s": round(time.perf_counter() - started, 1)}


def phase_integrate(batch: int) -> dict[str, Any]:
    _django()
    import resource

    from yiwang.ledger.services import ledger_integrate_all

    started = time.perf_counter()
    count = ledger_integrate_all(max_batch=batch)
    elapsed = time.perf_counter() - started
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"entries": count, "integrate_s": round(elapsed, 2), "rss_mb": round(rss_kb / 1024, 1)}


def phase_proofs(size: int, samples: int) -> dict[str, Any]:
    _django()
    from yiwang.ledger import merkle, selectors
    from yiwang.ledger.models import Entry, LogState

    root = bytes(LogState.objects.get().root)
    rng = random.Random(1)
    indexes = [rng.randrange(size) for _ in range(samples)]
    for index in indexes[:20]:  # correctness first: the timed proofs are real ones
        leaf = bytes(Entry.objects.get(index=index).leaf_hash)
        proof = selectors.inclusion_proof(index, size)
        if not merkle.verify_inclusion(index, size, leaf, proof, root):
            raise SystemExit(f"proof of {index} does not verify")
    times, cpu = [], []
    for index in indexes:
        t0, c0 = time.perf_counter(), time.process_time()
        selectors.inclusion_proof(index, size)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    # CPU time of this process (on SQLite it includes the query) is what a busy shared
    # machine does not distort; wall time is what a client sees.
    cpu_p = _percentiles(cpu)
    figures = {**_percentiles(times), "cpu_p95_ms": cpu_p["p95_ms"], "root": root.hex()}
    started = time.perf_counter()
    audit = selectors.ledger_audit()
    figures["audit_s"] = round(time.perf_counter() - started, 1)
    figures["audit_ok"] = audit.ok
    try:
        from yiwang.certificates.credential import credential_verify_benchmark
    except ImportError:
        figures["credential_verify_per_s"] = "na"
    else:
        figures["credential_verify_per_s"] = round(credential_verify_benchmark(300))
    return figures


def _percentiles(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    return {
        "p50_ms": round(statistics.median(times), 3),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 3),
    }


# --- orchestration ---------------------------------------------------------------------------


def run_phase(env: dict[str, str], name: str, *args: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--phase", name, *map(str, args)]
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"phase {name} failed:\n{(proc.stdout + proc.stderr)[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def base_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "yiwang.settings.embedded"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    env["YIWANG_DATA_DIR"] = str(data_dir)
    env.pop("YIWANG_DEBUG", None)
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


@contextlib.contextmanager
def scratch_pg(url: str) -> Iterator[str]:
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/") or "yiwang_bench_ledger"
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure_db(
    label: str, env: dict[str, str], size: int, args: argparse.Namespace
) -> dict[str, Any]:
    print(f"[{label}] inserting {size} pending entries …", flush=True)
    fill = run_phase(env, "fill", size)
    print(f"[{label}] filled in {fill['fill_s']} s; integrating …", flush=True)
    integ = run_phase(env, "integrate", args.batch)
    per_s = round(integ["entries"] / integ["integrate_s"])
    print(
        f"[{label}] integrated {integ['entries']} in {integ['integrate_s']} s = {per_s}/s,"
        f" peak RSS {integ['rss_mb']} MB",
        flush=True,
    )
    proofs = run_phase(env, "proofs", size, args.samples)
    print(
        f"[{label}] inclusion proof at {size}:"
        f" p50 {proofs['p50_ms']} ms, p95 {proofs['p95_ms']} ms",
        flush=True,
    )
    return {"per_s": per_s, "rss_mb": integ["rss_mb"], **proofs}


def phase_pymerkle(size: int, samples: int) -> dict[str, Any]:
    """In a child process like the others: the leaf list it builds must not inflate the
    parent, whose RSS a forked child's ru_maxrss inherits (Linux keeps the pre-exec peak)."""
    from pymerkle import SqliteTree  # GPL: only ever imported by this benchmark

    tree = SqliteTree(os.environ["YIWANG_DATA_DIR"] + "/pymerkle.db", algorithm="sha256")
    started = time.perf_counter()
    tree.append_entries([leaf_input(i) for i in range(size)])
    build_s = time.perf_counter() - started
    rng = random.Random(1)
    times = []
    for _ in range(samples):
        index = rng.randrange(size) + 1  # pymerkle counts leaves from 1
        t0 = time.perf_counter()
        tree.prove_inclusion(index, size)
        times.append((time.perf_counter() - t0) * 1000)
    root = tree.get_root(size).hex()
    tree.close()
    return {**_percentiles(times), "build_s": round(build_s), "root": root}


def measure_pymerkle(data_dir: Path, size: int, samples: int, root_hex: str) -> dict[str, Any]:
    print(f"[pymerkle] building SqliteTree of {size} entries …", flush=True)
    figures = run_phase(base_env(data_dir, None), "pymerkle", size, samples)
    if figures["root"] != root_hex:
        raise SystemExit("pymerkle's root differs from ours: not the same tree")
    print(f"[pymerkle] built in {figures['build_s']} s; proof p50 {figures['p50_ms']} ms")
    return figures


PHASES: dict[str, Callable[..., dict[str, Any]]] = {
    "fill": phase_fill,
    "integrate": phase_integrate,
    "proofs": phase_proofs,
    "pymerkle": phase_pymerkle,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("phase_args", nargs="*", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--pg-size", type=int, default=None)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--pymerkle-samples", type=int, default=200)
    parser.add_argument("--pg-url", default=PG_DEFAULT)
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--skip-pymerkle", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    args = parser.parse_args(argv)
    if args.phase:
        print(json.dumps(PHASES[args.phase](*args.phase_args)))
        return

    data_dir = Path(tempfile.mkdtemp(prefix="yiwang-bench-ledger-"))
    out: dict[str, Any] = {"size": args.size}
    try:
        lite = measure_db("sqlite", base_env(data_dir / "sqlite", None), args.size, args)
        out["sqlite_integrate_per_s"] = lite["per_s"]
        out["integrate_peak_rss_mb"] = lite["rss_mb"]
        out["proof_p50_ms"] = lite["p50_ms"]
        out["proof_p95_ms"] = lite["p95_ms"]
        out["proof_cpu_p95_ms"] = lite["cpu_p95_ms"]
        out["audit_s"] = lite["audit_s"]
        out["audit_ok"] = lite["audit_ok"]
        if not args.skip_pymerkle:
            pm = measure_pymerkle(data_dir, args.size, args.pymerkle_samples, lite["root"])
            out["pymerkle_p50_ms"] = pm["p50_ms"]
            out["speedup_p50"] = round(pm["p50_ms"] / lite["p50_ms"], 1)
        if not args.skip_pg:
            pg_size = args.pg_size or args.size
            with scratch_pg(args.pg_url) as url:
                pg = measure_db("postgresql", base_env(data_dir / "pg", url), pg_size, args)
            out["pg_size"] = pg_size
            out["pg_integrate_per_s"] = pg["per_s"]
            out["pg_integrate_peak_rss_mb"] = pg["rss_mb"]
            out["pg_proof_p95_ms"] = pg["p95_ms"]
            out["pg_audit_s"] = pg["audit_s"]
            out["pg_audit_ok"] = pg["audit_ok"]
        out["credential_verify_per_s"] = lite["credential_verify_per_s"]
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    print(" ".join(f"{k}={v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
