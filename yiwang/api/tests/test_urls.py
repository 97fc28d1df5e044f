"""The hot operations are resolved first, and no operation's path is taken by another."""

from __future__ import annotations

from django.urls import URLPattern, resolve

from yiwang.api import urls


def test_the_hot_operations_are_tried_first() -> None:
    first = urls._ninja_patterns[: len(urls.HOT_OPERATIONS)]
    assert sorted(p.name for p in first if isinstance(p, URLPattern) and p.name) == sorted(
        urls.HOT_OPERATIONS
    )


def test_every_literal_operation_path_resolves_to_its_own_view() -> None:
    for pattern in urls._ninja_patterns:
        if not isinstance(pattern, URLPattern) or "<" in str(pattern.pattern):
            continue
        # No earlier pattern takes the path (operations that share a path share ninja's one
        # view of it, which dispatches on the method).
        assert resolve(f"/api/{pattern.pattern}").route == f"api/{pattern.pattern}", pattern.name
