"""Catalog benchmark: import time of the provincial catalog, search latency and quality.

    .venv/bin/python bench/catalog.py                 # embedded topology (SQLite)
    .venv/bin/python bench/catalog.py --repetitions 5  # quicker

What it does, in a throwaway data folder (bench/settings_bench.py, as bench/http_baseline.py):

1. migrates, then imports the 2,262 provincial items of $YIWANG_SHARED_DATA (or the repository's
   ../shared/data)/guangdong_service_items.jsonl with `yiwang catalog import --format gd-jsonl`
   and times that command (wall clock, process start included), then loads `yiwang demo`;
2. starts `yiwang serve` (one gunicorn gthread worker) on 127.0.0.1;
3. latency: sends GET /api/v1/catalog/items?q=… for every query of bench/catalog_queries.json
   (`latency`, ≥ 50 realistic queries) one after another over one keep-alive connection,
   --repetitions times (after one warm-up pass that builds the search index), and takes p50 and
   p95 of the per-request times measured by the client;
4. quality: for each query set of catalog_queries.json (`quality`, `held_out`, `held_out_2`,
   `dev`, `test`, `test_2`, `test_3`; their `about_…` entries say who wrote each and how it
   may be used) takes the first three results of every colloquial query and counts a hit
   when one of them matches an expected official name (glob patterns, * for any text) or
   task code. A query whose expected item is not published (the quality gate keeps it a
   draft) cannot be found and is not counted; the summary says how many;
5. stops the server and prints a summary, then on its LAST line:

    import_s=… search_p50_ms=… search_p95_ms=… hit_at_3=… queries=… hit_at_3_test=… …

    .venv/bin/python bench/catalog.py --reuse DIR --sets dev   # quick loop while improving

Goals (issue #3): import_s < 20, search_p95_ms < 30, hit@3 >= 0.95 on queries that do not
share the item's wording (the newest blind set, `test_3`, is the one to quote). The script
prints figures; it asserts none.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import http_baseline as hb  # the sibling benchmark: environment and server helpers

ROOT = hb.ROOT
HOST = hb.HOST
QUERIES = Path(__file__).resolve().parent / "catalog_queries.json"
SEARCH = "/api/v1/catalog/items"


def shared_data_file() -> Path:
    folder = Path(os.environ.get("YIWANG_SHARED_DATA") or ROOT.parent / "shared" / "data")
    path = folder / "guangdong_service_items.jsonl"
    if not path.is_file():
        raise hb.BenchError(
            f"{path} is missing: set YIWANG_SHARED_DATA to the folder with "
            "guangdong_service_items.jsonl"
        )
    return path


def timed_import(env: dict[str, str], path: Path) -> tuple[float, str]:
    started = time.perf_counter()
    out = hb.manage(env, "catalog", "import", "--format", "gd-jsonl", str(path), timeout=900)
    return time.perf_counter() - started, out


@contextlib.contextmanager
def serve(env: dict[str, str], data_dir: Path) -> Any:
    """`yiwang serve` with one worker; ready when the search answers."""
    port = hb.free_port()
    log = data_dir / "serve.log"
    cmd = [sys.executable, "-m", "yiwang.cli", "serve", "--host", HOST, "--port", str(port)]
    cmd += ["--workers", "1"]
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise hb.BenchError("yiwang serve exited during start-up:\n" + tail(log))
            try:
                conn = http.client.HTTPConnection(HOST, port, timeout=30)
                conn.request("GET", SEARCH + "?page_size=1")
                if conn.getresponse().status == 200:
                    conn.close()
                    break
                conn.close()
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise hb.BenchError("yiwang serve did not answer within 90 s:\n" + tail(log))
            time.sleep(0.3)
        yield port
    finally:
        hb.stop(proc)


def tail(log: Path, n: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


class Api:
    """One keep-alive connection to the server (reconnects if the server closes it)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection(HOST, port, timeout=30)

    def search(self, q: str, *, page_size: int = 20) -> tuple[float, dict[str, Any]]:
        path = SEARCH + "?" + urllib.parse.urlencode({"q": q, "page_size": page_size})
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                self.conn.request("GET", path)
                response = self.conn.getresponse()
                body = response.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
                if attempt == 2:
                    raise
                continue
            elapsed = time.perf_counter() - started
            if response.status != 200:
                raise hb.BenchError(f"GET {path} answered {response.status}: {body[:300]!r}")
            return elapsed, json.loads(body)
        raise AssertionError("unreachable")

    def present(self, pattern: str, expect: list[str]) -> bool:
        """Is an item matching ``pattern`` published? (a task code by its detail endpoint,
        a name by searching for it)"""
        if "*" not in pattern and pattern.isascii():
            self.conn.request("GET", f"{SEARCH}/{urllib.parse.quote(pattern)}")
            response = self.conn.getresponse()
            response.read()
            return response.status == 200
        _, found = self.search(pattern.replace("*", ""), page_size=50)
        return any(matches(i, expect) for i in found["items"])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def matches(item: dict[str, Any], expect: list[str]) -> bool:
    for pattern in expect:
        if pattern == item["task_code"] or fnmatch.fnmatchcase(item["name"], pattern):
            return True
    return False


# The query sets of catalog_queries.json, in the order they are reported. Each may have an
# "about_<name>" entry saying who wrote it, when, and what it may and may not be used for.
SETS = (
    ("quality", "colloquial queries (written with the search)"),
    ("held_out", "held-out queries, set 1"),
    ("held_out_2", "held-out queries, set 2"),
    ("dev", "blind set for improving the search"),
    ("test", "blind set, measured once (then spent)"),
    ("test_2", "second blind set, measured once (then spent)"),
    ("test_3", "third blind set, measured once"),
)


@dataclass
class SetResult:
    name: str
    label: str
    results: list[tuple[str, bool, list[str]]]
    unresolved: list[str]  # queries whose expected item is not published in the catalog

    @property
    def resolvable(self) -> int:
        return len(self.results) - len(self.unresolved)

    @property
    def hits(self) -> int:
        return sum(1 for _, hit, _ in self.results if hit)

    @property
    def rate(self) -> float:
        """hit@3 over the queries whose expected item is published (others cannot be found)."""
        return self.hits / self.resolvable if self.resolvable else 0.0


@dataclass
class Figures:
    import_s: float
    import_report: str
    items: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    requests: int
    sets: list[SetResult]


def evaluate(
    api: Api, entries: list[dict[str, Any]]
) -> tuple[list[tuple[str, bool, list[str]]], list[str]]:
    """hit@3 per query, and the queries whose expected item is nowhere in the catalog."""
    results: list[tuple[str, bool, list[str]]] = []
    unresolved: list[str] = []
    for entry in entries:
        _, top = api.search(entry["q"], page_size=3)
        names = [i["name"] for i in top["items"]]
        hit = any(matches(i, entry["expect"]) for i in top["items"])
        results.append((entry["q"], hit, names))
        if not hit and not any(
            api.present(pattern, entry["expect"]) for pattern in entry["expect"]
        ):
            unresolved.append(entry["q"])
    return results, unresolved


def prepare(args: argparse.Namespace, env: dict[str, str], data_dir: Path) -> tuple[float, str]:
    """Migrate, import the provincial catalog (timed) and load the demo, unless --reuse finds
    them done already (then the import time is not measured: 0.0)."""
    marker = data_dir / "bench-catalog-ready"
    if args.reuse and marker.exists():
        hb.step(f"reusing {data_dir} (import not timed)")
        return 0.0, ""
    data_file = shared_data_file()
    hb.step("migrate")
    hb.manage(env, "migrate", "--no-input")
    hb.step(f"yiwang catalog import --format gd-jsonl {data_file.name}")
    import_s, report = timed_import(env, data_file)
    hb.step(f"  took {import_s:.1f} s")
    hb.step("yiwang demo")
    hb.manage(env, "demo")
    marker.touch()
    return import_s, report


def measure(args: argparse.Namespace) -> Figures:
    spec = json.loads(QUERIES.read_text(encoding="utf-8"))
    latency_queries: list[str] = spec["latency"]
    wanted = [(name, label) for name, label in SETS if name in spec and name in args.sets]
    if args.reuse:
        data_dir = Path(args.reuse)
        data_dir.mkdir(parents=True, exist_ok=True)
    else:
        data_dir = Path(tempfile.mkdtemp(prefix="yiwang-bench-catalog-"))
    try:
        env = hb.bench_env(data_dir=data_dir, city=False)
        import_s, report = prepare(args, env, data_dir)
        hb.step("yiwang serve: 1 worker")
        with serve(env, data_dir) as port:
            api = Api(port)
            _, everything = api.search("", page_size=1)
            items = int(everything["count"])
            hb.step(f"{items} published items; warm-up pass")
            for q in latency_queries:
                api.search(q)
            times: list[float] = []
            for rnd in range(args.repetitions):
                for q in latency_queries:
                    elapsed, _ = api.search(q)
                    times.append(elapsed * 1000)
                if rnd == 0 or (rnd + 1) % 5 == 0:
                    hb.step(f"round {rnd + 1}/{args.repetitions}")
            sets = []
            for name, label in wanted:
                results, unresolved = evaluate(api, spec[name])
                sets.append(SetResult(name, label, results, unresolved))
    finally:
        if args.keep or args.reuse:
            print(f"  kept data folder {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    return Figures(
        import_s=import_s,
        import_report=next((ln.strip() for ln in report.splitlines() if "created" in ln), ""),
        items=items,
        p50_ms=percentile(times, 0.5),
        p95_ms=percentile(times, 0.95),
        max_ms=max(times),
        requests=len(times),
        sets=sets,
    )


def summary(fig: Figures) -> None:
    print("\n== catalog")
    if fig.import_s:
        print(
            f"  import of the provincial catalog  {fig.import_s:6.1f} s   goal < 20 s  "
            f"{'met' if fig.import_s < 20 else 'MISSED'}"
        )
    if fig.import_report:
        print(f"    ({fig.import_report})")
    print(f"  published items searched          {fig.items}")
    print(
        f"  search latency over {fig.requests} requests: p50 {fig.p50_ms:.1f} ms, "
        f"p95 {fig.p95_ms:.1f} ms, max {fig.max_ms:.1f} ms   goal p95 < 30 ms  "
        f"{'met' if fig.p95_ms < 30 else 'MISSED'}"
    )
    for s in fig.sets:
        print(
            f"  hit@3 on {s.resolvable} {s.label}: {s.hits} ({s.rate:.3f})   goal >= 0.95  "
            f"{'met' if s.rate >= 0.95 else 'MISSED'}"
        )
        if s.unresolved:
            print(
                f"    {len(s.unresolved)} more queries not counted: their item is not published "
                "(kept as a draft by the quality gate, or not in the catalog)"
            )
        for q, hit, names in s.results:
            if not hit:
                note = "  (not published)" if q in s.unresolved else ""
                print(f"    miss: {q} → {' | '.join(names) or '(nothing)'}{note}")


def last_line(fig: Figures) -> str:
    parts = [
        f"import_s={fig.import_s:.1f}",
        f"search_p50_ms={fig.p50_ms:.1f}",
        f"search_p95_ms={fig.p95_ms:.1f}",
    ]
    for s in fig.sets:
        suffix = "" if s.name == "quality" else f"_{s.name}"
        parts.append(f"hit_at_3{suffix}={s.rate:.3f}")
        parts.append(f"queries{suffix}={s.resolvable}")
    return " ".join(parts)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--repetitions", type=int, default=20, help="passes over the latency queries (1..200)"
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    p.add_argument(
        "--reuse",
        metavar="DIR",
        help="data folder to prepare once and reuse on later runs (import then not timed)",
    )
    p.add_argument(
        "--sets",
        default=",".join(name for name, _ in SETS),
        type=lambda v: [x.strip() for x in v.split(",") if x.strip()],
        help="query sets to score, comma-separated (default: all)",
    )
    args = p.parse_args(argv)
    if not 1 <= args.repetitions <= 200:
        p.error("--repetitions must be 1..200 (the load is bounded)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        fig = measure(args)
    except hb.BenchError as exc:
        print(f"\nbench: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nbench: interrupted; server stopped", file=sys.stderr)
        return 130
    summary(fig)
    print()
    print(last_line(fig))
    return 0


if __name__ == "__main__":
    sys.exit(main())
