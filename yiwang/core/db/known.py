"""Rows a service has just written, handed on so that nobody reads them back.

A service that creates an application with its materials and first event returns the
application; the API then answers with its detail, which lists those very rows. Reading them
back costs a query each (about a fifth of a submission's time). ``rows_known`` stores them
where ``prefetch_related`` would: ``instance.<name>.all()`` then gives them without a query,
``prefetch_related_objects`` skips the relation, and anything narrower (``.filter()``,
``.order_by()``) still asks the database, as it would after a prefetch.

The rows must be all the relation holds, in its default order: the caller has just created
them in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Model


def rows_known(instance: Model, name: str, rows: Iterable[Model]) -> None:
    """Record ``rows`` as the whole reverse foreign-key relation ``name`` of ``instance``."""
    manager: Any = getattr(instance, name)
    cache_name = manager.field.remote_field.cache_name
    cache: dict[str, Any] = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    cache.pop(cache_name, None)
    # What Django's prefetch_one_level stores: the relation's own queryset, already evaluated.
    queryset = manager.get_queryset()
    queryset._result_cache = list(rows)
    queryset._prefetch_done = True
    cache[cache_name] = queryset
