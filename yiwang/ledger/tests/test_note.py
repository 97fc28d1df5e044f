"""Signed notes: the C2SP example, key IDs, the verification rules, SM2 and cosignature lines."""

from __future__ import annotations

import base64
import hashlib

import gmssl_pyx
import pytest

from yiwang.core.signing import Ed25519Signer, SM2Signer, sm2_der_well_formed
from yiwang.ledger.note import (
    EM_DASH,
    MAX_NOTE_BYTES,
    MAX_SIGNATURES,
    SM2_TYPE,
    TYPE_COSIGNATURE,
    TYPE_ED25519,
    TYPE_ESCAPE,
    NoteError,
    cosign,
    cosignature_verify,
    key_id,
    note_parse,
    note_sign,
    note_verify,
    vkey_format,
    vkey_parse,
)

# c2sp.org/signed-note, "Verifier keys" example, and the example note it verifies.
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_TEXT = "This is an example message.\n"
SPEC_SIG = (
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM="
)
SPEC_NOTE = f"{SPEC_TEXT}\n{EM_DASH} example.com/foo {SPEC_SIG}\n"
# golang.org/x/mod sumdb/note package documentation example.
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_NOTE = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
    "\n"
    f"{EM_DASH} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvq"
    "fqdngotpRZb6KE6RyyBwJnAM=\n"
)


def test_spec_example_verifies() -> None:
    vkey = vkey_parse(SPEC_VKEY)

    note = note_verify(SPEC_NOTE, [vkey])

    assert note.text == SPEC_TEXT
    assert note.verified == (vkey,)
    assert vkey.name == "example.com/foo"
    assert vkey.type_byte == TYPE_ED25519
    assert str(vkey) == SPEC_VKEY


def test_go_sumdb_example_verifies() -> None:
    note = note_verify(GO_NOTE, [vkey_parse(GO_VKEY)])

    assert note.text.startswith("If you think cryptography")


def test_spec_key_id_recomputed() -> None:
    raw = base64.b64decode("AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")

    assert key_id("example.com/foo", raw[0], raw[1:]).hex() == "530d903a"
    assert hashlib.sha256(b"example.com/foo\n" + raw).digest()[:4] == key_id(
        "example.com/foo", 1, raw[1:]
    )


def test_vkey_with_wrong_key_id_refused() -> None:
    with pytest.raises(NoteError, match="key ID does not match"):
        vkey_parse("example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")


def test_tampered_text_rejected() -> None:
    with pytest.raises(NoteError, match="does not verify"):
        note_verify(
            SPEC_NOTE.replace("example message", "exemple message"), [vkey_parse(SPEC_VKEY)]
        )


def test_unknown_key_ignored_and_alone_rejected() -> None:
    other = Ed25519Signer.generate()
    vkey = vkey_parse(SPEC_VKEY)
    extra_line = note_sign(SPEC_TEXT, [("other.example/key", other)]).split("\n\n")[1]

    note = note_verify(SPEC_NOTE + extra_line, [vkey])

    assert note.verified == (vkey,)
    assert len(note.signatures) == 2
    with pytest.raises(NoteError, match="no signature from a known key"):
        note_verify(SPEC_TEXT + "\n" + extra_line, [vkey])


def test_same_name_other_id_is_unknown() -> None:
    """A key sharing the name but not the ID is another key: ignored, not failed."""
    impostor = Ed25519Signer.generate()
    line = note_sign(SPEC_TEXT, [("example.com/foo", impostor)]).split("\n\n")[1]

    note = note_verify(SPEC_NOTE + line, [vkey_parse(SPEC_VKEY)])

    assert len(note.verified) == 1


def test_known_key_with_bad_signature_rejects_whole_note() -> None:
    good = Ed25519Signer.generate()
    bad = Ed25519Signer.generate()
    good_vkey = vkey_parse(vkey_format("a.example", TYPE_ED25519, good.public_key()))
    bad_vkey = vkey_parse(vkey_format("b.example", TYPE_ED25519, bad.public_key()))
    signed = note_sign("hello\n", [("a.example", good), ("b.example", bad)])
    # Re-sign b's line over another text: its key is known, its signature now fails.
    wrong_b = note_sign("other\n", [("b.example", bad)]).split("\n\n")[1]
    forged = (
        signed.split("\n\n")[0] + "\n\n" + signed.split("\n\n")[1].split("\n")[0] + "\n" + wrong_b
    )

    assert note_verify(signed, [good_vkey, bad_vkey]).verified == (good_vkey, bad_vkey)
    assert note_verify(forged, [good_vkey]).verified == (good_vkey,)
    with pytest.raises(NoteError, match=r"b\.example does not verify"):
        note_verify(forged, [good_vkey, bad_vkey])


def test_sixteen_signatures_accepted_and_limit_enforced() -> None:
    signers = [(f"s{i}.example", Ed25519Signer.generate()) for i in range(16)]
    vkeys = [vkey_parse(vkey_format(n, TYPE_ED25519, s.public_key())) for n, s in signers]

    note = note_verify(note_sign("text\n", signers), vkeys)

    assert len(note.verified) == 16
    many = "text\n\n" + f"{EM_DASH} x.example AAAAAAA=\n" * (MAX_SIGNATURES + 1)
    with pytest.raises(NoteError, match="too many signatures"):
        note_parse(many)
    with pytest.raises(NoteError, match="too large"):
        note_parse("a" * MAX_NOTE_BYTES + "\n\n" + f"{EM_DASH} x.example AAAAAAA=\n")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("no signatures\n", "no signature block"),
        ("text\n\n", "no signatures"),
        ("text\n\n— x.example AAAAAAA=", "end with a newline"),
        ("text\n\n- x.example AAAAAAA=\n", "malformed signature line"),
        ("text\n\n— x.example AAAA AAA=\n", "malformed signature line"),
        ("text\n\n— x.example AAAA!AA=\n", "invalid base64"),
        ("text\n\n— x.example AAAA\n", "too short"),
        ("text\n\n— x.exa+mple AAAAAAA=\n", "key name"),
        ("te\x01xt\n\n— x.example AAAAAAA=\n", "control"),
        ("text\r\n\n— x.example AAAAAAA=\n", "control"),
        (b"t\xffext\n\n\xe2\x80\x94 x.example AAAAAAA=\n", "UTF-8"),
    ],
)
def test_malformed_notes_refused(raw: str | bytes, reason: str) -> None:
    with pytest.raises(NoteError, match=reason):
        note_parse(raw)


def test_sm2_line_verifies_and_cross_checks_with_gmssl() -> None:
    sm2 = SM2Signer.generate()
    ed = Ed25519Signer.generate()
    signed = note_sign("log.example\n1\nAAAA\n", [("log.example", ed), ("log.example", sm2)])
    sm2_vkey = vkey_parse(vkey_format("log.example", TYPE_ESCAPE, sm2.public_key()))
    ed_vkey = vkey_parse(vkey_format("log.example", TYPE_ED25519, ed.public_key()))

    note = note_verify(signed, [sm2_vkey, ed_vkey])

    assert note.verified == (ed_vkey, sm2_vkey)
    sm2_sig = note.signatures[1]
    assert (
        sm2_sig.key_id
        == hashlib.sha256(b"log.example\n" + SM2_TYPE + sm2.public_key()).digest()[:4]
    )
    assert base64.b64decode(str(sm2_vkey).split("+", 2)[2])[:16] == b"\xff\x0eyiwang-sm2-sm3"
    assert gmssl_pyx.sm2_verify(sm2.public_key()[1:], note.text.encode(), sm2_sig.sig_bytes) is True
    assert gmssl_pyx.sm2_verify(sm2.public_key()[1:], b"other", sm2_sig.sig_bytes) is False


def test_sm2_line_from_gmssl_verifies() -> None:
    """A signature made by another SM2 implementation verifies as a note line."""
    public, private = gmssl_pyx.sm2_key_generate()
    text = "log.example\n2\nAAAA\n"
    der = gmssl_pyx.sm2_sign(private, public, text.encode())
    point = b"\x04" + public
    kid = key_id("log.example", TYPE_ESCAPE, point)
    raw = text + f"\n{EM_DASH} log.example {base64.b64encode(kid + der).decode()}\n"

    note = note_verify(raw, [vkey_parse(vkey_format("log.example", TYPE_ESCAPE, point))])

    assert note.text == text


def test_cosignature_round_trip_and_tamper() -> None:
    witness = Ed25519Signer.generate()
    vkey = vkey_parse(vkey_format("w1.example", TYPE_COSIGNATURE, witness.public_key()))
    checkpoint = "log.example\n5\n" + base64.b64encode(bytes(32)).decode() + "\n"

    line = cosign(checkpoint, "w1.example", witness, 1_700_000_000)

    assert line.startswith(f"{EM_DASH} w1.example ")
    raw = base64.b64decode(line.split(" ")[2])
    assert len(raw) == 4 + 8 + 64
    assert int.from_bytes(raw[4:12], "big") == 1_700_000_000
    assert raw[:4] == vkey.key_id
    assert cosignature_verify(checkpoint, line, vkey) == 1_700_000_000
    # The signed message is "cosignature/v1\ntime <ts>\n" + checkpoint (tlog-cosignature).
    message = b"cosignature/v1\ntime 1700000000\n" + checkpoint.encode()
    assert witness.key.public_key().verify(raw[12:], message) is None
    with pytest.raises(NoteError, match="does not verify"):
        cosignature_verify(checkpoint.replace("5", "6"), line, vkey)
    with pytest.raises(NoteError, match="timestamp"):
        cosign(checkpoint, "w1.example", witness, 0)


def test_malformed_sm2_der_is_a_failed_signature_not_a_crash() -> None:
    """Found by the bundle fuzz test: tongsuopy raises InternalError on some malformed DER."""
    sm2 = SM2Signer.generate()
    vkey = vkey_parse(vkey_format("log.example", TYPE_ESCAPE, sm2.public_key()))
    text = "log.example\n1\nAAAA\n"
    der = sm2.sign(text.encode())
    flipped = bytes([der[0] ^ 1]) + der[1:]
    line = f"{EM_DASH} log.example {base64.b64encode(vkey.key_id + flipped).decode()}\n"

    assert sm2_der_well_formed(der) is True
    assert sm2_der_well_formed(flipped) is False
    assert sm2_der_well_formed(b"\x30\x06\x02\x01\x00\x02\x01\x00") is True
    assert sm2_der_well_formed(b"\x30\x07\x02\x02\x00\x01\x02\x01\x01") is False  # not minimal
    assert sm2_der_well_formed(b"\x30\x06\x02\x01\x80\x02\x01\x01") is False  # negative
    with pytest.raises(NoteError, match="does not verify"):
        note_verify(text + "\n" + line, [vkey])
