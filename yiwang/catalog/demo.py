"""The Lu'an demo catalog: about fifty published items across the demo departments
(yiwang.accounts.demo), and the two demo bundles (一件事): 企业开办 and
二手房转移登记及水电气网联合过户.

Everything goes through the catalog services (item_create → child rows → version_submit →
version_publish by a second person, and yiwang.catalog.bundles), so that every demo item
passes the same quality rules and leaves the same audit trail as an item entered by hand.
Idempotent: an item whose 实施编码 exists and a bundle whose code exists are left as they are.

What is real and what is demo:

* Names, legal bases (laws, regulations and their document numbers), statutory time limits and
  fee standards are written from the public texts as commonly cited; where we were not sure of an
  article number we leave it out rather than guess. Promised time limits are plausible demo
  commitments, not Lu'an's published ones.
* Addresses are generic (“六安市政务服务中心××窗口”); the consultation line is 12345.
* 实施编码 (``LA-341500-…``), 基本编码, the implementing bodies' USCCs and all e-certificate type
  codes are DEMO values: the type codes follow GB/T 36904 (definer USCC + 3 digits) with
  fictitious but check-digit-valid definer USCCs ``11100000MBDEM…`` (see ``DEMO_DEFINERS``).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from stdnum.cn import uscc as stdnum_uscc

from yiwang.accounts.models import Department, User
from yiwang.catalog import bundles, process, services
from yiwang.catalog.models import (
    Bundle,
    ItemType,
    ItemVersion,
    Material,
    ProcessStep,
    ServiceItem,
    Theme,
    TimeUnit,
)

Actor = User | str

# --- codes ----------------------------------------------------------------------------------

# Fictitious 证照定义机构 USCCs (check digits valid) standing for the national bodies that define
# each certificate type. Real type codes (e.g. 住建部's 11100000000013338W032) exist for a few
# certificates only; the demo does not pretend to know the others.
DEMO_DEFINERS: dict[str, str] = {
    "公安部": "11100000MBDEM0015F",
    "市场监管总局": "11100000MBDEM0023A",
    "自然资源部": "11100000MBDEM00315",
    "民政部": "11100000MBDEM004XW",
    "人社部": "11100000MBDEM0058W",
    "卫健委": "11100000MBDEM0066P",
    "教育部": "11100000MBDEM0074J",
    "交通运输部": "11100000MBDEM0082D",
    "生态环境部": "11100000MBDEM00908",
    "税务总局": "11100000MBDEM0103X",
    "中国残联": "11100000MBDEM0111Q",
    "医保局": "11100000MBDEM012XG",
}

# Certificates (证照) that government bodies issue: name → (definer, 3-digit type number).
CERTIFICATES: dict[str, tuple[str, str]] = {
    "居民身份证": ("公安部", "001"),
    "居民户口簿": ("公安部", "002"),
    "机动车驾驶证": ("公安部", "003"),
    "机动车行驶证": ("公安部", "004"),
    "营业执照": ("市场监管总局", "001"),
    "食品经营许可证": ("市场监管总局", "002"),
    "不动产权证书": ("自然资源部", "001"),
    "不动产登记证明": ("自然资源部", "002"),
    "建设用地规划许可证": ("自然资源部", "003"),
    "建设工程规划许可证": ("自然资源部", "004"),
    "结婚证": ("民政部", "001"),
    "离婚证": ("民政部", "002"),
    "社会保障卡": ("人社部", "001"),
    "退休证明": ("人社部", "002"),
    "就业创业证": ("人社部", "003"),
    "出生医学证明": ("卫健委", "001"),
    "医师资格证书": ("卫健委", "002"),
    "医疗机构执业许可证": ("卫健委", "003"),
    "学历证书": ("教育部", "001"),
    "教师资格证书": ("教育部", "002"),
    "道路运输经营许可证": ("交通运输部", "001"),
    "排污许可证": ("生态环境部", "001"),
    "完税证明": ("税务总局", "001"),
    "残疾人证": ("中国残联", "001"),
    "医保电子凭证": ("医保局", "001"),
}


def certificate_type_code(name: str) -> str:
    """The (demo) GB/T 36904 type code of a government-issued certificate."""
    definer, number = CERTIFICATES[name]
    return DEMO_DEFINERS[definer] + number


def _org_code_check(body: str) -> str:
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    values = [int(c) if c.isdigit() else ord(c) - ord("A") + 10 for c in body]
    check = 11 - sum(v * w for v, w in zip(values, weights, strict=True)) % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def demo_department_uscc(index: int) -> str:
    """A check-digit-valid, fictitious USCC of a 六安 government body (机关, 11 341500)."""
    org_body = f"MBLA{index:04d}"
    body = "11341500" + org_body + _org_code_check(org_body)
    return body + stdnum_uscc.calc_check_digit(body)


# 事项类型 by name → (code used when the type list lacks it, short tag for the demo codes)
ITEM_TYPES: dict[str, tuple[str, str]] = {
    "行政许可": ("01", "XK"),
    "行政处罚": ("03", "CF"),
    "行政给付": ("06", "JF"),
    "行政确认": ("08", "QR"),
    "其他行政权力": ("10", "QT"),
    "公共服务": ("14", "GG"),
}

# --- shared text ----------------------------------------------------------------------------

HALL = "六安市政务服务中心"
HALL_TIME = (
    "周一至周五（法定节假日除外）上午9:00—12:00，下午13:00—17:00；"
    "具体以六安市政务服务中心公布的作息时间为准"
)
AH_PORTAL = "https://www.ahzwfw.gov.cn/"  # 安徽政务服务网
WORKING = TimeUnit.WORKING_DAY
NATURAL = TimeUnit.NATURAL_DAY
NOW = TimeUnit.IMMEDIATE
NATURAL_PERSON = ["自然人"]
LEGAL_PERSON = ["企业法人", "事业单位法人", "其他组织"]
ENTERPRISE = ["企业法人", "其他组织"]

LICENSING_LAW = (
    "《中华人民共和国行政许可法》",
    "主席令第七号（2019年修正）",
    "第四十二条",
    "全国人民代表大会常务委员会",
    "除可以当场作出行政许可决定的外，行政机关应当自受理行政许可申请之日起二十日内作出"
    "行政许可决定。二十日内不能作出决定的，经本行政机关负责人批准，可以延长十日。",
)

ID_CARD_FEE_BASIS = (
    "《国家发展改革委 财政部关于居民身份证收费标准及有关问题的通知》（发改价格〔2003〕2322号）"
)
REGISTRATION_FEE_BASIS = (
    "《国家发展改革委 财政部关于不动产登记收费标准等有关问题的通知》（发改价格规〔2016〕2559号）"
)


def own(
    name: str,
    *,
    kind: str = Material.Kind.ORIGINAL,
    necessity: str = Material.Necessity.REQUIRED,
    situations: Iterable[str] = (),
    notes: str = "",
    source: str = Material.Source.APPLICANT,
    count: int = 1,
) -> dict[str, Any]:
    """A material the applicant brings (or an intermediary produces)."""
    return {
        "name": name,
        "kind": kind,
        "necessity": necessity,
        "source": source,
        "situations": tuple(situations),
        "notes": notes,
        "paper_count": count,
    }


def gov(
    name: str,
    *,
    certificate: str | None = None,
    necessity: str = Material.Necessity.REQUIRED,
    situations: Iterable[str] = (),
    notes: str = "",
    data_resource: str = "",
) -> dict[str, Any]:
    """A material a government body issues: fetched via 电子证照 or data sharing."""
    return {
        "name": name,
        "kind": Material.Kind.ORIGINAL,
        "necessity": necessity,
        "source": Material.Source.GOVERNMENT,
        "source_explain": "政府部门核发，可通过电子证照库或数据共享获取，申请人无需提交",
        "certificate_type_code": certificate_type_code(certificate or name)
        if (certificate or name) in CERTIFICATES
        else "",
        "data_resource_code": data_resource,
        "situations": tuple(situations),
        "notes": notes,
    }


def law(
    name: str, doc: str = "", article: str = "", issuer: str = "", content: str = ""
) -> tuple[str, str, str, str, str]:
    return (name, doc, article, issuer, content)


ID_CARD = gov("居民身份证")
# Shared data resources that replace materials (once only, 国务院令第716号 第七条). The catalog
# sits below the exchange in the import layers, so the codes are repeated here; they are
# yiwang.exchange.demo's POPULATION, REAL_ESTATE and TAX_PAID (a test keeps them equal).
DR_POPULATION = "LA-DR-GA-001"
DR_REAL_ESTATE = "LA-DR-ZR-001"
DR_TAX_PAID = "LA-DR-SW-001"
ID_CARD_SHARED = gov("居民身份证", data_resource=DR_POPULATION)
LEGAL_REP_ID = gov("法定代表人居民身份证", certificate="居民身份证")
AGENT_ID = gov(
    "经办人居民身份证",
    certificate="居民身份证",
    necessity=Material.Necessity.OPTIONAL,
    notes="委托他人办理的提供",
)
LICENCE = gov("营业执照")
HOUSEHOLD = gov("居民户口簿")


# 秒批 of 住房公积金提取 (DMN 1.3, evaluated by yiwang.catalog.process.rules_evaluate when the
# window accepts an application; the applications app reads the output ``auto_approve``).
# Facts: ``situation`` (the 办理情形 code chosen at submission) and ``age`` (the applicant's age in
# full years, a field of the application form; a string of digits is accepted too).
# A 退休 withdrawal by an applicant aged 63 or more is approved at once. 63 is the highest
# statutory retirement age after the 2024 decision to raise it gradually (men 60 → 63; women
# 50 → 55 and 55 → 58), so everyone that old has reached retirement whatever their sex, post
# or birth month; a younger retiree, and every 购房 or 离职 withdrawal, goes to a person (a
# missing or unreadable age too: the applications app then leaves the case to people).
GJJTQ_RETIREMENT_AGE = 63
GJJTQ_DMN = f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="gjjtq_rules"
  name="住房公积金提取" namespace="https://yiwang.liuan.gov.cn/rules">
  <decision id="gjjtq_auto_approve" name="退休提取秒批">
    <decisionTable id="gjjtq_table" hitPolicy="UNIQUE">
      <input id="in_situation" label="办理情形">
        <inputExpression id="ie_situation" typeRef="string"><text>situation</text></inputExpression>
      </input>
      <input id="in_age" label="年龄（周岁）">
        <inputExpression id="ie_age" typeRef="integer"><text>int(age)</text></inputExpression>
      </input>
      <output id="out_auto_approve" label="秒批" name="auto_approve" typeRef="boolean"/>
      <rule id="retired">
        <description>离休、退休，已达最高法定退休年龄：自动准予提取</description>
        <inputEntry id="retired_situation"><text>'retire'</text></inputEntry>
        <inputEntry id="retired_age"><text>&gt;= {GJJTQ_RETIREMENT_AGE}</text></inputEntry>
        <outputEntry id="retired_out"><text>True</text></outputEntry>
      </rule>
      <rule id="retired_younger">
        <description>离休、退休，未满最高法定退休年龄：人工核对退休证明</description>
        <inputEntry id="younger_situation"><text>'retire'</text></inputEntry>
        <inputEntry id="younger_age"><text>&lt; {GJJTQ_RETIREMENT_AGE}</text></inputEntry>
        <outputEntry id="younger_out"><text>False</text></outputEntry>
      </rule>
      <rule id="other_situation">
        <description>购房、离职等其他情形：人工审批</description>
        <inputEntry id="other_situation_in"><text>!= 'retire'</text></inputEntry>
        <inputEntry id="other_age"><text>-</text></inputEntry>
        <outputEntry id="other_out"><text>False</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""


def item(
    key: str,
    dept: str,
    name: str,
    item_type: str,
    **spec: Any,
) -> dict[str, Any]:
    """One demo item: ``key`` makes its 实施编码 (with the department and type)."""
    return {"key": key, "dept": dept, "name": name, "type": item_type, **spec}


# --- the items ------------------------------------------------------------------------------

ITEMS: list[dict[str, Any]] = [
    # ============================== 市场监管局 ==============================
    item(
        "qysldj",
        "la-scjgj",
        "企业设立登记",
        "行政许可",
        short_name="营业执照办理",
        server=[*ENTERPRISE, "自然人"],
        laws=[
            law(
                "《中华人民共和国市场主体登记管理条例》",
                "国务院令第746号",
                "第十九条",
                "国务院",
                "登记机关应当对申请材料进行形式审查。对申请材料齐全、符合法定形式的予以确认并"
                "当场登记。不能当场登记的，应当在3个工作日内予以登记；情形复杂的，经登记机关负责人"
                "批准，可以再延长3个工作日。",
            ),
            law(
                "《中华人民共和国公司法》",
                "主席令第十五号（2023年修订）",
                "",
                "全国人民代表大会常务委员会",
            ),
        ],
        accept="申请人提交的登记申请材料齐全、符合法定形式；企业名称符合名称登记管理规定；"
        "住所（经营场所）真实、合法。",
        anticipate=(3, WORKING),
        anticipate_explain="不能当场登记的3个工作日内予以登记；情形复杂的可再延长3个工作日。",
        promise=(1, WORKING),
        promise_explain="材料齐全、符合法定形式的，企业开办全流程1个工作日内办结。",
        forms=["窗口办理", "网上办理", "邮寄申请"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url=AH_PORTAL,
        express=True,
        window="市场监管登记注册窗口（企业开办专区）",
        result=(ItemVersion.ResultType.CERTIFICATE, "营业执照", "营业执照"),
        themes_legal=["设立变更"],
        themes_natural=["设立变更"],
        keywords="营业执照 开公司 注册公司 办执照 工商注册 企业开办 一照一码",
        materials=[
            own("公司登记（备案）申请书", notes="由法定代表人签署；网上办理的在线填写并电子签名"),
            own("公司章程", notes="有限责任公司由全体股东签署"),
            gov(
                "股东的主体资格证明或自然人身份证明",
                certificate="居民身份证",
                data_resource=DR_POPULATION,
                notes="股东为自然人的，通过身份认证获取；股东为企业的，通过营业执照电子证照获取",
            ),
            own("法定代表人、董事、监事和经理的任职文件"),
            own(
                "住所（经营场所）使用相关文件",
                notes="自有房产的可通过不动产登记信息共享核验；租赁的提供租赁协议；"
                "也可按规定作住所申报承诺",
            ),
        ],
        faqs=[
            (
                "企业名称需要单独预先核准吗？",
                "不需要。企业名称实行自主申报，在设立登记时一并申报。",
            ),
            (
                "领取营业执照后还要分别去公安、税务、人社跑吗？",
                "不需要。通过“企业开办”一件事，公章刻制、发票申领、社保登记、公积金缴存登记"
                "和银行开户预约一次申请、并联办理。",
            ),
        ],
    ),
    item(
        "gthsl",
        "la-scjgj",
        "个体工商户设立登记",
        "行政许可",
        server=NATURAL_PERSON,
        laws=[
            law("《促进个体工商户发展条例》", "国务院令第755号", "", "国务院"),
            law("《中华人民共和国市场主体登记管理条例》", "国务院令第746号", "第十九条", "国务院"),
        ],
        accept="有经营能力的自然人；经营场所真实、合法；经营范围不属于法律法规禁止的。",
        anticipate=(3, WORKING),
        promise=(1, WORKING),
        forms=["窗口办理", "网上办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url=AH_PORTAL,
        window="市场监管登记注册窗口",
        result=(ItemVersion.ResultType.CERTIFICATE, "营业执照（个体工商户）", "营业执照"),
        themes_natural=["设立变更", "就业创业"],
        keywords="个体户 开店 小卖部 营业执照 个体执照",
        materials=[
            own("个体工商户登记（备案）申请书"),
            ID_CARD,
            own("经营场所使用相关文件", notes="或按规定作经营场所申报承诺"),
        ],
        faqs=[
            ("个体工商户可以网上办理吗？", "可以，通过安徽政务服务网或皖事通全程网办，执照可邮寄。")
        ],
    ),
    item(
        "spjyxk",
        "la-scjgj",
        "食品经营许可",
        "行政许可",
        server=[*ENTERPRISE, "自然人"],
        laws=[
            law(
                "《中华人民共和国食品安全法》",
                "主席令第二十一号（2021年修正）",
                "第三十五条",
                "全国人民代表大会常务委员会",
                "国家对食品生产经营实行许可制度。从事食品生产、食品销售、餐饮服务，应当依法取得许可。",
            ),
            law(
                "《食品经营许可和备案管理办法》",
                "国家市场监督管理总局令第78号",
                "",
                "国家市场监督管理总局",
            ),
        ],
        accept="已取得营业执照等主体资格；具有与经营的食品品种、数量相适应的经营场所、设备设施、"
        "食品安全管理人员和管理制度。",
        anticipate=(10, WORKING),
        promise=(5, WORKING),
        forms=["窗口办理", "网上办理"],
        visits=1,
        visit_reason="需要现场核查的，核查人员到经营场所核查，申请人无需到窗口。",
        depth=ItemVersion.OnlineDepth.III,
        online_url=AH_PORTAL,
        special=["现场核查"],
        window="市场监管食品许可窗口",
        result=(ItemVersion.ResultType.CERTIFICATE, "食品经营许可证", "食品经营许可证"),
        themes_legal=["准营准办"],
        themes_natural=["就业创业"],
        keywords="开饭店 开餐馆 餐饮许可 食品许可证 卖食品",
        materials=[
            own("食品经营许可申请书"),
            LICENCE,
            own("与食品经营相适应的主要设备设施、经营布局、操作流程等文件"),
            own("食品安全自查、从业人员健康管理、进货查验记录等食品安全管理制度目录"),
        ],
        faqs=[
            ("只卖预包装食品也要办许可吗？", "仅销售预包装食品的，实行备案管理，不需要办理许可。"),
        ],
    ),
    item(
        "jyzx",
        "la-scjgj",
        "企业简易注销登记",
        "行政许可",
        server=ENTERPRISE,
        laws=[law("《中华人民共和国市场主体登记管理条例》", "国务院令第746号", "", "国务院")],
        accept="未发生债权债务或者已将债权债务清偿完结，未发生或者已结清清偿费用、职工工资、"
        "社会保险费用、法定补偿金、应缴纳税款（滞纳金、罚款），并由全体投资人书面承诺对上述情况"
        "的真实性承担法律责任；经国家企业信用信息公示系统公示20日无异议。",
        anticipate=(3, WORKING),
        anticipate_explain="公示期20日不计入办理时限。",
        promise=(1, WORKING),
        forms=["网上办理", "窗口办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url=AH_PORTAL,
        special=["公示"],
        window="市场监管登记注册窗口",
        result=(ItemVersion.ResultType.DOCUMENT, "准予注销登记通知书", ""),
        themes_legal=["注销"],
        keywords="公司注销 关公司 注销执照 简易注销",
        materials=[own("注销登记申请书"), own("全体投资人承诺书"), LICENCE],
        faqs=[
            ("公示期有人提异议怎么办？", "公示期内有异议的，不适用简易注销，可按一般注销程序办理。")
        ],
    ),
    # ============================== 人民银行 ==============================
    item(
        "yhkh",
        "la-rmyh",
        "企业银行账户开立（企业开办预约）",
        "公共服务",
        server=ENTERPRISE,
        laws=[
            law("《人民币银行结算账户管理办法》", "中国人民银行令〔2003〕第5号", "", "中国人民银行")
        ],
        accept="已领取营业执照的企业，通过企业开办平台选择开户银行并预约。",
        promise=(0, NOW),
        forms=["网上办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.II,
        online_url=AH_PORTAL,
        external=True,
        dept_name="开户银行（企业开办专区合作银行）",
        window="企业开办专区银行服务窗口",
        themes_legal=["设立变更"],
        keywords="银行开户 对公账户 基本户 开户预约",
        materials=[],
        faqs=[
            (
                "银行开户还需要人民银行核准吗？",
                "企业银行账户已取消核准、实行备案，由开户银行直接办理；在企业开办平台预约后到银行面签即可。",
            )
        ],
    ),
    # ============================== 公安局 ==============================
    item(
        "gzkzba",
        "la-gaj",
        "公章刻制备案",
        "其他行政权力",
        server=ENTERPRISE,
        laws=[
            law(
                "《国务院关于第三批取消中央指定地方实施行政许可事项的决定》",
                "国发〔2017〕7号",
                "",
                "国务院",
                "取消公章刻制审批，改为备案管理。",
            ),
        ],
        accept="依法设立的企业及其他组织，委托具备资质的公章刻制企业刻制印章。",
        promise=(0, NOW),
        forms=["网上办理", "窗口办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url=AH_PORTAL,
        window="公安综合窗口（企业开办专区）",
        result=(ItemVersion.ResultType.OTHER, "印章备案信息", ""),
        themes_legal=["设立变更"],
        keywords="刻章 刻公章 印章备案 公章 财务章 发票章",
        materials=[LICENCE, LEGAL_REP_ID, AGENT_ID],
        faqs=[
            (
                "刻章要收费吗？",
                "不少地方对新开办企业首套印章实行免费刻制；六安市的具体政策以企业开办专区窗口公布为准。",
            )
        ],
    ),
    item(
        "sfz",
        "la-gaj",
        "居民身份证申领、换领、补领",
        "行政确认",
        server=NATURAL_PERSON,
        laws=[
            law(
                "《中华人民共和国居民身份证法》",
                "主席令第五十一号（2011年修正）",
                "第十一条",
                "全国人民代表大会常务委员会",
                "公安机关应当自公民提交《居民身份证申领登记表》之日起六十日内发放居民身份证；"
                "交通不便的地区，办理时间可以适当延长，但延长的时间不得超过三十日。",
            ),
        ],
        accept="具有本市常住户口的中国公民；换领：证件有效期满、登记项目变更或证件损坏；"
        "补领：证件丢失。",
        anticipate=(60, NATURAL),
        promise=(20, WORKING),
        promise_explain="不含邮寄时间；急需的可申请临时居民身份证。",
        forms=["窗口办理"],
        visits=1,
        visit_reason="需现场采集人像和指纹信息。",
        depth=ItemVersion.OnlineDepth.II,
        online_url=AH_PORTAL,
        appointment=True,
        express=True,
        fee=[
            ("居民身份证工本费（申领、换领）", "每证20元"),
            ("居民身份证工本费（丢失补领、损坏换领）", "每证40元"),
        ],
        fee_basis=ID_CARD_FEE_BASIS,
        window="公安户政窗口",
        result=(ItemVersion.ResultType.CERTIFICATE, "居民身份证", "居民身份证"),
        themes_natural=["证件办理", "户籍办理"],
        keywords="身份证 办身份证 换身份证 补身份证 身份证丢了 二代证 身份证到期",
        situations=[
            ("first", "首次申领", "年满16周岁或未满16周岁自愿申领"),
            ("renew", "到期换领或登记项目变更换领", ""),
            ("lost", "丢失补领", ""),
        ],
        materials=[
            HOUSEHOLD,
            gov("原居民身份证", certificate="居民身份证", situations=["renew"]),
            own(
                "监护人居民身份证",
                necessity=Material.Necessity.OPTIONAL,
                situations=["first"],
                notes="未满16周岁的由监护人陪同",
            ),
        ],
        faqs=[
            (
                "在外地能换身份证吗？",
                "可以，居民身份证换领、补领已实现跨省通办，可在居住地公安户政窗口办理。",
            ),
            ("人像照片需要自带吗？", "不需要，窗口现场免费采集；也可使用符合标准的数码相片回执。"),
        ],
    ),
    item(
        "hkqr",
        "la-gaj",
        "户口迁入登记",
        "行政确认",
        server=NATURAL_PERSON,
        laws=[
            law(
                "《中华人民共和国户口登记条例》",
                "1958年1月9日全国人民代表大会常务委员会通过",
                "第十三条",
            ),
        ],
        accept="符合六安市户籍准入条件（购房、就业、投靠亲属等）的人员。",
        promise=(5, WORKING),
        forms=["窗口办理", "网上办理"],
        visits=1,
        visit_reason="需核验原户籍证件，领取新户口簿。",
        depth=ItemVersion.OnlineDepth.III,
        online_url=AH_PORTAL,
        handle_area=ItemVersion.HandleArea.CROSS_PROVINCE,
        window="公安户政窗口",
        result=(ItemVersion.ResultType.CERTIFICATE, "居民户口簿", "居民户口簿"),
        themes_natural=["户籍办理"],
        keywords="落户 迁户口 户口迁移 户口 入户",
        situations=[
            ("house", "购房落户", "在本市购买合法产权住房"),
            ("job", "就业落户", "在本市就业并参加社会保险"),
            ("kin", "投靠亲属", "夫妻、子女、父母投靠"),
        ],
        materials=[
            ID_CARD,
            HOUSEHOLD,
            gov("不动产权证书", situations=["house"]),
            own("劳动合同", situations=["job"], kind=Material.Kind.COPY),
            gov(
                "社会保险参保缴费记录",
                situations=["job"],
                data_resource="LA-DR-RS-001",
            ),
            gov(
                "结婚证",
                situations=["kin"],
                necessity=Material.Necessity.OPTIONAL,
                notes="夫妻投靠的提供",
            ),
            own("亲属关系证明", situations=["kin"], notes="可由户籍信息核验的免于提供"),
        ],
        faqs=[("跨省迁户口要回原籍吗？", "不需要，跨省迁移实行“一站式”办理，在迁入地申请即可。")],
    ),
    item(
        "csdj",
        "la-gaj",
        "出生登记",
        "行政确认",
        server=NATURAL_PERSON,
        laws=[
            law(
                "《中华人民共和国户口登记条例》",
                "",
                "第七条",
                "全国人民代表大会常务委员会",
                "婴儿出生后一个月以内，由户主、亲属、抚养人或者邻居向婴儿常住地户口登记机关申报出生登记。",
            )
        ],
        accept="在中华人民共和国境内出生、父母一方为本市户籍的婴儿。",
        promise=(0, NOW),
        forms=["窗口办理", "网上办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url=AH_PORTAL,
        window="公安户政窗口（新生儿出生一件事）",
        result=(ItemVersion.ResultType.OTHER, "户口登记（户口簿增页）", ""),
        themes_natural=["户籍办理", "生育收养"],
        keywords="上户口 报户口 新生儿落户 出生落户 宝宝户口",
        materials=[
            gov("出生医学证明"),
            HOUSEHOLD,
            gov("父母居民身份证", certificate="居民身份证"),
            gov("结婚证", necessity=Material.Necessity.OPTIONAL),
        ],
        faqs=[("孩子出生多久要报户口？", "应在出生后一个月内申报，逾期的仍可办理。")],
    ),
    item(
        "jtwf",
        "la-gaj",
        "交通违法处理",
        "行政处罚",
        server=NATURAL_PERSON + ENTERPRISE,
        laws=[
            law("《中华人民共和国道路交通安全法》", "", "", "全国人民代表大会常务委员会"),
            law("《道路交通安全违法行为处理程序规定》", "公安部令第157号", "", "公安部"),
        ],
        accept="机动车所有人或驾驶人处理道路交通安全违法行为（违章）。",
        promise=(0, NOW),
        forms=["网上办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url="https://ah.122.gov.cn/",
        external=True,
        dept_name="六安市公安局交通警察支队",
        window="交警违法处理窗口",
        themes_natural=["交通出行"],
        keywords="违章 交通违章 违章处理 罚单 扣分 交管12123 电子眼",
        materials=[],
        faqs=[("怎么查和处理违章？", "通过“交管12123”手机应用或网站查询、处理并缴纳罚款。")],
    ),
    item(
        "jszhz",
        "la-gaj",
        "机动车驾驶证期满换证",
        "行政许可",
        server=NATURAL_PERSON,
        laws=[law("《机动车驾驶证申领和使用规定》", "公安部令第162号", "", "公安部")],
        accept="机动车驾驶证有效期满前九十日内；驾驶人身体条件符合要求。",
        anticipate_explain="以《机动车驾驶证申领和使用规定》为准。",
        promise=(1, WORKING),
        forms=["网上办理", "窗口办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url="https://ah.122.gov.cn/",
        online_payment=True,
        express=True,
        fee=[("机动车驾驶证工本费", "每证10元")],
        fee_basis="国家发展改革委、财政部关于机动车驾驶证工本费标准的规定",
        dept_name="六安市公安局交通警察支队车辆管理所",
        window="车管所驾驶证窗口",
        result=(ItemVersion.ResultType.CERTIFICATE, "机动车驾驶证", "机动车驾驶证"),
        themes_natural=["交通出行", "证件办理"],
        keywords="驾照 换驾照 驾照到期 驾驶证换证 驾驶本",
        materials=[
            gov("机动车驾驶证"),
            ID_CARD,
            own("机动车驾驶人身体条件证明", notes="医疗机构出具，可网上查验"),
        ],
        faqs=[
            (
                "驾照过期了还能换吗？",
                "超过有效期一年以上未换证的，驾驶证将被注销；注销未超过二年的，考试合格后可恢复驾驶资格。",
            )
        ],
    ),
    # ============================== 税务局 ==============================
    item(
        "fply",
        "la-swj",
        "发票领用",
        "其他行政权力",
        server=[*ENTERPRISE, "自然人"],
        laws=[
            law("《中华人民共和国发票管理办法》", "国务院令第764号（2023年修订）", "", "国务院"),
        ],
        accept="已办理涉税信息确认的纳税人。",
        promise=(0, NOW),
        forms=["网上办理", "窗口办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url="https://etax.anhui.chinatax.gov.cn/",
        window="税务综合窗口（企业开办专区）",
        result=(ItemVersion.ResultType.OTHER, "发票票种核定及数电发票开票额度", ""),
        themes_legal=["税收财务"],
        keywords="领发票 发票申领 开发票 数电发票 票种核定",
        materials=[LICENCE, AGENT_ID],
        faqs=[("新办企业多久能开票？", "完成涉税信息确认后即可通过电子税务局开具数电发票。")],
    ),
    item(
        "swdj",
        "la-swj",
        "新办纳税人涉税信息确认（税务登记）",
        "行政确认",
        server=ENTERPRISE,
        laws=[
            law(
                "《中华人民共和国税收征收管理法》",
                "",
                "第十五条",
                "全国人民代表大会常务委员会",
                "企业……自领取营业执照之日起三十日内，持有关证件，向税务机关申报办理税务登记。",
            )
        ],
        accept="领取“一照一码”营业执照的新设立企业。",
        promise=(0, NOW),
        forms=["网上办理", "窗口办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url="https://etax.anhui.chinatax.gov.cn/",
        window="税务综合窗口（企业开办专区）",
        themes_legal=["税收财务", "设立变更"],
        keywords="税务登记 报到 税务报到 新办企业 办税",
        materials=[LICENCE, LEGAL_REP_ID],
        faqs=[
            (
                "还要单独办税务登记证吗？",
                "不需要。实行“一照一码”，营业执照即可作为税务登记证件使用。",
            )
        ],
    ),
    item(
        "qssb",
        "la-swj",
        "契税申报（不动产交易）",
        "其他行政权力",
        server=NATURAL_PERSON + ENTERPRISE,
        laws=[
            law("《中华人民共和国契税法》", "主席令第五十二号", "", "全国人民代表大会常务委员会")
        ],
        accept="在本市境内转移土地、房屋权属的承受人，于办理不动产权属登记前申报缴纳契税。",
        promise=(0, NOW),
        forms=["窗口办理", "网上办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url="https://etax.anhui.chinatax.gov.cn/",
        window="不动产交易登记税务窗口",
        result=(ItemVersion.ResultType.CERTIFICATE, "契税完税凭证", "完税证明"),
        themes_natural=["住房保障"],
        keywords="契税 交契税 买房交税 二手房税费",
        materials=[
            ID_CARD_SHARED,
            own("房屋买卖合同（网签备案合同）", notes="可通过住建部门网签备案信息共享获取"),
        ],
        faqs=[
            (
                "首套房契税怎么算？",
                "按现行契税优惠政策执行，窗口根据家庭住房情况核定，请以办理时政策为准。",
            )
        ],
    ),
    # ============================== 人社局 ==============================
    item(
        "dwsbdj",
        "la-rsj",
        "单位社会保险登记",
        "行政确认",
        server=LEGAL_PERSON,
        laws=[
            law(
                "《中华人民共和国社会保险法》",
                "",
                "第五十七条",
                "全国人民代表大会常务委员会",
                "用人单位应当自成立之日起三十日内凭营业执照、登记证书或者单位印章，向当地社会保险"
                "经办机构申请办理社会保险登记。社会保险经办机构应当自收到申请之日起十五日内予以审核。",
            )
        ],
        accept="在本市依法设立的用人单位。",
        anticipate=(15, NATURAL),
        promise=(0, NOW),
        forms=["网上办理", "窗口办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url=AH_PORTAL,
        window="人社综合窗口（企业开办专区）",
        themes_legal=["社会保障", "设立变更"],
        keywords="社保登记 社保开户 单位参保 企业社保",
        materials=[LICENCE, own("社会保险登记表", notes="企业开办平台在线填报，免于提交纸质表")],
        faqs=[("新公司多长时间内要办社保登记？", "应当自成立之日起30日内办理。")],
    ),
    item(
        "sbcx",
        "la-rsj",
        "个人社会保险参保缴费查询",
        "公共服务",
        server=NATURAL_PERSON,
        laws=[law("《中华人民共和国社会保险法》", "", "第七十四条", "全国人民代表大会常务委员会")],
        accept="参加社会保险的个人。",
        promise=(0, NOW),
        forms=["网上办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url="https://si.12333.gov.cn/",
        external=True,
        window="人社综合窗口",
        themes_natural=["社会保障"],
        keywords="社保查询 查社保 社保缴费记录 养老保险查询 参保证明",
        materials=[],
        faqs=[("在哪里查社保？", "通过国家社会保险公共服务平台、皖事通或掌上12333查询。")],
    ),
    item(
        "sybxj",
        "la-rsj",
        "失业保险金申领",
        "行政给付",
        server=NATURAL_PERSON,
        laws=[
            law("《中华人民共和国社会保险法》", "", "第四十五条", "全国人民代表大会常务委员会"),
            law("《失业保险条例》", "国务院令第258号", "第十四条", "国务院"),
        ],
        accept="失业前用人单位和本人已经缴纳失业保险费满一年；非因本人意愿中断就业；"
        "已经进行失业登记，并有求职要求。",
        promise=(5, WORKING),
        forms=["网上办理", "窗口办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url=AH_PORTAL,
        window="人社就业服务窗口",
        result=(ItemVersion.ResultType.OTHER, "失业保险待遇核定结果", ""),
        themes_natural=["社会保障", "就业创业"],
        keywords="失业金 失业保险金 领失业金 下岗",
        materials=[ID_CARD, gov("社会保障卡"), own("解除或者终止劳动关系的证明")],
        faqs=[("失业金能领多久？", "根据失业前累计缴费时间确定，最长不超过24个月。")],
    ),
    item(
        "sbk",
        "la-rsj",
        "社会保障卡申领",
        "公共服务",
        server=NATURAL_PERSON,
        laws=[law("《中华人民共和国社会保险法》", "", "第五十八条", "全国人民代表大会常务委员会")],
        accept="在本市参加社会保险的人员。",
        promise=(0, NOW),
        forms=["窗口办理", "网上办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.III,
        online_url=AH_PORTAL,
        express=True,
        window="社保卡即时制卡窗口",
        result=(ItemVersion.ResultType.CERTIFICATE, "社会保障卡", "社会保障卡"),
        themes_natural=["社会保障", "证件办理"],
        keywords="社保卡 办社保卡 补社保卡 医保卡",
        materials=[ID_CARD],
        faqs=[("社保卡丢了怎么办？", "先通过12333或皖事通挂失，再到即时制卡网点补领。")],
    ),
    item(
        "txdy",
        "la-rsj",
        "企业职工基本养老保险待遇申领（退休）",
        "行政给付",
        server=NATURAL_PERSON,
        laws=[law("《中华人民共和国社会保险法》", "", "第十六条", "全国人民代表大会常务委员会")],
        accept="达到法定退休年龄，且累计缴费满十五年（按国家渐进式延迟法定退休年龄规定执行）。",
        promise=(10, WORKING),
        forms=["网上办理", "窗口办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url=AH_PORTAL,
        window="人社养老保险窗口（退休一件事）",
        result=(ItemVersion.ResultType.CERTIFICATE, "退休证明", "退休证明"),
        themes_natural=["社会保障", "退休"],
        keywords="退休 办退休 养老金 领养老金 退休手续",
        materials=[ID_CARD, gov("社会保障卡"), own("本人职工档案", notes="存档机构传递")],
        faqs=[
            ("退休手续要本人去吗？", "可以网上申请；资格确认后养老金按月发放到社会保障卡金融账户。")
        ],
    ),
    # ============================== 住房公积金管理中心 ==============================
    item(
        "gjjdj",
        "la-gjjzx",
        "单位住房公积金缴存登记",
        "公共服务",
        server=LEGAL_PERSON,
        laws=[
            law(
                "《住房公积金管理条例》",
                "国务院令第262号（2019年修订）",
                "第十四条",
                "国务院",
                "新设立的单位应当自设立之日起30日内向住房公积金管理中心办理住房公积金缴存登记。",
            )
        ],
        accept="在本市设立的单位。",
        promise=(0, NOW),
        forms=["网上办理", "窗口办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url=AH_PORTAL,
        window="住房公积金窗口（企业开办专区）",
        themes_legal=["社会保障", "设立变更"],
        keywords="公积金开户 公积金登记 单位公积金 公积金缴存",
        materials=[LICENCE, own("住房公积金单位登记表", notes="企业开办平台在线填报"), AGENT_ID],
        faqs=[
            (
                "公积金缴存比例是多少？",
                "单位和职工缴存比例均不低于5%、不高于12%，由单位在规定范围内确定。",
            )
        ],
    ),
    item(
        "gjjtq",
        "la-gjjzx",
        "住房公积金提取",
        "公共服务",
        server=NATURAL_PERSON,
        laws=[
            law(
                "《住房公积金管理条例》",
                "国务院令第262号（2019年修订）",
                "第二十四条",
                "国务院",
                "职工有下列情形之一的，可以提取职工住房公积金账户内的存储余额：（一）购买、建造、"
                "翻建、大修自住住房的；（二）离休、退休的；……",
            ),
            law(
                "《住房公积金管理条例》",
                "国务院令第262号（2019年修订）",
                "第二十五条",
                "国务院",
                "住房公积金管理中心应当自受理申请之日起3日内作出准予提取或者不准提取的决定，并通知申请人。",
            ),
        ],
        accept="缴存职工符合购房、退休、与单位终止劳动关系等提取条件。",
        anticipate=(3, NATURAL),
        promise=(1, WORKING),
        forms=["网上办理", "窗口办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url=AH_PORTAL,
        window="住房公积金窗口",
        result=(ItemVersion.ResultType.OTHER, "提取资金到账", ""),
        themes_natural=["住房保障", "社会保障"],
        keywords="公积金 提公积金 取公积金 公积金提取 买房提公积金 退休提公积金 离职提公积金",
        situations=[
            ("purchase", "购买自住住房", "购买商品房或二手房，提取本人及配偶公积金"),
            ("retire", "离休、退休", "销户提取"),
            ("leave", "与单位终止劳动关系", "离职后未重新就业满半年"),
        ],
        rules=GJJTQ_DMN,
        materials=[
            ID_CARD_SHARED,
            own("本人银行借记卡", notes="一类账户，用于接收提取资金"),
            gov(
                "不动产权证书或网签备案购房合同",
                certificate="不动产权证书",
                situations=["purchase"],
                data_resource=DR_REAL_ESTATE,
            ),
            gov(
                "购房契税完税凭证",
                certificate="完税证明",
                situations=["purchase"],
                data_resource=DR_TAX_PAID,
            ),
            gov(
                "结婚证",
                situations=["purchase"],
                necessity=Material.Necessity.OPTIONAL,
                notes="提取配偶公积金时",
            ),
            gov("退休证明", situations=["retire"]),
            own("解除或终止劳动关系证明", situations=["leave"]),
        ],
        faqs=[
            ("离职多久能提公积金？", "与单位终止劳动关系后未重新就业满半年的，可以申请提取。"),
            ("买二手房能提公积金吗？", "可以，在不动产登记完成后凭不动产权证书办理购房提取。"),
        ],
    ),
    item(
        "gjjdk",
        "la-gjjzx",
        "住房公积金个人住房贷款",
        "公共服务",
        server=NATURAL_PERSON,
        laws=[
            law("《住房公积金管理条例》", "国务院令第262号（2019年修订）", "第二十六条", "国务院")
        ],
        accept="连续足额缴存住房公积金满规定期限，购买、建造、翻建、大修自住住房。",
        anticipate=(15, NATURAL),
        promise=(10, WORKING),
        forms=["窗口办理", "网上办理"],
        visits=1,
        visit_reason="需面签借款合同。",
        depth=ItemVersion.OnlineDepth.III,
        online_url=AH_PORTAL,
        window="住房公积金贷款窗口",
        result=(ItemVersion.ResultType.OTHER, "住房公积金贷款审批结果", ""),
        themes_natural=["住房保障"],
        keywords="公积金贷款 买房贷款 房贷 公积金买房",
        materials=[
            ID_CARD,
            gov("结婚证", necessity=Material.Necessity.OPTIONAL),
            own("购房合同"),
            own("收入证明"),
        ],
        faqs=[
            (
                "公积金贷款最高能贷多少？",
                "按六安市住房公积金管理委员会现行政策确定，请以办理时公布的额度为准。",
            )
        ],
    ),
    # ============================== 住建局 ==============================
    item(
        "sgxk",
        "la-zjj",
        "建筑工程施工许可证核发",
        "行政许可",
        server=LEGAL_PERSON,
        laws=[
            law(
                "《中华人民共和国建筑法》",
                "",
                "第八条",
                "全国人民代表大会常务委员会",
                "建设行政主管部门应当自收到申请之日起七日内，对符合条件的申请颁发施工许可证。",
            ),
            law("《建筑工程施工许可管理办法》", "住房和城乡建设部令第18号", "", "住房和城乡建设部"),
        ],
        accept="已办理用地、规划批准手续；已确定施工企业；有满足施工需要的资金安排、施工图纸"
        "及技术资料；有保证工程质量和安全的具体措施。",
        anticipate=(7, WORKING),
        promise=(3, WORKING),
        forms=["网上办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url=AH_PORTAL,
        window="工程建设项目审批窗口",
        result=(ItemVersion.ResultType.CERTIFICATE, "建筑工程施工许可证", ""),
        themes_legal=["工程建设"],
        keywords="施工许可 施工证 开工许可",
        materials=[
            own("建筑工程施工许可证申请表"),
            gov("建设工程规划许可证"),
            own("中标通知书或直接发包文件", kind=Material.Kind.COPY),
            own("建设资金已经落实承诺书"),
        ],
        faqs=[
            (
                "施工图审查合格书还要提交吗？",
                "按现行改革要求，可通过系统共享审查信息，不再要求提交纸质合格书。",
            )
        ],
    ),
    item(
        "spfys",
        "la-zjj",
        "商品房预售许可",
        "行政许可",
        server=ENTERPRISE,
        laws=[
            law(
                "《中华人民共和国城市房地产管理法》", "", "第四十五条", "全国人民代表大会常务委员会"
            ),
            law("《城市商品房预售管理办法》", "建设部令第131号", "", "建设部"),
        ],
        accept="已交付全部土地使用权出让金，取得土地使用权证书；持有建设工程规划许可证和施工许可证；"
        "投入开发建设的资金达到工程建设总投资的25%以上，并已经确定施工进度和竣工交付日期。",
        anticipate=(10, WORKING),
        promise=(5, WORKING),
        forms=["窗口办理", "网上办理"],
        visits=1,
        visit_reason="需现场查勘形象进度。",
        depth=ItemVersion.OnlineDepth.III,
        online_url=AH_PORTAL,
        special=["现场查勘"],
        window="房地产交易窗口",
        result=(ItemVersion.ResultType.CERTIFICATE, "商品房预售许可证", ""),
        themes_legal=["工程建设"],
        keywords="预售证 卖期房 预售许可",
        materials=[
            own("商品房预售许可申请表"),
            LICENCE,
            gov("不动产权证书", notes="土地使用权证明"),
            gov("建设工程规划许可证"),
            own("建筑工程施工许可证", kind=Material.Kind.COPY),
            own("工程施工合同及关于施工进度的说明"),
            own("商品房预售方案"),
        ],
        faqs=[("预售资金如何监管？", "预售资金进入监管账户，按工程进度拨付。")],
    ),
    item(
        "wqba",
        "la-zjj",
        "存量房买卖合同网签备案",
        "公共服务",
        server=NATURAL_PERSON + ENTERPRISE,
        laws=[
            law(
                "《住房和城乡建设部关于进一步规范和加强房屋网签备案工作的指导意见》",
                "建房〔2018〕128号",
                "",
                "住房和城乡建设部",
            )
        ],
        accept="买卖双方就已取得不动产权证书的住房达成买卖协议。",
        promise=(0, NOW),
        forms=["窗口办理", "网上办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.III,
        online_url=AH_PORTAL,
        window="不动产交易登记综合窗口",
        result=(ItemVersion.ResultType.OTHER, "存量房买卖合同备案信息", ""),
        themes_natural=["住房保障"],
        keywords="二手房网签 网签 合同备案 二手房过户 卖房",
        materials=[
            gov("买卖双方居民身份证", certificate="居民身份证", data_resource=DR_POPULATION),
            gov("不动产权证书", data_resource=DR_REAL_ESTATE),
            own("存量房买卖合同", count=3),
        ],
        faqs=[("网签后可以撤销吗？", "买卖双方协商一致或依法解除合同的，可以申请注销网签备案。")],
    ),
    # ======================= 自然资源和规划局（不动产登记中心） =======================
    item(
        "bdcsc",
        "la-zrzyghj",
        "国有建设用地使用权及房屋所有权首次登记",
        "行政确认",
        server=[*ENTERPRISE, "自然人"],
        laws=[
            law(
                "《不动产登记暂行条例》",
                "国务院令第656号",
                "第二十条",
                "国务院",
                "不动产登记机构应当自受理登记申请之日起30个工作日内办结不动产登记手续，"
                "法律另有规定的除外。",
            ),
            law("《不动产登记暂行条例实施细则》", "国土资源部令第63号", "", "国土资源部"),
        ],
        accept="房屋已竣工验收，权属来源合法、界址清楚。",
        anticipate=(30, WORKING),
        promise=(5, WORKING),
        forms=["窗口办理", "网上办理"],
        visits=1,
        visit_reason="需核验原件并领取不动产权证书（可选择邮寄）。",
        depth=ItemVersion.OnlineDepth.III,
        online_url=AH_PORTAL,
        express=True,
        fee=[
            ("不动产登记费（住宅类）", "每件80元"),
            ("不动产登记费（非住宅类）", "每件550元"),
            ("不动产权证书工本费", "首本免收；每增加一本加收10元"),
        ],
        fee_basis=REGISTRATION_FEE_BASIS,
        window="不动产登记窗口",
        result=(ItemVersion.ResultType.CERTIFICATE, "不动产权证书", "不动产权证书"),
        themes_legal=["工程建设"],
        themes_natural=["住房保障"],
        keywords="不动产登记 首次登记 初始登记 大产证 房产证",
        materials=[
            own("不动产登记申请书"),
            LICENCE,
            gov("土地使用权不动产权证书", certificate="不动产权证书"),
            own("建设工程竣工验收备案材料"),
            own("房屋测绘成果报告", source=Material.Source.INTERMEDIARY),
        ],
        faqs=[
            (
                "首次登记后购房人怎么办证？",
                "开发企业完成首次登记后，购房人可申请转移登记，领取本人的不动产权证书。",
            )
        ],
    ),
    item(
        "bdczy",
        "la-zrzyghj",
        "不动产转移登记（含二手房过户）",
        "行政确认",
        server=NATURAL_PERSON + ENTERPRISE,
        laws=[
            law("《不动产登记暂行条例》", "国务院令第656号", "第二十条", "国务院"),
            law("《中华人民共和国民法典》", "", "第二百零九条", "全国人民代表大会"),
        ],
        accept="因买卖、赠与、继承等导致不动产权利转移的。",
        anticipate=(30, WORKING),
        promise=(1, WORKING),
        forms=["窗口办理", "网上办理"],
        visits=1,
        visit_reason="买卖双方需现场核验身份并签署询问笔录（已开通“带押过户”“不见面”办理的除外）。",
        depth=ItemVersion.OnlineDepth.III,
        online_url=AH_PORTAL,
        express=True,
        fee=[
            ("不动产登记费（住宅类）", "每件80元"),
            ("不动产登记费（非住宅类）", "每件550元"),
            ("不动产权证书工本费", "首本免收；每增加一本加收10元"),
        ],
        fee_basis=REGISTRATION_FEE_BASIS,
        window="不动产交易登记综合窗口",
        result=(ItemVersion.ResultType.CERTIFICATE, "不动产权证书", "不动产权证书"),
        themes_natural=["住房保障"],
        themes_legal=["工程建设"],
        keywords="二手房过户 房产过户 买房过户 卖房 房产证过户 转移登记 房本",
        situations=[
            ("sale", "存量房（二手房）买卖", ""),
            ("gift", "赠与", ""),
            ("inherit", "继承、受遗赠", ""),
        ],
        materials=[
            own("不动产登记申请书"),
            gov("双方当事人居民身份证", certificate="居民身份证", data_resource=DR_POPULATION),
            gov("不动产权证书", data_resource=DR_REAL_ESTATE),
            own("存量房买卖合同（网签备案）", situations=["sale"], notes="可共享网签备案信息"),
            gov(
                "契税完税凭证",
                certificate="完税证明",
                situations=["sale", "gift"],
                data_resource=DR_TAX_PAID,
            ),
            own("经公证的赠与合同或赠与合同", situations=["gift"]),
            own("继承权公证书或生效法律文书", situations=["inherit"]),
        ],
        faqs=[
            (
                "二手房过户要跑几个窗口？",
                "在不动产交易登记综合窗口一次受理，网签、缴税、登记和水电气网过户联办。",
            ),
            ("过户多久拿证？", "资料齐全的，1个工作日内办结，可选择邮寄或领取电子证照。"),
        ],
    ),
    item(
        "dydj",
        "la-zrzyghj",
        "不动产抵押权登记",
        "行政确认",
        server=NATURAL_PERSON + ENTERPRISE,
        laws=[law("《不动产登记暂行条例》", "国务院令第656号", "第二十条", "国务院")],
        accept="以不动产设定抵押的。",
        anticipate=(30, WORKING),
        promise=(1, WORKING),
        forms=["网上办理", "窗口办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url=AH_PORTAL,
        fee=[("不动产登记费（住宅类）", "每件80元")],
        fee_basis=REGISTRATION_FEE_BASIS,
        online_payment=True,
        window="不动产登记窗口（银行网点延伸服务）",
        result=(ItemVersion.ResultType.CERTIFICATE, "不动产登记证明", "不动产登记证明"),
        themes_natural=["住房保障"],
        themes_legal=["金融服务"],
        keywords="抵押登记 房屋抵押 按揭登记 贷款抵押",
        materials=[
            own("不动产登记申请书"),
            gov("不动产权证书"),
            own("主债权合同及抵押合同"),
            ID_CARD,
        ],
        faqs=[
            (
                "可以在银行办抵押登记吗？",
                "可以，已开通登记服务延伸至银行网点的，在放贷银行直接申请。",
            )
        ],
    ),
    item(
        "gcghxk",
        "la-zrzyghj",
        "建设工程规划许可证核发",
        "行政许可",
        server=LEGAL_PERSON,
        laws=[
            law("《中华人民共和国城乡规划法》", "", "第四十条", "全国人民代表大会常务委员会"),
            law(*LICENSING_LAW),
        ],
        accept="建设项目已取得用地手续，设计方案符合控制性详细规划和规划条件。",
        anticipate=(20, WORKING),
        promise=(10, WORKING),
        forms=["网上办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url=AH_PORTAL,
        special=["专家评审", "批前公示"],
        window="工程建设项目审批窗口",
        result=(ItemVersion.ResultType.CERTIFICATE, "建设工程规划许可证", "建设工程规划许可证"),
        themes_legal=["工程建设"],
        keywords="规划许可 工程规划证 规划证",
        materials=[
            own("建设工程规划许可申请表"),
            gov("不动产权证书", notes="土地权属证明"),
            own("建设工程设计方案", source=Material.Source.INTERMEDIARY),
        ],
        faqs=[
            ("批前公示时间算在办理时限内吗？", "专家评审、批前公示等特别程序时间不计入办理时限。")
        ],
    ),
    item(
        "ydghxk",
        "la-zrzyghj",
        "建设用地规划许可证核发",
        "行政许可",
        server=LEGAL_PERSON,
        laws=[
            law(
                "《中华人民共和国城乡规划法》",
                "",
                "第三十七条、第三十八条",
                "全国人民代表大会常务委员会",
            ),
            law(*LICENSING_LAW),
        ],
        accept="以划拨方式取得国有土地使用权的建设项目已取得选址意见；以出让方式取得的已签订出让合同。",
        anticipate=(20, WORKING),
        promise=(5, WORKING),
        forms=["网上办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url=AH_PORTAL,
        window="工程建设项目审批窗口",
        result=(ItemVersion.ResultType.CERTIFICATE, "建设用地规划许可证", "建设用地规划许可证"),
        themes_legal=["工程建设"],
        keywords="用地规划许可 用地规划证",
        materials=[own("建设用地规划许可申请表"), own("国有建设用地使用权出让合同或划拨决定书")],
        faqs=[("出让用地还需要选址意见书吗？", "以出让方式取得的，不再办理选址意见书。")],
    ),
    # ============================== 民政局 ==============================
    item(
        "dbshqr",
        "la-mzj",
        "最低生活保障审核确认",
        "行政给付",
        server=NATURAL_PERSON,
        laws=[
            law("《社会救助暂行办法》", "国务院令第649号", "", "国务院"),
            law("《最低生活保障审核确认办法》", "民发〔2021〕57号", "", "民政部"),
        ],
        accept="持有本市户籍，共同生活的家庭成员人均收入低于当地最低生活保障标准，且家庭财产状况"
        "符合规定。",
        anticipate=(30, WORKING),
        anticipate_explain="特殊情况可延长至45个工作日。",
        promise=(20, WORKING),
        forms=["窗口办理", "网上办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.III,
        online_url=AH_PORTAL,
        special=["入户调查", "民主评议", "公示"],
        dept_note="乡镇人民政府（街道办事处）受理，县级民政部门审核确认",
        window="民政社会救助窗口（或户籍所在地乡镇、街道便民服务中心）",
        result=(ItemVersion.ResultType.OTHER, "最低生活保障审核确认决定", ""),
        themes_natural=["社会救助"],
        keywords="低保 吃低保 申请低保 最低生活保障 困难补助",
        materials=[
            own("最低生活保障申请书"),
            ID_CARD,
            HOUSEHOLD,
            own("家庭经济状况核对授权书", notes="家庭成员签字授权查询收入、财产信息"),
            own("家庭收入、财产情况说明"),
        ],
        faqs=[
            (
                "低保申请可以在网上办吗？",
                "可以在皖事通在线申请，也可以委托村（居）民委员会代为提出。",
            )
        ],
    ),
    item(
        "jhdj",
        "la-mzj",
        "内地居民结婚登记",
        "行政确认",
        server=NATURAL_PERSON,
        laws=[
            law(
                "《中华人民共和国民法典》",
                "",
                "第一千零四十九条",
                "全国人民代表大会",
                "要求结婚的男女双方应当亲自到婚姻登记机关申请结婚登记。符合本法规定的，予以登记，发给结婚证。",
            ),
            law("《婚姻登记条例》", "国务院令（2025年修订）", "", "国务院"),
        ],
        accept="男女双方自愿，达到法定婚龄，双方均无配偶，没有直系血亲和三代以内旁系血亲关系。",
        promise=(0, NOW),
        forms=["窗口办理"],
        visits=1,
        visit_reason="法律规定男女双方应当亲自到婚姻登记机关申请。",
        depth=ItemVersion.OnlineDepth.II,
        online_url=AH_PORTAL,
        appointment=True,
        handle_area=ItemVersion.HandleArea.NATIONWIDE,
        dept_name="六安市民政局婚姻登记处",
        window="婚姻登记处（可网上预约）",
        result=(ItemVersion.ResultType.CERTIFICATE, "结婚证", "结婚证"),
        themes_natural=["婚姻登记"],
        keywords="结婚 领证 结婚证 结婚登记 扯证",
        materials=[
            gov("双方居民身份证", certificate="居民身份证"),
            own("双方近期半身免冠合影照片", count=3, notes="2寸，红底"),
            own(
                "本人无配偶以及与对方没有直系血亲和三代以内旁系血亲关系的签字声明", notes="现场签署"
            ),
        ],
        faqs=[
            (
                "结婚登记还需要户口簿吗？",
                "按2025年修订的《婚姻登记条例》，凭身份证即可办理，可在全国范围内办理。",
            )
        ],
    ),
    item(
        "lhdj",
        "la-mzj",
        "内地居民离婚登记",
        "行政确认",
        server=NATURAL_PERSON,
        laws=[
            law(
                "《中华人民共和国民法典》",
                "",
                "第一千零七十七条",
                "全国人民代表大会",
                "自婚姻登记机关收到离婚登记申请之日起三十日内，任何一方不愿意离婚的，可以向婚姻登记机关撤回离婚登记申请。",
            )
        ],
        accept="双方自愿离婚，对子女抚养、财产及债务处理等事项协商一致。",
        anticipate=(30, NATURAL),
        anticipate_explain="离婚冷静期三十日，期满后三十日内双方亲自到场申请发给离婚证。",
        promise=(30, NATURAL),
        forms=["窗口办理"],
        visits=2,
        visit_reason="法律规定双方须亲自申请，冷静期满后再次共同到场领证。",
        depth=ItemVersion.OnlineDepth.II,
        online_url=AH_PORTAL,
        appointment=True,
        dept_name="六安市民政局婚姻登记处",
        window="婚姻登记处",
        result=(ItemVersion.ResultType.CERTIFICATE, "离婚证", "离婚证"),
        themes_natural=["婚姻登记"],
        keywords="离婚 离婚证 协议离婚 离婚冷静期",
        materials=[
            gov("双方居民身份证", certificate="居民身份证"),
            gov("结婚证"),
            own("离婚协议书", count=3),
        ],
        faqs=[("离婚冷静期是多久？", "30日。冷静期内任何一方不愿离婚的，可以撤回申请。")],
    ),
    item(
        "tkry",
        "la-mzj",
        "特困人员救助供养审核确认",
        "行政给付",
        server=NATURAL_PERSON,
        laws=[law("《社会救助暂行办法》", "国务院令第649号", "第十四条", "国务院")],
        accept="无劳动能力、无生活来源，且无法定赡养、抚养、扶养义务人或者其法定义务人无履行义务能力"
        "的老年人、残疾人以及未满16周岁的未成年人。",
        promise=(20, WORKING),
        forms=["窗口办理", "网上办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.III,
        online_url=AH_PORTAL,
        special=["入户调查", "公示"],
        window="民政社会救助窗口",
        result=(ItemVersion.ResultType.OTHER, "特困人员救助供养审核确认决定", ""),
        themes_natural=["社会救助"],
        keywords="五保 五保户 特困供养 孤寡老人",
        materials=[own("特困人员救助供养申请书"), ID_CARD, HOUSEHOLD],
        faqs=[
            (
                "可以选择集中供养吗？",
                "生活不能自理的优先安排到供养服务机构集中供养，也可选择在家分散供养。",
            )
        ],
    ),
    item(
        "gljt",
        "la-mzj",
        "高龄津贴发放",
        "行政给付",
        server=NATURAL_PERSON,
        laws=[law("《中华人民共和国老年人权益保障法》", "", "", "全国人民代表大会常务委员会")],
        accept="具有本市户籍、年满规定年龄的老年人（标准按六安市现行政策执行）。",
        promise=(15, WORKING),
        forms=["窗口办理", "网上办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url=AH_PORTAL,
        window="民政养老服务窗口（或户籍所在地乡镇、街道便民服务中心）",
        themes_natural=["社会救助", "养老服务"],
        keywords="高龄津贴 老人补贴 高龄补贴 尊老金 80岁补贴",
        materials=[ID_CARD, gov("社会保障卡", notes="津贴发放账户")],
        faqs=[
            ("高龄津贴按月发吗？", "按月或按季发放到老年人社会保障卡金融账户，具体以当地政策为准。")
        ],
    ),
    item(
        "cjrbt",
        "la-mzj",
        "困难残疾人生活补贴和重度残疾人护理补贴",
        "行政给付",
        server=NATURAL_PERSON,
        laws=[
            law(
                "《国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见》",
                "国发〔2015〕52号",
                "",
                "国务院",
            )
        ],
        accept="具有本市户籍、持有第二代残疾人证；生活补贴面向低保家庭中的残疾人，护理补贴面向残疾"
        "等级为一级、二级且需要长期照护的重度残疾人。",
        promise=(15, WORKING),
        forms=["窗口办理", "网上办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url=AH_PORTAL,
        window="民政社会救助窗口",
        result=(ItemVersion.ResultType.OTHER, "补贴审核确认结果", ""),
        themes_natural=["社会救助", "残疾人服务"],
        keywords="残疾人补贴 两项补贴 护理补贴 残补",
        materials=[own("残疾人两项补贴申请审批表"), ID_CARD, gov("残疾人证")],
        faqs=[("两项补贴可以同时领吗？", "符合条件的可以同时享受生活补贴和护理补贴。")],
    ),
    # ============================== 卫健委 ==============================
    item(
        "yygh",
        "la-wjw",
        "医疗机构预约挂号",
        "公共服务",
        server=NATURAL_PERSON,
        laws=[law("《医疗机构管理条例》", "国务院令第149号", "", "国务院")],
        accept="需要在本市公立医疗机构就诊的群众。",
        promise=(0, NOW),
        forms=["网上办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url=AH_PORTAL,
        external=True,
        dept_name="六安市各公立医疗机构（卫健委统筹）",
        window="各医院门诊服务台",
        themes_natural=["医疗卫生"],
        keywords="挂号 预约挂号 看病 医院挂号 网上挂号 专家号",
        materials=[],
        faqs=[
            (
                "怎样网上挂号？",
                "通过皖事通、医院官方公众号或小程序预约，就诊时出示医保电子凭证或社保卡。",
            )
        ],
    ),
    item(
        "yljgdj",
        "la-wjw",
        "医疗机构执业登记",
        "行政许可",
        server=LEGAL_PERSON,
        laws=[
            law("《医疗机构管理条例》", "国务院令第149号（2022年修订）", "", "国务院"),
            law("《医疗机构管理条例实施细则》", "", "", "国家卫生健康委员会"),
        ],
        accept="按照医疗机构基本标准设置，具备相应的场所、设备、人员和规章制度。",
        anticipate=(45, NATURAL),
        promise=(20, WORKING),
        forms=["窗口办理", "网上办理"],
        visits=1,
        visit_reason="现场审核执业场所，由审核人员上门，申请人无需到窗口。",
        depth=ItemVersion.OnlineDepth.III,
        online_url=AH_PORTAL,
        special=["现场审核"],
        window="卫健审批窗口",
        result=(ItemVersion.ResultType.CERTIFICATE, "医疗机构执业许可证", "医疗机构执业许可证"),
        themes_legal=["医疗卫生"],
        keywords="开诊所 开医院 诊所执业许可 医疗机构许可",
        materials=[
            own("医疗机构执业登记申请书"),
            own("医疗机构用房产权证明或者使用证明"),
            own("医疗机构建筑设计平面图"),
            own("验资证明、资产评估报告", source=Material.Source.INTERMEDIARY),
            own("医疗机构规章制度"),
            gov(
                "医疗机构法定代表人或者主要负责人以及各科室负责人名录和有关资格证书、执业证书",
                certificate="医师资格证书",
            ),
        ],
        faqs=[("开诊所还要先申请设置审批吗？", "诊所实行备案管理；其他医疗机构按规定办理。")],
    ),
    item(
        "yszc",
        "la-wjw",
        "医师执业注册",
        "行政许可",
        server=NATURAL_PERSON,
        laws=[
            law("《中华人民共和国医师法》", "主席令第九十四号", "", "全国人民代表大会常务委员会")
        ],
        accept="取得医师资格，拟在医疗卫生机构中执业。",
        anticipate=(20, WORKING),
        promise=(5, WORKING),
        forms=["网上办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url=AH_PORTAL,
        window="卫健审批窗口",
        result=(ItemVersion.ResultType.CERTIFICATE, "医师执业证", ""),
        themes_natural=["医疗卫生", "职业资格"],
        keywords="医师注册 执业医师注册 医生注册 电子化注册",
        materials=[
            own("医师执业注册申请审核表"),
            gov("医师资格证书"),
            ID_CARD,
            own("近6个月内的健康体检表"),
        ],
        faqs=[("执业注册可以全程网办吗？", "可以，通过国家医师电子化注册系统申请，无需到窗口。")],
    ),
    item(
        "ggcswsxk",
        "la-wjw",
        "公共场所卫生许可",
        "行政许可",
        server=[*ENTERPRISE, "自然人"],
        laws=[
            law("《公共场所卫生管理条例》", "国务院（2019年修订）", "", "国务院"),
            law(*LICENSING_LAW),
        ],
        accept="宾馆、美容美发、游泳场所等公共场所经营者，具备符合卫生要求的场所和设施。",
        anticipate=(20, WORKING),
        promise=(5, WORKING),
        forms=["窗口办理", "网上办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.III,
        online_url=AH_PORTAL,
        window="卫健审批窗口",
        result=(ItemVersion.ResultType.CERTIFICATE, "公共场所卫生许可证", ""),
        themes_legal=["准营准办"],
        themes_natural=["就业创业"],
        keywords="卫生许可证 开宾馆 开理发店 美容院 游泳馆",
        materials=[own("公共场所卫生许可申请表"), LICENCE, own("卫生管理制度")],
        faqs=[
            (
                "理发店一定要办卫生许可吗？",
                "按现行规定，部分公共场所已实行告知承诺或取消许可，窗口会告知具体要求。",
            )
        ],
    ),
    # ============================== 教体局 ==============================
    item(
        "ywjyrx",
        "la-jtj",
        "义务教育阶段入学报名",
        "公共服务",
        server=NATURAL_PERSON,
        laws=[law("《中华人民共和国义务教育法》", "", "第十二条", "全国人民代表大会常务委员会")],
        accept="适龄儿童、少年在户籍或居住地免试就近入学。",
        promise=(20, WORKING),
        forms=["网上办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url=AH_PORTAL,
        window="教体局招生咨询窗口",
        result=(ItemVersion.ResultType.OTHER, "入学录取结果", ""),
        themes_natural=["教育科研"],
        keywords="上学 报名上小学 入学报名 小学报名 初中报名 学区",
        situations=[
            ("local", "本市户籍", ""),
            ("migrant", "随迁子女", "父母在本市居住、就业"),
        ],
        materials=[
            HOUSEHOLD,
            gov(
                "不动产权证书",
                situations=["local"],
                necessity=Material.Necessity.OPTIONAL,
                notes="以房产划片的提供",
            ),
            own("居住证", situations=["migrant"]),
            own("父母就业或社会保险证明", situations=["migrant"], notes="可通过数据共享核验"),
        ],
        faqs=[("什么时候报名？", "以六安市教体局当年发布的招生公告为准，一般在每年6—7月。")],
    ),
    item(
        "jszg",
        "la-jtj",
        "教师资格认定",
        "行政许可",
        server=NATURAL_PERSON,
        laws=[
            law("《中华人民共和国教师法》", "", "第十三条", "全国人民代表大会常务委员会"),
            law("《教师资格条例》", "国务院令第188号", "", "国务院"),
        ],
        accept="遵守宪法和法律，热爱教育事业，具备规定学历，通过国家教师资格考试，普通话水平和"
        "体检合格。",
        anticipate=(30, WORKING),
        promise=(20, WORKING),
        forms=["网上办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url="https://www.jszg.edu.cn/",
        window="教体局教师资格认定窗口",
        result=(ItemVersion.ResultType.CERTIFICATE, "教师资格证书", "教师资格证书"),
        themes_natural=["教育科研", "职业资格"],
        keywords="教师资格证 教资 教资认定 当老师",
        materials=[
            ID_CARD,
            gov("学历证书"),
            own("普通话水平测试等级证书"),
            own("教师资格认定体检表"),
        ],
        faqs=[
            (
                "学历、普通话可以在线核验吗？",
                "可以，能在线核验的无需提交，核验不通过的再按通知补充。",
            )
        ],
    ),
    # ============================== 交通运输局 ==============================
    item(
        "dlhy",
        "la-jtysj",
        "道路货物运输经营许可",
        "行政许可",
        server=[*ENTERPRISE, "自然人"],
        laws=[
            law("《中华人民共和国道路运输条例》", "国务院令", "第二十一条、第二十四条", "国务院"),
            law("《道路货物运输及站场管理规定》", "交通运输部令", "", "交通运输部"),
        ],
        accept="有与其经营业务相适应并经检测合格的车辆；有符合规定条件的驾驶人员；有健全的安全生产"
        "管理制度。使用总质量4500千克及以下普通货运车辆从事普通货运经营的无需申请。",
        anticipate=(20, WORKING),
        promise=(5, WORKING),
        forms=["网上办理", "窗口办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url=AH_PORTAL,
        window="交通运输审批窗口",
        result=(ItemVersion.ResultType.CERTIFICATE, "道路运输经营许可证", "道路运输经营许可证"),
        themes_legal=["交通运输", "准营准办"],
        keywords="货运许可 道路运输证 开物流公司 跑货运",
        materials=[
            own("道路货物运输经营申请表"),
            LICENCE,
            gov("机动车行驶证"),
            gov("驾驶人员机动车驾驶证", certificate="机动车驾驶证"),
            own("安全生产管理制度文本"),
        ],
        faqs=[
            (
                "小货车要办道路运输证吗？",
                "总质量4500千克及以下普通货运车辆无需办理道路运输证和经营许可。",
            )
        ],
    ),
    # ============================== 生态环境局 ==============================
    item(
        "hpsp",
        "la-sthjj",
        "建设项目环境影响评价审批",
        "行政许可",
        server=LEGAL_PERSON,
        laws=[
            law(
                "《中华人民共和国环境影响评价法》",
                "",
                "第二十二条",
                "全国人民代表大会常务委员会",
                "审批部门应当自收到环境影响报告书之日起六十日内，收到环境影响报告表之日起三十日内，"
                "分别作出审批决定并书面通知建设单位。",
            ),
            law("《建设项目环境保护管理条例》", "国务院令第682号", "", "国务院"),
        ],
        accept="依法应当编制环境影响报告书或报告表的建设项目，在开工建设前报批。",
        anticipate=(60, WORKING),
        anticipate_explain="报告书60日、报告表30日。",
        promise=(20, WORKING),
        promise_explain="报告书20个工作日、报告表10个工作日；技术评估、公示时间不计入。",
        forms=["网上办理", "窗口办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url=AH_PORTAL,
        special=["技术评估", "专家评审", "公示"],
        window="生态环境审批窗口",
        result=(ItemVersion.ResultType.APPROVAL, "建设项目环境影响评价文件审批批复", ""),
        themes_legal=["环保绿化", "工程建设"],
        keywords="环评 环评审批 环评批复 环境影响报告",
        situations=[("report", "环境影响报告书", ""), ("form", "环境影响报告表", "")],
        materials=[
            own("建设项目环境影响评价文件审批申请书"),
            own("环境影响报告书", situations=["report"], source=Material.Source.INTERMEDIARY),
            own("环境影响报告表", situations=["form"], source=Material.Source.INTERMEDIARY),
            own("公众参与说明", situations=["report"]),
        ],
        faqs=[
            (
                "登记表项目也要审批吗？",
                "填报环境影响登记表的项目实行备案，在网上填报即可，不需要审批。",
            )
        ],
    ),
    item(
        "pwxk",
        "la-sthjj",
        "排污许可证核发",
        "行政许可",
        server=LEGAL_PERSON,
        laws=[law("《排污许可管理条例》", "国务院令第736号", "", "国务院")],
        accept="纳入固定污染源排污许可分类管理名录、实行重点管理或简化管理的排污单位。",
        anticipate=(20, WORKING),
        promise=(15, WORKING),
        forms=["网上办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url="https://permit.mee.gov.cn/",
        window="生态环境审批窗口",
        result=(ItemVersion.ResultType.CERTIFICATE, "排污许可证", "排污许可证"),
        themes_legal=["环保绿化"],
        keywords="排污证 排污许可 排污登记",
        materials=[own("排污许可证申请表"), own("自行监测方案"), own("守法承诺书")],
        faqs=[("排污许可证有效期多久？", "排污许可证有效期为5年，期满前60日申请延续。")],
    ),
    # ============================== 商务局 ==============================
    item(
        "zszyhs",
        "la-shangwj",
        "再生资源回收经营者备案",
        "其他行政权力",
        server=[*ENTERPRISE, "自然人"],
        laws=[
            law("《再生资源回收管理办法》", "商务部令2007年第8号（2019年修改）", "第七条", "商务部")
        ],
        accept="从事再生资源回收经营活动的企业和个体工商户，在取得营业执照后30日内备案。",
        promise=(0, NOW),
        forms=["窗口办理", "网上办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url=AH_PORTAL,
        window="商务审批窗口",
        result=(ItemVersion.ResultType.OTHER, "备案登记回执", ""),
        themes_legal=["商务贸易", "准营准办"],
        keywords="废品回收 收废品 再生资源备案 回收站",
        materials=[own("再生资源回收经营者备案登记表"), LICENCE],
        faqs=[("备案要收费吗？", "不收费。")],
    ),
    item(
        "escjy",
        "la-shangwj",
        "二手车经营主体备案",
        "其他行政权力",
        server=ENTERPRISE,
        laws=[law("《二手车流通管理办法》", "", "", "商务部")],
        accept="从事二手车经销、拍卖、经纪、鉴定评估的经营主体。",
        promise=(0, NOW),
        forms=["网上办理", "窗口办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url=AH_PORTAL,
        window="商务审批窗口",
        result=(ItemVersion.ResultType.OTHER, "备案登记回执", ""),
        themes_legal=["商务贸易"],
        keywords="二手车 卖二手车 二手车备案",
        materials=[own("二手车经营主体备案表"), LICENCE],
        faqs=[("个人卖自己的车要备案吗？", "不需要，备案针对从事二手车经营活动的经营主体。")],
    ),
    # ============================== 文旅局 ==============================
    item(
        "ylcs",
        "la-wlj",
        "娱乐场所经营许可",
        "行政许可",
        server=ENTERPRISE,
        laws=[law("《娱乐场所管理条例》", "国务院令第458号（2020年修订）", "第九条", "国务院")],
        accept="已取得营业执照，场所符合规定的安全、消防和卫生条件。",
        anticipate=(20, WORKING),
        promise=(10, WORKING),
        forms=["窗口办理", "网上办理"],
        visits=1,
        visit_reason="需现场勘验经营场所。",
        depth=ItemVersion.OnlineDepth.III,
        online_url=AH_PORTAL,
        special=["现场勘验", "听证（必要时）"],
        window="文旅审批窗口",
        result=(ItemVersion.ResultType.CERTIFICATE, "娱乐经营许可证", ""),
        themes_legal=["文化体育", "准营准办"],
        keywords="KTV 歌厅 开KTV 娱乐场所 舞厅",
        materials=[own("娱乐场所经营许可申请表"), LICENCE, LEGAL_REP_ID, own("经营场所平面示意图")],
        faqs=[
            (
                "娱乐场所离学校有距离要求吗？",
                "不得设在中小学校周边规定范围内等禁止区域，具体以现场勘验为准。",
            )
        ],
    ),
    item(
        "wb",
        "la-wlj",
        "互联网上网服务营业场所经营单位设立审批",
        "行政许可",
        server=ENTERPRISE,
        laws=[
            law(
                "《互联网上网服务营业场所管理条例》",
                "国务院令第363号（2022年修订）",
                "第十一条",
                "国务院",
            )
        ],
        accept="已取得营业执照，营业场所、计算机等设备符合规定，有健全的网络与信息安全管理制度。",
        anticipate=(20, WORKING),
        promise=(10, WORKING),
        forms=["窗口办理", "网上办理"],
        visits=1,
        visit_reason="需现场勘验营业场所。",
        depth=ItemVersion.OnlineDepth.III,
        online_url=AH_PORTAL,
        special=["现场勘验"],
        window="文旅审批窗口",
        result=(ItemVersion.ResultType.CERTIFICATE, "网络文化经营许可证", ""),
        themes_legal=["文化体育"],
        keywords="网吧 开网吧 网咖 上网服务",
        materials=[
            own("互联网上网服务营业场所经营单位申请表"),
            LICENCE,
            own("营业场所产权证明或租赁协议"),
        ],
        faqs=[("网吧可以接纳未成年人吗？", "不得接纳未成年人进入营业场所。")],
    ),
    # ============================== 医保局 ==============================
    item(
        "cxjmyb",
        "la-ybj",
        "城乡居民基本医疗保险参保登记",
        "公共服务",
        server=NATURAL_PERSON,
        laws=[law("《中华人民共和国社会保险法》", "", "第二十五条", "全国人民代表大会常务委员会")],
        accept="未参加职工基本医疗保险的本市城乡居民（含在校学生、新生儿）。",
        promise=(0, NOW),
        forms=["网上办理", "窗口办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url=AH_PORTAL,
        window="医保服务窗口",
        themes_natural=["医疗卫生", "社会保障"],
        keywords="医保 新农合 居民医保 交医保 医保参保 宝宝医保",
        materials=[ID_CARD],
        faqs=[
            (
                "新生儿什么时候参保？",
                "出生后办理户口登记即可参保，出生当年参保缴费的自出生之日起享受待遇。",
            )
        ],
    ),
    item(
        "ydjyba",
        "la-ybj",
        "跨省异地就医备案",
        "公共服务",
        server=NATURAL_PERSON,
        laws=[
            law(
                "《国家医保局 财政部关于进一步做好基本医疗保险跨省异地就医直接结算工作的通知》",
                "医保发〔2022〕22号",
                "",
                "国家医疗保障局、财政部",
            )
        ],
        accept="本市参保人员异地长期居住、异地工作或临时外出就医。",
        promise=(0, NOW),
        forms=["网上办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url="https://fuwu.nhsa.gov.cn/",
        handle_area=ItemVersion.HandleArea.CROSS_PROVINCE,
        window="医保服务窗口",
        themes_natural=["医疗卫生"],
        keywords="异地就医 异地报销 外地看病 异地备案",
        materials=[gov("医保电子凭证", notes="或社会保障卡")],
        faqs=[
            ("在国家医保服务平台备案后多久生效？", "备案即时生效，可在就医地定点医疗机构直接结算。")
        ],
    ),
    item(
        "mztb",
        "la-ybj",
        "门诊慢特病待遇认定",
        "行政确认",
        server=NATURAL_PERSON,
        laws=[law("《中华人民共和国社会保险法》", "", "", "全国人民代表大会常务委员会")],
        accept="本市参保人员患有医保门诊慢特病病种范围内疾病。",
        promise=(10, WORKING),
        forms=["窗口办理", "网上办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.III,
        online_url=AH_PORTAL,
        window="医保服务窗口（或定点医疗机构）",
        result=(ItemVersion.ResultType.OTHER, "门诊慢特病待遇认定结果", ""),
        themes_natural=["医疗卫生"],
        keywords="慢性病 慢病卡 特殊病 门诊慢特病 高血压报销 糖尿病报销",
        materials=[gov("医保电子凭证"), own("二级及以上医疗机构出具的诊断证明和相关检查报告")],
        faqs=[("认定后多久可以享受待遇？", "认定通过后即可在定点医疗机构享受门诊慢特病待遇。")],
    ),
    # ============================== 城管局 ==============================
    item(
        "jzlj",
        "la-cgj",
        "城市建筑垃圾处置核准",
        "行政许可",
        server=ENTERPRISE,
        laws=[
            law("《城市建筑垃圾管理规定》", "建设部令第139号", "第七条", "建设部"),
            law(
                "《国务院对确需保留的行政审批项目设定行政许可的决定》",
                "国务院令第412号",
                "",
                "国务院",
            ),
            law(*LICENSING_LAW),
        ],
        accept="处置建筑垃圾的单位，有建筑垃圾分类处置方案和消纳场所，运输车辆符合密闭运输要求。",
        anticipate=(20, WORKING),
        promise=(5, WORKING),
        forms=["窗口办理", "网上办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.III,
        online_url=AH_PORTAL,
        window="城管审批窗口",
        result=(ItemVersion.ResultType.CERTIFICATE, "城市建筑垃圾处置核准证", ""),
        themes_legal=["城乡建设"],
        keywords="渣土 建筑垃圾 渣土运输 渣土处置证",
        materials=[
            own("城市建筑垃圾处置核准申请表"),
            own("建筑垃圾处置方案"),
            own("运输车辆行驶证和驾驶员驾驶证", kind=Material.Kind.COPY),
        ],
        faqs=[("装修垃圾怎么处理？", "居民装修垃圾应投放到物业或社区指定地点，不需要办理核准。")],
    ),
    item(
        "hwgg",
        "la-cgj",
        "设置大型户外广告审批",
        "行政许可",
        server=[*ENTERPRISE, "自然人"],
        laws=[
            law("《城市市容和环境卫生管理条例》", "国务院令第101号", "第十一条", "国务院"),
            law(*LICENSING_LAW),
        ],
        accept="广告设置位置、规格符合六安市户外广告设置规划，设施安全可靠。",
        anticipate=(20, WORKING),
        promise=(5, WORKING),
        forms=["窗口办理", "网上办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.III,
        online_url=AH_PORTAL,
        window="城管审批窗口",
        result=(ItemVersion.ResultType.DOCUMENT, "户外广告设置许可决定书", ""),
        themes_legal=["城乡建设"],
        themes_natural=["就业创业"],
        keywords="广告牌 户外广告 招牌 门头招牌 店招",
        materials=[own("户外广告设置申请表"), own("设置位置实景图和效果图"), own("场地使用权证明")],
        faqs=[
            (
                "店铺门头招牌要审批吗？",
                "按六安市相关规定执行，一般店招实行备案或告知承诺，大型户外广告需审批。",
            )
        ],
    ),
    # ======================= 公用事业联合过户（进驻政务服务中心） =======================
    item(
        "gsgh",
        "la-sjzyj",
        "供水过户",
        "公共服务",
        server=NATURAL_PERSON + ENTERPRISE,
        laws=[law("《城市供水条例》", "国务院令第158号", "", "国务院")],
        accept="房屋产权已转移登记的买受人。",
        promise=(0, NOW),
        forms=["网上办理", "窗口办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url=AH_PORTAL,
        external=True,
        dept_name="供水企业（进驻六安市政务服务中心公用事业窗口）",
        window="公用事业联办窗口",
        themes_natural=["住房保障"],
        keywords="水表过户 自来水过户 水费户名",
        materials=[],
        faqs=[
            (
                "需要单独去自来水公司吗？",
                "不需要，在不动产登记时勾选联合过户，信息推送供水企业办理。",
            )
        ],
    ),
    item(
        "gdgh",
        "la-sjzyj",
        "供电过户",
        "公共服务",
        server=NATURAL_PERSON + ENTERPRISE,
        laws=[law("《电力供应与使用条例》", "国务院令第196号", "", "国务院")],
        accept="房屋产权已转移登记的买受人。",
        promise=(0, NOW),
        forms=["网上办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url="https://www.95598.cn/",
        external=True,
        dept_name="供电企业（进驻六安市政务服务中心公用事业窗口）",
        window="公用事业联办窗口",
        themes_natural=["住房保障"],
        keywords="电表过户 电费户名 供电过户",
        materials=[],
        faqs=[("电费余额怎么处理？", "过户前请买卖双方结清电费，余额处理按供电企业规定办理。")],
    ),
    item(
        "rqgh",
        "la-sjzyj",
        "燃气过户",
        "公共服务",
        server=NATURAL_PERSON + ENTERPRISE,
        laws=[law("《城镇燃气管理条例》", "国务院令第583号", "", "国务院")],
        accept="房屋产权已转移登记的买受人。",
        promise=(0, NOW),
        forms=["网上办理", "窗口办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url=AH_PORTAL,
        external=True,
        dept_name="燃气企业（进驻六安市政务服务中心公用事业窗口）",
        window="公用事业联办窗口",
        themes_natural=["住房保障"],
        keywords="燃气过户 天然气过户 煤气过户",
        materials=[],
        faqs=[("过户后要重新安检吗？", "燃气企业将按规定上门安检，请保持电话畅通。")],
    ),
    item(
        "wlgh",
        "la-sjzyj",
        "有线电视及宽带过户",
        "公共服务",
        server=NATURAL_PERSON + ENTERPRISE,
        laws=[law("《广播电视管理条例》", "国务院令第228号", "", "国务院")],
        accept="房屋产权已转移登记的买受人。",
        promise=(0, NOW),
        forms=["网上办理"],
        visits=0,
        depth=ItemVersion.OnlineDepth.IV,
        online_url=AH_PORTAL,
        external=True,
        dept_name="有线电视及通信运营企业（进驻六安市政务服务中心公用事业窗口）",
        window="公用事业联办窗口",
        themes_natural=["住房保障"],
        keywords="宽带过户 网络过户 有线电视过户 网线",
        materials=[],
        faqs=[("宽带过户要多久？", "信息推送后由运营企业联系办理，具体以运营企业为准。")],
    ),
]


# --- bundles --------------------------------------------------------------------------------


def _task_code(spec: dict[str, Any]) -> str:
    dept = spec["dept"].removeprefix("la-").upper()
    return f"LA-341500-{dept}-{ITEM_TYPES[spec['type']][1]}-{spec['key'].upper()}"


def _code(key: str) -> str:
    return _task_code(next(s for s in ITEMS if s["key"] == key))


BUNDLES: list[dict[str, Any]] = [
    {
        "code": "qykb",
        "name": "企业开办",
        "description": "营业执照、公章刻制、发票申领（涉税信息确认）、社保登记、"
        "住房公积金缴存登记和"
        "银行开户预约，一表申请、一窗受理、并联办理、一次办结。",
        "lead": "la-scjgj",
        "dispatch": Bundle.Dispatch.PARALLEL,
        "promise": (1, WORKING),
        "keywords": "企业开办 开公司 注册公司 一件事 开办企业",
        "members": [
            ("qysldj", 0),
            ("gzkzba", 0),
            ("swdj", 0),
            ("fply", 0),
            ("dwsbdj", 0),
            ("gjjdj", 0),
            ("yhkh", 0),
        ],
        "form": [
            (
                "enterprise_name",
                "企业名称",
                "text",
                True,
                {
                    "qysldj": "qymc",
                    "gzkzba": "dwmc",
                    "swdj": "nsrmc",
                    "fply": "nsrmc",
                    "dwsbdj": "dwmc",
                    "gjjdj": "dwmc",
                    "yhkh": "khmc",
                },
            ),
            (
                "enterprise_type",
                "企业类型",
                "select",
                True,
                {"qysldj": "qylx"},
                ["有限责任公司", "个人独资企业", "合伙企业"],
            ),
            (
                "registered_address",
                "住所（经营场所）",
                "address",
                True,
                {"qysldj": "zs", "swdj": "scjydz", "dwsbdj": "dwdz", "gjjdj": "dwdz"},
            ),
            ("registered_capital", "注册资本（万元）", "money", True, {"qysldj": "zczb"}),
            ("business_scope", "经营范围", "textarea", True, {"qysldj": "jyfw", "swdj": "jyfw"}),
            (
                "legal_rep_name",
                "法定代表人姓名",
                "text",
                True,
                {
                    "qysldj": "fddbr",
                    "gzkzba": "fddbr",
                    "swdj": "fddbr",
                    "dwsbdj": "fddbr",
                    "gjjdj": "fddbr",
                    "yhkh": "fddbr",
                },
            ),
            (
                "legal_rep_id_number",
                "法定代表人身份证号码",
                "id_number",
                True,
                {
                    "qysldj": "fddbr_zjhm",
                    "gzkzba": "fddbr_zjhm",
                    "swdj": "fddbr_zjhm",
                    "dwsbdj": "fddbr_zjhm",
                    "gjjdj": "fddbr_zjhm",
                    "yhkh": "fddbr_zjhm",
                },
            ),
            (
                "contact_phone",
                "联系电话",
                "phone",
                True,
                {
                    "qysldj": "lxdh",
                    "gzkzba": "lxdh",
                    "swdj": "lxdh",
                    "dwsbdj": "lxdh",
                    "gjjdj": "lxdh",
                    "yhkh": "lxdh",
                },
            ),
            (
                "seal_types",
                "刻制印章",
                "select",
                True,
                {"gzkzba": "yzlx"},
                ["公章", "公章、财务专用章", "公章、财务专用章、发票专用章、合同专用章"],
            ),
            (
                "invoice_type",
                "发票种类",
                "select",
                False,
                {"fply": "fpzl"},
                ["数电发票（普通发票）", "数电发票（增值税专用发票）"],
            ),
            (
                "employee_count",
                "参保职工人数",
                "number",
                False,
                {"dwsbdj": "cbrs", "gjjdj": "jcrs"},
            ),
            (
                "fund_ratio",
                "住房公积金缴存比例",
                "select",
                False,
                {"gjjdj": "jcbl"},
                ["5%", "8%", "10%", "12%"],
            ),
            ("bank_name", "开户银行", "text", False, {"yhkh": "khyh"}),
        ],
    },
    {
        "code": "eshgh",
        "name": "二手房转移登记及水电气网联合过户",
        "description": "一窗受理：存量房网签备案（住建）、契税申报（税务）、不动产转移登记"
        "（不动产登记）并联办理，随后供水、供电、燃气、有线电视及宽带联动过户。",
        "lead": "la-zrzyghj",
        "dispatch": Bundle.Dispatch.SEQUENTIAL,
        "promise": (1, WORKING),
        "keywords": "二手房过户 房产过户 水电气过户 联合过户 一件事",
        "members": [
            # stage 0: housing, tax and natural resources at once (并联); stage 1: utilities
            ("wqba", 0),
            ("qssb", 0),
            ("bdczy", 0),
            ("gsgh", 1),
            ("gdgh", 1),
            ("rqgh", 1),
            ("wlgh", 1),
        ],
        "form": [
            ("seller_name", "出卖人姓名", "text", True, {"wqba": "cmr", "bdczy": "ywr"}),
            (
                "seller_id_number",
                "出卖人身份证号码",
                "id_number",
                True,
                {"wqba": "cmr_zjhm", "bdczy": "ywr_zjhm"},
            ),
            (
                "buyer_name",
                "买受人姓名",
                "text",
                True,
                {
                    "wqba": "msr",
                    "qssb": "nsrxm",
                    "bdczy": "qlr",
                    "gsgh": "xhm",
                    "gdgh": "xhm",
                    "rqgh": "xhm",
                    "wlgh": "xhm",
                },
            ),
            (
                "buyer_id_number",
                "买受人身份证号码",
                "id_number",
                True,
                {
                    "wqba": "msr_zjhm",
                    "qssb": "nsr_zjhm",
                    "bdczy": "qlr_zjhm",
                    "gsgh": "zjhm",
                    "gdgh": "zjhm",
                    "rqgh": "zjhm",
                    "wlgh": "zjhm",
                },
            ),
            (
                "buyer_phone",
                "买受人联系电话",
                "phone",
                True,
                {
                    "wqba": "lxdh",
                    "bdczy": "lxdh",
                    "gsgh": "lxdh",
                    "gdgh": "lxdh",
                    "rqgh": "lxdh",
                    "wlgh": "lxdh",
                },
            ),
            (
                "property_certificate_no",
                "不动产权证书号",
                "text",
                True,
                {"wqba": "bdcqzh", "bdczy": "bdcqzh"},
            ),
            (
                "property_address",
                "房屋坐落",
                "address",
                True,
                {
                    "wqba": "fwzl",
                    "qssb": "fwzl",
                    "bdczy": "zl",
                    "gsgh": "yhdz",
                    "gdgh": "yhdz",
                    "rqgh": "yhdz",
                    "wlgh": "yhdz",
                },
            ),
            ("price", "成交价格（元）", "money", True, {"wqba": "cjjg", "qssb": "jsyj"}),
            ("water_account", "供水户号", "text", False, {"gsgh": "hh"}),
            ("power_account", "供电户号", "text", False, {"gdgh": "hh"}),
            ("gas_account", "燃气户号", "text", False, {"rqgh": "hh"}),
            ("network_account", "有线电视或宽带账号", "text", False, {"wlgh": "zh"}),
        ],
    },
]


# --- loading --------------------------------------------------------------------------------


def _item_type(name: str) -> ItemType:
    found = ItemType.objects.filter(name=name).first()
    if found is not None:
        return found
    code, _tag = ITEM_TYPES[name]
    if ItemType.objects.filter(code=code).exists():
        code = f"D{code}"  # the configured list uses this code for another type
    return ItemType.objects.create(
        code=code, name=name, is_power=name != "公共服务", sort_order=int(ITEM_TYPES[name][0])
    )


def _themes(spec: dict[str, Any]) -> list[Theme]:
    themes = []
    for audience, key in (
        (Theme.Audience.NATURAL, "themes_natural"),
        (Theme.Audience.LEGAL, "themes_legal"),
    ):
        for name in spec.get(key, ()):
            theme, _created = Theme.objects.get_or_create(audience=audience, name=name)
            themes.append(theme)
    return themes


def result_sample_file(task_code: str, result_name: str, dept_name: str) -> ContentFile[bytes]:
    """A placeholder 审批结果样本 (SVG, readable in any browser) marked as a demo sample."""
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="800" height="560" viewBox="0 0 800 560">'
        '<rect x="10" y="10" width="780" height="540" fill="#fffdf5" stroke="#b22222" '
        'stroke-width="6"/>'
        '<text x="400" y="130" font-size="44" text-anchor="middle" fill="#b22222">'
        f"{html.escape(result_name)}</text>"
        '<text x="400" y="260" font-size="96" text-anchor="middle" fill="#dddddd">样 本</text>'
        '<text x="400" y="420" font-size="24" text-anchor="middle">'
        f"{html.escape(dept_name)}</text>"
        '<text x="400" y="480" font-size="18" text-anchor="middle" fill="#666666">'
        f"实施编码 {html.escape(task_code)} · 演示样本，不具法律效力</text></svg>"
    )
    return ContentFile(svg.encode("utf-8"), name=f"{task_code.lower()}-sample.svg")


def _steps(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The standard steps: 受理、审查、决定、办结、送达 for 承诺件; 受理、办结 for 即办件."""
    window = spec.get("window", "综合窗口")
    if spec["promise"][1] == NOW:
        return [
            {
                "name": "受理",
                "kind": ProcessStep.Kind.ACCEPT,
                "description": f"{window}受理并当场审核。",
            },
            {"name": "办结", "kind": ProcessStep.Kind.CONCLUDE, "description": "当场办结。"},
        ]
    return [
        {
            "name": "受理",
            "kind": ProcessStep.Kind.ACCEPT,
            "time_limit": 1,
            "description": f"{window}收件，材料齐全的当场受理，不齐全的一次性告知补正。",
        },
        {
            "name": "审查",
            "kind": ProcessStep.Kind.REVIEW,
            "description": "审批人员对申请材料进行审查，需要现场核查的组织核查。",
        },
        {
            "name": "决定",
            "kind": ProcessStep.Kind.DECIDE,
            "time_limit": 1,
            "description": "作出准予或不予办理的决定；不予办理的说明理由。",
        },
        {
            "name": "办结",
            "kind": ProcessStep.Kind.CONCLUDE,
            "description": "制作办理结果，同步生成电子证照（如有）。",
        },
        {
            "name": "送达",
            "kind": ProcessStep.Kind.DELIVER,
            "description": "窗口领取、免费邮寄或电子送达。",
        },
    ]


def _elements(spec: dict[str, Any], department: Department, uscc: str) -> dict[str, Any]:
    task_code = _task_code(spec)
    dept_name = spec.get("dept_name", department.name)
    window = spec.get("window", "综合窗口")
    promise_limit, promise_unit = spec["promise"]
    anticipate = spec.get("anticipate")
    fees = spec.get("fee", [])
    entrusted = bool(spec.get("external")) and "dept_name" in spec
    elements: dict[str, Any] = {
        "name": spec["name"],
        "short_name": spec.get("short_name", ""),
        "local_task_code": task_code,
        "handle_item_code": f"{task_code}-01",
        "item_type": _item_type(spec["type"]),
        "use_level": spec.get("level", ItemVersion.UseLevel.MUNICIPAL),
        "power_source": "法定本级行使",
        "by_law": "；".join(f"{row[0]}{row[2]}" for row in spec["laws"]),
        "dept_name": dept_name,
        "dept_uscc": uscc,
        "division_code": department.division_code,
        # A utility or bank serving on the government's behalf is a 受委托组织 of the department.
        "dept_type": ItemVersion.DeptType.ENTRUSTED
        if entrusted
        else ItemVersion.DeptType.STATUTORY,
        "entrust_name": department.name if entrusted else "",
        "server_types": list(spec["server"]),
        "accept_condition": spec["accept"],
        "anticipate_limit": anticipate[0] if anticipate else None,
        "anticipate_unit": anticipate[1] if anticipate else "",
        "anticipate_explain": spec.get(
            "anticipate_explain", "" if anticipate else "法律法规未规定办理时限。"
        ),
        "promise_limit": None if promise_unit == NOW else promise_limit,
        "promise_unit": promise_unit,
        "promise_explain": spec.get("promise_explain", ""),
        "project_type": ItemVersion.ProjectType.IMMEDIATE
        if promise_unit == NOW
        else ItemVersion.ProjectType.PROMISED,
        "handle_forms": list(spec["forms"]),
        "visit_count": spec["visits"],
        "visit_reason": spec.get("visit_reason", ""),
        "online_depth": spec["depth"],
        "online_url": spec.get("online_url", ""),
        "external_system": bool(spec.get("external")),
        "supports_appointment": bool(spec.get("appointment")),
        "supports_express": bool(spec.get("express")),
        "in_service_hall": not spec.get("external") or "联办" in window,
        "handle_area": spec.get("handle_area", ItemVersion.HandleArea.CITY),
        "special_procedures": list(spec.get("special", [])),
        "is_fee": bool(fees),
        "fee_basis": spec.get("fee_basis", ""),
        "online_payment": bool(fees)
        and spec.get("online_payment", spec["depth"] == ItemVersion.OnlineDepth.IV),
        "transact_addr": f"{HALL}{window}；网上办理：安徽政务服务网、皖事通",
        "transact_time": HALL_TIME,
        "consult_way": f"12345政务服务便民热线；{HALL}{window}现场咨询",
        "supervise_way": f"12345政务服务便民热线；安徽政务服务网“好差评”；{department.name}",
        "keywords": spec.get("keywords", ""),
        "source": "demo",
        "limit_explain": spec.get("dept_note", ""),
    }
    result = spec.get("result")
    if result:
        result_type, result_name, certificate = result
        elements["result_type"] = result_type
        elements["result_name"] = result_name
        elements["result_certificate_type"] = (
            certificate_type_code(certificate) if certificate else ""
        )
        elements["result_sample"] = result_sample_file(task_code, result_name, dept_name)
    return elements


def _create_item(
    spec: dict[str, Any], *, actor: Actor, reviewer: Actor, department: Department, uscc: str
) -> None:
    """One item, its children, submitted and published, in one transaction: a quality-rule
    failure leaves no half item behind (and the next run tries again)."""
    with transaction.atomic():
        version = services.item_create(
            actor=actor,
            task_code=_task_code(spec),
            department=department,
            catalog_code=f"{ITEM_TYPES[spec['type']][1]}{spec['key'].upper()[:10]:0<10}",
            themes=_themes(spec),
            **_elements(spec, department, uscc),
        )
        for order, (law_name, doc, article, issuer, content) in enumerate(spec["laws"]):
            services.legal_basis_add(
                actor=actor,
                version=version,
                law_name=law_name,
                doc_number=doc,
                article=article,
                issuer=issuer,
                content=content,
                sort_order=order,
            )
        situations = {}
        for order, (code, name, description) in enumerate(spec.get("situations", [])):
            situations[code] = services.situation_add(
                actor=actor,
                version=version,
                code=code,
                name=name,
                description=description,
                sort_order=order,
            )
        for order, material in enumerate(spec.get("materials", []), start=1):
            fields = {k: v for k, v in material.items() if k != "situations"}
            services.material_add(
                actor=actor,
                version=version,
                situations=[situations[c] for c in material["situations"]],
                sort_order=order,
                **fields,
            )
        for order, (name, standard) in enumerate(spec.get("fee", [])):
            services.fee_item_add(
                actor=actor,
                version=version,
                name=name,
                standard=standard,
                basis=spec["fee_basis"],
                sort_order=order,
            )
        for order, (question, answer) in enumerate(spec.get("faqs", [])):
            services.faq_add(
                actor=actor, version=version, question=question, answer=answer, sort_order=order
            )
        for order, step in enumerate(_steps(spec)):
            services.step_add(actor=actor, version=version, stage=order, sort_order=order, **step)
        if "rules" in spec:
            version = process.rules_set_dmn(actor=actor, version=version, dmn_xml=spec["rules"])
        version = services.version_submit(actor=actor, version=version)
        services.version_publish(actor=reviewer, version=version)


def _create_bundle(
    spec: dict[str, Any], *, actor: Actor, departments: dict[str, Department]
) -> None:
    with transaction.atomic():
        limit, unit = spec["promise"]
        bundle = bundles.bundle_create(
            actor=actor,
            code=spec["code"],
            name=spec["name"],
            description=spec["description"],
            keywords=spec["keywords"],
            lead_department=departments[spec["lead"]],
            dispatch=spec["dispatch"],
            promise_limit=limit,
            promise_unit=unit,
        )
        for key, stage in spec["members"]:
            bundles.bundle_add_member(
                actor=actor,
                bundle=bundle,
                item=ServiceItem.objects.get(task_code=_code(key)),
                stage=stage,
            )
        form = []
        for name, label, kind, required, maps_to, *options in spec["form"]:
            field: dict[str, Any] = {
                "name": name,
                "label": label,
                "type": kind,
                "required": required,
                "maps_to": {_code(k): v for k, v in maps_to.items()},
            }
            if options:
                field["options"] = options[0]
            form.append(field)
        bundles.bundle_form_set(actor=actor, bundle=bundle, form_schema=form)
        bundles.bundle_publish(actor=actor, bundle=bundle)


def demo_task_codes() -> list[str]:
    """The 实施编码 of every demo item, in definition order."""
    return [_task_code(spec) for spec in ITEMS]


def catalog_demo_load(*, actor: Actor, reviewer: Actor) -> int:
    """Load the demo catalog (items, then bundles); return how many items were created (0 when
    everything was already there). Needs the accounts demo (its departments) first. ``actor``
    enters and submits each item, ``reviewer`` publishes it (four eyes)."""
    codes = {s["dept"] for s in ITEMS} | {b["lead"] for b in BUNDLES}
    departments = {d.code: d for d in Department.objects.filter(code__in=codes)}
    missing = sorted(codes - set(departments))
    if missing:
        raise RuntimeError(f"catalog demo needs the accounts demo departments first: {missing}")
    order = {code: index for index, code in enumerate(sorted(codes), start=1)}
    existing = set(
        ServiceItem.objects.filter(task_code__in=demo_task_codes()).values_list(
            "task_code", flat=True
        )
    )
    created = 0
    for spec in ITEMS:
        if _task_code(spec) in existing:
            continue
        department = departments[spec["dept"]]
        uscc = department.uscc or demo_department_uscc(order[spec["dept"]])
        _create_item(spec, actor=actor, reviewer=reviewer, department=department, uscc=uscc)
        created += 1
    for spec in BUNDLES:
        if not Bundle.objects.filter(code=spec["code"]).exists():
            _create_bundle(spec, actor=actor, departments=departments)
    return created
