"""``yiwang open311 <subcommand>``: API keys of Open311 clients.

yiwang open311 create-key --name NAME   prints the new key once (only its hash is kept)
yiwang open311 list                     prefix, name, created, last used, revoked
yiwang open311 revoke --prefix PREFIX   the client gets 403 from then on
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiwang.core.calendar import SHANGHAI
from yiwang.core.errors import DomainError
from yiwang.hotline import selectors, services

ACTOR = "system:open311-cli"


def _when(value: Any) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if value else "-"


class Command(BaseCommand):
    help = "Open311 API keys: create-key (printed once), list, revoke."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create-key", help="create a key and print it once")
        create.add_argument("--name", required=True, help="客户端名称 / client name")
        sub.add_parser("list", help="list the keys (prefixes only)")
        revoke = sub.add_parser("revoke", help="revoke the key with this prefix")
        revoke.add_argument("--prefix", required=True, help="密钥前缀 / key prefix (o311_xxxx)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "create-key":
                row, key = services.open311_key_create(name=options["name"], actor=ACTOR)
                self.stdout.write(key)
                self.stderr.write(
                    f"已为“{row.name}”创建密钥（前缀 {row.prefix}）。密钥只显示这一次，请妥善保存。"
                )
            elif options["action"] == "list":
                for row in selectors.open311_keys():
                    self.stdout.write(
                        f"{row.prefix}\t{row.name}\t{_when(row.created_at)}\t"
                        f"{_when(row.last_used_at)}\t"
                        f"{'revoked ' + _when(row.revoked_at) if row.revoked_at else 'active'}"
                    )
            else:
                row = services.open311_key_revoke(prefix=options["prefix"], actor=ACTOR)
                self.stdout.write(f"revoked {row.prefix} {row.name}")
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
