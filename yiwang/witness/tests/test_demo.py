"""``yiwang witness demo``: three real witness processes for this platform's log, a checkpoint
they all cosign, and the policy a verifier uses; a bundle still meets the 2-of-3 quorum with
one witness stopped."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from django.db import transaction

from yiwang.ledger import selectors as ledger
from yiwang.ledger import services as ledger_services
from yiwang.ledger.bundle import bundle_verify
from yiwang.ledger.models import Entry
from yiwang.witness.demo import witnesses_demo_start, witnesses_demo_stop

pytestmark = pytest.mark.django_db(transaction=True)


def _three_free_ports() -> int:
    for first in range(23101, 24000, 3):
        try:
            for port in range(first, first + 3):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return first
    raise AssertionError("no three consecutive free ports")


def test_three_witnesses_cosign_and_two_still_make_the_quorum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The children start as an operator's shell would: without the test run's settings.
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("YIWANG_DATA_DIR", str(tmp_path / "operator"))
    monkeypatch.setattr(ledger_services, "WITNESS_TIMEOUT_SECONDS", 60.0)  # a busy CI machine
    with transaction.atomic():
        first = ledger_services.entry_append(kind="audit.anchor", subject="a", payload={})

    witnesses, checkpoint, policy = witnesses_demo_start(
        tmp_path / "witnesses", first_port=_three_free_ports(), say=lambda _line: None
    )
    try:
        assert sorted(checkpoint.cosignatures.values_list("witness", flat=True)) == [
            "caizheng",
            "gongan",
            "shichang",
        ]
        assert "group witnesses 2 caizheng gongan shichang" in policy.read_text()
        full = bundle_verify(
            ledger.entry_bundle(Entry.objects.get(pk=first.pk)) or "", policy.read_text()
        )
        assert (full.ok, sorted(full.cosigners)) == (True, ["caizheng", "gongan", "shichang"])

        witnesses_demo_stop(witnesses[2:])  # 市场监管 goes down
        with transaction.atomic():
            second = ledger_services.entry_append(kind="audit.anchor", subject="b", payload={})
        ledger_services.ledger_integrate_all()
        later = ledger_services.checkpoint_publish()
        assert sorted(later.cosignatures.values_list("witness", flat=True)) == [
            "caizheng",
            "gongan",
        ]
        bundle = ledger.entry_bundle(Entry.objects.get(pk=second.pk)) or ""
        result = bundle_verify(bundle, policy.read_text())
        assert (result.ok, result.quorum_met, result.size) == (True, True, 2)

        witnesses_demo_stop(witnesses[1:2])  # and 公安: one cosignature is not a quorum
        with transaction.atomic():
            third = ledger_services.entry_append(kind="audit.anchor", subject="c", payload={})
        ledger_services.ledger_integrate_all()
        ledger_services.checkpoint_publish()
        lonely = bundle_verify(
            ledger.entry_bundle(Entry.objects.get(pk=third.pk)) or "", policy.read_text()
        )
        assert (lonely.ok, lonely.reason) == (False, "quorum_not_met")
    finally:
        witnesses_demo_stop(witnesses)
    assert all(w.process is not None and w.process.poll() is not None for w in witnesses)
