"""``yiwang export-cases``: the national case record (受理, 过程, 结果, 特别程序, 材料) of the
applications submitted in a period, for reporting to the provincial platform.

    yiwang export-cases --format jsonl|xlsx [--since DATE] [--until DATE] [--department CODE] OUT

Dates are ``YYYY-MM-DD`` in city time, on the submission time (申请时间), both inclusive.
``--department`` takes a department code and includes every department below it. JSON Lines
has one record per application with the five tables; the workbook has one sheet per table
with Chinese headers, joined by 办件编号 (see yiwang/applications/case_record.py). Without
``--format`` the format follows OUT's extension. The file is streamed (a million applications
fit) and appears whole or not at all; bad arguments write nothing. Each export writes one
audit row (the file holds ID numbers: keep it as the provincial interface requires).
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext

from yiwang.applications import services
from yiwang.applications.case_record import (
    CHUNK_SIZE,
    FORMATS,
    TABLES,
    case_records_export,
    case_records_select,
)
from yiwang.core.errors import DomainError

ACTOR = "system:export-cases"


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            gettext("日期“%(v)s”无效，应为 YYYY-MM-DD，例如 2026-01-31。") % {"v": value}
        ) from None


def _chunk(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 10_000:
        raise argparse.ArgumentTypeError(
            gettext("每批条数“%(v)s”无效，应为 1 到 10000 之间的整数。") % {"v": value}
        )
    return int(value)


class Command(BaseCommand):
    help = gettext(
        "导出国家办件数据（受理、过程、结果、特别程序、材料）/ export the national case record"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--format",
            dest="fmt",
            help=gettext("文件格式：jsonl 或 xlsx（默认按输出文件扩展名）/ format"),
        )
        parser.add_argument(
            "--since", type=_day, help=gettext("申请日期起（含），YYYY-MM-DD / from (inclusive)")
        )
        parser.add_argument(
            "--until", type=_day, help=gettext("申请日期止（含），YYYY-MM-DD / to (inclusive)")
        )
        parser.add_argument(
            "--department",
            default="",
            help=gettext("受理部门的机构代码，含下级机构 / department code, subtree included"),
        )
        parser.add_argument(
            "--chunk-size",
            type=_chunk,
            default=CHUNK_SIZE,
            help=gettext("每批读取的办件数 / applications per batch"),
        )
        parser.add_argument("out", help=gettext("输出文件 / output file"))

    def handle(self, *args: Any, **options: Any) -> None:
        out = options["out"]
        fmt = options["fmt"] or Path(out).suffix.lstrip(".").lower()
        if fmt not in FORMATS:
            raise CommandError(
                gettext("请用 --format 指定格式：%(all)s（“%(f)s”不受支持）。")
                % {"all": " / ".join(FORMATS), "f": fmt}
            )
        filters = {
            "since": options["since"].isoformat() if options["since"] else "",
            "until": options["until"].isoformat() if options["until"] else "",
            "department": options["department"],
            "format": fmt,
        }
        try:
            applications = case_records_select(
                since=options["since"],
                until=options["until"],
                department_code=options["department"],
            )
            report = case_records_export(
                path=out, fmt=fmt, applications=applications, chunk_size=options["chunk_size"]
            )
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        services.case_records_export_log(actor=ACTOR, filters=filters, count=report.records)
        summary = gettext("已导出 %(n)d 条办件到 %(path)s。") % {
            "n": report.records,
            "path": report.path,
        }
        if report.rows:
            summary += (
                "（"
                + "，".join(f"{table.title} {report.rows[table.key]}" for table in TABLES)
                + "）"
            )
        self.stdout.write(summary)
