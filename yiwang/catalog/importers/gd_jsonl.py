"""Import of the Guangdong provincial catalog export (one JSON object per line).

Each record is an implementation-list entry with these keys: TASK_CODE, TASK_NAME, DEPT_NAME,
AREA_CODE_TEXT, matter_type, matter_level, handle_time ("30(工作日)", 法定), handle_time_limit
(承诺), handle_location, consult_phone, complain_phone, theme_category (list),
service_object_name (list), material_intro (list of names, or "无"), accept_standard, URL.

Mapping decisions:

* The implementing bodies are Guangdong's, not Lu'an's: the name goes to ``dept_name`` and
  ``ServiceItem.department`` stays empty unless a department of ours has that exact name or the
  operator maps it (``department_map``: DEPT_NAME → Department.code).
* Publication goes through the catalog's quality gate: each record is written as a draft and
  the batch's drafts are published with ``versions_publish_upstream`` (the province has
  reviewed them; our quality rules still decide). A record that breaks a rule stays a draft
  for an editor to complete (510 of the 行政许可 records carry no FAQ or steps at all; 539
  records give no promised time limit): ``ImportReport.held`` lists each with its line and
  the rules, ``quality`` counts them.
* "无" (none) in a time limit, a phone or the conditions means "not given": the field stays
  blank and the report counts it as unmapped. A time limit that is neither "无" nor
  "<n>(<unit>)" fails the row, because a wrong deadline is worse than a missing item.
* Themes: the record does not say whether a theme is the natural- or the legal-person one.
  Themes that only make sense for one audience are listed below; the others go to each
  audience the item serves (服务对象 自然人 → natural, any other → legal), so that the
  quality rule "服务对象 must match 主题分类" holds by construction.
* Re-importing compares the mapped values with the item's newest version: equal → unchanged;
  different → a draft that is published if it passes (the old published version is retired
  then; a published version never changes). A draft left by an earlier import is updated in
  place; a version under review (an editor's work) is never overwritten: the row fails.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from yiwang.accounts.models import Department, User
from yiwang.catalog import errors
from yiwang.catalog.access import catalog_require_editor
from yiwang.catalog.importers.common import (
    SYSTEM_ACTOR,
    ImportReport,
    ItemTypes,
    RowFailed,
    RowResult,
    Timer,
    chunked,
    run_batch,
)
from yiwang.catalog.models import ItemVersion, Material, ServiceItem, Theme, TimeUnit
from yiwang.catalog.quality import quality_errors
from yiwang.catalog.services import versions_publish_upstream
from yiwang.core.audit import audit_record
from yiwang.core.errors import ValidationError

SOURCE = "gd-jsonl"
KNOWN_KEYS = frozenset(
    {
        "TASK_CODE",
        "TASK_NAME",
        "DEPT_NAME",
        "AREA_CODE_TEXT",
        "matter_type",
        "matter_level",
        "handle_time",
        "handle_time_limit",
        "handle_location",
        "consult_phone",
        "complain_phone",
        "theme_category",
        "service_object_name",
        "material_intro",
        "accept_standard",
        "URL",
    }
)
NONE_VALUES = frozenset({"", "无", "无。", "暂无", "/"})

LEVELS = {
    "国家级": ItemVersion.UseLevel.NATIONAL,
    "省级": ItemVersion.UseLevel.PROVINCIAL,
    "市级": ItemVersion.UseLevel.MUNICIPAL,
    "县级": ItemVersion.UseLevel.COUNTY,
    "县（区）级": ItemVersion.UseLevel.COUNTY,
    "乡级": ItemVersion.UseLevel.TOWNSHIP,
    "镇级": ItemVersion.UseLevel.TOWNSHIP,
    "乡（镇、街道）级": ItemVersion.UseLevel.TOWNSHIP,
    "村级": ItemVersion.UseLevel.VILLAGE,
    "村（社区）级": ItemVersion.UseLevel.VILLAGE,
}
# GB/T 2260 codes of the areas the file names.
AREAS = {
    "广东省": "440000",
    "广东省广州市": "440100",
    "广东省深圳市": "440300",
}
UNITS = {
    "工作日": TimeUnit.WORKING_DAY,
    "个工作日": TimeUnit.WORKING_DAY,
    "自然日": TimeUnit.NATURAL_DAY,
    "个自然日": TimeUnit.NATURAL_DAY,
    "天": TimeUnit.NATURAL_DAY,
    "日": TimeUnit.NATURAL_DAY,
    "工作小时": TimeUnit.WORKING_HOUR,
    "个工作小时": TimeUnit.WORKING_HOUR,
    "小时": TimeUnit.WORKING_HOUR,
    "个小时": TimeUnit.WORKING_HOUR,
}
_TIME_LIMIT = re.compile(r"^(\d{1,5})\s*[(（]?\s*([^()（）\d\s]+)\s*[)）]?$")
_IMMEDIATE = frozenset({"即办", "即时办结", "当场办结", "立即办理"})
NATURAL_PERSON = "自然人"
ADDRESS_PREFIX = "办理地点："

# Themes that belong to one audience only (the national lists of 面向自然人 and 面向法人 themes,
# plus the Guangdong life-event themes of the file). Any other theme follows the item's
# service objects.
NATURAL_ONLY_THEMES = frozenset(
    {
        "生小孩",
        "生育收养",
        "户籍办理",
        "婚姻登记",
        "结婚",
        "升学",
        "义务教育",
        "找工作",
        "失业",
        "退休",
        "离职退休",
        "养老服务",
        "老年人",
        "儿童青少年",
        "妇女",
        "残疾人",
        "农民",
        "高校毕业生",
        "迁居",
        "买房子",
        "证件办理",
        "出境入境",
        "旅游观光",
        "入伍服役",
        "优待抚恤",
        "死亡殡葬",
        "消费维权",
    }
)
LEGAL_ONLY_THEMES = frozenset(
    {
        "设立变更",
        "准营准办",
        "资质认证",
        "年检年审",
        "税收财务",
        "人力资源",
        "投资审批",
        "融资信贷",
        "商务贸易",
        "招标拍卖",
        "海关口岸",
        "涉外服务",
        "农林牧渔",
        "安全生产",
        "法人注销",
    }
)

# The version fields the import writes, compared on re-import.
MAPPED_FIELDS = (
    "name",
    "item_type_id",
    "use_level",
    "dept_name",
    "division_code",
    "server_types",
    "accept_condition",
    "anticipate_limit",
    "anticipate_unit",
    "promise_limit",
    "promise_unit",
    "project_type",
    "transact_addr",
    "consult_way",
    "supervise_way",
    "online_url",
    "source",
    "source_url",
)
_url_valid = URLValidator(schemes=["http", "https"])


@dataclass
class MappedRecord:
    line: int
    task_code: str
    department_id: int | None
    fields: dict[str, Any]
    materials: list[str]
    theme_ids: list[int]
    unmapped: list[str] = field(default_factory=list)


def catalog_import_gd_jsonl(
    *,
    path: Path | str,
    actor: User | None = None,
    batch_size: int = 200,
    department_map: Mapping[str, str] | None = None,
) -> ImportReport:
    """Import the provincial JSON-lines file at ``path``; see the module docstring.

    ``department_map`` maps a DEPT_NAME to the code of one of our departments. Unknown codes
    in it are refused before anything is imported.
    """
    timer = Timer()
    path = Path(path)
    if actor is not None:
        catalog_require_editor(actor)
    if batch_size < 1:
        raise ValidationError(errors.FIELD_INVALID, _("批次大小必须是正整数。"), field="batch_size")
    departments = _department_ids(department_map or {})
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(
            errors.IMPORT_FILE_UNREADABLE,
            _("无法读取导入文件：%(reason)s") % {"reason": exc},
            path=str(path),
            reason=str(exc),
        ) from exc

    report = ImportReport()
    mapper = _Mapper(departments=departments)
    for batch in chunked(_numbered_records(text), batch_size):
        mapped: list[MappedRecord] = []
        for line, record in batch:
            try:
                row = mapper.map(line, record)
            except RowFailed as exc:
                report.failed.append((line, exc.reason))
                if exc.unmapped:
                    report.unmapped[exc.unmapped] += 1
                continue
            report.unmapped.update(row.unmapped)
            mapped.append(row)
        if mapped:
            _import_batch(mapped, actor=actor, path=path, report=report)
    report.failed.sort()
    report.seconds = timer.seconds()
    return report


def _department_ids(department_map: Mapping[str, str]) -> dict[str, int]:
    """DEPT_NAME → Department id: our departments by exact name, then the operator's map."""
    by_name = dict(Department.objects.values_list("name", "id"))
    by_code = dict(Department.objects.values_list("code", "id"))
    unknown = sorted(code for code in department_map.values() if code not in by_code)
    if unknown:
        raise ValidationError(
            errors.DEPARTMENT_MAP_INVALID,
            _("部门映射中有不存在的部门代码：%(codes)s") % {"codes": "、".join(unknown)},
            unknown=unknown,
        )
    by_name.update({name: by_code[code] for name, code in department_map.items()})
    return by_name


def _numbered_records(text: str) -> Iterator[tuple[int, Any]]:
    """(line number, parsed JSON or the exception) for each non-blank line."""
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            yield number, json.loads(raw)
        except json.JSONDecodeError as exc:
            yield number, exc


class _Mapper:
    """Maps one record to a MappedRecord or raises RowFailed. Touches the database only to
    resolve (and create, outside any row's savepoint) item types and themes."""

    def __init__(self, *, departments: dict[str, int]) -> None:
        self.departments = departments
        self.item_types = ItemTypes()
        self.themes: dict[tuple[str, str], int] = {
            (t.audience, t.name): t.pk for t in Theme.objects.all()
        }
        self.seen: dict[str, int] = {}

    def map(self, line: int, record: Any) -> MappedRecord:
        if isinstance(record, json.JSONDecodeError):
            raise RowFailed(f"JSON 格式错误：{record.msg}（第 {record.colno} 列）")
        if not isinstance(record, dict):
            raise RowFailed("每行必须是一个 JSON 对象")
        task_code = _text(record.get("TASK_CODE"))
        name = _text(record.get("TASK_NAME"))
        if not task_code:
            raise RowFailed("缺少实施编码 TASK_CODE")
        if not name:
            raise RowFailed("缺少事项名称 TASK_NAME")
        if len(task_code) > _max_length(ServiceItem, "task_code"):
            raise RowFailed(f"实施编码过长：{task_code}")
        if task_code in self.seen:
            raise RowFailed(f"实施编码 {task_code} 与第 {self.seen[task_code]} 行重复")
        self.seen[task_code] = line

        unmapped: list[str] = [
            f"{key}: 未识别的字段，已忽略" for key in record if key not in KNOWN_KEYS
        ]
        type_name = _text(record.get("matter_type"))
        if not type_name:
            raise RowFailed("缺少事项类型 matter_type")
        try:
            item_type = self.item_types.get(type_name)
        except RowFailed as exc:
            raise RowFailed(
                exc.reason, unmapped=f"matter_type={type_name}: 不在事项类型清单中"
            ) from exc
        level_text = _text(record.get("matter_level"))
        use_level = LEVELS.get(level_text)
        if use_level is None:
            raise RowFailed(f"无法识别的行使层级 matter_level「{level_text}」")

        anticipate_limit, anticipate_unit = _time_limit(record, "handle_time", unmapped)
        promise_limit, promise_unit = _time_limit(record, "handle_time_limit", unmapped)
        immediate = promise_unit == TimeUnit.IMMEDIATE

        dept_name = _text(record.get("DEPT_NAME"))
        if not dept_name:
            raise RowFailed("缺少实施主体 DEPT_NAME")
        department_id = self.departments.get(dept_name)
        if department_id is None:
            unmapped.append("DEPT_NAME: 非本市机构，仅记入实施主体名称")

        area = _text(record.get("AREA_CODE_TEXT"))
        division_code = AREAS.get(area, "")
        if not division_code:
            unmapped.append(f"AREA_CODE_TEXT={area or '（空）'}: 未知行政区划")

        server_types = _list(record.get("service_object_name"))
        if not server_types:
            unmapped.append("service_object_name: 未给出服务对象")
        url = _text(record.get("URL"))
        if url:
            try:
                _url_valid(url)
            except DjangoValidationError:
                unmapped.append("URL: 不是有效的网址，已忽略")
                url = ""
        else:
            unmapped.append("URL: 未给出")

        fields: dict[str, Any] = {
            "name": name,
            "item_type_id": item_type.pk,
            "use_level": use_level,
            "dept_name": dept_name,
            "division_code": division_code,
            "server_types": server_types,
            "accept_condition": _optional(record, "accept_standard", unmapped),
            "anticipate_limit": anticipate_limit,
            "anticipate_unit": anticipate_unit,
            "promise_limit": promise_limit,
            "promise_unit": promise_unit,
            "project_type": (
                ItemVersion.ProjectType.IMMEDIATE if immediate else ItemVersion.ProjectType.PROMISED
            ),
            "transact_addr": _address(record, unmapped),
            "consult_way": _optional(record, "consult_phone", unmapped),
            "supervise_way": _optional(record, "complain_phone", unmapped),
            "online_url": url,
            # The record's URL is the item's application page on the provincial portal
            # (…/apply.html#/<TASK_CODE>): where it exists, the item is applied for online.
            # The export carries no other handling-form data.
            "handle_forms": ["窗口办理", "网上办理"] if url else ["窗口办理"],
            "source": SOURCE,
            "source_url": url,
        }
        for key in ("name", "dept_name"):
            limit = _max_length(ItemVersion, key)
            if len(fields[key]) > limit:
                raise RowFailed(f"{key} 超过 {limit} 个字符")

        materials = [m for m in _list(record.get("material_intro")) if m not in NONE_VALUES]
        if not materials:
            unmapped.append("material_intro=无: 无申请材料")
        too_long = [m for m in materials if len(m) > 300]
        if too_long:
            raise RowFailed(f"材料名称超过 300 个字符：{too_long[0][:20]}…")

        return MappedRecord(
            line=line,
            task_code=task_code,
            department_id=department_id,
            fields=fields,
            materials=materials,
            theme_ids=self._theme_ids(record, server_types, unmapped),
            unmapped=unmapped,
        )

    def _theme_ids(
        self, record: dict[str, Any], server_types: list[str], unmapped: list[str]
    ) -> list[int]:
        serves_natural = NATURAL_PERSON in server_types
        serves_legal = any(t != NATURAL_PERSON for t in server_types)
        ids: list[int] = []
        for name in _list(record.get("theme_category")):
            audiences = []
            if serves_natural and name not in LEGAL_ONLY_THEMES:
                audiences.append(Theme.Audience.NATURAL)
            if serves_legal and name not in NATURAL_ONLY_THEMES:
                audiences.append(Theme.Audience.LEGAL)
            if not audiences:
                unmapped.append(f"theme_category={name}: 与服务对象不符，未归类")
            if len(name) > _max_length(Theme, "name"):
                unmapped.append(f"theme_category={name[:20]}…: 名称过长，未归类")
                continue
            for audience in audiences:
                key = (str(audience), name)
                if key not in self.themes:
                    theme, _created = Theme.objects.get_or_create(audience=audience, name=name)
                    self.themes[key] = theme.pk
                ids.append(self.themes[key])
        return sorted(set(ids))


def _max_length(model: type[models.Model], name: str) -> int:
    found = model._meta.get_field(name)
    if not isinstance(found, models.CharField) or found.max_length is None:
        raise TypeError(f"{model.__name__}.{name} is not a bounded text field")
    return found.max_length


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    return str(value).strip()


def _list(value: Any) -> list[str]:
    """A JSON list of names, or one name as a string; "无" and blanks dropped."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [t for t in (_text(v) for v in items) if t and t not in NONE_VALUES]


def _optional(record: dict[str, Any], key: str, unmapped: list[str]) -> str:
    value = _text(record.get(key))
    if value in NONE_VALUES:
        unmapped.append(f"{key}={value or '（空）'}: 未填写，留空")
        return ""
    return value


def _address(record: dict[str, Any], unmapped: list[str]) -> str:
    value = _optional(record, "handle_location", unmapped)
    return value.removeprefix(ADDRESS_PREFIX).strip()


def _time_limit(record: dict[str, Any], key: str, unmapped: list[str]) -> tuple[int | None, str]:
    raw = _text(record.get(key))
    compact = raw.replace(" ", "")
    if compact in NONE_VALUES:
        unmapped.append(f"{key}={compact or '（空）'}: 未设定时限，留空")
        return None, ""
    if compact in _IMMEDIATE:
        return 0, TimeUnit.IMMEDIATE
    match = _TIME_LIMIT.match(compact)
    unit = UNITS.get(match.group(2)) if match else None
    if match is None or unit is None:
        raise RowFailed(f"无法解析的时限 {key}「{raw}」")
    return int(match.group(1)), unit


# --- writing -------------------------------------------------------------------------------


def _import_batch(
    rows: list[MappedRecord], *, actor: User | None, path: Path, report: ImportReport
) -> None:
    codes = [r.task_code for r in rows]
    items = {i.task_code: i for i in ServiceItem.objects.filter(task_code__in=codes)}
    newest: dict[int, ItemVersion] = {}
    for v in (
        ItemVersion.objects.filter(item__task_code__in=codes)
        .exclude(status=ItemVersion.Status.RETIRED)
        .order_by("number")
        .prefetch_related("materials", "themes")
    ):
        newest[v.item_id] = v
    publisher = actor or SYSTEM_ACTOR
    drafts: dict[int, tuple[int, ItemVersion]] = {}  # version pk → (line, draft) to publish

    def apply(row: MappedRecord) -> RowResult:
        item = items.get(row.task_code)
        if item is None:
            item = ServiceItem.objects.create(
                task_code=row.task_code, department_id=row.department_id
            )
            version = _create_version(item, row, number=1, actor=actor)
            drafts[version.pk] = (row.line, version)
            return RowResult("created", row.task_code)
        current = newest.get(item.pk)
        if current is not None and _same(item, current, row):
            return RowResult("unchanged", row.task_code)
        if current is not None and current.status == ItemVersion.Status.REVIEW:
            raise RowFailed(f"事项 {row.task_code} 有待审核的版本，导入不覆盖编辑人员的工作")
        if item.department_id != row.department_id:
            item.department_id = row.department_id
            item.save(update_fields=["department", "updated_at"])
        if current is not None and current.status == ItemVersion.Status.DRAFT:
            _overwrite_draft(current, row)
            version = current
        else:
            number = (item.versions.aggregate(n=Max("number"))["n"] or 0) + 1
            version = _create_version(item, row, number=number, actor=actor)
        drafts[version.pk] = (row.line, version)
        return RowResult("updated", row.task_code)

    def publish() -> list[tuple[int, str, tuple[str, ...]]]:
        """After the rows: publish the batch's drafts that pass the quality rules."""
        lines = sorted(line for line, _v in drafts.values())
        if not lines:
            return []
        held = versions_publish_upstream(
            actor=publisher,
            versions=[v for _line, v in drafts.values()],
            source=f"广东省事项清单 {path.name} 第 {lines[0]}–{lines[-1]} 行",
        )
        return sorted(
            (drafts[pk][0], drafts[pk][1].item.task_code, tuple(x.rule for x in quality_errors(v)))
            for pk, v in held.items()
        )

    def audit(counts: dict[str, Any]) -> None:
        audit_record(
            actor=publisher,
            action="catalog.import_gd_jsonl",
            object_type="catalog.serviceitem",
            reason=f"导入 {path.name} 第 {counts['first_line']}–{counts['last_line']} 行",
            after=counts,
        )

    run_batch(
        rows, line_of=lambda r: r.line, apply=apply, report=report, audit=audit, finish=publish
    )


def _create_version(
    item: ServiceItem, row: MappedRecord, *, number: int, actor: User | None
) -> ItemVersion:
    version = ItemVersion.objects.create(
        item=item,
        number=number,
        status=ItemVersion.Status.DRAFT,
        change_note="从广东省事项清单导入" if number == 1 else "广东省事项清单更新",
        **row.fields,
    )
    _write_children(version, row)
    return version


def _overwrite_draft(version: ItemVersion, row: MappedRecord) -> None:
    """An earlier import's draft takes the new upstream values (drafts may change)."""
    for key, value in row.fields.items():
        setattr(version, key, value)
    version.change_note = "广东省事项清单更新"
    version.save()
    version.materials.all().delete()
    version.themes.clear()
    _write_children(version, row)


def _write_children(version: ItemVersion, row: MappedRecord) -> None:
    Material.objects.bulk_create(
        Material(version=version, name=name, sort_order=i)
        for i, name in enumerate(row.materials, start=1)
    )
    through = ItemVersion.themes.through
    through.objects.bulk_create(
        through(itemversion_id=version.pk, theme_id=theme_id) for theme_id in row.theme_ids
    )


def _same(item: ServiceItem, version: ItemVersion, row: MappedRecord) -> bool:
    if item.department_id != row.department_id:
        return False
    if any(getattr(version, key) != value for key, value in row.fields.items()):
        return False
    if [m.name for m in version.materials.all()] != row.materials:
        return False
    return sorted(t.pk for t in version.themes.all()) == row.theme_ids
