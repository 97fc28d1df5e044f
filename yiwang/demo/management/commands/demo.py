"""`yiwang demo`: load the Lu'an demo data (idempotent) and print the demo accounts."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from yiwang.demo.loader import DEMO_PASSWORD, demo_load


class Command(BaseCommand):
    help = "Load the Lu'an demo departments and one demo user for every role (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = demo_load()
        self.stdout.write(self.style.SUCCESS("六安市演示数据已就绪 / Lu'an demo data ready"))
        self.stdout.write(f"演示账号 demo accounts (password 密码: {DEMO_PASSWORD}):")
        for username, label in accounts:
            self.stdout.write(f"  {username:<22} {label}")
