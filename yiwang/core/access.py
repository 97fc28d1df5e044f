"""Access rules for views: every route declares who may call it.

A view is wrapped by one of the decorators here or in an app's ``access`` module; each marks
the view with ``yiwang_access`` so that the URL meta-test (tests/test_url_access.py) can fail
for any route that has none. App-specific rules (roles, departments) live in
``yiwang.accounts.access`` and build on ``mark``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.decorators import login_required

F = TypeVar("F", bound=Callable[..., Any])

ACCESS_ATTR = "yiwang_access"


def mark(view: F, rule: str) -> F:
    """Record the access rule of ``view`` (for the meta-test and for readers)."""
    setattr(view, ACCESS_ATTR, rule)
    return view


def access_rule(view: Callable[..., Any]) -> str | None:
    """The rule a view declared, looking through class-based view wrappers."""
    rule = getattr(view, ACCESS_ATTR, None)
    if rule is None and hasattr(view, "view_class"):
        rule = getattr(view.view_class, ACCESS_ATTR, None)
    return rule


def public(view: F) -> F:
    """Anyone, signed in or not."""
    return mark(view, "public")


def authenticated(view: F) -> F:
    """Any signed-in user; anonymous users are sent to the login page."""
    return mark(login_required(view), "authenticated")


def client_address(request: Any) -> str:
    """The caller's address for rate limits: ``REMOTE_ADDR``, or, behind
    ``settings.YIWANG_TRUSTED_PROXIES`` reverse proxies, the address the outermost of them saw
    (that many entries from the right of ``X-Forwarded-For``; a client can write the rest)."""
    proxies = int(getattr(settings, "YIWANG_TRUSTED_PROXIES", 0) or 0)
    remote = str(request.META.get("REMOTE_ADDR", ""))
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in str(forwarded).split(",") if hop.strip()]
    return hops[-min(proxies, len(hops))] if hops else remote
