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

Each process also keeps its own copy of the entries it used (``_here``), under the same keys:
a warm call then unpickles nothing. The version is still read on every request, so a bump is
seen on the next call as before, and a copy ends when the shared entry would (its load time,
stored with it, plus the timeout), so the bound above is unchanged.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

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
    _here.clear()
    memo_forget()  # a request that changed a row and then calls the gateway sees the change
    transaction.on_commit(_version_set)


def _version() -> str:
    """The current version, read once per request (a bump in the request forgets it)."""
    return request_memo(_VERSION_MEMO, _version_read)


cache_version = _version


# The version file as this process read it last: (inode, mtime in ns, size, monotonic time of
# the read, version). A bump replaces the file (a new inode, a new mtime), so a call that finds
# the same stat takes the version it read then: one stat() instead of open, read and close. An
# inode reused by a second bump within the file system's timestamp granularity would look the
# same, so the file is read again at least every VERSION_REREAD_S whatever its stat says.
_file_seen: tuple[int, int, int, float, str] | None = None
VERSION_REREAD_S = 1.0


def _version_file_read() -> str:
    global _file_seen
    path = os.path.join(settings.DATA_DIR, VERSION_FILE)
    try:
        found = os.stat(path)
        seen, now = _file_seen, time.monotonic()
        stamp = (found.st_ino, found.st_mtime_ns, found.st_size)
        if seen is not None and seen[:3] == stamp and now - seen[3] < VERSION_REREAD_S:
            return seen[4]
        with open(path, encoding="utf-8") as handle:
            version = handle.read()
    except FileNotFoundError:
        return _version_set()
    _file_seen = (*stamp, now, version)
    return version


def _version_read() -> str:
    if isinstance(caches["default"], LocMemCache):
        return _version_file_read()
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(VERSION_KEY) or uuid.uuid4().hex
    return str(version)


# This process's copies of the entries: a read from the shared cache unpickles a fresh copy
# (tens of microseconds per object, three objects a call). Keyed like the shared entries (the
# version is in the key, so a bump makes them unreachable) and kept no longer than the shared
# entry would be: until the time it was loaded from the database plus its timeout, so the
# bound for a change that bypasses the signals stays the same. The values are shared by every
# call of the process: callers read them and never change them.
_here: dict[str, tuple[float, Any]] = {}
HERE_MAX = 10_000


def _here_get(key: str, now: float) -> Any:
    found = _here.get(key)
    if found is None or found[0] <= now:
        return None
    return found[1]


def _here_put(key: str, stamped: tuple[float, Any], timeout: float) -> Any:
    """Keep ``stamped`` ((loaded_at, value), as stored in the shared cache); return value."""
    if len(_here) >= HERE_MAX:  # entries of old versions
        _here.clear()
    _here[key] = (stamped[0] + timeout, stamped[1])
    return stamped[1]


def _stamped(found: Any, now: float, timeout: float) -> tuple[float, Any] | None:
    """A shared entry (loaded_at, value) still within its timeout, else None (a miss)."""
    if (
        isinstance(found, tuple)
        and len(found) == 2
        and isinstance(found[0], float)
        and found[0] + timeout > now
    ):
        return found
    return None


def here_forget() -> None:
    """Forget this process's copies (a bump makes them unreachable anyway; tests call this
    where they empty the shared cache)."""
    _here.clear()


def cached_resource_and_grants(
    code: str,
    consumer_pk: int,
    load_resource: Any,
    load_grants: Any,
) -> tuple[Any, list[Any] | None]:
    """(resource or None, the consumer's grants on it or None when not needed). The loaders
    are called on a miss: ``load_resource()`` → resource or None, ``load_grants(resource)`` →
    list of grants (oldest decision last). The resource and grants are this process's
    shared copies: read them, never change them."""
    version = _version()
    resource_key = f"exchange:gw:{version}:res:{code}"
    grants_key = f"exchange:gw:{version}:grants:{code}:{consumer_pk}"
    now = time.time()
    resource = _here_get(resource_key, now)
    grants = _here_get(grants_key, now) if resource is not None else None
    if resource is None or (grants is None and resource != _MISSING):
        found = cache.get_many([resource_key, grants_key])
        if resource is None:
            stamped = _stamped(found.get(resource_key), now, ENTRY_TIMEOUT_S)
            if stamped is None:
                loaded = load_resource()
                stamped = (now, loaded if loaded is not None else _MISSING)
                cache.set(resource_key, stamped, ENTRY_TIMEOUT_S)
            resource = _here_put(resource_key, stamped, ENTRY_TIMEOUT_S)
        if resource != _MISSING:
            stamped = _stamped(found.get(grants_key), now, ENTRY_TIMEOUT_S)
            if stamped is None:
                stamped = (now, load_grants(resource))
                cache.set(grants_key, stamped, ENTRY_TIMEOUT_S)
            grants = _here_put(grants_key, stamped, ENTRY_TIMEOUT_S)
    if resource == _MISSING:
        return None, None
    return resource, list(grants or ())


def cached_caller(name: str, load: Callable[[], T | None]) -> T | None:
    """``load()``, remembered under the version for CALLER_TIMEOUT_S; None (an unknown token
    or department) is not remembered, so that nothing negative outlives its creation. The
    value is this process's shared copy: read it, never change it."""
    key = f"exchange:gw:{_version()}:caller:{name}"
    now = time.time()
    value: T | None = _here_get(key, now)
    if value is not None:
        return value
    stamped = _stamped(cache.get(key), now, CALLER_TIMEOUT_S)
    if stamped is None:
        value = load()
        if value is None:
            return None
        stamped = (now, value)
        cache.set(key, stamped, CALLER_TIMEOUT_S)
    return cast(T, _here_put(key, stamped, CALLER_TIMEOUT_S))


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
