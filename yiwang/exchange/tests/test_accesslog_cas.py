"""The access log's compare-and-set append: two statements when this process wrote the head
last, the locked append otherwise, and the chain exactly as before either way."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yiwang.exchange import accesslog
from yiwang.exchange.accesslog import log_append, log_verify
from yiwang.exchange.models import AccessLogEntry, AccessLogHead

pytestmark = pytest.mark.django_db


def row(n: int) -> dict[str, Any]:
    return {
        "created_at": timezone.now(),
        "consumer_id": 1,
        "consumer_label": "测试自然资源局",
        "owner_id": 2,
        "owner_label": "测试公安局",
        "resource_code": "LA-DR-GA-001",
        "fields": ["name"],
        "outcome": "answered",
        "result_size": n,
    }


def test_the_second_append_is_an_update_and_an_insert() -> None:
    assert log_append(row(1)) == 1
    with CaptureQueriesContext(connection) as second:
        assert log_append(row(2)) == 2
    statements = [q["sql"].split()[0].upper() for q in second.captured_queries]
    assert [s for s in statements if s in {"SELECT", "UPDATE", "INSERT"}] == ["UPDATE", "INSERT"]
    assert log_verify().ok
    assert log_verify().rows == 2


def test_a_head_moved_elsewhere_takes_the_locked_append_and_keeps_the_chain() -> None:
    log_append(row(1))
    log_append(row(2))
    # Another process appended: the head is not the one this process remembers.
    accesslog._head_seen = (1, "0" * 64)
    assert log_append(row(3)) == 3
    accesslog._head_seen = None
    assert log_append(row(4)) == 4
    assert log_verify().ok
    assert list(AccessLogEntry.objects.order_by("seq").values_list("seq", "result_size")) == [
        (1, 1),
        (2, 2),
        (3, 3),
        (4, 4),
    ]
    head = AccessLogHead.objects.get(id=1)
    assert (head.seq, head.last_hash) == (4, AccessLogEntry.objects.get(seq=4).entry_hash)
