"""The exchange's error codes (``exchange.<reason>``), one class per HTTP status.

Refusals are raised by the gateway after the call was logged. ``SourceUnavailable`` (503)
lives in ``adapters``, where the contract names it.
"""

from __future__ import annotations

from yiwang.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationError


class ExchangeRefused(PermissionDenied):
    """The gateway refused a call (no grant, field not granted, case missing …): 403."""

    code = "exchange.refused"


class ExchangeNotFound(NotFound):
    code = "exchange.not_found"


class ExchangeInvalid(ValidationError):
    """A bad key (check digit), unknown field or bad request shape: 422."""

    code = "exchange.invalid"


class ExchangeConflict(Conflict):
    code = "exchange.conflict"


class RateLimited(DomainError):
    status = 429
    code = "exchange.rate_limited"


__all__ = [
    "ExchangeConflict",
    "ExchangeInvalid",
    "ExchangeNotFound",
    "ExchangeRefused",
    "RateLimited",
]
