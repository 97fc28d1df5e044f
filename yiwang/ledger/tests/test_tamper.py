"""Tampering with the stored log behind the application's back (raw SQL, as an operator with
database access would) is caught by ``ledger_audit`` and, where it touches what a verifier
sees, by proof verification against the signed checkpoint."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from yiwang.ledger import merkle, selectors, services
from yiwang.ledger.models import Checkpoint, Entry, Tile

pytestmark = pytest.mark.django_db

SIZE = 600  # three level-0 tiles: the tampering is not all in the right edge


@pytest.fixture
def checkpoint() -> Checkpoint:
    with transaction.atomic():
        for i in range(SIZE):
            services.entry_append(kind="certificate.issue", subject=f"C{i}", payload={"n": i})
    services.ledger_integrate_all()
    cp = services.checkpoint_publish()
    assert cp.size == SIZE
    assert selectors.ledger_audit().ok
    return cp


def _sql(statement: str, params: list[bytes | int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _included(index: int, cp: Checkpoint) -> bool:
    leaf = Entry.objects.get(index=index)
    proof = selectors.inclusion_proof(index, cp.size)
    return merkle.verify_inclusion(
        index, cp.size, merkle.leaf_hash(bytes(leaf.leaf_input)), proof, bytes(cp.root)
    )


def test_clean_log_audits_ok_and_verifies(checkpoint: Checkpoint) -> None:
    result = selectors.ledger_audit()
    assert (result.ok, result.entries, result.size) == (True, SIZE, SIZE)
    # in small batches the right-edge tiles are partial many times over: compared once, at the end
    assert selectors.ledger_audit(batch=100).ok
    assert _included(300, checkpoint)


def test_edited_leaf_input_is_named(checkpoint: Checkpoint) -> None:
    _sql("UPDATE ledger_entry SET leaf_input = %s WHERE leaf_index = %s", [b'{"forged":1}', 300])
    result = selectors.ledger_audit()
    assert result.ok is False
    assert result.altered == [300]
    assert result.first_altered == 300
    assert _included(300, checkpoint) is False


def test_edited_leaf_input_and_hash_column_is_named(checkpoint: Checkpoint) -> None:
    forged = b'{"forged":2}'
    _sql(
        "UPDATE ledger_entry SET leaf_input = %s, leaf_hash = %s WHERE leaf_index = %s",
        [forged, merkle.leaf_hash(forged), 17],
    )
    result = selectors.ledger_audit()
    assert result.altered == [17]
    assert result.bad_tiles == [(0, 0), (1, 0)]
    assert result.forked_checkpoints == [checkpoint.id]
    assert _included(17, checkpoint) is False


def test_deleted_entry_is_named(checkpoint: Checkpoint) -> None:
    _sql("DELETE FROM ledger_entry WHERE leaf_index = %s", [511])
    result = selectors.ledger_audit()
    assert result.ok is False
    assert result.missing == [511]
    assert selectors.ledger_audit(batch=100).missing == [511]
    assert result.altered == []
    assert result.entries == SIZE - 1


def test_edited_tile_hash_is_caught(checkpoint: Checkpoint) -> None:
    tile = Tile.objects.get(level=0, index=1)
    blob = bytearray(tile.hashes)
    blob[5 * 32] ^= 0x01  # the leaf hash of entry 261
    _sql("UPDATE ledger_tile SET hashes = %s WHERE level = 0 AND tile_index = 1", [bytes(blob)])
    result = selectors.ledger_audit()
    assert result.ok is False
    assert result.bad_tiles == [(0, 1)]
    assert selectors.ledger_audit(batch=100).bad_tiles == [(0, 1)]
    assert result.altered == []  # the entries still give the signed root: only the tile is bad
    assert _included(260, checkpoint) is False  # its sibling in the proof is the damaged hash
    assert _included(100, checkpoint) is True


def test_forked_checkpoint_is_caught(checkpoint: Checkpoint) -> None:
    fork_root = merkle.node_hash(b"fork", b"root")
    fork = Checkpoint.objects.create(size=SIZE, root=fork_root, note="forged")
    result = selectors.ledger_audit()
    assert result.forked_checkpoints == [fork.id]
    assert result.altered == []
    with transaction.atomic():
        services.entry_append(kind="certificate.revoke", subject="C1", payload={})
    services.ledger_integrate_all()
    later = services.checkpoint_publish()
    proof = selectors.consistency_proof(SIZE, later.size)
    root2 = bytes(later.root)
    assert merkle.verify_consistency(SIZE, later.size, bytes(checkpoint.root), root2, proof)
    assert not merkle.verify_consistency(SIZE, later.size, fork_root, root2, proof)
