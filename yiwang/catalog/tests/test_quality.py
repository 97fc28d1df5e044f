"""Quality rules (standards.md §1.5 (g) and the structural ones): each rule fails on a version
that breaks it and passes on one that keeps it; the catalog-wide report and `catalog check`."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command

from yiwang.catalog.models import ItemVersion, Material, ProcessStep, Theme, TimeUnit
from yiwang.catalog.quality import RULES, Violation, quality_check, quality_report
from yiwang.catalog.tests.factories import (
    FeeItemFactory,
    ItemVersionFactory,
    MaterialFactory,
    PublishedVersionFactory,
    ThemeFactory,
    public_service_type,
)

Change = Callable[[ItemVersion], None]


def _set(**values: Any) -> Change:
    def apply(v: ItemVersion) -> None:
        for name, value in values.items():
            setattr(v, name, value)
        v.save()

    return apply


def _both(*changes: Change) -> Change:
    def apply(v: ItemVersion) -> None:
        for change in changes:
            change(v)

    return apply


def _no_materials(v: ItemVersion) -> None:
    v.materials.all().delete()


def _no_themes(v: ItemVersion) -> None:
    v.themes.clear()


def _no_faq(v: ItemVersion) -> None:
    v.faqs.all().delete()


def _drop_step(kind: str) -> Change:
    def apply(v: ItemVersion) -> None:
        v.steps.filter(kind=kind).delete()

    return apply


def _replace_step(kind: str) -> Change:
    """Five steps, but ``kind`` replaced by another 审查 (count kept, one kind missing)."""

    def apply(v: ItemVersion) -> None:
        v.steps.filter(kind=kind).update(kind=ProcessStep.Kind.REVIEW, name="复审")

    return apply


def _government_material(**codes: str) -> Change:
    def apply(v: ItemVersion) -> None:
        MaterialFactory(version=v, name="结婚证", source=Material.Source.GOVERNMENT, **codes)

    return apply


def _fee_item(v: ItemVersion) -> None:
    FeeItemFactory(version=v)


def _legal_theme(v: ItemVersion) -> None:
    v.themes.set([ThemeFactory(audience=Theme.Audience.LEGAL, name="设立变更")])


def _public_service(v: ItemVersion) -> None:
    v.item_type = public_service_type()
    v.save()


# rule → (what breaks it, what keeps it), each applied to a complete version that passes all
CASES: dict[str, tuple[Change, Change]] = {
    "basic.name": (_set(name="  "), _set(name="户口迁移")),
    "basic.department": (_set(dept_name=""), _set(dept_name="六安市公安局")),
    "basic.server_types": (
        _both(_set(server_types=[]), _no_themes),
        _set(server_types=["自然人"]),
    ),
    "basic.materials": (
        _no_materials,
        _both(
            _no_materials,
            _set(
                project_type=ItemVersion.ProjectType.IMMEDIATE,
                promise_unit=TimeUnit.IMMEDIATE,
                promise_limit=None,
            ),
        ),
    ),
    "external.link": (
        _set(external_system=True, online_url="", mobile_url=""),
        _set(external_system=True, online_url="", mobile_url="https://m.example.cn/"),
    ),
    "time.promise_required": (
        _set(promise_limit=None),
        _set(promise_limit=None, promise_unit=TimeUnit.IMMEDIATE, project_type="immediate"),
    ),
    "time.promise_within_statutory": (
        _set(promise_limit=25, anticipate_limit=20),
        # different units are not compared
        _set(promise_limit=25, anticipate_limit=20, anticipate_unit=TimeUnit.NATURAL_DAY),
    ),
    "time.immediate_project_type": (
        _set(promise_unit=TimeUnit.IMMEDIATE, project_type=ItemVersion.ProjectType.PROMISED),
        _set(promise_unit=TimeUnit.IMMEDIATE, project_type=ItemVersion.ProjectType.IMMEDIATE),
    ),
    "result.type_matches_name": (
        _set(result_name="关于同意建设的批复", result_type=ItemVersion.ResultType.DOCUMENT),
        _set(result_name="关于同意建设的批复", result_type=ItemVersion.ResultType.APPROVAL),
    ),
    "result.sample": (
        _set(result_sample=""),
        _set(result_sample="", result_type="", result_name=""),
    ),
    "visit.reason": (
        _set(visit_count=1, visit_reason="", online_depth=ItemVersion.OnlineDepth.III),
        _set(visit_count=1, visit_reason="需现场核验原件", online_depth="3"),
    ),
    "visit.mail_when_not_online": (
        _set(online_depth=ItemVersion.OnlineDepth.I, handle_forms=["窗口办理"]),
        _set(online_depth=ItemVersion.OnlineDepth.I, handle_forms=["窗口办理", "邮寄申请"]),
    ),
    "online.level4_no_visit": (
        _set(visit_count=1, visit_reason="需现场采集指纹"),
        _set(visit_count=1, visit_reason="需现场采集指纹", online_depth="3"),
    ),
    "fee.basis_and_items": (
        _both(_set(is_fee=True, online_payment=True, fee_basis=""), _fee_item),
        _both(_set(is_fee=True, online_payment=True, fee_basis="皖价费〔2020〕1号"), _fee_item),
    ),
    "fee.no_fee_no_payment": (
        _set(is_fee=False, online_payment=True),
        _set(is_fee=False, online_payment=False),
    ),
    "theme.audience_matches_server_type": (
        _legal_theme,
        _both(_legal_theme, _set(server_types=["自然人", "企业法人"])),
    ),
    # a public service may need no materials: only a warning, and basic.materials stays quiet
    "basic.materials_none": (_both(_no_materials, _public_service), _public_service),
    "permit.faq": (_no_faq, _both(_no_faq, _public_service)),
    "permit.steps": (
        _drop_step(ProcessStep.Kind.DELIVER),
        _both(_drop_step(ProcessStep.Kind.DELIVER), _public_service),
    ),
    "material.government_replacement": (
        _government_material(),
        _government_material(data_resource_code="DR-MZ-0001"),
    ),
}


def _rules(v: ItemVersion) -> list[str]:
    fresh = ItemVersion.objects.get(pk=v.pk)  # no stale prefetch cache
    return [x.rule for x in quality_check(fresh)]


def test_every_registered_rule_has_a_case() -> None:
    assert sorted(CASES) == sorted(RULES)


def test_the_factory_version_passes_every_rule(db: Any) -> None:
    assert quality_check(ItemVersionFactory()) == []


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_fails_when_broken(db: Any, code: str) -> None:
    version = ItemVersionFactory()

    CASES[code][0](version)

    assert _rules(version) == [code]


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_passes_when_kept(db: Any, code: str) -> None:
    version = ItemVersionFactory()

    CASES[code][1](version)

    assert _rules(version) == []


@pytest.mark.parametrize(
    ("result_name", "result_type"),
    [
        ("居民身份证", ItemVersion.ResultType.CERTIFICATE),
        ("准予行政许可决定文", ItemVersion.ResultType.DOCUMENT),
        ("关于项目的批复", ItemVersion.ResultType.APPROVAL),
        ("办理结果通知", ItemVersion.ResultType.OTHER),  # no attested suffix: any type
    ],
)
def test_result_suffixes(db: Any, result_name: str, result_type: str) -> None:
    version = ItemVersionFactory(result_name=result_name, result_type=result_type)
    assert _rules(version) == []


@pytest.mark.parametrize(
    ("result_name", "wrong_type", "message"),
    [
        ("居民身份证", "document", "审批结果名称以“证”结尾，结果类型应为“出证办结”。"),
        ("决定文", "certificate", "审批结果名称以“文”结尾，结果类型应为“出文办结”。"),
        ("建设批复", "certificate", "审批结果名称以“批复”结尾，结果类型应为“审批办结”。"),
    ],
)
def test_result_suffix_messages(db: Any, result_name: str, wrong_type: str, message: str) -> None:
    version = ItemVersionFactory(result_name=result_name, result_type=wrong_type)

    assert quality_check(version) == [
        Violation(
            rule="result.type_matches_name", severity="error", message=message, field="result_type"
        )
    ]


@pytest.mark.parametrize(
    ("online_depth", "online_payment", "messages"),
    [
        ("4", False, ["收费事项至少需要一个收费项目。", "全程网办的收费事项必须支持网上支付。"]),
        ("4", True, ["收费事项至少需要一个收费项目。"]),
        ("3", False, ["收费事项至少需要一个收费项目。"]),
    ],
)
def test_fee_items_and_online_payment(
    db: Any, online_depth: str, online_payment: bool, messages: list[str]
) -> None:
    version = ItemVersionFactory(
        is_fee=True,
        fee_basis="皖价费〔2020〕1号",
        online_depth=online_depth,
        online_payment=online_payment,
    )

    assert [v.message for v in quality_check(version)] == messages


def test_permit_steps_need_each_kind_not_only_five(db: Any) -> None:
    version = ItemVersionFactory()
    _replace_step(ProcessStep.Kind.DELIVER)(version)

    [violation] = quality_check(ItemVersion.objects.get(pk=version.pk))

    assert violation.rule == "permit.steps"
    assert violation.message == (
        "行政许可事项至少需要5个办理环节（受理、审查、决定、办结、送达），缺少：送达。"
    )


def test_government_material_warning_names_the_material(db: Any) -> None:
    version = ItemVersionFactory()
    MaterialFactory(version=version, name="结婚证", source=Material.Source.GOVERNMENT)
    material = version.materials.get(name="结婚证")

    assert quality_check(version) == [
        Violation(
            rule="material.government_replacement",
            severity="warning",
            message="材料“结婚证”由政府部门核发，请注明可替代它的电子证照类型或共享数据资源。",
            field=f"materials.{material.pk}",
        )
    ]


def test_errors_come_before_warnings(db: Any) -> None:
    version = ItemVersionFactory(dept_name="")
    MaterialFactory(version=version, source=Material.Source.GOVERNMENT)

    severities = [v.severity for v in quality_check(version)]

    assert severities == ["error", "warning"]


# --- the report ----------------------------------------------------------------------------


def _catalog(n: int) -> None:
    for i in range(n):
        version = ItemVersionFactory(dept_name="" if i % 2 else "某局")
        MaterialFactory(version=version, source=Material.Source.GOVERNMENT)


def test_report_covers_the_latest_version_of_each_item(db: Any) -> None:
    published = PublishedVersionFactory(dept_name="")  # broken, but superseded
    newer = ItemVersionFactory(item=published.item, number=2)
    clean = ItemVersionFactory()

    report = quality_report()

    assert report == []
    newer.dept_name = ""
    newer.save()
    report = quality_report()
    assert [(v.pk, [x.rule for x in found]) for v, found in report] == [
        (newer.pk, ["basic.department"])
    ]
    assert clean.pk not in [v.pk for v, _found in report]


def test_report_query_count_does_not_grow_with_the_catalog(
    db: Any, django_assert_num_queries: Any
) -> None:
    _catalog(3)
    with django_assert_num_queries(6):  # versions + materials, faqs, steps, fees, themes
        assert len(quality_report()) == 3
    _catalog(7)
    with django_assert_num_queries(6):
        assert len(quality_report()) == 10


# --- `yiwang catalog check` ------------------------------------------------------------------


def _check(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("catalog", "check", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_check_prints_each_violation_and_exits_1_on_errors(db: Any) -> None:
    broken = ItemVersionFactory(dept_name="", item__task_code="T-0001", name="户口迁移")
    warned = ItemVersionFactory(item__task_code="T-0002", name="结婚登记")
    MaterialFactory(version=warned, name="户口簿", source=Material.Source.GOVERNMENT)
    ItemVersionFactory(item__task_code="T-0003")
    material = warned.materials.get(name="户口簿")

    code, output = _check()

    assert code == 1
    assert broken.number == 1
    assert output.splitlines() == [
        "T-0001 v1 户口迁移（草稿）",
        "  [错误] basic.department dept_name: 实施主体名称不能为空。",
        "T-0002 v1 结婚登记（草稿）",
        f"  [提示] material.government_replacement materials.{material.pk}: "
        "材料“户口簿”由政府部门核发，请注明可替代它的电子证照类型或共享数据资源。",
        "共检查 3 个事项版本：1 个有错误，1 个仅有提示；错误 1 条，提示 1 条。",
    ]


def test_check_exits_0_with_warnings_only_and_can_hide_them(db: Any) -> None:
    warned = ItemVersionFactory(item__task_code="T-0002", name="结婚登记")
    MaterialFactory(version=warned, source=Material.Source.GOVERNMENT)

    code, output = _check("--errors-only")

    assert code == 0
    assert output.splitlines() == [
        "共检查 1 个事项版本：0 个有错误，1 个仅有提示；错误 0 条，提示 1 条。"
    ]


def test_check_published_only(db: Any) -> None:
    PublishedVersionFactory(item__task_code="T-0001", name="已发布")
    ItemVersionFactory(item__task_code="T-0002", dept_name="")  # a broken draft, not checked

    code, output = _check("--published")

    assert code == 0
    assert output.splitlines() == [
        "共检查 1 个事项版本：0 个有错误，0 个仅有提示；错误 0 条，提示 0 条。"
    ]
