"""Adapters against real owner stores: a SQLite file, CSV and Excel drops, an HTTP service."""

from __future__ import annotations

import contextlib
import csv
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import openpyxl
import pytest

from yiwang.accounts.tests.factories import DepartmentFactory
from yiwang.exchange.adapters import SourceUnavailable, adapter_for, file_refresh
from yiwang.exchange.models import AdapterKind, SnapshotRow
from yiwang.exchange.tests.factories import make_resource, owner_sqlite, person_rows

pytestmark = pytest.mark.django_db


class OwnerService(BaseHTTPRequestHandler):
    rows: list[dict[str, Any]] = []

    def do_GET(self) -> None:
        query = parse_qs(urlparse(self.path).query)
        key = query.get("key", [""])[0]
        if key == "broken":
            body = b"<html>oops</html>"
        else:
            body = json.dumps([r for r in self.rows if r["id_number"] == key]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def owner_service() -> Iterator[str]:
    OwnerService.rows = person_rows(3)
    server = ThreadingHTTPServer(("127.0.0.1", 0), OwnerService)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/lookup"
    server.shutdown()
    server.server_close()


def test_sql_adapter_reads_the_owners_sqlite_view(tmp_path: Path) -> None:
    rows = person_rows(3)
    config = owner_sqlite(tmp_path / "gaj.sqlite3", rows)
    resource = make_resource(DepartmentFactory(), adapter_config=config)
    assert adapter_for(resource).lookup(rows[1]["id_number"]) == [rows[1]]
    assert adapter_for(resource).lookup("341502199001010000") == []


def test_sql_adapter_is_parameterised_not_injectable(tmp_path: Path) -> None:
    rows = person_rows(2)
    resource = make_resource(
        DepartmentFactory(), adapter_config=owner_sqlite(tmp_path / "o.sqlite3", rows)
    )
    assert adapter_for(resource).lookup("x' OR '1'='1") == []


def test_sql_adapter_missing_file_table_or_bad_config_is_unavailable(tmp_path: Path) -> None:
    owner = DepartmentFactory()
    missing = make_resource(
        owner,
        code="R1",
        adapter_config={"url": f"sqlite:///{tmp_path}/none.sqlite3", "table": "t", "key": "k"},
    )
    with pytest.raises(SourceUnavailable) as caught:
        adapter_for(missing).lookup("a")
    assert caught.value.status == 503
    assert caught.value.code == "exchange.source_unavailable"
    assert "数据源暂时没有响应" in str(caught.value.message)
    assert not (tmp_path / "none.sqlite3").exists()  # never created by the lookup
    config = owner_sqlite(tmp_path / "o.sqlite3", person_rows(1))
    no_table = make_resource(owner, code="R2", adapter_config={**config, "table": "other"})
    with pytest.raises(SourceUnavailable):
        adapter_for(no_table).lookup("a")
    bad = make_resource(owner, code="R3", adapter_config={**config, "table": "people; DROP"})
    with pytest.raises(SourceUnavailable):
        adapter_for(bad).lookup("a")


def test_file_adapter_loads_a_csv_drop_and_finds_by_blind_index(tmp_path: Path) -> None:
    rows = person_rows(3)
    path = tmp_path / "drop.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    resource = make_resource(
        DepartmentFactory(),
        adapter_kind=AdapterKind.FILE,
        adapter_config={"path": str(path), "key": "id_number"},
    )
    with pytest.raises(SourceUnavailable):  # never delivered yet: not "no record"
        adapter_for(resource).lookup(rows[0]["id_number"])
    assert file_refresh(resource) == 3
    assert adapter_for(resource).lookup(rows[2]["id_number"]) == [rows[2]]
    assert adapter_for(resource).lookup("nobody") == []
    stored = SnapshotRow.objects.filter(resource=resource).values_list("key_index", flat=True)
    assert rows[0]["id_number"] not in "".join(stored)
    # a new drop replaces the old snapshot
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows[:1])
    assert file_refresh(resource) == 1
    assert adapter_for(resource).lookup(rows[2]["id_number"]) == []


def test_file_adapter_loads_an_xlsx_drop(tmp_path: Path) -> None:
    rows = person_rows(2)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(rows[0]))
    for row in rows:
        sheet.append(list(row.values()))
    path = tmp_path / "drop.xlsx"
    book.save(path)
    resource = make_resource(
        DepartmentFactory(),
        adapter_kind=AdapterKind.FILE,
        adapter_config={"path": str(path), "key": "id_number"},
    )
    assert file_refresh(resource) == 2
    assert adapter_for(resource).lookup(rows[1]["id_number"]) == [rows[1]]


def test_a_missing_drop_keeps_the_old_snapshot(tmp_path: Path) -> None:
    resource = make_resource(
        DepartmentFactory(),
        adapter_kind=AdapterKind.FILE,
        adapter_config={"path": str(tmp_path / "gone.csv"), "key": "id_number"},
    )
    with pytest.raises(SourceUnavailable):
        file_refresh(resource)
    assert SnapshotRow.objects.filter(resource=resource).count() == 0


def test_http_adapter_asks_the_owners_service(owner_service: str) -> None:
    resource = make_resource(
        DepartmentFactory(),
        adapter_kind=AdapterKind.HTTP,
        adapter_config={"url": owner_service, "timeout_s": 2},
    )
    wanted = OwnerService.rows[0]
    assert adapter_for(resource).lookup(wanted["id_number"]) == [wanted]
    assert adapter_for(resource).lookup("nobody") == []
    with pytest.raises(SourceUnavailable):  # not JSON
        adapter_for(resource).lookup("broken")


def test_http_adapter_of_a_stopped_service_is_unavailable() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), OwnerService)
    url = f"http://127.0.0.1:{server.server_address[1]}/lookup"
    server.server_close()  # nobody listens on the port any more
    resource = make_resource(
        DepartmentFactory(),
        adapter_kind=AdapterKind.HTTP,
        adapter_config={"url": url, "timeout_s": 1},
    )
    with pytest.raises(SourceUnavailable) as caught:
        adapter_for(resource).lookup("341502199001010012")
    assert (
        "ConnectionRefused" in caught.value.extra["cause"]
        or "URLError" in caught.value.extra["cause"]
    )


class SlowService(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        time.sleep(1.5)
        with contextlib.suppress(OSError):  # the client gave up long ago
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"[]")

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_http_adapter_that_times_out_is_unavailable() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowService)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        resource = make_resource(
            DepartmentFactory(),
            adapter_kind=AdapterKind.HTTP,
            adapter_config={
                "url": f"http://127.0.0.1:{server.server_address[1]}/lookup",
                "timeout_s": 0.3,
            },
        )
        with pytest.raises(SourceUnavailable) as caught:
            adapter_for(resource).lookup("k")
        assert "timed out" in caught.value.extra["cause"]
    finally:
        server.shutdown()
        server.server_close()
