"""Model fields for personal data: stored encrypted, read back as plain text in Python."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldError
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

from yiwang.core import crypto


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """A text field encrypted at rest (see yiwang.core.crypto). Empty strings are stored as
    empty strings, so ``blank=True`` and ``filter(field="")`` keep working.

    Not searchable: every encryption uses a fresh nonce, so ``filter(field=value)`` could never
    match and would silently find nothing. Such a lookup raises FieldError instead; pair the
    field with a blind-index column (``crypto.blind_index``) and search that.
    """

    description = "Text encrypted at rest (SM4-GCM or AES-GCM)"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if not value:
            return value
        return crypto.decrypt(value)

    def get_db_prep_save(self, value: Any, connection: BaseDatabaseWrapper) -> Any:
        # Writes (insert, update, bulk_update) come here; lookups do not.
        if hasattr(value, "as_sql"):  # an expression: the database computes the value
            return value
        value = super().get_prep_value(value)
        if not value:
            return value
        return crypto.encrypt(str(value))

    def get_prep_value(self, value: Any) -> Any:
        # Only lookups reach this method now (writes go through get_db_prep_save).
        value = super().get_prep_value(value)
        if value:
            raise FieldError(
                f"{self.model.__name__}.{self.name} is encrypted and cannot be searched by value; "
                "search its blind-index column instead"
            )
        return value
