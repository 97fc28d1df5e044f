"""12345 hotline benchmark: intake through the API, the supervisors' figures, and the quality
figures of the classifier and reply-check benchmarks.

    .venv/bin/python bench/hotline.py                       # embedded (SQLite), 500,000 orders
    .venv/bin/python bench/hotline.py --scale small         # 2,000 orders: a quick check
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/8 \\
        .venv/bin/python bench/hotline.py --city            # PostgreSQL + Redis

What it does, in a throwaway data folder (bench/settings_bench.py, as bench/http_baseline.py;
with --city a scratch PostgreSQL database of its own, dropped at the end):

1. migrates, loads `yiwang demo`, then `yiwang generate_orders --count N` (five years of work
   orders; timed: ``generate_s``);
2. trains a classifier (yiwang.hotline.classifier) on --train-orders generated orders (title +
   content → leaf category code) and activates it with an auto-dispatch threshold of 0.6: the
   intake below classifies every order. Generated texts are templated, so this model is far
   surer than one trained on real messages: it measures the cost of classifying, not its
   quality (that is ``teddy_macro_f1``/``msga_macro_f1`` below);
3. figures (in-process, one Django process, warm after one call): yiwang.hotline.stats
   ``hotline_stats`` for the 12345 centre over the default period (the last 30 days) --stats-runs
   times (``stats_ms``: p50 wall time; ``stats_cpu_ms``: p50 CPU time of the benchmark process,
   which on SQLite includes the query and is what a busy shared machine does not distort; on
   PostgreSQL the server's share is not in it), over the last 365 days (``stats_year_ms``) and
   for the city-wide demo supervisor (``stats_supervisor_ms``);
4. starts `yiwang serve` (one gthread worker embedded, two with --city) on 127.0.0.1 and posts
   --intake orders as demo-citizen to POST /api/v1/hotline/orders on --concurrency connections
   (a streetlight, a noise complaint, … with a county and a town, no category: the classifier
   decides; the duplicate check looks at the open orders of the category; sure and unique ones
   are dispatched by the catalogue at once). ``intake_per_s`` = orders / wall time,
   ``intake_p50_ms``/``intake_p99_ms`` per request, ``dispatched_share`` = orders routed at
   once (the others wait for a dispatcher: a possible duplicate, or the classifier unsure);
5. imports bench/hotline_classifier.py and bench/hotline_replies.py when present and prints
   their figures (``teddy_macro_f1``, ``msga_macro_f1``, ``classify_ms``; the reply check's);
   --skip-quality leaves them out (they take about two minutes and need $YIWANG_SHARED_DATA);
6. stops the server; then, in one Django process (a snippet, warm after five intakes), posts
   --cpu-samples more orders as demo-citizen through django.test.Client, the same requests as
   step 4, one at a time: ``intake_cpu_ms`` is the median CPU time of that process per
   intake (the application's own work, which other load on the machine does not inflate as
   it does requests per second; on PostgreSQL the server's share is not in it) and
   ``intake_queries`` the median number of SQL statements per intake;
7. prints, on its LAST line:

    orders=… generate_s=… stats_ms=… stats_cpu_ms=… stats_year_ms=… stats_supervisor_ms=…
    intake_per_s=… intake_p50_ms=… intake_p99_ms=… dispatched_share=… intake_cpu_ms=…
    intake_queries=… [teddy_macro_f1=… msga_macro_f1=… classify_ms=… …] topology=…

Goals (hotline issue): intake_per_s >= 200 on 2 cores; stats_ms < 300 with 500,000 orders
(embedded and PostgreSQL). The script prints figures; it asserts none. Loads only the loopback
interface; every loop is bounded by a count.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import applications as ab  # the sibling benchmark: API session and parallel runner
import http_baseline as hb  # environment and server helpers

SCALES = {"small": 2_000, "town": 50_000, "city": 500_000}
PASSWORD = ab.PASSWORD

TRAIN = """
import json, random, sys, time
from pathlib import Path
from django.conf import settings
from yiwang.accounts.models import User
from yiwang.hotline.classifier import classifier_train
from yiwang.hotline.models import ClassifierModel, WorkOrder
from yiwang.hotline.services import classifier_activate
n = int(sys.argv[1])
ids = list(WorkOrder.objects.filter(category__isnull=False).values_list("id", flat=True))
picked = random.Random(5).sample(ids, min(n, len(ids)))
rows = WorkOrder.objects.filter(id__in=picked).values_list("title", "content", "category__code")
texts = [f"{t}\\n{c}" for t, c, _ in rows]
labels = [code for _t, _c, code in rows]
started = time.perf_counter()
clf = classifier_train(texts=texts, labels=labels, seed=0)
seconds = time.perf_counter() - started
path = Path(settings.DATA_DIR) / "classifiers" / "bench.joblib"
path.parent.mkdir(parents=True, exist_ok=True)
clf.save(path)
row = ClassifierModel.objects.create(
    name=f"bench-{time.time():.0f}",
    path=str(path),
    labels=sorted(set(labels)),
    auto_dispatch_threshold=0.6,
)
classifier_activate(model=row, actor=User.objects.get(username="demo-admin"))
print(json.dumps({"texts": len(texts), "classes": len(set(labels)), "train_s": seconds}))
"""

COUNT = """
from yiwang.hotline.models import WorkOrder
print(WorkOrder.objects.filter(idempotency_key="gen-order").count())
"""

STATS = """
import json, statistics, sys, time
from datetime import timedelta
from yiwang.accounts.models import User
from yiwang.hotline.stats import Period, city_today, hotline_stats
runs = int(sys.argv[1])
dispatcher = User.objects.get(username="demo-dispatcher")
supervisor = User.objects.get(username="demo-supervisor")
today = city_today()
year = Period(today - timedelta(days=364), today)
def p50(user, period):
    hotline_stats(user=user, period=period)  # warm: the process, the page cache
    times, cpu = [], []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        report = hotline_stats(user=user, period=period)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    return statistics.median(times), statistics.median(cpu), report
ms, cpu_ms, report = p50(dispatcher, None)
year_ms, _, year_report = p50(dispatcher, year)
sup_ms, _, _ = p50(supervisor, None)
t = report.total
print(json.dumps({
    "stats_ms": ms, "stats_cpu_ms": cpu_ms, "stats_year_ms": year_ms, "stats_supervisor_ms": sup_ms,
    "orders_30d": t.orders, "orders_365d": year_report.total.orders,
    "units": len(report.by_unit), "sign_rate": str(t.sign_rate), "reply_rate": str(t.reply_rate),
    "close_rate": str(year_report.total.close_rate),
    "satisfaction_rate": str(year_report.total.satisfaction_rate),
    "average_days": str(year_report.total.average_days),
    "repeat_rate": str(year_report.total.repeat_rate),
}))
"""

# Step 6: the CPU time and statements of one intake, in process.
CPU = """
import json, statistics, sys, time
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
bodies = [json.dumps(b) for b in json.loads(sys.argv[1])]
citizen = Client(HTTP_HOST="127.0.0.1")
citizen.force_login(get_user_model().objects.get(username="demo-citizen"))
def intake(body):
    r = citizen.post("/api/v1/hotline/orders", body, content_type="application/json")
    assert r.status_code == 201, r.content[:300]
for body in bodies[:5]:
    intake(body)
cpu, statements = [], []
for body in bodies[5:]:
    with CaptureQueriesContext(connection) as queries:
        started = time.process_time()
        intake(body)
        cpu.append((time.process_time() - started) * 1000)
    statements.append(len(queries.captured_queries))
print(json.dumps({"cpu_ms": statistics.median(cpu), "queries": statistics.median(statements)}))
"""

COUNTIES = [
    ("341502", "金安区", ["三里桥街道", "中市街道", "望城街道", "清水河街道", "东市街道"]),
    ("341503", "裕安区", ["小华山街道", "鼓楼街道", "西市街道", "城南镇", "苏埠镇"]),
    ("341504", "叶集区", ["史河街道", "平岗街道"]),
    ("341522", "霍邱县", ["城关镇", "新店镇", "石店镇"]),
    ("341523", "舒城县", ["城关镇", "杭埠镇", "千人桥镇"]),
    ("341524", "金寨县", ["梅山镇", "青山镇"]),
    ("341525", "霍山县", ["衡山镇", "佛子岭镇", "下符桥镇"]),
]
PLACES = ["阳光小区门口", "农贸市场东侧", "实验小学附近", "公交站台旁", "人民路与解放路交口",
          "步行街北段", "滨河公园南门", "新华书店对面", "第二中学后门"]  # fmt: skip
# (what, how it shows, since when): a citizen's words, varied so that orders about the same
# matter are not all near-copies (the duplicate check would hold them all for a dispatcher).
PROBLEMS = [
    ("路灯", ["晚上不亮", "一直闪烁", "白天亮晚上灭"], "行人走路看不见"),
    ("工地施工", ["夜里十二点还在打桩", "凌晨机器轰鸣", "周末噪音很大"], "严重影响休息"),
    ("垃圾", ["堆了好几天没人清运", "垃圾桶满了溢出来", "散发恶臭"], "夏天蚊蝇很多"),
    ("路面", ["下雨积水很深", "排水口堵死了", "一下雨就淹"], "车辆过不去"),
    ("小区电梯", ["经常困人", "坏了一个月没修", "运行时异响"], "老人上下楼困难"),
    ("私家车", ["乱停堵住消防通道", "占用盲道", "停在小区出口"], "救护车进不来"),
    ("老板", ["拖欠我们工资三个月", "结算工钱一直推脱", "欠薪不给"], "工人要回家过年"),
    ("烧烤摊", ["油烟直冲住户窗户", "烟熏得睁不开眼", "每天营业到凌晨"], "窗户都不能开"),
    ("网店商家", ["拒绝退款", "发错货不给换", "虚假宣传"], "多次沟通无果"),
    ("自来水", ["水压太低", "水发黄", "经常停水不通知"], "高层住户用不上水"),
]
ASKS = ["请尽快处理", "希望有关部门管一管", "麻烦派人来看看", "盼回复"]


def intake_bodies(n: int, *, salt: int = 0) -> list[dict[str, Any]]:
    """``n`` requests, deterministic: every county, town, place and wording in turn."""
    out = []
    for i in range(n):
        j = i + salt
        code, county, towns = COUNTIES[j % len(COUNTIES)]
        town = towns[(j // len(COUNTIES)) % len(towns)]
        what, hows, effect = PROBLEMS[(j * 3) % len(PROBLEMS)]
        how = hows[(j // len(PROBLEMS)) % len(hows)]
        place = PLACES[(j * 5) % len(PLACES)]
        ask = ASKS[j % len(ASKS)]
        out.append(
            {
                "content": f"{town}{place}的{what}{how}，{effect}，{ask}。",
                "division_code": code,
                "address": f"{county}{town}{place}",
            }
        )
    return out


@dataclass
class Figures:
    orders: int
    generate_s: float
    stats: dict[str, Any]
    intake: int
    intake_per_s: float
    intake_p50_ms: float
    intake_p99_ms: float
    dispatched_share: float
    intake_cpu_ms: float
    intake_queries: float
    train: dict[str, Any]
    topology: str
    quality: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def measure(args: argparse.Namespace, env: dict[str, str], data_dir: Path) -> Figures:
    generate_s = 0.0
    if args.reuse:
        hb.manage(env, "migrate", "--no-input")  # the code may have moved on since
        orders = int(hb.django_snippet(env, COUNT).splitlines()[-1])
        hb.step(f"reusing {data_dir}: {orders} orders (generate_s not measured)")
    else:
        hb.prepare(env, user="demo-dispatcher", password=PASSWORD, create_staff=False)
        orders = args.orders or SCALES[args.scale]
        hb.step(f"yiwang generate_orders --count {orders}")
        started = time.perf_counter()
        hb.manage(env, "generate_orders", "--count", str(orders), timeout=6 * 3600)
        generate_s = time.perf_counter() - started
    hb.step(f"train and activate a classifier on {args.train_orders} generated orders")
    train = json.loads(hb.django_snippet(env, TRAIN, str(args.train_orders)).splitlines()[-1])
    hb.step(f"figures: hotline_stats, p50 of {args.stats_runs} runs (in-process)")
    stats = json.loads(hb.django_snippet(env, STATS, str(args.stats_runs)).splitlines()[-1])
    notes: list[str] = []
    workers = args.server_workers or (2 if args.city else 1)
    hb.step(f"yiwang serve (gunicorn): {workers} gthread worker(s) x {args.server_threads} threads")
    with hb.gunicorn(
        env, data_dir=data_dir, threads=args.server_threads, plain=False, workers=workers
    ) as server:
        citizen = ab.Session(server, "demo-citizen")
        times: list[float] = []

        def submit(s: ab.Session, body: dict[str, Any]) -> bool:
            begun = time.perf_counter()
            status, out = s.post("/api/v1/hotline/orders", body)
            times.append((time.perf_counter() - begun) * 1000)
            ab.expect(status, out, 201, "POST /api/v1/hotline/orders")
            return out.get("status") not in (None, "registered")

        n, c = args.intake, args.concurrency
        ab.in_parallel(citizen, intake_bodies(min(n, c * 2), salt=7919), submit, c)  # warm-up
        times.clear()
        hb.step(f"{n} orders through POST /api/v1/hotline/orders on {c} connections")
        elapsed, routed = ab.in_parallel(citizen, intake_bodies(n), submit, c)
    hb.step(f"{args.cpu_samples} intakes in one process (CPU, statements)")
    bodies = intake_bodies(5 + args.cpu_samples, salt=104729)
    cpu = json.loads(hb.django_snippet(env, CPU, json.dumps(bodies)).splitlines()[-1])
    return Figures(
        orders=orders,
        generate_s=generate_s,
        stats=stats,
        intake=n,
        intake_per_s=n / elapsed,
        intake_p50_ms=ab.percentile(times, 50),
        intake_p99_ms=ab.percentile(times, 99),
        dispatched_share=sum(1 for r in routed if r) / n,
        intake_cpu_ms=cpu["cpu_ms"],
        intake_queries=cpu["queries"],
        train=train,
        topology=env.get("YIWANG_BENCH_TOPOLOGY", "embedded"),
        notes=notes,
    )


def quality_figures(notes: list[str]) -> dict[str, float]:
    """The classifier's and the reply check's own benchmarks, when they are there."""
    out: dict[str, float] = {}
    try:
        clf = importlib.import_module("hotline_classifier")
    except ImportError as exc:
        notes.append(f"bench/hotline_classifier.py not importable ({exc}): classifier skipped")
    else:
        data = clf.shared_data()
        try:
            hb.step("classifier quality (bench/hotline_classifier.py)")
            out["teddy_macro_f1"] = clf.teddy_cv_macro_f1(
                data / clf.TEDDY, taxonomy=data / clf.TEDDY_TAXONOMY, repeats=5
            )
            model = clf.msgabench_model(data / clf.MSGA)
            out["msga_macro_f1"] = clf.msgabench_macro_f1(data / clf.MSGA, model)
            test_texts, _ = clf.msga_data(data / clf.MSGA, "test")
            out["classify_ms"] = clf.classify_ms(model, test_texts[:300])
        except clf.BenchError as exc:
            notes.append(f"classifier figures skipped: {exc}")
    try:
        replies = importlib.import_module("hotline_replies")
    except ImportError as exc:
        notes.append(f"bench/hotline_replies.py not importable ({exc}): reply check skipped")
    else:
        try:
            hb.step("reply check and emergency figures (bench/hotline_replies.py)")
            out |= replies.hotline_reply_figures()
        except Exception as exc:
            notes.append(f"reply figures skipped: {exc}")
    return out


def last_line(f: Figures) -> str:
    s = f.stats
    parts = [
        f"orders={f.orders}",
        f"generate_s={f.generate_s:.1f}",
        f"stats_ms={s['stats_ms']:.1f}",
        f"stats_cpu_ms={s['stats_cpu_ms']:.1f}",
        f"stats_year_ms={s['stats_year_ms']:.1f}",
        f"stats_supervisor_ms={s['stats_supervisor_ms']:.1f}",
        f"intake_per_s={f.intake_per_s:.1f}",
        f"intake_p50_ms={f.intake_p50_ms:.1f}",
        f"intake_p99_ms={f.intake_p99_ms:.1f}",
        f"dispatched_share={f.dispatched_share:.2f}",
        f"intake_cpu_ms={f.intake_cpu_ms:.1f}",
        f"intake_queries={f.intake_queries:.1f}",
    ]
    for name, value in f.quality.items():
        digits = 4 if name.startswith("emergency") else (2 if name == "classify_ms" else 3)
        parts.append(f"{name}={value:.{digits}f}")
    parts.append(f"topology={f.topology}")
    return " ".join(parts)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--scale", choices=sorted(SCALES), default="city")
    p.add_argument("--orders", type=int, default=0, help="exact number of generated orders")
    p.add_argument("--city", action="store_true", help="PostgreSQL + Redis (see above)")
    p.add_argument("--intake", type=int, default=1000, help="orders posted through the API")
    p.add_argument("--concurrency", type=int, default=8, help="client connections at once")
    p.add_argument(
        "--cpu-samples", type=int, default=100, help="in-process intakes for the CPU figures"
    )
    p.add_argument("--train-orders", type=int, default=5000)
    p.add_argument("--stats-runs", type=int, default=7)
    p.add_argument("--server-threads", type=int, default=8, help="gthread threads")
    p.add_argument(
        "--server-workers",
        type=int,
        default=0,
        help="gunicorn worker processes (default as `yiwang serve`: 1 embedded, 2 with --city)",
    )
    p.add_argument("--skip-quality", action="store_true", help="leave out the quality figures")
    p.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    p.add_argument(
        "--reuse",
        type=Path,
        help="an embedded data folder prepared by an earlier --keep run: no migrate, demo or "
        "generation (generate_s=0); the intake adds its orders to it",
    )
    args = p.parse_args(argv)
    if min(args.intake, args.concurrency, args.stats_runs, args.cpu_samples) < 1 or args.orders < 0:
        p.error("--intake, --concurrency, --stats-runs and --cpu-samples must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.reuse and args.city:
        print("bench/hotline.py: --reuse is for the embedded topology only", file=sys.stderr)
        return 2
    data_dir = args.reuse or Path(tempfile.mkdtemp(prefix="yiwang-bench-hotline-"))
    try:
        env = hb.bench_env(data_dir=data_dir, city=args.city)
        with contextlib.ExitStack() as stack:
            if args.city:
                env["DATABASE_URL"] = stack.enter_context(hb.scratch_database(env["DATABASE_URL"]))
            fig = measure(args, env, data_dir)
    except hb.BenchError as exc:
        print(f"bench/hotline.py: {exc}", file=sys.stderr)
        return 2
    finally:
        if args.keep or args.reuse:
            print(f"data folder kept: {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    if not args.skip_quality:
        fig.quality = quality_figures(fig.notes)
    s = fig.stats
    print()
    print(f"{fig.orders} generated work orders in {fig.generate_s:.1f} s (0: reused)")
    print(
        f"classifier: {fig.train['texts']} texts, {fig.train['classes']} classes, "
        f"trained in {fig.train['train_s']:.1f} s"
    )
    print(
        f"figures: last 30 days ({s['orders_30d']} orders, {s['units']} units) "
        f"{s['stats_ms']:.1f} ms; last 365 days ({s['orders_365d']} orders) "
        f"{s['stats_year_ms']:.1f} ms; supervisor {s['stats_supervisor_ms']:.1f} ms"
    )
    print(
        f"generated year: 办结率 {s['close_rate']}%, 满意率 {s['satisfaction_rate']}%, "
        f"平均办理 {s['average_days']} 天, 重复诉求率 {s['repeat_rate']}%"
    )
    print(
        f"intake: {fig.intake} orders {fig.intake_per_s:.1f}/s, p50 {fig.intake_p50_ms:.1f} ms, "
        f"p99 {fig.intake_p99_ms:.1f} ms; dispatched at once {fig.dispatched_share:.0%}"
    )
    print(
        f"in one process: intake {fig.intake_cpu_ms:.1f} ms CPU, "
        f"{fig.intake_queries:.1f} statements"
    )
    for note in fig.notes:
        print(f"note: {note}")
    print(last_line(fig))
    return 0


if __name__ == "__main__":
    sys.exit(main())
