"""``catalog_export_xlsx``: the whole catalog as one Excel workbook (layout: xlsx_layout).

One version per item: the newest, or with ``status`` the one in that status (e.g. the
published catalog). The workbook is the template that ``catalog_import_xlsx`` reads back.

The uploaded files that its cells name (审批结果样本, 空白表格, 示例样表) are copied from the
default storage into ``<OUT>.files/`` under their stored names. Both are written under temporary
names beside OUT and renamed at the end, so a failed export leaves the previous output as it was
and no half-written one. A named file that the storage does not hold is reported (sheet, row,
column, name); the export goes on without it.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.files.storage import default_storage
from django.db.models import Max, OuterRef, QuerySet, Subquery
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from yiwang.catalog import errors
from yiwang.catalog.exporters.xlsx_layout import (
    BUNDLE_MEMBERS,
    BUNDLES,
    FALSE,
    FAQS,
    FEES,
    HEADER_ROWS,
    ITEM_TYPES,
    ITEMS,
    LEGAL_BASES,
    MATERIALS,
    SITUATIONS,
    STEPS,
    THEMES,
    TRUE,
    Sheet,
    encode_row,
    files_dir,
    unsafe_file_name,
)
from yiwang.catalog.importers.common import Timer
from yiwang.catalog.models import (
    Bundle,
    BundleMember,
    Faq,
    FeeItem,
    ItemType,
    ItemVersion,
    LegalBasis,
    Material,
    ProcessStep,
    Situation,
    Theme,
)
from yiwang.core.errors import ValidationError

EXCEL_CELL_LIMIT = 32_767  # characters; Excel cuts longer text when it opens the file
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_FIELD_FONT = Font(color="808080", size=8)


@dataclass
class ExportReport:
    path: Path
    rows: dict[str, int] = field(default_factory=dict)  # sheet title → data rows
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    files: int = 0  # distinct files written into files_dir
    missing_files: list[str] = field(default_factory=list)  # "sheet, row, column: name"
    # stored name → the cells that name it ("事项第3行「审批结果样本」")
    file_refs: dict[str, list[str]] = field(default_factory=dict, repr=False)

    @property
    def items(self) -> int:
        return self.rows.get(ITEMS.title, 0)

    @property
    def files_dir(self) -> Path:
        return files_dir(self.path)


def catalog_export_xlsx(*, path: Path | str, status: str | None = None) -> ExportReport:
    """Write the catalog to ``path``: the newest version of every item, or the version in
    ``status`` (draft, review, published, retired) when given."""
    timer = Timer()
    if status is not None and status not in ItemVersion.Status.values:
        raise ValidationError(
            errors.FIELD_INVALID,
            _("未知的版本状态：%(s)s") % {"s": status},
            field="status",
        )
    report = ExportReport(path=Path(path))
    versions = list(_versions(status))
    ids = [v.pk for v in versions]
    children: dict[Sheet, Iterable[Any]] = {
        LEGAL_BASES: _children(LegalBasis, ids),
        SITUATIONS: _children(Situation, ids),
        MATERIALS: _children(Material, ids).prefetch_related("situations"),
        FEES: _children(FeeItem, ids),
        FAQS: _children(Faq, ids),
        STEPS: _children(ProcessStep, ids).select_related("department"),
    }
    bundles = Bundle.objects.select_related("lead_department").prefetch_related(
        "cooperating_departments"
    )
    members = BundleMember.objects.select_related("bundle", "item").order_by(
        "bundle__name", "bundle__code", "stage", "sort_order", "id"
    )
    if status == ItemVersion.Status.PUBLISHED:
        bundles = bundles.filter(status=Bundle.Status.PUBLISHED)
        members = members.filter(bundle__status=Bundle.Status.PUBLISHED)

    book = Workbook()
    book.remove(book.active)
    _write(book, ITEMS, versions, report)
    for sheet, rows in children.items():
        _write(book, sheet, rows, report)
    _write(book, BUNDLES, bundles.order_by("name", "code"), report)
    _write(book, BUNDLE_MEMBERS, members, report)
    _write(book, ITEM_TYPES, ItemType.objects.all(), report)
    _write(book, THEMES, Theme.objects.all(), report)
    _save(book, report)
    report.seconds = timer.seconds()
    return report


def _save(book: Workbook, report: ExportReport) -> None:
    """Write the workbook and its files folder under temporary names, then put both in place
    (an older files folder of the same name is replaced, and removed only at the very end)."""
    out, folder = report.path, report.files_dir
    token = uuid.uuid4().hex[:12]
    tmp_book = out.with_name(f".{out.name}.{token}.tmp")
    tmp_folder = out.with_name(f".{folder.name}.{token}.tmp")
    old_folder = out.with_name(f".{folder.name}.{token}.old")
    moved_old = placed_new = False
    try:
        book.save(tmp_book)
        tmp_folder.mkdir()
        _copy_files(tmp_folder, report)
        if folder.exists() or folder.is_symlink():
            folder.rename(old_folder)
            moved_old = True
        tmp_folder.rename(folder)
        placed_new = True
        tmp_book.replace(out)
    except BaseException:
        tmp_book.unlink(missing_ok=True)
        if placed_new:
            shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(tmp_folder, ignore_errors=True)
        if moved_old:
            old_folder.rename(folder)
        raise
    if moved_old:
        if old_folder.is_dir() and not old_folder.is_symlink():
            shutil.rmtree(old_folder)
        else:
            old_folder.unlink()


def _copy_files(target: Path, report: ExportReport) -> None:
    """Copy every named file from the default storage into ``target``, read in chunks."""
    for name, cells in report.file_refs.items():
        if unsafe_file_name(name):
            report.missing_files.extend(
                gettext("%(where)s：文件名「%(name)s」不安全（含 ..、绝对路径或反斜杠），未导出")
                % {"where": where, "name": name}
                for where in cells
            )
            continue
        try:
            if not default_storage.exists(name):
                raise FileNotFoundError(name)
            source = default_storage.open(name, "rb")
        except FileNotFoundError:
            report.missing_files.extend(
                gettext("%(where)s：存储中没有文件「%(name)s」，未导出")
                % {"where": where, "name": name}
                for where in cells
            )
            continue
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        with source, destination.open("wb") as copy:
            for chunk in source.chunks():
                copy.write(chunk)
        report.files += 1


def _versions(status: str | None) -> QuerySet[ItemVersion]:
    qs = ItemVersion.objects.all()
    if status is None:
        newest = (
            ItemVersion.objects.filter(item=OuterRef("item"))
            .values("item")
            .annotate(n=Max("number"))
            .values("n")
        )
        qs = qs.filter(number=Subquery(newest))
    else:
        qs = qs.filter(status=status)
    return (
        qs.select_related("item", "item__department", "item_type", "published_by")
        .prefetch_related("themes")
        .order_by("item__task_code", "number")
    )


def _children(model: type[Any], version_ids: list[int]) -> QuerySet[Any]:
    ordering = [str(o) for o in model._meta.ordering]
    found: QuerySet[Any] = (
        model.objects.filter(version_id__in=version_ids)
        .select_related("version__item")
        .order_by("version__item__task_code", *ordering[1:], "id")
    )
    return found


def _clean(value: Any, where: str, report: ExportReport) -> Any:
    if not isinstance(value, str):
        return value
    if ILLEGAL_CHARACTERS_RE.search(value):
        report.warnings.append(f"{where}: 含有 Excel 不允许的控制字符，已删除")
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if len(value) > EXCEL_CELL_LIMIT:
        report.warnings.append(f"{where}: 超过 Excel 单元格上限 {EXCEL_CELL_LIMIT} 字符")
    return value


def _write(book: Workbook, sheet: Sheet, objects: Iterable[Any], report: ExportReport) -> None:
    ws: Worksheet = book.create_sheet(sheet.title)
    ws.append([c.label for c in sheet.columns])
    ws.append([c.name for c in sheet.columns])
    files = [(i, c.label) for i, c in enumerate(sheet.columns) if c.kind == "file"]
    count = 0
    for count, obj in enumerate(objects, start=1):
        row = encode_row(sheet, obj)
        where = f"{sheet.title}第{count + HEADER_ROWS}行"
        ws.append([_clean(v, f"{where}", report) for v in row])
        for index, label in files:
            if row[index]:
                report.file_refs.setdefault(row[index], []).append(f"{where}「{label}」")
    report.rows[sheet.title] = count
    _decorate(ws, sheet, last_row=max(count + HEADER_ROWS, HEADER_ROWS + 200))


def _decorate(ws: Worksheet, sheet: Sheet, *, last_row: int) -> None:
    """Frozen headers, field-name row in grey, and drop-down lists for choice columns."""
    ws.freeze_panes = ws.cell(row=HEADER_ROWS + 1, column=2)
    for index, column in enumerate(sheet.columns, start=1):
        letter = get_column_letter(index)
        ws[f"{letter}1"].font = Font(bold=True)
        ws[f"{letter}1"].fill = _HEADER_FILL
        ws[f"{letter}2"].font = _FIELD_FONT
        ws.column_dimensions[letter].width = min(max(len(column.label) * 2 + 2, 10), 40)
        options: list[str] = []
        if column.kind == "choice":
            options = [label for _v, label in column.choices]
        elif column.kind == "bool":
            options = [TRUE, FALSE]
        if not options:
            continue
        formula = '"' + ",".join(options) + '"'
        if len(formula) > 255:  # Excel's limit for an inline list
            continue
        validation = DataValidation(type="list", formula1=formula, allow_blank=column.blank)
        validation.error = "请从下拉列表中选择"
        validation.add(f"{letter}{HEADER_ROWS + 1}:{letter}{last_row}")
        ws.add_data_validation(validation)
