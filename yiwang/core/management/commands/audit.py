"""``yiwang audit verify``: walk the hash-chained audit trail and name the first bad row."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from yiwang.core.audit import audit_verify


class Command(BaseCommand):
    help = "审计链校验 / audit trail tools: `audit verify` checks the hash chain."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("verify", help="校验审计链 / verify the audit chain (exit 1 if broken)")

    def handle(self, *args: Any, **options: Any) -> None:
        # Only "verify" exists today; argparse has refused anything else already.
        report = audit_verify()
        if report.ok:
            self.stdout.write(report.message)
            return
        self.stderr.write(report.message)
        sys.exit(1)
