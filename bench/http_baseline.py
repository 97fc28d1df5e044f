"""HTTP baseline: throughput of the platform's pages as ratios of a trivial Django view.

    .venv/bin/python bench/http_baseline.py            # embedded topology (SQLite)
    .venv/bin/python bench/http_baseline.py --city     # then also PostgreSQL + Redis

What it does, in a throwaway data folder:

1. migrates, collects static files and loads the demo data (`yiwang demo`) under
   bench/settings_bench.py (the product settings, DEBUG off, plus /bench/trivial);
2. starts the production server the way an operator would: `yiwang serve --workers 1`, i.e.
   gunicorn with the gthread worker class on yiwang.wsgi:application, ONE worker process with
   --server-threads threads (8, serve's default), on 127.0.0.1 (--plain-gunicorn: gunicorn
   itself with the same flags, without serve's access log and embedded job runner);
3. signs in as a demo staff user through the real login form to get a session cookie;
4. loads it with wrk (a real HTTP load generator, not Python) for a fixed duration per target,
   interleaving /bench/trivial, /api/v1/health and the staff console /console/ for several
   rounds because a shared machine is noisy, and takes medians;
5. watches the worker process's peak resident memory (VmHWM in /proc/<pid>/status);
6. stops gunicorn (also on Ctrl-C or an error) and prints a summary, then on its LAST line:

    health_ratio=0.xx staff_ratio=0.xx trivial_rps=NNN health_rps=NNN staff_rps=NNN rss_mb=NNN

Ratios are medians of the per-round ratios (each round measures the three targets back to back,
so slow drift of the machine cancels out). Goals (docs/adr/0002-production-server.md):
health_ratio >= 0.6 and rss_mb <= 250 per web process. The script prints figures; it asserts none.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.cookiejar
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # load only the loopback interface, never another machine

TARGETS = ("trivial", "health", "staff")
PATHS = {"trivial": "/bench/trivial", "health": "/api/v1/health", "staff": "/console/"}


class BenchError(Exception):
    """Something the benchmark needs is missing; the message says what and how to fix it."""


# --------------------------------------------------------------------------------------------
# Environment


def require_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchError(
            "wrk (the HTTP load generator) is not installed.\n"
            "  Debian/Ubuntu: sudo apt-get install -y wrk\n"
            "  macOS:         brew install wrk"
        )
    return wrk


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database on the server of ``server_url``, dropped at the end.

    Each run gets its own: the run generates its own field-encryption keys, so data left by an
    earlier run would be unreadable, and the benchmark must never touch a database in use.
    """
    import psycopg  # a platform dependency; imported here so the embedded run needs no server

    parts = urllib.parse.urlsplit(server_url)
    name = f"yiwang_bench_{secrets.token_hex(4)}"
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        raise BenchError(f"cannot create a scratch database on {parts.hostname}: {exc}") from exc
    try:
        yield urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_env(*, data_dir: Path, city: bool) -> dict[str, str]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "bench.settings_bench"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    env["YIWANG_DATA_DIR"] = str(data_dir)
    env.pop("YIWANG_DEBUG", None)
    if city:
        for name in ("DATABASE_URL", "REDIS_URL"):
            if not env.get(name):
                raise BenchError(
                    f"--city needs {name}, e.g.\n"
                    "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres "
                    "REDIS_URL=redis://127.0.0.1:6379/8 .venv/bin/python bench/http_baseline.py "
                    "--city\n(only the server and credentials of DATABASE_URL are used: the "
                    "bench creates and drops a scratch database of its own)"
                )
        if not env["DATABASE_URL"].startswith(("postgres://", "postgresql://")):
            raise BenchError("--city expects a PostgreSQL DATABASE_URL")
        env["YIWANG_BENCH_TOPOLOGY"] = "city"
        # The production settings refuse default secrets: give them fresh ones for this run.
        env["YIWANG_SECRET_KEY"] = secrets.token_urlsafe(50)
        env["YIWANG_FIELD_KEYS"] = "b1:" + base64.b64encode(secrets.token_bytes(16)).decode()
        env["YIWANG_BLIND_INDEX_KEY"] = secrets.token_urlsafe(32)
        # Plain HTTP on the loopback: secure-only cookies would never come back.
        env["YIWANG_INSECURE_COOKIES"] = "1"
    else:
        env["YIWANG_BENCH_TOPOLOGY"] = "embedded"
        for name in ("DATABASE_URL", "REDIS_URL", "YIWANG_JOBS_MODE"):
            env.pop(name, None)
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 600) -> str:
    """Run a `yiwang` command; on failure raise with its output."""
    cmd = [sys.executable, "-m", "yiwang.cli", *args]
    proc = subprocess.run(
        cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        raise BenchError(
            f"`yiwang {' '.join(args)}` failed (exit {proc.returncode}):\n"
            + (proc.stdout + proc.stderr)[-3000:]
        )
    return proc.stdout


STAFF_CHECK = """
import sys
from django.contrib.auth import get_user_model
user = get_user_model().objects.filter(username=sys.argv[1]).first()
print("missing" if user is None else getattr(user, "kind", "?"))
"""

STAFF_CREATE = """
import sys
from django.contrib.auth import get_user_model
User = get_user_model()
if not User.objects.filter(username=sys.argv[1]).exists():
    User.objects.create_user(username=sys.argv[1], password=sys.argv[2], kind="staff")
"""


def django_snippet(env: dict[str, str], code: str, *argv: str) -> str:
    # The snippet sees its own arguments as sys.argv[1:].
    runner = "import django, sys; django.setup(); exec(sys.argv.pop(1))"
    proc = subprocess.run(
        [sys.executable, "-c", runner, code, *argv],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0:
        raise BenchError("Django snippet failed:\n" + (proc.stdout + proc.stderr)[-3000:])
    return proc.stdout.strip()


def prepare(env: dict[str, str], *, user: str, password: str, create_staff: bool) -> None:
    step("migrate")
    manage(env, "migrate", "--no-input")
    step("collectstatic")
    manage(env, "collectstatic", "--no-input")
    step("yiwang demo")
    manage(env, "demo")
    kind = django_snippet(env, STAFF_CHECK, user)
    if kind == "missing" and create_staff:
        step(f"creating staff user {user} (--create-staff)")
        django_snippet(env, STAFF_CREATE, user, password)
        kind = "staff"
    if kind == "missing":
        raise BenchError(
            f"`yiwang demo` created no user {user!r}, so the staff page cannot be measured.\n"
            "  Either the accounts demo data is not built yet, or pass --user/--password for an\n"
            "  existing staff account, or --create-staff to create a bare staff user."
        )
    if kind != "staff":
        raise BenchError(f"user {user!r} is of kind {kind!r}, not staff; pass --user")


# --------------------------------------------------------------------------------------------
# The server


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def worker_pids(self) -> list[int]:
        """gunicorn's worker processes: the children of the master."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # "pid (comm) state ppid ...": comm may contain spaces, so split after ')'.
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.proc.pid:
                pids.append(int(entry.name))
        return pids

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"


@contextlib.contextmanager
def gunicorn(
    env: dict[str, str], *, data_dir: Path, threads: int, plain: bool, workers: int = 1
) -> Iterator[Server]:
    """gunicorn gthread worker processes (one unless ``workers``): through `yiwang serve` (the
    product's own command, with the embedded job runner in the worker and its access log), or
    with ``plain`` gunicorn itself with the same worker class and no access log."""
    port = free_port()
    log = data_dir / "gunicorn.log"
    serve = [
        sys.executable,
        "-m",
        "yiwang.cli",
        "serve",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--threads",
        str(threads),
    ]
    plain_gunicorn = [
        sys.executable,
        "-m",
        "gunicorn",
        "yiwang.wsgi:application",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--error-logfile",
        str(log),
        "--log-level",
        "warning",
        "--timeout",
        "60",
    ]
    cmd = plain_gunicorn if plain else serve
    with log.open("wb") as fh:
        # A session of its own, so that the whole process group can be stopped at the end.
        proc = subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(proc=proc, port=port, log=log)
    try:
        wait_ready(server)
        yield server
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def wait_ready(server: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise BenchError("gunicorn exited during start-up:\n" + server.log_tail())
        try:
            url = server.base + PATHS["trivial"]  # always http://127.0.0.1
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310
                if resp.status == 200 and server.worker_pids():
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise BenchError(f"gunicorn did not answer within {timeout:.0f} s:\n" + server.log_tail())


# --------------------------------------------------------------------------------------------
# Session and checks


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def login(server: Server, *, user: str, password: str) -> str:
    """Sign in through the real login form; return the Cookie header for wrk."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    url = server.base + "/accounts/login/"
    try:
        with opener.open(url, timeout=10) as resp:
            page = resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        raise BenchError(f"GET /accounts/login/ answered {exc.code}") from exc
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if match is None:
        raise BenchError("the login page has no CSRF token: is /accounts/login/ a login form?")
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": match.group(1), "username": user, "password": password}
    ).encode()
    request = urllib.request.Request(  # noqa: S310 (http://127.0.0.1 only)
        url, data=form, headers={"Referer": url}, method="POST"
    )
    status = 0
    try:
        with opener.open(request, timeout=10) as resp:
            status = resp.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    cookies = {c.name: c.value for c in jar}
    if status != 302 or "sessionid" not in cookies:
        raise BenchError(
            f"login as {user!r} failed (HTTP {status}, cookies {sorted(cookies)}): "
            "wrong --password, or the login view changed"
        )
    return f"sessionid={cookies['sessionid']}"


def check(server: Server, target: str, cookie: str | None) -> None:
    """wrk counts 3xx as success, so make sure each target really answers 200 first."""
    opener = urllib.request.build_opener(_NoRedirect)
    headers = {"Cookie": cookie} if cookie else {}
    request = urllib.request.Request(  # noqa: S310 (http://127.0.0.1 only)
        server.base + PATHS[target], headers=headers
    )
    try:
        with opener.open(request, timeout=10) as resp:
            status = resp.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    if status != 200:
        raise BenchError(
            f"{PATHS[target]} answered HTTP {status}, not 200; it cannot be benchmarked yet"
            + (" (the staff session was not accepted)" if target == "staff" else "")
        )


# --------------------------------------------------------------------------------------------
# Load and memory


@dataclass
class WrkResult:
    rps: float
    requests: int
    non_2xx: int
    socket_errors: int
    latency_p50: str


def run_wrk(
    wrk: str, url: str, *, seconds: int, threads: int, connections: int, cookie: str | None
) -> WrkResult:
    cmd = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    cmd.append("--latency")
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    cmd.append(url)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=False)
    out = proc.stdout
    if proc.returncode != 0 or "Requests/sec" not in out:
        raise BenchError(f"wrk failed on {url}:\n{out}{proc.stderr}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non_2xx_m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE)
    return WrkResult(
        rps=rps,
        requests=total,
        non_2xx=int(non_2xx_m.group(1)) if non_2xx_m else 0,
        socket_errors=sum(int(g) for g in sock.groups()) if sock else 0,
        latency_p50=p50.group(1) if p50 else "?",
    )


def read_status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


@dataclass
class MemoryWatch:
    """Samples the worker's resident memory while the load runs; VmHWM is the kernel's own peak,
    the sampled VmRSS maximum is a cross-check."""

    pid: int
    interval: float = 0.2
    max_rss_kb: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> MemoryWatch:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(OSError):
                self.max_rss_kb = max(self.max_rss_kb, read_status_kb(self.pid, "VmRSS"))
            self._stop.wait(self.interval)

    def hwm_kb(self) -> int:
        return read_status_kb(self.pid, "VmHWM")


@dataclass
class Figures:
    label: str
    rps: dict[str, list[float]]
    ratios: dict[str, list[float]]
    rss_mb: float
    sampled_rss_mb: float
    notes: list[str]

    def median_rps(self, target: str) -> float:
        return statistics.median(self.rps[target])

    def median_ratio(self, target: str) -> float:
        return statistics.median(self.ratios[target])


def measure(label: str, args: argparse.Namespace, wrk: str) -> Figures:
    data_dir = Path(tempfile.mkdtemp(prefix=f"yiwang-bench-{label}-"))
    try:
        env = bench_env(data_dir=data_dir, city=label == "city")
        with contextlib.ExitStack() as stack:
            if label == "city":
                env["DATABASE_URL"] = stack.enter_context(scratch_database(env["DATABASE_URL"]))
            return measure_in(label, env, data_dir, args, wrk)
    finally:
        if args.keep:
            print(f"  kept data folder {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def measure_in(
    label: str, env: dict[str, str], data_dir: Path, args: argparse.Namespace, wrk: str
) -> Figures:
    prepare(env, user=args.user, password=args.password, create_staff=args.create_staff)
    how = "gunicorn" if args.plain_gunicorn else "yiwang serve (gunicorn)"
    step(f"{how}: 1 gthread worker process x {args.server_threads} threads")
    with gunicorn(
        env, data_dir=data_dir, threads=args.server_threads, plain=args.plain_gunicorn
    ) as server:
        cookie = login(server, user=args.user, password=args.password)
        for target in TARGETS:
            check(server, target, cookie if target == "staff" else None)
        workers = server.worker_pids()
        if len(workers) != 1:
            raise BenchError(f"expected one gunicorn worker, found {workers}")
        worker = workers[0]
        cookies = {t: (cookie if t == "staff" else None) for t in TARGETS}
        notes: list[str] = []

        def load(target: str, seconds: int) -> WrkResult:
            result = run_wrk(
                wrk,
                server.base + PATHS[target],
                seconds=seconds,
                threads=args.wrk_threads,
                connections=args.connections,
                cookie=cookies[target],
            )
            if result.non_2xx or result.socket_errors:
                notes.append(
                    f"{target}: {result.non_2xx} non-2xx/3xx responses, "
                    f"{result.socket_errors} socket errors of {result.requests} requests"
                )
            return result

        rps: dict[str, list[float]] = {t: [] for t in TARGETS}
        with MemoryWatch(worker) as watch:
            step(f"warm-up {args.warmup} s per target")
            for target in TARGETS:
                load(target, args.warmup)
            notes.clear()  # first requests compile templates and fill caches
            for rnd in range(1, args.rounds + 1):
                for target in TARGETS:
                    result = load(target, args.duration)
                    rps[target].append(result.rps)
                    print(
                        f"    round {rnd} {target:<8} {result.rps:9.1f} req/s  "
                        f"p50 {result.latency_p50:>8}  ({result.requests} requests)",
                        flush=True,
                    )
            hwm_kb = watch.hwm_kb()
        if server.worker_pids() != [worker]:
            notes.append("the gunicorn worker restarted during the run: figures are suspect")
        # The session must still be valid after the load, or wrk measured redirects.
        check(server, "staff", cookie)
    ratios = {
        t: [r / b for r, b in zip(rps[t], rps["trivial"], strict=True)] for t in ("health", "staff")
    }
    return Figures(
        label=label,
        rps=rps,
        ratios=ratios,
        rss_mb=hwm_kb / 1024,
        sampled_rss_mb=watch.max_rss_kb / 1024,
        notes=notes,
    )


# --------------------------------------------------------------------------------------------
# Output


def step(text: str) -> None:
    print(f"  - {text}", flush=True)


def summary(fig: Figures) -> None:
    print(f"\n== {fig.label}: medians of {len(fig.rps['trivial'])} rounds")
    for target in TARGETS:
        runs = ", ".join(f"{x:.0f}" for x in fig.rps[target])
        print(f"  {PATHS[target]:<16} {fig.median_rps(target):9.1f} req/s   (rounds: {runs})")
    health, staff = fig.median_ratio("health"), fig.median_ratio("staff")
    verdict = "met" if health >= 0.6 else "MISSED"
    print(f"  health / trivial  {health:5.2f}   goal >= 0.60  {verdict}")
    print(f"  staff  / trivial  {staff:5.2f}")
    print(
        f"  peak RSS of the web process {fig.rss_mb:.0f} MB (VmHWM; sampled max "
        f"{fig.sampled_rss_mb:.0f} MB)   goal <= 250 MB  "
        f"{'met' if fig.rss_mb <= 250 else 'MISSED'}"
    )
    for note in fig.notes:
        print(f"  ! {note}")


def last_line(fig: Figures, prefix: str = "") -> str:
    return " ".join(
        [
            f"{prefix}health_ratio={fig.median_ratio('health'):.2f}",
            f"{prefix}staff_ratio={fig.median_ratio('staff'):.2f}",
            f"{prefix}trivial_rps={fig.median_rps('trivial'):.0f}",
            f"{prefix}health_rps={fig.median_rps('health'):.0f}",
            f"{prefix}staff_rps={fig.median_rps('staff'):.0f}",
            f"{prefix}rss_mb={fig.rss_mb:.0f}",
        ]
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--city",
        action="store_true",
        help="after the embedded run, also run on PostgreSQL + Redis (DATABASE_URL, REDIS_URL)",
    )
    p.add_argument("--duration", type=int, default=10, help="seconds per target per round")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median taken)")
    p.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per target")
    p.add_argument("--wrk-threads", type=int, default=2)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument(
        "--server-threads", type=int, default=8, help="gthread threads (yiwang serve's default)"
    )
    p.add_argument(
        "--plain-gunicorn",
        action="store_true",
        help="start gunicorn directly instead of `yiwang serve` (no access log, no job runner)",
    )
    p.add_argument("--user", default="demo-clerk", help="staff account for /console/")
    p.add_argument("--password", default="yiwang-demo-2026")
    p.add_argument(
        "--create-staff",
        action="store_true",
        help="create --user as a bare staff account if the demo data has none",
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    args = p.parse_args(argv)
    if not 1 <= args.duration <= 120 or not 1 <= args.rounds <= 10:
        p.error("--duration must be 1..120 s and --rounds 1..10 (the load is bounded in time)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Turn SIGTERM into an exception so that the finally blocks stop gunicorn.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        wrk = require_wrk()
        runs = ["embedded", "city"] if args.city else ["embedded"]
        if args.city:  # fail now, not after the embedded run
            bench_env(data_dir=Path(tempfile.gettempdir()), city=True)
        figures = []
        for label in runs:
            print(f"== {label} topology", flush=True)
            figures.append(measure(label, args, wrk))
    except BenchError as exc:
        print(f"\nbench: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nbench: interrupted; gunicorn stopped", file=sys.stderr)
        return 130
    for fig in figures:
        summary(fig)
    print()
    line = last_line(figures[0])
    if len(figures) > 1:
        line += " " + last_line(figures[1], prefix="city_")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
