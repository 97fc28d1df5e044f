"""The city topology: secrets and services come from the environment, or the process refuses
to start. Nothing here falls back to a generated or default secret."""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from yiwang.settings.base import *  # noqa: F403

_INSECURE_MARKERS = ("insecure", "changeme", "change-me", "default", "secret", "test")


def _required_secret(name: str, min_length: int) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise ImproperlyConfigured(f"{name} must be set in the production settings")
    if (
        len(value) < min_length
        or value.lower() in _INSECURE_MARKERS
        or value.startswith("django-insecure")
    ):
        raise ImproperlyConfigured(f"{name} is too short or a known default; generate a new one")
    return value


SECRET_KEY = _required_secret("YIWANG_SECRET_KEY", 40)
YIWANG_FIELD_KEYS = _required_secret("YIWANG_FIELD_KEYS", 20)
YIWANG_BLIND_INDEX_KEY = _required_secret("YIWANG_BLIND_INDEX_KEY", 32)
if not os.environ.get("DATABASE_URL"):
    raise ImproperlyConfigured("DATABASE_URL must be set in the production settings")

DEBUG = False
SESSION_COOKIE_SECURE = os.environ.get("YIWANG_INSECURE_COOKIES", "") != "1"
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
