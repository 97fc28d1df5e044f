"""The layout of the catalog's Excel template, shared by the exporter and the importer.

One sheet per table. Row 1 holds the Chinese column headers (the fields' verbose names), row 2
the field names (grey, small): the importer finds its columns by row 2, so an administrator may
reorder or hide columns. Data start on row 3. Columns are derived from the models, so a field
added to a model appears in the template without a change here; only the cells that need a
codec (foreign keys, many-to-many, lists) are named below.

Cell encoding (what ``encode`` writes and ``decode`` reads back):

* choices: the Chinese label (the raw value is accepted too); booleans: 是 / 否;
* lists of text (服务对象, 办理形式, 特别程序) and many-to-many: one entry per line;
* the bundle's merged form: JSON; dates: YYYY-MM-DD; datetimes: ISO 8601 in local time;
* foreign keys by their natural key: 事项类型 by name, 机构 by code, 用户 by username, 事项 by
  实施编码, 主题 as "面向自然人·名称", 情形 by code;
* files: the stored file name; the files themselves travel beside the workbook, in the folder
  ``<workbook>.files/`` under the same names (``files_dir``), which the importer reads back.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from django.db import models
from django.utils import timezone

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
    ServiceItem,
    Situation,
    Theme,
)

TRUE, FALSE = "是", "否"
LIST_SEPARATOR = "\n"
THEME_SEPARATOR = "·"
HEADER_ROWS = 2
EXCLUDED = frozenset({"id", "created_at", "updated_at"})
FILES_SUFFIX = ".files"


def files_dir(workbook: Path) -> Path:
    """The folder beside ``workbook`` that holds the files its cells name."""
    return workbook.with_name(workbook.name + FILES_SUFFIX)


def unsafe_file_name(name: str) -> bool:
    """A stored name that could leave the files folder or the storage root: a ``..`` part, an
    absolute path (also a Windows one) or a backslash. Such a name never comes from our own
    storage, only from an edited workbook."""
    return (
        not name
        or "\\" in name
        or "\x00" in name
        or PurePosixPath(name).is_absolute()
        or bool(PureWindowsPath(name).drive)
        or ".." in PurePosixPath(name).parts
    )


class CellError(ValueError):
    """A cell that cannot be read; the message names what was expected."""


@dataclass(frozen=True)
class Column:
    name: str  # row 2: the field name
    label: str  # row 1: the Chinese header
    kind: str  # text | int | bool | choice | list | json | date | datetime | uuid | file | ref
    field: str  # the model attribute read and written
    source: str = ""  # "item" for the ServiceItem part of the 事项 sheet
    choices: tuple[tuple[str, str], ...] = ()
    nullable: bool = False
    blank: bool = True
    # ref columns: the natural key written, read back by the importer's resolver
    ref: str = ""
    many: bool = False

    def encode(self, value: Any) -> Any:
        if self.kind == "bool":
            return TRUE if value else FALSE
        if self.kind == "choice":
            return dict(self.choices).get(value, value or "")
        if self.kind in {"list", "ref"} and self.many:
            return LIST_SEPARATOR.join(value) if value else ""
        if self.kind == "list":
            return LIST_SEPARATOR.join(value) if value else ""
        if self.kind == "json":
            return json.dumps(value, ensure_ascii=False)
        if self.kind == "date":
            return value.isoformat() if value else ""
        if self.kind == "datetime":
            return timezone.localtime(value).isoformat() if value else ""
        if self.kind in {"uuid", "file"}:
            return str(value) if value else ""
        if self.kind == "int":
            return value
        return "" if value is None else value

    def decode(self, cell: Any) -> Any:
        text = "" if cell is None else str(cell).strip() if not isinstance(cell, str) else cell
        empty = cell is None or (isinstance(cell, str) and not cell.strip())
        if self.kind == "int":
            if empty:
                if self.nullable:
                    return None
                raise CellError("不能为空，应为整数")
            if isinstance(cell, bool):
                raise CellError(f"应为整数，而不是「{cell}」")
            if isinstance(cell, float) and cell.is_integer():
                cell = int(cell)
            try:
                number = int(str(cell).strip())
            except ValueError as exc:
                raise CellError(f"应为整数，而不是「{cell}」") from exc
            if number < 0:
                raise CellError(f"不能为负数：{number}")
            return number
        if self.kind == "bool":
            if empty:
                return False
            if text.strip() in {TRUE, "True", "TRUE", "1", "true"}:
                return True
            if text.strip() in {FALSE, "False", "FALSE", "0", "false"}:
                return False
            raise CellError(f"应为「是」或「否」，而不是「{text}」")
        if self.kind == "choice":
            if empty:
                if self.blank:
                    return ""
                raise CellError("不能为空")
            by_label = {label: value for value, label in self.choices}
            values = {value for value, _label in self.choices}
            key = text.strip()
            if key in by_label:
                return by_label[key]
            if key in values:
                return key
            allowed = "、".join(label for _v, label in self.choices)
            raise CellError(f"「{key}」不在可选范围内（{allowed}）")
        if self.kind == "list" or (self.kind == "ref" and self.many):
            return [] if empty else [p.strip() for p in text.split(LIST_SEPARATOR) if p.strip()]
        if self.kind == "json":
            if empty:
                return []
            try:
                return json.loads(text)
            except json.JSONDecodeError as exc:
                raise CellError(f"不是有效的 JSON：{exc.msg}") from exc
        if self.kind == "date":
            if empty:
                return None
            if isinstance(cell, dt.datetime):
                return cell.date()
            if isinstance(cell, dt.date):
                return cell
            try:
                return dt.date.fromisoformat(text.strip())
            except ValueError as exc:
                raise CellError(f"应为日期 YYYY-MM-DD，而不是「{text}」") from exc
        if self.kind == "datetime":
            if empty:
                return None
            try:
                parsed = (
                    cell
                    if isinstance(cell, dt.datetime)
                    else dt.datetime.fromisoformat(text.strip())
                )
            except ValueError as exc:
                raise CellError(f"应为日期时间（ISO 8601），而不是「{text}」") from exc
            if timezone.is_naive(parsed):
                parsed = timezone.make_aware(parsed)
            return parsed
        if self.kind == "uuid":
            if empty:
                return None
            try:
                return uuid.UUID(text.strip())
            except ValueError as exc:
                raise CellError(f"不是有效的 UUID：「{text}」") from exc
        if self.kind == "ref":
            return "" if empty else text.strip()
        # text and file
        if empty:
            if not self.blank:
                raise CellError("不能为空")
            return ""
        return text


@dataclass(frozen=True)
class Sheet:
    title: str
    model: type[models.Model]
    columns: tuple[Column, ...]
    key: str  # the column that ties a row to its item or bundle

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


# Foreign keys and many-to-many: the natural key written for each.
REFS: dict[tuple[type[models.Model], str], str] = {
    (ServiceItem, "department"): "department.code",
    (ItemVersion, "item_type"): "item_type.name",
    (ItemVersion, "submitted_by"): "user.username",
    (ItemVersion, "published_by"): "user.username",
    (ItemVersion, "themes"): "theme",
    (Material, "situations"): "situation.code",
    (ProcessStep, "department"): "department.code",
    (Bundle, "lead_department"): "department.code",
    (Bundle, "cooperating_departments"): "department.code",
    (BundleMember, "item"): "item.task_code",
}
# Headers for the fields whose verbose name is not Chinese.
LABELS = {
    "item_public_id": "事项公开标识",
    "public_id": "公开标识",
    "item": "事项实施编码",
}
LIST_FIELDS = frozenset({"server_types", "handle_forms", "special_procedures"})


def _columns(
    model: type[models.Model],
    *,
    skip: Iterable[str] = (),
    source: str = "",
    rename: dict[str, str] | None = None,
) -> list[Column]:
    skipped = EXCLUDED | set(skip)
    rename = rename or {}
    out: list[Column] = []
    fields = [*model._meta.concrete_fields, *model._meta.many_to_many]
    # The key column first (实施编码, 代码): it is what a reader looks for in each row.
    fields.sort(key=lambda f: f.name not in {"task_code", "code"})
    for f in fields:
        if f.name in skipped:
            continue
        name = rename.get(f.name, f.name)
        label = LABELS.get(name) or str(f.verbose_name)
        nullable = bool(getattr(f, "null", False))
        blank = bool(getattr(f, "blank", False))
        common: dict[str, Any] = {
            "name": name,
            "label": label,
            "field": f.name,
            "source": source,
            "nullable": nullable,
            "blank": blank,
        }
        if (model, f.name) in REFS:
            out.append(
                Column(kind="ref", ref=REFS[(model, f.name)], many=bool(f.many_to_many), **common)
            )
        elif isinstance(f, models.BooleanField):
            out.append(Column(kind="bool", **common))
        elif isinstance(f, models.IntegerField):
            out.append(Column(kind="int", **common))
        elif isinstance(f, models.JSONField):
            out.append(Column(kind="list" if f.name in LIST_FIELDS else "json", **common))
        elif isinstance(f, models.DateTimeField):
            out.append(Column(kind="datetime", **common))
        elif isinstance(f, models.DateField):
            out.append(Column(kind="date", **common))
        elif isinstance(f, models.UUIDField):
            out.append(Column(kind="uuid", **common))
        elif isinstance(f, models.FileField):
            out.append(Column(kind="file", **common))
        elif f.choices:
            choices = tuple((str(v), str(lbl)) for v, lbl in f.choices)
            out.append(Column(kind="choice", choices=choices, **common))
        elif isinstance(f, models.CharField | models.TextField):
            out.append(Column(kind="text", **common))
        else:  # pragma: no cover - a new field type needs a codec
            raise TypeError(f"no Excel codec for {model.__name__}.{f.name}")
    return out


def _task_code_column() -> Column:
    return Column(name="task_code", label="实施编码", kind="text", field="task_code", blank=False)


def _child_sheet(title: str, model: type[models.Model]) -> Sheet:
    return Sheet(
        title=title,
        model=model,
        columns=(_task_code_column(), *_columns(model, skip={"version"})),
        key="task_code",
    )


ITEMS = Sheet(
    title="事项",
    model=ItemVersion,
    columns=(
        *_columns(ServiceItem, source="item", rename={"public_id": "item_public_id"}),
        *_columns(ItemVersion, skip={"item"}),
    ),
    key="task_code",
)
LEGAL_BASES = _child_sheet("设定依据", LegalBasis)
SITUATIONS = _child_sheet("情形", Situation)
MATERIALS = _child_sheet("材料", Material)
FEES = _child_sheet("收费", FeeItem)
FAQS = _child_sheet("常见问题", Faq)
STEPS = _child_sheet("环节", ProcessStep)
BUNDLES = Sheet(title="一件事", model=Bundle, columns=tuple(_columns(Bundle)), key="code")
BUNDLE_MEMBERS = Sheet(
    title="一件事成员",
    model=BundleMember,
    columns=(
        Column(name="bundle", label="一件事代码", kind="text", field="bundle", blank=False),
        *_columns(BundleMember, skip={"bundle"}),
    ),
    key="bundle",
)
ITEM_TYPES = Sheet(title="事项类型", model=ItemType, columns=tuple(_columns(ItemType)), key="code")
THEMES = Sheet(title="主题分类", model=Theme, columns=tuple(_columns(Theme)), key="name")

# Children of a version, in the order they are written (situations before the materials that
# name them).
CHILD_SHEETS: tuple[Sheet, ...] = (LEGAL_BASES, SITUATIONS, MATERIALS, FEES, FAQS, STEPS)
SHEETS: tuple[Sheet, ...] = (
    ITEMS,
    *CHILD_SHEETS,
    BUNDLES,
    BUNDLE_MEMBERS,
    ITEM_TYPES,
    THEMES,
)
# Columns that describe where a version is in its workflow rather than what it says: the
# importer ignores them when it compares a row with the version in the database.
WORKFLOW_COLUMNS = frozenset(
    {
        "item_public_id",
        "public_id",
        "number",
        "status",
        "change_note",
        "submitted_at",
        "submitted_by",
        "published_at",
        "published_by",
        "retired_at",
    }
)


def theme_key(theme: Theme) -> str:
    return f"{theme.get_audience_display()}{THEME_SEPARATOR}{theme.name}"


def parse_theme_key(text: str) -> tuple[str, str]:
    labels = {str(label): value for value, label in Theme.Audience.choices}
    audience, sep, name = text.partition(THEME_SEPARATOR)
    if not sep or audience not in labels or not name:
        raise CellError(f"主题应写作「面向自然人·名称」或「面向法人·名称」，而不是「{text}」")
    return labels[audience], name


def _ref_value(column: Column, obj: Any) -> Any:
    if column.many:
        related = getattr(obj, column.field).all()
        if column.ref == "theme":
            return [theme_key(t) for t in related]
        attr = column.ref.split(".", 1)[1]
        return [getattr(r, attr) for r in related]
    target = getattr(obj, column.field)
    if target is None:
        return ""
    return getattr(target, column.ref.split(".", 1)[1])


def raw_value(sheet: Sheet, column: Column, obj: Any) -> Any:
    """The Python value of ``column`` for ``obj`` (a version, a child row, a bundle …)."""
    if column.name == "task_code":
        item = obj.item if isinstance(obj, ItemVersion) else obj.version.item
        return item.task_code
    if sheet is BUNDLE_MEMBERS and column.name == "bundle":
        return obj.bundle.code
    owner = obj.item if column.source == "item" else obj
    if column.kind == "ref":
        return _ref_value(column, owner)
    return getattr(owner, column.field)


def encode_row(sheet: Sheet, obj: Any) -> list[Any]:
    return [c.encode(raw_value(sheet, c, obj)) for c in sheet.columns]
