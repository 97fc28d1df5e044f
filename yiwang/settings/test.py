"""Settings for the test suite: embedded by default; DATABASE_URL selects PostgreSQL."""

from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path

os.environ.setdefault("YIWANG_DATA_DIR", tempfile.mkdtemp(prefix="yiwang-test-"))

from yiwang.settings.base import *  # noqa: F403
from yiwang.settings.base import DATA_DIR

SECRET_KEY = "test-only-secret-key-not-for-production-0123456789"
YIWANG_FIELD_KEYS = (
    "t2:" + base64.b64encode(b"B" * 16).decode() + ",t1:" + base64.b64encode(b"A" * 16).decode()
)
YIWANG_BLIND_INDEX_KEY = "test-only-blind-index-key-0123456789abcdef"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT = Path(DATA_DIR) / "static"
CELERY_TASK_ALWAYS_EAGER = True
YIWANG_JOBS_MODE = "embedded"
TEST_REDIS_URL = os.environ.get("YIWANG_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
