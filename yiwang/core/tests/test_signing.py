from __future__ import annotations

import threading

import gmssl_pyx
import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from yiwang.core import signing
from yiwang.core.models import SigningKey


@pytest.mark.parametrize("algorithm", signing.ALGORITHMS)
def test_a_signature_verifies_and_a_changed_message_does_not(algorithm):
    key = signing.generate(algorithm)
    signature = key.sign(b"1.2.156.3005.2 issue")
    assert signing.verify(algorithm, key.public_key(), b"1.2.156.3005.2 issue", signature)
    assert not signing.verify(algorithm, key.public_key(), b"1.2.156.3005.2 issuf", signature)
    other = signing.generate(algorithm)
    assert not signing.verify(algorithm, other.public_key(), b"1.2.156.3005.2 issue", signature)


@pytest.mark.parametrize("algorithm", signing.ALGORITHMS)
def test_a_key_survives_its_stored_form(algorithm):
    key = signing.generate(algorithm)
    again = signing.load(algorithm, key.private_bytes())
    assert again.public_key() == key.public_key()
    assert signing.verify(algorithm, key.public_key(), b"m", again.sign(b"m"))


@pytest.mark.parametrize(
    ("algorithm", "public_key", "signature"),
    [
        ("ed25519", b"", b""),
        ("ed25519", b"\x00" * 32, b"\x00" * 63),
        ("ed25519", b"\x00" * 31, b"\x00" * 64),
        ("sm2", b"\x04" + b"\x00" * 64, b"0\x06\x02\x01\x01\x02\x01\x01"),
        ("sm2", b"\x04" + b"\x01" * 63, b"\x30" * 70),
        ("sm2", b"\x05" + b"\x01" * 64, b"\x30" * 70),
        ("sm2", b"\x04" + b"\x01" * 64, b"\x30" * 500),
        ("rsa", b"\x00" * 32, b"\x00" * 64),
    ],
)
def test_malformed_keys_and_signatures_are_false_not_errors(algorithm, public_key, signature):
    assert signing.verify(algorithm, public_key, b"m", signature) is False


def test_sm2_agrees_with_an_independent_implementation():
    """Tongsuo signs, GmSSL (gmssl-pyx) verifies, and the other way round; both use the
    default distinguishing ID, so a disagreement would show a Z-value or encoding mistake."""
    ours = signing.SM2Signer.generate()
    signature = ours.sign("电子证照".encode())
    assert gmssl_pyx.sm2_verify(ours.public_key()[1:], "电子证照".encode(), signature)
    assert not gmssl_pyx.sm2_verify(ours.public_key()[1:], "电子证照!".encode(), signature)

    public, private = gmssl_pyx.sm2_key_generate()
    theirs = gmssl_pyx.sm2_sign(private, public, b"checkpoint")
    assert signing.verify("sm2", b"\x04" + public, b"checkpoint", theirs)
    assert not signing.verify("sm2", b"\x04" + public, b"checkpoinT", theirs)


@pytest.mark.django_db
def test_the_store_creates_a_key_once_and_keeps_the_private_half_encrypted():
    first = signing.signer("ledger.test", "ed25519")
    second = signing.signer("ledger.test", "ed25519")
    assert first.public_key() == second.public_key()
    assert signing.signer("ledger.test", "sm2").public_key() != first.public_key()
    assert SigningKey.objects.filter(name="ledger.test").count() == 2
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT private_key FROM core_signingkey WHERE name = %s AND algorithm = %s",
            ["ledger.test", "ed25519"],
        )
        stored = cursor.fetchone()[0]
    private_hex = (
        signing.load(
            "ed25519",
            bytes.fromhex(
                SigningKey.objects.get(name="ledger.test", algorithm="ed25519").private_key
            ),
        )
        .private_bytes()
        .hex()
    )
    assert private_hex not in stored
    assert stored.startswith(("sm4-gcm:", "aes-gcm:"))


@pytest.mark.django_db
def test_an_unknown_algorithm_is_refused():
    with pytest.raises(ValueError, match="unknown signature algorithm"):
        signing.signer("x", "rsa")  # type: ignore[arg-type]


@pytest.mark.django_db(transaction=True)
def test_two_first_callers_end_up_with_the_same_key():
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent writers (PostgreSQL)")
    keys: list[bytes] = []
    barrier = threading.Barrier(2)

    def take() -> None:
        barrier.wait()
        try:
            keys.append(signing.signer("ledger.race", "ed25519").public_key())
        finally:
            connection.close()

    threads = [threading.Thread(target=take) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 2
    assert keys[0] == keys[1]
    assert SigningKey.objects.filter(name="ledger.race").count() == 1


_SM2_KEY = signing.SM2Signer.generate()


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=8, max_size=72))
def test_hostile_sm2_signatures_never_raise(garbage):
    """Tongsuo raises InternalError on some malformed DER instead of answering False."""
    for signature in (garbage, b"\x30" + bytes([len(garbage) - 2]) + garbage[2:]):
        assert signing.verify("sm2", _SM2_KEY.public_key(), b"m", signature) is False
