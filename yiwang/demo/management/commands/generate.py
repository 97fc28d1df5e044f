"""`yiwang generate --scale {small,town,city}`: fill the database with five years of applications.

Run after `yiwang demo` (it uses the demo's published items, departments and clerks). Writes
generated citizens (username ``gen-…``) and their applications, department tasks and timeline
events with bulk_create, one transaction per batch, deterministic for a given --seed. Refuses to
run twice unless --append. Numbers follow the real format (division + local date + 10-digit id)
with explicit ids, so the public progress query finds a generated application by number and the
last four digits of its phone. Due dates come from the item's promised limit on the work
calendar, as the acceptance computes them (without pauses).
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from yiwang.accounts.models import Department, User
from yiwang.accounts.selectors import phone_blind_index
from yiwang.applications.clock import Limit, limit_due
from yiwang.applications.models import Application, Event, Task
from yiwang.catalog.models import ItemVersion
from yiwang.core.calendar import work_calendar_load

SCALES = {"small": 2_000, "town": 50_000, "city": 1_000_000}
YEARS = 5
PREFIX = "gen-"
SHANGHAI = ZoneInfo("Asia/Shanghai")
UNUSABLE = make_password(None)

# Relative frequency by task-code fragment: everyday services far above permits.
FREQUENT = {
    "SBK": 60,
    "SBCX": 80,
    "GJJTQ": 70,
    "SFZ": 60,
    "YDJYBA": 40,
    "CXJMYB": 50,
    "JSZHZ": 30,
    "JTWF": 40,
    "YYGH": 50,
    "HKQR": 15,
    "CSDJ": 12,
    "JHDJ": 10,
    "LHDJ": 4,
    "YWJYRX": 25,
    "GLJT": 10,
    "BDCZY": 20,
    "WQBA": 15,
    "DYDJ": 12,
    "QSSB": 15,
    "FPLY": 20,
    "GTHSL": 12,
    "QYSLDJ": 8,
    "TXDY": 10,
    "SYBXJ": 8,
    "GJJDK": 8,
    "GSGH": 8,
    "GDGH": 8,
    "RQGH": 6,
    "WLGH": 6,
}
# By kind segment of the task code when not listed above.
KIND_WEIGHT = {"GG": 6, "JF": 4, "QR": 4, "CF": 3, "QT": 2, "XK": 0.8}

# (status, weight). Open statuses only occur for recent submissions.
STATUSES = [
    ("issued", 62),
    ("concluded", 17),
    ("refused", 4),
    ("rejected", 2),
    ("withdrawn", 3),
    ("in_review", 6),
    ("accepted", 2),
    ("submitted", 2),
    ("supplement_requested", 1),
    ("approved", 1),
]
OPEN = {"in_review", "accepted", "submitted", "supplement_requested", "approved"}
CHANNELS = [("online", 45), ("window", 35), ("api", 8), ("terminal", 12)]
MONTH = [0.6, 0.7, 1.2, 1.0, 1.0, 1.1, 1.2, 1.1, 1.3, 0.8, 1.0, 1.1]  # Spring Festival dip
WEEKDAY = [1.2, 1.0, 1.0, 1.0, 1.1, 0.15, 0.1]
WINDOW_HOURS = [(9, 5), (10, 6), (11, 4), (14, 3), (15, 5), (16, 4), (8, 2), (17, 1)]
ONLINE_HOURS = [(h, w) for h, w in enumerate([1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 2, 4, 6, 7, 6,
                                               4, 4, 5, 6, 5, 4, 3, 4, 5, 5, 3, 2])]  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红梅鑫波斌宇浩凯"


def _weight(task_code: str) -> float:
    parts = task_code.split("-")
    if parts[-1] in FREQUENT:
        return float(FREQUENT[parts[-1]])
    return KIND_WEIGHT.get(parts[-2] if len(parts) >= 2 else "", 1.0)


def generated_exists() -> bool:
    return User.objects.filter(username__startswith=PREFIX).exists()


class Command(BaseCommand):
    help = "Generate five years of applications (small 2k, town 50k, city 1M) after `yiwang demo`."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=sorted(SCALES), default="small")
        parser.add_argument("--count", type=int, help="exact number of applications (overrides)")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--batch", type=int, default=5000)
        parser.add_argument("--append", action="store_true", help="add to generated data")

    def handle(self, *args: Any, **options: Any) -> None:
        total = options["count"] if options["count"] is not None else SCALES[options["scale"]]
        if total < 1:
            raise CommandError("--count must be at least 1")
        if generated_exists() and not options["append"]:
            raise CommandError("generated data already exists: use --append to add more")
        versions = list(
            ItemVersion.objects.filter(
                status="published", item__department__isnull=False
            ).select_related("item", "item__department")
        )
        if not versions:
            raise CommandError("no published items: run `yiwang demo` first")
        clerks = list(User.objects.filter(kind="staff", is_active=True).order_by("id"))
        if not clerks:
            raise CommandError("no staff accounts: run `yiwang demo` first")
        started = time.perf_counter()
        gen = _Generator(
            rng=random.Random(f"{options['seed']}:{User.objects.count()}"),  # noqa: S311 (sample data)
            versions=versions,
            clerks=clerks,
        )
        users = gen.citizens(max(10, total // 4), batch=options["batch"])
        self.stdout.write(f"citizens: {len(users)}  ({time.perf_counter() - started:.1f}s)")
        done = 0
        while done < total:
            n = min(options["batch"], total - done)
            with transaction.atomic():
                gen.applications(n, users)
            done += n
            elapsed = time.perf_counter() - started
            self.stdout.write(f"applications: {done}/{total}  ({elapsed:.1f}s)")
        _reset_sequences()
        self.stdout.write(
            self.style.SUCCESS(
                f"generated {total} applications, {gen.tasks} tasks, {gen.events} events "
                f"in {time.perf_counter() - started:.1f}s"
            )
        )


def _reset_sequences() -> None:
    """Explicit ids bypass PostgreSQL sequences: move them past the new rows."""
    sql = connection.ops.sequence_reset_sql(no_style(), [User, Application, Task, Event])
    if sql:
        with connection.cursor() as cursor:
            for statement in sql:
                cursor.execute(statement)


class _Generator:
    def __init__(self, *, rng: random.Random, versions: list[ItemVersion], clerks: list[User]):
        self.rng = rng
        self.versions = versions
        self.version_weights = [_weight(v.item.task_code) for v in versions]
        self.clerks_by_department: dict[int, list[User]] = {}
        for clerk in clerks:
            if clerk.department_id is not None:
                self.clerks_by_department.setdefault(clerk.department_id, []).append(clerk)
        self.any_clerk = clerks[0]
        self.division = str(getattr(settings, "YIWANG_CITY_DIVISION_CODE", "341500"))
        self.calendar = work_calendar_load()
        self.now = timezone.now()
        today = self.now.astimezone(SHANGHAI).date()
        self.days = [today - timedelta(days=i) for i in range(YEARS * 365)]
        self.day_cum: list[float] = []
        acc = 0.0
        for d in self.days:
            growth = 1.0 + 0.12 * (YEARS - (today - d).days / 365)  # 12% more each year
            acc += growth * MONTH[d.month - 1] * WEEKDAY[d.weekday()]
            self.day_cum.append(acc)
        self.recent = [i for i, d in enumerate(self.days) if (today - d).days < 30]
        self.tasks = 0
        self.events = 0

    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def citizens(self, n: int, *, batch: int) -> list[tuple[int, str]]:
        start = (User.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        offset = User.objects.filter(username__startswith=PREFIX).count()
        out: list[tuple[int, str]] = []
        for first in range(0, n, batch):
            rows = []
            for i in range(first, min(n, first + batch)):
                phone = f"1{self.rng.choice('3456789')}{self.rng.randrange(10**9):09d}"
                name = self.rng.choice(SURNAMES) + "".join(
                    self.rng.choices(GIVEN, k=self.rng.choice((1, 2)))
                )
                rows.append(
                    User(
                        id=start + i,
                        public_id=self._uuid(),
                        username=f"{PREFIX}{offset + i:07d}",
                        password=UNUSABLE,  # generated citizens cannot sign in
                        kind=User.Kind.CITIZEN,
                        real_name=name,
                        phone=phone,
                        phone_index=phone_blind_index(phone),
                        is_active=True,
                    )
                )
                out.append((start + i, phone))
            with transaction.atomic():
                User.objects.bulk_create(rows)
        return out

    def _due(self, version: ItemVersion, accepted: datetime) -> date | None:
        deadline = limit_due(
            self.calendar, accepted, Limit(version.promise_limit, version.promise_unit)
        )
        if deadline is None:
            return None
        due = deadline.due
        return due.astimezone(SHANGHAI).date() if isinstance(due, datetime) else due

    def _moment(self, version: ItemVersion, channel: str, status: str) -> datetime:
        rng = self.rng
        if status in OPEN:
            day = self.days[rng.choice(self.recent)]
        else:
            x = rng.random() * self.day_cum[-1]
            lo, hi = 0, len(self.day_cum) - 1
            while lo < hi:
                mid = (lo + hi) // 2
                if self.day_cum[mid] < x:
                    lo = mid + 1
                else:
                    hi = mid
            day = self.days[lo]
        hours = WINDOW_HOURS if channel in ("window", "terminal") else ONLINE_HOURS
        hour = rng.choices([h for h, _w in hours], weights=[w for _h, w in hours])[0]
        moment = datetime(
            day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60),
            tzinfo=SHANGHAI,
        )  # fmt: skip
        return min(moment, self.now - timedelta(minutes=5))

    def applications(self, n: int, users: list[tuple[int, str]]) -> None:
        rng = self.rng
        start = (Application.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        apps: list[Application] = []
        tasks: list[Task] = []
        events: list[Event] = []
        statuses, sweights = zip(*STATUSES, strict=True)
        channels, cweights = zip(*CHANNELS, strict=True)
        for k in range(n):
            pk = start + k
            version = rng.choices(self.versions, weights=self.version_weights)[0]
            item = version.item
            department = item.department
            if department is None:  # filtered out in handle()
                raise CommandError(f"{item.task_code} has no department")
            status = rng.choices(statuses, weights=sweights)[0]
            channel = rng.choices(channels, weights=cweights)[0]
            applicant_id, phone = rng.choice(users)
            clerks = self.clerks_by_department.get(department.pk) or [self.any_clerk]
            clerk = rng.choice(clerks)
            submitted = self._moment(version, channel, status)
            limit = version.promise_limit or 0
            steps = max(1, limit)
            accepted = submitted + timedelta(hours=rng.uniform(0.1, 20))
            decided = accepted + timedelta(days=rng.uniform(0.2, steps * 1.2))
            concluded = decided + timedelta(hours=rng.uniform(0.1, 4))
            issued = concluded + timedelta(days=rng.uniform(0, 3))
            overdue = status == "in_review" and rng.random() < 0.15
            if overdue:
                submitted = submitted - timedelta(days=steps * 2 + 7)
                accepted = submitted + timedelta(hours=2)
            due = self._due(version, accepted)
            local_date = submitted.astimezone(SHANGHAI)
            app = Application(
                id=pk,
                public_id=self._uuid(),
                number=f"{self.division}{local_date:%Y%m%d}{pk:010d}",
                item=item,
                version=version,
                department=department,
                applicant_id=applicant_id,
                submitted_by_id=clerk.pk if channel == "window" else applicant_id,
                channel=channel,
                status=status,
                contact_phone=phone,
                contact_phone_index=phone_blind_index(phone),
                contact_phone_last4=phone[-4:],
                submitted_at=submitted,
                form_data={"generated": True},
            )
            ev: list[tuple[str, datetime, User | None, Department | None]] = [
                ("submitted", submitted, None, None)
            ]
            if status in ("refused",):
                app.refusal_reasons = ["材料不齐全且无法补正"]
                ev.append(("refused", accepted, clerk, department))
            elif status == "withdrawn":
                app.withdrawn_at = accepted
                ev.append(("withdrawn", accepted, None, None))
            elif status == "supplement_requested":
                app.supplement_items = ["请补充身份证明材料"]
                ev.append(("supplement_requested", accepted, clerk, department))
            elif status != "submitted":
                app.accepted_at = accepted
                app.accepted_by = clerk
                app.due_date = due
                ev.append(("accepted", accepted, clerk, department))
            if app.accepted_at is not None and status != "accepted":
                done = status != "in_review"
                outcome = "refuse" if status == "rejected" else "approve"
                tasks.append(
                    Task(
                        public_id=self._uuid(),
                        application_id=pk,
                        spiff_task_id=self._uuid(),
                        bpmn_id="review",
                        name="审核",
                        department=department,
                        role="approver",
                        status="done" if done else "open",
                        completed_at=decided if done else None,
                        outcome=outcome if done else "",
                        opinion=("同意。" if outcome == "approve" else "不符合条件。")
                        if done
                        else "",
                        time_limit_days=limit or None,
                        due_date=due,
                    )
                )
                ev.append(("task_opened", accepted + timedelta(seconds=1), None, department))
                if done:
                    app.decided_at = decided
                    app.decision = "approved" if outcome == "approve" else "rejected"
                    ev.append((f"task_{outcome}d", decided, clerk, department))
                    ev.append((app.decision, decided, None, None))
            if status in ("concluded", "issued"):
                app.concluded_at = concluded
                ev.append(("concluded", concluded, clerk, department))
            if status == "issued":
                app.issued_at = issued
                app.delivery_method = rng.choice(("window", "electronic", "electronic", "post"))
                if app.delivery_method == "post":
                    app.tracking_number = f"SF{rng.randrange(10**12):012d}"
                ev.append(("issued", issued, clerk, department))
            apps.append(app)
            for kind, at, actor, dept in ev:
                events.append(
                    Event(
                        application_id=pk,
                        kind=kind,
                        created_at=min(at, self.now),
                        actor=actor,
                        actor_label=actor.real_name or actor.username if actor else "",
                        department=dept,
                    )
                )
        Application.objects.bulk_create(apps)
        Task.objects.bulk_create(tasks)
        Event.objects.bulk_create(events)
        self.tasks += len(tasks)
        self.events += len(events)
