"""``yiwang exchange <subcommand>``: data exchange tools.

yiwang exchange verify-log            walk the access log's hash chain (exit 1 if broken)
yiwang exchange anchor                commit the log's head into the ledger now
yiwang exchange refresh RESOURCE_CODE reload a file-drop resource from its owner's file
yiwang exchange query --consumer CODE --resource CODE --key K [--case N --purpose P]
    one gateway call as the consumer department (logged like any other); prints JSON.
    Exit 0 answered, 1 refused or failed (the problem as JSON).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext

from yiwang.accounts.models import Department
from yiwang.core.errors import DomainError
from yiwang.core.management.subcommands import Subcommand, SubcommandCommand
from yiwang.exchange.accesslog import log_anchor, log_verify
from yiwang.exchange.adapters import file_refresh
from yiwang.exchange.gateway import exchange_query
from yiwang.exchange.models import DataResource

OK, FAILED = 0, 1


def _no_arguments(parser: CommandParser) -> None:
    pass


def verify_run(command: BaseCommand, options: dict[str, Any]) -> int:
    report = log_verify()
    (command.stdout if report.ok else command.stderr).write(report.message)
    return OK if report.ok else FAILED


def anchor_run(command: BaseCommand, options: dict[str, Any]) -> int:
    command.stdout.write(gettext("已锚定共享调用日志至第 %(n)s 条") % {"n": log_anchor()})
    return OK


def refresh_arguments(parser: CommandParser) -> None:
    parser.add_argument("resource_code")


def refresh_run(command: BaseCommand, options: dict[str, Any]) -> int:
    resource = DataResource.objects.filter(code=options["resource_code"]).first()
    if resource is None:
        command.stderr.write(gettext("数据资源不存在：%(c)s") % {"c": options["resource_code"]})
        return FAILED
    try:
        rows = file_refresh(resource)
    except (DomainError, ValueError) as exc:
        command.stderr.write(str(exc))
        return FAILED
    command.stdout.write(gettext("已载入 %(n)s 条记录") % {"n": rows})
    return OK


def query_arguments(parser: CommandParser) -> None:
    parser.add_argument("--consumer", required=True, help="consumer department code")
    parser.add_argument("--resource", required=True, help="resource code")
    parser.add_argument("--key", required=True, help="ID number, USCC …")
    parser.add_argument("--case", default="", help="case number (conditional resources)")
    parser.add_argument("--purpose", default="", help="purpose (conditional resources)")
    parser.add_argument("--fields", default="", help="comma-separated fields (default: granted)")


def query_run(command: BaseCommand, options: dict[str, Any]) -> int:
    consumer = Department.objects.filter(code=options["consumer"]).first()
    if consumer is None:
        command.stderr.write(gettext("部门不存在：%(c)s") % {"c": options["consumer"]})
        return FAILED
    fields = [f.strip() for f in options["fields"].split(",") if f.strip()] or None
    try:
        result = exchange_query(
            consumer=consumer,
            actor=None,
            resource_code=options["resource"],
            key=options["key"],
            fields=fields,
            case_number=options["case"],
            purpose=options["purpose"],
        )
    except DomainError as exc:
        problem = {"status": exc.status, **exc.as_dict()}
        command.stdout.write(json.dumps(problem, ensure_ascii=False, cls=DjangoJSONEncoder))
        return FAILED
    command.stdout.write(
        json.dumps(result.answer(), ensure_ascii=False, indent=2, cls=DjangoJSONEncoder)
    )
    return OK


SUBCOMMANDS = {
    "verify-log": Subcommand("walk the access log's hash chain", _no_arguments, verify_run),
    "anchor": Subcommand("commit the access log's head into the ledger", _no_arguments, anchor_run),
    "refresh": Subcommand("reload a file-drop resource", refresh_arguments, refresh_run),
    "query": Subcommand("one gateway call as a consumer department", query_arguments, query_run),
}


class Command(SubcommandCommand):
    help = "Data exchange: verify and anchor the access log, refresh file drops, query."
    subcommands = SUBCOMMANDS
