"""Demo data of the exchange: the departments' data resources (the catalogue of issue 7), their
data officers, the grants the 二手房, 企业开办 and 公积金提取 scenarios need, and one pending and
one refused request so that the console has something in every list.

The records themselves stay in the owners' stores (``yiwang.exchange.owners``); when those are
missing, a small city is generated first. Everything goes through the exchange services, so the
demo leaves the audit trail real use leaves. Runs after the accounts and catalog demos; a second
run changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from yiwang.accounts import services as accounts_services
from yiwang.accounts.models import Department, Role, RoleAssignment, User
from yiwang.catalog.demo import demo_task_codes
from yiwang.exchange import owners, services
from yiwang.exchange.adapters import file_refresh
from yiwang.exchange.models import (
    AdapterKind,
    DataResource,
    MaskKind,
    SharingClass,
    SharingRequest,
    SubjectType,
    UpdateFrequency,
)

DEMO_POPULATION = 20_000

# Resource codes (政务信息资源代码, demo scheme LA-DR-<owner>-<n>); the catalog's materials name
# them in ``data_resource_code``.
POPULATION = "LA-DR-GA-001"
VEHICLES = "LA-DR-GA-002"
JUVENILE_RECORDS = "LA-DR-GA-003"
LEGAL_ENTITIES = "LA-DR-SC-001"
REAL_ESTATE = "LA-DR-ZR-001"
DIVISIONS = "LA-DR-ZR-002"
SOCIAL_INSURANCE = "LA-DR-RS-001"
HOUSING_FUND = "LA-DR-GJ-001"
TAX_PAID = "LA-DR-SW-001"
TAX_CLEARANCE = "LA-DR-SW-002"

SHARING_RULES = "《政务信息资源共享管理暂行办法》（国发〔2016〕51号）"
ONCE_ONLY = (
    "《国务院关于在线政务服务的若干规定》（国务院令第716号）第七条：政务服务机构能够通过共享"
    "获取的信息，不得要求申请人重复提交"
)
PIPL = (
    "《中华人民共和国个人信息保护法》第三十四条：国家机关为履行法定职责处理个人信息，"
    "不得超出履行法定职责所必需的范围和限度"
)
CONDITIONAL = (
    "限于依法办理政务服务事项时使用，须注明办件编号和用途；不得用于其他目的，不得向第三方提供。"
)


@dataclass(frozen=True)
class DemoOfficer:
    username: str
    real_name: str
    department: str
    label: str  # the department's short name, for `yiwang demo` to print


# Data officers (数据专员) of the departments that own or consume the demo resources.
OFFICERS: list[DemoOfficer] = [
    DemoOfficer("demo-data-bureau", "罗共享", "la-sjzyj", "市数据资源局"),
    DemoOfficer("demo-data-gaj", "钱户籍", "la-gaj", "公安局"),
    DemoOfficer("demo-data-zr", "孔登记", "la-zrzyghj", "自然资源和规划局"),
    DemoOfficer("demo-data-sw", "曹税务", "la-swj", "税务局"),
    DemoOfficer("demo-data-zj", "严住建", "la-zjj", "住建局"),
    DemoOfficer("demo-data-sc", "华市监", "la-scjgj", "市场监管局"),
    DemoOfficer("demo-data-rs", "金社保", "la-rsj", "人社局"),
    DemoOfficer("demo-data-gjj", "魏公积", "la-gjjzx", "住房公积金管理中心"),
]
OFFICER_OF = {o.department: o.username for o in OFFICERS}


def _f(key: str, label: str, *, personal: bool = False, mask: str = "") -> dict[str, Any]:
    return {"key": key, "label": label, "personal": personal, "mask": mask}


def _sql(stem: str, table: str, key: str) -> dict[str, Any]:
    return {"url": owners.sqlite_url(stem), "table": table, "key": key}


def resource_specs() -> list[dict[str, Any]]:
    """The demo catalogue. Field keys are the owners' column names."""
    return [
        {
            "code": POPULATION,
            "owner": "la-gaj",
            "name": "人口基本信息",
            "description": "六安市户籍人口的公民身份号码、姓名、性"
            "别、出生日期、民族、户籍地址和户籍状态。",
            "fields": [
                _f("id_number", "公民身份号码", personal=True, mask=MaskKind.ID_NUMBER),
                _f("name", "姓名", personal=True, mask=MaskKind.NAME),
                _f("sex", "性别", personal=True),
                _f("birth_date", "出生日期", personal=True),
                _f("nation", "民族", personal=True),
                _f("region_code", "户籍地行政区划代码"),
                _f("household_address", "户籍地址", personal=True, mask=MaskKind.ADDRESS),
                _f("phone", "联系电话", personal=True, mask=MaskKind.PHONE),
                _f("hukou_status", "户籍状态", personal=True),
            ],
            "subject_type": SubjectType.PERSON,
            "update_frequency": UpdateFrequency.REALTIME,
            "legal_basis": f"{SHARING_RULES}；{ONCE_ONLY}；{PIPL}",
            "sharing_class": SharingClass.CONDITIONAL,
            "sharing_condition": CONDITIONAL,
            "adapter_kind": AdapterKind.SQL,
            "adapter_config": _sql("gaj", "population", "id_number"),
        },
        {
            "code": VEHICLES,
            "owner": "la-gaj",
            "name": "机动车及交通违法信息",
            "description": "六安市登记的机动车（号牌、所有人、检验有"
            "效期）及其未处理和已处理的交通违法记录。",
            "fields": [
                _f("plate", "号牌号码"),
                _f("id_number", "所有人身份证号码", personal=True, mask=MaskKind.ID_NUMBER),
                _f("owner_name", "所有人姓名", personal=True, mask=MaskKind.NAME),
                _f("vehicle_type", "车辆类型"),
                _f("brand", "品牌"),
                _f("registered_on", "初次登记日期"),
                _f("inspection_until", "检验有效期至"),
                _f("status", "机动车状态"),
                _f("violation_at", "违法时间"),
                _f("violation_location", "违法地点"),
                _f("violation_act", "违法行为"),
                _f("violation_points", "记分"),
                _f("violation_fine", "罚款金额（元）"),
                _f("violation_handled", "处理状态"),
            ],
            "subject_type": SubjectType.VEHICLE,
            "update_frequency": UpdateFrequency.DAILY,
            "legal_basis": f"{SHARING_RULES}；《中华人民共和国道路交通安全法》",
            "sharing_class": SharingClass.CONDITIONAL,
            "sharing_condition": CONDITIONAL,
            "adapter_kind": AdapterKind.SQL,
            "adapter_config": _sql("gaj", "vehicle_records", "plate"),
        },
        {
            "code": JUVENILE_RECORDS,
            "owner": "la-gaj",
            "name": "未成年人违法犯罪记录",
            "description": "依法封存的未成年人犯罪记录及相关违法信息。",
            "fields": [
                _f("id_number", "公民身份号码", personal=True, mask=MaskKind.ID_NUMBER),
                _f("record", "记录摘要", personal=True, mask=MaskKind.HIDE),
            ],
            "subject_type": SubjectType.PERSON,
            "update_frequency": UpdateFrequency.DAILY,
            "legal_basis": "《中华人民共和国刑事诉讼法》第二百八十六条",
            "sharing_class": SharingClass.NONE,
            "sharing_condition": "依据《中华人民共和国刑事诉讼法》第二"
            "百八十六条，犯罪的时候不满十八周岁、"
            "被判处五年有期徒刑以下刑罚的，犯罪记录应当封"
            "存，不得向任何单位和个人提供（司法机关为办案"
            "需要或者有关单位根据国家规定进行查询的除外），不纳入政务数据共享。",
            "adapter_kind": AdapterKind.SQL,
            "adapter_config": _sql("gaj", "juvenile_records", "id_number"),
        },
        {
            "code": LEGAL_ENTITIES,
            "owner": "la-scjgj",
            "name": "法人登记信息",
            "description": "六安市登记的企业：统一社会信用代码、名称"
            "、法定代表人、注册资本、住所和登记状态。",
            "fields": [
                _f("uscc", "统一社会信用代码"),
                _f("name", "企业名称"),
                _f("legal_rep_name", "法定代表人", personal=True),
                _f(
                    "legal_rep_id_number",
                    "法定代表人身份证号码",
                    personal=True,
                    mask=MaskKind.ID_NUMBER,
                ),
                _f("registered_capital_wan", "注册资本（万元）"),
                _f("industry", "所属行业"),
                _f("address", "住所"),
                _f("established_on", "成立日期"),
                _f("status", "登记状态"),
            ],
            "subject_type": SubjectType.ENTERPRISE,
            "update_frequency": UpdateFrequency.REALTIME,
            "legal_basis": f"{SHARING_RULES}；《中华人民共和"
            "国市场主体登记管理条例》（国务院令第746号）；"
            "《企业信息公示暂行条例》（国务院令第654号）",
            "sharing_class": SharingClass.CONDITIONAL,
            "sharing_condition": CONDITIONAL + "法定代表人身份证号码默认脱敏。",
            "adapter_kind": AdapterKind.SQL,
            "adapter_config": _sql("scjgj", "enterprises", "uscc"),
        },
        {
            "code": REAL_ESTATE,
            "owner": "la-zrzyghj",
            "name": "不动产登记信息",
            "description": "按权利人公民身份号码查询其名下不动产："
            "不动产单元号、权证号、坐落、面积、用途，"
            "以及抵押、查封状态。",
            "fields": [
                _f("unit_no", "不动产单元号"),
                _f("id_number", "权利人证件号码", personal=True, mask=MaskKind.ID_NUMBER),
                _f("owner_name", "权利人", personal=True, mask=MaskKind.NAME),
                _f("certificate_no", "不动产权证书号"),
                _f("address", "坐落", mask=MaskKind.ADDRESS),
                _f("area_m2", "建筑面积（平方米）"),
                _f("use", "用途"),
                _f("right_type", "权利类型"),
                _f("registered_on", "登记日期"),
                _f("mortgaged", "是否抵押"),
                _f("mortgagee", "抵押权人"),
                _f("seized", "是否查封"),
            ],
            "subject_type": SubjectType.PERSON,
            "update_frequency": UpdateFrequency.REALTIME,
            "legal_basis": f"{SHARING_RULES}；《不动产登记暂行条例》（国务院令第656号）第四章"
            "“登记信息共享与保护”；《中华人民共和国契税法》第十一条",
            "sharing_class": SharingClass.CONDITIONAL,
            "sharing_condition": CONDITIONAL,
            "adapter_kind": AdapterKind.SQL,
            "adapter_config": _sql("zrzyghj", "real_estate", "id_number"),
        },
        {
            "code": DIVISIONS,
            "owner": "la-zrzyghj",
            "name": "行政区划与边界",
            "description": "六安市及所辖县区的行政区划代码（GB/T 22"
            "60）、名称、层级、中心点和外包矩形（示意）。",
            "fields": [
                _f("code", "行政区划代码"),
                _f("name", "名称"),
                _f("level", "层级"),
                _f("parent_code", "上级区划代码"),
                _f("centroid_lon", "中心点经度"),
                _f("centroid_lat", "中心点纬度"),
                _f("bbox_min_lon", "外包矩形最小经度"),
                _f("bbox_min_lat", "外包矩形最小纬度"),
                _f("bbox_max_lon", "外包矩形最大经度"),
                _f("bbox_max_lat", "外包矩形最大纬度"),
            ],
            "subject_type": SubjectType.AREA,
            "update_frequency": UpdateFrequency.YEARLY,
            "legal_basis": f"{SHARING_RULES}；《行政区划管理条例》（国务院令第704号）",
            "sharing_class": SharingClass.UNCONDITIONAL,
            "sharing_condition": "",
            "adapter_kind": AdapterKind.SQL,
            "adapter_config": _sql("zrzyghj", "divisions", "code"),
        },
        {
            "code": SOCIAL_INSURANCE,
            "owner": "la-rsj",
            "name": "社会保险参保缴费记录",
            "description": "职工基本养老保险参保单位、参保状态、首"
            "次参保年月、最近缴费年月和累计缴费月数。",
            "fields": [
                _f("id_number", "公民身份号码", personal=True, mask=MaskKind.ID_NUMBER),
                _f("name", "姓名", personal=True, mask=MaskKind.NAME),
                _f("insurance", "险种"),
                _f("unit_name", "参保单位"),
                _f("status", "参保状态"),
                _f("first_month", "首次参保年月"),
                _f("last_month", "最近缴费年月"),
                _f("months_paid", "累计缴费月数"),
                _f("base_yuan", "缴费基数（元）", personal=True, mask=MaskKind.HIDE),
            ],
            "subject_type": SubjectType.PERSON,
            "update_frequency": UpdateFrequency.MONTHLY,
            "legal_basis": f"{SHARING_RULES}；《中华人民共和国社会保险法》；{PIPL}",
            "sharing_class": SharingClass.CONDITIONAL,
            "sharing_condition": CONDITIONAL,
            "adapter_kind": AdapterKind.SQL,
            "adapter_config": _sql("rsj", "social_insurance", "id_number"),
        },
        {
            "code": HOUSING_FUND,
            "owner": "la-gjjzx",
            "name": "住房公积金缴存信息",
            "description": "住房公积金账户状态、缴存单位、账户余额、"
            "月缴存额和最近缴存年月（每月文件交换）。",
            "fields": [
                _f("id_number", "公民身份号码", personal=True, mask=MaskKind.ID_NUMBER),
                _f("name", "姓名", personal=True, mask=MaskKind.NAME),
                _f("account_no", "个人公积金账号", personal=True),
                _f("unit_name", "缴存单位"),
                _f("status", "账户状态"),
                _f("balance_yuan", "账户余额（元）", personal=True, mask=MaskKind.HIDE),
                _f("monthly_yuan", "月缴存额（元）", personal=True),
                _f("last_month", "最近缴存年月"),
            ],
            "subject_type": SubjectType.PERSON,
            "update_frequency": UpdateFrequency.MONTHLY,
            "legal_basis": f"{SHARING_RULES}；《住房公积金管理条例》",
            "sharing_class": SharingClass.CONDITIONAL,
            "sharing_condition": CONDITIONAL,
            "adapter_kind": AdapterKind.FILE,
            "adapter_config": {
                "path": str(
                    (Path(settings.YIWANG_EXCHANGE_OWNERS_DIR) / owners.PROVIDENT_DROP).resolve()
                ),
                "key": "id_number",
            },
        },
        {
            "code": TAX_PAID,
            "owner": "la-swj",
            "name": "完税证明（契税）",
            "description": "不动产交易的契税完税记录：完税凭证号、纳"
            "税人、不动产单元号、坐落、税额和缴纳日期。",
            "fields": [
                _f("voucher_no", "完税凭证号"),
                _f("id_number", "纳税人证件号码", personal=True, mask=MaskKind.ID_NUMBER),
                _f("name", "纳税人", personal=True, mask=MaskKind.NAME),
                _f("tax", "税种"),
                _f("unit_no", "不动产单元号"),
                _f("address", "房屋坐落", mask=MaskKind.ADDRESS),
                _f("amount_yuan", "实缴税额（元）", personal=True),
                _f("paid_on", "缴纳日期"),
            ],
            "subject_type": SubjectType.PERSON,
            "update_frequency": UpdateFrequency.REALTIME,
            "legal_basis": f"{SHARING_RULES}；《中华人民共和国契税法》第十一条、第十三条；"
            "《中华人民共和国税收征收管理法》",
            "sharing_class": SharingClass.CONDITIONAL,
            "sharing_condition": CONDITIONAL + "涉税信息依法保密。",
            "adapter_kind": AdapterKind.SQL,
            "adapter_config": _sql("swj", "tax_paid", "id_number"),
        },
        {
            "code": TAX_CLEARANCE,
            "owner": "la-swj",
            "name": "清税证明",
            "description": "企业注销前的清税状态和清税证明编号。",
            "fields": [
                _f("uscc", "统一社会信用代码"),
                _f("name", "纳税人名称"),
                _f("certificate_no", "清税证明编号"),
                _f("issued_on", "出具日期"),
                _f("status", "清税状态"),
            ],
            "subject_type": SubjectType.ENTERPRISE,
            "update_frequency": UpdateFrequency.DAILY,
            "legal_basis": f"{SHARING_RULES}；《中华人民共和国税收征收管理法》",
            "sharing_class": SharingClass.CONDITIONAL,
            "sharing_condition": CONDITIONAL,
            "adapter_kind": AdapterKind.SQL,
            "adapter_config": _sql("swj", "tax_clearance", "uscc"),
        },
    ]


def item_code(key: str) -> str:
    """The 实施编码 of the demo catalog item ``key`` (e.g. ``bdczy``)."""
    suffix = "-" + key.upper()
    return next(code for code in demo_task_codes() if code.endswith(suffix))


@dataclass(frozen=True)
class DemoGrant:
    consumer: str
    resource: str
    items: tuple[str, ...]
    purpose: str
    fields: tuple[str, ...]
    masks: dict[str, str]
    outcome: str = "approved"  # or "pending", "refused"
    reason: str = ""


GRANTS: list[DemoGrant] = [
    # 二手房转移登记: the three departments read what they need from each other.
    DemoGrant(
        "la-swj",
        REAL_ESTATE,
        ("qssb",),
        "契税申报时核验出卖人名下不动产的权属、坐落和面积",
        ("unit_no", "id_number", "owner_name", "certificate_no", "address", "area_m2", "use"),
        {"id_number": MaskKind.ID_NUMBER},
    ),
    DemoGrant(
        "la-swj",
        POPULATION,
        ("qssb",),
        "契税申报时核验纳税人（承受人）和出卖人身份",
        ("id_number", "name", "household_address", "hukou_status"),
        {"household_address": MaskKind.ADDRESS},
    ),
    DemoGrant(
        "la-zjj",
        REAL_ESTATE,
        ("wqba",),
        "存量房网签备案时核验房屋权属及抵押、查封状态",
        (
            "unit_no",
            "id_number",
            "owner_name",
            "certificate_no",
            "address",
            "area_m2",
            "use",
            "mortgaged",
            "seized",
        ),
        {},
    ),
    DemoGrant(
        "la-zjj",
        POPULATION,
        ("wqba",),
        "存量房网签备案时核验买卖双方身份",
        ("id_number", "name", "household_address", "hukou_status"),
        {"household_address": MaskKind.ADDRESS},
    ),
    DemoGrant(
        "la-zrzyghj",
        TAX_PAID,
        ("bdczy",),
        "不动产转移登记时查验契税完税信息（《中华人民共和国契税法》第十一条）",
        ("voucher_no", "id_number", "name", "tax", "unit_no", "address", "amount_yuan", "paid_on"),
        {},
    ),
    DemoGrant(
        "la-zrzyghj",
        POPULATION,
        ("bdczy",),
        "不动产转移登记时核验权利人身份",
        ("id_number", "name", "sex", "birth_date", "household_address"),
        {},
    ),
    # 企业开办: 市场监管 checks the legal representative's identity.
    DemoGrant(
        "la-scjgj",
        POPULATION,
        ("qysldj",),
        "企业设立登记时核验法定代表人身份",
        ("id_number", "name", "sex", "birth_date", "nation", "hukou_status"),
        {},
    ),
    # 住房公积金提取: 社保 status and the applicant's identity.
    DemoGrant(
        "la-gjjzx",
        SOCIAL_INSURANCE,
        ("gjjtq",),
        "住房公积金提取（离职、退休）时核验参保及缴费状态",
        ("id_number", "name", "unit_name", "status", "last_month", "months_paid"),
        {"id_number": MaskKind.ID_NUMBER},
    ),
    DemoGrant(
        "la-gjjzx",
        POPULATION,
        ("gjjtq",),
        "住房公积金提取时核验申请人身份",
        ("id_number", "name", "birth_date", "hukou_status"),
        {},
    ),
    # The data bureau's map of the city: unconditional, granted on request.
    DemoGrant(
        "la-sjzyj",
        DIVISIONS,
        (),
        "政务服务地图按行政区划展示办件量",
        (
            "code",
            "name",
            "level",
            "parent_code",
            "centroid_lon",
            "centroid_lat",
            "bbox_min_lon",
            "bbox_min_lat",
            "bbox_max_lon",
            "bbox_max_lat",
        ),
        {},
    ),
    # Waiting for the owner's decision.
    DemoGrant(
        "la-gjjzx",
        REAL_ESTATE,
        ("gjjtq",),
        "购房提取住房公积金时核验申请人名下的不动产",
        ("unit_no", "id_number", "owner_name", "certificate_no", "address", "registered_on"),
        {},
        outcome="pending",
    ),
    # Refused: more than the item needs.
    DemoGrant(
        "la-zjj",
        VEHICLES,
        ("wqba",),
        "网签备案时了解购房人名下车辆及交通违法情况",
        ("plate", "id_number", "owner_name", "violation_act"),
        {},
        outcome="refused",
        reason="存量房网签备案不需要机动车及交通违法信息，超出履行法定职责所必需的范围"
        "（《中华人民共和国个人信息保护法》第三十四条），不予同意。",
    ),
]


def _officers(password: str) -> dict[str, User]:
    admin = User.objects.get(username="demo-admin")
    departments = {d.code: d for d in Department.objects.filter(code__in=OFFICER_OF)}
    users: dict[str, User] = {}
    for spec in OFFICERS:
        department = departments[spec.department]
        user = User.objects.filter(username=spec.username).first()
        if user is None:
            user = accounts_services.staff_create(
                actor=admin,
                username=spec.username,
                real_name=spec.real_name,
                department=department,
                password=password,
            )
        if not RoleAssignment.objects.filter(
            user=user, role=Role.DATA_OFFICER, department=department
        ).exists():
            accounts_services.role_grant(
                actor=admin, user=user, role=Role.DATA_OFFICER, department=department
            )
        users[spec.department] = user
    return users


def _resources(officers: dict[str, User]) -> dict[str, DataResource]:
    departments = {d.code: d for d in Department.objects.all()}
    found = {
        r.code: r
        for r in DataResource.objects.filter(code__in=[s["code"] for s in resource_specs()])
    }
    for spec in resource_specs():
        if spec["code"] in found:
            continue
        actor = officers[spec["owner"]]
        resource = services.resource_save(
            actor=actor,
            owner=departments[spec["owner"]],
            code=spec["code"],
            name=spec["name"],
            description=spec["description"],
            fields=spec["fields"],
            subject_type=spec["subject_type"],
            update_frequency=spec["update_frequency"],
            legal_basis=spec["legal_basis"],
            sharing_class=spec["sharing_class"],
            sharing_condition=spec["sharing_condition"],
            adapter_kind=spec["adapter_kind"],
            adapter_config=spec["adapter_config"],
        )
        found[spec["code"]] = services.resource_publish(actor=actor, resource=resource)
    return found


def _grants(officers: dict[str, User], resources: dict[str, DataResource]) -> int:
    departments = {d.code: d for d in Department.objects.all()}
    created = 0
    valid_until = timezone.localdate() + dt.timedelta(days=365)
    for spec in GRANTS:
        resource = resources[spec.resource]
        consumer = departments[spec.consumer]
        if SharingRequest.objects.filter(resource=resource, consumer=consumer).exists():
            continue
        items = [item_code(k) for k in spec.items]
        request = services.request_create(
            actor=officers[spec.consumer],
            consumer=consumer,
            resource=resource,
            fields=list(spec.fields),
            item_codes=items,
            purpose=spec.purpose,
            valid_until=valid_until,
        )
        created += 1
        if request.status != SharingRequest.Status.PENDING or spec.outcome == "pending":
            continue
        owner_officer = officers[resource.owner.code]
        if spec.outcome == "refused":
            services.request_refuse(actor=owner_officer, request=request, reason=spec.reason)
            continue
        services.request_approve(
            actor=owner_officer,
            request=request,
            fields=list(spec.fields),
            masks=dict(spec.masks),
            item_codes=items,
            valid_until=timezone.now() + dt.timedelta(days=365),
            reason="符合共享条件，按事项所需信息项授权。",
        )
    return created


def exchange_demo_load(*, password: str, population: int = DEMO_POPULATION) -> int:
    """Load (or find) the exchange demo; return how many sharing requests were created (0 on a
    second run). Generates the owners' stores first when they are missing."""
    if not owners.owners_present():
        owners.owners_generate(population=population)
    officers = _officers(password)
    resources = _resources(officers)
    fund = resources[HOUSING_FUND]
    if fund.refreshed_at is None:
        # The first delivery of the monthly drop (later ones come with the scheduled refresh).
        file_refresh(fund)
    return _grants(officers, resources)


load_exchange_demo = exchange_demo_load
