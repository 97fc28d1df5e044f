"""Shared fixtures. Tests use the real database (SQLite or PostgreSQL via DATABASE_URL) and the
real Redis where a feature uses it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import translation


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Every test starts in the default language: a request in English must not leak into the
    next test's Chinese assertions (the active language is thread-local)."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _no_outbox_kick_pending() -> None:
    """No delivery run is asked for when a test starts: a kick whose run never started (a test
    that stopped its job runner first) must not hold back the next test's kicks."""
    from yiwang.core.outbox import KICK_KEY

    cache.delete(KICK_KEY)
