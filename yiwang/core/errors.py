"""One error vocabulary for the whole platform.

Every business failure is a ``DomainError`` with a stable ``code`` (``<app>.<reason>``), a
message in the user's language, and optional ``extra`` details. The API renders it as
problem+json (RFC 9457) and the pages render it as an error page: both in one place
(yiwang.api.errors and yiwang.core.middleware).
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise


class DomainError(Exception):
    """A business rule refused the request. Nothing was changed."""

    status = 400
    code = "core.error"

    def __init__(self, code: str | None = None, message: str | Promise = "", **extra: Any):
        self.code = code or type(self).code
        self.message = message
        self.extra = extra
        super().__init__(f"{self.code}: {message}")

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "detail": str(self.message), **self.extra}


class ValidationError(DomainError):
    """Input is well-formed but wrong (a bad check digit, an expired delegation...)."""

    status = 422
    code = "core.invalid"


class NotFound(DomainError):
    """The object does not exist, or the actor may not know that it does."""

    status = 404
    code = "core.not_found"


class PermissionDenied(DomainError):
    """The actor is known but may not do this."""

    status = 403
    code = "core.forbidden"


class Unauthenticated(DomainError):
    status = 401
    code = "core.unauthenticated"


class Conflict(DomainError):
    """The object's state does not allow this (invalid transition, lost race, duplicate)."""

    status = 409
    code = "core.conflict"


class IntegrityFailure(DomainError):
    """Stored data failed a tamper check (audit chain, ledger)."""

    status = 500
    code = "core.integrity"
