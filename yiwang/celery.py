"""The Celery application.

City topology: Redis is the broker and ``yiwang worker`` runs workers with beat.
Embedded topology (``YIWANG_JOBS_MODE=embedded``, no broker): the same task objects run in
process. ``YiwangTask.apply_async`` (hence ``.delay()``) hands the call to the process's
embedded runner (yiwang.core.jobs), which runs it on a background thread so the request that
asked for it returns first; with no runner in the process (a management command, the test
suite) the task runs inline, as Celery's eager mode would.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, Task
from celery.result import AsyncResult

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings.embedded")


class YiwangTask(Task):  # type: ignore[type-arg]
    def apply_async(  # type: ignore[override]
        self,
        args: tuple[Any, ...] | list[Any] | None = None,
        kwargs: dict[str, Any] | None = None,
        **options: Any,
    ) -> AsyncResult:  # type: ignore[type-arg]
        from django.conf import settings

        if settings.YIWANG_JOBS_MODE != "embedded":
            return super().apply_async(None if args is None else tuple(args), kwargs, **options)
        from yiwang.core.jobs import jobs_submit

        return jobs_submit(self, args=tuple(args or ()), kwargs=dict(kwargs or {}), **options)


app: Celery = Celery("yiwang", task_cls=YiwangTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
