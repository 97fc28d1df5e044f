"""Django form and model validators for the national identifiers in yiwang.core.identifiers.

They turn our domain ``ValidationError`` into Django's, keeping the code and the Chinese message,
so a form shows the same sentence the API returns. Being plain module-level functions, they can
be referenced from model fields and migrations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError

from yiwang.core import identifiers
from yiwang.core.errors import ValidationError


def _wrap(check: Callable[[str], Any], value: object) -> None:
    if value in (None, ""):
        return  # "required" is the field's business, not the format's
    try:
        check(str(value))
    except ValidationError as exc:
        raise DjangoValidationError(str(exc.message), code=exc.code) from exc


def validate_id_number(value: object) -> None:
    """Resident ID number (GB 11643): length, characters, birth date, check digit."""
    _wrap(identifiers.resident_id_parse, value)


def validate_uscc(value: object) -> None:
    """Unified social credit code (GB 32100): length, alphabet, check character."""
    _wrap(identifiers.uscc_validate, value)


def validate_ecert_id(value: object) -> None:
    """E-certificate identifier (GB/T 36904) with its ISO 7064 MOD 37,36 check character."""
    _wrap(identifiers.ecert_id_parse, value)
