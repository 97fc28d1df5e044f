"""The log asks real witnesses (this codebase's ``witness`` app, served by a live server) to
cosign: cosignatures are stored, the next checkpoint is proved consistent from the size each
witness last cosigned, a down witness does not block the checkpoint, a forked checkpoint is
refused, and a bundle meets the published quorum offline."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction

from yiwang.ledger import merkle, selectors, services
from yiwang.ledger.bundle import bundle_verify
from yiwang.ledger.checkpoint import Checkpoint as Body
from yiwang.ledger.checkpoint import checkpoint_format
from yiwang.ledger.models import Checkpoint, Cosignature, Entry, LogWitness
from yiwang.ledger.note import note_sign

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _patient(monkeypatch: pytest.MonkeyPatch) -> None:
    # The live server shares a busy CI machine; the production timeout is for real networks.
    monkeypatch.setattr(services, "WITNESS_TIMEOUT_SECONDS", 60.0)


def _append(n: int) -> list[Entry]:
    with transaction.atomic():
        return [
            services.entry_append(kind="certificate.issue", subject=f"C{i}", payload={"i": i})
            for i in range(n)
        ]


def _witness(live_server: Any, name: str) -> LogWitness:
    out = StringIO()
    call_command("witness", "init", "--name", name, stdout=out)
    vkey = next(w for w in out.getvalue().split() if w.startswith(name + "+"))
    log_vkey = selectors.log_policy_text().split()[1]
    call_command(
        "witness",
        "trust-log",
        "--origin",
        selectors.ledger_origin(),
        "--vkey",
        log_vkey,
        stdout=StringIO(),
    )
    return services.witness_add(
        name=name, url=live_server.url + "/witness/add-checkpoint", vkey=vkey
    )


def test_cosigned_checkpoints_and_an_offline_bundle(live_server: Any) -> None:
    entries = _append(30)
    services.ledger_integrate_all()
    services.witness_add(
        name="down", url="http://127.0.0.1:9/add-checkpoint", vkey=_vkey_of_nobody()
    )
    witness = _witness(live_server, "w1")
    first = services.checkpoint_publish()
    assert list(first.cosignatures.values_list("witness", flat=True)) == ["w1"]
    witness.refresh_from_db()
    assert witness.last_size == 30

    _append(5)
    services.ledger_integrate_all()
    second = services.checkpoint_publish()  # consistency 30 -> 35, checked by the witness
    assert list(second.cosignatures.values_list("witness", flat=True)) == ["w1"]

    LogWitness.objects.filter(name="down").update(active=False)  # the policy lists live ones
    bundle = selectors.entry_bundle(entries[3])
    assert bundle is not None
    result = bundle_verify(bundle, selectors.log_policy_text())
    assert (result.ok, result.reason, result.cosigners, result.quorum_met) == (
        True,
        "ok",
        ("w1",),
        True,
    )
    # w1 goes down: the next checkpoint has no cosignature, so bundles keep the cosigned one.
    LogWitness.objects.filter(name="w1").update(url="http://127.0.0.1:9/add-checkpoint")
    _append(1)
    services.ledger_integrate_all()
    assert services.checkpoint_publish().cosignatures.count() == 0
    later = bundle_verify(selectors.entry_bundle(entries[3]) or "", selectors.log_policy_text())
    assert (later.ok, later.size) == (True, 35)


def test_a_fork_shown_to_a_witness_is_refused(live_server: Any) -> None:
    _append(8)
    services.ledger_integrate_all()
    witness = _witness(live_server, "w2")
    honest = services.checkpoint_publish()
    assert Cosignature.objects.filter(checkpoint=honest).count() == 1
    # The operator signs a different tree of the same size and shows it to the witness.
    fork_root = merkle.node_hash(b"other", b"history")
    text = checkpoint_format(Body(selectors.ledger_origin(), 8, fork_root))
    forged = Checkpoint.objects.create(
        size=8, root=fork_root, note=note_sign(text, services._log_signers())
    )
    assert services._ask_witness(witness, forged) is None
    assert selectors.ledger_audit().forked_checkpoints == [forged.id]


def _vkey_of_nobody() -> str:
    from yiwang.core.signing import Ed25519Signer
    from yiwang.ledger.note import TYPE_COSIGNATURE, vkey_format

    return vkey_format("down", TYPE_COSIGNATURE, Ed25519Signer.generate().public_key())
