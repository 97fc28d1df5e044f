"""``yiwang generate_owners [--population N] [--out DIR] [--postgres URL] [--schema S] [--seed S]``

Writes the demo departments' own stores (one SQLite file per owner, see
``yiwang.exchange.owners``), or with ``--postgres`` the 公安局's population register into a
schema of that PostgreSQL database (for the benchmark's 5 million records). Prints the counts
and the time taken."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from yiwang.exchange.owners import owners_generate, owners_generate_postgres


class Command(BaseCommand):
    help = "Generate the demo departments' own data stores (owners of the exchange resources)."
    # Touches no platform table: it must run on a bench machine whatever state the app is in.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--population", type=int, default=20_000)
        parser.add_argument("--out", default=None, help="directory (default: owners dir setting)")
        parser.add_argument("--postgres", default=None, help="postgres://… URL instead of SQLite")
        parser.add_argument("--schema", default="owner_gaj")
        parser.add_argument("--seed", type=int, default=20260101)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["postgres"]:
            result = owners_generate_postgres(
                options["postgres"],
                schema=options["schema"],
                population=options["population"],
                seed=options["seed"],
            )
            where = f"{options['schema']}.population"
        else:
            result = owners_generate(
                options["out"],
                population=options["population"],
                seed=options["seed"],
                progress=self.stdout.write,
            )
            where = str(result.out_dir)
        for table, count in result.counts.items():
            self.stdout.write(f"{table:<18}{count:>12,}")
        self.stdout.write(f"written to {where} in {result.seconds:.1f} s")
