"""Adapters: how the gateway reaches a resource's data in its owner's store.

The data stays with its owner (X-Road): the platform reads it at call time from the owner's
database view (``sql``) or HTTP service (``http``); only a file drop (``file``: CSV or Excel
delivered on a schedule) is copied in, as encrypted ``SnapshotRow``s looked up by a blind index.

``Adapter.lookup(key)`` returns every column the owner has for the subject key; the gateway
selects and masks. No record is an empty list, which is a real answer. Every failure of the
owner's side (refused connection, timeout, missing file, bad JSON, missing table) raises
``SourceUnavailable``: a consumer must never mistake a fault for "no record".
"""

from __future__ import annotations

import csv
import functools
import json
import os
import sqlite3
import stat
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import openpyxl
import psycopg
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.core.crypto import blind_index
from yiwang.core.errors import DomainError
from yiwang.exchange.models import AdapterKind, DataResource, SnapshotRow

SNAPSHOT_PURPOSE = "exchange.snapshot"
SQL_TIMEOUT_S = 2
MMAP_BYTES = 256 * 1024 * 1024
SNAPSHOT_BATCH = 2000


class SourceUnavailable(DomainError):
    """The owner's system did not answer (503): retry later; never read as "no record"."""

    status = 503
    code = "exchange.source_unavailable"

    def __init__(self, resource: DataResource | None = None, detail: str = "") -> None:
        owner = str(resource.owner) if resource is not None else ""
        message = _("提供部门（%(owner)s）的数据源暂时没有响应，请稍后重试。") % {"owner": owner}
        super().__init__(self.code, message, cause=detail[:200])


class Adapter(Protocol):
    def lookup(self, key: str) -> list[dict[str, Any]]: ...


def _json_value(value: Any) -> Any:
    """A column value as JSON gives it back (dates as ISO strings, decimals as strings)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def _identifier(value: Any, resource: DataResource, what: str) -> str:
    if not isinstance(value, str) or not value.isidentifier() or not value.isascii():
        raise SourceUnavailable(resource, f"adapter config: bad {what} {value!r}")
    return value


class _KeptConnections(threading.local):
    """Connections to the owners' stores, one per thread and store: opening one per call cost
    more than the lookup (for PostgreSQL a server process and a login per call). A kept
    connection that fails is closed and dropped; the next call opens a new one."""

    def __init__(self) -> None:
        self.sqlite: dict[str, tuple[tuple[int, int], sqlite3.Connection]] = {}
        self.postgres: dict[str, psycopg.Connection[Any]] = {}


_kept = _KeptConnections()


class SqlAdapter:
    """A parameterised, read-only SELECT on the owner's own database or view."""

    def __init__(self, resource: DataResource) -> None:
        config = resource.adapter_config
        self.resource = resource
        self.url = str(config.get("url", ""))
        self.table = _identifier(config.get("table"), resource, "table")
        self.key = _identifier(config.get("key"), resource, "key")
        if _is_platform_database(self.url):
            raise SourceUnavailable(resource, "adapter config points at the platform database")

    def lookup(self, key: str) -> list[dict[str, Any]]:
        sql = f'SELECT * FROM "{self.table}" WHERE "{self.key}" = '  # noqa: S608 - identifiers checked
        try:
            if self.url.startswith("sqlite:///"):
                return self._sqlite(sql + "?", key)
            if self.url.startswith(("postgres://", "postgresql://")):
                return self._postgres(sql + "%s", key)
        except (sqlite3.Error, psycopg.Error, OSError) as exc:
            raise SourceUnavailable(self.resource, f"{type(exc).__name__}: {exc}") from exc
        raise SourceUnavailable(self.resource, f"unsupported database url {self.url[:30]!r}")

    def _sqlite(self, sql: str, key: str) -> list[dict[str, Any]]:
        path = self.url.removeprefix("sqlite:///")
        path = "/" + path.lstrip("/")
        try:
            found = os.stat(path)
        except OSError:
            found = None
        if found is None or not stat.S_ISREG(found.st_mode):
            # sqlite3 would create an empty database and answer "no such table" at best.
            raise SourceUnavailable(self.resource, f"no database file at {path}")
        # A store replaced by a new file (a rename) is a new file: reopen it.
        identity = (found.st_dev, found.st_ino)
        kept = _kept.sqlite.get(path)
        if kept is not None and kept[0] != identity:
            kept[1].close()
            kept = None
        if kept is None:
            uri = "file:" + urllib.parse.quote(path) + "?mode=ro"
            opened = sqlite3.connect(uri, uri=True, timeout=SQL_TIMEOUT_S)
            # Pages read through a memory map, not one read() call each (a store of millions
            # of people is read at random): the store is only read here.
            opened.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
            kept = (identity, opened)
            _kept.sqlite[path] = kept
        conn = kept[1]
        try:
            cursor = conn.execute(sql, (key,))
            names = [c[0] for c in cursor.description]
            return [{n: _json_value(v) for n, v in zip(names, row, strict=True)} for row in cursor]
        except sqlite3.Error:
            _kept.sqlite.pop(path, None)
            conn.close()
            raise

    def _postgres(self, sql: str, key: str) -> list[dict[str, Any]]:
        reused = self.url in _kept.postgres
        try:
            return self._postgres_select(sql, key)
        except psycopg.OperationalError as exc:
            if not reused or isinstance(exc, psycopg.errors.QueryCanceled):
                raise
            # The kept connection died (the owner's server restarted): one fresh attempt.
            return self._postgres_select(sql, key)

    def _postgres_select(self, sql: str, key: str) -> list[dict[str, Any]]:
        conn = _kept.postgres.get(self.url)
        if conn is None or conn.closed:
            conn = psycopg.connect(self.url, connect_timeout=SQL_TIMEOUT_S, autocommit=True)
            try:
                conn.execute("SET default_transaction_read_only = on")
                conn.execute(f"SET statement_timeout = {SQL_TIMEOUT_S * 1000}")
            except psycopg.Error:
                conn.close()
                raise
            _kept.postgres[self.url] = conn
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql.encode(), (key,))
                names = [c.name for c in cursor.description or []]
                return [
                    {n: _json_value(v) for n, v in zip(names, row, strict=True)}
                    for row in cursor.fetchall()
                ]
        except psycopg.Error:
            _kept.postgres.pop(self.url, None)
            conn.close()
            raise


def _is_platform_database(url: str) -> bool:
    """An adapter must read the owner's store, never the platform's own tables."""
    default = settings.DATABASES["default"]
    return _points_at(
        url,
        str(default.get("NAME", "")),
        str(default.get("HOST", "")),
        str(default.get("ENGINE", "")),
    )


@functools.lru_cache(maxsize=256)
def _points_at(url: str, name: str, host: str, engine: str) -> bool:
    """Whether ``url`` names the database ``name`` on ``host`` (a pure function of its
    arguments, remembered: the gateway asks on every call)."""
    if url.startswith("sqlite:///"):
        return bool(name) and Path("/" + url.removeprefix("sqlite:///").lstrip("/")) == Path(name)
    parsed = urllib.parse.urlparse(url)
    return (
        parsed.scheme.startswith("postgres")
        and parsed.path.lstrip("/") == name
        and (parsed.hostname or "") == host
        and "sqlite" not in engine
    )


class HttpAdapter:
    """GET ``url?key=…`` on the owner's service, which answers a JSON list of records."""

    def __init__(self, resource: DataResource) -> None:
        self.resource = resource
        self.url = str(resource.adapter_config.get("url", ""))
        self.timeout = float(resource.adapter_config.get("timeout_s", 2))
        if not self.url.startswith(("http://", "https://")):
            raise SourceUnavailable(resource, "adapter config: url must be http(s)")

    def lookup(self, key: str) -> list[dict[str, Any]]:
        separator = "&" if "?" in self.url else "?"
        url = self.url + separator + urllib.parse.urlencode({"key": key})
        request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body = response.read()
            data = json.loads(body)
        except (OSError, ValueError) as exc:  # URLError, HTTPError, timeout are OSErrors
            raise SourceUnavailable(self.resource, f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise SourceUnavailable(self.resource, "the service did not answer a list of records")
        return [{str(k): _json_value(v) for k, v in r.items()} for r in data]


class FileAdapter:
    """The last file drop, loaded into ``SnapshotRow`` by ``file_refresh``."""

    def __init__(self, resource: DataResource) -> None:
        self.resource = resource

    def lookup(self, key: str) -> list[dict[str, Any]]:
        if self.resource.refreshed_at is None:
            raise SourceUnavailable(self.resource, "the file drop was never loaded")
        index = blind_index(key, purpose=SNAPSHOT_PURPOSE)
        rows = SnapshotRow.objects.filter(resource=self.resource, key_index=index).order_by("id")
        return [json.loads(row.data) for row in rows]


def _read_drop(resource: DataResource) -> list[dict[str, Any]]:
    path = Path(str(resource.adapter_config.get("path", "")))
    try:
        if path.suffix.lower() == ".csv":
            with path.open(encoding="utf-8-sig", newline="") as handle:
                return [dict(row) for row in csv.DictReader(handle)]
        if path.suffix.lower() == ".xlsx":
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
            try:
                rows = book.worksheets[0].iter_rows(values_only=True)
                header = [str(h) if h is not None else "" for h in next(rows, ())]
                return [
                    {h: _json_value(v) for h, v in zip(header, row, strict=False) if h}
                    for row in rows
                    if any(v is not None for v in row)
                ]
            finally:
                book.close()
    except (OSError, ValueError, KeyError, csv.Error) as exc:
        raise SourceUnavailable(resource, f"{type(exc).__name__}: {exc}") from exc
    raise SourceUnavailable(resource, f"unsupported file type {path.suffix!r}")


def file_refresh(resource: DataResource) -> int:
    """Replace the resource's snapshot with its owner's latest drop; returns the row count.
    The old snapshot stays in place if the drop cannot be read."""
    if resource.adapter_kind != AdapterKind.FILE:
        raise ValueError(f"{resource.code} is not a file-drop resource")
    key_column = str(resource.adapter_config.get("key", ""))
    records = _read_drop(resource)
    if records and key_column not in records[0]:
        raise SourceUnavailable(resource, f"the drop has no key column {key_column!r}")
    now = timezone.now()
    with transaction.atomic():
        SnapshotRow.objects.filter(resource=resource).delete()
        batch: list[SnapshotRow] = []
        for record in records:
            key = str(record.get(key_column) or "").strip()
            if not key:
                continue
            values = {k: ("" if v is None else v) for k, v in record.items()}
            batch.append(
                SnapshotRow(
                    resource=resource,
                    key_index=blind_index(key, purpose=SNAPSHOT_PURPOSE),
                    data=json.dumps(values, ensure_ascii=False),
                    loaded_at=now,
                )
            )
            if len(batch) >= SNAPSHOT_BATCH:
                SnapshotRow.objects.bulk_create(batch)
                batch = []
        SnapshotRow.objects.bulk_create(batch)
        resource.refreshed_at = now
        resource.save(update_fields=["refreshed_at", "updated_at"])
    return SnapshotRow.objects.filter(resource=resource).count()


def adapter_for(resource: DataResource) -> Adapter:
    if resource.adapter_kind == AdapterKind.SQL:
        return SqlAdapter(resource)
    if resource.adapter_kind == AdapterKind.HTTP:
        return HttpAdapter(resource)
    if resource.adapter_kind == AdapterKind.FILE:
        return FileAdapter(resource)
    raise SourceUnavailable(resource, f"unknown adapter kind {resource.adapter_kind!r}")
