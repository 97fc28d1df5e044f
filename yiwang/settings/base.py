"""Settings shared by every topology. Everything configurable comes from the environment."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent  # the yiwang package
DATA_DIR = Path(os.environ.get("YIWANG_DATA_DIR", Path.cwd() / "var")).resolve()
SHARED_DATA_DIR = Path(
    os.environ.get("YIWANG_SHARED_DATA", BASE_DIR.parent.parent / "shared" / "data")
).resolve()

DEBUG = os.environ.get("YIWANG_DEBUG", "") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("YIWANG_ALLOWED_HOSTS", "").split(",") if h] or [
    "127.0.0.1",
    "localhost",
    "[::1]",
]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("YIWANG_CSRF_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "js_lib_htmx",
    "ninja",
    "axes",
    "yiwang.core",
    "yiwang.ledger",
    "yiwang.witness",
    "yiwang.accounts",
    "yiwang.catalog",
    "yiwang.notifications",
    "yiwang.evaluation",
    "yiwang.applications",
    "yiwang.hotline",
    "yiwang.certificates",
    "yiwang.exchange",
    "yiwang.portal",
    "yiwang.console",
    "yiwang.api",
    "yiwang.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "yiwang.core.middleware.DomainErrorMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "yiwang.urls"
WSGI_APPLICATION = "yiwang.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "yiwang.portal.context_processors.shell",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'yiwang.sqlite3'}",
        conn_max_age=int(os.environ.get("YIWANG_DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The same backend, with a health check that asks the server only when it said something
    # (yiwang/core/db/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "yiwang.core.db.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the in-process job runner read while a request writes; IMMEDIATE avoids
    # "database is locked" on write-after-read transactions. Connections persist per thread
    # (CONN_MAX_AGE above): reopening the file and rerunning the pragmas on every request
    # cost a third of the health endpoint's throughput (bench/http_baseline.py).
    # The threads of one process queue for the write lock instead of polling SQLite's busy
    # handler (yiwang/core/db/sqlite3/base.py). Pages are read through a memory map (256 MB
    # of address space, not memory) instead of one read() call each: on the exchange query
    # about an eighth of the server's CPU time per request (bench/exchange.py, one connection).
    DATABASES["default"]["ENGINE"] = "yiwang.core.db.sqlite3"
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        " PRAGMA mmap_size=268435456;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Lockout after repeated failed logins (django-axes).
AXES_FAILURE_LIMIT = int(os.environ.get("YIWANG_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("YIWANG_LOGIN_COOLOFF_HOURS", "0.5"))
# Lock the account, not the address: a service hall or a county network shares one IP, and
# locking it would lock out every citizen behind it.
AXES_LOCKOUT_PARAMETERS = ["username"]
# models.W047: SQLite cannot create a unique constraint with nulls not distinct (the hotline's
# one time limit per category and urgency, the default row having no category). The admin's
# model validation still enforces it there, and PostgreSQL has the constraint; the warning on
# every command would only hide real output (e.g. of the offline verifiers).
SILENCED_SYSTEM_CHECKS = ["axes.W006", "models.W047"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = False

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "yiwang.core.cache.RedisCache",  # one client per pool (see there)
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "yiwang",
        }
    }
    # Sessions read from Redis, written through to the database: one query less on every
    # signed-in request. Not in the embedded topology, whose per-process memory cache would
    # let a session signed out in one worker live on in another.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "yiwang",
        }
    }

# Background jobs: Celery with Redis in the city topology; in the embedded topology
# (no REDIS_URL) the same tasks and periodic jobs run in-process (yiwang.core.jobs). Embedded
# mode does not use Celery's eager mode: yiwang.celery.YiwangTask sends .delay() to the
# in-process queue so that a task never holds up the response that asked for it.
YIWANG_JOBS_MODE = os.environ.get("YIWANG_JOBS_MODE", "celery" if REDIS_URL else "embedded")
if YIWANG_JOBS_MODE not in {"celery", "embedded"}:
    raise ImproperlyConfigured(
        f"YIWANG_JOBS_MODE must be 'celery' or 'embedded', not {YIWANG_JOBS_MODE!r}"
    )
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "outbox-deliver": {
        "task": "yiwang.core.tasks.outbox_deliver",
        "schedule": 10.0,
    },
    "calendar-next-year-check": {
        "task": "yiwang.core.tasks.calendar_next_year_check",
        "schedule": crontab(minute=0, hour=9, month_of_year="11,12"),
    },
    "evaluation-rectifications-escalate": {
        "task": "yiwang.evaluation.tasks.rectifications_escalate",
        "schedule": crontab(minute=5),
    },
    "applications-escalate-overdue": {
        "task": "yiwang.applications.tasks.escalate_overdue",
        "schedule": crontab(minute="*/15"),
    },
    # Urgent orders are signed within minutes: check often.
    "hotline-check-deadlines": {
        "task": "yiwang.hotline.tasks.check_deadlines",
        "schedule": 60.0,
    },
    # The hotline figures' monthly rollup: the months changed during the day, at night.
    "hotline-stats-rollup": {
        "task": "yiwang.hotline.tasks.stats_rollup",
        "schedule": crontab(minute=40, hour=1),
    },
    # Certificates past their last day become expired, shortly after midnight (Asia/Shanghai).
    "certificates-expire": {
        "task": "yiwang.certificates.tasks.expire",
        "schedule": crontab(minute=10, hour=0),
    },
    # The e-certificate log: integrate pending entries, publish a cosigned checkpoint, and
    # anchor the audit trail's head in the log (yiwang/ledger/README.md).
    "ledger-integrate": {"task": "yiwang.ledger.tasks.integrate", "schedule": 2.0},
    "ledger-checkpoint-publish": {
        "task": "yiwang.ledger.tasks.checkpoint_publish",
        "schedule": 60.0,
    },
    "ledger-audit-anchor": {
        "task": "yiwang.ledger.tasks.audit_anchor",
        "schedule": crontab(minute=7),
    },
    "exchange-access-log-anchor": {
        "task": "yiwang.exchange.tasks.access_log_anchor",
        "schedule": crontab(minute=17),
    },
    "exchange-anomalies-detect": {
        "task": "yiwang.exchange.tasks.anomalies_detect",
        "schedule": crontab(minute=27),
    },
    "exchange-file-drops-refresh": {
        "task": "yiwang.exchange.tasks.file_drops_refresh",
        "schedule": crontab(hour=2, minute=37),
    },
}

# A separate witness process (``yiwang witness serve --data-dir``) only answers add-checkpoint:
# none of the platform's periodic jobs has anything to do in its database.
if os.environ.get("YIWANG_WITNESS_DATA_DIR"):
    CELERY_BEAT_SCHEDULE = {}

# A checkpoint of an unchanged log is re-signed (and re-witnessed, with a fresh timestamp) only
# this often; a grown log gets a new checkpoint at the next publishing run (every minute).
YIWANG_LEDGER_CHECKPOINT_REFRESH = int(os.environ.get("YIWANG_LEDGER_CHECKPOINT_REFRESH", "3600"))

# Where signing keys live (yiwang.core.signing): the database by default; a hardware module's
# key store is a class with ``signer(name, algorithm)``.
YIWANG_SIGNING_KEY_STORE = os.environ.get(
    "YIWANG_SIGNING_KEY_STORE", "yiwang.core.signing.DatabaseKeyStore"
)

# Origin (identity) of the e-certificate log in its checkpoints (c2sp.org/tlog-checkpoint).
YIWANG_LEDGER_ORIGIN = os.environ.get("YIWANG_LEDGER_ORIGIN", "ledger.yiwang.luan.example/v1")

# Data sharing (yiwang/exchange): the department that runs the exchange and sees every
# department's collaboration figures (市数据资源局), and where the embedded demo's owner
# databases live (each department's own store, reached only through its adapter).
YIWANG_DATA_BUREAU_CODE = os.environ.get("YIWANG_DATA_BUREAU_CODE", "la-sjzyj")
YIWANG_EXCHANGE_OWNERS_DIR = os.environ.get("YIWANG_EXCHANGE_OWNERS_DIR", str(DATA_DIR / "owners"))

# Field encryption (personal data at rest). See docs/operator-guide.md.
YIWANG_FIELD_CIPHER = os.environ.get("YIWANG_FIELD_CIPHER", "sm4-gcm")  # or "aes-gcm"

# Single sign-on with the city's identity provider (OIDC); off unless configured.
OIDC_RP_CLIENT_ID = os.environ.get("YIWANG_OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("YIWANG_OIDC_CLIENT_SECRET", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("YIWANG_OIDC_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("YIWANG_OIDC_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = os.environ.get("YIWANG_OIDC_USER_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = os.environ.get("YIWANG_OIDC_JWKS_ENDPOINT", "")
OIDC_RP_SIGN_ALGO = os.environ.get("YIWANG_OIDC_SIGN_ALGO", "RS256")
# The identity provider claims carrying the ID number, name and phone (docs/oidc.md).
YIWANG_OIDC_ID_NUMBER_CLAIM = os.environ.get("YIWANG_OIDC_ID_NUMBER_CLAIM", "id_number")
YIWANG_OIDC_NAME_CLAIM = os.environ.get("YIWANG_OIDC_NAME_CLAIM", "name")
YIWANG_OIDC_PHONE_CLAIM = os.environ.get("YIWANG_OIDC_PHONE_CLAIM", "phone_number")
YIWANG_OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID and OIDC_OP_AUTHORIZATION_ENDPOINT)
if YIWANG_OIDC_ENABLED:
    INSTALLED_APPS.append("mozilla_django_oidc")
    AUTHENTICATION_BACKENDS.append("yiwang.accounts.oidc.CityOIDCBackend")

# One pagination for the whole API: ?page=&page_size= (yiwang.api.pagination).
NINJA_PAGINATION_CLASS = "yiwang.api.pagination.PagePagination"
NINJA_PAGINATION_PER_PAGE = 20
NINJA_MAX_PER_PAGE_SIZE = 100
NINJA_PAGINATION_MAX_LIMIT = 100

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("YIWANG_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # One line per task run: the outbox sweep alone would print every 10 seconds.
        "celery.app.trace": {"level": "WARNING"},
    },
}

YIWANG_SITE_NAME = _("六安市一网通办")
# Longest delegation (代办授权) a citizen or a window clerk may record, in days.
YIWANG_DELEGATION_MAX_DAYS = int(os.environ.get("YIWANG_DELEGATION_MAX_DAYS", "366"))

# Office hours for time limits counted in working hours: "09:00-12:00,13:30-17:30" (Shanghai).
YIWANG_OFFICE_HOURS = [
    tuple(span.strip().split("-", 1))
    for span in os.environ.get("YIWANG_OFFICE_HOURS", "09:00-12:00,13:30-17:30").split(",")
    if span.strip()
]
YIWANG_CITY_DIVISION_CODE = os.environ.get("YIWANG_CITY_DIVISION_CODE", "341500")

# Notifications (yiwang.notifications): in-app always; SMS and email through the provider named
# here. "record" sends nothing and keeps what would be sent on the staff outbox page.
YIWANG_SMS_PROVIDER = os.environ.get("YIWANG_SMS_PROVIDER", "record")  # record | http
YIWANG_SMS_URL = os.environ.get("YIWANG_SMS_URL", "")
YIWANG_SMS_TOKEN = os.environ.get("YIWANG_SMS_TOKEN", "")
YIWANG_SMS_TIMEOUT = float(os.environ.get("YIWANG_SMS_TIMEOUT", "10"))
YIWANG_SMS_SIGNATURE = os.environ.get("YIWANG_SMS_SIGNATURE", "六安市一网通办")
YIWANG_EMAIL_PROVIDER = os.environ.get("YIWANG_EMAIL_PROVIDER", "record")  # record | email
# The platform's public address, for full links in SMS and email ("" leaves them out).
YIWANG_SITE_URL = os.environ.get("YIWANG_SITE_URL", "").rstrip("/")
EMAIL_BACKEND = os.environ.get(
    "YIWANG_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_HOST = os.environ.get("YIWANG_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("YIWANG_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("YIWANG_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("YIWANG_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("YIWANG_EMAIL_USE_TLS", "") == "1"
EMAIL_USE_SSL = os.environ.get("YIWANG_EMAIL_USE_SSL", "") == "1"
EMAIL_TIMEOUT = float(os.environ.get("YIWANG_EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("YIWANG_EMAIL_FROM", "noreply@localhost")

# 好差评 (yiwang.evaluation): working days a department has to answer a bad review (差评整改).
YIWANG_RECTIFICATION_DAYS = int(os.environ.get("YIWANG_RECTIFICATION_DAYS", "5"))
if YIWANG_RECTIFICATION_DAYS < 1:
    raise ImproperlyConfigured("YIWANG_RECTIFICATION_DAYS must be a whole number of days >= 1")

# 12345 (yiwang.hotline): local rules (standards.md §3.4). Time limits per category and urgency
# are rows (admin: 办理时限); these are the few rules that are not per category.
YIWANG_HOTLINE_DESIGNATE_AFTER = int(os.environ.get("YIWANG_HOTLINE_DESIGNATE_AFTER", "3"))
YIWANG_HOTLINE_REOPEN_LIMIT = int(os.environ.get("YIWANG_HOTLINE_REOPEN_LIMIT", "1"))
YIWANG_HOTLINE_UNREACHABLE_CLOSE_AFTER = int(
    os.environ.get("YIWANG_HOTLINE_UNREACHABLE_CLOSE_AFTER", "3")
)
YIWANG_HOTLINE_DUPLICATE_DAYS = int(os.environ.get("YIWANG_HOTLINE_DUPLICATE_DAYS", "7"))
YIWANG_HOTLINE_DUPLICATE_METRES = float(os.environ.get("YIWANG_HOTLINE_DUPLICATE_METRES", "500"))
# County boundaries (GeoJSON, WGS-84) from the city's 自然资源和规划局; without them a point's
# county is the nearest county seat (an approximation: yiwang/hotline/location.py).
HOTLINE_BOUNDARIES_GEOJSON = os.environ.get("YIWANG_HOTLINE_BOUNDARIES_GEOJSON", "")

# 办件 (yiwang.applications): uploads of application materials, and the public progress query.
YIWANG_APPLICATION_MAX_UPLOAD_BYTES = int(
    os.environ.get("YIWANG_APPLICATION_MAX_UPLOAD_BYTES", str(20 * 1024 * 1024))
)
YIWANG_APPLICATION_UPLOAD_TYPES = tuple(
    t.strip()
    for t in os.environ.get(
        "YIWANG_APPLICATION_UPLOAD_TYPES", "application/pdf,image/jpeg,image/png"
    ).split(",")
    if t.strip()
)
YIWANG_PROGRESS_QUERY_RATE = os.environ.get("YIWANG_PROGRESS_QUERY_RATE", "30/m")
# Reverse proxies in front of the platform whose X-Forwarded-For is trusted for rate limits
# (yiwang.core.access.client_address); 0 = clients connect directly (the embedded default).
YIWANG_TRUSTED_PROXIES = int(os.environ.get("YIWANG_TRUSTED_PROXIES", "0"))
