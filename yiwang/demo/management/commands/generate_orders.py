"""`yiwang generate_orders --scale {small,town,city}`: fill the database with five years of 12345
work orders (2,000 / 50,000 / 500,000; ``--count N`` for an exact number).

Run after `yiwang demo` (it uses the demo's departments, handling staff and the hotline demo
configuration: category tree, dispatch catalogue, time limits). Writes orders with their
dispatch rounds (Assignment), replies, return visits and a short timeline (Event) with
bulk_create, one transaction per batch, deterministic for a given --seed. Refuses to run twice
unless --append.

Shaped on the seed's figures: channels mostly the phone; the leaves of the demo tree routed by
their dispatch rule (area rules included) over the seven county-level divisions of 六安市;
about 98% closed (a few merged duplicates and emergency transfers; open orders only in the last
weeks); handling time about 2.3 days on average; about 95% satisfied at the last return visit
(an unsatisfied citizen's order is reopened once, and goes to the supervisor when still
unsatisfied); some returned by the unit and re-dispatched; some escalated (督办) for a late reply.
Deadlines come from the category's time limits on the work calendar, as the dispatch service
computes them. Callers' phones are encrypted like real ones, from a pool of encrypted phones
(one encryption per pool entry, not per order: encryption would otherwise dominate the time).
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from yiwang.accounts.models import Department, Role, RoleAssignment, User
from yiwang.accounts.selectors import phone_blind_index
from yiwang.core import crypto
from yiwang.core.calendar import SHANGHAI, work_calendar_load
from yiwang.hotline import clock
from yiwang.hotline.location import COUNTIES
from yiwang.hotline.models import (
    Assignment,
    Category,
    DispatchRule,
    Event,
    Reply,
    ReturnVisit,
    Urgency,
    WorkOrder,
)

SCALES = {"small": 2_000, "town": 50_000, "city": 500_000}
YEARS = 5
# Generated orders are numbered "GD" + date + "9" + 7 digits of id: apart from real ones.
MARK = "gen-order"
Status = WorkOrder.Status

CHANNELS = [("phone", 72), ("mobile", 12), ("web", 7), ("api", 5), ("mailbox", 3), ("open311", 1)]
KINDS = [("complaint", 40), ("help", 25), ("consult", 20), ("report", 7), ("suggestion", 6),
         ("praise", 2)]  # fmt: skip
# Population-weighted counties (the city proper twice over the mountain counties).
DIVISION_WEIGHTS = {"341502": 20, "341503": 20, "341504": 5, "341522": 17, "341523": 14,
                    "341524": 10, "341525": 9}  # fmt: skip
# Leaves by how often citizens call about them (streetlights, wages and property above all).
LEAF_WEIGHTS = {"cxjs-szss-ld": 9, "cxjs-zf-wy": 10, "ldsb-gz-qx": 8, "cxjs-rqhj-lj": 7,
                "hjbh-wr-zs": 8, "jtys-dl-tc": 6, "cxjs-zf-gs": 6, "smly-xf-wq": 6}  # fmt: skip
# First return visit: 5 非常满意 … 1 非常不满意 (8% unsatisfied; 40% of those satisfied on the
# second visit after handling again: ~95% satisfied in the end).
FIRST_VISIT = [(5, 62), (4, 20), (3, 10), (2, 5), (1, 3)]
MONTH = [0.8, 0.7, 0.9, 1.0, 1.0, 1.2, 1.3, 1.3, 1.1, 0.9, 0.9, 0.9]  # summer: water, noise
HOURS = [(h, w) for h, w in enumerate([0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 4, 7, 8, 7,
                                         5, 5, 6, 7, 6, 5, 4, 4, 4, 3, 1.5, 0.8])]  # fmt: skip
ROADS = ["人民路", "梅山路", "皖西大道", "佛子岭路", "解放路", "长江路", "淠河路", "健康路",
         "紫竹林路", "大别山路"]  # fmt: skip
PROBLEMS = {
    "cxjs-szss-ld": ("路灯晚上不亮", "一排路灯坏了好几天", "路灯白天亮晚上不亮"),
    "cxjs-szss-dl": ("道路坑洼破损严重", "路面塌陷有安全隐患", "人行道砖松动破损"),
    "cxjs-szss-jg": ("窨井盖缺失", "井盖破损松动", "下水道井盖被车压坏"),
    "cxjs-szss-ps": ("下雨后积水严重", "排水管道堵塞", "下水道堵了污水外溢"),
    "cxjs-rqhj-lj": ("垃圾好几天没人清运", "垃圾桶满了臭味很大", "建筑垃圾乱堆"),
    "cxjs-rqhj-zd": ("流动摊贩占道经营", "商户占用人行道摆摊", "早市占道影响通行"),
    "cxjs-rqhj-wj": ("有人私搭乱建", "楼顶违法搭建", "小区绿地被占用搭建"),
    "cxjs-zf-wy": ("物业不作为电梯经常坏", "物业乱收费", "小区物业管理混乱"),
    "cxjs-zf-gs": ("小区停水没有通知", "自来水水压太低", "自来水发黄有异味"),
    "cxjs-zf-rq": ("天然气开通太慢", "燃气费收费有疑问", "燃气管道老化"),
    "jtys-gj-gjc": ("公交车等太久", "希望增设公交站台", "公交线路调整不合理"),
    "jtys-gj-czc": ("出租车拒载", "网约车绕路多收费", "出租车不打表"),
    "jtys-dl-xh": ("红绿灯时间太短", "信号灯坏了", "路口标线不清楚"),
    "jtys-dl-tc": ("车辆乱停堵住消防通道", "小区门口乱停车", "停车位被长期占用"),
    "hjbh-wr-zs": ("夜间施工噪音扰民", "广场舞噪声太大", "商铺音响噪音"),
    "hjbh-wr-dq": ("烧烤油烟扰民", "工地扬尘严重", "工厂排放臭味"),
    "hjbh-wr-sz": ("河道有人排污", "污水直排河里", "河水发黑发臭"),
    "ldsb-gz-qx": ("工地拖欠工资", "公司拖欠工资三个月", "讨薪无门"),
    "ldsb-gz-ht": ("公司不签劳动合同", "被无故辞退", "加班没有加班费"),
    "ldsb-sb-yl": ("养老金领取咨询", "社保断缴怎么补", "退休手续办理咨询"),
    "ldsb-sb-yb": ("医保报销比例咨询", "异地就医备案", "医保卡无法使用"),
    "jywt-jy-rx": ("孩子入学学区咨询", "招生政策咨询", "转学手续咨询"),
    "jywt-jy-sf": ("学校乱收费", "老师有偿补课", "培训机构退费难"),
    "wsjk-yl-fw": ("医院挂号难", "医生服务态度差", "医院排队时间太长"),
    "wsjk-yl-yp": ("药品价格太高", "药店药价不一致", "药价咨询"),
    "smly-xf-sp": ("超市卖过期食品", "餐馆食品变质", "外卖食品安全问题"),
    "smly-xf-wq": ("商家拒绝退款", "虚假宣传", "预付卡商家跑路"),
    "smly-ly-jq": ("景区门票价格", "景区服务差", "导游强制购物"),
    "mzsw-sh-db": ("低保申请咨询", "困难家庭救助", "低保资格审核"),
    "mzsw-sh-yl": ("养老院服务质量", "老人助餐点", "居家养老服务咨询"),
}
ASKS = ("希望尽快处理", "请相关部门解决", "麻烦尽快安排人处理", "希望给个答复")
REPLIES = {
    "resolved": "已安排人员现场处理，问题已解决，并已电话告知诉求人。",
    "explained": "已向诉求人解释相关政策和办理流程，诉求人表示理解。",
    "not_resolvable": "因涉及规划调整，暂不能解决，已纳入下一年度计划并向诉求人说明。",
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红梅鑫波斌宇浩凯"


class _Row(dict[str, Any]):
    """One row to insert, by attribute name (cheaper than a model instance)."""

    def __getattr__(self, name: str) -> Any:
        return self.get(name)

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value


class _Table:
    """A plain INSERT of rows given by attribute name; the fields' defaults fill the rest.
    Bypasses bulk_create's per-value preparation (the bulk of the time at 500k orders)."""

    def __init__(self, model: type[Model], *, now: datetime) -> None:
        self.fields = list(model._meta.concrete_fields)
        self.with_id = model is WorkOrder  # explicit ids (numbers); others autoincrement
        if not self.with_id:
            self.fields = [f for f in self.fields if not f.primary_key]
        sqlite = connection.vendor == "sqlite"
        self.defaults: list[Any] = []
        self.convert: list[Any] = []
        for f in self.fields:
            kind = f.get_internal_type()
            default: Any
            if kind == "DateTimeField":
                default = (
                    now
                    if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
                    else None
                )
                self.convert.append(_sqlite_datetime if sqlite else None)
            elif kind == "UUIDField":
                default = None
                self.convert.append((lambda v: v.hex) if sqlite else None)
            else:
                default = f.get_default() if f.has_default() else (None if f.null else "")
                # Choices enums go in as their plain value (a driver may dump an Enum by name).
                self.convert.append(
                    str if kind in ("CharField", "TextField", "SlugField") else None
                )
            self.defaults.append(default)
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column or f.attname) for f in self.fields)
        marks = ", ".join(["%s"] * len(self.fields))
        table = quote(model._meta.db_table)
        # Names from the model's own metadata, values as parameters: nothing user-given here.
        self.sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
        self.names = [f.attname for f in self.fields]

    def insert(self, rows: list[_Row]) -> None:
        plan = list(zip(self.names, self.defaults, self.convert, strict=True))
        values = []
        for row in rows:
            out = []
            for name, default, convert in plan:
                value = row.get(name, default)
                if value is not None and convert is not None:
                    value = convert(value)
                out.append(value)
            values.append(out)
        with connection.cursor() as cursor:
            cursor.executemany(self.sql, values)


def _sqlite_datetime(value: datetime) -> str:
    # As Django's SQLite backend stores an aware datetime: naive UTC, ISO with a space.
    return str(value.astimezone(UTC).replace(tzinfo=None))


def generated_orders_exist() -> bool:
    return WorkOrder.objects.filter(idempotency_key=MARK).exists()


class Command(BaseCommand):
    help = "Generate five years of 12345 work orders (small 2k, town 50k, city 500k)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=sorted(SCALES), default="small")
        parser.add_argument("--count", type=int, help="exact number of orders (overrides)")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--batch", type=int, default=5000)
        parser.add_argument("--phones", type=int, default=20_000, help="encrypted phone pool")
        parser.add_argument("--append", action="store_true", help="add to generated orders")

    def handle(self, *args: Any, **options: Any) -> None:
        total = options["count"] if options["count"] is not None else SCALES[options["scale"]]
        if total < 1:
            raise CommandError("--count must be at least 1")
        if generated_orders_exist() and not options["append"]:
            raise CommandError("generated orders already exist: use --append to add more")
        started = time.perf_counter()
        gen = _Generator(
            rng=random.Random(f"{options['seed']}:{WorkOrder.objects.count()}"),  # noqa: S311 (sample data)
            phones=max(10, options["phones"]),
        )
        done = 0
        while done < total:
            n = min(options["batch"], total - done)
            with transaction.atomic():
                gen.orders(n)
            done += n
            self.stdout.write(f"orders: {done}/{total}  ({time.perf_counter() - started:.1f}s)")
        _reset_sequences()
        self.stdout.write(
            self.style.SUCCESS(
                f"generated {total} work orders, {gen.rows} rows in all, "
                f"in {time.perf_counter() - started:.1f}s"
            )
        )


def _reset_sequences() -> None:
    """Explicit ids bypass PostgreSQL sequences: move them past the new rows."""
    sql = connection.ops.sequence_reset_sql(no_style(), [WorkOrder])
    if sql:
        with connection.cursor() as cursor:
            for statement in sql:
                cursor.execute(statement)


class _Generator:
    def __init__(self, *, rng: random.Random, phones: int) -> None:
        self.rng = rng
        leaves = list(
            Category.objects.filter(level=3, active=True).select_related("parent").order_by("code")
        )
        if not leaves:
            raise CommandError("no hotline categories: run `yiwang demo` first")
        self.leaves = leaves
        self.leaf_weights = [float(LEAF_WEIGHTS.get(c.code, 3)) for c in leaves]
        rules = list(
            DispatchRule.objects.select_related("lead_unit").prefetch_related("assisting_units")
        )
        # (leaf id, division) → (lead, assisting): the catalogue's most specific rule.
        self.rules: dict[tuple[int, str], tuple[Department, list[Department]]] = {}
        for leaf in leaves:
            chain = [leaf.pk, leaf.parent_id, leaf.parent.parent_id if leaf.parent else None]
            for county in COUNTIES:
                found = [
                    r for r in rules
                    if r.category_id in chain and county.code.startswith(r.division_prefix)
                ]  # fmt: skip
                if found:
                    found.sort(key=lambda r: (chain.index(r.category_id), -len(r.division_prefix)))
                    rule = found[0]
                    self.rules[(leaf.pk, county.code)] = (
                        rule.lead_unit,
                        list(rule.assisting_units.all()),
                    )
        if not self.rules:
            raise CommandError("no dispatch catalogue: run `yiwang demo` first")
        self.counties = list(COUNTIES)
        self.county_weights = [float(DIVISION_WEIGHTS.get(c.code, 5)) for c in self.counties]
        handlers: dict[int, User] = {}
        for assignment in RoleAssignment.objects.filter(
            role=Role.HANDLING_UNIT, department__isnull=False
        ).select_related("user"):
            handlers.setdefault(assignment.department_id or 0, assignment.user)
        staff = User.objects.filter(kind="staff", is_active=True).order_by("id").first()
        if staff is None:
            raise CommandError("no staff accounts: run `yiwang demo` first")
        self.handlers = handlers
        self.any_staff = staff
        self.calendar = work_calendar_load()
        self.limits = {
            (leaf.pk, urgency): clock.limits_for(leaf, urgency)
            for leaf in leaves
            for urgency in (Urgency.NORMAL, Urgency.URGENT)
        }
        self.now = timezone.now()
        today = self.now.astimezone(SHANGHAI).date()
        self.days = [today - timedelta(days=i) for i in range(YEARS * 365)]
        self.day_cum: list[float] = []
        acc = 0.0
        for d in self.days:
            growth = 1.0 + 0.15 * (YEARS - (today - d).days / 365)  # more calls every year
            acc += growth * MONTH[d.month - 1] * (0.75 if d.weekday() >= 5 else 1.0)
            self.day_cum.append(acc)
        # One encryption per pooled phone and name: the ciphertexts are reused (written as
        # they are: the rows go in by SQL, not through the field).
        self.phones: list[tuple[str, str]] = []
        for _i in range(phones):
            phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
            self.phones.append((crypto.encrypt(phone), phone_blind_index(phone)))
        self.names = [
            crypto.encrypt(rng.choice(SURNAMES) + rng.choice(("先生", "女士"))),
            *(
                crypto.encrypt(rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=2)))
                for _i in range(200)
            ),
        ]
        self.empty = ""
        self.tables = {
            model: _Table(model, now=self.now)
            for model in (WorkOrder, Assignment, Reply, ReturnVisit, Event)
        }
        self.last_routed: dict[int, _Row] = {}  # leaf → its latest routed order
        self.rows = 0

    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def _day(self) -> int:
        x = self.rng.random() * self.day_cum[-1]
        lo, hi = 0, len(self.day_cum) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self.day_cum[mid] < x:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def _moment(self) -> datetime:
        rng = self.rng
        day = self.days[self._day()]
        hour = rng.choices([h for h, _w in HOURS], weights=[w for _h, w in HOURS])[0]
        moment = datetime(
            day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60),
            tzinfo=SHANGHAI,
        )  # fmt: skip
        return min(moment, self.now - timedelta(minutes=30))

    def orders(self, n: int) -> None:
        rng = self.rng
        start = (WorkOrder.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        orders: list[_Row] = []
        assignments: list[_Row] = []
        replies: list[_Row] = []
        visits: list[_Row] = []
        events: list[_Row] = []
        channels, channel_w = zip(*CHANNELS, strict=True)
        kinds, kind_w = zip(*KINDS, strict=True)
        levels, level_w = zip(*FIRST_VISIT, strict=True)

        def event(pk: int, kind: str, at: datetime, unit: Department | None = None) -> None:
            events.append(
                _Row(
                    order_id=pk,
                    kind=kind,
                    unit_id=unit.pk if unit else None,
                    created_at=min(at, self.now),
                )
            )

        for k in range(n):
            pk = start + k
            leaf = rng.choices(self.leaves, weights=self.leaf_weights)[0]
            county = rng.choices(self.counties, weights=self.county_weights)[0]
            lead, assisting = self.rules.get((leaf.pk, county.code), (None, []))
            registered = self._moment()
            roll = rng.random()
            # A duplicate (1.5%) repeats the latest routed order of its matter, hours later.
            target = self.last_routed.get(leaf.pk) if 0.003 <= roll < 0.018 else None
            if target is not None:
                county = next(c for c in self.counties if c.code == target.division_code)
                registered = min(
                    target.registered_at + timedelta(hours=rng.uniform(1, 48)),
                    self.now - timedelta(minutes=30),
                )
            channel = rng.choices(channels, weights=channel_w)[0]
            urgent = rng.random() < 0.04
            urgency = Urgency.URGENT if urgent else Urgency.NORMAL
            town = rng.choice(county.towns)
            problem = rng.choice(PROBLEMS.get(leaf.code, (leaf.name,)))
            road = rng.choice(ROADS)
            content = f"{county.name}{town}{road}附近{problem}，{rng.choice(ASKS)}。"
            phone, phone_index = rng.choice(self.phones)
            order = _Row(
                id=pk,
                public_id=self._uuid(),
                number=f"GD{registered.astimezone(SHANGHAI):%Y%m%d}9{pk:07d}",
                channel=channel,
                kind=rng.choices(kinds, weights=kind_w)[0],
                title=f"{town}{problem}"[:100],
                content=content,
                caller_name=rng.choice(self.names) if rng.random() < 0.6 else self.empty,
                caller_phone=phone,
                caller_phone_index=phone_index,
                callback_requested=rng.random() < 0.7,
                division_code=county.code,
                address=f"{county.name}{town}{road}",
                lat=round(county.seat_lat + rng.uniform(-0.05, 0.05), 5),
                long=round(county.seat_long + rng.uniform(-0.05, 0.05), 5),
                category_id=leaf.pk,
                suggested_category_id=leaf.pk,
                suggested_confidence=round(rng.uniform(0.55, 0.99), 3),
                urgency=urgency,
                registered_at=registered,
                idempotency_key=MARK,
            )
            orders.append(order)
            event(pk, "registered", registered)
            # Emergencies: transferred at once (0.3%).
            if roll < 0.003:
                order.status = Status.TRANSFERRED
                order.emergency_number = rng.choice(("110", "119", "120"))
                order.outcome = WorkOrder.Outcome.TRANSFERRED
                order.urgency = Urgency.URGENT
                order.closed_at = registered + timedelta(minutes=rng.uniform(1, 5))
                event(pk, "transferred", order.closed_at)
                continue
            if target is not None:  # merged before dispatch: handled with its main order
                order.status = Status.MERGED
                order.merged_into_id = target.id
                order.outcome = target.outcome or ""
                order.closed_at = target.closed_at
                event(pk, "merged", registered + timedelta(minutes=10))
                continue
            if lead is None:  # a leaf outside the catalogue: the centre answers it
                order.status = Status.CLOSED
                order.replied_at = registered + timedelta(minutes=rng.uniform(3, 30))
                order.reply_on_time = True
                order.outcome = WorkOrder.Outcome.EXPLAINED
                order.closed_at = order.replied_at
                continue
            self.last_routed[leaf.pk] = order
            limits = self.limits[(leaf.pk, urgency)]
            # Most orders route themselves (a sure classifier); others wait for a dispatcher.
            dispatched = registered + timedelta(
                minutes=0 if rng.random() < 0.7 else rng.uniform(5, 90)
            )
            rounds = 1
            others = [u for u in self.handlers if u != lead.pk]
            if others and rng.random() < 0.03:
                # The first unit returned it within the return time; re-dispatched.
                assignments.append(
                    _Row(
                        order_id=pk, round=1, unit_id=rng.choice(others),
                        role=Assignment.Role.LEAD, status=Assignment.Status.RETURNED,
                        return_reason="不属于本单位职责，请重新派单。",
                        return_requested_at=dispatched + timedelta(hours=2),
                    )
                )  # fmt: skip
                event(pk, "dispatched", dispatched)
                event(pk, "return_requested", dispatched + timedelta(hours=2))
                dispatched += timedelta(hours=rng.uniform(2.5, 6))
                rounds = 2
            deadlines = clock.deadlines_from(self.calendar, dispatched, limits)
            order.status = Status.DISPATCHED
            order.lead_unit_id = lead.pk
            order.dispatch_count = rounds
            order.dispatched_at = dispatched
            order.sign_due = deadlines.sign_due
            order.handle_due = deadlines.handle_due
            order.return_due = deadlines.return_due
            order.warn_due = clock.warn_at(dispatched, deadlines.handle_due, limits.warn_ratio)
            event(pk, "dispatched", dispatched, lead)
            assignments.extend(
                _Row(
                    order_id=pk,
                    round=rounds,
                    unit_id=unit.pk,
                    role=Assignment.Role.LEAD if unit == lead else Assignment.Role.ASSIST,
                    status=Assignment.Status.PENDING,
                )
                for unit in [lead, *assisting]
            )
            current = assignments[-1 - len(assisting)]
            # 签收: within a few hours; 3% after the limit.
            sign_window = (deadlines.sign_due - dispatched).total_seconds()
            if rng.random() < 0.03:
                signed = deadlines.sign_due + timedelta(minutes=rng.uniform(5, 240))
            else:
                signed = dispatched + timedelta(
                    seconds=min(sign_window * 0.9, rng.gammavariate(1.5, 3600))
                )
            if signed > self.now:
                continue  # waiting to be signed
            order.status = Status.HANDLING
            order.signed_at = signed
            current.status = Assignment.Status.SIGNED
            current.signed_at = signed
            event(pk, "signed", signed, lead)
            # Handling time to the reply: ~2.3 days on average from registration, within the
            # limit but for 4% (late replies; half of those escalated first).
            handle_window = (deadlines.handle_due - signed).total_seconds()
            if rng.random() < 0.04:
                replied = deadlines.handle_due + timedelta(hours=rng.uniform(2, 72))
                if rng.random() < 0.5:
                    order.escalated_at = deadlines.handle_due
                    event(pk, "escalated", deadlines.handle_due, lead)
            else:
                spent = rng.gammavariate(2.0, 0.6 * 86400)  # mean 1.2 days after signing
                replied = signed + timedelta(seconds=min(spent, handle_window * 0.98))
            if replied > self.now:
                continue  # still handling
            outcome = rng.choices(["resolved", "explained", "not_resolvable"], weights=[78, 19, 3])[
                0
            ]
            author = self.handlers.get(lead.pk, self.any_staff)
            order.status = Status.REPLIED
            order.replied_at = replied
            order.reply_on_time = replied <= deadlines.handle_due
            order.outcome = outcome
            current.status = Assignment.Status.DONE
            current.done_at = replied
            replies.append(
                _Row(
                    order_id=pk, unit_id=lead.pk, author_id=author.pk, action="已现场核实并处理。",
                    text=REPLIES[outcome], outcome=outcome, created_at=replied,
                )
            )  # fmt: skip
            event(pk, "replied", replied, lead)
            # 回访 within a day; 10% unreachable (closed after the attempts).
            visited = replied + timedelta(hours=rng.uniform(1, 20))
            if visited > self.now:
                continue  # waiting for the return visit
            if rng.random() < 0.10:
                for attempt in range(2):
                    visits.append(
                        _Row(
                            order_id=pk, method=ReturnVisit.Method.PHONE,
                            result=ReturnVisit.Result.UNREACHABLE,
                            created_at=visited + timedelta(hours=4 * attempt),
                        )
                    )  # fmt: skip
                    event(pk, "visit_unreachable", visited + timedelta(hours=4 * attempt))
                order.status = Status.CLOSED
                order.closed_at = visited + timedelta(hours=4)
                event(pk, "closed", order.closed_at)
                continue
            level = rng.choices(levels, weights=level_w)[0]
            method = ReturnVisit.Method.SMS if rng.random() < 0.4 else ReturnVisit.Method.PHONE
            visits.append(
                _Row(
                    order_id=pk, method=method, result=ReturnVisit.Result.ANSWERED,
                    satisfaction=level, resolved=level >= 3,
                    comment="" if level >= 3 else "问题没有解决。", created_at=visited,
                )
            )  # fmt: skip
            event(pk, "visited", visited)
            order.satisfaction = level
            closed = visited
            if level <= 2:  # reopened once; the second answer decides
                order.reopen_count = 1
                again = visited + timedelta(days=rng.uniform(1, 4))
                if again > self.now:
                    order.status = Status.HANDLING
                    order.replied_at = None
                    continue
                second = 4 if rng.random() < 0.4 else rng.choice((1, 2))
                replies.append(
                    _Row(
                        order_id=pk, unit_id=lead.pk, author_id=author.pk,
                        action="再次上门核实处理。", text=REPLIES[outcome], outcome=outcome,
                        created_at=again,
                    )
                )  # fmt: skip
                visits.append(
                    _Row(
                        order_id=pk, method=ReturnVisit.Method.PHONE,
                        result=ReturnVisit.Result.ANSWERED, satisfaction=second,
                        resolved=second >= 3, comment="" if second >= 3 else "仍不满意。",
                        created_at=again + timedelta(hours=2),
                    )
                )  # fmt: skip
                order.replied_at = again
                order.satisfaction = second
                closed = again + timedelta(hours=rng.uniform(2, 24))
                if closed > self.now:  # the second visit is still to come
                    order.status = Status.REPLIED
                    order.satisfaction = level
                    visits.pop()
                    continue
                if second <= 2:
                    order.escalated_at = order.escalated_at or closed
                    closed += timedelta(days=rng.uniform(1, 5))  # the supervisor closes it
                    if closed > self.now:
                        order.status = Status.SUPERVISING
                        continue
            order.status = Status.CLOSED
            order.closed_at = closed
            event(pk, "closed", closed)
        for model, rows in (
            (WorkOrder, orders),
            (Assignment, assignments),
            (Reply, replies),
            (ReturnVisit, visits),
            (Event, events),
        ):
            self.tables[model].insert(rows)
        self.rows += len(orders) + len(assignments) + len(replies) + len(visits) + len(events)
