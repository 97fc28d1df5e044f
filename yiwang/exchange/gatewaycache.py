"""The gateway's cache of published resources and grants, keyed by a version.

Every call reads the resource and the consumer's grants for it; both change rarely (a data
officer's decision). They are cached under a version key that any change replaces: a save or
delete of a ``DataResource`` or ``Grant`` through the ORM (every service that changes one does
so inside its transaction) replaces the version at once and again in ``on_commit``, so that a
worker which re-read the old rows between the two cannot keep them. A missing version (evicted,
or a fresh cache) is a new random one, never an old one, so nothing stale can come back. A
cached grant is still checked against the time of the call (expiry, ``valid_from``).

Where the version lives: in the cache when it is shared (Redis, the city topology); with the
local-memory cache (the embedded topology) in a small file of ``DATA_DIR``, which every process
of the installation reads (a second ``yiwang serve`` worker, a management command), so that a
change made by one process is seen by all of them on their next call.

Bulk ``update()`` sends no signal: code that changes these rows that way must call
``exchange_cache_bump()`` itself.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

VERSION_KEY = "exchange:cfg:version"
VERSION_FILE = "exchange-cache-version"
ENTRY_TIMEOUT_S = 300
_MISSING = "missing"  # a cached "no such resource"


def _version_file() -> Path | None:
    """The file holding the version, or None when the cache itself is shared."""
    if isinstance(caches["default"], LocMemCache):
        return Path(settings.DATA_DIR) / VERSION_FILE
    return None


def _version_set() -> str:
    version = uuid.uuid4().hex
    path = _version_file()
    if path is None:
        cache.set(VERSION_KEY, version, timeout=None)
    else:
        staged = path.with_name(f"{path.name}.{version}")
        staged.write_text(version)
        os.replace(staged, path)  # atomic: a reader sees the old version or the new one
    return version


def exchange_cache_bump(*_args: Any, **_kwargs: Any) -> None:
    """Forget every cached resource and grant, now and when the transaction commits."""
    _version_set()
    transaction.on_commit(_version_set)


def _version() -> str:
    path = _version_file()
    if path is not None:
        try:
            return path.read_text()
        except FileNotFoundError:
            return _version_set()
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(VERSION_KEY) or uuid.uuid4().hex
    return str(version)


def cached_resource_and_grants(
    code: str,
    consumer_pk: int,
    load_resource: Any,
    load_grants: Any,
) -> tuple[Any, list[Any] | None]:
    """(resource or None, the consumer's grants on it or None when not needed). The loaders
    are called on a miss: ``load_resource()`` → resource or None, ``load_grants(resource)`` →
    list of grants (oldest decision last)."""
    version = _version()
    resource_key = f"exchange:cfg:{version}:res:{code}"
    grants_key = f"exchange:cfg:{version}:grants:{code}:{consumer_pk}"
    found = cache.get_many([resource_key, grants_key])
    resource = found.get(resource_key)
    if resource is None:
        resource = load_resource()
        cache.set(resource_key, resource if resource is not None else _MISSING, ENTRY_TIMEOUT_S)
    elif resource == _MISSING:
        return None, None
    if resource is None:
        return None, None
    grants = found.get(grants_key)
    if grants is None:
        grants = load_grants(resource)
        cache.set(grants_key, grants, ENTRY_TIMEOUT_S)
    return resource, list(grants)


def connect() -> None:
    from yiwang.exchange.models import DataResource, Grant

    for model in (DataResource, Grant):
        uid = f"yiwang.exchange.gatewaycache:{model._meta.label}"
        post_save.connect(exchange_cache_bump, sender=model, weak=False, dispatch_uid=uid + ":s")
        post_delete.connect(exchange_cache_bump, sender=model, weak=False, dispatch_uid=uid + ":d")
