"""Import of the Guangdong provincial catalog (gd-jsonl): mapping, bad rows, idempotence."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command

from yiwang.accounts.models import Role
from yiwang.accounts.tests.factories import DepartmentFactory, StaffFactory, staff_with_role
from yiwang.catalog import errors
from yiwang.catalog.importers import catalog_import_gd_jsonl, gd_jsonl
from yiwang.catalog.models import ItemVersion, Material, ServiceItem, Theme, TimeUnit
from yiwang.core.errors import PermissionDenied, ValidationError
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db

REAL_FILE = Path(settings.SHARED_DATA_DIR) / "guangdong_service_items.jsonl"


def record(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "TASK_CODE": "11440000006940116U2440102002003",
        "TASK_NAME": "中小学地方课程教材初审",
        "DEPT_NAME": "广东省教育厅",
        "AREA_CODE_TEXT": "广东省",
        "matter_type": "公共服务",  # a 行政许可 record breaks permit.faq/permit.steps (see below)
        "matter_level": "省级",
        "handle_time": "70(工作日)",
        "handle_time_limit": "18(工作日)",
        "handle_location": "办理地点：广州市越秀区农林下路72号",
        "consult_phone": "020-37628755",
        "complain_phone": "020-37627229",
        "theme_category": ["教育科研"],
        "service_object_name": ["自然人", "企业法人"],
        "material_intro": ["审查登记表", "教材清样"],
        "accept_standard": "申请人符合条件方可申请。",
        "URL": "https://www.gdzwfw.gov.cn/gaio/apply.html#/11440000006940116U2440102002003",
    }
    base.update(changes)
    return base


def write(tmp_path: Path, lines: list[Any], name: str = "items.jsonl") -> Path:
    path = tmp_path / name
    text = "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def import_audits() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action="catalog.import_gd_jsonl").order_by("seq"))


def counts(entry: AuditEntry) -> dict[str, Any]:
    assert isinstance(entry.after, dict)
    return entry.after


# --- the real provincial file --------------------------------------------------------------


@pytest.fixture
def real_file() -> Path:
    if not REAL_FILE.exists():
        pytest.skip(f"the provincial catalog {REAL_FILE} is absent (set YIWANG_SHARED_DATA)")
    return REAL_FILE


def test_real_file_imports_every_line_and_reimport_changes_nothing(real_file: Path) -> None:
    lines = sum(1 for line in real_file.read_text(encoding="utf-8").splitlines() if line.strip())

    report = catalog_import_gd_jsonl(path=real_file)

    assert lines == 2262
    assert report.created + len(report.failed) == lines
    assert report.created == 2262
    assert report.failed == []
    assert (report.updated, report.unchanged) == (0, 0)
    assert ServiceItem.objects.count() == 2262
    # published through the quality gate, or kept as a draft for an editor to complete
    published = ItemVersion.objects.filter(status=ItemVersion.Status.PUBLISHED).count()
    drafts = ItemVersion.objects.filter(status=ItemVersion.Status.DRAFT).count()
    assert (published, drafts) == (2262 - len(report.held), len(report.held))
    assert published == 1164
    published_audits = AuditEntry.objects.filter(action="catalog.versions_publish_upstream")
    assert sum(len((a.after or {})["published"]) for a in published_audits) == 1164
    assert ItemVersion.objects.exclude(source="gd-jsonl").count() == 0
    # What the file cannot say, counted per field (the command prints the same list).
    assert report.unmapped == {
        "DEPT_NAME: 非本市机构，仅记入实施主体名称": 2262,
        "material_intro=无: 无申请材料": 1453,
        "accept_standard=无: 未填写，留空": 950,
        "handle_time=无: 未设定时限，留空": 713,
        "handle_time_limit=无: 未设定时限，留空": 539,
        "complain_phone=无: 未填写，留空": 116,
        "consult_phone=无: 未填写，留空": 80,
        "URL: 未给出": 66,
        "accept_standard=无。: 未填写，留空": 9,
    }
    assert Material.objects.count() == 3434
    assert ItemVersion.objects.filter(anticipate_unit=TimeUnit.NATURAL_DAY).count() == 11
    assert ItemVersion.objects.filter(use_level=ItemVersion.UseLevel.MUNICIPAL).count() == 238
    assert ItemVersion.objects.filter(division_code="440100").count() == 238
    assert report.quality == {  # why the drafts are drafts, by rule
        "time.promise_required": 539,  # no promised time limit in the record
        "permit.faq": 510,  # the 许可 records carry no FAQ …
        "permit.steps": 510,  # … and no steps
        "visit.mail_when_not_online": 66,
        "basic.materials": 23,  # 行政权力 items (许可, 奖励, 给付 …) without any material
    }
    audits = import_audits()
    assert len(audits) == 12  # ceil(2262 / 200): one per batch, not one per item
    assert sum(counts(a)["created"] for a in audits) == 2262

    versions_before = list(ItemVersion.objects.values_list("pk", "updated_at").order_by("pk"))
    again = catalog_import_gd_jsonl(path=real_file)

    assert (again.created, again.updated, again.unchanged, again.failed) == (0, 0, 2262, [])
    assert list(ItemVersion.objects.values_list("pk", "updated_at").order_by("pk")) == (
        versions_before
    )
    assert len(import_audits()) == 12  # an import that changed nothing leaves no audit row


# --- mapping -------------------------------------------------------------------------------


def test_record_maps_to_item_version_materials_and_themes(tmp_path: Path) -> None:
    report = catalog_import_gd_jsonl(path=write(tmp_path, [record()]))

    assert (report.created, report.failed) == (1, [])
    item = ServiceItem.objects.get()
    version = item.versions.get()
    assert item.task_code == "11440000006940116U2440102002003"
    assert item.department is None
    assert version.number == 1
    assert version.status == ItemVersion.Status.PUBLISHED
    assert version.published_at is not None
    assert version.name == "中小学地方课程教材初审"
    assert version.item_type.name == "公共服务"
    assert version.use_level == ItemVersion.UseLevel.PROVINCIAL
    assert version.dept_name == "广东省教育厅"
    assert version.division_code == "440000"
    assert version.server_types == ["自然人", "企业法人"]
    assert (version.anticipate_limit, version.anticipate_unit) == (70, TimeUnit.WORKING_DAY)
    assert (version.promise_limit, version.promise_unit) == (18, TimeUnit.WORKING_DAY)
    assert version.project_type == ItemVersion.ProjectType.PROMISED
    assert version.transact_addr == "广州市越秀区农林下路72号"
    assert version.consult_way == "020-37628755"
    assert version.supervise_way == "020-37627229"
    assert version.accept_condition == "申请人符合条件方可申请。"
    assert version.source == "gd-jsonl"
    assert version.source_url == record()["URL"]
    assert [m.name for m in version.materials.all()] == ["审查登记表", "教材清样"]
    # 教育科研 serves both audiences; the item serves 自然人 and 企业法人.
    assert sorted((t.audience, t.name) for t in version.themes.all()) == [
        (Theme.Audience.LEGAL, "教育科研"),
        (Theme.Audience.NATURAL, "教育科研"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30(工作日)", (30, TimeUnit.WORKING_DAY)),
        ("15（自然日）", (15, TimeUnit.NATURAL_DAY)),
        ("20个工作日", (20, TimeUnit.WORKING_DAY)),
        ("4(小时)", (4, TimeUnit.WORKING_HOUR)),
        ("即办", (0, TimeUnit.IMMEDIATE)),
        ("无", (None, "")),
    ],
)
def test_time_limits_with_units(text: str, expected: tuple[int | None, str]) -> None:
    unmapped: list[str] = []
    assert gd_jsonl._time_limit({"handle_time": text}, "handle_time", unmapped) == expected


def test_immediate_promise_makes_an_immediate_item(tmp_path: Path) -> None:
    catalog_import_gd_jsonl(path=write(tmp_path, [record(handle_time_limit="即办")]))

    version = ItemVersion.objects.get()
    assert (version.promise_limit, version.promise_unit) == (0, TimeUnit.IMMEDIATE)
    assert version.project_type == ItemVersion.ProjectType.IMMEDIATE


def test_theme_for_one_audience_only_goes_where_the_item_serves(tmp_path: Path) -> None:
    rows = [
        record(TASK_CODE="A1", theme_category=["生小孩", "设立变更"]),
        record(TASK_CODE="A2", theme_category=["设立变更"], service_object_name=["自然人"]),
    ]
    report = catalog_import_gd_jsonl(path=write(tmp_path, rows))

    first = ItemVersion.objects.get(item__task_code="A1")
    assert sorted((t.audience, t.name) for t in first.themes.all()) == [
        (Theme.Audience.LEGAL, "设立变更"),
        (Theme.Audience.NATURAL, "生小孩"),
    ]
    assert not ItemVersion.objects.get(item__task_code="A2").themes.exists()
    assert report.unmapped["theme_category=设立变更: 与服务对象不符，未归类"] == 1


def test_department_found_by_name_or_by_map(tmp_path: Path) -> None:
    ours = DepartmentFactory(code="lu-an-edu", name="六安市教育局")
    same_name = DepartmentFactory(code="gd-edu", name="广东省教育厅")
    rows = [record(TASK_CODE="B1"), record(TASK_CODE="B2", DEPT_NAME="广东省教育考试院")]

    catalog_import_gd_jsonl(
        path=write(tmp_path, rows), department_map={"广东省教育考试院": "lu-an-edu"}
    )

    assert ServiceItem.objects.get(task_code="B1").department == same_name
    assert ServiceItem.objects.get(task_code="B2").department == ours
    assert ItemVersion.objects.get(item__task_code="B2").dept_name == "广东省教育考试院"


def test_department_map_with_an_unknown_code_is_refused_before_anything(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        catalog_import_gd_jsonl(
            path=write(tmp_path, [record()]), department_map={"广东省教育厅": "nope"}
        )

    assert caught.value.code == errors.DEPARTMENT_MAP_INVALID
    assert caught.value.extra["unknown"] == ["nope"]
    assert ServiceItem.objects.count() == 0


def test_unreadable_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        catalog_import_gd_jsonl(path=tmp_path / "missing.jsonl")

    assert caught.value.code == errors.IMPORT_FILE_UNREADABLE


def test_actor_must_be_a_catalog_editor(tmp_path: Path) -> None:
    with pytest.raises(PermissionDenied):
        catalog_import_gd_jsonl(path=write(tmp_path, [record()]), actor=StaffFactory())

    editor = staff_with_role(Role.CATALOG_ADMIN)
    catalog_import_gd_jsonl(path=write(tmp_path, [record()]), actor=editor)

    assert ItemVersion.objects.get().published_by == editor
    assert import_audits()[0].actor_id == editor.pk


# --- bad rows ------------------------------------------------------------------------------


def test_broken_lines_are_listed_and_the_good_ones_imported(tmp_path: Path) -> None:
    lines: list[Any] = [
        record(TASK_CODE="G1"),  # 1
        '{"TASK_CODE": "X", "TASK_NAME": ',  # 2: bad JSON
        record(TASK_CODE=""),  # 3
        record(TASK_CODE="G4", TASK_NAME=" "),  # 4
        record(TASK_CODE="G5", handle_time="三十天"),  # 5
        record(TASK_CODE="G1"),  # 6: duplicate of line 1
        "",  # 7: blank, skipped
        record(TASK_CODE="G8", matter_type="行政备案"),  # 8
        record(TASK_CODE="G9", matter_level="省部级"),  # 9
        "[1, 2]",  # 10
        record(TASK_CODE="G11"),  # 11
    ]

    report = catalog_import_gd_jsonl(path=write(tmp_path, lines), batch_size=4)

    assert report.failed == [
        (2, "JSON 格式错误：Expecting value（第 33 列）"),
        (3, "缺少实施编码 TASK_CODE"),
        (4, "缺少事项名称 TASK_NAME"),
        (5, "无法解析的时限 handle_time「三十天」"),
        (6, "实施编码 G1 与第 1 行重复"),
        (8, "未知的事项类型「行政备案」"),
        (9, "无法识别的行使层级 matter_level「省部级」"),
        (10, "每行必须是一个 JSON 对象"),
    ]
    assert report.created == 2
    assert sorted(ServiceItem.objects.values_list("task_code", flat=True)) == ["G1", "G11"]
    assert report.unmapped["matter_type=行政备案: 不在事项类型清单中"] == 1


def test_a_row_that_crashes_mid_creation_leaves_no_half_item(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = gd_jsonl._create_version

    def crash_on_second(item: ServiceItem, row: Any, **kwargs: Any) -> ItemVersion:
        version = original(item, row, **kwargs)  # the item, its version and materials …
        if row.task_code == "C2":
            raise RuntimeError("disk full")  # … are written, and then the row fails
        return version

    monkeypatch.setattr(gd_jsonl, "_create_version", crash_on_second)
    rows = [record(TASK_CODE=f"C{i}") for i in (1, 2, 3)]

    report = catalog_import_gd_jsonl(path=write(tmp_path, rows))

    assert report.failed == [(2, "RuntimeError: disk full")]
    assert report.created == 2
    assert sorted(ServiceItem.objects.values_list("task_code", flat=True)) == ["C1", "C3"]
    assert ItemVersion.objects.count() == 2
    assert Material.objects.count() == 4
    assert counts(import_audits()[0])["created_codes"] == ["C1", "C3"]


# --- the quality gate ----------------------------------------------------------------------


def test_a_record_that_breaks_a_quality_rule_stays_a_draft(tmp_path: Path) -> None:
    rows = [record(TASK_CODE="Q1"), record(TASK_CODE="Q2", matter_type="行政许可")]

    report = catalog_import_gd_jsonl(path=write(tmp_path, rows))

    assert (report.created, report.failed) == (2, [])
    assert report.held == [(2, "Q2", ("permit.faq", "permit.steps"))]
    assert report.quality == {"permit.faq": 1, "permit.steps": 1}
    statuses = dict(ItemVersion.objects.values_list("item__task_code", "status"))
    assert statuses == {"Q1": ItemVersion.Status.PUBLISHED, "Q2": ItemVersion.Status.DRAFT}
    draft = ItemVersion.objects.get(item__task_code="Q2")
    assert (draft.published_at, draft.published_by) == (None, None)
    [published] = AuditEntry.objects.filter(action="catalog.versions_publish_upstream")
    assert published.reason == "广东省事项清单 items.jsonl 第 1–2 行"
    assert published.after == {
        "published": ["Q1 v1"],
        "retired": [],
        "held": {"Q2 v1": ["permit.faq", "permit.steps"]},
    }
    assert counts(import_audits()[0])["held_codes"] == ["Q2"]
    text = "\n".join(report.summary_lines())
    assert "以草稿保存、待补全后发布 / kept as drafts until completed: 1" in text
    assert "1 × permit.faq" in text


def test_reimport_updates_a_held_draft_in_place_and_publishes_it_once_it_passes(
    tmp_path: Path,
) -> None:
    catalog_import_gd_jsonl(path=write(tmp_path, [record(matter_type="行政许可")]))
    fixed = record(matter_type="公共服务", material_intro=["登记表"])

    report = catalog_import_gd_jsonl(path=write(tmp_path, [fixed], name="v2.jsonl"))

    assert (report.created, report.updated, report.held) == (0, 1, [])
    version = ItemVersion.objects.get()  # the same draft, not a second version
    assert (version.number, version.status) == (1, ItemVersion.Status.PUBLISHED)
    assert version.item_type.name == "公共服务"
    assert [m.name for m in version.materials.all()] == ["登记表"]


def test_reimport_never_overwrites_a_version_under_review(tmp_path: Path) -> None:
    catalog_import_gd_jsonl(path=write(tmp_path, [record(matter_type="行政许可")]))
    ItemVersion.objects.update(status=ItemVersion.Status.REVIEW)  # an editor took it up

    report = catalog_import_gd_jsonl(
        path=write(tmp_path, [record(TASK_NAME="改名")], name="v2.jsonl")
    )

    code = record()["TASK_CODE"]
    assert report.failed == [(1, f"事项 {code} 有待审核的版本，导入不覆盖编辑人员的工作")]
    version = ItemVersion.objects.get()
    assert (version.status, version.name) == (ItemVersion.Status.REVIEW, record()["TASK_NAME"])


# --- updates and audit ---------------------------------------------------------------------


def test_changed_record_publishes_a_new_version_and_retires_the_old(tmp_path: Path) -> None:
    catalog_import_gd_jsonl(path=write(tmp_path, [record()]))
    changed = record(TASK_NAME="中小学地方课程教材初审（修订）", material_intro=["登记表"])

    report = catalog_import_gd_jsonl(path=write(tmp_path, [changed], name="v2.jsonl"))

    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    old, new = ItemVersion.objects.order_by("number")
    assert (old.number, old.status) == (1, ItemVersion.Status.RETIRED)
    assert old.retired_at is not None
    assert [m.name for m in old.materials.all()] == ["审查登记表", "教材清样"]
    assert (new.number, new.status, new.name) == (
        2,
        ItemVersion.Status.PUBLISHED,
        "中小学地方课程教材初审（修订）",
    )
    assert [m.name for m in new.materials.all()] == ["登记表"]
    assert counts(import_audits()[-1])["updated_codes"] == [record()["TASK_CODE"]]


def test_one_audit_row_per_batch_with_counts(tmp_path: Path) -> None:
    rows = [record(TASK_CODE=f"D{i}") for i in range(5)] + [record(TASK_CODE="")]

    catalog_import_gd_jsonl(path=write(tmp_path, rows), batch_size=2)

    audits = import_audits()
    assert [
        (counts(a)["created"], counts(a)["first_line"], counts(a)["last_line"]) for a in audits
    ] == [
        (2, 1, 2),
        (2, 3, 4),
        (1, 5, 5),
    ]
    assert audits[0].actor_label == "system:catalog-import"
    assert audits[0].reason == "导入 items.jsonl 第 1–2 行"


def test_command_prints_summary_failures_and_unmapped(tmp_path: Path) -> None:
    path = write(tmp_path, [record(), record(TASK_CODE="", TASK_NAME="x")])
    out = StringIO()

    with pytest.raises(SystemExit) as exited:
        call_command("catalog", "import", "--format", "gd-jsonl", str(path), stdout=out)

    assert exited.value.code == 1
    text = out.getvalue()
    assert "新建 created 1，更新 updated 0，未变 unchanged 0，失败 failed 1" in text
    assert "第 2 行: 缺少实施编码 TASK_CODE" in text
    assert "1 × DEPT_NAME: 非本市机构，仅记入实施主体名称" in text
