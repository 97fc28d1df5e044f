"""Refusals of the witness protocol, each with the HTTP status tlog-witness assigns to it."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise

from yiwang.core.errors import DomainError


class WitnessRefused(DomainError):
    """The witness will not cosign. ``status`` is the tlog-witness HTTP status; for 409,
    ``extra["size"]`` is the size this witness last cosigned."""

    code = "witness.refused"

    def __init__(self, status: int, code: str, message: str | Promise, **extra: Any):
        super().__init__(code, message, **extra)
        self.status = status
