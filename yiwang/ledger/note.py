"""C2SP signed notes (c2sp.org/signed-note), with the cosignature type of c2sp.org/tlog-cosignature.

A note is UTF-8 text ending in a newline, a blank line, then one or more signature lines
``— <key name> base64(4-byte key ID || signature)`` (U+2014 em dash). Verifier keys ("vkeys")
are written ``<name>+<hex key ID>+base64(type || public key)``.

Signature types understood here:

* ``0x01`` Ed25519 over the note text (the log's checkpoint signature).
* ``0x04`` timestamped Ed25519 cosignature (tlog-cosignature): the signed message is
  ``"cosignature/v1\\ntime <ts>\\n" + text`` and the signature bytes are
  ``u64 big-endian timestamp || 64-byte Ed25519 signature``.
* SM2 (GM/T 0003 with SM3 and the default distinguishing ID ``1234567812345678``) over the note
  text, under the signed-note escape type ``0xff``. The spec recommends following ``0xff`` with a
  longer identifier; ours is one length byte and the ASCII identifier ``yiwang-sm2-sm3``, so the
  whole *type* is ``SM2_TYPE = 0xff || 0x0e || "yiwang-sm2-sm3"`` (16 bytes). Everywhere the spec
  puts the type byte we put these 16 bytes: the key ID is
  ``SHA-256(name || 0x0A || SM2_TYPE || 65-byte uncompressed point)[:4]`` and the vkey is
  ``<name>+<id>+base64(SM2_TYPE || point)``. The signature bytes after the key ID are the DER
  ``SEQUENCE {r, s}``. Other verifiers do not know this type and ignore the line, as the spec
  requires of them.

Limits (hostile input is refused with :class:`NoteError`, never a crash): a note is at most
``MAX_NOTE_BYTES`` and carries at most ``MAX_SIGNATURES`` signature lines; the spec requires
accepting at least 16.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from yiwang.core.signing import Signer, verify

MAX_NOTE_BYTES = 64 * 1024
MAX_SIGNATURES = 100
EM_DASH = "\u2014"

TYPE_ED25519 = 0x01
TYPE_COSIGNATURE = 0x04
TYPE_ESCAPE = 0xFF
SM2_IDENTIFIER = b"yiwang-sm2-sm3"
SM2_TYPE = bytes([TYPE_ESCAPE, len(SM2_IDENTIFIER)]) + SM2_IDENTIFIER
ED25519_PUBLIC_BYTES = 32
SM2_PUBLIC_BYTES = 65
COSIGNATURE_BYTES = 8 + 64

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")  # below U+0020 except newline
_SPACES = re.compile(r"\s")


class NoteError(ValueError):
    """A malformed note or vkey, or a note that does not verify; ``reason`` is short English."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Vkey:
    name: str
    key_id: bytes
    type_byte: int
    public_key: bytes

    @property
    def type_bytes(self) -> bytes:
        """The full type as hashed into the key ID (16 bytes for SM2, one byte otherwise)."""
        return SM2_TYPE if self.type_byte == TYPE_ESCAPE else bytes([self.type_byte])

    def __str__(self) -> str:
        return vkey_format(self.name, self.type_byte, self.public_key)


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes
    sig_bytes: bytes

    def line(self) -> str:
        return f"{EM_DASH} {self.name} {base64.b64encode(self.key_id + self.sig_bytes).decode()}\n"


@dataclass(frozen=True)
class Note:
    text: str
    signatures: list[NoteSignature]
    # The known keys whose signatures verified (filled in by note_verify).
    verified: tuple[Vkey, ...] = field(default=())


def _type_bytes(type_byte: int) -> bytes:
    if type_byte == TYPE_ESCAPE:
        return SM2_TYPE
    if type_byte in (TYPE_ED25519, TYPE_COSIGNATURE):
        return bytes([type_byte])
    raise NoteError(f"unsupported signature type 0x{type_byte:02x}")


def _check_name(name: str) -> None:
    if not name or "+" in name or _SPACES.search(name) or _CONTROL.search(name):
        raise NoteError("key name must be non-empty, without spaces or '+'")


def _check_public_key(type_byte: int, public_key: bytes) -> None:
    expected = SM2_PUBLIC_BYTES if type_byte == TYPE_ESCAPE else ED25519_PUBLIC_BYTES
    if len(public_key) != expected:
        raise NoteError(f"public key must be {expected} bytes for this type")


def key_id(name: str, type_byte: int, public_key: bytes) -> bytes:
    """``SHA-256(name || 0x0A || type || public key)[:4]`` (type = SM2_TYPE for 0xff)."""
    return hashlib.sha256(name.encode() + b"\n" + _type_bytes(type_byte) + public_key).digest()[:4]


def vkey_format(name: str, type_byte: int, public_key: bytes) -> str:
    _check_name(name)
    _check_public_key(type_byte, public_key)
    encoded = base64.b64encode(_type_bytes(type_byte) + public_key).decode()
    return f"{name}+{key_id(name, type_byte, public_key).hex()}+{encoded}"


def _b64decode(text: str) -> bytes:
    """Strict standard base64: no whitespace, canonical padding (re-encoding gives the input)."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise NoteError("invalid base64") from exc
    if base64.b64encode(raw).decode() != text:
        raise NoteError("non-canonical base64")
    return raw


def vkey_parse(text: str) -> Vkey:
    """Parse ``<name>+<hex id>+<base64>``; the key ID must match the one computed."""
    text = text.strip()
    if len(text) > 1024:
        raise NoteError("vkey too long")
    parts = text.split("+", 2)  # base64 may contain "+", names may not
    if len(parts) != 3:
        raise NoteError("vkey must be <name>+<hex key ID>+<base64 key>")
    name, hex_id, encoded = parts
    _check_name(name)
    if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise NoteError("vkey key ID must be 8 lowercase hex digits")
    raw = _b64decode(encoded)
    if not raw:
        raise NoteError("vkey has no key")
    type_byte = raw[0]
    prefix = _type_bytes(type_byte)
    if not raw.startswith(prefix):
        raise NoteError("unsupported 0xff signature type identifier")
    public_key = raw[len(prefix) :]
    _check_public_key(type_byte, public_key)
    computed = key_id(name, type_byte, public_key)
    if computed.hex() != hex_id:
        raise NoteError("vkey key ID does not match its key")
    return Vkey(name=name, key_id=computed, type_byte=type_byte, public_key=public_key)


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    if _CONTROL.search(text):
        raise NoteError("note contains control characters")


def note_parse(raw: str | bytes) -> Note:
    """Split a signed note into its text and signature lines (no verification)."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_NOTE_BYTES:
            raise NoteError("note too large")
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError("note is not valid UTF-8") from exc
    if len(raw) > MAX_NOTE_BYTES:  # characters never outnumber bytes: a cheap first fence
        raise NoteError("note too large")
    try:
        size = len(raw.encode("utf-8"))
    except UnicodeEncodeError as exc:  # lone surrogates
        raise NoteError("note is not valid UTF-8") from exc
    if size > MAX_NOTE_BYTES:
        raise NoteError("note too large")
    if _CONTROL.search(raw):
        raise NoteError("note contains control characters")
    if not raw.endswith("\n"):
        raise NoteError("note must end with a newline")
    split = raw.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no signature block")
    text, block = raw[: split + 1], raw[split + 2 :]
    lines = block.split("\n")[:-1]  # block ends with "\n"
    if not lines:
        raise NoteError("note has no signatures")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError("too many signatures")
    signatures = []
    for line in lines:
        if not line.startswith(EM_DASH + " "):
            raise NoteError("malformed signature line")
        parts = line[2:].split(" ")
        if len(parts) != 2:
            raise NoteError("malformed signature line")
        name, encoded = parts
        _check_name(name)
        sig = _b64decode(encoded)
        if len(sig) < 5:
            raise NoteError("signature too short")
        signatures.append(NoteSignature(name=name, key_id=sig[:4], sig_bytes=sig[4:]))
    return Note(text=text, signatures=signatures)


def _cosignature_message(text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode()


def _signature_valid(vkey: Vkey, text: str, sig_bytes: bytes) -> bool:
    if vkey.type_byte == TYPE_ED25519:
        return verify("ed25519", vkey.public_key, text.encode(), sig_bytes)
    if vkey.type_byte == TYPE_ESCAPE:
        return verify("sm2", vkey.public_key, text.encode(), sig_bytes)
    if vkey.type_byte == TYPE_COSIGNATURE:
        if len(sig_bytes) != COSIGNATURE_BYTES:
            return False
        timestamp = int.from_bytes(sig_bytes[:8], "big")
        return verify(
            "ed25519", vkey.public_key, _cosignature_message(text, timestamp), sig_bytes[8:]
        )
    return False


def note_verify(raw: str | bytes, vkeys: Iterable[Vkey]) -> Note:
    """Parse and verify: signatures of unknown (name, key ID) pairs are ignored, a known key
    whose signature fails rejects the note, and at least one known key must verify."""
    note = note_parse(raw)
    known = {(v.name, v.key_id): v for v in vkeys}
    verified: list[Vkey] = []
    for sig in note.signatures:
        vkey = known.get((sig.name, sig.key_id))
        if vkey is None:
            continue
        if not _signature_valid(vkey, note.text, sig.sig_bytes):
            raise NoteError(f"signature of known key {sig.name} does not verify")
        if vkey not in verified:
            verified.append(vkey)
    if not verified:
        raise NoteError("no signature from a known key")
    return Note(text=note.text, signatures=note.signatures, verified=tuple(verified))


def _signer_type(signer: Signer) -> int:
    if signer.algorithm == "ed25519":
        return TYPE_ED25519
    if signer.algorithm == "sm2":
        return TYPE_ESCAPE
    raise NoteError(f"no note signature type for {signer.algorithm}")


def note_sign(text: str, signers: Sequence[tuple[str, Signer]]) -> str:
    """The signed note: Ed25519 signers sign type 0x01, SM2 signers the 0xff SM2 type."""
    _check_text(text)
    if not signers:
        raise NoteError("at least one signer is needed")
    lines = []
    for name, signer in signers:
        _check_name(name)
        type_byte = _signer_type(signer)
        kid = key_id(name, type_byte, signer.public_key())
        sig = NoteSignature(name=name, key_id=kid, sig_bytes=signer.sign(text.encode()))
        lines.append(sig.line())
    return text + "\n" + "".join(lines)


def cosign(checkpoint_text: str, name: str, signer: Signer, timestamp: int) -> str:
    """One tlog-cosignature line (type 0x04) over ``checkpoint_text`` at ``timestamp``."""
    _check_text(checkpoint_text)
    _check_name(name)
    if signer.algorithm != "ed25519":
        raise NoteError("cosignatures are Ed25519")
    if not 0 < timestamp < 2**64:
        raise NoteError("cosignature timestamp must be a positive 64-bit integer")
    kid = key_id(name, TYPE_COSIGNATURE, signer.public_key())
    sig = signer.sign(_cosignature_message(checkpoint_text, timestamp))
    return NoteSignature(name, kid, timestamp.to_bytes(8, "big") + sig).line()


def cosignature_verify(checkpoint_text: str, line_or_sig: str | NoteSignature, vkey: Vkey) -> int:
    """The timestamp of a valid cosignature by ``vkey``; NoteError otherwise."""
    if vkey.type_byte != TYPE_COSIGNATURE:
        raise NoteError("not a cosignature key")
    if isinstance(line_or_sig, str):
        parsed = note_parse(checkpoint_text + "\n" + line_or_sig.rstrip("\n") + "\n")
        if len(parsed.signatures) != 1:
            raise NoteError("expected one cosignature line")
        sig = parsed.signatures[0]
    else:
        sig = line_or_sig
    if (sig.name, sig.key_id) != (vkey.name, vkey.key_id):
        raise NoteError("cosignature is from another key")
    if not _signature_valid(vkey, checkpoint_text, sig.sig_bytes):
        raise NoteError("cosignature does not verify")
    return int.from_bytes(sig.sig_bytes[:8], "big")
