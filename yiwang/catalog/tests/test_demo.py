"""The Lu'an demo catalog (yiwang.catalog.demo): loads through the services, every item
published and passing the quality rules, every service the issue names, idempotent."""

from __future__ import annotations

import re
from typing import Any

import pytest

from yiwang.accounts.demo import accounts_demo_load
from yiwang.accounts.models import User
from yiwang.catalog import bundles
from yiwang.catalog.demo import (
    BUNDLES,
    CERTIFICATES,
    DEMO_DEFINERS,
    GJJTQ_DMN,
    GJJTQ_RETIREMENT_AGE,
    ITEMS,
    catalog_demo_load,
    certificate_type_code,
    demo_department_uscc,
    demo_task_codes,
)
from yiwang.catalog.models import (
    Bundle,
    BundleMember,
    Faq,
    ItemVersion,
    Material,
    ProcessStep,
    ServiceItem,
    Situation,
)
from yiwang.catalog.process import process_validate, rules_evaluate
from yiwang.catalog.quality import quality_check, quality_errors
from yiwang.core.identifiers import uscc_validate
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db

# Every service the issue (#3, point 6 and point 5) names, by a word of its published name.
NAMED_SERVICES = (
    "企业设立登记",
    "公章刻制备案",
    "发票领用",
    "涉税信息确认（税务登记）",
    "单位社会保险登记",
    "单位住房公积金缴存登记",
    "企业银行账户开立",
    "住房公积金提取",
    "社会保险参保缴费查询",
    "预约挂号",
    "交通违法处理",
    "居民身份证申领、换领、补领",
    "户口迁入登记",
    "出生登记",
    "首次登记",
    "不动产转移登记（含二手房过户）",
    "最低生活保障审核确认",
    "建设项目环境影响评价审批",
    "内地居民结婚登记",
    "供水过户",
    "供电过户",
    "燃气过户",
    "有线电视及宽带过户",
)


@pytest.fixture(scope="module")
def demo_loaded(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """Load accounts + catalog once for the module (it is the slow part), undo it afterwards."""
    with django_db_blocker.unblock():
        from django.db import connection, transaction

        atomic = transaction.atomic()
        atomic.__enter__()
        accounts_demo_load(password="yiwang-demo-2026")
        actor = User.objects.get(username="demo-catalog")
        reviewer = User.objects.get(username="demo-reviewer")
        created = catalog_demo_load(actor=actor, reviewer=reviewer)
        yield {"created": created, "actor": actor, "reviewer": reviewer}
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)
        connection.close()


def _published() -> list[ItemVersion]:
    return list(
        ItemVersion.objects.filter(status=ItemVersion.Status.PUBLISHED, source="demo")
        .select_related("item", "item_type", "item__department")
        .order_by("item__task_code")
    )


def test_demo_definers_and_certificate_codes_are_valid() -> None:
    for definer in DEMO_DEFINERS.values():
        assert uscc_validate(definer) == definer
    for name in CERTIFICATES:
        code = certificate_type_code(name)
        assert len(code) == 21
        assert code[18:].isdigit()
    assert uscc_validate(demo_department_uscc(3)) == demo_department_uscc(3)
    assert len(set(demo_task_codes())) == len(ITEMS)
    assert all(len(code) <= 36 for code in demo_task_codes())


def test_demo_loads_at_least_40_published_items_passing_quality(demo_loaded: Any) -> None:
    published = _published()
    assert demo_loaded["created"] == len(ITEMS)
    assert len(ITEMS) >= 40
    assert len(published) == len(ITEMS)
    assert ServiceItem.objects.filter(task_code__in=demo_task_codes()).count() == len(ITEMS)
    for version in published:
        assert quality_errors(quality_check(version)) == [], version.name
    departments = {v.item.department.code for v in published if v.item.department}
    assert {
        "la-scjgj",
        "la-gaj",
        "la-swj",
        "la-rsj",
        "la-gjjzx",
        "la-zjj",
        "la-zrzyghj",
        "la-mzj",
        "la-wjw",
        "la-jtj",
        "la-jtysj",
        "la-sthjj",
        "la-shangwj",
        "la-wlj",
        "la-ybj",
        "la-cgj",
    } <= departments


def test_demo_includes_every_named_service(demo_loaded: Any) -> None:
    names = [v.name for v in _published()]
    missing = [word for word in NAMED_SERVICES if not any(word in name for name in names)]
    assert missing == []


def test_demo_items_carry_real_elements(demo_loaded: Any) -> None:
    for version in _published():
        assert version.promise_unit, version.name
        assert version.accept_condition, version.name
        assert version.legal_bases.exists(), version.name
        assert version.faqs.exists(), version.name
        assert version.keywords, version.name
        assert version.themes.exists(), version.name
        assert "六安市政务服务中心" in version.transact_addr
        assert "12345" in version.consult_way
        assert version.dept_uscc
        assert uscc_validate(version.dept_uscc) == version.dept_uscc
        if version.item_type.name == "行政许可":
            kinds = list(version.steps.values_list("kind", flat=True))
            assert kinds == ["accept", "review", "decide", "conclude", "deliver"], version.name
        if version.is_fee:
            assert version.fee_items.exists()
            assert version.fee_basis
        if version.result_type:
            # Storage adds a suffix when another test of the process stored the demo already.
            assert re.search(r"-sample(_\w+)?\.svg$", str(version.result_sample.name))


def test_external_services_link_out_without_materials(demo_loaded: Any) -> None:
    external = {v.name: v for v in _published() if v.external_system}
    for word in ("预约挂号", "交通违法处理", "社会保险参保缴费查询", "供水过户", "银行账户"):
        (version,) = [v for name, v in external.items() if word in name]
        assert version.online_url.startswith("https://")
        assert not version.materials.exists()
    traffic = next(v for v in external.values() if "交通违法" in v.name)
    assert traffic.online_url == "https://ah.122.gov.cn/"


def test_fund_withdrawal_situations_select_different_materials(demo_loaded: Any) -> None:
    version = next(v for v in _published() if v.name == "住房公积金提取")
    by_situation = {
        s.name: sorted(m.name for m in s.materials.all())
        for s in Situation.objects.filter(version=version)
    }
    assert by_situation == {
        "购买自住住房": ["不动产权证书或网签备案购房合同", "结婚证", "购房契税完税凭证"],
        "离休、退休": ["退休证明"],
        "与单位终止劳动关系": ["解除或终止劳动关系证明"],
    }
    common = version.materials.filter(situations__isnull=True)
    assert sorted(m.name for m in common) == ["居民身份证", "本人银行借记卡"]


def test_government_issued_materials_name_their_certificate_type(demo_loaded: Any) -> None:
    government = Material.objects.filter(version__source="demo", source=Material.Source.GOVERNMENT)
    assert government.count() > 40
    for material in government:
        assert material.certificate_type_code or material.data_resource_code, material.name
    id_cards = government.filter(name="居民身份证")
    assert {m.certificate_type_code for m in id_cards} == {"11100000MBDEM0015F001"}


def test_colloquial_aliases_are_keywords(demo_loaded: Any) -> None:
    keywords = " ".join(v.keywords for v in _published())
    for alias in ("驾照", "低保", "环评", "公积金", "违章", "挂号", "上户口", "二手房过户"):
        assert alias in keywords


def test_demo_bundles_are_published_with_merged_forms(demo_loaded: Any) -> None:
    assert sorted(Bundle.objects.values_list("code", "status")) == [
        ("eshgh", "published"),
        ("qykb", "published"),
    ]
    start = Bundle.objects.get(code="qykb")
    assert start.lead_department.code == "la-scjgj"
    assert start.dispatch == Bundle.Dispatch.PARALLEL
    assert bundles.bundle_time_limit(start).label == "1个工作日"
    assert BundleMember.objects.filter(bundle=start).count() == 7
    member_depts = set(start.cooperating_departments.values_list("code", flat=True))
    assert member_depts == {"la-gaj", "la-swj", "la-rsj", "la-gjjzx", "la-rmyh"}
    # six departments in all: one parallel task each
    bank = next(v for v in _published() if v.name.startswith("企业银行账户开立"))
    assert bank.item.department is not None
    assert bank.item.department.code == "la-rmyh"
    assert bank.entrust_name == "中国人民银行六安市分行"
    materials = {m.name: m for m in bundles.bundle_materials(start)}
    # the bundle issues the 营业执照 that five of its members need: never asked for
    assert "营业执照" not in materials
    # Every 居民身份证 (股东's, 法定代表人's, 经办人's) shares one certificate type: one entry.
    id_card = materials["股东的主体资格证明或自然人身份证明"]
    assert [u.task_code.split("-")[-1] for u in id_card.uses] == [
        "QYSLDJ",
        "GZKZBA",
        "SWDJ",
        "FPLY",
        "GJJDJ",
    ]
    assert id_card.fetched
    form = {f.name: f for f in bundles.bundle_form(start)}
    assert len(form["enterprise_name"].mappings) == 7

    house = Bundle.objects.get(code="eshgh")
    assert house.lead_department.code == "la-zrzyghj"
    assert house.dispatch == Bundle.Dispatch.SEQUENTIAL
    assert len(house.form_schema) == len(next(b for b in BUNDLES if b["code"] == "eshgh")["form"])
    assert sum(1 for _ in bundles.bundle_member_versions(house)) == 7
    # housing, tax and natural resources in one stage (并联), then the utilities
    stages = {
        m.item.department.code: m.stage
        for m in BundleMember.objects.filter(bundle=house).select_related("item__department")
        if m.item.department
    }
    assert stages == {"la-zjj": 0, "la-swj": 0, "la-zrzyghj": 0, "la-sjzyj": 1}
    house_materials = {m.name: m for m in bundles.bundle_materials(house)}
    # the tax task of the same stage issues the 契税完税凭证; the seller's 不动产权证书 is
    # still asked for, although the transfer issues the buyer's
    assert "契税完税凭证" not in house_materials
    assert house_materials["不动产权证书"].necessity == Material.Necessity.REQUIRED
    assert house_materials["存量房买卖合同"].necessity == Material.Necessity.REQUIRED
    # a gift or an inheritance is not what this bundle is for: not required, said why
    gift = house_materials["经公证的赠与合同或赠与合同"]
    inheritance = house_materials["继承权公证书或生效法律文书"]
    assert (gift.necessity, inheritance.necessity) == ("optional", "optional")
    assert gift.note == "仅以下情形需要：赠与（不动产转移登记（含二手房过户））"
    assert "继承、受遗赠" in inheritance.note
    required = [m.name for m in house_materials.values() if m.necessity == "required"]
    assert required == [
        "买卖双方居民身份证",
        "不动产权证书",
        "存量房买卖合同",
        "房屋买卖合同（网签备案合同）",
        "不动产登记申请书",
    ]


def test_fund_withdrawal_rules_approve_retirement_only(demo_loaded: Any) -> None:
    version = next(v for v in _published() if v.name == "住房公积金提取")
    assert version.dmn_xml == GJJTQ_DMN
    parsed = process_validate(version.dmn_xml, kind="dmn")
    assert parsed.outputs == ("auto_approve",)
    assert parsed.hit_policy == "UNIQUE"
    age = GJJTQ_RETIREMENT_AGE

    def decide(**facts: Any) -> Any:
        return rules_evaluate(version, facts)["auto_approve"]

    assert decide(situation="retire", age=age) is True
    assert decide(situation="retire", age=str(age + 10)) is True
    assert decide(situation="retire", age=age - 1) is False
    assert decide(situation="purchase", age=age + 10) is False
    assert decide(situation="purchase") is False
    assert decide(situation="leave") is False
    # the other demo items have no table
    assert [v.name for v in _published() if v.dmn_xml] == ["住房公积金提取"]


def test_second_run_changes_nothing(demo_loaded: Any) -> None:
    def snapshot() -> dict[str, Any]:
        return {
            "items": sorted(ServiceItem.objects.values_list("pk", "updated_at")),
            "versions": sorted(ItemVersion.objects.values_list("pk", "status", "updated_at")),
            "materials": Material.objects.count(),
            "faqs": Faq.objects.count(),
            "steps": ProcessStep.objects.count(),
            "bundles": sorted(Bundle.objects.values_list("pk", "status", "updated_at")),
            "audit": AuditEntry.objects.count(),
        }

    before = snapshot()
    assert catalog_demo_load(actor=demo_loaded["actor"], reviewer=demo_loaded["reviewer"]) == 0
    assert snapshot() == before
