"""``yiwang worker``: a Celery worker (with beat, by default) for the city topology."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "运行 Celery 后台任务进程（城市部署）/ run a Celery worker with beat (city topology)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--beat",
            action="store_true",
            default=True,
            help="also run the periodic scheduler (default; run exactly one such worker)",
        )
        parser.add_argument("--no-beat", dest="beat", action="store_false")
        parser.add_argument("--concurrency", type=int, default=None)
        parser.add_argument("--loglevel", default="INFO")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.REDIS_URL:
            raise CommandError(
                "未设置 REDIS_URL：yiwang worker 用于城市部署（Redis + Celery）。"
                "单机部署请用 yiwang serve，后台任务在进程内运行。"
                " / REDIS_URL is not set: `yiwang worker` is for the city topology"
                " (Redis + Celery). In the embedded topology `yiwang serve` runs the jobs"
                " in-process."
            )
        from yiwang.celery import app

        argv = ["worker", f"--loglevel={options['loglevel']}"]
        if options["concurrency"]:
            argv.append(f"--concurrency={options['concurrency']}")
        if options["beat"]:
            # Beat's schedule state lives in the data folder, not in the working directory.
            argv += ["--beat", f"--schedule={settings.DATA_DIR / 'celerybeat-schedule'}"]
        app.worker_main(argv=argv)
