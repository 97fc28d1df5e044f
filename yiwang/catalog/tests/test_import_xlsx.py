"""Import of the Excel template: bad cells and rows are reported, never half an item."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from yiwang.accounts.tests.factories import DepartmentFactory
from yiwang.catalog import errors
from yiwang.catalog.exporters import catalog_export_xlsx
from yiwang.catalog.importers import catalog_import_xlsx
from yiwang.catalog.models import Bundle, BundleMember, ItemVersion, Material, ServiceItem
from yiwang.catalog.tests.factories import (
    BundleFactory,
    BundleMemberFactory,
    PublishedVersionFactory,
    SituationFactory,
)
from yiwang.core.errors import ValidationError

pytestmark = pytest.mark.django_db


def set_cell(path: Path, sheet: str, task_code: str, column: str, value: Any) -> int:
    """Write ``value`` into ``column`` of the row whose first cell is ``task_code``; returns
    that row's number."""
    book = load_workbook(path)
    ws = book[sheet]
    names = [c.value for c in ws[2]]
    for row in ws.iter_rows(min_row=3):
        if row[0].value == task_code:
            row[names.index(column)].value = value
            book.save(path)
            return int(row[0].row)
    raise AssertionError(f"{task_code} not in {sheet}")


def append_row(path: Path, sheet: str, values: dict[str, Any]) -> int:
    book = load_workbook(path)
    ws = book[sheet]
    names = [c.value for c in ws[2]]
    ws.append([values.get(n) for n in names])
    book.save(path)
    return int(ws.max_row)


@pytest.fixture
def exported(tmp_path: Path) -> tuple[Path, list[str]]:
    versions = [PublishedVersionFactory() for _ in range(4)]
    SituationFactory(version=versions[1], code="buy")
    bundle = BundleFactory(code="b1")
    BundleMemberFactory(bundle=bundle, item=versions[0].item)
    path = tmp_path / "catalog.xlsx"
    catalog_export_xlsx(path=path)
    codes = [v.item.task_code for v in versions]
    BundleMember.objects.all().delete()
    Bundle.objects.all().delete()
    ServiceItem.objects.all().delete()
    return path, codes


def test_bad_rows_are_listed_and_the_good_items_imported(exported: tuple[Path, list[str]]) -> None:
    path, codes = exported
    bad_choice = set_cell(path, "事项", codes[0], "use_level", "省部级")
    bad_number = set_cell(path, "材料", codes[1], "paper_count", "两份")
    bad_situation = set_cell(path, "材料", codes[1], "situations", "buy\nsell")
    orphan = append_row(path, "常见问题", {"task_code": "NOPE", "question": "问", "answer": "答"})
    bad_department = set_cell(path, "事项", codes[2], "department", "no-such-dept")

    report = catalog_import_xlsx(path=path)

    assert report.failed == sorted(
        [
            (
                bad_choice,
                "[事项] 「行使层级」「省部级」不在可选范围内"
                "（国家级、省级、市级、县级、乡（镇、街道）级、村（社区）级）",
            ),
            (bad_number, "[材料] 「纸质材料份数」应为整数，而不是「两份」"),
            (orphan, "[常见问题] 实施编码「NOPE」不在「事项」工作表中"),
            (bad_department, "[事项] 「实施主体」未知的机构代码 no-such-dept"),
            # the bundle's only member was a failed item: the bundle fails on that member
            (3, f"[一件事成员] 「事项实施编码」未知的实施编码「{codes[0]}」"),
        ]
    )
    assert bad_situation == bad_number  # the same material row: its first error is reported
    assert report.created == 1
    assert list(ServiceItem.objects.values_list("task_code", flat=True)) == [codes[3]]
    # nothing of a failed item was left behind
    assert ItemVersion.objects.count() == 1
    assert Material.objects.count() == 1
    assert Bundle.objects.count() == 0
    assert report.failed == sorted(report.failed)


def test_material_naming_an_unknown_situation_fails_its_item(
    exported: tuple[Path, list[str]],
) -> None:
    path, codes = exported
    line = set_cell(path, "材料", codes[1], "situations", "buy\nsell")

    report = catalog_import_xlsx(path=path)

    assert (line, "[材料] 「适用情形」本事项没有情形 sell") in report.failed
    assert not ServiceItem.objects.filter(task_code=codes[1]).exists()
    assert report.created == 4  # three items and the bundle
    assert ServiceItem.objects.count() == 3


def test_bundle_with_an_unknown_lead_department_fails(exported: tuple[Path, list[str]]) -> None:
    path, _codes = exported
    book = load_workbook(path)
    ws = book["一件事"]
    names = [c.value for c in ws[2]]
    ws.cell(row=3, column=names.index("lead_department") + 1).value = "gone"
    book.save(path)

    report = catalog_import_xlsx(path=path)

    assert report.failed == [(3, "[一件事] 「牵头部门」未知的机构代码 gone")]
    assert report.created == 4
    assert Bundle.objects.count() == 0


def test_bundle_is_created_with_its_members(exported: tuple[Path, list[str]]) -> None:
    path, codes = exported
    DepartmentFactory(code="extra")

    report = catalog_import_xlsx(path=path)

    assert (report.created, report.failed) == (5, [])
    member = BundleMember.objects.get()
    assert (member.bundle.code, member.item.task_code) == ("b1", codes[0])


def test_a_file_that_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    path.write_text("not excel", encoding="utf-8")

    with pytest.raises(ValidationError) as caught:
        catalog_import_xlsx(path=path)

    assert caught.value.code == errors.IMPORT_FILE_UNREADABLE


def test_a_workbook_without_the_items_sheet_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    book = Workbook()
    book.active.title = "Sheet1"
    book.save(path)

    with pytest.raises(ValidationError) as caught:
        catalog_import_xlsx(path=path)

    assert caught.value.code == errors.IMPORT_LAYOUT_INVALID
    assert ServiceItem.objects.count() == 0


def test_a_sheet_without_its_field_name_row_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    book = Workbook()
    ws = book.active
    ws.title = "事项"
    ws.append(["实施编码", "事项名称"])
    ws.append(["编码", "名称"])
    ws.append(["A1", "x"])
    book.save(path)

    with pytest.raises(ValidationError) as caught:
        catalog_import_xlsx(path=path)

    assert caught.value.code == errors.IMPORT_LAYOUT_INVALID
    assert "task_code" in str(caught.value.message)
