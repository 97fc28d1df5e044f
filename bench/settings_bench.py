"""Settings for bench/http_baseline.py: the product settings plus a bench-only URLconf.

Embedded by default (SQLite in YIWANG_DATA_DIR, secrets generated there); with
YIWANG_BENCH_TOPOLOGY=city the production settings (PostgreSQL and Redis from DATABASE_URL and
REDIS_URL, secrets from the environment). DEBUG is off either way: a benchmark with DEBUG on
measures the debug machinery (query logging), not the platform.
"""

from __future__ import annotations

import os

if os.environ.get("YIWANG_BENCH_TOPOLOGY") == "city":
    from yiwang.settings.production import *  # noqa: F403
else:
    from yiwang.settings.embedded import *  # noqa: F403

DEBUG = False
# The trivial baseline view lives only here, never in the product URLconf.
ROOT_URLCONF = "bench.urls_bench"
# Under load the access log would measure the terminal; errors still reach stderr.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
