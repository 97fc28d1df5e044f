"""C2SP checkpoints (c2sp.org/tlog-checkpoint): the body of the log's signed note.

    <origin>\\n<decimal size, no leading zeros>\\n<base64 SHA-256 root>\\n[extension lines]

Parsing is strict: anything a conforming log would not write is refused, so that two parties
never disagree on what a checkpoint says.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field

MAX_SIZE = 2**63 - 1  # sizes are stored in signed 64-bit columns
MAX_CHECKPOINT_CHARS = 16 * 1024
MAX_EXTENSIONS = 16
HASH_SIZE = 32
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,18}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class CheckpointError(ValueError):
    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = field(default=())


def checkpoint_format(cp: Checkpoint) -> str:
    if not cp.origin or _CONTROL.search(cp.origin):
        raise CheckpointError("origin must be a non-empty line")
    if not 0 <= cp.size <= MAX_SIZE:
        raise CheckpointError("size out of range")
    if len(cp.root_hash) != HASH_SIZE:
        raise CheckpointError("root hash must be 32 bytes")
    for ext in cp.extensions:
        if not ext or _CONTROL.search(ext):
            raise CheckpointError("extension lines must be non-empty lines")
    lines = [cp.origin, str(cp.size), base64.b64encode(cp.root_hash).decode(), *cp.extensions]
    return "".join(line + "\n" for line in lines)


def parse_size(text: str) -> int:
    """A decimal size without leading zeros (``0`` allowed), at most ``MAX_SIZE``."""
    if not _DECIMAL.fullmatch(text):
        raise CheckpointError("size must be a decimal number without leading zeros")
    value = int(text)
    if value > MAX_SIZE:
        raise CheckpointError("size too large")
    return value


def parse_hash(text: str) -> bytes:
    """A canonical standard-base64 SHA-256 hash."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise CheckpointError("invalid base64 hash") from exc
    if len(raw) != HASH_SIZE or base64.b64encode(raw).decode() != text:
        raise CheckpointError("hash must be 32 bytes in canonical base64")
    return raw


def checkpoint_parse(text: str) -> Checkpoint:
    """Parse a checkpoint body (the note text, ending in a newline)."""
    if len(text) > MAX_CHECKPOINT_CHARS:
        raise CheckpointError("checkpoint too large")
    if not text.endswith("\n"):
        raise CheckpointError("checkpoint must end with a newline")
    if "\r" in text or _CONTROL.search(text.replace("\n", "")):
        raise CheckpointError("checkpoint contains control characters")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError("checkpoint needs origin, size and root lines")
    origin, size_text, root_text, *extensions = lines
    if not origin:
        raise CheckpointError("empty origin")
    if len(extensions) > MAX_EXTENSIONS:
        raise CheckpointError("too many extension lines")
    if any(not ext for ext in extensions):
        raise CheckpointError("empty extension line")
    return Checkpoint(
        origin=origin,
        size=parse_size(size_text),
        root_hash=parse_hash(root_text),
        extensions=tuple(extensions),
    )
