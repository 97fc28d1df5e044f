"""Field encryption for personal data at rest, and keyed blind indexes for lookups.

Ciphertext format (text, so that it fits any database): ``<cipher>:<key id>:<base64(nonce ||
ciphertext || tag)>``. The key id travels with the ciphertext, so old rows stay readable after
the active key changes (``YIWANG_FIELD_KEYS="new:...,old:..."``). The cipher is SM4-GCM
(GB/T 32907) by default, AES-128-GCM where SM4 is unavailable; both come from ``cryptography``.

A blind index is HMAC-SM3 of the normalised value under a separate key: equal values give equal
indexes, so ``WHERE id_number_index = blind_index(x)`` finds a row without decrypting every row,
and the index reveals nothing without the key.
"""

from __future__ import annotations

import base64
import hmac
import os
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from yiwang.core.errors import IntegrityFailure

NONCE_BYTES = 12
TAG_BYTES = 16
CIPHERS = ("sm4-gcm", "aes-gcm")


@dataclass(frozen=True)
class KeyRing:
    active_id: str
    keys: dict[str, bytes]


def parse_keys(spec: str) -> KeyRing:
    """Parse ``"id:base64key,id2:base64key2"``; the first key is the one new values use."""
    keys: dict[str, bytes] = {}
    order: list[str] = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        key_id, sep, encoded = part.partition(":")
        if not sep or not key_id.isalnum():
            raise ImproperlyConfigured("YIWANG_FIELD_KEYS must look like 'k1:<base64>,k0:<base64>'")
        try:
            key = base64.b64decode(encoded, validate=True)
        except ValueError as exc:
            raise ImproperlyConfigured(f"field key {key_id!r} is not valid base64") from exc
        if len(key) != 16:
            raise ImproperlyConfigured(f"field key {key_id!r} must be 16 bytes (128 bits)")
        keys[key_id] = key
        order.append(key_id)
    if not order:
        raise ImproperlyConfigured("YIWANG_FIELD_KEYS holds no key")
    return KeyRing(active_id=order[0], keys=keys)


@cache
def _keyring(spec: str) -> KeyRing:
    return parse_keys(spec)


def keyring() -> KeyRing:
    return _keyring(settings.YIWANG_FIELD_KEYS)


def _seal(cipher: str, key: bytes, nonce: bytes, plaintext: bytes) -> bytes:
    if cipher == "aes-gcm":
        return AESGCM(key).encrypt(nonce, plaintext, None)
    enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    return enc.update(plaintext) + enc.finalize() + enc.tag


def _open(cipher: str, key: bytes, nonce: bytes, sealed: bytes) -> bytes:
    if cipher == "aes-gcm":
        return AESGCM(key).decrypt(nonce, sealed, None)
    body, tag = sealed[:-TAG_BYTES], sealed[-TAG_BYTES:]
    dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    return dec.update(body) + dec.finalize()


def encrypt(plaintext: str) -> str:
    """Encrypt ``plaintext`` under the active key; a fresh random nonce every time."""
    cipher = settings.YIWANG_FIELD_CIPHER
    if cipher not in CIPHERS:
        raise ImproperlyConfigured(f"YIWANG_FIELD_CIPHER must be one of {CIPHERS}")
    ring = keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = _seal(cipher, ring.keys[ring.active_id], nonce, plaintext.encode())
    return f"{cipher}:{ring.active_id}:{base64.b64encode(nonce + sealed).decode()}"


def decrypt(token: str) -> str:
    """Decrypt a value made by ``encrypt``; a tampered or unreadable value raises."""
    cipher, key_id, encoded = ([*token.split(":", 2), "", ""])[:3]
    ring = keyring()
    if cipher not in CIPHERS or key_id not in ring.keys:
        raise IntegrityFailure("core.crypto_unknown_key", f"unknown cipher or key id {key_id!r}")
    raw = base64.b64decode(encoded)
    try:
        return _open(cipher, ring.keys[key_id], raw[:NONCE_BYTES], raw[NONCE_BYTES:]).decode()
    except InvalidTag as exc:
        raise IntegrityFailure("core.crypto_tampered", "encrypted value failed its check") from exc


def key_id_of(token: str) -> str:
    return token.split(":", 2)[1]


def blind_index(value: str, *, purpose: str) -> str:
    """Keyed HMAC-SM3 of ``value`` for equality lookups; ``purpose`` separates the domains
    (an ID number and a phone number with the same digits get different indexes)."""
    key = settings.YIWANG_BLIND_INDEX_KEY.encode()
    mac = crypto_hmac.HMAC(key, hashes.SM3())
    mac.update(purpose.encode() + b"\x00" + value.strip().upper().encode())
    return mac.finalize().hex()


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
