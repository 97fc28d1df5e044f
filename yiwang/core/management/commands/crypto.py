"""``yiwang crypto status`` counts encrypted values per cipher and key id;
``yiwang crypto reencrypt`` moves every value to the active key (after adding a new key in
front of YIWANG_FIELD_KEYS), in batches, each batch in its own transaction."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiwang.core import crypto
from yiwang.core.encrypted_values import encrypted_values_reencrypt, encrypted_values_status
from yiwang.core.errors import IntegrityFailure


class Command(BaseCommand):
    help = "Field encryption keys: status (values per key id) and reencrypt (to the active key)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("status", help="count encrypted values per cipher and key id")
        reencrypt = sub.add_parser("reencrypt", help="re-encrypt every value under the active key")
        reencrypt.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        active = f"{crypto.active_cipher()}:{crypto.keyring().active_id}"
        if options["action"] == "status":
            self.stdout.write(f"active {active}")
            for column, counts in encrypted_values_status().items():
                for label, count in sorted(counts.items()):
                    self.stdout.write(f"{column} {label} {count}")
            return
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be positive")
        try:
            changed = encrypted_values_reencrypt(batch_size=options["batch_size"])
        except IntegrityFailure as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        for model, rows in changed.items():
            self.stdout.write(f"{model} {rows} rows re-encrypted to {active}")
