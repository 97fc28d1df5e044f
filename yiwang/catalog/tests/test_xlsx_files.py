"""The Excel template's files: the export copies them into ``<OUT>.files/``, the import puts
back what the storage lacks, never overwrites, never leaves the folder, never half an item."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import InMemoryStorage, default_storage
from django.core.management import call_command
from openpyxl import load_workbook

from yiwang.catalog.exporters import catalog_export_xlsx
from yiwang.catalog.importers import catalog_import_xlsx
from yiwang.catalog.models import ItemVersion, Material, ServiceItem
from yiwang.catalog.tests.factories import MaterialFactory, PublishedVersionFactory
from yiwang.catalog.tests.test_export_xlsx import delete_catalog, snapshot

pytestmark = pytest.mark.django_db

RESULT = bytes(range(256)) * 40 + b"%PDF result"
FORM = b"PK\x03\x04 blank form \xff\xfe"
SAMPLE = "示例样表".encode() * 1000


class Catalog:
    """A published item with a result sample and a material with a blank form and a sample,
    and a second item without files."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:8]  # the in-memory storage lives as long as the process
        self.result = default_storage.save(f"catalog/samples/{tag}-结果.pdf", ContentFile(RESULT))
        self.form = default_storage.save(f"catalog/forms/{tag} form.docx", ContentFile(FORM))
        self.sample = default_storage.save(f"catalog/samples/{tag}-sample.pdf", ContentFile(SAMPLE))
        self.version = PublishedVersionFactory(result_sample=self.result)
        self.material = MaterialFactory(
            version=self.version, name="申请表", blank_form=self.form, sample_file=self.sample
        )
        self.plain = PublishedVersionFactory(result_sample="")
        self.code = self.version.item.task_code

    @property
    def files(self) -> dict[str, bytes]:
        return {self.result: RESULT, self.form: FORM, self.sample: SAMPLE}

    def wipe_files(self) -> None:
        for name in self.files:
            default_storage.delete(name)


@pytest.fixture
def catalog() -> Iterator[Catalog]:
    made = Catalog()
    yield made
    made.wipe_files()


def stored(name: str) -> bytes | None:
    if not default_storage.exists(name):
        return None
    with default_storage.open(name, "rb") as f:
        data: bytes = f.read()
    return data


def line_of(path: Path, sheet: str, column: str, value: Any) -> int:
    ws = load_workbook(path)[sheet]
    names = [c.value for c in ws[2]]
    for row in ws.iter_rows(min_row=3):
        if row[names.index(column)].value == value:
            return int(row[0].row)
    raise AssertionError(f"{value} not in {sheet}.{column}")


def set_value(path: Path, sheet: str, line: int, column: str, value: Any) -> None:
    book = load_workbook(path)
    ws = book[sheet]
    names = [c.value for c in ws[2]]
    ws.cell(row=line, column=names.index(column) + 1).value = value
    book.save(path)


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


# --- export --------------------------------------------------------------------------------


def test_export_copies_every_named_file_beside_the_workbook(
    tmp_path: Path, catalog: Catalog
) -> None:
    out = tmp_path / "catalog.xlsx"

    report = catalog_export_xlsx(path=out)

    assert (report.files, report.missing_files) == (3, [])
    assert report.files_dir == tmp_path / "catalog.xlsx.files"
    assert listing(report.files_dir) == sorted(catalog.files)
    for name, data in catalog.files.items():
        assert (report.files_dir / name).read_bytes() == data
    # no temporary name is left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalog.xlsx", "catalog.xlsx.files"]


def test_export_reports_a_missing_file_and_completes(tmp_path: Path, catalog: Catalog) -> None:
    out = tmp_path / "catalog.xlsx"
    default_storage.delete(catalog.form)
    stdout, stderr = StringIO(), StringIO()

    call_command("catalog", "export", "--format", "xlsx", str(out), stdout=stdout, stderr=stderr)

    line = line_of(out, "材料", "name", "申请表")
    assert f"已写入 2 个文件到 {out}.files" in stdout.getvalue()
    assert stderr.getvalue().splitlines() == [
        "缺少 1 个文件 / missing files:",
        f"  材料第{line}行「空白表格」：存储中没有文件「{catalog.form}」，未导出",
    ]
    assert listing(Path(f"{out}.files")) == sorted([catalog.result, catalog.sample])
    # the workbook is complete
    assert load_workbook(out)["材料"].max_row == 2 + Material.objects.count()


def test_export_never_writes_outside_its_folder(tmp_path: Path, catalog: Catalog) -> None:
    out = tmp_path / "catalog.xlsx"
    Material.objects.filter(pk=catalog.material.pk).update(blank_form="../escaped.docx")
    default_storage.save("escaped.docx", ContentFile(FORM))  # what the storage would open

    report = catalog_export_xlsx(path=out)

    line = line_of(out, "材料", "name", "申请表")
    assert report.missing_files == [
        f"材料第{line}行「空白表格」：文件名「../escaped.docx」不安全（含 ..、绝对路径或反斜杠），"
        "未导出"
    ]
    assert not (tmp_path / "escaped.docx").exists()
    assert report.files == 2
    default_storage.delete("escaped.docx")


def test_export_replaces_the_files_folder_of_an_earlier_export(
    tmp_path: Path, catalog: Catalog
) -> None:
    out = tmp_path / "catalog.xlsx"
    stale = tmp_path / "catalog.xlsx.files" / "catalog" / "stale.pdf"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")

    report = catalog_export_xlsx(path=out)

    assert not stale.exists()
    assert listing(report.files_dir) == sorted(catalog.files)


def test_a_failed_export_leaves_the_earlier_output_untouched(
    tmp_path: Path, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "catalog.xlsx"
    catalog_export_xlsx(path=out)
    before = out.read_bytes(), listing(Path(f"{out}.files"))
    catalog.version.item.department.name = "改过的名字"  # any change to the workbook
    catalog.version.item.department.save()

    def unreachable(self: InMemoryStorage, name: str, mode: str = "rb") -> Any:
        raise ConnectionError("object storage unreachable")

    monkeypatch.setattr(InMemoryStorage, "_open", unreachable)  # the storage is outside
    with pytest.raises(ConnectionError):
        catalog_export_xlsx(path=out)

    assert (out.read_bytes(), listing(Path(f"{out}.files"))) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalog.xlsx", "catalog.xlsx.files"]


# --- import --------------------------------------------------------------------------------


def test_files_round_trip_into_an_empty_installation(tmp_path: Path, catalog: Catalog) -> None:
    out = tmp_path / "catalog.xlsx"
    catalog_export_xlsx(path=out)
    before = snapshot()
    delete_catalog()
    catalog.wipe_files()
    stdout = StringIO()

    call_command("catalog", "import", "--format", "xlsx", str(out), stdout=stdout)

    assert "已存入文件 files saved 3" in stdout.getvalue()
    assert snapshot() == before
    for name, data in catalog.files.items():
        assert stored(name) == data
    version = ItemVersion.objects.get(item__task_code=catalog.code)
    assert version.result_sample.name == catalog.result
    assert version.result_sample.read() == RESULT


def test_files_already_in_the_storage_are_kept(tmp_path: Path, catalog: Catalog) -> None:
    out = tmp_path / "catalog.xlsx"
    catalog_export_xlsx(path=out)
    delete_catalog()

    report = catalog_import_xlsx(path=out)

    assert (report.created, report.files, report.failed) == (2, 0, [])
    for name, data in catalog.files.items():
        assert stored(name) == data


def test_a_file_in_neither_place_fails_its_item_and_saves_nothing_of_it(
    tmp_path: Path, catalog: Catalog
) -> None:
    out = tmp_path / "catalog.xlsx"
    catalog_export_xlsx(path=out)
    delete_catalog()
    catalog.wipe_files()
    (Path(f"{out}.files") / catalog.sample).unlink()
    line = line_of(out, "材料", "name", "申请表")

    report = catalog_import_xlsx(path=out)

    assert report.failed == [
        (
            line,
            f"[材料] 「示例样表」文件「{catalog.sample}」既不在存储中，"
            "也不在 catalog.xlsx.files 文件夹中",
        )
    ]
    assert (report.created, report.files) == (1, 0)
    assert not ServiceItem.objects.filter(task_code=catalog.code).exists()
    assert not Material.objects.filter(name="申请表").exists()
    # the item row's result sample and the form were saved first, and deleted with the item
    assert [stored(name) for name in catalog.files] == [None, None, None]


def test_without_the_files_folder_a_missing_file_fails_its_item(
    tmp_path: Path, catalog: Catalog
) -> None:
    out = tmp_path / "catalog.xlsx"
    catalog_export_xlsx(path=out)
    delete_catalog()
    catalog.wipe_files()
    moved = tmp_path / "elsewhere" / "catalog.xlsx"
    moved.parent.mkdir()
    out.rename(moved)

    report = catalog_import_xlsx(path=moved)

    assert report.failed == [
        (
            3,
            f"[事项] 「审批结果样本」文件「{catalog.result}」既不在存储中，"
            "也不在 catalog.xlsx.files 文件夹中",
        )
    ]
    assert list(ServiceItem.objects.values_list("task_code", flat=True)) == [
        catalog.plain.item.task_code
    ]


@pytest.mark.parametrize(
    "name",
    [
        "../secret.pdf",
        "catalog/../../secret.pdf",
        "/etc/passwd",
        "catalog\\forms\\x.pdf",
        "C:/secret.pdf",
    ],
)
def test_a_name_that_could_leave_the_folder_is_refused(
    tmp_path: Path, catalog: Catalog, name: str
) -> None:
    out = tmp_path / "catalog.xlsx"
    catalog_export_xlsx(path=out)
    delete_catalog()
    catalog.wipe_files()
    (tmp_path / "secret.pdf").write_bytes(b"outside the folder")
    line = line_of(out, "材料", "name", "申请表")
    set_value(out, "材料", line, "blank_form", name)

    report = catalog_import_xlsx(path=out)

    assert report.failed == [
        (line, f"[材料] 「空白表格」文件名「{name}」不安全（含 ..、绝对路径或反斜杠）")
    ]
    assert not ServiceItem.objects.filter(task_code=catalog.code).exists()
    assert not default_storage.exists("secret.pdf")
    assert [stored(n) for n in catalog.files] == [None, None, None]


def test_a_link_out_of_the_folder_is_not_followed(tmp_path: Path, catalog: Catalog) -> None:
    out = tmp_path / "catalog.xlsx"
    catalog_export_xlsx(path=out)
    delete_catalog()
    catalog.wipe_files()
    secret = tmp_path / "secret.pdf"
    secret.write_bytes(b"outside the folder")
    copy = Path(f"{out}.files") / catalog.form
    copy.unlink()
    copy.symlink_to(secret)

    report = catalog_import_xlsx(path=out)

    assert [reason for _line, reason in report.failed] == [
        f"[材料] 「空白表格」文件「{catalog.form}」既不在存储中，也不在 catalog.xlsx.files 文件夹中"
    ]
    assert stored(catalog.form) is None


def test_a_different_file_under_the_same_name_is_never_overwritten(
    tmp_path: Path, catalog: Catalog
) -> None:
    out = tmp_path / "catalog.xlsx"
    catalog_export_xlsx(path=out)
    delete_catalog()
    catalog.wipe_files()
    theirs = b"another installation's form"
    default_storage.save(catalog.form, ContentFile(theirs))
    line = line_of(out, "材料", "name", "申请表")

    report = catalog_import_xlsx(path=out)

    assert report.failed == [
        (
            line,
            f"[材料] 「空白表格」存储中已有同名文件「{catalog.form}」，"
            "内容与 catalog.xlsx.files 文件夹中的不同，不会覆盖",
        )
    ]
    assert stored(catalog.form) == theirs
    assert stored(catalog.result) is None  # saved for the failed item, then deleted
    assert not ServiceItem.objects.filter(task_code=catalog.code).exists()
    assert report.created == 1


def test_an_equal_size_different_file_is_also_refused(tmp_path: Path, catalog: Catalog) -> None:
    out = tmp_path / "catalog.xlsx"
    catalog_export_xlsx(path=out)
    delete_catalog()
    default_storage.delete(catalog.form)
    default_storage.save(catalog.form, ContentFile(FORM[::-1]))

    report = catalog_import_xlsx(path=out)

    assert [reason.split("」")[0] for _line, reason in report.failed] == ["[材料] 「空白表格"]
    assert stored(catalog.form) == FORM[::-1]
