"""Tiles: how the log's tree is stored (pure; the rows are models.Tile).

A tile holds a complete 8-level slice of the tree, as in C2SP tlog-tiles: tile (L, t) has as
base the up-to-256 nodes of tree level 8L with indexes [256t, 256t+256), and also every complete
node above them inside the slice (levels 8L+1 … 8L+7), so that reading any stored node costs a
slice of a blob and no hashing. Blob layout for a tile of ``width`` base nodes: level r (0-7)
holds ``width >> r`` hashes, levels concatenated from r = 0. Only the right-edge tile of each
level is partial; it is rewritten as the log grows. At one million entries a proof touches at
most two tiles per tile level (three levels): a handful of indexed reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from yiwang.ledger.merkle import HASH_SIZE, Node, node_hash

HEIGHT = 8
WIDTH = 1 << HEIGHT

TileKey = tuple[int, int]  # (tile level, tile index)
TileData = tuple[int, bytes]  # (width, blob)


def tile_encode(base: Sequence[bytes]) -> bytes:
    levels = [list(base)]
    for _ in range(HEIGHT - 1):
        below = levels[-1]
        levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
    return b"".join(h for level in levels for h in level)


def tile_base(width: int, blob: bytes) -> list[bytes]:
    return [blob[i : i + HASH_SIZE] for i in range(0, width * HASH_SIZE, HASH_SIZE)]


def tile_root(blob: bytes) -> bytes:
    """Hash of a full tile (its two level-7 nodes), the base node of the tile above."""
    offset = sum(WIDTH >> r for r in range(HEIGHT - 1)) * HASH_SIZE
    return node_hash(blob[offset : offset + HASH_SIZE], blob[offset + HASH_SIZE : offset + 64])


def node_location(node: Node) -> tuple[TileKey, int, int]:
    """(tile key, level inside the tile, position in that level) of a tree node."""
    level, index = node
    r = level % HEIGHT
    return (level // HEIGHT, (index << r) >> HEIGHT), r, index % (WIDTH >> r)


def node_from(tiles: Mapping[TileKey, TileData], node: Node) -> bytes:
    key, r, j = node_location(node)
    width, blob = tiles[key]
    if j >= width >> r:
        raise KeyError(node)
    offset = (sum(width >> k for k in range(r)) + j) * HASH_SIZE
    return blob[offset : offset + HASH_SIZE]


def tile_keys(nodes: Iterable[Node]) -> set[TileKey]:
    return {node_location(n)[0] for n in nodes}


def extend(
    old_size: int,
    leaves: Sequence[bytes],
    load_base: Callable[[TileKey], list[bytes]],
) -> dict[TileKey, TileData]:
    """The tiles that change when ``leaves`` are appended to a tree of ``old_size``.

    ``load_base`` returns the base hashes of an existing partial right-edge tile; only those
    (one per tile level) are read, so memory stays bounded by the batch, whatever the size."""
    out: dict[TileKey, TileData] = {}
    level, count, new = 0, old_size, list(leaves)
    while new:
        first = count // WIDTH
        base = (load_base((level, first)) if count % WIDTH else []) + new
        completed = []
        for offset in range(0, len(base), WIDTH):
            chunk = base[offset : offset + WIDTH]
            blob = tile_encode(chunk)
            out[(level, first + offset // WIDTH)] = (len(chunk), blob)
            if len(chunk) == WIDTH:
                completed.append(tile_root(blob))
        level, count, new = level + 1, count >> HEIGHT, completed
    return out
