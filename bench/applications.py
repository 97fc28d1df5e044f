"""Applications benchmark: submission, acceptance (workflow start), task approval, progress query.

    .venv/bin/python bench/applications.py                      # embedded (SQLite), --scale town
    .venv/bin/python bench/applications.py --scale small        # quick
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/8 \\
        .venv/bin/python bench/applications.py --city --scale city   # 1M applications (long)

What it does, in a throwaway data folder (bench/settings_bench.py, as bench/http_baseline.py;
with --city a scratch PostgreSQL database of its own, dropped at the end):

1. migrates, loads `yiwang demo`, then `yiwang generate --scale S` (timed: `generate_s`);
2. starts `yiwang serve` (gunicorn gthread workers as the product's defaults: one embedded, two
   with --city; --server-workers, --server-threads) on 127.0.0.1,
   with YIWANG_PROGRESS_QUERY_RATE lifted (the per-address rate limit exists against guessing;
   left on, it would measure the 429 answer);
3. submissions: --submissions applications of 个体工商户设立登记 (every required material as a
   small PDF, base64 in JSON) by demo-citizen through POST /api/v1/applications, --concurrency
   client connections at once (`submit_per_s`); then demo-clerk accepts each through
   POST /api/v1/staff/applications/{id}/accept, which starts the item's BPMN process and opens
   the department tasks (`accept_per_s`). `submit_accept_per_s` = applications / (submit time
   + accept time): one application through the API from submission to a running workflow;
4. approvals: demo-approver claims and completes (approve) every task the acceptances opened,
   POST /staff/tasks/{id}/claim then /complete (`approvals_per_s`: tasks per second, two
   requests each);
5. progress: wrk on GET /api/v1/progress?number=…&phone_last4=… (a generated application) and
   on the trivial view, interleaved --rounds times; `progress_ratio` is the median of the
   per-round ratios; then one client queries --progress-samples different generated
   applications one after another (`progress_p50_ms`, `progress_p99_ms`, client-measured);
6. stops the server; then, in one Django process (a snippet, warm after five of each),
   --cpu-samples submissions and acceptances through django.test.Client, the same requests
   as step 3: `submit_cpu_ms` and `accept_cpu_ms` are the CPU time of that process per
   request (the application's own work, which other load on the machine does not inflate as
   it does requests per second; on PostgreSQL the server's share is not in it) and
   `submit_queries`/`accept_queries` the SQL statements per request;
7. prints, on its LAST line:

    scale=… applications=… generate_s=… submit_per_s=… accept_per_s=… submit_accept_per_s=…
    approvals_per_s=… progress_rps=… trivial_rps=… progress_ratio=… progress_p50_ms=…
    progress_p99_ms=… submit_cpu_ms=… accept_cpu_ms=… submit_queries=… accept_queries=…
    topology=…

Goals (issue #4): submit_accept_per_s >= 150 on 2 cores (embedded and PostgreSQL),
progress_ratio >= 0.5 and progress_p99_ms < 50 with 1 million applications (--scale city).
The script prints figures; it asserts none. Loads only the loopback interface; every loop is
bounded by a count.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import json
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import http_baseline as hb  # the sibling benchmark: environment and server helpers

HOST = hb.HOST
PASSWORD = "yiwang-demo-2026"  # noqa: S105 (the published demo password)
TASK_CODE = "LA-341500-SCJGJ-XK-GTHSL"  # 个体工商户设立登记: tasks at 市场监管局 (demo-approver)
PHONE = "13800000001"
# The smallest file the upload check takes for a PDF (the type is sniffed from the bytes).
PDF = base64.b64encode(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n").decode()

MATERIALS = """
import json, sys
from yiwang.catalog.models import ItemVersion
v = ItemVersion.objects.get(item__task_code=sys.argv[1], status="published")
print(json.dumps([m.pk for m in v.materials.exclude(necessity="optional")]))
"""
SAMPLES = """
import json, random, sys
from yiwang.applications.models import Application
ids = list(Application.objects.filter(form_data__generated=True).values_list("id", flat=True))
picked = random.Random(7).sample(ids, min(int(sys.argv[1]), len(ids)))
rows = Application.objects.filter(id__in=picked).values_list("number", "contact_phone_last4")
print(json.dumps(list(rows)))
"""
TASKS = """
import json, sys
from yiwang.applications.models import Task
ids = json.loads(open(sys.argv[1]).read())
rows = Task.objects.filter(application__public_id__in=ids, status="open")
print(json.dumps([str(t) for t in rows.values_list("public_id", flat=True)]))
"""

# Step 6: the CPU time and statements of one submission and one acceptance, in process.
CPU = """
import base64, json, sys, time
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
task, n, materials = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
pdf = base64.b64encode(b"%PDF-1.4\\n1 0 obj<<>>endobj\\ntrailer<<>>\\n%%EOF\\n").decode()
body = json.dumps({"task_code": task, "contact_phone": sys.argv[4], "form_data": {},
    "materials": [{"material_id": m, "content_base64": pdf, "filename": "a.pdf"}
                  for m in materials]})
users = get_user_model().objects
citizen, clerk = Client(HTTP_HOST="127.0.0.1"), Client(HTTP_HOST="127.0.0.1")
citizen.force_login(users.get(username="demo-citizen"))
clerk.force_login(users.get(username="demo-clerk"))
def submit():
    r = citizen.post("/api/v1/applications", body, content_type="application/json")
    assert r.status_code == 201, r.content[:300]
    return r.json()["id"]
def accept(i):
    r = clerk.post(f"/api/v1/staff/applications/{i}/accept", "{}",
                   content_type="application/json")
    assert r.status_code == 200, r.content[:300]
for _ in range(5):
    accept(submit())
figures = {}
ids = []
for name, run in (("submit", lambda: ids.extend(submit() for _ in range(n))),
                  ("accept", lambda: [accept(i) for i in ids])):
    cpu = time.process_time()
    with CaptureQueriesContext(connection) as queries:
        run()
    cpu = time.process_time() - cpu
    statements = len(queries.captured_queries)  # read at once: a request clears the log
    figures[name] = (cpu * 1000 / n, statements / n)
print(json.dumps(figures))
"""


@dataclass
class Figures:
    scale: str
    applications: int
    generate_s: float
    submit_per_s: float
    accept_per_s: float
    submit_accept_per_s: float
    approvals_per_s: float
    tasks: int
    progress_rps: float
    trivial_rps: float
    progress_ratio: float
    p50_ms: float
    p99_ms: float
    submit_cpu_ms: float
    accept_cpu_ms: float
    submit_queries: float
    accept_queries: float
    topology: str
    notes: list[str]


class Session:
    """A signed-in API client over one keep-alive connection (CSRF header and cookie)."""

    def __init__(self, server: hb.Server, user: str) -> None:
        sid = hb.login(server, user=user, password=PASSWORD)
        self.token = secrets.token_hex(16)  # Django accepts a well-formed client-chosen secret
        self.cookie = f"{sid}; csrftoken={self.token}"
        self.port = server.port
        self.conn = http.client.HTTPConnection(HOST, server.port, timeout=60)

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        headers = {
            "Cookie": self.cookie,
            "X-CSRFToken": self.token,
            "Content-Type": "application/json",
            "Referer": f"http://{HOST}:{self.port}/",
        }
        self.conn.request("POST", path, json.dumps(body).encode(), headers)
        resp = self.conn.getresponse()
        data = resp.read()
        try:
            parsed = json.loads(data) if data else {}
        except ValueError:
            parsed = {"raw": data[:300].decode("utf-8", "replace")}
        return resp.status, parsed

    def clone(self) -> Session:
        other = object.__new__(Session)
        other.token, other.cookie, other.port = self.token, self.cookie, self.port
        other.conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
        return other


def in_parallel(
    session: Session, jobs: list[Any], work: Any, concurrency: int
) -> tuple[float, list[Any]]:
    """Run ``work(session, job)`` for every job on ``concurrency`` connections; wall seconds."""
    chunks = [jobs[i::concurrency] for i in range(concurrency)]
    sessions = [session.clone() for _ in chunks]

    def run(i: int) -> list[Any]:
        return [work(sessions[i], job) for job in chunks[i]]

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = [r for part in pool.map(run, range(concurrency)) for r in part]
    return time.perf_counter() - started, results


def expect(status: int, body: dict[str, Any], want: int, what: str) -> dict[str, Any]:
    if status != want:
        raise hb.BenchError(f"{what} answered HTTP {status}, not {want}: {str(body)[:400]}")
    return body


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure(args: argparse.Namespace, env: dict[str, str], data_dir: Path, wrk: str) -> Figures:
    env["YIWANG_PROGRESS_QUERY_RATE"] = "100000000/s"
    hb.prepare(env, user="demo-clerk", password=PASSWORD, create_staff=False)
    hb.step(f"yiwang generate --scale {args.scale}")
    started = time.perf_counter()
    hb.manage(env, "generate", "--scale", args.scale, timeout=6 * 3600)
    generate_s = time.perf_counter() - started
    materials = json.loads(hb.django_snippet(env, MATERIALS, TASK_CODE).splitlines()[-1])
    samples = json.loads(
        hb.django_snippet(env, SAMPLES, str(args.progress_samples)).splitlines()[-1]
    )
    notes: list[str] = []
    workers = args.server_workers or (2 if args.city else 1)  # `yiwang serve`'s defaults
    hb.step(f"yiwang serve (gunicorn): {workers} gthread worker(s) x {args.server_threads} threads")
    with hb.gunicorn(
        env, data_dir=data_dir, threads=args.server_threads, plain=False, workers=workers
    ) as server:
        citizen = Session(server, "demo-citizen")
        clerk = Session(server, "demo-clerk")
        approver = Session(server, "demo-approver")
        body = {
            "task_code": TASK_CODE,
            "contact_phone": PHONE,
            "form_data": {},
            "materials": [
                {"material_id": m, "content_base64": PDF, "filename": "a.pdf"} for m in materials
            ],
        }

        def submit(s: Session, _i: int) -> str:
            status, out = s.post("/api/v1/applications", body)
            return str(expect(status, out, 201, "POST /api/v1/applications")["id"])

        def accept(s: Session, app_id: str) -> None:
            path = f"/api/v1/staff/applications/{app_id}/accept"
            expect(*s.post(path, {}), 200, path)

        def approve(s: Session, task_id: str) -> None:
            path = f"/api/v1/staff/tasks/{task_id}"
            expect(*s.post(path + "/claim", {}), 200, path + "/claim")
            expect(
                *s.post(path + "/complete", {"outcome": "approve", "opinion": "同意。"}), 200, path
            )

        n, c = args.submissions, args.concurrency
        in_parallel(citizen, list(range(min(n, c * 2))), submit, c)  # warm-up (not accepted)
        hb.step(f"{n} submissions on {c} connections")
        t_submit, ids = in_parallel(citizen, list(range(n)), submit, c)
        hb.step(f"{n} acceptances (workflow start) on {c} connections")
        t_accept, _ = in_parallel(clerk, ids, accept, c)
        id_file = data_dir / "ids.json"
        id_file.write_text(json.dumps(ids))
        tasks = json.loads(hb.django_snippet(env, TASKS, str(id_file)).splitlines()[-1])
        hb.step(f"{len(tasks)} task approvals (claim + complete) on {c} connections")
        t_approve, _ = in_parallel(approver, tasks, approve, c) if tasks else (0.0, [])
        if not tasks:
            notes.append("the acceptances opened no tasks: approvals_per_s not measured")

        number, last4 = samples[0]
        progress_path = f"/api/v1/progress?number={number}&phone_last4={last4}"
        conn = http.client.HTTPConnection(HOST, server.port, timeout=30)
        conn.request("GET", progress_path)
        first = conn.getresponse()
        first.read()
        if first.status != 200:
            raise hb.BenchError(f"{progress_path} answered HTTP {first.status}, not 200")
        rps: dict[str, list[float]] = {"trivial": [], "progress": []}
        urls = {
            "trivial": server.base + hb.PATHS["trivial"],
            "progress": server.base + progress_path,
        }
        for url in urls.values():  # warm-up
            hb.run_wrk(
                wrk,
                url,
                seconds=args.warmup,
                threads=args.wrk_threads,
                connections=args.connections,
                cookie=None,
            )
        for rnd in range(1, args.rounds + 1):
            for target, url in urls.items():
                result = hb.run_wrk(
                    wrk,
                    url,
                    seconds=args.duration,
                    threads=args.wrk_threads,
                    connections=args.connections,
                    cookie=None,
                )
                if result.non_2xx or result.socket_errors:
                    notes.append(
                        f"{target}: {result.non_2xx} non-2xx, {result.socket_errors} "
                        f"socket errors of {result.requests}"
                    )
                rps[target].append(result.rps)
                print(
                    f"    round {rnd} {target:<8} {result.rps:9.1f} req/s  "
                    f"p50 {result.latency_p50:>8}",
                    flush=True,
                )
        hb.step(f"progress latency over {len(samples)} generated applications, one client")
        times: list[float] = []
        conn.close()  # idle during the wrk rounds: the server may have closed it
        conn = http.client.HTTPConnection(HOST, server.port, timeout=30)
        for number, last4 in samples:
            begun = time.perf_counter()
            conn.request("GET", f"/api/v1/progress?number={number}&phone_last4={last4}")
            resp = conn.getresponse()
            resp.read()
            times.append((time.perf_counter() - begun) * 1000)
            if resp.status != 200:
                raise hb.BenchError(f"progress of {number} answered HTTP {resp.status}")
        conn.close()
    hb.step(f"{args.cpu_samples} submissions and acceptances in one process (CPU, statements)")
    cpu = json.loads(
        hb.django_snippet(
            env, CPU, TASK_CODE, str(args.cpu_samples), json.dumps(materials), PHONE
        ).splitlines()[-1]
    )
    ratios = [p / t for p, t in zip(rps["progress"], rps["trivial"], strict=True)]
    return Figures(
        scale=args.scale,
        applications={"small": 2_000, "town": 50_000, "city": 1_000_000}[args.scale],
        generate_s=generate_s,
        submit_per_s=n / t_submit,
        accept_per_s=n / t_accept,
        submit_accept_per_s=n / (t_submit + t_accept),
        approvals_per_s=len(tasks) / t_approve if t_approve else 0.0,
        tasks=len(tasks),
        progress_rps=statistics.median(rps["progress"]),
        trivial_rps=statistics.median(rps["trivial"]),
        progress_ratio=statistics.median(ratios),
        p50_ms=percentile(times, 50),
        p99_ms=percentile(times, 99),
        submit_cpu_ms=cpu["submit"][0],
        accept_cpu_ms=cpu["accept"][0],
        submit_queries=cpu["submit"][1],
        accept_queries=cpu["accept"][1],
        topology=env.get("YIWANG_BENCH_TOPOLOGY", "embedded"),
        notes=notes,
    )


def last_line(f: Figures) -> str:
    return (
        f"scale={f.scale} applications={f.applications} generate_s={f.generate_s:.1f} "
        f"submit_per_s={f.submit_per_s:.1f} accept_per_s={f.accept_per_s:.1f} "
        f"submit_accept_per_s={f.submit_accept_per_s:.1f} approvals_per_s={f.approvals_per_s:.1f} "
        f"progress_rps={f.progress_rps:.1f} trivial_rps={f.trivial_rps:.1f} "
        f"progress_ratio={f.progress_ratio:.2f} progress_p50_ms={f.p50_ms:.1f} "
        f"progress_p99_ms={f.p99_ms:.1f} submit_cpu_ms={f.submit_cpu_ms:.1f} "
        f"accept_cpu_ms={f.accept_cpu_ms:.1f} submit_queries={f.submit_queries:.1f} "
        f"accept_queries={f.accept_queries:.1f} topology={f.topology}"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--scale", choices=("small", "town", "city"), default="town")
    p.add_argument("--city", action="store_true", help="PostgreSQL + Redis (see above)")
    p.add_argument("--submissions", type=int, default=300)
    p.add_argument("--concurrency", type=int, default=8, help="client connections at once")
    p.add_argument("--progress-samples", type=int, default=2000)
    p.add_argument(
        "--cpu-samples", type=int, default=100, help="in-process submissions for the CPU figures"
    )
    p.add_argument("--duration", type=int, default=10, help="seconds per wrk target per round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--wrk-threads", type=int, default=2)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--server-threads", type=int, default=8, help="gthread threads")
    p.add_argument(
        "--server-workers",
        type=int,
        default=0,
        help="gunicorn worker processes (default as `yiwang serve`: 1 embedded, 2 with --city)",
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    args = p.parse_args(argv)
    if min(args.submissions, args.concurrency, args.progress_samples, args.cpu_samples) < 1:
        p.error(
            "--submissions, --concurrency, --progress-samples and --cpu-samples must be at least 1"
        )
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir = Path(tempfile.mkdtemp(prefix="yiwang-bench-applications-"))
    try:
        wrk = hb.require_wrk()
        env = hb.bench_env(data_dir=data_dir, city=args.city)
        with contextlib.ExitStack() as stack:
            if args.city:
                env["DATABASE_URL"] = stack.enter_context(hb.scratch_database(env["DATABASE_URL"]))
            fig = measure(args, env, data_dir, wrk)
    except hb.BenchError as exc:
        print(f"bench/applications.py: {exc}", file=sys.stderr)
        return 2
    finally:
        if args.keep:
            print(f"data folder kept: {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    print()
    print(f"{fig.applications} generated applications ({fig.scale}) in {fig.generate_s:.1f} s")
    print(
        f"submit {fig.submit_per_s:.1f}/s, accept (workflow start) {fig.accept_per_s:.1f}/s, "
        f"both {fig.submit_accept_per_s:.1f}/s; {fig.tasks} approvals "
        f"{fig.approvals_per_s:.1f}/s"
    )
    print(
        f"progress {fig.progress_rps:.1f} req/s = {fig.progress_ratio:.2f} x trivial "
        f"({fig.trivial_rps:.1f}); p50 {fig.p50_ms:.1f} ms, p99 {fig.p99_ms:.1f} ms"
    )
    print(
        f"in one process: submit {fig.submit_cpu_ms:.1f} ms CPU, {fig.submit_queries:.1f} "
        f"statements; accept {fig.accept_cpu_ms:.1f} ms CPU, {fig.accept_queries:.1f} statements"
    )
    for note in fig.notes:
        print(f"note: {note}")
    print(last_line(fig))
    return 0


if __name__ == "__main__":
    sys.exit(main())
