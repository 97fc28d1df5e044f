"""merkle.py against the public RFC 9162 vectors (transparency-dev/merkle testdata, happy and
mutated) and a property test: generated proofs verify, a flipped bit does not."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from yiwang.ledger import merkle

DATA = Path(settings.SHARED_DATA_DIR)
TESTDATA = DATA / "rfc9162_testdata"
VECTORS = DATA / "rfc9162_vectors.json"


def _files(kind: str) -> list[Path]:
    return sorted((TESTDATA / kind).rglob("*.json")) if TESTDATA.exists() else []


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _vectors() -> dict[str, Any]:
    if not VECTORS.exists():
        pytest.skip(f"{VECTORS} is absent (set YIWANG_SHARED_DATA)")
    data: dict[str, Any] = json.loads(VECTORS.read_text())
    return data


def test_testdata_present_and_complete() -> None:
    if not TESTDATA.exists():
        pytest.skip(f"{TESTDATA} is absent (set YIWANG_SHARED_DATA)")
    assert len(_files("inclusion")) + len(_files("consistency")) == 196


@pytest.mark.parametrize("path", _files("inclusion"), ids=lambda p: str(p.relative_to(TESTDATA)))
def test_inclusion_testdata(path: Path) -> None:
    case = json.loads(path.read_text())
    ok = merkle.verify_inclusion(
        case["leafIdx"],
        case["treeSize"],
        _b64(case["leafHash"]),
        [_b64(h) for h in case["proof"] or []],
        _b64(case["root"]),
    )
    assert ok is (not case["wantErr"])


@pytest.mark.parametrize("path", _files("consistency"), ids=lambda p: str(p.relative_to(TESTDATA)))
def test_consistency_testdata(path: Path) -> None:
    case = json.loads(path.read_text())
    ok = merkle.verify_consistency(
        case["size1"],
        case["size2"],
        _b64(case["root1"]),
        _b64(case["root2"]),
        [_b64(h) for h in case["proof"] or []],
    )
    assert ok is (not case["wantErr"])


def test_roots_0_to_8_and_leaf_hashes() -> None:
    v = _vectors()
    leaves = [merkle.leaf_hash(bytes.fromhex(x)) for x in v["leaf_inputs_hex"]]
    assert [h.hex() for h in leaves] == v["leaf_hashes_hex"]
    for size, expected in v["roots_by_size_hex"].items():
        assert merkle.root(leaves[: int(size)]).hex() == expected


def test_hasher_unit_vectors() -> None:
    unit = _vectors()["hasher_unit"]
    assert merkle.root([]).hex() == unit["empty_root"]
    assert merkle.leaf_hash(b"").hex() == unit["leaf('')"]
    assert merkle.leaf_hash(b"L123456").hex() == unit["leaf('L123456')"]
    assert merkle.node_hash(b"N123", b"N456").hex() == unit["children('N123','N456')"]


def test_vector_proofs_generated_and_verified() -> None:
    v = _vectors()
    leaves = [merkle.leaf_hash(bytes.fromhex(x)) for x in v["leaf_inputs_hex"]]
    for case in v["inclusion"]:
        proof = merkle.inclusion_proof(case["leaf_index"], case["tree_size"], leaves)
        assert [h.hex() for h in proof] == case["path"]
        assert merkle.verify_inclusion(
            case["leaf_index"],
            case["tree_size"],
            bytes.fromhex(case["leaf_hash"]),
            proof,
            bytes.fromhex(case["root"]),
        )
    for case in v["consistency"]:
        proof = merkle.consistency_proof(case["size1"], case["size2"], leaves)
        assert [h.hex() for h in proof] == case["proof"]
        assert merkle.verify_consistency(
            case["size1"],
            case["size2"],
            bytes.fromhex(case["root1"]),
            bytes.fromhex(case["root2"]),
            proof,
        )


def test_derived_1000_leaf_set() -> None:
    d = _vectors()["derived_1000"]
    leaves = [merkle.leaf_hash(f"leaf-{i}".encode()) for i in range(1000)]
    for size, expected in d["roots"].items():
        assert merkle.root(leaves[: int(size)]).hex() == expected
    proof = merkle.inclusion_proof(517, 1000, leaves)
    assert [h.hex() for h in proof] == d["inclusion_517_of_1000"]
    assert merkle.verify_inclusion(517, 1000, leaves[517], proof, merkle.root(leaves))
    cons = merkle.consistency_proof(300, 1000, leaves)
    assert [h.hex() for h in cons] == d["consistency_300_to_1000"]
    assert merkle.verify_consistency(
        300, 1000, merkle.root(leaves[:300]), merkle.root(leaves), cons
    )


def test_proof_errors_and_hostile_input() -> None:
    leaves = [merkle.leaf_hash(bytes([i])) for i in range(4)]
    with pytest.raises(merkle.ProofError):
        merkle.inclusion_proof(4, 4, leaves)
    with pytest.raises(merkle.ProofError):
        merkle.consistency_proof(0, 3, leaves)
    r = merkle.root(leaves)
    assert merkle.verify_inclusion(-1, 4, leaves[0], [], r) is False
    assert merkle.verify_inclusion(0, 4, leaves[0], [b"x"] * 2, r) is False
    assert merkle.verify_inclusion(0, 4, leaves[0], [leaves[1]] * 200, r) is False
    assert merkle.verify_consistency(0, 4, merkle.EMPTY_ROOT, r, []) is True
    assert merkle.verify_consistency(2, 4, r, r, [b""] * 3) is False


def test_compact_range_matches_root() -> None:
    cr = merkle.CompactRange()
    leaves = []
    for i in range(300):
        leaves.append(hashlib.sha256(str(i).encode()).digest())
        cr.append(leaves[-1])
        assert cr.root() == merkle.root(leaves)
    assert len(cr.hashes) == bin(300).count("1")


@st.composite
def _tree_and_points(draw: st.DrawFn) -> tuple[int, int, int]:
    size = draw(st.integers(min_value=1, max_value=300))
    return size, draw(st.integers(0, size - 1)), draw(st.integers(1, size))


@hsettings(max_examples=150, deadline=None)
@given(_tree_and_points(), st.integers(min_value=0, max_value=10_000))
def test_generated_proofs_verify_and_a_flipped_bit_fails(
    point: tuple[int, int, int], bit: int
) -> None:
    size, index, size1 = point
    leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    r, r1 = merkle.root(leaves), merkle.root(leaves[:size1])
    proof = merkle.inclusion_proof(index, size, leaves)
    assert merkle.verify_inclusion(index, size, leaves[index], proof, r)
    cons = merkle.consistency_proof(size1, size, leaves)
    assert merkle.verify_consistency(size1, size, r1, r, cons)
    if proof:
        flipped = [bytearray(h) for h in proof]
        flipped[(bit // 256) % len(proof)][(bit // 8) % 32] ^= 1 << (bit % 8)
        assert not merkle.verify_inclusion(
            index, size, leaves[index], [bytes(h) for h in flipped], r
        )
    bad_root = bytearray(r)
    bad_root[(bit // 8) % 32] ^= 1 << (bit % 8)
    assert not merkle.verify_inclusion(index, size, leaves[index], proof, bytes(bad_root))
    if cons:
        flipped = [bytearray(h) for h in cons]
        flipped[(bit // 256) % len(cons)][(bit // 8) % 32] ^= 1 << (bit % 8)
        assert not merkle.verify_consistency(size1, size, r1, r, [bytes(h) for h in flipped])
