"""The embedded topology (default): one machine, SQLite in var/, jobs in-process.

Secrets come from the environment when set, otherwise from ``var/secrets.json``, which is
generated on first run with mode 0600.
"""

from __future__ import annotations

import os

from yiwang.settings.base import *  # noqa: F403
from yiwang.settings.base import DATA_DIR
from yiwang.settings.secrets import load_or_create

_stored = load_or_create(DATA_DIR)
SECRET_KEY = os.environ.get("YIWANG_SECRET_KEY") or _stored["YIWANG_SECRET_KEY"]
YIWANG_FIELD_KEYS = os.environ.get("YIWANG_FIELD_KEYS") or _stored["YIWANG_FIELD_KEYS"]
YIWANG_BLIND_INDEX_KEY = (
    os.environ.get("YIWANG_BLIND_INDEX_KEY") or _stored["YIWANG_BLIND_INDEX_KEY"]
)
