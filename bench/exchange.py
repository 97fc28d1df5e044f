"""Exchange gateway benchmark: a masked, logged query against the trivial view (issue 7, item 7).

    .venv/bin/python bench/exchange.py                          # embedded, 5,000,000 people
    .venv/bin/python bench/exchange.py --population 20000       # quick
    .venv/bin/python bench/exchange.py --keep                   # keep the prepared folder, then
    .venv/bin/python bench/exchange.py --reuse DIR              # measure again without preparing
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/8 \\
        .venv/bin/python bench/exchange.py --city               # PostgreSQL + Redis

What it does, in a throwaway data folder (bench/settings_bench.py, as bench/http_baseline.py):

1. migrate, `yiwang demo` (catalogue, grants of the scenarios, small owners' stores), then the
   owners' stores: `yiwang generate_owners --population N` (the 公安局's population register
   and what follows from it, SQLite files outside the platform's database; timed: `owners_s`).
   With --city the platform runs on a scratch PostgreSQL database and Redis, and the population
   register is written by `generate_owners --postgres` into a second scratch database (the
   owner's, never the platform's); the resource's adapter is pointed at it
   (`owners.postgres_adapter_config`) through `services.resource_save`;
2. `yiwang generate --scale small` (2,000 generated applications: the cases);
3. the consumer, through the exchange services: 税务局 (la-swj) asks for 人口基本信息
   (LA-DR-GA-001, a conditional resource) for 契税申报; the 公安局's data officer grants
   id_number, name, sex, birth_date, household_address, phone and hukou_status with four masks
   (id_number, name, household_address, phone) and a rate limit of 100,000 a minute (the
   highest allowed; the default 600 would measure the 429 answer). The 税务局's system calls
   as a system user of its own with an integration key (`Authorization: Bearer`), as a
   department's system would; the case numbers are generated 契税申报 applications, which the
   税务局 handles;
4. `yiwang serve` (one gthread worker embedded, two with --city, as serve's defaults), then wrk
   with bench/exchange_query.lua: every request a different subject key drawn at random from
   the owner's store (--keys of them), a real case and a purpose. Interleaved with the
   trivial view for --rounds rounds of --duration s on --connections connections:
   `query_ratio` is the median of the per-round ratios, `load_p50_ms`/`load_p99_ms` wrk's
   latency percentiles under that load (medians of the rounds). `p50_ms`/`p99_ms` (the goal's
   figure): wrk on one connection for --duration s, one department system calling one query
   after another, so that the figure is the time of a call, not the queue of 16 clients on
   one process;
5. the log: rows written during the wrk runs against requests answered (wrk counts only the
   answers it read; requests still in flight when wrk stops are answered and logged too, so
   rows - answered lies in 0..connections per run: `logged_slack`), every row answered
   (none refused), then --exact calls one after another whose count must equal the rows
   written exactly (`log_exact=ok`), and `accesslog.log_verify()` over the whole chain
   (`chain=ok`);
6. with --profile N: in one process, N calls through the whole Django stack (django.test.Client,
   the same request as wrk's) timed, N calls of `gateway.exchange_query` alone timed, then N
   calls through the stack under cProfile (top functions) and the SQL of one call.

The LAST line:

    query_ratio=… query_rps=… trivial_rps=… p50_ms=… p99_ms=… load_p50_ms=… load_p99_ms=…
    population=… rows_logged=… requests_answered=… logged_slack=… log_exact=ok chain=ok
    owners_s=… query_cpu_ms=… trivial_cpu_ms=… cpu_ratio=… topology=… loadavg=…

(loadavg: the median 1-minute load average seen during the rounds; the bench itself, server
and wrk, accounts for about 2 to 3 of it; more means other work shared the machine.
query_cpu_ms/trivial_cpu_ms: the server's worker processes' CPU time per request answered,
from /proc, medians of the rounds; cpu_ratio = trivial_cpu_ms / query_cpu_ms, the throughput
ratio the CPU alone allows, which other load on the machine does not move as it moves req/s.)
Goals (issue 7): query_ratio >= 0.4, p99_ms < 50 with 5,000,000 population records. The
script prints figures; it asserts none. Loads only the loopback interface.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import re
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import http_baseline as hb  # the sibling benchmark: environment and server helpers

HOST = hb.HOST
LUA = Path(__file__).resolve().parent / "exchange_query.lua"
QUERY_PATH = "/api/v1/exchange/query"
RESOURCE = "LA-DR-GA-001"  # 人口基本信息 (公安局), conditional
CONSUMER = "la-swj"  # 税务局
ITEM = "qssb"  # 契税申报
PURPOSE = "契税申报时核验纳税人身份（基准测试）"
SYSTEM_USER = "bench-swj-system"
STATE_FILE = "bench-exchange.json"
FIELDS = ["id_number", "name", "sex", "birth_date", "household_address", "phone", "hukou_status"]
MASKS = {
    "id_number": "id_number",
    "name": "name",
    "household_address": "address",
    "phone": "phone",
}

SETUP = """
import json, sys
from django.contrib.auth import get_user_model
from yiwang.accounts.models import ApiToken, Department
from yiwang.accounts.services import api_token_create
from yiwang.applications.models import Application
from yiwang.exchange import demo, services
from yiwang.exchange.models import DataResource, Grant

args = json.loads(sys.argv[1])
User = get_user_model()
admin = User.objects.get(username="demo-admin")
consumer = Department.objects.get(code=args["consumer"])
resource = DataResource.objects.get(code=args["resource"])
officer = User.objects.get(username=demo.OFFICER_OF[args["consumer"]])
owner_officer = User.objects.get(username=demo.OFFICER_OF[resource.owner.code])
if args.get("owner_url"):
    from yiwang.exchange.owners import postgres_adapter_config
    resource = services.resource_save(
        actor=owner_officer, owner=resource.owner, code=resource.code, name=resource.name,
        description=resource.description, fields=resource.fields,
        subject_type=resource.subject_type, update_frequency=resource.update_frequency,
        legal_basis=resource.legal_basis, sharing_class=resource.sharing_class,
        sharing_condition=resource.sharing_condition, adapter_kind="sql",
        adapter_config=postgres_adapter_config(args["owner_url"]),
        rate_limit_per_minute=resource.rate_limit_per_minute, resource=resource,
    )
item = demo.item_code(args["item"])
# The demo grants this consumer the resource for its own scenarios (other fields, masks and
# rate): the bench replaces it with its own grant, as an owner would with a new request.
for grant in Grant.objects.filter(resource=resource, consumer=consumer, revoked_at=None).exclude(
    request__purpose=args["purpose"]
):
    services.grant_revoke(actor=owner_officer, grant=grant, reason="由基准测试授权替代")
if not Grant.objects.filter(
    resource=resource, consumer=consumer, revoked_at=None, request__purpose=args["purpose"]
).exists():
    request = services.request_create(
        actor=officer, consumer=consumer, resource=resource, fields=args["fields"],
        item_codes=[item], purpose=args["purpose"],
    )
    services.request_approve(
        actor=owner_officer, request=request, fields=args["fields"], masks=args["masks"],
        item_codes=[item], valid_until=None, rate_limit_per_minute=100000,
        reason="基准测试授权",
    )
system = User.objects.filter(username=args["user"]).first()
if system is None:
    # No service opens system accounts yet: an administrator would, as the factories do.
    system = User.objects.create_user(
        username=args["user"], kind=User.Kind.SYSTEM, real_name="税务局契税系统（基准测试）",
        department=consumer, password=None,
    )
_, raw = api_token_create(actor=admin, user=system, kind=ApiToken.Kind.INTEGRATION,
                          name="bench/exchange.py")
cases = list(
    Application.objects.filter(item__task_code=item, department=consumer)
    .order_by("id").values_list("number", flat=True)
)
print(json.dumps({"token": raw, "cases": cases}))
"""

LOG_COUNT = """
import json
from django.db.models import Count
from yiwang.exchange.models import AccessLogEntry
by = dict(AccessLogEntry.objects.values_list("outcome").annotate(n=Count("id")))
print(json.dumps({"total": sum(by.values()), "by_outcome": by}))
"""

LOG_VERIFY = """
import json, time
from yiwang.exchange.accesslog import log_verify
started = time.perf_counter()
report = log_verify()
print(json.dumps({"ok": report.ok, "rows": report.rows, "message": report.message,
                  "seconds": time.perf_counter() - started}))
"""

PROFILE = """
import cProfile, io, json, pstats, sys, time
from django.test import Client
n, path, token, resource, purpose = int(sys.argv[1]), *sys.argv[2:6]
rows = [l.split("\\t") for l in open(path, encoding="utf-8").read().splitlines()[3:]]
client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION="Bearer " + token)
def call(i):
    key, case = rows[i % len(rows)]
    body = {"resource": resource, "key": key, "case_number": case, "purpose": purpose}
    r = client.post("/api/v1/exchange/query", body, content_type="application/json")
    assert r.status_code == 200, (r.status_code, r.content[:300])
for i in range(20):
    call(i)
started, cpu = time.perf_counter(), time.process_time()
for i in range(n):
    call(i)
print("STACK_MS_PER_CALL=%.2f cpu=%.2f (no profiler)" % (
    (time.perf_counter() - started) / n * 1000, (time.process_time() - cpu) / n * 1000))
from yiwang.accounts.models import User
from yiwang.exchange.gateway import exchange_query
from yiwang.exchange.access import consumer_for_query
actor = User.objects.get(username=sys.argv[6])
consumer = consumer_for_query(actor)
started, cpu = time.perf_counter(), time.process_time()
for i in range(n):
    key, case = rows[i % len(rows)]
    exchange_query(consumer=consumer, actor=actor, resource_code=resource, key=key,
                   case_number=case, purpose=purpose)
print("GATEWAY_MS_PER_CALL=%.2f cpu=%.2f (exchange_query alone, no profiler)" % (
    (time.perf_counter() - started) / n * 1000, (time.process_time() - cpu) / n * 1000))
profiler = cProfile.Profile()
started = time.perf_counter()
profiler.enable()
for i in range(20, 20 + n):
    call(i)
profiler.disable()
elapsed = time.perf_counter() - started
out = io.StringIO()
stats = pstats.Stats(profiler, stream=out)
stats.sort_stats("cumulative").print_stats(r"yiwang|ninja/operation|handlers/base", 40)
stats.sort_stats("tottime").print_stats(20)
print(out.getvalue())
print("PROFILE_MS_PER_CALL=%.2f" % (elapsed / n * 1000))
from django.db import connection
from django.test.utils import CaptureQueriesContext
with CaptureQueriesContext(connection) as queries:
    call(n + 21)
print("SQL statements of one call: %d" % len(queries.captured_queries))
for q in queries.captured_queries:
    print("  %s ms  %s" % (q["time"], q["sql"][:160]))
"""


@dataclass
class State:
    """What a prepared folder holds, kept in STATE_FILE for --reuse."""

    population: int
    owners_s: float
    token: str
    cases: list[str]
    topology: str
    env: dict[str, str] = field(default_factory=dict)  # --city: databases and secrets
    databases: list[str] = field(default_factory=list)  # --city: scratch databases to drop


@dataclass
class Figures:
    query_rps: list[float]
    trivial_rps: list[float]
    load_p50_ms: list[float]
    load_p99_ms: list[float]
    p50_ms: float
    p90_ms: float
    p99_ms: float
    rows_logged: int
    requests_answered: int
    logged_slack: int
    refused: int
    log_exact: str
    chain: str
    chain_rows: int
    loadavg: list[float]
    notes: list[str]
    # CPU time of the server's worker processes per request answered, by target and round.
    cpu_ms: dict[str, list[float]] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Preparation


def admin_url(server_url: str, name: str) -> str:
    parts = urllib.parse.urlsplit(server_url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def create_database(server_url: str, prefix: str) -> str:
    import psycopg

    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url(server_url, name)


def drop_databases(urls: list[str]) -> None:
    import psycopg

    for url in urls:
        name = urllib.parse.urlsplit(url).path.lstrip("/")
        with psycopg.connect(admin_url(url, "postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare(
    args: argparse.Namespace, env: dict[str, str], data_dir: Path, databases: list[str]
) -> State:
    """Everything before the server starts; scratch databases are appended to ``databases``
    as soon as they exist, so that the caller drops them even if a later step fails."""
    owners_dir = data_dir / "owners"
    env["YIWANG_EXCHANGE_OWNERS_DIR"] = str(owners_dir)
    owner_url = ""
    if args.city:
        server = env["DATABASE_URL"]
        env["DATABASE_URL"] = create_database(server, "yiwang_bench")
        databases.append(env["DATABASE_URL"])
        owner_url = create_database(server, "yiwang_bench_owner")
        databases.append(owner_url)
    # The demo first, with its own small stores: loaded after the big ones, its monthly
    # 公积金 drop would copy some 700,000 rows per 5 million people into the platform.
    hb.prepare(env, user="demo-clerk", password="yiwang-demo-2026", create_staff=False)  # noqa: S106
    started = time.perf_counter()
    if args.city:
        hb.step(f"generate_owners --postgres (population {args.population:,})")
        command = ["--postgres", owner_url]
    else:
        hb.step(f"generate_owners --population {args.population:,} (SQLite stores)")
        command = ["--out", str(owners_dir)]
    hb.manage(
        env,
        "generate_owners",
        *command,
        "--population",
        str(args.population),
        timeout=6 * 3600,
    )
    owners_s = time.perf_counter() - started
    hb.step(f"owners' stores written in {owners_s:.0f} s")
    hb.step("yiwang generate --scale small (the cases)")
    hb.manage(env, "generate", "--scale", "small", timeout=3600)
    hb.step(f"grant {CONSUMER} → {RESOURCE} with masks, integration key")
    setup = json.loads(
        hb.django_snippet(
            env,
            SETUP,
            json.dumps(
                {
                    "consumer": CONSUMER,
                    "resource": RESOURCE,
                    "item": ITEM,
                    "fields": FIELDS,
                    "masks": MASKS,
                    "purpose": PURPOSE,
                    "user": SYSTEM_USER,
                    "owner_url": owner_url,
                }
            ),
        ).splitlines()[-1]
    )
    if not setup["cases"]:
        raise hb.BenchError(f"`yiwang generate` made no {ITEM} application of {CONSUMER}")
    keep_env = {
        k: env[k]
        for k in (
            "DATABASE_URL",
            "REDIS_URL",
            "YIWANG_SECRET_KEY",
            "YIWANG_FIELD_KEYS",
            "YIWANG_BLIND_INDEX_KEY",
        )
        if args.city and k in env
    }
    if args.city:
        keep_env["OWNER_URL"] = owner_url
    return State(
        population=args.population,
        owners_s=owners_s,
        token=setup["token"],
        cases=setup["cases"],
        topology="city" if args.city else "embedded",
        env=keep_env,
        databases=list(databases),
    )


def sample_keys(state: State, data_dir: Path, n: int) -> list[str]:
    """``n`` subject keys drawn at random from the owner's store (read directly: the bench
    plays the owner here, not a consumer)."""
    rng = random.Random(20261127)
    if state.topology == "city":
        import psycopg

        url = state.env["OWNER_URL"]
        with psycopg.connect(url) as conn:
            total = conn.execute("SELECT count(*) FROM owner_gaj.population").fetchone()[0]  # type: ignore[index]
            percent = min(100.0, 100.0 * n * 3 / max(total, 1))
            rows = conn.execute(
                f"SELECT id_number FROM owner_gaj.population TABLESAMPLE BERNOULLI ({percent})"  # noqa: S608
                " REPEATABLE (7)"
            ).fetchall()
        keys = [r[0] for r in rows]
        rng.shuffle(keys)
        return keys[:n]
    path = data_dir / "owners" / "gaj.sqlite3"
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        top = conn.execute("SELECT max(rowid) FROM population").fetchone()[0]
        ids = rng.sample(range(1, top + 1), min(n, top))
        keys: list[str] = []
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            keys += [
                r[0]
                for r in conn.execute(
                    f"SELECT id_number FROM population WHERE rowid IN ({marks})",  # noqa: S608
                    chunk,
                )
            ]
    finally:
        conn.close()
    rng.shuffle(keys)
    return keys


def write_data_file(state: State, keys: list[str], path: Path) -> None:
    lines = [state.token, RESOURCE, PURPOSE]
    lines += [f"{k}\t{state.cases[i % len(state.cases)]}" for i, k in enumerate(keys)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------------------------
# Measuring


@dataclass
class Wrk:
    rps: float
    requests: int
    non_2xx: int
    socket_errors: int
    percentiles_ms: dict[str, float]
    cpu_ms: float = 0.0  # the server workers' CPU time per request, set by the caller


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(
    wrk: str, url: str, *, seconds: int, threads: int, connections: int, script: list[str]
) -> Wrk:
    cmd = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    cmd += ["--latency"]
    if script:
        cmd += ["-s", script[0], url, "--", *script[1:]]
    else:
        cmd.append(url)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=False)
    out = proc.stdout
    if proc.returncode != 0 or "Requests/sec" not in out:
        raise hb.BenchError(f"wrk failed on {url}:\n{out}{proc.stderr}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    pct = {
        m.group(1): _ms(m.group(2))
        for m in re.finditer(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.MULTILINE)
    }
    return Wrk(
        rps=rps,
        requests=total,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(g) for g in sock.groups()) if sock else 0,
        percentiles_ms=pct,
    )


def log_count(env: dict[str, str]) -> dict[str, Any]:
    return json.loads(hb.django_snippet(env, LOG_COUNT).splitlines()[-1])  # type: ignore[no-any-return]


def post_query(conn: http.client.HTTPConnection, token: str, key: str, case: str) -> Any:
    body = json.dumps(
        {"resource": RESOURCE, "key": key, "case_number": case, "purpose": PURPOSE}
    ).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn.request("POST", QUERY_PATH, body, headers)
    resp = conn.getresponse()
    data = resp.read()
    if resp.status != 200:
        raise hb.BenchError(f"{QUERY_PATH} answered HTTP {resp.status}: {data[:400]!r}")
    return json.loads(data)


def first_call_check(server: hb.Server, state: State, key: str) -> None:
    """One real call: 200, the granted fields only, masked as the grant says."""
    conn = http.client.HTTPConnection(HOST, server.port, timeout=30)
    try:
        out = post_query(conn, state.token, key, state.cases[0])
    finally:
        conn.close()
    if out["fields"] != FIELDS or len(out["records"]) != 1:
        raise hb.BenchError(f"unexpected answer: {str(out)[:400]}")
    record = out["records"][0]
    if record["id_number"] == key or "*" not in record["name"] or "*" not in record["phone"]:
        raise hb.BenchError(f"the answer is not masked: {record}")
    hb.step(f"first call: {json.dumps(record, ensure_ascii=False)}")


def process_cpu_s(pids: list[int]) -> float:
    """User plus system CPU seconds of these processes (all their threads), from /proc."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def measure(args: argparse.Namespace, env: dict[str, str], data_dir: Path, state: State) -> Figures:
    wrk = hb.require_wrk()
    keys_file = data_dir / "exchange-keys.tsv"
    keys = sample_keys(state, data_dir, args.keys)
    if len(keys) < args.keys // 2:
        raise hb.BenchError(f"only {len(keys)} keys in the owner's store")
    write_data_file(state, keys, keys_file)
    hb.step(f"{len(keys):,} subject keys, {len(state.cases)} cases of {CONSUMER} ({ITEM})")
    notes: list[str] = []
    workers = args.server_workers or (2 if args.city else 1)
    hb.step(f"yiwang serve (gunicorn): {workers} gthread worker(s) x {args.server_threads} threads")
    with hb.gunicorn(
        env, data_dir=data_dir, threads=args.server_threads, plain=False, workers=workers
    ) as server:
        first_call_check(server, state, keys[0])
        urls = {"trivial": server.base + hb.PATHS["trivial"], "query": server.base + QUERY_PATH}
        script = [str(LUA), str(keys_file)]

        def load(target: str, seconds: int, connections: int, threads: int) -> Wrk:
            pids = server.worker_pids()
            cpu_before = process_cpu_s(pids)
            result = run_wrk(
                wrk,
                urls[target],
                seconds=seconds,
                threads=threads,
                connections=connections,
                script=script if target == "query" else [],
            )
            if result.non_2xx or result.socket_errors:
                notes.append(
                    f"{target}: {result.non_2xx} non-2xx, {result.socket_errors} socket errors"
                    f" of {result.requests}"
                )
            if result.requests:
                result.cpu_ms = (process_cpu_s(pids) - cpu_before) * 1000 / result.requests
            return result

        for target in urls:  # warm-up
            load(target, args.warmup, args.connections, args.wrk_threads)
        before = log_count(env)
        loadavg = [os.getloadavg()[0]]
        answered, runs = 0, 0
        rps: dict[str, list[float]] = {"trivial": [], "query": []}
        cpu_ms: dict[str, list[float]] = {"trivial": [], "query": []}
        p50s: list[float] = []
        p99s: list[float] = []
        for rnd in range(1, args.rounds + 1):
            for target in urls:
                result = load(target, args.duration, args.connections, args.wrk_threads)
                rps[target].append(result.rps)
                cpu_ms[target].append(result.cpu_ms)
                if target == "query":
                    answered += result.requests - result.non_2xx
                    runs += 1
                    p50s.append(result.percentiles_ms.get("50", 0.0))
                    p99s.append(result.percentiles_ms.get("99", 0.0))
                loadavg.append(os.getloadavg()[0])
                print(
                    f"    round {rnd} {target:<8} {result.rps:9.1f} req/s  "
                    + "  ".join(f"p{k} {v:.1f} ms" for k, v in result.percentiles_ms.items())
                    + f"  server CPU {result.cpu_ms:.2f} ms a request",
                    flush=True,
                )
        hb.step(f"latency: wrk on one connection, {args.duration} s")
        single = load("query", args.duration, 1, 1)
        answered += single.requests - single.non_2xx
        runs += 1
        print(
            f"    one connection {single.rps:9.1f} req/s  "
            + "  ".join(f"p{k} {v:.1f} ms" for k, v in single.percentiles_ms.items())
            + f"  server CPU {single.cpu_ms:.2f} ms a request",
            flush=True,
        )
        after = log_count(env)
        rows = after["total"] - before["total"]
        refused = rows - (
            after["by_outcome"].get("answered", 0) - before["by_outcome"].get("answered", 0)
        )
        hb.step(f"exact log check: {args.exact} calls one after another")
        conn = http.client.HTTPConnection(HOST, server.port, timeout=30)
        seqs = []
        try:
            for i in range(args.exact):
                out = post_query(conn, state.token, keys[-1 - i], state.cases[i % len(state.cases)])
                seqs.append(out["log_seq"])
        finally:
            conn.close()
        exact_after = log_count(env)
        exact_rows = exact_after["total"] - after["total"]
        log_exact = (
            "ok"
            if exact_rows == args.exact and len(set(seqs)) == args.exact
            else f"MISMATCH({exact_rows}/{args.exact})"
        )
    if args.profile:
        hb.step(f"cProfile: {args.profile} calls through the Django stack, in-process")
        out = hb.django_snippet(
            env,
            PROFILE,
            str(args.profile),
            str(keys_file),
            state.token,
            RESOURCE,
            PURPOSE,
            SYSTEM_USER,
        )
        print(out)
    hb.step("accesslog.log_verify()")
    verify = json.loads(hb.django_snippet(env, LOG_VERIFY).splitlines()[-1])
    print(f"    {verify['message']} ({verify['seconds']:.1f} s)")
    return Figures(
        query_rps=rps["query"],
        trivial_rps=rps["trivial"],
        load_p50_ms=p50s,
        load_p99_ms=p99s,
        p50_ms=single.percentiles_ms.get("50", 0.0),
        p90_ms=single.percentiles_ms.get("90", 0.0),
        p99_ms=single.percentiles_ms.get("99", 0.0),
        rows_logged=rows,
        requests_answered=answered,
        logged_slack=rows - answered,
        refused=refused,
        log_exact=log_exact,
        chain="ok" if verify["ok"] else "BROKEN",
        chain_rows=verify["rows"],
        loadavg=loadavg,
        cpu_ms=cpu_ms,
        notes=notes + ([f"{refused} calls not answered (refused/failed)"] if refused else []),
    )


# --------------------------------------------------------------------------------------------
# Output and main


def last_line(fig: Figures, state: State) -> str:
    ratios = [q / t for q, t in zip(fig.query_rps, fig.trivial_rps, strict=True)]
    return (
        f"query_ratio={statistics.median(ratios):.2f} "
        f"query_rps={statistics.median(fig.query_rps):.1f} "
        f"trivial_rps={statistics.median(fig.trivial_rps):.1f} "
        f"p50_ms={fig.p50_ms:.1f} p99_ms={fig.p99_ms:.1f} "
        f"load_p50_ms={statistics.median(fig.load_p50_ms):.1f} "
        f"load_p99_ms={statistics.median(fig.load_p99_ms):.1f} "
        f"population={state.population} rows_logged={fig.rows_logged} "
        f"requests_answered={fig.requests_answered} logged_slack={fig.logged_slack} "
        f"log_exact={fig.log_exact} chain={fig.chain} owners_s={state.owners_s:.0f} "
        f"query_cpu_ms={statistics.median(fig.cpu_ms['query']):.2f} "
        f"trivial_cpu_ms={statistics.median(fig.cpu_ms['trivial']):.2f} "
        f"cpu_ratio={cpu_ratio(fig):.2f} "
        f"topology={state.topology} loadavg={statistics.median(fig.loadavg):.1f}"
    )


def cpu_ratio(fig: Figures) -> float:
    """The trivial view's CPU time per request over the query's, median of the rounds: what
    the throughput ratio would be if the server's CPU were all that limited both, and steadier
    than requests per second when other work shares the machine (embedded, the worker process
    is the whole server; in the city it leaves out PostgreSQL and Redis)."""
    pairs = zip(fig.cpu_ms["trivial"], fig.cpu_ms["query"], strict=True)
    return statistics.median(t / q for t, q in pairs if q > 0)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--population", type=int, default=5_000_000, help="people in the owner's store")
    p.add_argument("--city", action="store_true", help="PostgreSQL + Redis (see above)")
    p.add_argument("--reuse", type=Path, default=None, help="a folder kept by an earlier --keep")
    p.add_argument("--keep", action="store_true", help="keep the folder (and --city databases)")
    p.add_argument("--keys", type=int, default=20_000, help="subject keys drawn from the store")
    p.add_argument("--exact", type=int, default=300, help="calls of the exact log check")
    p.add_argument("--profile", type=int, default=0, help="N calls under cProfile (0: none)")
    p.add_argument("--duration", type=int, default=10, help="seconds per wrk target per round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--wrk-threads", type=int, default=2)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--server-threads", type=int, default=8, help="gthread threads")
    p.add_argument(
        "--server-workers",
        type=int,
        default=0,
        help="gunicorn worker processes (default as `yiwang serve`: 1 embedded, 2 with --city)",
    )
    args = p.parse_args(argv)
    if args.population < 1 or args.keys < 1 or args.exact < 1:
        p.error("--population, --keys and --exact must be at least 1")
    if not 1 <= args.duration <= 120 or not 1 <= args.rounds <= 10:
        p.error("--duration must be 1..120 s and --rounds 1..10")
    return args


@contextlib.contextmanager
def folder(args: argparse.Namespace) -> Iterator[Path]:
    if args.reuse is not None:
        if not (args.reuse / STATE_FILE).is_file():
            raise hb.BenchError(f"{args.reuse} holds no {STATE_FILE}: run once with --keep")
        yield args.reuse
        return
    data_dir = Path(tempfile.mkdtemp(prefix="yiwang-bench-exchange-"))
    try:
        yield data_dir
    finally:
        if args.keep:
            print(f"data folder kept: {data_dir}  (measure again: --reuse {data_dir})")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    state: State | None = None
    try:
        hb.require_wrk()
        with folder(args) as data_dir:
            state_path = data_dir / STATE_FILE
            if args.reuse is not None:
                state = State(**json.loads(state_path.read_text()))
                args.city = state.topology == "city"
                for name in ("DATABASE_URL", "REDIS_URL"):  # the kept run's, unless given
                    if name in state.env:
                        os.environ.setdefault(name, state.env[name])
                env = hb.bench_env(data_dir=data_dir, city=args.city)
                env.update({k: v for k, v in state.env.items() if k != "OWNER_URL"})
                env["YIWANG_EXCHANGE_OWNERS_DIR"] = str(data_dir / "owners")
                hb.step(f"reusing {data_dir} ({state.population:,} people, {state.topology})")
            else:
                env = hb.bench_env(data_dir=data_dir, city=args.city)
            created: list[str] = []
            try:
                if state is None:
                    state = prepare(args, env, data_dir, created)
                    state_path.write_text(json.dumps(state.__dict__))
                fig = measure(args, env, data_dir, state)
            finally:
                if created and not args.keep:
                    drop_databases(created)
    except hb.BenchError as exc:
        print(f"bench/exchange.py: {exc}", file=sys.stderr)
        return 2
    ratios = [q / t for q, t in zip(fig.query_rps, fig.trivial_rps, strict=True)]
    print()
    print(
        f"query {statistics.median(fig.query_rps):.1f} req/s = {statistics.median(ratios):.2f} x "
        f"trivial ({statistics.median(fig.trivial_rps):.1f}); goal >= 0.40"
    )
    print(
        f"server CPU per request: query {statistics.median(fig.cpu_ms['query']):.2f} ms, "
        f"trivial {statistics.median(fig.cpu_ms['trivial']):.2f} ms: "
        f"cpu_ratio {cpu_ratio(fig):.2f}"
    )
    print(
        f"latency one connection: p50 {fig.p50_ms:.1f} ms, p90 {fig.p90_ms:.1f} ms, "
        f"p99 {fig.p99_ms:.1f} ms (goal < 50 ms); under {args.connections} connections: "
        f"p50 {statistics.median(fig.load_p50_ms):.1f} ms, "
        f"p99 {statistics.median(fig.load_p99_ms):.1f} ms"
    )
    print(
        f"log: {fig.rows_logged} rows for {fig.requests_answered} answers read by wrk "
        f"(+{fig.logged_slack} in flight at wrk's stop), exact check {fig.log_exact}, "
        f"chain {fig.chain} ({fig.chain_rows} rows)"
    )
    print(
        f"machine: {os.cpu_count()} cores, 1-minute load average during the rounds "
        + ", ".join(f"{x:.1f}" for x in fig.loadavg)
    )
    for note in fig.notes:
        print(f"note: {note}")
    print(last_line(fig, state))  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
