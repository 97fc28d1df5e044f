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

The same version covers who calls the gateway (``cached_caller``): a bearer token's user and
the departments a user may query for. Saving or deleting an ``ApiToken``, a ``User`` (but not
the ``last_login`` stamp of a sign-in), a ``RoleAssignment`` or a ``Department`` replaces it,
so a revoked token, a deactivated user or a withdrawn role stops working on the very next call.
These entries live ``CALLER_TIMEOUT_S`` at most: that is the bound for a change that bypasses
the ORM's signals (a bulk ``update()`` or raw SQL that does not call ``exchange_cache_bump()``).

Bulk ``update()`` sends no signal: code that changes these rows that way must call
``exchange_cache_bump()`` itself.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from yiwang.core.memo import memo_forget, request_memo

VERSION_KEY = "exchange:cfg:version"
VERSION_FILE = "exchange-cache-version"
ENTRY_TIMEOUT_S = 300
CALLER_TIMEOUT_S = 60
_VERSION_MEMO = ("exchange.cache_version",)
T = TypeVar("T")
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
        # A user may be saved before anything else made DATA_DIR (createsuperuser at install).
        path.parent.mkdir(parents=True, exist_ok=True)
        staged = path.with_name(f"{path.name}.{version}")
        staged.write_text(version)
        os.replace(staged, path)  # atomic: a reader sees the old version or the new one
    return version


def exchange_cache_bump(*_args: Any, **_kwargs: Any) -> None:
    """Forget every cached resource, grant and caller, now and when the transaction commits."""
    _version_set()
    memo_forget()  # a request that changed a row and then calls the gateway sees the change
    transaction.on_commit(_version_set)


def _version() -> str:
    """The current version, read once per request (a bump in the request forgets it)."""
    return request_memo(_VERSION_MEMO, _version_read)


cache_version = _version


def _version_read() -> str:
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


def cached_caller(name: str, load: Callable[[], T | None]) -> T | None:
    """``load()``, remembered under the version for CALLER_TIMEOUT_S; None (an unknown token
    or department) is not remembered, so that nothing negative outlives its creation."""
    key = f"exchange:cfg:{_version()}:caller:{name}"
    value: T | None = cache.get(key)
    if value is None:
        value = load()
        if value is not None:
            cache.set(key, value, CALLER_TIMEOUT_S)
    return value


def _user_saved(*args: Any, update_fields: Any = None, **kwargs: Any) -> None:
    # A sign-in stamps last_login on every login: that changes nothing the gateway relies on.
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    exchange_cache_bump()


def connect() -> None:
    from yiwang.accounts.models import ApiToken, Department, RoleAssignment, User
    from yiwang.exchange.models import DataResource, Grant

    for model in (DataResource, Grant, ApiToken, RoleAssignment, Department, User):
        uid = f"yiwang.exchange.gatewaycache:{model._meta.label}"
        saved = _user_saved if model is User else exchange_cache_bump
        post_save.connect(saved, sender=model, weak=False, dispatch_uid=uid + ":s")
        post_delete.connect(exchange_cache_bump, sender=model, weak=False, dispatch_uid=uid + ":d")
