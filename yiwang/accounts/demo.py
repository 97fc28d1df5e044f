"""Lu'an demo data for accounts: the organisation tree, one demo user for every role, demo
citizens with valid (fictitious) ID numbers, a demo enterprise with a valid USCC and a demo
delegation. Idempotent: a second run finds everything and changes nothing.

Every row goes through the services (so the demo leaves the same audit trail as real use),
except the first administrator, who has nobody to create them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from stdnum.cn import ric
from stdnum.cn import uscc as stdnum_uscc

from yiwang.accounts import services
from yiwang.accounts.models import Delegation, Department, Enterprise, Role, RoleAssignment, User
from yiwang.core.audit import audit_record

CITY_CODE = "la-gov"

# (code, full name, short name, kind) of the city's departments, in display order.
CITY_DEPARTMENTS: list[tuple[str, str, str, str]] = [
    ("la-sjzyj", "六安市数据资源管理局", "市数据资源局", "bureau"),
    ("la-scjgj", "六安市市场监督管理局", "市场监管局", "bureau"),
    ("la-swj", "国家税务总局六安市税务局", "税务局", "bureau"),
    ("la-rsj", "六安市人力资源和社会保障局", "人社局", "bureau"),
    ("la-zjj", "六安市住房和城乡建设局", "住建局", "bureau"),
    ("la-zrzyghj", "六安市自然资源和规划局", "自然资源和规划局", "bureau"),
    ("la-gjjzx", "六安市住房公积金管理中心", "住房公积金管理中心", "center"),
    ("la-cgj", "六安市城市管理局", "城管局", "bureau"),
    ("la-gaj", "六安市公安局", "公安局", "bureau"),
    ("la-wjw", "六安市卫生健康委员会", "卫健委", "bureau"),
    ("la-jtj", "六安市教育体育局", "教体局", "bureau"),
    ("la-mzj", "六安市民政局", "民政局", "bureau"),
    ("la-jtysj", "六安市交通运输局", "交通运输局", "bureau"),
    ("la-sthjj", "六安市生态环境局", "生态环境局", "bureau"),
    ("la-shangwj", "六安市商务局", "商务局", "bureau"),
    ("la-wlj", "六安市文化和旅游局", "文旅局", "bureau"),
    ("la-ybj", "六安市医疗保障局", "医保局", "bureau"),
    # Vertically managed like 税务局; its unit in the hall's 企业开办专区 takes the bank account
    # item (the 开户银行 open the account as its 受委托组织), so 企业开办 has six department tasks.
    ("la-rmyh", "中国人民银行六安市分行", "人民银行六安市分行", "bureau"),
]

# GB/T 2260 (341521 寿县 moved to 淮南市 in 2015 and is not here).
DISTRICTS: list[tuple[str, str, str, str]] = [
    ("la-jaq", "六安市金安区人民政府", "金安区", "341502"),
    ("la-yaq", "六安市裕安区人民政府", "裕安区", "341503"),
    ("la-yjq", "六安市叶集区人民政府", "叶集区", "341504"),
    ("la-hqx", "霍邱县人民政府", "霍邱县", "341522"),
    ("la-scx", "舒城县人民政府", "舒城县", "341523"),
    ("la-jzx", "金寨县人民政府", "金寨县", "341524"),
    ("la-hsx", "霍山县人民政府", "霍山县", "341525"),
]

# (code, name, short name, kind, parent code) under 金安区, for the community worker.
STREETS: list[tuple[str, str, str, str, str]] = [
    ("la-jaq-zsjd", "金安区中市街道办事处", "中市街道", "street", "la-jaq"),
    ("la-jaq-dsjd", "金安区东市街道办事处", "东市街道", "street", "la-jaq"),
    (
        "la-jaq-zsjd-sfsq",
        "中市街道示范社区居民委员会（演示）",
        "示范社区",
        "community",
        "la-jaq-zsjd",
    ),
]


@dataclass(frozen=True)
class DemoStaff:
    username: str
    real_name: str
    department: str  # code
    role: str
    include_subtree: bool = False
    scope: str | None = None  # the role's department (code) when not ``department`` itself


STAFF: list[DemoStaff] = [
    # a clerk of the hall (run by 数据资源局) at the comprehensive window (综合受理): accepts and
    # issues the items of every department
    DemoStaff(
        "demo-clerk", "陈受理", "la-sjzyj", Role.WINDOW_CLERK, include_subtree=True, scope=CITY_CODE
    ),
    DemoStaff("demo-approver", "周审批", "la-scjgj", Role.APPROVER),
    DemoStaff("demo-dispatcher", "吴派单", "la-sjzyj", Role.DISPATCHER),
    DemoStaff("demo-handler", "郑承办", "la-cgj", Role.HANDLING_UNIT),
    DemoStaff("demo-supervisor", "王督办", CITY_CODE, Role.SUPERVISOR, include_subtree=True),
    DemoStaff("demo-grid", "冯网格", "la-jaq-zsjd-sfsq", Role.COMMUNITY_WORKER),
    DemoStaff("demo-data", "蒋数据", "la-sjzyj", Role.DATA_OFFICER),
    DemoStaff("demo-catalog", "沈事项", CITY_CODE, Role.CATALOG_ADMIN, include_subtree=True),
    # a second catalog administrator: versions are published by someone other than their editor
    DemoStaff("demo-reviewer", "何审核", CITY_CODE, Role.CATALOG_ADMIN, include_subtree=True),
    DemoStaff("demo-auditor", "韩审计", CITY_CODE, Role.AUDITOR),
]


@dataclass(frozen=True)
class DemoCitizen:
    username: str
    real_name: str
    region: str
    birth: str  # YYYYMMDD: obviously fictitious
    sequence: str  # odd = male, even = female
    phone: str
    label: str


CITIZENS: list[DemoCitizen] = [
    DemoCitizen("demo-citizen", "李小明", "341502", "19880808", "011", "13800000001", "群众"),
    DemoCitizen(
        "demo-elder", "李秀英", "341522", "19420202", "022", "13800000002", "老年群众（委托代办）"
    ),
    DemoCitizen(
        "demo-legal", "赵企业", "341503", "19700707", "033", "13800000003", "企业法定代表人"
    ),
]

ENTERPRISE_NAME = "六安市示范科技有限公司（演示）"
ENTERPRISE_ORG_BODY = "MA2T0001"  # 组织机构代码 body; its GB 11714 check digit is computed


def resident_id_number(region: str, birth: str, sequence: str) -> str:
    """A resident ID number with its GB 11643 check digit."""
    body = region + birth + sequence
    return body + ric.calc_check_digit(body + "0")  # stdnum ignores the last character


def _org_code_check(body: str) -> str:
    """GB 11714 check character of an 8-character organisation code body."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    values = [int(c) if c.isdigit() else ord(c) - ord("A") + 10 for c in body]
    check = 11 - sum(v * w for v, w in zip(values, weights, strict=True)) % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def demo_uscc(division: str = "341502", org_body: str = ENTERPRISE_ORG_BODY) -> str:
    """A USCC of an enterprise (9 1) registered in ``division`` with valid check characters."""
    body = "91" + division + org_body + _org_code_check(org_body)
    return body + stdnum_uscc.calc_check_digit(body)


def _admin(password: str) -> User:
    admin = User.objects.filter(username="demo-admin").first()
    if admin is not None:
        return admin
    with transaction.atomic():
        admin = User.objects.create_superuser(
            username="demo-admin",
            password=password,
            kind=User.Kind.STAFF,
            real_name="系统管理员",
            is_staff=True,
        )
        audit_record(
            actor=None,
            action="accounts.demo_admin_create",
            obj=admin,
            after=services.user_snapshot(admin),
        )
    return admin


def _departments(admin: User) -> dict[str, Department]:
    existing = {d.code: d for d in Department.objects.all()}

    def ensure(code: str, **fields: object) -> None:
        if code not in existing:
            existing[code] = services.department_create(actor=admin, code=code, **fields)  # type: ignore[arg-type]

    ensure(
        CITY_CODE,
        name="六安市人民政府",
        short_name="市政府",
        kind="government",
        division_code="341500",
    )
    for order, (code, name, short, kind) in enumerate(CITY_DEPARTMENTS, start=1):
        ensure(
            code,
            name=name,
            short_name=short,
            kind=kind,
            division_code="341500",
            parent=existing[CITY_CODE],
            sort_order=order,
        )
    for order, (code, name, short, division) in enumerate(DISTRICTS, start=100):
        ensure(
            code,
            name=name,
            short_name=short,
            kind="government",
            division_code=division,
            parent=existing[CITY_CODE],
            sort_order=order,
        )
    for order, (code, name, short, kind, parent) in enumerate(STREETS, start=1):
        ensure(
            code,
            name=name,
            short_name=short,
            kind=kind,
            division_code="341502",
            parent=existing[parent],
            sort_order=order,
        )
    return existing


def _staff(admin: User, departments: dict[str, Department], password: str) -> None:
    for spec in STAFF:
        department = departments[spec.department]
        user = User.objects.filter(username=spec.username).first() or services.staff_create(
            actor=admin,
            username=spec.username,
            real_name=spec.real_name,
            department=department,
            password=password,
        )
        scope = (
            None
            if spec.role in services.CITY_WIDE_ROLES
            else departments[spec.scope or spec.department]
        )
        if not RoleAssignment.objects.filter(user=user, role=spec.role, department=scope).exists():
            services.role_grant(
                actor=admin,
                user=user,
                role=spec.role,
                department=scope,
                include_subtree=spec.include_subtree,
            )


def _citizens(password: str) -> dict[str, User]:
    people: dict[str, User] = {}
    for spec in CITIZENS:
        people[spec.username] = User.objects.filter(
            username=spec.username
        ).first() or services.citizen_register(
            username=spec.username,
            password=password,
            real_name=spec.real_name,
            id_number=resident_id_number(spec.region, spec.birth, spec.sequence),
            phone=spec.phone,
        )
    return people


def _enterprise(legal: User) -> None:
    code = demo_uscc()
    if Enterprise.objects.filter(uscc=code).exists():
        return
    services.enterprise_register(
        actor=legal,
        uscc=code,
        name=ENTERPRISE_NAME,
        legal_representative=legal.real_name,
        legal_representative_id_number=legal.id_number,
    )


def _delegation(elder: User, family: User) -> None:
    now = timezone.now()
    current = Delegation.objects.filter(
        principal=elder, agent=family, revoked_at__isnull=True, expires_at__gt=now
    )
    if current.exists():
        return
    services.delegation_grant(
        principal=elder,
        agent=family,
        scopes=[Delegation.Scope.APPLY, Delegation.Scope.QUERY, Delegation.Scope.RECEIVE],
        expires_at=now + timedelta(days=365),
        actor=elder,
        note="儿子代为办理（演示）",
    )


def accounts_demo_load(*, password: str) -> list[tuple[str, str]]:
    """Load (or find) the accounts demo data; return (username, description) of each demo
    account, for `yiwang demo` to print."""
    admin = _admin(password)
    departments = _departments(admin)
    _staff(admin, departments, password)
    citizens = _citizens(password)
    _enterprise(citizens["demo-legal"])
    _delegation(citizens["demo-elder"], citizens["demo-citizen"])

    accounts = [("demo-admin", "系统管理员（Django 管理后台）")]
    for spec in STAFF:
        where = departments[spec.department].short_name or departments[spec.department].name
        if spec.scope:
            where += f"（{departments[spec.scope].short_name}及下属部门）"
        accounts.append((spec.username, f"{Role(spec.role).label} · {where}"))
    accounts.extend((citizen.username, citizen.label) for citizen in CITIZENS)
    return accounts
