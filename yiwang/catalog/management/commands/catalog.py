"""``yiwang catalog <subcommand>``: catalog tools.

    yiwang catalog check [--published] [--errors-only]
    yiwang catalog import --format gd-jsonl|xlsx FILE [--department-map MAP.json] [--batch-size 200]
    yiwang catalog export --format xlsx OUT [--status published]   (files into OUT.files/)

Each subcommand is one entry of ``SUBCOMMANDS``: a help line, a function adding its arguments
to its sub-parser, and a function running it (``run(command, options) -> exit code``). Add a
subcommand by adding a function pair and one entry; nothing else changes.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext

from yiwang.catalog.exporters import catalog_export_xlsx
from yiwang.catalog.importers import catalog_import_gd_jsonl, catalog_import_xlsx
from yiwang.catalog.models import ItemVersion
from yiwang.catalog.quality import ERROR, latest_versions, quality_report
from yiwang.core.errors import DomainError
from yiwang.core.management.subcommands import Subcommand, SubcommandCommand

# --- check ---------------------------------------------------------------------------------


def check_arguments(parser: CommandParser) -> None:
    parser.add_argument(
        "--published",
        action="store_true",
        help="检查已发布版本（默认检查每个事项的最新版本）/ check published versions",
    )
    parser.add_argument(
        "--errors-only", action="store_true", help="只列出错误，不列提示 / hide warnings"
    )


def check_run(command: BaseCommand, options: dict[str, Any]) -> int:
    """Print every violation per version and a summary; exit code 1 if any error."""
    versions = (
        ItemVersion.objects.filter(status=ItemVersion.Status.PUBLISHED).order_by("item__task_code")
        if options["published"]
        else latest_versions()
    )
    checked = versions.count()
    report = quality_report(versions)
    errors = warnings = failing = 0
    for version, violations in report:
        shown = [v for v in violations if v.severity == ERROR or not options["errors_only"]]
        version_errors = sum(1 for v in violations if v.severity == ERROR)
        errors += version_errors
        warnings += len(violations) - version_errors
        failing += bool(version_errors)
        if not shown:
            continue
        command.stdout.write(
            f"{version.item.task_code} v{version.number} {version.name}"
            f"（{version.get_status_display()}）"
        )
        for v in shown:
            label = "错误" if v.severity == ERROR else "提示"
            command.stdout.write(f"  [{label}] {v.rule} {v.field}: {v.message}")
    command.stdout.write(
        f"共检查 {checked} 个事项版本：{failing} 个有错误，"
        f"{len(report) - failing} 个仅有提示；错误 {errors} 条，提示 {warnings} 条。"
    )
    return 1 if errors else 0


# --- import / export -----------------------------------------------------------------------

IMPORT_FORMATS = ("gd-jsonl", "xlsx")


def import_arguments(parser: CommandParser) -> None:
    parser.add_argument("--format", required=True, choices=IMPORT_FORMATS, help="文件格式 / format")
    parser.add_argument(
        "file", help="导入文件（xlsx：旁边的 FILE.files/ 文件夹存放附件）/ file to import"
    )
    parser.add_argument(
        "--department-map",
        help="JSON 文件：{实施主体名称: 本市机构代码} / JSON map of DEPT_NAME to department code",
    )
    parser.add_argument(
        "--batch-size", type=int, default=200, help="每个事务的行数 / rows per transaction"
    )


def import_run(command: BaseCommand, options: dict[str, Any]) -> int:
    """Import a file; print the summary, every failed row and the unmapped values. Exit code 1
    when a row failed (the good rows are imported all the same)."""
    try:
        if options["format"] == "gd-jsonl":
            department_map = None
            if options["department_map"]:
                with open(options["department_map"], encoding="utf-8") as f:
                    department_map = json.load(f)
            report = catalog_import_gd_jsonl(
                path=options["file"],
                batch_size=options["batch_size"],
                department_map=department_map,
            )
        else:
            report = catalog_import_xlsx(path=options["file"], batch_size=options["batch_size"])
    except (DomainError, OSError, json.JSONDecodeError) as exc:
        raise CommandError(str(getattr(exc, "message", "") or exc)) from exc
    for line in report.summary_lines():
        command.stdout.write(line)
    return 1 if report.failed else 0


def export_arguments(parser: CommandParser) -> None:
    parser.add_argument("--format", required=True, choices=("xlsx",), help="文件格式 / format")
    parser.add_argument("out", help="输出文件 / output file")
    parser.add_argument(
        "--status",
        choices=ItemVersion.Status.values,
        help="只导出该状态的版本（默认每个事项的最新版本）/ versions in this status only",
    )


def export_run(command: BaseCommand, options: dict[str, Any]) -> int:
    """Write OUT and the files folder OUT.files; a named file the storage does not hold is
    listed on stderr (the export is written without it)."""
    report = catalog_export_xlsx(path=options["out"], status=options["status"])
    rows = "，".join(f"{title} {count}" for title, count in report.rows.items())
    command.stdout.write(f"已导出 {report.path}：{rows}；用时 {report.seconds:.2f} s")
    command.stdout.write(
        gettext("已写入 %(n)s 个文件到 %(dir)s") % {"n": report.files, "dir": report.files_dir}
    )
    for warning in report.warnings:
        command.stderr.write(f"  提示：{warning}")
    if report.missing_files:
        command.stderr.write(
            gettext("缺少 %(n)s 个文件 / missing files:") % {"n": len(report.missing_files)}
        )
        for missing in report.missing_files:
            command.stderr.write(f"  {missing}")
    return 0


# --- the command ---------------------------------------------------------------------------


SUBCOMMANDS: dict[str, Subcommand] = {
    "check": Subcommand(
        help="按质量规则检查事项目录，有错误时退出码为1 / quality report (exit 1 on errors)",
        add_arguments=check_arguments,
        run=check_run,
    ),
    "import": Subcommand(
        help="导入事项目录（gd-jsonl 或 xlsx）/ import the catalog from a file",
        add_arguments=import_arguments,
        run=import_run,
    ),
    "export": Subcommand(
        help="导出事项目录为 Excel 模板 / export the catalog as an Excel workbook",
        add_arguments=export_arguments,
        run=export_run,
    ),
}


class Command(SubcommandCommand):
    help = "事项目录工具 / service catalog tools: " + ", ".join(SUBCOMMANDS)
    subcommands = SUBCOMMANDS
