"""The Excel template: layout, and export → import → export round trips without loss."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import models
from openpyxl import load_workbook

from yiwang.accounts.tests.factories import DepartmentFactory, StaffFactory
from yiwang.catalog import errors
from yiwang.catalog.exporters import catalog_export_xlsx
from yiwang.catalog.exporters.xlsx_layout import SHEETS
from yiwang.catalog.importers import catalog_import_gd_jsonl, catalog_import_xlsx
from yiwang.catalog.models import (
    Bundle,
    BundleMember,
    Faq,
    FeeItem,
    ItemVersion,
    LegalBasis,
    Material,
    ProcessStep,
    ServiceItem,
    Situation,
    Theme,
    TimeUnit,
)
from yiwang.catalog.tests.factories import (
    BundleFactory,
    BundleMemberFactory,
    FeeItemFactory,
    ItemVersionFactory,
    LegalBasisFactory,
    MaterialFactory,
    PublishedVersionFactory,
    SituationFactory,
    ThemeFactory,
    public_service_type,
)
from yiwang.core.errors import ValidationError
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db

REAL_FILE = Path(settings.SHARED_DATA_DIR) / "guangdong_service_items.jsonl"


def cells(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    book = load_workbook(path)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def delete_catalog() -> None:
    BundleMember.objects.all().delete()
    Bundle.objects.all().delete()
    ServiceItem.objects.all().delete()


def field_values(obj: models.Model) -> dict[str, Any]:
    """Every stored field except the surrogate keys and timestamps, with relations by their
    natural keys, so that rows from two databases compare."""
    out: dict[str, Any] = {}
    for f in obj._meta.concrete_fields:
        if f.name in {"id", "created_at", "updated_at", "version", "item", "bundle"}:
            continue
        value = getattr(obj, f.name)
        if isinstance(value, models.Model):
            value = str(value)
        elif hasattr(value, "name") and isinstance(f, models.FileField):
            value = value.name
        out[f.name] = value
    for f in obj._meta.many_to_many:
        out[f.name] = sorted(str(x) for x in getattr(obj, f.name).all())
    return out


def snapshot() -> dict[str, Any]:
    """The whole catalog, table by table, keyed by natural keys."""
    versions = {}
    for v in ItemVersion.objects.select_related("item", "item__department").order_by(
        "item__task_code", "number"
    ):
        versions[(v.item.task_code, v.number)] = {
            "item": field_values(v.item),
            "version": field_values(v),
            **{
                name: [field_values(c) for c in getattr(v, name).all()]
                for name in ("legal_bases", "situations", "materials", "fee_items", "faqs", "steps")
            },
        }
    bundles = {
        b.code: {
            "bundle": field_values(b),
            "members": [field_values(m) | {"item": m.item.task_code} for m in b.members.all()],
        }
        for b in Bundle.objects.all()
    }
    return {"versions": versions, "bundles": bundles}


@pytest.fixture
def demo_like_catalog() -> list[ItemVersion]:
    """Items with every kind of child row, every list and relation filled, and two bundles."""
    city = DepartmentFactory(code="ls-city", name="六安市数据资源局")
    housing = DepartmentFactory(code="ls-fund", name="六安市住房公积金管理中心")
    publisher = StaffFactory(username="catalog-boss")
    permit = PublishedVersionFactory(
        item__department=city,
        item__catalog_code="000118002000",
        published_by=publisher,
        name="食品经营许可",
        short_name="食品许可",
        handle_item_code="341500-XK-001-01",
        server_types=["自然人", "企业法人"],
        handle_forms=["窗口办理", "网上办理", "邮寄申请"],
        special_procedures=["专家评审", "听证"],
        visit_count=1,
        visit_reason="核验原件",
        is_fee=True,
        fee_basis="《收费标准》",
        online_payment=True,
        handle_area=ItemVersion.HandleArea.CITY,
        anticipate_explain="不含现场核查时间",
        supports_appointment=True,
        keywords="食品 餐饮",
        bpmn_xml="<definitions/>",
    )
    permit.themes.add(ThemeFactory(audience=Theme.Audience.LEGAL, name="准营准办"))
    LegalBasisFactory(version=permit, effective_date=dt.date(2015, 10, 1), sort_order=1)
    LegalBasisFactory(version=permit, law_name="《食品经营许可管理办法》", sort_order=2)
    FeeItemFactory(version=permit, reducible=True, reduce_basis="小微企业减免")
    buy = SituationFactory(version=permit, code="buy", name="购房", sort_order=1)
    retire = SituationFactory(version=permit, code="retire", name="退休", sort_order=2)
    MaterialFactory(
        version=permit,
        name="营业执照",
        necessity=Material.Necessity.TOLERATED,
        kind=Material.Kind.ORIGINAL_AND_COPY,
        form=Material.Form.ELECTRONIC,
        source=Material.Source.GOVERNMENT,
        certificate_type_code="11100000000013338W001",
        paper_count=2,
        spec="A4",
        notes="加盖公章",
        situations=[buy, retire],
        sort_order=2,
    )
    ProcessStep.objects.filter(version=permit, kind=ProcessStep.Kind.REVIEW).update(
        department=housing, role="approver", description="并联审查"
    )

    draft = ItemVersionFactory(
        item_type=public_service_type(),
        item__department=housing,
        name="住房公积金提取",
        server_types=["自然人"],
        promise_limit=0,
        promise_unit=TimeUnit.IMMEDIATE,
        project_type=ItemVersion.ProjectType.IMMEDIATE,
        children=False,
    )
    Faq.objects.create(version=draft, question="要带什么？", answer="身份证。", sort_order=3)
    linked = PublishedVersionFactory(
        name="医疗挂号", external_system=True, mobile_url="https://m.example.cn/", children=False
    )

    enterprise = BundleFactory(
        code="qiye-kaiban",
        name="企业开办",
        lead_department=city,
        status=Bundle.Status.PUBLISHED,
        dispatch=Bundle.Dispatch.SEQUENTIAL,
        form_schema=[
            {"name": "legal_rep", "label": "法定代表人", "maps_to": {"x": "y"}, "required": True}
        ],
        keywords="开公司",
    )
    enterprise.cooperating_departments.set([housing])
    BundleMemberFactory(bundle=enterprise, item=permit.item, stage=0, sort_order=1)
    BundleMemberFactory(bundle=enterprise, item=draft.item, stage=1, required=False)
    BundleFactory(code="ershoufang", name="二手房过户", lead_department=housing)
    return [permit, draft, linked]


# --- layout --------------------------------------------------------------------------------


def test_workbook_has_a_sheet_per_table_with_two_header_rows(
    tmp_path: Path, demo_like_catalog: list[ItemVersion]
) -> None:
    out = tmp_path / "catalog.xlsx"

    report = catalog_export_xlsx(path=out)

    book = load_workbook(out)
    assert book.sheetnames == [
        "事项",
        "设定依据",
        "情形",
        "材料",
        "收费",
        "常见问题",
        "环节",
        "一件事",
        "一件事成员",
        "事项类型",
        "主题分类",
    ]
    items = book["事项"]
    header = [c.value for c in items[1]]
    names = [c.value for c in items[2]]
    assert header[:4] == ["实施编码", "事项公开标识", "基本编码", "实施主体"]
    assert names[:4] == ["task_code", "item_public_id", "catalog_code", "department"]
    assert items.freeze_panes == "B3"
    status = names.index("status") + 1
    validations = {str(dv.sqref): dv.formula1 for dv in items.data_validations.dataValidation}
    column = items.cell(row=3, column=status).column_letter
    assert validations[f"{column}3:{column}202"] == '"草稿,待审核,已发布,已停用"'
    assert report.rows["事项"] == 3
    assert report.rows["材料"] == 2
    assert report.rows["一件事成员"] == 2
    first = {n: c.value for n, c in zip(names, items[3], strict=True)}
    assert first["status"] == "已发布"
    assert first["item_type"] == "行政许可"
    assert first["server_types"] == "自然人\n企业法人"
    assert first["themes"] == "面向法人·准营准办"
    assert first["is_fee"] == "是"
    assert first["published_by"] == "catalog-boss"


def test_export_of_published_versions_only(
    tmp_path: Path, demo_like_catalog: list[ItemVersion]
) -> None:
    report = catalog_export_xlsx(path=tmp_path / "p.xlsx", status="published")

    assert report.rows["事项"] == 2
    assert report.rows["一件事"] == 1


def test_export_refuses_an_unknown_status(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        catalog_export_xlsx(path=tmp_path / "x.xlsx", status="gone")

    assert caught.value.code == errors.FIELD_INVALID
    assert not (tmp_path / "x.xlsx").exists()


# --- round trips ---------------------------------------------------------------------------


def test_demo_like_catalog_round_trips_without_loss(
    tmp_path: Path, demo_like_catalog: list[ItemVersion]
) -> None:
    first, second = tmp_path / "first.xlsx", tmp_path / "second.xlsx"
    catalog_export_xlsx(path=first)
    before = snapshot()
    delete_catalog()

    report = catalog_import_xlsx(path=first)

    assert (report.created, report.updated, report.unchanged, report.failed) == (5, 0, 0, [])
    assert snapshot() == before  # every field of every table, public ids included
    catalog_export_xlsx(path=second)
    assert cells(second) == cells(first)


def test_reimport_without_changes_is_a_no_op(
    tmp_path: Path, demo_like_catalog: list[ItemVersion]
) -> None:
    path = tmp_path / "catalog.xlsx"
    catalog_export_xlsx(path=path)
    before = snapshot()
    audits = AuditEntry.objects.count()

    report = catalog_import_xlsx(path=path)

    assert (report.created, report.updated, report.unchanged, report.failed) == (0, 0, 5, [])
    assert snapshot() == before
    assert AuditEntry.objects.count() == audits


def test_edited_published_item_becomes_a_new_draft(
    tmp_path: Path, demo_like_catalog: list[ItemVersion]
) -> None:
    permit, draft, _linked = demo_like_catalog
    path = tmp_path / "catalog.xlsx"
    catalog_export_xlsx(path=path)
    book = load_workbook(path)
    items = book["事项"]
    names = [c.value for c in items[2]]
    rows = {r[0].value: r for r in items.iter_rows(min_row=3)}
    rows[permit.item.task_code][names.index("name")].value = "食品经营许可（新）"
    rows[draft.item.task_code][names.index("keywords")].value = "公积金 提取"
    book.save(path)

    report = catalog_import_xlsx(path=path)

    # the third item and the two bundles are unchanged
    assert (report.created, report.updated, report.unchanged) == (0, 2, 3)
    permit.refresh_from_db()
    assert (permit.status, permit.name) == (ItemVersion.Status.PUBLISHED, "食品经营许可")
    new = permit.item.versions.get(number=2)
    assert (new.status, new.name) == (ItemVersion.Status.DRAFT, "食品经营许可（新）")
    assert [m.name for m in new.materials.all()] == ["居民身份证", "营业执照"]
    assert new.materials.get(name="营业执照").situations.count() == 2
    assert new.public_id != permit.public_id
    draft.refresh_from_db()  # a draft is replaced in place
    assert (draft.number, draft.keywords) == (1, "公积金 提取")
    assert draft.faqs.count() == 1
    audit = AuditEntry.objects.filter(action="catalog.import_xlsx").get()
    assert isinstance(audit.after, dict)
    assert sorted(audit.after["updated_codes"]) == sorted(
        [permit.item.task_code, draft.item.task_code]
    )


def test_real_catalog_round_trips(tmp_path: Path) -> None:
    if not REAL_FILE.exists():
        pytest.skip(f"the provincial catalog {REAL_FILE} is absent (set YIWANG_SHARED_DATA)")
    catalog_import_gd_jsonl(path=REAL_FILE)
    first, second = tmp_path / "first.xlsx", tmp_path / "second.xlsx"
    catalog_export_xlsx(path=first)
    delete_catalog()

    report = catalog_import_xlsx(path=first)

    assert (report.created, report.failed) == (2262, [])
    catalog_export_xlsx(path=second)
    assert cells(second) == cells(first)


def test_every_model_field_has_a_column() -> None:
    covered = {(s.model, c.field) for s in SHEETS for c in s.columns if c.source != "item"}
    covered |= {(ServiceItem, c.field) for s in SHEETS for c in s.columns if c.source == "item"}
    for model in (
        ServiceItem,
        ItemVersion,
        LegalBasis,
        Situation,
        Material,
        FeeItem,
        Faq,
        ProcessStep,
        Bundle,
        BundleMember,
    ):
        fields = [*model._meta.concrete_fields, *model._meta.many_to_many]
        missing = [
            f.name
            for f in fields
            if f.name not in {"id", "created_at", "updated_at", "version", "item", "bundle"}
            and (model, f.name) not in covered
        ]
        assert missing == [], model.__name__
