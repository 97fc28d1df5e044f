"""The departments' own stores for the demo ("data stays with its owner").

Each demo department that publishes a data resource keeps its records in its own database,
outside the platform's: one SQLite file per owner under ``settings.YIWANG_EXCHANGE_OWNERS_DIR``
(or a schema of another PostgreSQL database, for the benchmark). The platform reaches them only
through the exchange adapters, with a read-only SELECT by the subject's key.

=================  ==========================================================  ===============
file               tables (key column)                                         owner
=================  ==========================================================  ===============
gaj.sqlite3        population (id_number), vehicles (plate), violations        公安局
                   (plate), view vehicle_records (plate)
scjgj.sqlite3      enterprises (uscc)                                          市场监管局
zrzyghj.sqlite3    real_estate (id_number = 权利人, unit_no), divisions (code)  自然资源和规划局
rsj.sqlite3        social_insurance (id_number)                                人社局
gjjzx.sqlite3      provident_fund (id_number) and the monthly drop             公积金中心
                   gjjzx_monthly.csv (id_number)
swj.sqlite3        tax_paid (id_number), tax_clearance (uscc)                  税务局
=================  ==========================================================  ===============

Everything is generated from a seed (same seed, same rows) and is fictitious, apart from the
division codes (GB/T 2260) and the check-digit algorithms (GB 11643, GB 11714, GB 32100). The
demo people and enterprises of ``yiwang.accounts.demo`` and the parties of the 二手房 scenario
are always present, with the rows the scenarios need.

不动产单元号 follows the 28-character layout of GB/T 37346 (不动产单元编码规范): 6-digit
division, 3-digit 地籍区, 3-digit 地籍子区, 宗地特征码 (2 letters: ``G`` 国家所有 + ``B`` 建设用地
使用权), 5-digit 宗地顺序号, 定着物特征码 (``F`` 房屋) and 8-digit 定着物单元编号 (4-digit 幢 +
4-digit 户), as the demo certificate's ``341502001001GB00001F00030045``.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from yiwang.accounts.demo import (
    CITIZENS,
    ENTERPRISE_NAME,
    demo_uscc,
    resident_id_number,
)

BATCH = 50_000
# Dates are relative to a fixed day, not today, so that a seed always gives the same rows.
REFERENCE_DAY = dt.date(2026, 1, 1)
FIRST_BIRTH = dt.date(1935, 1, 1)
LAST_BIRTH = dt.date(2025, 12, 31)

# GB/T 2260 codes of 六安 (341521 寿县 left for 淮南 in 2015), the share of the population each
# holds (rough), and an approximate centroid (lon, lat): the demo invents no boundary geometry.
DIVISIONS: list[tuple[str, str, float, tuple[float, float]]] = [
    ("341502", "金安区", 0.18, (116.55, 31.75)),
    ("341503", "裕安区", 0.17, (116.30, 31.68)),
    ("341504", "叶集区", 0.04, (115.93, 31.85)),
    ("341522", "霍邱县", 0.24, (116.25, 32.28)),
    ("341523", "舒城县", 0.15, (116.95, 31.45)),
    ("341524", "金寨县", 0.13, (115.85, 31.60)),
    ("341525", "霍山县", 0.09, (116.30, 31.35)),
]
CITY = ("341500", "六安市", (116.50, 31.75))
BBOX_HALF = 0.25  # degrees: the demo's bounding box is centroid ± this

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"
    "文斌宇浩凯鹏欣怡梓涵子轩思雨俊辉建国红梅海燕志"
)
NATIONS = [("汉族", 985), ("回族", 10), ("满族", 2), ("壮族", 1), ("土家族", 1), ("苗族", 1)]
HUKOU = [("正常", 960), ("迁出", 30), ("死亡注销", 10)]
ROADS = [
    "人民路",
    "解放路",
    "梅山路",
    "皖西大道",
    "佛子岭路",
    "淠河路",
    "长安路",
    "龙河路",
    "紫竹林路",
    "振华路",
    "望城路",
    "迎宾大道",
]
PHONE_PREFIXES = ["38", "39", "35", "36", "37", "50", "51", "52", "58", "59", "80", "87", "88"]
UNITS = [
    "六安市人民医院",
    "六安职业技术学院",
    "安徽六安某制造有限公司（演示）",
    "六安市某商贸有限公司（演示）",
]
INDUSTRIES = ["软件和信息技术服务业", "批发和零售业", "制造业", "住宿和餐饮业", "建筑业", "农业"]
BRANDS = ["大众", "比亚迪", "吉利", "奇瑞", "江淮", "丰田", "本田", "长安"]
VIOLATIONS = [
    ("机动车违反禁令标志指示的", 3, 100),
    ("驾驶机动车不按规定使用灯光的", 1, 100),
    ("机动车违反规定停放、临时停车，驾驶人不在现场的", 0, 150),
    ("驾驶中型以上载客载货汽车、危险物品运输车辆以外的其他机动车超过规定时速10%未达20%的", 0, 100),
]
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, O (GA 36)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def _weighted(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True))


# --- the demo's fixed people and things -------------------------------------------------------

# The 二手房 scenario (yiwang.applications.tests.test_scenarios): 周卖房 sells the flat of
# 皖(2020)六安市不动产权第0000001号 (no seizure, no mortgage) to 孙买房 or to demo-citizen.
SELLER_NAME = "周卖房"
SELLER_ID_NUMBER = resident_id_number("341502", "19800101", "001")  # 341502198001010012
SELLER_CERTIFICATE_NO = "皖(2020)六安市不动产权第0000001号"
SELLER_ADDRESS = "六安市金安区佛子岭路1号"
SELLER_UNIT_NO = "341502001002GB00007F00010101"
BUYER_NAME = "孙买房"
BUYER_ID_NUMBER = resident_id_number("341503", "19900303", "044")
BUYER_PHONE = "13900004444"
# demo-citizen's flat and vehicle (the same as on the demo 不动产权证书 of yiwang.certificates.demo)
CITIZEN_UNIT_NO = "341502001001GB00001F00030045"
CITIZEN_ADDRESS = "六安市金安区梅山南路88号3幢2单元501室"
CITIZEN_PLATE = "皖ND0001"
# A seized flat, to show that a 查封 is visible to the consumers.
SEIZED_OWNER_ID_NUMBER = resident_id_number("341502", "19750505", "055")
SEIZED_UNIT_NO = "341502001003GB00011F00020202"


@dataclass(frozen=True)
class DemoPerson:
    id_number: str
    name: str
    region: str
    phone: str
    address: str
    extras: dict[str, Any] = field(default_factory=dict)


def demo_people() -> list[DemoPerson]:
    """Every person the demo scenarios look up: the demo accounts with an ID number, the seller
    and the buyer of the 二手房 scenario, and the owner of a seized flat."""
    county = {code: name for code, name, _share, _c in DIVISIONS}
    people = [
        DemoPerson(
            resident_id_number(c.region, c.birth, c.sequence),
            c.real_name,
            c.region,
            c.phone,
            f"六安市{county[c.region]}示范路{index}号（演示）",
        )
        for index, c in enumerate(CITIZENS, start=1)
    ]
    people += [
        DemoPerson(SELLER_ID_NUMBER, SELLER_NAME, "341502", "13900003333", SELLER_ADDRESS),
        DemoPerson(BUYER_ID_NUMBER, BUYER_NAME, "341503", BUYER_PHONE, "六安市裕安区长安路9号"),
        DemoPerson(
            SEIZED_OWNER_ID_NUMBER, "吴查封", "341502", "13900005555", "六安市金安区振华路5号"
        ),
    ]
    return people


def demo_enterprise_uscc() -> str:
    return demo_uscc()


# --- generation -------------------------------------------------------------------------------


@dataclass
class Rows:
    """One batch of rows per table."""

    population: list[tuple[Any, ...]] = field(default_factory=list)
    enterprises: list[tuple[Any, ...]] = field(default_factory=list)
    real_estate: list[tuple[Any, ...]] = field(default_factory=list)
    social_insurance: list[tuple[Any, ...]] = field(default_factory=list)
    provident_fund: list[tuple[Any, ...]] = field(default_factory=list)
    tax_paid: list[tuple[Any, ...]] = field(default_factory=list)
    tax_clearance: list[tuple[Any, ...]] = field(default_factory=list)
    vehicles: list[tuple[Any, ...]] = field(default_factory=list)
    violations: list[tuple[Any, ...]] = field(default_factory=list)


TABLES: dict[str, tuple[str, str, list[str], list[str]]] = {
    # table: (file stem, columns DDL, indexed columns, unique-indexed columns)
    "population": (
        "gaj",
        "id_number TEXT NOT NULL, name TEXT NOT NULL, sex TEXT NOT NULL, birth_date TEXT NOT NULL,"
        " nation TEXT NOT NULL, region_code TEXT NOT NULL, household_address TEXT NOT NULL,"
        " phone TEXT NOT NULL, hukou_status TEXT NOT NULL",
        [],
        ["id_number"],
    ),
    "vehicles": (
        "gaj",
        "plate TEXT NOT NULL, id_number TEXT NOT NULL, owner_name TEXT NOT NULL,"
        " vehicle_type TEXT NOT NULL, brand TEXT NOT NULL, registered_on TEXT NOT NULL,"
        " inspection_until TEXT NOT NULL, status TEXT NOT NULL",
        ["id_number"],
        ["plate"],
    ),
    "violations": (
        "gaj",
        "plate TEXT NOT NULL, occurred_at TEXT NOT NULL, location TEXT NOT NULL,"
        " act TEXT NOT NULL, points INTEGER NOT NULL, fine INTEGER NOT NULL, handled TEXT NOT NULL",
        ["plate"],
        [],
    ),
    "enterprises": (
        "scjgj",
        "uscc TEXT NOT NULL, name TEXT NOT NULL, legal_rep_name TEXT NOT NULL,"
        " legal_rep_id_number TEXT NOT NULL, registered_capital_wan INTEGER NOT NULL,"
        " industry TEXT NOT NULL, address TEXT NOT NULL, established_on TEXT NOT NULL,"
        " status TEXT NOT NULL",
        ["legal_rep_id_number"],
        ["uscc"],
    ),
    "real_estate": (
        "zrzyghj",
        "unit_no TEXT NOT NULL, id_number TEXT NOT NULL, owner_name TEXT NOT NULL,"
        " certificate_no TEXT NOT NULL, address TEXT NOT NULL, area_m2 REAL NOT NULL,"
        " use TEXT NOT NULL, right_type TEXT NOT NULL, registered_on TEXT NOT NULL,"
        " mortgaged INTEGER NOT NULL, mortgagee TEXT NOT NULL, seized INTEGER NOT NULL",
        ["id_number", "certificate_no"],
        ["unit_no"],
    ),
    "social_insurance": (
        "rsj",
        "id_number TEXT NOT NULL, name TEXT NOT NULL, insurance TEXT NOT NULL,"
        " unit_name TEXT NOT NULL, status TEXT NOT NULL, first_month TEXT NOT NULL,"
        " last_month TEXT NOT NULL, months_paid INTEGER NOT NULL, base_yuan INTEGER NOT NULL",
        [],
        ["id_number"],
    ),
    "provident_fund": (
        "gjjzx",
        "id_number TEXT NOT NULL, name TEXT NOT NULL, account_no TEXT NOT NULL,"
        " unit_name TEXT NOT NULL, status TEXT NOT NULL, balance_yuan REAL NOT NULL,"
        " monthly_yuan REAL NOT NULL, last_month TEXT NOT NULL",
        [],
        ["id_number"],
    ),
    "tax_paid": (
        "swj",
        "voucher_no TEXT NOT NULL, id_number TEXT NOT NULL, name TEXT NOT NULL,"
        " tax TEXT NOT NULL, unit_no TEXT NOT NULL, address TEXT NOT NULL,"
        " amount_yuan REAL NOT NULL, paid_on TEXT NOT NULL",
        ["id_number"],
        ["voucher_no"],
    ),
    "tax_clearance": (
        "swj",
        "uscc TEXT NOT NULL, name TEXT NOT NULL, certificate_no TEXT NOT NULL,"
        " issued_on TEXT NOT NULL, status TEXT NOT NULL",
        [],
        ["uscc"],
    ),
}
STORES = ["gaj", "scjgj", "zrzyghj", "rsj", "gjjzx", "swj"]
PROVIDENT_DROP = "gjjzx_monthly.csv"


def store_path(stem: str, out_dir: Path | str | None = None) -> Path:
    base = Path(out_dir if out_dir is not None else settings.YIWANG_EXCHANGE_OWNERS_DIR)
    return base / f"{stem}.sqlite3"


def sqlite_url(stem: str, out_dir: Path | str | None = None) -> str:
    """The adapter URL of an owner's store: ``sqlite:////abs/path.sqlite3``."""
    return "sqlite:///" + str(store_path(stem, out_dir).resolve())


class _Generator:
    """Deterministic rows. Population is drawn in batches; the other registers follow from
    each generated person, so that a 5-million-person city is one pass."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 (demo data, must be reproducible)
        days = (LAST_BIRTH - FIRST_BIRTH).days + 1
        self.days: list[tuple[str, str, int]] = []
        for offset in range(days):
            day = FIRST_BIRTH + dt.timedelta(days=offset)
            compact = day.strftime("%Y%m%d")
            self.days.append((compact, day.isoformat(), _weighted(compact, _ID_WEIGHTS[6:14])))
        self.regions = [
            (code, name, _weighted(code, _ID_WEIGHTS[:6])) for code, name, _s, _c in DIVISIONS
        ]
        self.region_weights = [share for _c, _n, share, _x in DIVISIONS]
        self.seqs = [(f"{n:03d}", _weighted(f"{n:03d}", _ID_WEIGHTS[14:])) for n in range(1000)]
        self.cells: dict[int, int] = {}
        self.counters = {"enterprise": 0, "unit": 0, "voucher": 0, "plate": 0, "fund": 0}

    def _next_seq(self, region: int, day: int, male: bool) -> int | None:
        # Generated people use sequences 100–999 (odd male, even female); below 100 is the
        # demo's, so a generated number never collides with a demo person's.
        key = (region * len(self.days) + day) * 2 + male
        count = self.cells.get(key, 0)
        seq = 100 + 2 * count + (1 if male else 0)
        if seq > 999:
            return None
        self.cells[key] = count + 1
        return seq

    def batch(self, n: int) -> Rows:
        rng = self.rng
        rows = Rows()
        regions = rng.choices(range(len(self.regions)), weights=self.region_weights, k=n)
        nations = rng.choices([x for x, _w in NATIONS], weights=[w for _x, w in NATIONS], k=n)
        hukou = rng.choices([x for x, _w in HUKOU], weights=[w for _x, w in HUKOU], k=n)
        ndays = len(self.days)
        for i in range(n):
            region = regions[i]
            male = rng.random() < 0.51
            seq = None
            while seq is None:
                day = rng.randrange(ndays)
                seq = self._next_seq(region, day, male)
            code, county, rsum = self.regions[region]
            compact, iso, dsum = self.days[day]
            seq_text, ssum = self.seqs[seq]
            id_number = code + compact + seq_text + _ID_CHECK[(rsum + dsum + ssum) % 11]
            name = (
                rng.choice(SURNAMES)
                + rng.choice(GIVEN)
                + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
            )
            road = rng.choice(ROADS)
            address = f"六安市{county}{road}{rng.randrange(1, 400)}号"
            phone = f"1{rng.choice(PHONE_PREFIXES)}{rng.randrange(10**8):08d}"
            rows.population.append(
                (
                    id_number,
                    name,
                    "男" if male else "女",
                    iso,
                    nations[i],
                    code,
                    address,
                    phone,
                    hukou[i],
                )
            )
            age = REFERENCE_DAY.year - int(compact[:4])
            if age < 18 or hukou[i] == "死亡注销":
                continue
            self._registers(rows, id_number, name, code, county, address, age)
        return rows

    def _registers(
        self, rows: Rows, id_number: str, name: str, code: str, county: str, address: str, age: int
    ) -> None:
        rng = self.rng
        draw = rng.random()
        if draw < 0.02:
            self._enterprise(rows, id_number, name, code, county)
        if rng.random() < 0.35:
            self._property(rows, id_number, name, code, county, seized=rng.random() < 0.005)
        if age <= 62 and rng.random() < 0.6:
            unit = rng.choice(UNITS)
            months = rng.randrange(1, min(age - 17, 40) * 12 + 1)
            first = _month_minus("2025-12", months - 1)
            status = "参保缴费" if rng.random() < 0.9 else "暂停缴费"
            last = (
                "2025-12" if status == "参保缴费" else _month_minus("2025-12", rng.randrange(1, 24))
            )
            rows.social_insurance.append(
                (
                    id_number,
                    name,
                    "企业职工基本养老保险",
                    unit,
                    status,
                    first,
                    last,
                    months,
                    rng.randrange(4000, 15000),
                )
            )
            if rng.random() < 0.5:
                self._fund(rows, id_number, name, unit, months)
        if rng.random() < 0.25:
            self._vehicle(rows, id_number, name)

    def _enterprise(self, rows: Rows, id_number: str, name: str, code: str, county: str) -> None:
        rng = self.rng
        self.counters["enterprise"] += 1
        org = f"MA{self.counters['enterprise']:06d}"
        uscc = enterprise_uscc(code, org)
        short = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        industry = rng.choice(INDUSTRIES)
        established = REFERENCE_DAY - dt.timedelta(days=rng.randrange(30, 20 * 365))
        rows.enterprises.append(
            (
                uscc,
                f"六安市{short}{industry[:2]}有限公司",
                name,
                id_number,
                rng.choice([10, 50, 100, 200, 500, 1000]),
                industry,
                f"六安市{county}{rng.choice(ROADS)}{rng.randrange(1, 400)}号",
                established.isoformat(),
                "存续",
            )
        )
        rows.tax_clearance.append(
            (
                uscc,
                rows.enterprises[-1][1],
                f"LA-QS-{self.counters['enterprise']:08d}",
                "",
                "未清税",
            )
            if rng.random() < 0.9
            else (
                uscc,
                rows.enterprises[-1][1],
                f"LA-QS-{self.counters['enterprise']:08d}",
                (REFERENCE_DAY - dt.timedelta(days=rng.randrange(1, 365))).isoformat(),
                "已清税",
            )
        )

    def _property(
        self, rows: Rows, id_number: str, name: str, code: str, county: str, *, seized: bool
    ) -> None:
        rng = self.rng
        self.counters["unit"] += 1
        n = self.counters["unit"]
        # 宗地 of ~200 households, 幢 of 50: a plausible, unique 28-character unit number.
        unit_no = (
            f"{code}{1 + n // 2_000_000 % 999:03d}{1 + n // 20_000 % 100:03d}"
            f"GB{n // 200 % 100_000:05d}F{n // 50 % 10_000:04d}{n % 10_000:04d}"
        )
        year = rng.randrange(2016, 2026)
        mortgaged = rng.random() < 0.3
        registered = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))
        address = (
            f"六安市{county}{rng.choice(ROADS)}{rng.randrange(1, 400)}号"
            f"{rng.randrange(1, 30)}幢{rng.randrange(101, 3302)}室"
        )
        rows.real_estate.append(
            (
                unit_no,
                id_number,
                name,
                f"皖({year})六安市不动产权第{100 + n:07d}号",
                address,
                round(rng.uniform(45, 180), 2),
                "住宅",
                "国有建设用地使用权/房屋所有权",
                registered.isoformat(),
                int(mortgaged),
                "中国建设银行六安分行" if mortgaged else "",
                int(seized),
            )
        )
        if rng.random() < 0.4:
            self.counters["voucher"] += 1
            rows.tax_paid.append(
                (
                    f"3415{year}{self.counters['voucher']:010d}",
                    id_number,
                    name,
                    "契税",
                    unit_no,
                    address,
                    round(rng.uniform(5000, 60000), 2),
                    (registered - dt.timedelta(days=rng.randrange(0, 10))).isoformat(),
                )
            )

    def _fund(self, rows: Rows, id_number: str, name: str, unit: str, months: int) -> None:
        rng = self.rng
        self.counters["fund"] += 1
        monthly = round(rng.uniform(300, 2400), 2)
        status = "正常缴存" if rng.random() < 0.85 else "封存"
        rows.provident_fund.append(
            (
                id_number,
                name,
                f"3415{self.counters['fund']:08d}",
                unit,
                status,
                round(monthly * min(months, 60) * rng.uniform(0.3, 1.0), 2),
                monthly,
                "2025-12"
                if status == "正常缴存"
                else _month_minus("2025-12", rng.randrange(1, 36)),
            )
        )

    def _vehicle(self, rows: Rows, id_number: str, name: str) -> None:
        rng = self.rng
        self.counters["plate"] += 1
        n = self.counters["plate"]
        # 皖N is 六安; the generated plates use a letter + 4 digits, the demo ones 'D' + digits.
        letters = PLATE_LETTERS.replace("D", "")
        plate = f"皖N{letters[n // 10_000 % len(letters)]}{n % 10_000:04d}" + (
            ""
            if n < 10_000 * len(letters)
            else letters[n // (10_000 * len(letters)) % len(letters)]
        )
        registered = REFERENCE_DAY - dt.timedelta(days=rng.randrange(30, 15 * 365))
        rows.vehicles.append(
            (
                plate,
                id_number,
                name,
                "小型普通客车",
                rng.choice(BRANDS),
                registered.isoformat(),
                (REFERENCE_DAY + dt.timedelta(days=rng.randrange(1, 730))).isoformat(),
                "正常",
            )
        )
        if rng.random() < 0.2:
            act, points, fine = rng.choice(VIOLATIONS)
            when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC) - dt.timedelta(
                days=rng.randrange(1, 700), minutes=rng.randrange(1440)
            )
            rows.violations.append(
                (
                    plate,
                    when.strftime("%Y-%m-%d %H:%M:%S"),
                    f"六安市{rng.choice(ROADS)}",
                    act,
                    points,
                    fine,
                    "未处理" if rng.random() < 0.3 else "已处理",
                )
            )


def _month_minus(month: str, n: int) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    total = year * 12 + mon - 1 - n
    return f"{total // 12:04d}-{total % 12 + 1:02d}"


def enterprise_uscc(division: str, org_body: str) -> str:
    """A USCC of an enterprise (9 1) with valid GB 11714 and GB 32100 check characters."""
    return demo_uscc(division, org_body)


def _demo_rows() -> Rows:
    """The demo's people and what the scenarios need of them."""
    rows = Rows()
    by_id = {p.id_number: p for p in demo_people()}
    for p in demo_people():
        birth = p.id_number[6:14]
        rows.population.append(
            (
                p.id_number,
                p.name,
                "男" if int(p.id_number[16]) % 2 else "女",
                f"{birth[:4]}-{birth[4:6]}-{birth[6:]}",
                "汉族",
                p.region,
                p.address,
                p.phone,
                "正常",
            )
        )
    citizen = resident_id_number(CITIZENS[0].region, CITIZENS[0].birth, CITIZENS[0].sequence)
    legal = resident_id_number(CITIZENS[2].region, CITIZENS[2].birth, CITIZENS[2].sequence)
    uscc = demo_uscc()
    rows.enterprises.append(
        (
            uscc,
            ENTERPRISE_NAME,
            by_id[legal].name,
            legal,
            500,
            "软件和信息技术服务业",
            "六安市金安区皖西大道1号（演示）",
            "2024-01-08",
            "存续",
        )
    )
    rows.tax_clearance.append((uscc, ENTERPRISE_NAME, "LA-QS-DEMO0001", "", "未清税"))

    def flat(
        unit_no: str,
        owner: str,
        cert: str,
        address: str,
        area: float,
        *,
        seized: bool,
        mortgaged: bool,
    ) -> None:
        rows.real_estate.append(
            (
                unit_no,
                owner,
                by_id[owner].name,
                cert,
                address,
                area,
                "住宅",
                "国有建设用地使用权/房屋所有权",
                f"{cert[2:6]}-06-18",
                int(mortgaged),
                "中国工商银行六安分行" if mortgaged else "",
                int(seized),
            )
        )

    flat(
        SELLER_UNIT_NO,
        SELLER_ID_NUMBER,
        SELLER_CERTIFICATE_NO,
        SELLER_ADDRESS,
        96.4,
        seized=False,
        mortgaged=False,
    )
    flat(
        CITIZEN_UNIT_NO,
        citizen,
        "皖(2021)六安市不动产权第0000002号",
        CITIZEN_ADDRESS,
        118.5,
        seized=False,
        mortgaged=True,
    )
    flat(
        SEIZED_UNIT_NO,
        SEIZED_OWNER_ID_NUMBER,
        "皖(2019)六安市不动产权第0000003号",
        "六安市金安区振华路5号2幢202室",
        88.0,
        seized=True,
        mortgaged=False,
    )
    rows.tax_paid.append(
        (
            "341520210000000001",
            citizen,
            by_id[citizen].name,
            "契税",
            CITIZEN_UNIT_NO,
            CITIZEN_ADDRESS,
            17775.0,
            "2021-06-15",
        )
    )
    for person, unit in (
        (citizen, ENTERPRISE_NAME),
        (legal, ENTERPRISE_NAME),
        (BUYER_ID_NUMBER, "六安市人民医院"),
    ):
        rows.social_insurance.append(
            (
                person,
                by_id[person].name,
                "企业职工基本养老保险",
                unit,
                "参保缴费",
                "2016-07",
                "2025-12",
                114,
                6800,
            )
        )
    rows.provident_fund.append(
        (
            citizen,
            by_id[citizen].name,
            "341500100088",
            ENTERPRISE_NAME,
            "正常缴存",
            48620.5,
            1088.0,
            "2025-12",
        )
    )
    rows.provident_fund.append(
        (
            BUYER_ID_NUMBER,
            BUYER_NAME,
            "341500100099",
            "六安市人民医院",
            "正常缴存",
            61200.0,
            1360.0,
            "2025-12",
        )
    )
    rows.vehicles.append(
        (
            CITIZEN_PLATE,
            citizen,
            by_id[citizen].name,
            "小型普通客车",
            "江淮",
            "2018-05-20",
            "2026-05-31",
            "正常",
        )
    )
    rows.violations.append(
        (
            CITIZEN_PLATE,
            "2025-10-12 08:31:00",
            "六安市梅山路与皖西大道交口",
            VIOLATIONS[1][0],
            1,
            100,
            "未处理",
        )
    )
    return rows


# --- writing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Generated:
    out_dir: Path
    counts: dict[str, int]
    seconds: float


def _insert_sql(table: str) -> str:
    columns = TABLES[table][1].count(" NOT NULL")
    return f"INSERT INTO {table} VALUES ({', '.join('?' * columns)})"  # noqa: S608 (our names)


def _division_rows() -> list[tuple[Any, ...]]:
    code, name, (lon, lat) = CITY
    rows: list[tuple[Any, ...]] = [
        (code, name, "地级市", "340000", lon, lat, lon - 0.9, lat - 0.8, lon + 0.9, lat + 0.8)
    ]
    for code, name, _share, (lon, lat) in DIVISIONS:
        level = "市辖区" if name.endswith("区") else "县"
        rows.append(
            (
                code,
                name,
                level,
                CITY[0],
                lon,
                lat,
                lon - BBOX_HALF,
                lat - BBOX_HALF,
                lon + BBOX_HALF,
                lat + BBOX_HALF,
            )
        )
    return rows


DIVISIONS_DDL = (
    "code TEXT NOT NULL, name TEXT NOT NULL, level TEXT NOT NULL, parent_code TEXT NOT NULL,"
    " centroid_lon REAL NOT NULL, centroid_lat REAL NOT NULL, bbox_min_lon REAL NOT NULL,"
    " bbox_min_lat REAL NOT NULL, bbox_max_lon REAL NOT NULL, bbox_max_lat REAL NOT NULL"
)


def owners_generate(
    out_dir: Path | str | None = None,
    *,
    population: int = 20_000,
    seed: int = 20260101,
    progress: Callable[[str], None] | None = None,
) -> Generated:
    """Write every owner's store under ``out_dir`` (default the settings' owners dir):
    ``population`` generated people plus the demo people, and what follows from them. Each file
    is built under a temporary name and renamed when complete, so that an adapter never reads a
    half-written store."""
    started = time.monotonic()
    out = Path(out_dir if out_dir is not None else settings.YIWANG_EXCHANGE_OWNERS_DIR)
    out.mkdir(parents=True, exist_ok=True)
    suffix = f".tmp-{os.getpid()}"
    connections: dict[str, sqlite3.Connection] = {}
    for stem in STORES:
        temp = out / f"{stem}.sqlite3{suffix}"
        temp.unlink(missing_ok=True)
        conn = sqlite3.connect(temp, isolation_level=None)
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-200000")
        conn.execute("BEGIN")
        connections[stem] = conn
    for table, (stem, ddl, _idx, _uniq) in TABLES.items():
        connections[stem].execute(f"CREATE TABLE {table} ({ddl})")
    counts = dict.fromkeys(TABLES, 0)

    def write(rows: Rows) -> None:
        for table, (stem, _ddl, _idx, _uniq) in TABLES.items():
            batch = getattr(rows, table)
            if batch:
                connections[stem].executemany(_insert_sql(table), batch)
                counts[table] += len(batch)

    write(_demo_rows())
    generator = _Generator(seed)
    done = 0
    while done < population:
        n = min(BATCH, population - done)
        write(generator.batch(n))
        done += n
        if progress is not None and done % 1_000_000 < BATCH:
            progress(f"{done:,} people, {time.monotonic() - started:.0f} s")

    zr = connections["zrzyghj"]
    zr.execute(f"CREATE TABLE divisions ({DIVISIONS_DDL})")
    divisions = _division_rows()
    zr.executemany(f"INSERT INTO divisions VALUES ({', '.join('?' * 10)})", divisions)  # noqa: S608
    counts["divisions"] = len(divisions)
    connections["gaj"].execute(
        "CREATE VIEW vehicle_records AS SELECT v.plate, v.id_number, v.owner_name,"
        " v.vehicle_type, v.brand, v.registered_on, v.inspection_until, v.status,"
        " w.occurred_at AS violation_at, w.location AS violation_location, w.act AS violation_act,"
        " w.points AS violation_points, w.fine AS violation_fine, w.handled AS violation_handled"
        " FROM vehicles v LEFT JOIN violations w ON w.plate = v.plate"
    )
    for table, (stem, _ddl, indexed, unique) in TABLES.items():
        for column in unique:
            connections[stem].execute(f"CREATE UNIQUE INDEX {table}_{column} ON {table} ({column})")
        for column in indexed:
            connections[stem].execute(f"CREATE INDEX {table}_{column} ON {table} ({column})")
    zr.execute("CREATE UNIQUE INDEX divisions_code ON divisions (code)")
    for stem, conn in connections.items():
        conn.execute("COMMIT")
        conn.close()
        os.replace(out / f"{stem}.sqlite3{suffix}", out / f"{stem}.sqlite3")
    _write_provident_drop(out)
    return Generated(out_dir=out, counts=counts, seconds=time.monotonic() - started)


def _write_provident_drop(out: Path) -> None:
    """The 公积金中心's monthly CSV drop (the ``file`` adapter's source): an export of its
    accounts, as its own system would deliver it."""
    temp = out / f"{PROVIDENT_DROP}.tmp-{os.getpid()}"
    conn = sqlite3.connect(store_path("gjjzx", out))
    try:
        cursor = conn.execute("SELECT * FROM provident_fund ORDER BY rowid")
        columns = [c[0] for c in cursor.description]
        with temp.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            while chunk := cursor.fetchmany(BATCH):
                writer.writerows(chunk)
    finally:
        conn.close()
    os.replace(temp, out / PROVIDENT_DROP)


def owners_present(out_dir: Path | str | None = None) -> bool:
    base = Path(out_dir if out_dir is not None else settings.YIWANG_EXCHANGE_OWNERS_DIR)
    return all(store_path(s, base).exists() for s in STORES) and (base / PROVIDENT_DROP).exists()


# --- PostgreSQL (the benchmark's owner store) -----------------------------------------------


def _pg_type(ddl_column: str) -> str:
    name, kind = ddl_column.split()[:2]
    return f"{name} {'double precision' if kind == 'REAL' else kind.lower()} NOT NULL"


def _population_rows(population: int, seed: int) -> Iterator[tuple[Any, ...]]:
    yield from _demo_rows().population
    generator = _Generator(seed)
    done = 0
    while done < population:
        n = min(BATCH, population - done)
        yield from generator.batch(n).population
        done += n


def owners_generate_postgres(
    url: str, *, schema: str = "owner_gaj", population: int = 20_000, seed: int = 20260101
) -> Generated:
    """The 公安局's population register in a schema of a PostgreSQL database (COPY), for the
    benchmark's 5 million records. Adapter config: ``{"url": url, "table":
    "<schema>.population", "key": "id_number"}``. The table is rebuilt from scratch."""
    import psycopg
    from psycopg import sql

    if not schema.isidentifier():
        raise ValueError(f"bad schema name: {schema!r}")
    started = time.monotonic()
    columns = ", ".join(_pg_type(c.strip()) for c in TABLES["population"][1].split(","))
    table = sql.Identifier(schema, "population")
    count = 0
    with psycopg.connect(url, autocommit=False) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
        conn.execute(sql.SQL("CREATE TABLE {} ({})").format(table, sql.SQL(columns)))
        with conn.cursor().copy(sql.SQL("COPY {} FROM STDIN").format(table)) as copy:
            for row in _population_rows(population, seed):
                copy.write_row(row)
                count += 1
        conn.execute(sql.SQL("CREATE UNIQUE INDEX ON {} (id_number)").format(table))
        conn.execute(sql.SQL("ANALYZE {}").format(table))
    return Generated(
        out_dir=Path(), counts={"population": count}, seconds=time.monotonic() - started
    )


def postgres_adapter_config(url: str, schema: str = "owner_gaj") -> dict[str, Any]:
    """The ``sql`` adapter config of the population register written by
    ``owners_generate_postgres``. The schema goes into the connection's search_path (libpq
    ``options``), so that ``table`` stays a plain identifier."""
    separator = "&" if "?" in url else "?"
    return {
        "url": f"{url}{separator}options=-csearch_path%3D{schema}",
        "table": "population",
        "key": "id_number",
    }
