"""``yiwang serve``: the platform under gunicorn, plus the in-process jobs in the embedded
topology.

gunicorn runs ``yiwang.wsgi:application`` with threaded (gthread) workers. Before it starts we
collect static files quietly (the manifest storage needs them) and refuse to serve an
unmigrated database. In the embedded topology every worker process starts an embedded job
runner in ``post_worker_init`` (after the fork, so no thread crosses a fork): its worker thread
runs the tasks that process queues, and only the process holding the beat lock runs the
periodic schedule (see yiwang.core.jobs), so beat runs exactly once however many workers there
are.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from gunicorn.app.base import BaseApplication


def _post_worker_init(worker: Any) -> None:
    from yiwang.core.jobs import jobs_start_embedded

    jobs_start_embedded()


def _worker_exit(server: Any, worker: Any) -> None:
    from yiwang.core.jobs import jobs_current_runner

    runner = jobs_current_runner()
    if runner is not None:
        runner.stop(timeout=10)


class PlatformServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        # gunicorn >= 25 opens a control socket, by default one per user in $HOME: two
        # platforms on one machine would fight over it. Keep it in the data folder.
        if "control_socket" in self.cfg.settings:
            path = str(settings.DATA_DIR / "gunicorn.ctl")
            if len(path) < 100:  # the limit of a Unix socket path
                self.cfg.set("control_socket", path)
            else:
                self.cfg.set("control_socket_disable", True)

    def load(self) -> Any:
        from yiwang.wsgi import application

        return application


class Command(BaseCommand):
    help = "运行平台（gunicorn；单机部署时含后台任务）/ serve the platform with gunicorn"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--workers", type=int, default=None, help="processes (default 1 embedded, 2 city)"
        )
        parser.add_argument("--threads", type=int, default=8, help="threads per process")

    def handle(self, *args: Any, **options: Any) -> None:
        embedded = settings.YIWANG_JOBS_MODE == "embedded"
        workers = options["workers"] or (1 if embedded else 2)
        if workers < 1 or options["threads"] < 1:
            raise CommandError("--workers 和 --threads 至少为 1 / must be at least 1")
        self._check_migrations()
        call_command("collectstatic", interactive=False, verbosity=0)
        # gunicorn forks: no database connection of this process may leak into the workers.
        connections.close_all()

        gunicorn_options: dict[str, Any] = {
            "bind": f"{options['host']}:{options['port']}",
            "workers": workers,
            "threads": options["threads"],
            "worker_class": "gthread",
            "accesslog": "-",
            "errorlog": "-",
            "timeout": 60,
            "graceful_timeout": 20,
            "proc_name": "yiwang",
        }
        if embedded:
            gunicorn_options["post_worker_init"] = _post_worker_init
            gunicorn_options["worker_exit"] = _worker_exit
        topology = "embedded, jobs in-process" if embedded else "city, jobs on Celery"
        self.stdout.write(
            f"yiwang 在 http://{options['host']}:{options['port']}/ 提供服务"
            f" / serving ({topology}, {workers} workers × {options['threads']} threads)"
        )
        PlatformServer(gunicorn_options).run()

    def _check_migrations(self) -> None:
        connection = connections["default"]
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            pending = ", ".join(f"{m.app_label}.{m.name}" for m, _backwards in plan[:5])
            more = f" (+{len(plan) - 5})" if len(plan) > 5 else ""
            raise CommandError(
                f"数据库尚未迁移，请先运行 `yiwang migrate`"
                f" / the database has unapplied migrations ({pending}{more}):"
                " run `yiwang migrate` first"
            )
