"""The access log: one chained row per call, tamper evident, anchored, and durable when the
caller's transaction rolls back."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection, transaction

from yiwang.exchange.accesslog import log_anchor, log_settle, log_verify
from yiwang.exchange.errors import ExchangeRefused
from yiwang.exchange.gateway import exchange_query
from yiwang.exchange.models import AccessLogEntry, AccessLogHead, SharingClass
from yiwang.exchange.tests.factories import World, make_grant, make_world
from yiwang.ledger.models import Entry


def call(world: World, consumer_is_other: bool = False) -> None:
    exchange_query(
        consumer=world.other if consumer_is_other else world.consumer,
        actor=None,
        resource_code=world.resource.code,
        key=world.rows[0]["id_number"],
    )


def a_few_calls(tmp_path: Path) -> World:
    world = make_world(tmp_path, sharing_class=SharingClass.UNCONDITIONAL)
    make_grant(world.resource, world.consumer)
    call(world)
    with pytest.raises(ExchangeRefused):
        call(world, consumer_is_other=True)
    call(world)
    return world


@pytest.mark.django_db
def test_verify_names_the_first_altered_or_missing_row(tmp_path: Path) -> None:
    a_few_calls(tmp_path)
    report = log_verify()
    assert (report.ok, report.rows) == (True, 3)
    assert report.head_hash == AccessLogHead.objects.get().last_hash
    AccessLogEntry.objects.filter(seq=2).update(purpose="改过")
    report = log_verify()
    assert (report.ok, report.bad_seq) == (False, 2)
    assert "does not match its hash" in report.message
    AccessLogEntry.objects.filter(seq=2).delete()
    report = log_verify()
    assert (report.ok, report.bad_seq) == (False, 2)
    assert "missing" in report.detail
    AccessLogEntry.objects.filter(seq=3).delete()
    assert (log_verify().ok, log_verify().bad_seq) == (False, 2)


@pytest.mark.django_db
def test_anchor_commits_the_head_into_the_ledger(tmp_path: Path) -> None:
    a_few_calls(tmp_path)
    assert log_anchor() == 3
    entry = Entry.objects.get(kind="exchange.anchor")
    head = AccessLogHead.objects.get()
    assert entry.subject == "exchange:3"
    assert head.last_hash.encode() in bytes(entry.leaf_input)
    assert head.anchored_seq == 3


@pytest.mark.django_db(transaction=True)
def test_a_refusal_survives_the_rollback_of_the_callers_transaction(tmp_path: Path) -> None:
    world = make_world(tmp_path, sharing_class=SharingClass.UNCONDITIONAL)

    def submit() -> None:
        with transaction.atomic():
            with pytest.raises(ExchangeRefused):
                call(world)  # no grant
            raise RuntimeError("the application submission failed")

    with pytest.raises(RuntimeError):
        submit()
    if connection.vendor == "postgresql":
        # written through a second connection: there already
        assert AccessLogEntry.objects.count() == 1
        assert log_settle() == 0
    else:
        # the journal copy is appended by this thread's next call (or the anchor task)
        assert log_settle() == 1
    entry = AccessLogEntry.objects.get()
    assert (entry.outcome, entry.code, entry.consumer_id) == (
        "refused",
        "exchange.no_grant",
        world.consumer.pk,
    )
    assert log_verify().ok is True
    assert log_settle() == 0


@pytest.mark.django_db(transaction=True)
def test_a_committed_callers_transaction_keeps_exactly_one_row(tmp_path: Path) -> None:
    world = make_world(tmp_path, sharing_class=SharingClass.UNCONDITIONAL)
    make_grant(world.resource, world.consumer)
    with transaction.atomic():
        call(world)
        with pytest.raises(ExchangeRefused):
            call(world, consumer_is_other=True)
    assert log_settle() == 0
    assert list(AccessLogEntry.objects.values_list("seq", "outcome")) == [
        (1, "answered"),
        (2, "refused"),
    ]
    assert log_verify().ok is True
