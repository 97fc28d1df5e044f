"""``catalog_import_xlsx``: read back the Excel template written by ``catalog_export_xlsx``.

What a row of the 事项 sheet (with its rows in the child sheets) does:

* a new 实施编码: the item and its version are created exactly as written, workflow columns
  included (版本号, 状态, 发布时间, public ids when free), so that an export restores into an
  empty database without loss;
* a known 实施编码 whose content (every column except the workflow ones) equals its newest
  version: nothing happens (unchanged);
* a known 实施编码 with different content: the newest version is a draft → the draft is
  replaced by the row; it is published or retired → a new draft with the row's content (a
  published version never changes; the draft goes through review and the quality rules like
  any other); it is in review → the row fails (review must finish first).

A bad cell, an unknown department, item type, situation or member fails the item with all its
child rows, reported as (row number, "[sheet] column: reason"). Bundles (一件事) are created or
updated in place (they have no versions); the 事项类型 and 主题分类 sheets are upserted first.

Files (审批结果样本, 空白表格, 示例样表): a cell holds the stored name. A name the default storage
does not hold is saved into it from the folder ``<FILE>.files/`` beside the workbook (written by
the export), under the same name. The item fails when the file is in neither place, when the
storage holds a different file under that name (it is never overwritten), or when the name
could leave the folder (``..``, an absolute path, a backslash). Files saved for an item that
fails, or for a batch that rolls back, are deleted again.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zipfile import BadZipFile

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from yiwang.accounts.models import Department, User
from yiwang.catalog import errors
from yiwang.catalog.access import catalog_require_editor
from yiwang.catalog.exporters.xlsx_layout import (
    BUNDLE_MEMBERS,
    BUNDLES,
    CHILD_SHEETS,
    HEADER_ROWS,
    ITEM_TYPES,
    ITEMS,
    MATERIALS,
    SHEETS,
    STEPS,
    THEMES,
    WORKFLOW_COLUMNS,
    CellError,
    Column,
    Sheet,
    encode_row,
    files_dir,
    parse_theme_key,
    unsafe_file_name,
)
from yiwang.catalog.importers.common import (
    SYSTEM_ACTOR,
    ImportReport,
    RowFailed,
    RowResult,
    Timer,
    chunked,
    run_batch,
)
from yiwang.catalog.models import (
    Bundle,
    BundleMember,
    ItemType,
    ItemVersion,
    Material,
    ServiceItem,
    Situation,
    Theme,
)
from yiwang.core.audit import audit_record
from yiwang.core.errors import ValidationError

SOURCE = "xlsx"
_LIST_JSON = ("server_types", "handle_forms", "special_procedures", "form_schema")


@dataclass
class Row:
    sheet: Sheet
    line: int
    cells: dict[str, Any]  # column name → raw cell, only the columns the file has

    def value(self, column: Column) -> Any:
        try:
            return column.decode(self.cells.get(column.name))
        except CellError as exc:
            raise self.fail(f"「{column.label}」{exc}") from exc

    def values(self) -> dict[str, Any]:
        return {c.name: self.value(c) for c in self.sheet.columns if c.name in self.cells}

    def where(self, reason: str) -> str:
        return f"[{self.sheet.title}] {reason}"

    def fail(self, reason: str) -> RowFailed:
        return RowFailed(self.where(reason), line=self.line)

    def normalised(self) -> list[Any]:
        """The cells as the exporter would write them, for comparison (None: not in the file)."""
        out: list[Any] = []
        for column in self.sheet.columns:
            if column.name not in self.cells:
                out.append(None)
                continue
            value = column.encode(self.value(column))
            out.append(_sorted_lines(value) if column.many else value)
        return out


@dataclass
class ItemRows:
    item: Row
    children: dict[Sheet, list[Row]] = field(default_factory=dict)


def catalog_import_xlsx(
    *, path: Path | str, actor: User | None = None, batch_size: int = 200
) -> ImportReport:
    """Import the workbook at ``path`` and the files in ``<path>.files/`` (see the module
    docstring)."""
    timer = Timer()
    path = Path(path)
    if actor is not None:
        catalog_require_editor(actor)
    sheets = _read(path)
    report = ImportReport()
    for sheet, rows in sheets.items():
        for row in rows:
            unknown = [name for name in row.cells if name not in {c.name for c in sheet.columns}]
            report.unmapped.update(f"[{sheet.title}] 未知的列 {name}，已忽略" for name in unknown)
            break

    _import_config(sheets, report)
    resolver = _Resolver()
    items = _group(sheets, report)
    files = _Files(files_dir(path))
    for batch in chunked(items, batch_size):
        _items_batch(batch, actor=actor, path=path, resolver=resolver, files=files, report=report)
    _bundles(sheets, actor=actor, path=path, resolver=resolver, report=report)
    report.failed.sort()
    report.seconds = timer.seconds()
    return report


# --- reading -------------------------------------------------------------------------------


def _read(path: Path) -> dict[Sheet, list[Row]]:
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (OSError, InvalidFileException, BadZipFile, KeyError, ValueError) as exc:
        raise ValidationError(
            errors.IMPORT_FILE_UNREADABLE,
            _("无法读取导入文件：%(reason)s") % {"reason": exc},
            path=str(path),
            reason=str(exc),
        ) from exc
    try:
        if ITEMS.title not in book.sheetnames:
            raise ValidationError(
                errors.IMPORT_LAYOUT_INVALID,
                _("工作簿中没有「%(s)s」工作表，请使用导出的模板。") % {"s": ITEMS.title},
            )
        out: dict[Sheet, list[Row]] = {}
        for sheet in SHEETS:
            if sheet.title in book.sheetnames:
                out[sheet] = list(_rows(sheet, book[sheet.title]))
        return out
    finally:
        book.close()


def _rows(sheet: Sheet, ws: Any) -> Iterator[Row]:
    names: list[str | None] = []
    for line, values in enumerate(ws.iter_rows(values_only=True), start=1):
        if line == HEADER_ROWS:
            names = [str(v).strip() if v is not None else None for v in values]
            missing = [sheet.key] if sheet.key not in names else []
            if missing:
                raise ValidationError(
                    errors.IMPORT_LAYOUT_INVALID,
                    _("「%(s)s」工作表第2行缺少字段名 %(f)s，请使用导出的模板。")
                    % {"s": sheet.title, "f": "、".join(missing)},
                )
        if line <= HEADER_ROWS:
            continue
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        cells = {name: value for name, value in zip(names, values, strict=False) if name}
        yield Row(sheet=sheet, line=line, cells=cells)


def _group(sheets: dict[Sheet, list[Row]], report: ImportReport) -> list[ItemRows]:
    items: dict[str, ItemRows] = {}
    for row in sheets.get(ITEMS, []):
        code = _key(row)
        if not code:
            report.failed.append((row.line, row.where("缺少实施编码 task_code")))
        elif code in items:
            first = items[code].item.line
            report.failed.append((row.line, row.where(f"实施编码 {code} 与第 {first} 行重复")))
        else:
            items[code] = ItemRows(item=row)
    for sheet in CHILD_SHEETS:
        for row in sheets.get(sheet, []):
            owner = items.get(_key(row))
            if owner is None:
                reason = f"实施编码「{_key(row)}」不在「{ITEMS.title}」工作表中"
                report.failed.append((row.line, row.where(reason)))
                continue
            owner.children.setdefault(sheet, []).append(row)
    return list(items.values())


def _key(row: Row) -> str:
    value = row.cells.get(row.sheet.key)
    return "" if value is None else str(value).strip()


def _sorted_lines(value: Any) -> Any:
    return "\n".join(sorted(value.split("\n"))) if isinstance(value, str) and value else value


# --- configuration lists -------------------------------------------------------------------


def _import_config(sheets: dict[Sheet, list[Row]], report: ImportReport) -> None:
    """Upsert 事项类型 (by code) and 主题分类 (by audience and name) before the items."""
    with transaction.atomic():
        for row in sheets.get(ITEM_TYPES, []):
            try:
                with transaction.atomic():
                    values = row.values()
                    found = ItemType.objects.filter(code=values.get("code", "")).first()
                    _save_config(found or ItemType(), values, row)
            except RowFailed as exc:
                report.failed.append((row.line, exc.reason))
        for row in sheets.get(THEMES, []):
            try:
                with transaction.atomic():
                    values = row.values()
                    found_theme = Theme.objects.filter(
                        audience=values.get("audience", ""), name=values.get("name", "")
                    ).first()
                    _save_config(found_theme or Theme(), values, row)
            except RowFailed as exc:
                report.failed.append((row.line, exc.reason))


def _save_config(obj: models.Model, values: dict[str, Any], row: Row) -> None:
    _assign(obj, values, row.sheet)
    _clean(obj, row)
    obj.save()


def _assign(obj: models.Model, values: dict[str, Any], sheet: Sheet, *, source: str = "") -> None:
    for column in sheet.columns:
        if column.name in values and column.kind != "ref" and column.source == source:
            if column.name == sheet.key and sheet.key in {"task_code", "bundle"}:
                continue
            setattr(obj, column.field, values[column.name])


def _clean(obj: models.Model, row: Row, *, exclude: tuple[str, ...] = ()) -> None:
    json_fields = tuple(f for f in _LIST_JSON if hasattr(obj, f))
    try:
        obj.full_clean(
            exclude=[*exclude, *json_fields], validate_unique=False, validate_constraints=False
        )
    except DjangoValidationError as exc:
        labels = {c.field: c.label for c in row.sheet.columns}
        detail = "；".join(
            f"「{labels.get(name, name)}」{'，'.join(str(m) for m in msgs)}"
            for name, msgs in exc.message_dict.items()
        )
        raise row.fail(detail) from exc


# --- items ---------------------------------------------------------------------------------


class _Resolver:
    """Natural keys → rows, read once per import."""

    def __init__(self) -> None:
        self.departments = {d.code: d for d in Department.objects.all()}
        self.users = dict(User.objects.values_list("username", "id"))
        self.refresh()

    def refresh(self) -> None:
        self.item_types = {t.name: t for t in ItemType.objects.all()}
        self.themes = {(t.audience, t.name): t.pk for t in Theme.objects.all()}

    def department(self, code: str, row: Row, label: str) -> Department | None:
        if not code:
            return None
        found = self.departments.get(code)
        if found is None:
            raise row.fail(f"「{label}」未知的机构代码 {code}")
        return found

    def theme_ids(self, keys: list[str], row: Row) -> list[int]:
        ids = []
        for key in keys:
            try:
                audience, name = parse_theme_key(key)
            except ValueError as exc:
                raise row.fail(f"「主题分类」{exc}") from exc
            theme_id = self.themes.get((audience, name))
            if theme_id is None:
                raise row.fail(f"「主题分类」未知的主题「{key}」")
            ids.append(theme_id)
        return ids


def _items_batch(
    batch: list[ItemRows],
    *,
    actor: User | None,
    path: Path,
    resolver: _Resolver,
    files: _Files,
    report: ImportReport,
) -> None:
    codes = [_key(r.item) for r in batch]
    existing = {i.task_code: i for i in ServiceItem.objects.filter(task_code__in=codes)}
    newest = (
        ItemVersion.objects.filter(item=OuterRef("item"))
        .values("item")
        .annotate(n=Max("number"))
        .values("n")
    )
    # One read for the newest version of every item of the batch with everything compared.
    latest_by_item = {
        v.item_id: v
        for v in ItemVersion.objects.filter(item__task_code__in=codes, number=Subquery(newest))
        .select_related("item", "item__department", "item_type", "submitted_by", "published_by")
        .prefetch_related(
            "themes",
            "legal_bases",
            "situations",
            "materials__situations",
            "fee_items",
            "faqs",
            "steps__department",
        )
    }

    saved_in_batch: list[str] = []

    def apply(rows: ItemRows) -> RowResult:
        saved: list[str] = []
        try:
            files.restore(rows, saved=saved)
            result = write(rows)
        except BaseException:
            _delete_files(saved)
            raise
        saved_in_batch.extend(saved)
        return result

    def write(rows: ItemRows) -> RowResult:
        code = _key(rows.item)
        item = existing.get(code)
        if item is None:
            _create_item(rows, code=code, resolver=resolver, report=report)
            return RowResult("created", code)
        latest = latest_by_item.get(item.pk)
        if latest is not None and _same(latest, rows):
            return RowResult("unchanged", code)
        _update_item(item, latest, rows, resolver=resolver, report=report)
        return RowResult("updated", code)

    def audit(counts: dict[str, Any]) -> None:
        audit_record(
            actor=actor or SYSTEM_ACTOR,
            action="catalog.import_xlsx",
            object_type="catalog.serviceitem",
            reason=f"导入 {path.name}「{ITEMS.title}」第 {counts['first_line']}–"
            f"{counts['last_line']} 行",
            after=counts,
        )

    try:
        run_batch(batch, line_of=lambda r: r.item.line, apply=apply, report=report, audit=audit)
    except BaseException:
        _delete_files(saved_in_batch)
        raise
    report.files += len(saved_in_batch)


# --- files ---------------------------------------------------------------------------------


class _Files:
    """The files folder beside the workbook: restores what the default storage lacks."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.root = folder.resolve() if folder.is_dir() else None

    def restore(self, rows: ItemRows, *, saved: list[str]) -> None:
        """Check every file cell of the item and its child rows; save the missing files into
        the storage, appending their names to ``saved``. Raises RowFailed on the first bad one
        (the caller deletes what was saved)."""
        for row in [rows.item, *(r for s in CHILD_SHEETS for r in rows.children.get(s, []))]:
            for column in row.sheet.columns:
                if column.kind == "file" and column.name in row.cells:
                    name = row.value(column)
                    if name:
                        self._restore(name, row, column, saved)

    def _restore(self, name: str, row: Row, column: Column, saved: list[str]) -> None:
        where = {"label": column.label, "name": name, "folder": self.folder.name}
        if unsafe_file_name(name):
            raise row.fail(
                gettext("「%(label)s」文件名「%(name)s」不安全（含 ..、绝对路径或反斜杠）") % where
            )
        source = self._source(name)
        if default_storage.exists(name):
            if source is not None and not _same_content(name, source):
                raise row.fail(
                    gettext(
                        "「%(label)s」存储中已有同名文件「%(name)s」，内容与 %(folder)s "
                        "文件夹中的不同，不会覆盖"
                    )
                    % where
                )
            return
        if source is None:
            raise row.fail(
                gettext("「%(label)s」文件「%(name)s」既不在存储中，也不在 %(folder)s 文件夹中")
                % where
            )
        with source.open("rb") as f:
            stored = default_storage.save(name, File(f, name=name))
        saved.append(stored)
        if stored != name:  # another process saved this name meanwhile
            raise row.fail(gettext("「%(label)s」存储未能以原名保存文件「%(name)s」") % where)

    def _source(self, name: str) -> Path | None:
        """The regular file ``name`` inside the folder, never one a link leads out of it to."""
        if self.root is None:
            return None
        try:
            found = (self.root / name).resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        return found if found.is_relative_to(self.root) and found.is_file() else None


def _same_content(name: str, source: Path) -> bool:
    if default_storage.size(name) != source.stat().st_size:
        return False
    with default_storage.open(name, "rb") as stored, source.open("rb") as local:
        return _digest(stored.chunks()) == _digest(iter(lambda: local.read(1 << 16), b""))


def _digest(chunks: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def _delete_files(names: list[str]) -> None:
    for name in names:
        with contextlib.suppress(FileNotFoundError):
            default_storage.delete(name)


def _same(version: ItemVersion, rows: ItemRows) -> bool:
    """Equal content: the row as the exporter would write it equals the version's export."""
    if not _same_row(rows.item, version, skip=WORKFLOW_COLUMNS):
        return False
    for sheet in CHILD_SHEETS:
        file_rows = rows.children.get(sheet, [])
        db_rows = list(getattr(version, _related_name(sheet)).all())
        if len(db_rows) != len(file_rows):
            return False
        if not all(_same_row(f, d) for f, d in zip(file_rows, db_rows, strict=True)):
            return False
    return True


def _same_row(row: Row, obj: Any, *, skip: frozenset[str] = frozenset()) -> bool:
    mine = row.normalised()
    theirs = encode_row(row.sheet, obj)
    for column, a, b in zip(row.sheet.columns, mine, theirs, strict=True):
        if a is None or column.name in skip:
            continue
        if (_sorted_lines(b) if column.many else b) != a:
            return False
    return True


def _related_name(sheet: Sheet) -> str:
    field_ = sheet.model._meta.get_field("version")
    return str(field_.remote_field.related_name)  # type: ignore[union-attr]


def _create_item(rows: ItemRows, *, code: str, resolver: _Resolver, report: ImportReport) -> None:
    values = rows.item.values()
    item = ServiceItem(task_code=code)
    _assign(item, values, ITEMS, source="item")
    if (
        values.get("item_public_id") is None
        or ServiceItem.objects.filter(public_id=values["item_public_id"]).exists()
    ):
        item.public_id = ServiceItem._meta.get_field("public_id").get_default()
    item.department = resolver.department(
        values.get("department", ""), rows.item, ITEMS.column("department").label
    )
    _clean(item, rows.item, exclude=("department",))
    item.save()
    version = ItemVersion(item=item, number=values.get("number") or 1)
    _fill_version(version, values, rows, resolver=resolver, report=report, workflow=True)


def _update_item(
    item: ServiceItem,
    latest: ItemVersion | None,
    rows: ItemRows,
    *,
    resolver: _Resolver,
    report: ImportReport,
) -> None:
    values = rows.item.values()
    before = (item.catalog_code, item.department_id)
    # An item's identity never moves: its public id stays whatever the file says.
    _assign(item, {k: v for k, v in values.items() if k != "item_public_id"}, ITEMS, source="item")
    if "department" in values:
        item.department = resolver.department(
            values["department"], rows.item, ITEMS.column("department").label
        )
    if (item.catalog_code, item.department_id) != before:
        _clean(item, rows.item, exclude=("department",))
        item.save(update_fields=["catalog_code", "department", "updated_at"])
    if latest is not None and latest.status == ItemVersion.Status.REVIEW:
        raise rows.item.fail(f"事项 {item.task_code} 有待审核的版本，请先审核或退回")
    if latest is not None and latest.status == ItemVersion.Status.DRAFT:
        for sheet in CHILD_SHEETS:
            getattr(latest, _related_name(sheet)).all().delete()
        version = latest
    else:
        number = (item.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = ItemVersion(item=item, number=number, status=ItemVersion.Status.DRAFT)
    version.change_note = "从 Excel 模板导入修改"
    _fill_version(version, values, rows, resolver=resolver, report=report, workflow=False)


def _fill_version(
    version: ItemVersion,
    values: dict[str, Any],
    rows: ItemRows,
    *,
    resolver: _Resolver,
    report: ImportReport,
    workflow: bool,
) -> None:
    row = rows.item
    for column in ITEMS.columns:
        if column.source == "item" or column.name not in values:
            continue
        if column.name in WORKFLOW_COLUMNS and not workflow:
            continue
        if column.kind == "ref":
            continue
        if column.name == "public_id" and (
            values["public_id"] is None
            or ItemVersion.objects.filter(public_id=values["public_id"]).exists()
        ):
            continue
        setattr(version, column.field, values[column.name])
    type_name = values.get("item_type", "")
    item_type = resolver.item_types.get(type_name)
    if item_type is None:
        raise row.fail(f"「事项类型」未知的事项类型「{type_name}」")
    version.item_type = item_type
    for who in ("submitted_by", "published_by"):
        if workflow and values.get(who):
            user_id = resolver.users.get(values[who])
            if user_id is None:
                label = "提交人" if who == "submitted_by" else "发布人"
                report.unmapped[f"[{ITEMS.title}] {who}: 未知用户，{label}留空"] += 1
            setattr(version, f"{who}_id", user_id)
    if not version.source:
        version.source = SOURCE
    _clean(version, row, exclude=("item", "item_type", "submitted_by", "published_by"))
    is_new = version._state.adding
    version.save()
    theme_ids = resolver.theme_ids(values.get("themes", []), row)
    if is_new:  # a plain insert: .set() would first read the (empty) relation
        through = ItemVersion.themes.through
        through.objects.bulk_create(
            through(itemversion_id=version.pk, theme_id=t) for t in theme_ids
        )
    else:
        version.themes.set(theme_ids)
    _children(version, rows, resolver=resolver)


def _children(version: ItemVersion, rows: ItemRows, *, resolver: _Resolver) -> None:
    situations: dict[str, Situation] = {}
    for sheet in CHILD_SHEETS:
        for row in rows.children.get(sheet, []):
            values = row.values()
            obj = sheet.model(version=version)
            _assign(obj, values, sheet)
            if sheet is STEPS:
                obj.department = resolver.department(  # type: ignore[attr-defined]
                    values.get("department", ""), row, sheet.column("department").label
                )
            _clean(obj, row, exclude=("version", "department"))
            obj.save()
            if isinstance(obj, Situation):
                situations[obj.code] = obj
            if sheet is MATERIALS:
                codes = values.get("situations", [])
                unknown = [c for c in codes if c not in situations]
                if unknown:
                    reason = f"「适用情形」本事项没有情形 {'、'.join(unknown)}"
                    raise row.fail(reason)
                if codes:  # the material is new: insert the links without reading them
                    through = Material.situations.through
                    through.objects.bulk_create(
                        through(material_id=obj.pk, situation_id=situations[c].pk) for c in codes
                    )


# --- bundles -------------------------------------------------------------------------------


def _bundles(
    sheets: dict[Sheet, list[Row]],
    *,
    actor: User | None,
    path: Path,
    resolver: _Resolver,
    report: ImportReport,
) -> None:
    bundle_rows = sheets.get(BUNDLES, [])
    members: dict[str, list[Row]] = defaultdict(list)
    codes = {_key(r) for r in bundle_rows}
    for row in sheets.get(BUNDLE_MEMBERS, []):
        if _key(row) not in codes:
            reason = f"一件事代码「{_key(row)}」不在「{BUNDLES.title}」工作表中"
            report.failed.append((row.line, row.where(reason)))
            continue
        members[_key(row)].append(row)
    if not bundle_rows:
        return
    existing = {b.code: b for b in Bundle.objects.filter(code__in=codes)}

    def apply(row: Row) -> RowResult:
        code = _key(row)
        bundle = existing.get(code)
        mine = members.get(code, [])
        if bundle is not None and _same_bundle(bundle, row, mine):
            return RowResult("unchanged", code)
        values = row.values()
        outcome: Any = "created" if bundle is None else "updated"
        if bundle is None:
            bundle = Bundle()
            if (
                values.get("public_id") is None
                or Bundle.objects.filter(public_id=values["public_id"]).exists()
            ):
                values.pop("public_id", None)
        else:
            values.pop("public_id", None)
        _assign(bundle, values, BUNDLES)
        if "lead_department" in values:
            lead = resolver.department(
                values["lead_department"], row, BUNDLES.column("lead_department").label
            )
            if lead is None:
                raise row.fail("「牵头部门」不能为空")
            bundle.lead_department = lead
        _clean(bundle, row, exclude=("lead_department",))
        bundle.save()
        label = BUNDLES.column("cooperating_departments").label
        bundle.cooperating_departments.set(
            [
                d
                for d in (
                    resolver.department(c, row, label)
                    for c in values.get("cooperating_departments", [])
                )
                if d is not None
            ]
        )
        bundle.members.all().delete()
        for member_row in mine:
            member_values = member_row.values()
            task_code = member_values.get("item", "")
            item = ServiceItem.objects.filter(task_code=task_code).first()
            if item is None:
                reason = f"「事项实施编码」未知的实施编码「{task_code}」"
                raise member_row.fail(reason)
            member = BundleMember(bundle=bundle, item=item)
            _assign(member, member_values, BUNDLE_MEMBERS)
            _clean(member, member_row, exclude=("bundle", "item"))
            member.save()
        return RowResult(outcome, code)

    def audit(counts: dict[str, Any]) -> None:
        audit_record(
            actor=actor or SYSTEM_ACTOR,
            action="catalog.import_xlsx",
            object_type="catalog.bundle",
            reason=f"导入 {path.name}「{BUNDLES.title}」",
            after=counts,
        )

    run_batch(bundle_rows, line_of=lambda r: r.line, apply=apply, report=report, audit=audit)


def _same_bundle(bundle: Bundle, row: Row, members: list[Row]) -> bool:
    if not _same_row(row, bundle, skip=frozenset({"public_id"})):
        return False
    db_members = list(bundle.members.select_related("bundle", "item"))
    if len(db_members) != len(members):
        return False
    return all(_same_row(m, d) for m, d in zip(members, db_members, strict=True))
