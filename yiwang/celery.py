"""The Celery application. City topology: Redis broker, `yiwang worker` runs worker and beat.
Embedded topology: tasks run in-process (see yiwang.core.jobs)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings.embedded")

app = Celery("yiwang")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
