"""Field encryption for personal data at rest, and keyed blind indexes for lookups.

Ciphertext format (text, so that it fits any database): ``<cipher>:<key id>:<base64(nonce ||
ciphertext || tag)>``. The key id travels with the ciphertext, so old rows stay readable after
the active key changes (``YIWANG_FIELD_KEYS="new:...,old:..."``) and ``yiwang crypto reencrypt``
can move them to the new key. The cipher is SM4-GCM (GB/T 32907) by default, AES-128-GCM where
SM4 is unavailable or not wanted; both come from ``cryptography`` (see docs/adr/0003).

The header is not bound as associated data: altering the key id or the cipher name makes the
tag check fail anyway, because a different key or algorithm is then used to open the value.

A blind index is HMAC-SM3 of the normalised value under a separate key: equal values give equal
indexes, so ``WHERE id_number_index = blind_index(x, purpose=...)`` finds a row without
decrypting every row, and the index reveals nothing without the key.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from yiwang.core.errors import IntegrityFailure

# Random 96-bit nonces: NIST SP 800-38D allows 2**32 encryptions per key this way, far more
# than a city writes between two key rotations.
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 16  # SM4 has 128-bit keys only; AES-128 shares the same key material format
CIPHERS = ("sm4-gcm", "aes-gcm")
BLIND_INDEX_KEY_MIN_BYTES = 16
_KEY_ID_RE = re.compile(r"[A-Za-z0-9]{1,16}")
_PURPOSE_RE = re.compile(r"[a-z0-9_.]{1,64}")


@dataclass(frozen=True)
class KeyRing:
    active_id: str
    keys: dict[str, bytes]


def parse_keys(spec: str) -> KeyRing:
    """Parse ``"id:base64key,id2:base64key2"``; the first key is the one new values use."""
    if not isinstance(spec, str):
        raise ImproperlyConfigured("YIWANG_FIELD_KEYS must be a string 'k1:<base64>,k0:<base64>'")
    keys: dict[str, bytes] = {}
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        key_id, sep, encoded = part.partition(":")
        if not sep or not _KEY_ID_RE.fullmatch(key_id):
            raise ImproperlyConfigured(
                "YIWANG_FIELD_KEYS must look like 'k1:<base64>,k0:<base64>' "
                "(key ids: 1-16 ASCII letters or digits)"
            )
        if key_id in keys:
            raise ImproperlyConfigured(f"field key id {key_id!r} appears twice")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error) as exc:
            raise ImproperlyConfigured(f"field key {key_id!r} is not valid base64") from exc
        if len(key) != KEY_BYTES:
            raise ImproperlyConfigured(f"field key {key_id!r} must be 16 bytes (128 bits)")
        keys[key_id] = key
    if not keys:
        raise ImproperlyConfigured("YIWANG_FIELD_KEYS holds no key")
    return KeyRing(active_id=next(iter(keys)), keys=keys)


@cache
def _keyring(spec: str) -> KeyRing:
    return parse_keys(spec)


def keyring() -> KeyRing:
    """The configured keys; cached per setting value, so ``override_settings`` takes effect."""
    return _keyring(getattr(settings, "YIWANG_FIELD_KEYS", ""))


def active_cipher() -> str:
    cipher: str = getattr(settings, "YIWANG_FIELD_CIPHER", "sm4-gcm")
    if cipher not in CIPHERS:
        raise ImproperlyConfigured(f"YIWANG_FIELD_CIPHER must be one of {CIPHERS}, not {cipher!r}")
    return cipher


def _sm4_gcm(key: bytes, mode: modes.GCM) -> Cipher[modes.GCM]:
    try:
        return Cipher(algorithms.SM4(key), mode)
    except UnsupportedAlgorithm as exc:  # an OpenSSL built without SM4 (some FIPS builds)
        raise ImproperlyConfigured(
            "this OpenSSL has no SM4-GCM; set YIWANG_FIELD_CIPHER=aes-gcm"
        ) from exc


def _seal(cipher: str, key: bytes, nonce: bytes, plaintext: bytes) -> bytes:
    if cipher == "aes-gcm":
        return AESGCM(key).encrypt(nonce, plaintext, None)
    enc = _sm4_gcm(key, modes.GCM(nonce)).encryptor()
    return enc.update(plaintext) + enc.finalize() + enc.tag


def _open(cipher: str, key: bytes, nonce: bytes, sealed: bytes) -> bytes:
    if cipher == "aes-gcm":
        return AESGCM(key).decrypt(nonce, sealed, None)
    body, tag = sealed[:-TAG_BYTES], sealed[-TAG_BYTES:]
    dec = _sm4_gcm(key, modes.GCM(nonce, tag)).decryptor()
    return dec.update(body) + dec.finalize()


def encrypt(plaintext: str) -> str:
    """Encrypt ``plaintext`` under the active key; a fresh random nonce every time."""
    cipher = active_cipher()
    ring = keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = _seal(cipher, ring.keys[ring.active_id], nonce, plaintext.encode())
    return f"{cipher}:{ring.active_id}:{base64.b64encode(nonce + sealed).decode()}"


def _split(token: str) -> tuple[str, str, str]:
    parts = token.split(":", 2)
    if len(parts) != 3:
        raise IntegrityFailure("core.crypto_malformed", "encrypted value is malformed")
    return parts[0], parts[1], parts[2]


def decrypt(token: str) -> str:
    """Decrypt a value made by ``encrypt``; a tampered or unreadable value raises
    IntegrityFailure (codes core.crypto_malformed, core.crypto_unknown_key, core.crypto_tampered).
    """
    cipher, key_id, encoded = _split(token)
    ring = keyring()
    if cipher not in CIPHERS:
        raise IntegrityFailure("core.crypto_malformed", f"unknown cipher {cipher!r}")
    if key_id not in ring.keys:
        raise IntegrityFailure(
            "core.crypto_unknown_key", f"unknown key id {key_id!r}", key_id=key_id
        )
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise IntegrityFailure("core.crypto_malformed", "encrypted value is malformed") from exc
    if len(raw) < NONCE_BYTES + TAG_BYTES:
        raise IntegrityFailure("core.crypto_malformed", "encrypted value is too short")
    try:
        plain = _open(cipher, ring.keys[key_id], raw[:NONCE_BYTES], raw[NONCE_BYTES:])
        return plain.decode()
    except (InvalidTag, UnicodeDecodeError) as exc:
        raise IntegrityFailure("core.crypto_tampered", "encrypted value failed its check") from exc


def key_id_of(token: str) -> str:
    """The key id a stored value was encrypted under (without decrypting it)."""
    return _split(token)[1]


def label_of(token: str) -> str:
    """``<cipher>:<key id>`` of a stored value, for status reports."""
    cipher, key_id, _rest = _split(token)
    return f"{cipher}:{key_id}"


def is_current(token: str) -> bool:
    """Whether a stored value already uses the active cipher and key."""
    return label_of(token) == f"{active_cipher()}:{keyring().active_id}"


def _blind_index_key() -> bytes:
    key: str = getattr(settings, "YIWANG_BLIND_INDEX_KEY", "") or ""
    raw = key.encode()
    if len(raw) < BLIND_INDEX_KEY_MIN_BYTES:
        raise ImproperlyConfigured(
            f"YIWANG_BLIND_INDEX_KEY must be set, at least {BLIND_INDEX_KEY_MIN_BYTES} bytes"
        )
    return raw


def normalise_for_index(value: str) -> str:
    """Full-width to half-width, no surrounding space, upper case: ``"３４…x "`` and ``"34…X"``
    are the same person."""
    return unicodedata.normalize("NFKC", value).strip().upper()


def blind_index(value: str, *, purpose: str) -> str:
    """Keyed HMAC-SM3 of ``value`` for equality lookups; ``purpose`` (e.g. ``"id_number"``,
    ``"phone"``) separates the domains, so the same digits give unrelated indexes in
    different columns. Returns 64 hex characters."""
    if not _PURPOSE_RE.fullmatch(purpose):
        raise ValueError("purpose must be 1-64 characters of a-z, 0-9, '_' or '.'")
    mac = crypto_hmac.HMAC(_blind_index_key(), hashes.SM3())
    # The purpose can hold no NUL, so "purpose\0value" is an unambiguous encoding.
    mac.update(purpose.encode() + b"\x00" + normalise_for_index(value).encode())
    return mac.finalize().hex()


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
