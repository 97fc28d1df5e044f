"""The credential's proofs: the W3C eddsa-jcs-2022 test vector, the SM2 proof, hostile input."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import base58
import pytest

from yiwang.certificates import credential as vc
from yiwang.core import signing

VECTOR_PUBLIC = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
VECTOR_PRIVATE = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
VECTOR_CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://www.w3.org/ns/credentials/examples/v2",
]
VECTOR_METHOD = "https://vc.example/issuers/5678#" + VECTOR_PUBLIC
VECTOR_PROOF_VALUE = (
    "z63t83Y53KfzJ5ZosfKTnqfMcKB2dmTrfjSaQjeNNjAD5srBowQfmWqeRb8rRjmeEuCBEsddF9LsVogtuTsijJKh4"
)
VECTOR_DOC_HASH = "59b7cb6251b8991add1ce0bc83107e3db9dbbab5bd2c28f687db1a03abc92f19"
VECTOR_PROOF_HASH = "66ab154f5c2890a140cb8388a22a160454f80575f6eae09e5a097cabe539a1db"


def vector_unsigned() -> dict[str, Any]:
    return {
        "@context": list(VECTOR_CONTEXT),
        "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
        "type": ["VerifiableCredential", "AlumniCredential"],
        "name": "Alumni Credential",
        "description": "A minimum viable example of an Alumni Credential.",
        "issuer": "https://vc.example/issuers/5678",
        "validFrom": "2023-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
    }


def vector_signed() -> dict[str, Any]:
    return {
        **vector_unsigned(),
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "created": "2023-02-24T23:36:38Z",
            "verificationMethod": VECTOR_METHOD,
            "proofPurpose": "assertionMethod",
            "@context": list(VECTOR_CONTEXT),
            "proofValue": VECTOR_PROOF_VALUE,
        },
    }


def vector_signer() -> signing.Ed25519Signer:
    raw = base58.b58decode(VECTOR_PRIVATE[1:])
    assert raw[:2] == b"\x80\x26"
    return signing.Ed25519Signer.from_private_bytes(raw[2:])


# proofCanonJCS.txt / proofHashJCS.txt of the vectors use a did:key verification method, while
# signedJCS.json was signed with the https one (its signature, sigHexJCS.txt, signs the hash of
# that config): the repository's files were regenerated at different times. Both are checked.
VECTOR_PROOF_CANON = (
    '{"@context":["https://www.w3.org/ns/credentials/v2",'
    '"https://www.w3.org/ns/credentials/examples/v2"],"created":"2023-02-24T23:36:38Z",'
    '"cryptosuite":"eddsa-jcs-2022","proofPurpose":"assertionMethod","type":"DataIntegrityProof",'
    '"verificationMethod":"did:key:' + VECTOR_PUBLIC + "#" + VECTOR_PUBLIC + '"}'
)
VECTOR_SIG_HEX = (
    "fc91dec6565f35fbe185a77352e7fc512f95d1904da305cfef32ab8135469301"
    "f5a72d4e7a58368fc6ffc497b44633993bac054e3bc1436e3c846db8f1544503"
)


def test_vector_hashes() -> None:
    signed = vector_signed()
    signed.pop("proof")
    assert hashlib.sha256(vc.jcs(signed)).hexdigest() == VECTOR_DOC_HASH
    config = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": "2023-02-24T23:36:38Z",
        "verificationMethod": vc.verification_method("ed25519", vector_signer().public_key()),
        "proofPurpose": "assertionMethod",
        "@context": list(VECTOR_CONTEXT),
    }
    assert vc.jcs(config).decode() == VECTOR_PROOF_CANON
    assert hashlib.sha256(vc.jcs(config)).hexdigest() == VECTOR_PROOF_HASH


def test_vector_proof_value_is_the_published_signature() -> None:
    assert base58.b58decode(VECTOR_PROOF_VALUE[1:]).hex() == VECTOR_SIG_HEX


def test_vector_key_is_the_published_multikey() -> None:
    signer = vector_signer()
    assert vc.multibase_encode(vc.ED25519_MULTICODEC + signer.public_key()) == VECTOR_PUBLIC


def test_signing_the_vector_reproduces_its_proof_value() -> None:
    proof = vc.proof_create(
        vector_unsigned(), vector_signer(), created="2023-02-24T23:36:38Z", method=VECTOR_METHOD
    )
    assert proof == vector_signed()["proof"]
    assert proof["proofValue"] == VECTOR_PROOF_VALUE


def test_vector_verifies() -> None:
    result = vc.credential_verify(vector_signed(), {"https://vc.example/issuers/5678"})
    assert result.ok is True
    assert [(p.cryptosuite, p.ok) for p in result.proofs] == [("eddsa-jcs-2022", True)]


def test_vector_with_one_changed_character_fails() -> None:
    signed = vector_signed()
    signed["credentialSubject"]["alumniOf"] = "The School of Examplez"
    result = vc.credential_verify(signed, {"https://vc.example/issuers/5678"})
    assert result.ok is False
    assert result.reason == "eddsa-jcs-2022: signature does not verify"


def test_vector_with_changed_proof_value_fails() -> None:
    signed = vector_signed()
    value = signed["proof"]["proofValue"]
    signed["proof"]["proofValue"] = value[:-1] + ("5" if value[-1] != "5" else "6")
    assert vc.credential_verify(signed, {"https://vc.example/issuers/5678"}).ok is False


def test_vector_untrusted_key_fails() -> None:
    result = vc.credential_verify(vector_signed(), {"did:key:somebody-else"})
    assert result.ok is False
    assert result.reason == "eddsa-jcs-2022: key not trusted"


def test_vector_proof_context_must_prefix_document_context() -> None:
    signed = vector_signed()
    signed["@context"] = ["https://www.w3.org/ns/credentials/v2"]
    result = vc.credential_verify(signed, {"https://vc.example/issuers/5678"})
    assert result.reason == "eddsa-jcs-2022: proof @context does not match the document"


def _sample() -> tuple[dict[str, Any], set[str], signing.Ed25519Signer, signing.SM2Signer]:
    ed = signing.Ed25519Signer.generate()
    sm = signing.SM2Signer.generate()
    unsecured = vc.credential_build(
        public_id="2f1e0c55-9a53-4c1f-8d9a-2f8f2a7f0a01",
        identifier="1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F",
        type_code="11100000000013338W032",
        type_name="建筑施工特种作业人员操作资格证书",
        issuer_id=vc.did_key("ed25519", ed.public_key()),
        issuer_name="六安市住房和城乡建设局",
        issuer_uscc="11220000013544541J",
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_until=None,
        holder_name_masked="张*",
        holder_id_masked="3415**********0012",
        holder_type="111",
        holder_commitment_value=vc.holder_commitment(b"s" * 16, "341502199001010012"),
        face={"category": "建筑电工", "score": 1.0},
        version=1,
        trust_grade="A",
        status_url="https://zw.example/certificates/verify/x",
    )
    signed = vc.credential_sign(unsecured, [ed, sm], created="2026-01-01T00:00:00Z")
    trusted = {vc.did_key("ed25519", ed.public_key()), vc.did_key("sm2", sm.public_key())}
    return signed, trusted, ed, sm


def test_proof_set_has_both_proofs_and_verifies() -> None:
    signed, trusted, _ed, _sm = _sample()
    assert [p["cryptosuite"] for p in signed["proof"]] == ["eddsa-jcs-2022", "sm2-jcs-2025-yiwang"]
    assert "validUntil" not in signed
    assert "341502199001010012" not in json.dumps(signed)
    result = vc.credential_verify(signed, trusted)
    assert result.ok is True
    assert [(p.cryptosuite, p.ok) for p in result.proofs] == [
        ("eddsa-jcs-2022", True),
        ("sm2-jcs-2025-yiwang", True),
    ]


def test_sm2_proof_alone_catches_a_change() -> None:
    signed, trusted, _ed, _sm = _sample()
    signed["proof"] = signed["proof"][1]
    assert vc.credential_verify(signed, trusted).ok is True
    signed["credentialSubject"]["face"]["category"] = "建筑架子工"
    result = vc.credential_verify(signed, trusted)
    assert result.reason == "sm2-jcs-2025-yiwang: signature does not verify"


def test_one_bad_proof_of_the_set_fails_the_credential() -> None:
    signed, trusted, _ed, _sm = _sample()
    other = signing.SM2Signer.generate()
    signed["proof"][1] = vc.proof_create(
        {k: v for k, v in signed.items() if k != "proof"},
        other,
        created="2026-01-01T00:00:00Z",
    )
    result = vc.credential_verify(signed, trusted)
    assert result.ok is False
    assert result.reason == "sm2-jcs-2025-yiwang: key not trusted"


def test_unknown_cryptosuite_is_ignored_but_not_enough() -> None:
    signed, trusted, _ed, _sm = _sample()
    foreign = {**signed["proof"][0], "cryptosuite": "ecdsa-rdfc-2019"}
    assert vc.credential_verify({**signed, "proof": [foreign]}, trusted).reason == (
        "no proof of a known cryptosuite"
    )
    assert vc.credential_verify({**signed, "proof": [*signed["proof"], foreign]}, trusted).ok


def test_holder_commitment_binds_salt_and_number() -> None:
    salt = b"k" * 16
    assert vc.holder_commitment(salt, "341502199001010012") == vc.holder_commitment(
        salt, "341502199001010012 "
    )
    assert vc.holder_commitment(salt, "341502199001010012") != vc.holder_commitment(
        b"j" * 16, "341502199001010012"
    )


def test_hostile_input_gives_reasons_not_exceptions() -> None:
    signed, trusted, _ed, _sm = _sample()
    cases: list[tuple[Any, str]] = [
        (None, "credential is not a JSON object"),
        ([], "credential is not a JSON object"),
        ({"a": 1}, "no proof"),
        ({**signed, "proof": []}, "proof set empty or too large"),
        ({**signed, "proof": [signed["proof"][0]] * 9}, "proof set empty or too large"),
        ({**signed, "proof": "x"}, "proof is not an object"),
        ({**signed, "x": float("nan")}, "cannot canonicalise: nan is not representable in JCS"),
        ({**signed, "x": "a" * (300 * 1024)}, "credential too large"),
    ]
    for document, reason in cases:
        result = vc.credential_verify(document, trusted)
        assert (result.ok, result.reason) == (False, reason)
    broken = copy.deepcopy(signed)
    broken["proof"][0]["proofValue"] = "zO0Il"  # not base58
    assert vc.credential_verify(broken, trusted).reason.startswith(
        "eddsa-jcs-2022: malformed key or proofValue"
    )
    broken = copy.deepcopy(signed)
    broken["proof"][0]["verificationMethod"] = "did:key:zzzz"
    assert vc.credential_verify(broken, trusted).reason.startswith(
        "eddsa-jcs-2022: malformed key or proofValue"
    )
    broken = copy.deepcopy(signed)
    del broken["proof"][0]["proofValue"]
    assert vc.credential_verify(broken, trusted).reason == "eddsa-jcs-2022: proofValue missing"


def test_benchmark_returns_a_rate() -> None:
    assert vc.credential_verify_benchmark(5) > 0


# --- the offline verifier command ---------------------------------------------------------


def _run(*args: str) -> tuple[int, str, str]:
    from io import StringIO

    from django.core.management import call_command

    out, err = StringIO(), StringIO()
    try:
        call_command("certificates", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_verify_command_checks_proofs_and_that_the_bundle_commits_to_the_credential(
    tmp_path: Path,
) -> None:
    from yiwang.certificates.tests.test_services import entry_of, issue, make_world
    from yiwang.ledger.selectors import entry_bundle, log_policy_text
    from yiwang.ledger.services import checkpoint_publish, ledger_integrate

    world = make_world()
    certificate = issue(world)
    other = issue(world, holder=world.other_citizen)
    ledger_integrate()
    checkpoint_publish()
    entry = entry_of(certificate)
    bundle = entry_bundle(entry)
    assert bundle is not None
    files = {
        "cred.json": json.dumps(certificate.credential, ensure_ascii=False),
        "other.json": json.dumps(other.credential, ensure_ascii=False),
        "bundle.txt": bundle,
        "policy.txt": log_policy_text(),
        "bad.json": "{not json",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    p = {name: str(tmp_path / name) for name in files}

    code, out, _err = _run("verify", p["cred.json"])
    assert code == 0
    assert out.splitlines()[:2] == ["eddsa-jcs-2022: 通过", "sm2-jcs-2025-yiwang: 通过"]
    code, out, err = _run(
        "verify", p["cred.json"], "--bundle", p["bundle.txt"], "--policy", p["policy.txt"]
    )
    assert (code, err) == (0, "")
    assert f"凭证已记入账本第 {entry.index} 条" in out
    # the bundle of one certificate does not vouch for another
    code, _out, err = _run(
        "verify", p["other.json"], "--bundle", p["bundle.txt"], "--policy", p["policy.txt"]
    )
    assert (code, err.strip()) == (1, "账本条目记录的凭证摘要与此凭证不符")
    # a changed credential fails its proofs
    changed = dict(certificate.credential)
    changed["name"] = "伪造证书"
    (tmp_path / "changed.json").write_text(json.dumps(changed), encoding="utf-8")
    code, _out, err = _run("verify", str(tmp_path / "changed.json"))
    assert code == 1
    assert "signature does not verify" in err
    # an untrusted issuer
    code, _out, err = _run("verify", p["cred.json"], "--trust", "did:key:z6MkSomebodyElse")
    assert code == 1
    # malformed input
    assert _run("verify", p["bad.json"])[0] == 2
    assert _run("verify", str(tmp_path / "missing.json"))[0] == 2
    assert _run("verify", p["cred.json"], "--bundle", p["bundle.txt"])[0] == 2
    (tmp_path / "junk.txt").write_text("garbage", encoding="utf-8")
    assert (
        _run(
            "verify",
            p["cred.json"],
            "--bundle",
            str(tmp_path / "junk.txt"),
            "--policy",
            p["policy.txt"],
        )[0]
        == 2
    )


def test_verify_command_refuses_a_credential_outside_its_validity_period() -> None:
    from yiwang.certificates.management.commands.certificates import validity_problem

    now = datetime(2026, 6, 1, tzinfo=UTC)
    assert validity_problem({"validFrom": "2026-01-01T00:00:00Z"}, now) == ""
    assert validity_problem({"validUntil": "2026-05-31T16:00:00Z"}, now) == (
        "凭证不在有效期内（validUntil 2026-05-31T16:00:00Z）"
    )
    assert validity_problem({"validFrom": "2027-01-01T00:00:00Z"}, now) == (
        "凭证不在有效期内（validFrom 2027-01-01T00:00:00Z）"
    )
    assert validity_problem({"validFrom": "soon"}, now) == "validFrom 不是有效的时间：soon"
