"""Shared fixtures. Tests use the real database (SQLite or PostgreSQL via DATABASE_URL) and the
real Redis where a feature uses it."""

from __future__ import annotations
