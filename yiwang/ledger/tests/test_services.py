"""The database-backed log: integration in batches, proofs from tiles equal the in-memory
reference, concurrent integrators never interleave, anchors and checkpoints."""

from __future__ import annotations

import random
import threading

import pytest
import rfc8785
from django.db import connection, transaction

from yiwang.ledger import merkle, selectors, services
from yiwang.ledger.models import Entry, LogState, Tile

pytestmark = pytest.mark.django_db


def _append(n: int, start: int = 0) -> None:
    with transaction.atomic():
        for i in range(start, start + n):
            services.entry_append(
                kind="certificate.issue", subject=f"C{i}", payload={"n": i, "名称": "营业执照"}
            )


def _leaves() -> list[bytes]:
    return [bytes(h) for h in Entry.objects.order_by("index").values_list("leaf_hash", flat=True)]


def test_entry_append_is_pending_canonical_json() -> None:
    entry = services.entry_append(kind="certificate.revoke", subject="X1", payload={"b": 1, "a": 2})
    assert entry.index is None
    data = bytes(entry.leaf_input)
    assert data.startswith(b'{"at":"')
    parsed = __import__("json").loads(data)
    assert rfc8785.dumps(parsed) == data
    assert parsed["kind"] == "certificate.revoke"
    assert parsed["payload"] == {"a": 2, "b": 1}
    assert bytes(entry.leaf_hash) == merkle.leaf_hash(data)
    with pytest.raises(ValueError, match="unknown ledger entry kind"):
        services.entry_append(kind="nope", subject="X", payload={})


def test_integrate_in_batches_matches_reference_root_and_proofs() -> None:
    rng = random.Random(7)
    total = 0
    for chunk in (1, 2, 5, 250, 7, 300, 1, 700):
        _append(chunk, total)
        total += chunk
        while services.ledger_integrate(max_batch=rng.choice([1, 3, 100, 1000])):
            pass
        leaves = _leaves()
        state = LogState.objects.get()
        assert state.size == total == len(leaves)
        assert bytes(state.root) == merkle.root(leaves)
    assert list(Entry.objects.order_by("index").values_list("subject", flat=True)) == [
        f"C{i}" for i in range(total)
    ]
    for _ in range(60):
        size = rng.randint(1, total)
        index = rng.randrange(size)
        assert selectors.inclusion_proof(index, size) == merkle.inclusion_proof(index, size, leaves)
        size1 = rng.randint(1, size)
        assert selectors.consistency_proof(size1, size) == merkle.consistency_proof(
            size1, size, leaves
        )
    assert selectors.inclusion_proof(0, 1) == []
    assert Tile.objects.filter(level=1).count() == 1  # 1266 leaves: four full tiles below


def test_integrate_is_idempotent_and_proofs_refuse_beyond_the_log() -> None:
    _append(3)
    assert services.ledger_integrate() == 3
    assert services.ledger_integrate() == 0
    assert LogState.objects.get().size == 3
    with pytest.raises(merkle.ProofError):
        selectors.inclusion_proof(0, 4)
    with pytest.raises(merkle.ProofError):
        selectors.inclusion_proof(3, 3)
    with pytest.raises(merkle.ProofError):
        selectors.consistency_proof(0, 3)


def test_anchor_commits_the_audit_head() -> None:
    entry = services.entry_anchor()
    payload = __import__("json").loads(bytes(entry.leaf_input))["payload"]
    assert entry.kind == "audit.anchor"
    assert set(payload) == {"seq", "last_hash"}
    assert len(payload["last_hash"]) == 64


@pytest.mark.django_db(transaction=True)
def test_two_integrators_in_parallel_never_interleave() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter; SQLite serialises whole transactions")
    _append(2000)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            services.ledger_integrate_all(max_batch=150)
        except BaseException as exc:  # reported by the assert below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    leaves = _leaves()
    assert len(leaves) == 2000
    assert sorted(i or 0 for i in Entry.objects.values_list("index", flat=True)) == list(
        range(2000)
    )
    assert not Entry.objects.filter(index__isnull=True).exists()
    assert bytes(LogState.objects.get().root) == merkle.root(leaves)
    assert selectors.ledger_audit().ok


def test_periodic_tasks_run() -> None:
    from yiwang.ledger import tasks

    _append(4)
    assert tasks.integrate.apply().result == 4
    assert tasks.checkpoint_publish.apply().result == 4
    anchor_id = int(tasks.audit_anchor.apply().get())
    assert Entry.objects.get(id=anchor_id).kind == "audit.anchor"
    assert tasks.integrate.apply().result == 1


def test_a_witness_that_is_down_does_not_block_the_checkpoint() -> None:
    from yiwang.core.signing import Ed25519Signer
    from yiwang.ledger.note import TYPE_COSIGNATURE, vkey_format

    key = vkey_format("w", TYPE_COSIGNATURE, Ed25519Signer.generate().public_key())
    services.witness_add(name="w", url="http://127.0.0.1:9/add-checkpoint", vkey=key)
    _append(2)
    services.ledger_integrate_all()
    checkpoint = services.checkpoint_publish()
    assert checkpoint.size == 2
    assert checkpoint.cosignatures.count() == 0
    assert "\n\u2014 ledger.yiwang.luan.example/v1 " in checkpoint.note
    assert checkpoint.note.count("\u2014 ") == 2  # Ed25519 and SM2 lines
