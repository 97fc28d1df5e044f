"""Management commands made of subcommands (``yiwang catalog import``, ``yiwang hotline
classify`` …): each subcommand is a help line, a function adding its arguments to its
sub-parser and a function running it, ``run(command, options) -> exit code``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from django.core.management.base import BaseCommand, CommandParser


@dataclass(frozen=True)
class Subcommand:
    help: str
    add_arguments: Callable[[CommandParser], None]
    run: Callable[[BaseCommand, dict[str, Any]], int]


class SubcommandCommand(BaseCommand):
    """A command whose ``subcommands`` name the work; a non-zero exit code ends the process."""

    subcommands: ClassVar[dict[str, Subcommand]] = {}

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        for name, spec in self.subcommands.items():
            spec.add_arguments(sub.add_parser(name, help=spec.help))

    def handle(self, *args: Any, **options: Any) -> None:
        code = self.subcommands[options["subcommand"]].run(self, options)
        if code:
            sys.exit(code)
