"""RFC 9162 / RFC 6962 Merkle tree over SHA-256: hashes, roots, proofs and their verification.

Pure Python, no Django: auditors' tools, the witness and the offline bundle verifier use it
without a database. Verification follows transparency-dev/merkle ``proof/verify.go``; it never
raises on wrong-but-well-formed input and returns False instead, because a verifier faces
hostile proofs and must answer "no", not crash. Proof generation here is the in-memory
reference; the database-backed log (tiles of subtree hashes, see models.Tile)
builds the same proofs from stored subtree hashes through ``inclusion_ranges`` /
``consistency_ranges`` and ``range_nodes``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Node = tuple[int, int]  # (level, index): the complete subtree of leaves [index << level, +2**level)
Range = tuple[int, int]  # [lo, hi) leaves, as RFC 6962 proof elements are MTH(D[lo:hi])


class ProofError(ValueError):
    """Malformed request for a proof (index/size out of range); ``reason`` is short English."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """Largest power of two strictly less than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


class CompactRange:
    """The right edge of a growing tree: one hash per set bit of the size (O(log n) memory).
    Appending merges equal-height subtrees; the root folds them right to left."""

    __slots__ = ("hashes", "size")

    def __init__(self) -> None:
        self.size = 0
        self.hashes: list[bytes] = []

    def append(self, leaf: bytes) -> None:
        self.hashes.append(leaf)
        n = self.size
        while n & 1:
            right = self.hashes.pop()
            self.hashes[-1] = node_hash(self.hashes[-1], right)
            n >>= 1
        self.size += 1

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        acc = self.hashes[-1]
        for h in reversed(self.hashes[:-1]):
            acc = node_hash(h, acc)
        return acc


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over already-hashed leaves; the empty tree is SHA-256 of nothing."""
    cr = CompactRange()
    for h in leaf_hashes:
        cr.append(h)
    return cr.root()


# --- proof shapes, shared by the in-memory reference and the stored tree --------------------


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """Leaf ranges whose MTH form the audit path of ``index`` in a tree of ``size``, bottom-up
    (RFC 9162 §2.1.3.1, unrolled)."""
    if not 0 <= index < size:
        raise ProofError("index out of range")
    out: list[Range] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
    out.reverse()
    return out


def consistency_ranges(size1: int, size2: int) -> list[Range]:
    """Leaf ranges of the consistency proof from ``size1`` to ``size2`` (RFC 9162 §2.1.4.1);
    empty for equal sizes, refused for size1 == 0 (nothing to prove)."""
    if not 0 < size1 <= size2:
        raise ProofError("sizes out of range")
    out: list[Range] = []
    lo, hi, m, complete = 0, size2, size1, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    if not complete:
        out.append((lo, hi))
    out.reverse()
    return out


def range_nodes(lo: int, hi: int) -> list[Node]:
    """Complete subtrees covering [lo, hi), left to right; a proof range is either one such
    subtree or a right edge whose hash folds them right to left."""
    out: list[Node] = []
    while lo < hi:
        level = (lo & -lo).bit_length() - 1 if lo else (hi - lo).bit_length() - 1
        while lo + (1 << level) > hi:
            level -= 1
        out.append((level, lo >> level))
        lo += 1 << level
    return out


def fold(hashes: Sequence[bytes]) -> bytes:
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def proof_from_nodes(ranges: Sequence[Range], node: Callable[[Node], bytes]) -> list[bytes]:
    return [fold([node(n) for n in range_nodes(lo, hi)]) for lo, hi in ranges]


def inclusion_proof(index: int, size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    if size > len(leaf_hashes):
        raise ProofError("size beyond the leaves given")
    return [root(leaf_hashes[lo:hi]) for lo, hi in inclusion_ranges(index, size)]


def consistency_proof(size1: int, size2: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    if size2 > len(leaf_hashes):
        raise ProofError("size beyond the leaves given")
    return [root(leaf_hashes[lo:hi]) for lo, hi in consistency_ranges(size1, size2)]


# --- verification ---------------------------------------------------------------------------


def _well_formed(hashes: Sequence[bytes]) -> bool:
    return all(isinstance(h, bytes) and len(h) == HASH_SIZE for h in hashes)


def _chain_inner(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for i, h in enumerate(proof):
        seed = node_hash(seed, h) if (index >> i) & 1 == 0 else node_hash(h, seed)
    return seed


def _chain_inner_right(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for i, h in enumerate(proof):
        if (index >> i) & 1:
            seed = node_hash(h, seed)
    return seed


def _chain_border_right(seed: bytes, proof: Sequence[bytes]) -> bytes:
    for h in proof:
        seed = node_hash(h, seed)
    return seed


def _decomp(index: int, size: int) -> tuple[int, int]:
    inner = (index ^ (size - 1)).bit_length()
    return inner, bin(index >> inner).count("1")


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes | None:
    """The root an inclusion proof implies, or None when the proof cannot be one."""
    if not 0 <= index < size or not _well_formed([leaf, *proof]):
        return None
    inner, border = _decomp(index, size)
    if len(proof) != inner + border:
        return None
    return _chain_border_right(_chain_inner(leaf, proof[:inner], index), proof[inner:])


def verify_inclusion(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    computed = root_from_inclusion(index, size, leaf_hash, proof or [])
    return computed is not None and computed == root


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> bool:
    """True iff ``proof`` shows the tree of ``size2`` extends the tree of ``size1``.

    size1 == 0: every tree extends the empty one, so only an empty proof from the empty root to
    a well-formed root is accepted (the transparency-dev vectors reject every other form).
    Equal sizes: empty proof and equal roots (compared as given, as verify.go does)."""
    proof = list(proof or [])
    if size1 < 0 or size2 < size1:
        return False
    if size1 == 0:
        return (
            not proof
            and root1 == EMPTY_ROOT
            and _well_formed([root2])
            and (size2 > 0 or root2 == EMPTY_ROOT)
        )
    if size1 == size2:
        return not proof and root1 == root2
    if not proof or not _well_formed([root1, root2, *proof]):
        return False
    inner, border = _decomp(size1 - 1, size2)
    shift = (size1 & -size1).bit_length() - 1
    inner -= shift
    if size1 == 1 << shift:
        seed, rest = root1, proof
    else:
        seed, rest = proof[0], proof[1:]
    if len(rest) != inner + border:
        return False
    mask = (size1 - 1) >> shift
    hash1 = _chain_border_right(_chain_inner_right(seed, rest[:inner], mask), rest[inner:])
    if hash1 != root1:
        return False
    hash2 = _chain_border_right(_chain_inner(seed, rest[:inner], mask), rest[inner:])
    return hash2 == root2
