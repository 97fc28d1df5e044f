"""Demo e-certificates: the certificate types the demo catalog names (same type codes), issued
by the 六安 departments, and a few certificates of the demo citizen and the demo enterprise
(one superseded by a new version, one revoked, one used in a case) so that every page has data.

Runs after the accounts and catalog demos; a second run changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from yiwang.accounts.models import Department, Enterprise, User
from yiwang.catalog.demo import (
    BUNDLES,
    CERTIFICATES,
    ITEMS,
    certificate_type_code,
    demo_department_uscc,
)
from yiwang.catalog.models import ItemVersion
from yiwang.certificates import services
from yiwang.certificates.models import Certificate, CertificateType, HolderType

HOUSING_FUND_DEFINER = "11100000MBDEM0138G"  # fictitious, check digits valid (住建部's stand-in)
HOUSING_FUND = "住房公积金缴存证明"

DEFINER_NAMES = {
    "公安部": "中华人民共和国公安部",
    "市场监管总局": "国家市场监督管理总局",
    "自然资源部": "中华人民共和国自然资源部",
    "民政部": "中华人民共和国民政部",
    "人社部": "中华人民共和国人力资源和社会保障部",
    "卫健委": "国家卫生健康委员会",
    "教育部": "中华人民共和国教育部",
    "交通运输部": "中华人民共和国交通运输部",
    "生态环境部": "中华人民共和国生态环境部",
    "税务总局": "国家税务总局",
    "中国残联": "中国残疾人联合会",
    "医保局": "国家医疗保障局",
}
# Definer → the 六安 department that issues its certificates.
ISSUERS = {
    "公安部": "la-gaj",
    "市场监管总局": "la-scjgj",
    "自然资源部": "la-zrzyghj",
    "民政部": "la-mzj",
    "人社部": "la-rsj",
    "卫健委": "la-wjw",
    "教育部": "la-jtj",
    "交通运输部": "la-jtysj",
    "生态环境部": "la-sthjj",
    "税务总局": "la-swj",
    "中国残联": "la-mzj",
    "医保局": "la-ybj",
}
ENTERPRISE_TYPES = {
    "营业执照",
    "食品经营许可证",
    "医疗机构执业许可证",
    "道路运输经营许可证",
    "排污许可证",
}
# Years of validity (None = 长期有效), as the issuing rules usually say.
VALIDITY: dict[str, int | None] = {
    "居民身份证": 20,
    "机动车驾驶证": 6,
    "食品经营许可证": 5,
    "社会保障卡": 10,
    "道路运输经营许可证": 4,
    "排污许可证": 5,
    "残疾人证": 10,
    "医疗机构执业许可证": 5,
    "就业创业证": 5,
    HOUSING_FUND: 1,
}
HOLDER = {"key": "holder_name", "label": "持证人", "required": True}
FACES: dict[str, list[dict[str, Any]]] = {
    "营业执照": [
        {"key": "holder_name", "label": "名称", "required": True},
        {"key": "legal_representative", "label": "法定代表人", "required": False},
        {"key": "company_type", "label": "类型", "required": False},
        {"key": "scope", "label": "经营范围", "required": False},
        {"key": "address", "label": "住所", "required": False},
    ],
    "不动产权证书": [
        HOLDER,
        {"key": "location", "label": "坐落", "required": False},
        {"key": "unit_number", "label": "不动产单元号", "required": False},
        {"key": "use", "label": "用途", "required": False},
        {"key": "area", "label": "面积", "required": False},
    ],
    "机动车驾驶证": [
        HOLDER,
        {"key": "vehicle_class", "label": "准驾车型", "required": False},
        {"key": "first_issue", "label": "初次领证日期", "required": False},
    ],
    "社会保障卡": [
        HOLDER,
        {"key": "card_number", "label": "社会保障卡号", "required": False},
        {"key": "bank", "label": "发卡银行", "required": False},
    ],
    HOUSING_FUND: [
        HOLDER,
        {"key": "account", "label": "公积金账号", "required": False},
        {"key": "employer", "label": "缴存单位", "required": False},
        {"key": "status", "label": "缴存状态", "required": False},
    ],
}


def _department_usccs() -> dict[str, str]:
    """The USCC the catalog demo gives each department (when the department has none)."""
    codes = sorted({s["dept"] for s in ITEMS} | {b["lead"] for b in BUNDLES})
    return {code: demo_department_uscc(i) for i, code in enumerate(codes, start=1)}


def _issuer_uscc(department: Department, usccs: dict[str, str]) -> str:
    if department.uscc:
        return department.uscc
    if department.code in usccs:
        return usccs[department.code]
    return demo_department_uscc(900 + department.pk % 99)


def _types() -> dict[str, CertificateType]:
    departments = {d.code: d for d in Department.objects.all()}
    found: dict[str, CertificateType] = {}
    specs = [
        (name, certificate_type_code(name), definer) for name, (definer, _n) in CERTIFICATES.items()
    ]
    specs.append((HOUSING_FUND, HOUSING_FUND_DEFINER + "001", "住建部"))
    for name, code, definer in specs:
        type_, _created = CertificateType.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "definer_name": DEFINER_NAMES.get(definer, "中华人民共和国住房和城乡建设部"),
                "holder_type": HolderType.USCC
                if name in ENTERPRISE_TYPES
                else HolderType.ID_NUMBER,
                "face_fields": FACES.get(name, [HOLDER]),
                "validity_years": VALIDITY.get(name),
            },
        )
        issuer = departments.get(ISSUERS.get(definer, "la-gjjzx"))
        if issuer is not None:
            type_.issuing_departments.add(issuer)
        # Departments whose items end with this certificate issue it too (the issuance hook).
        result_departments = ItemVersion.objects.filter(result_certificate_type=code).values_list(
            "item__department", flat=True
        )
        type_.issuing_departments.add(*{pk for pk in result_departments if pk})
        found[name] = type_
    return found


def _issue(
    type_: CertificateType,
    department: Department,
    usccs: dict[str, str],
    *,
    holder_name: str,
    number: str,
    user: User | None,
    face: dict[str, Any],
    valid_from: dt.date,
) -> Certificate:
    return services.certificate_issue(
        actor=services.SYSTEM_ACTOR,
        type=type_,
        department=department,
        holder_name=holder_name,
        holder_number=number,
        holder_user=user,
        issuer_uscc=_issuer_uscc(department, usccs),
        face=face,
        valid_from=valid_from,
    )


@transaction.atomic
def certificates_demo_load() -> int:
    """Create the demo types and certificates; return how many certificates were issued."""
    types = _types()
    citizen = User.objects.filter(username="demo-citizen").first()
    if citizen is None or not citizen.id_number:
        return 0
    if Certificate.objects.filter(holder_user=citizen).exists():
        return 0
    departments = {d.code: d for d in Department.objects.all()}
    usccs = _department_usccs()
    name, number = citizen.real_name, citizen.id_number
    before = Certificate.objects.count()

    house = _issue(
        types["不动产权证书"],
        departments["la-zrzyghj"],
        usccs,
        holder_name=name,
        number=number,
        user=citizen,
        face={
            "holder_name": name,
            "location": "六安市金安区梅山南路88号3幢2单元501室",
            "unit_number": "341502001001GB00001F00030045",
            "use": "城镇住宅用地/住宅",
            "area": "共有宗地面积12345.6㎡/房屋建筑面积118.5㎡",
        },
        valid_from=dt.date(2021, 6, 18),
    )
    driving = _issue(
        types["机动车驾驶证"],
        departments["la-gaj"],
        usccs,
        holder_name=name,
        number=number,
        user=citizen,
        face={"holder_name": name, "vehicle_class": "C1", "first_issue": "2010-05-20"},
        valid_from=dt.date(2016, 5, 20),
    )
    services.certificate_new_version(
        actor=services.SYSTEM_ACTOR,
        certificate=driving,
        face={"holder_name": name, "vehicle_class": "C1", "first_issue": "2010-05-20"},
        reason="有效期满换证（演示）",
    )
    social = _issue(
        types["社会保障卡"],
        departments["la-rsj"],
        usccs,
        holder_name=name,
        number=number,
        user=citizen,
        face={"holder_name": name, "card_number": "A12345678", "bank": "中国工商银行六安分行"},
        valid_from=dt.date(2019, 3, 1),
    )
    services.certificate_revoke(
        actor=services.SYSTEM_ACTOR, certificate=social, reason="卡片遗失，已补办新卡（演示）"
    )
    fund = departments.get("la-gjjzx")
    if fund is not None:
        types[HOUSING_FUND].issuing_departments.add(fund)
        _issue(
            types[HOUSING_FUND],
            fund,
            usccs,
            holder_name=name,
            number=number,
            user=citizen,
            face={
                "holder_name": name,
                "account": "341500100088",
                "employer": "六安市示范科技有限公司（演示）",
                "status": "正常缴存",
            },
            valid_from=timezone.localdate(),
        )
        services.certificate_use(
            actor=services.SYSTEM_ACTOR,
            certificate=house,
            department=fund,
            reason="办理住房公积金提取（购房）",
            case_number="34150020260315000000123",
        )
    enterprise = Enterprise.objects.order_by("id").first()
    if enterprise is not None:
        _issue(
            types["营业执照"],
            departments["la-scjgj"],
            usccs,
            holder_name=enterprise.name,
            number=enterprise.uscc,
            user=None,
            face={
                "holder_name": enterprise.name,
                "legal_representative": enterprise.legal_representative,
                "company_type": "有限责任公司（自然人投资或控股）",
                "scope": "软件开发；信息技术咨询服务（演示）",
                "address": "六安市金安区皖西大道1号（演示）",
            },
            valid_from=dt.date(2024, 1, 8),
        )
    return Certificate.objects.count() - before
