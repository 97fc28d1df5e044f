"""tlog-proof bundles: a valid bundle verifies offline against a 2-of-3 policy; every failure
is a reason, and garbage or mutations never raise and never verify."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from yiwang.core.signing import Ed25519Signer, SM2Signer
from yiwang.ledger import merkle
from yiwang.ledger.bundle import (
    MAX_BUNDLE_BYTES,
    REASONS,
    BundleError,
    bundle_format,
    bundle_parse,
    bundle_verify,
)
from yiwang.ledger.checkpoint import Checkpoint, checkpoint_format
from yiwang.ledger.note import (
    TYPE_COSIGNATURE,
    TYPE_ED25519,
    TYPE_ESCAPE,
    cosign,
    note_sign,
    vkey_format,
)

ORIGIN = "ledger.luan.example/certificates"
ZERO_HASH = base64.b64encode(bytes(32)).decode()
LEAVES = [f'{{"v":1,"n":{i}}}'.encode() for i in range(13)]


@dataclass
class Log:
    log: Ed25519Signer
    sm2: SM2Signer
    witnesses: dict[str, Ed25519Signer]
    policy: str

    def bundle(self, index: int, cosigners: tuple[str, ...] = ("w1", "w2"), size: int = 13) -> str:
        hashes = [merkle.leaf_hash(leaf) for leaf in LEAVES[:size]]
        text = checkpoint_format(Checkpoint(ORIGIN, size, merkle.root(hashes)))
        note = note_sign(text, [(ORIGIN, self.log), (ORIGIN, self.sm2)])
        for name in cosigners:
            note += cosign(text, f"{name}.example", self.witnesses[name], 1_764_000_000)
        proof = merkle.inclusion_proof(index, size, hashes)
        return bundle_format(index, proof, note, extra=LEAVES[index])


@pytest.fixture(scope="module")
def log() -> Log:
    signer, sm2 = Ed25519Signer.generate(), SM2Signer.generate()
    witnesses = {name: Ed25519Signer.generate() for name in ("w1", "w2", "w3")}
    lines = [
        f"log {vkey_format(ORIGIN, TYPE_ED25519, signer.public_key())}",
        f"log {vkey_format(ORIGIN, TYPE_ESCAPE, sm2.public_key())}",
        *(
            f"witness {n} {vkey_format(f'{n}.example', TYPE_COSIGNATURE, w.public_key())}"
            for n, w in witnesses.items()
        ),
        "group departments 2 w1 w2 w3",
        "quorum departments",
    ]
    return Log(signer, sm2, witnesses, "\n".join(lines) + "\n")


def test_valid_bundle_verifies_offline(log: Log) -> None:
    for index in range(13):
        result = bundle_verify(log.bundle(index), log.policy)

        assert (result.ok, result.reason, result.index, result.size) == (True, "ok", index, 13)
    assert result.origin == ORIGIN
    assert result.cosigners == ("w1", "w2")
    assert result.quorum_met is True
    assert result.extra == LEAVES[12]
    assert result.message == "证明有效：该记录已写入账本，并经见证方共同签名"


def test_caller_leaf_input_takes_precedence(log: Log) -> None:
    bundle = log.bundle(3)

    assert bundle_verify(bundle, log.policy, leaf_input=LEAVES[3]).ok is True
    assert bundle_verify(bundle, log.policy, leaf_input=LEAVES[4]).reason == "bad_inclusion"


def test_round_trip_parse(log: Log) -> None:
    text = log.bundle(5)

    bundle = bundle_parse(text)

    assert (bundle.index, bundle.extra) == (5, LEAVES[5])
    assert bundle_format(bundle.index, bundle.proof, bundle.checkpoint_note, bundle.extra) == text


def test_one_cosignature_does_not_meet_two_of_three(log: Log) -> None:
    result = bundle_verify(log.bundle(1, cosigners=("w3",)), log.policy)

    assert (result.ok, result.reason, result.cosigners, result.quorum_met) == (
        False,
        "quorum_not_met",
        ("w3",),
        False,
    )


def test_forged_cosignature_rejected(log: Log) -> None:
    bundle = log.bundle(1, cosigners=("w1", "w2", "w3"))
    lines = bundle.split("\n")
    w3 = next(i for i, line in enumerate(lines) if line.startswith("— w3.example "))
    raw = bytearray(base64.b64decode(lines[w3].split(" ")[2]))
    raw[-1] ^= 1
    lines[w3] = "— w3.example " + base64.b64encode(bytes(raw)).decode()

    result = bundle_verify("\n".join(lines), log.policy)

    assert (result.ok, result.reason) == (False, "bad_cosignature")


def test_other_log_key_rejected(log: Log) -> None:
    other = Ed25519Signer.generate()
    policy = log.policy.replace(
        vkey_format(ORIGIN, TYPE_ED25519, log.log.public_key()),
        vkey_format(ORIGIN, TYPE_ED25519, other.public_key()),
    ).replace(vkey_format(ORIGIN, TYPE_ESCAPE, log.sm2.public_key()), "")
    policy = "\n".join(line for line in policy.split("\n") if line.strip() != "log")

    assert bundle_verify(log.bundle(0), policy).reason == "bad_log_signature"
    assert bundle_verify(log.bundle(0), policy.replace(ORIGIN, "x.example")).reason in (
        "unknown_origin",
        "bad_policy",
    )


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda b: b.replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2"), "malformed"),
        (lambda b: b.replace("index 4\n", "index 04\n"), "malformed"),
        (lambda b: b.replace("index 4\n", "index 5\n"), "bad_inclusion"),
        (lambda b: b.replace("index 4\n", "index 13\n"), "index_out_of_range"),
        (lambda b: b.replace("index 4\n", f"index {2**64}\n"), "malformed"),
        (lambda b: b.replace("index 4\n", "index 99999999999999999999999999\n"), "malformed"),
        (lambda b: b.replace("\n13\n", "\n14\n"), "bad_log_signature"),
        (lambda b: b.split("\n\n")[0], "malformed"),
        (lambda b: b[: b.index("index 4\n") + 20], "malformed"),
        (lambda b: b[: b.index(ORIGIN) + 40], "bad_checkpoint"),
        (lambda b: b[:-30], "bad_checkpoint"),
        (lambda b: b.replace("extra ", "extra !"), "malformed"),
        (lambda b: b + "\x00", "bad_checkpoint"),
        (lambda b: "x" * (MAX_BUNDLE_BYTES + 1), "too_large"),
        (lambda b: b.replace("index 4\n", "index 4\n" + "AAAA\n"), "malformed"),
        (
            lambda b: b.replace("index 4\n", "index 4\n" + (ZERO_HASH + "\n") * 70),
            "malformed",
        ),
    ],
)
def test_mutations_give_reasons(log: Log, mutate: object, reason: str) -> None:
    bundle = log.bundle(4)

    result = bundle_verify(mutate(bundle), log.policy)  # type: ignore[operator]

    assert (result.ok, result.reason) == (False, reason)
    assert result.message == str(REASONS[reason])


def test_no_extra_and_no_leaf_input(log: Log) -> None:
    bundle = bundle_parse(log.bundle(2))
    bare = bundle_format(bundle.index, bundle.proof, bundle.checkpoint_note)

    assert bundle_verify(bare, log.policy).reason == "no_leaf"
    assert bundle_verify(bare, log.policy, leaf_input=LEAVES[2]).ok is True


def test_bad_policy_and_bad_bytes(log: Log) -> None:
    assert bundle_verify(log.bundle(0), "quorum nobody\n").reason == "bad_policy"
    assert bundle_verify(b"\xff\xfe", log.policy).reason == "not_text"


def test_parse_error_is_typed() -> None:
    with pytest.raises(BundleError, match="malformed"):
        bundle_parse("c2sp.org/tlog-proof@v1\nindex x\n\nnote\n")


@hsettings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.one_of(st.text(max_size=3000), st.binary(max_size=3000)))
def test_garbage_never_raises_never_verifies(log: Log, data: str | bytes) -> None:
    result = bundle_verify(data, log.policy)

    assert result.ok is False
    assert result.reason in REASONS


@hsettings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    position=st.integers(min_value=0, max_value=10_000),
    action=st.sampled_from(["flip", "delete", "insert", "duplicate"]),
    char=st.characters(),
)
def test_mutated_bundle_never_raises_never_verifies(
    log: Log, position: int, action: str, char: str
) -> None:
    bundle = log.bundle(7, cosigners=("w1", "w2"))
    position %= len(bundle)
    if action == "flip":
        mutated = bundle[:position] + chr(ord(bundle[position]) ^ 1) + bundle[position + 1 :]
    elif action == "delete":
        mutated = bundle[:position] + bundle[position + 1 :]
    elif action == "insert":
        mutated = bundle[:position] + char + bundle[position:]
    else:
        mutated = bundle[:position] + bundle[position:] * 2

    result = bundle_verify(mutated, log.policy)

    assert result.reason in REASONS
    if result.ok:
        # Only mutations outside the signed and hashed data can still verify: the unsigned
        # part of a signature line that is ignored (an unknown key) does not exist here, so
        # the bundle must be byte-identical in every field that matters.
        assert bundle_parse(mutated).checkpoint_note.split("\n\n")[0] == bundle.split("\n\n")[1]
        assert result.extra == LEAVES[7]
        assert result.cosigners == ("w1", "w2")
