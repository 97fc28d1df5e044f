"""Model fields for personal data: stored encrypted, read back as plain text in Python."""

from __future__ import annotations

from typing import Any

from django.db import models

from yiwang.core import crypto


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """A text field encrypted at rest (see yiwang.core.crypto). Not searchable: pair it with a
    blind-index column for lookups. Empty strings are stored as empty strings."""

    description = "Text encrypted at rest (SM4-GCM or AES-GCM)"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if not value:
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if not value:
            return value
        return crypto.encrypt(str(value))
