"""Signing keys behind one small interface, so that a hardware module can replace them.

Two algorithms: Ed25519 (from ``cryptography``; the log's checkpoint signature, witness
cosignatures, the ``eddsa-jcs-2022`` credential proof) and SM2 with SM3 and the default
distinguishing ID ``1234567812345678`` (GM/T 0003, GB/T 32918; from ``tongsuopy``, Tongsuo's
OpenSSL fork: ``cryptography`` has no SM2, and gmssl 3.2.2 draws its signing nonces from
Python's ``random``; see docs/adr/0008-ledger.md).

Callers ask ``signer(name, algorithm)`` for a :class:`Signer` and verify with :func:`verify`,
which needs only the public key. Keys are created on first use and kept by the key store named
in ``YIWANG_SIGNING_KEY_STORE`` (default: :class:`DatabaseKeyStore`, private keys encrypted at
rest with the field-encryption keys). A store backed by a certified module (GM/T 0018 SDF) only
has to return objects with ``algorithm``, ``public_key()`` and ``sign()``; the private key need
never leave it.

Formats: Ed25519 public keys are the raw 32 bytes and signatures 64 bytes; SM2 public keys are
the uncompressed point ``04 || X || Y`` (65 bytes) and signatures DER ``SEQUENCE {r, s}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string
from tongsuopy.crypto import _serialization as sm_serialization
from tongsuopy.crypto import hashes as sm_hashes
from tongsuopy.crypto.asymciphers import ec as sm_ec
from tongsuopy.crypto.exceptions import InternalError as SM2InternalError
from tongsuopy.crypto.exceptions import InvalidSignature as SM2InvalidSignature

Algorithm = Literal["ed25519", "sm2"]
ALGORITHMS: tuple[Algorithm, ...] = ("ed25519", "sm2")
ED25519_PUBLIC_BYTES = 32
ED25519_SIGNATURE_BYTES = 64
SM2_PUBLIC_BYTES = 65
SM2_PRIVATE_BYTES = 32
# DER of two 256-bit integers is at most 72 bytes; anything longer is not an SM2 signature.
SM2_SIGNATURE_MAX_BYTES = 72


class Signer(Protocol):
    """Something that signs with one private key it does not have to reveal."""

    @property
    def algorithm(self) -> Algorithm: ...

    def public_key(self) -> bytes: ...

    def sign(self, message: bytes) -> bytes: ...


@dataclass(frozen=True)
class Ed25519Signer:
    key: Ed25519PrivateKey
    algorithm: Algorithm = "ed25519"

    def public_key(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message)

    def private_bytes(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )

    @classmethod
    def generate(cls) -> Ed25519Signer:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, raw: bytes) -> Ed25519Signer:
        return cls(Ed25519PrivateKey.from_private_bytes(raw))


@dataclass(frozen=True)
class SM2Signer:
    key: sm_ec.EllipticCurvePrivateKey
    algorithm: Algorithm = "sm2"

    def public_key(self) -> bytes:
        return bytes(
            self.key.public_key().public_bytes(
                sm_serialization.Encoding.X962, sm_serialization.PublicFormat.UncompressedPoint
            )
        )

    def sign(self, message: bytes) -> bytes:
        # Tongsuo draws the nonce from its CSPRNG (the flaw of gmssl 3.2.2 is not here).
        return bytes(self.key.sign(message, sm_ec.ECDSA(sm_hashes.SM3())))

    def private_bytes(self) -> bytes:
        """The private scalar, 32 bytes big-endian (what GM/T 0003 calls d)."""
        return int(self.key.private_numbers().private_value).to_bytes(SM2_PRIVATE_BYTES, "big")

    @classmethod
    def generate(cls) -> SM2Signer:
        return cls(sm_ec.generate_private_key(sm_ec.SM2()))

    @classmethod
    def from_private_bytes(cls, raw: bytes) -> SM2Signer:
        if len(raw) != SM2_PRIVATE_BYTES:
            raise ValueError("an SM2 private key is 32 bytes")
        return cls(sm_ec.derive_private_key(int.from_bytes(raw, "big"), sm_ec.SM2()))


def generate(algorithm: Algorithm) -> Ed25519Signer | SM2Signer:
    if algorithm == "ed25519":
        return Ed25519Signer.generate()
    if algorithm == "sm2":
        return SM2Signer.generate()
    raise ValueError(f"unknown signature algorithm {algorithm!r}; known: {ALGORITHMS}")


def load(algorithm: Algorithm, private_bytes: bytes) -> Ed25519Signer | SM2Signer:
    if algorithm == "ed25519":
        return Ed25519Signer.from_private_bytes(private_bytes)
    if algorithm == "sm2":
        return SM2Signer.from_private_bytes(private_bytes)
    raise ValueError(f"unknown signature algorithm {algorithm!r}; known: {ALGORITHMS}")


def _der_integer(data: bytes, at: int) -> int | None:
    """End offset of a minimal DER INTEGER (non-negative, at most 33 bytes) at ``at``."""
    if at + 2 > len(data) or data[at] != 0x02:
        return None
    length = data[at + 1]
    body = data[at + 2 : at + 2 + length]
    if not 1 <= length <= 33 or len(body) != length or body[0] & 0x80:
        return None
    if length > 1 and body[0] == 0 and not body[1] & 0x80:
        return None  # not minimal
    return at + 2 + length


def sm2_der_well_formed(sig: bytes) -> bool:
    """Whether ``sig`` is a DER ``SEQUENCE {INTEGER r, INTEGER s}``. Checked before the SM2
    library sees it: tongsuopy raises an InternalError (instead of answering False) on some
    malformed DER, and hostile input must never crash a verifier."""
    if len(sig) < 8 or sig[0] != 0x30 or sig[1] != len(sig) - 2:
        return False
    end = _der_integer(sig, 2)
    return end is not None and _der_integer(sig, end) == len(sig)


def verify(algorithm: str, public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True when ``signature`` is valid; False for a wrong signature or a malformed key or
    signature of any length (never raises on hostile input)."""
    if algorithm == "ed25519":
        if len(public_key) != ED25519_PUBLIC_BYTES or len(signature) != ED25519_SIGNATURE_BYTES:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True
    if algorithm == "sm2":
        if (
            len(public_key) != SM2_PUBLIC_BYTES
            or not 8 <= len(signature) <= SM2_SIGNATURE_MAX_BYTES
        ):
            return False
        try:
            point = sm_ec.EllipticCurvePublicKey.from_encoded_point(sm_ec.SM2(), public_key)
            point.verify(signature, message, sm_ec.ECDSA(sm_hashes.SM3()))
        except (SM2InvalidSignature, SM2InternalError, ValueError, TypeError):
            return False
        return True
    return False


class KeyStore(Protocol):
    def signer(self, name: str, algorithm: Algorithm) -> Signer: ...


class DatabaseKeyStore:
    """Keys in ``core.SigningKey``, the private half encrypted with the field-encryption keys.

    Every web process and worker of the city topology reads the same row, so they all sign with
    the same key. The first caller creates the key; a concurrent first caller loses the insert
    race on the unique constraint and reads the winner's key instead.
    """

    def signer(self, name: str, algorithm: Algorithm) -> Signer:
        from yiwang.core.models import SigningKey

        if algorithm not in ALGORITHMS:
            raise ValueError(f"unknown signature algorithm {algorithm!r}; known: {ALGORITHMS}")
        row = SigningKey.objects.filter(name=name, algorithm=algorithm).first()
        if row is None:
            fresh = generate(algorithm)
            try:
                with transaction.atomic():
                    row = SigningKey.objects.create(
                        name=name,
                        algorithm=algorithm,
                        public_key=fresh.public_key().hex(),
                        private_key=fresh.private_bytes().hex(),
                    )
            except IntegrityError:
                row = SigningKey.objects.get(name=name, algorithm=algorithm)
        return load(algorithm, bytes.fromhex(row.private_key))


@cache
def _store(path: str) -> KeyStore:
    store: KeyStore = import_string(path)()
    return store


def signer(name: str, algorithm: Algorithm) -> Signer:
    """The signer for key ``name`` (e.g. ``"ledger.log"``), created on first use."""
    return _store(settings.YIWANG_SIGNING_KEY_STORE).signer(name, algorithm)
