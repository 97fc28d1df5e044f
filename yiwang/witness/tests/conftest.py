"""A small in-memory log that signs checkpoints like the ledger does (Ed25519 + SM2 lines)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from yiwang.core.signing import Ed25519Signer, SM2Signer
from yiwang.ledger import merkle
from yiwang.ledger.checkpoint import Checkpoint, checkpoint_format
from yiwang.ledger.note import TYPE_ED25519, TYPE_ESCAPE, note_sign, vkey_format
from yiwang.ledger.witness_client import add_checkpoint_body

ORIGIN = "ledger.luan.example/certificates"
WITNESS_NAME = "witness.caizheng.luan.example"


@dataclass
class FakeLog:
    origin: str = ORIGIN
    key: Ed25519Signer = field(default_factory=Ed25519Signer.generate)
    sm2: SM2Signer = field(default_factory=SM2Signer.generate)
    leaves: list[bytes] = field(default_factory=lambda: [f"entry {i}".encode() for i in range(32)])

    @property
    def vkeys(self) -> list[str]:
        return [
            vkey_format(self.origin, TYPE_ED25519, self.key.public_key()),
            vkey_format(self.origin, TYPE_ESCAPE, self.sm2.public_key()),
        ]

    def hashes(self, size: int) -> list[bytes]:
        return [merkle.leaf_hash(leaf) for leaf in self.leaves[:size]]

    def checkpoint(self, size: int, root: bytes | None = None) -> str:
        root = merkle.root(self.hashes(size)) if root is None else root
        text = checkpoint_format(Checkpoint(self.origin, size, root))
        return note_sign(text, [(self.origin, self.key), (self.origin, self.sm2)])

    def proof(self, old: int, new: int) -> list[bytes]:
        if old == 0 or old == new:
            return []
        return merkle.consistency_proof(old, new, self.hashes(new))

    def body(self, old: int, new: int, proof: Sequence[bytes] | None = None) -> bytes:
        proof = self.proof(old, new) if proof is None else proof
        return add_checkpoint_body(old, proof, self.checkpoint(new))


@pytest.fixture
def fake_log() -> FakeLog:
    return FakeLog()
