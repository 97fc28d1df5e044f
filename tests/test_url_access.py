"""Every route declares who may call it (GOV.UK Notify's test_route_authentication, for Django).

Page views carry a rule from yiwang.core.access or an app's access module; the admin guards
itself; API operations are checked by yiwang/api/tests/test_api_access.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from yiwang.core.access import access_rule

# Prefixes whose views enforce access themselves (and are tested there).
SELF_GUARDED = ("admin/", "api/")


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.callback


def test_every_page_route_declares_an_access_rule():
    missing = [
        route
        for route, view in _walk(get_resolver().url_patterns)
        if not route.startswith(SELF_GUARDED) and access_rule(view) is None
    ]
    assert missing == []


def test_the_walk_sees_the_routes_it_checks():
    routes = {route for route, _ in _walk(get_resolver().url_patterns)}
    assert "" in routes
    assert "accounts/login/" in routes
    assert "evaluation/<uuid:public_id>/" in routes
