"""Who may do what with accounts, and the role-based view decorators built on core.access."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from yiwang.core.access import mark

F = TypeVar("F", bound=Callable[..., HttpResponse])


def staff_required(view: F) -> F:
    """Signed-in staff only (user kind ``staff``)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(request.user, "kind", None) != "staff":
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return mark(cast(F, login_required(wrapper)), "staff")
