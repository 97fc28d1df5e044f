"""The e-certificate as a W3C Verifiable Credential 2.0 with a proof set (two proofs).

Proofs (VC Data Integrity 1.0; every proof of the set signs the document without ``proof``):

1. ``eddsa-jcs-2022`` (W3C Data Integrity EdDSA Cryptosuites v1.0, a Recommendation): the
   unsecured document and the proof configuration are canonicalised with JCS (RFC 8785),
   hashed with SHA-256, and Ed25519 signs ``proofHash || docHash``; ``proofValue`` is multibase
   base58btc and the key a ``did:key`` (multicodec ed25519-pub 0xed01). Checked against the
   W3C test vector (tests/test_credential.py). Any conforming verifier can check this proof.
2. ``sm2-jcs-2025-yiwang`` (this project's cryptosuite, non-interoperable by design): the same
   transform, SM3 instead of SHA-256, SM2 (SM3withSM2, default ID) over ``proofHash ||
   docHash``, through ``yiwang.core.signing`` so that a certified hardware module can hold the
   key. It exists because the commercial-cryptography evaluation (密评, GB/T 39786) expects
   the national algorithms for signatures on government data, and no W3C cryptosuite defines
   SM2. Verifiers that do not know it ignore it (DI allows unknown proofs of a set); ours
   checks both. Key: ``did:key`` with multicodec sm2-pub 0x1206 over the uncompressed point.

Holder: the credential never carries the plain ID number or USCC. It carries the masked form
(readable by a person at a counter) and ``idCommitment`` = base64url(HMAC-SHA256(salt, ID))
with a random per-certificate salt kept encrypted by the issuer and given to the holder. An
unsalted hash of an 18-digit ID number is brute-forced in hours (about 1e11 plausible numbers);
a secret salt makes the commitment useless to anyone who only has the credential, yet the
holder can disclose salt + number to prove that the credential names them.

``credential_verify`` checks the proofs only (offline); the current status (revoked?) is read
from ``credentialStatus.id`` or from the log. It never raises on malformed input.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import base58
import rfc8785
from cryptography.hazmat.primitives import hashes

from yiwang.core import signing

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
CREDENTIAL_TYPE = "ElectronicCertificate"
EDDSA_SUITE = "eddsa-jcs-2022"
SM2_SUITE = "sm2-jcs-2025-yiwang"
PROOF_TYPE = "DataIntegrityProof"
ED25519_MULTICODEC = b"\xed\x01"
SM2_MULTICODEC = b"\x86\x24"  # varint of 0x1206 (sm2-pub)
ISSUER_KEY = "certificates.issuer"
MAX_CREDENTIAL_BYTES = 256 * 1024
MAX_PROOFS = 8


# --- encodings ----------------------------------------------------------------------------


def multibase_encode(data: bytes) -> str:
    return "z" + base58.b58encode(data).decode("ascii")


def multibase_decode(text: str) -> bytes:
    if not isinstance(text, str) or not text.startswith("z") or len(text) > 512:
        raise ValueError("not multibase base58btc")
    return base58.b58decode(text[1:])


def did_key(algorithm: str, public_key: bytes) -> str:
    prefix = ED25519_MULTICODEC if algorithm == "ed25519" else SM2_MULTICODEC
    return "did:key:" + multibase_encode(prefix + public_key)


def verification_method(algorithm: str, public_key: bytes) -> str:
    did = did_key(algorithm, public_key)
    return f"{did}#{did.removeprefix('did:key:')}"


def multikey_decode(multikey: str) -> tuple[str, bytes]:
    """(algorithm, raw public key) of a ``z…`` multikey; ValueError for anything else."""
    raw = multibase_decode(multikey)
    if raw[:2] == ED25519_MULTICODEC and len(raw) == 2 + signing.ED25519_PUBLIC_BYTES:
        return "ed25519", raw[2:]
    if raw[:2] == SM2_MULTICODEC and len(raw) == 2 + signing.SM2_PUBLIC_BYTES:
        return "sm2", raw[2:]
    raise ValueError("unknown multikey")


def jcs(value: Any) -> bytes:
    return rfc8785.dumps(value)


def sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def _hash(suite: str, data: bytes) -> bytes:
    return hashlib.sha256(data).digest() if suite == EDDSA_SUITE else sm3(data)


def credential_sha256(document: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the JCS form of the whole signed credential: what the ledger entry
    commits to."""
    return hashlib.sha256(jcs(dict(document))).hexdigest()


def holder_commitment(salt: bytes, number: str) -> str:
    mac = hmac.new(salt, number.strip().upper().encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


# --- signing ------------------------------------------------------------------------------


def _hash_data(
    suite: str,
    unsecured: Mapping[str, Any],
    proof_config: Mapping[str, Any],
    canonical: bytes | None = None,
) -> bytes:
    """``hash(JCS(proof config)) || hash(JCS(document))``; ``canonical`` is the document's
    JCS form when the caller already has it (one canonicalisation for every proof)."""
    document = canonical if canonical is not None else jcs(dict(unsecured))
    return _hash(suite, jcs(dict(proof_config))) + _hash(suite, document)


def proof_create(
    unsecured: Mapping[str, Any],
    signer: signing.Signer,
    *,
    created: str,
    method: str | None = None,
    purpose: str = "assertionMethod",
) -> dict[str, Any]:
    """One DataIntegrityProof over ``unsecured`` (which must have no ``proof``)."""
    suite = EDDSA_SUITE if signer.algorithm == "ed25519" else SM2_SUITE
    config: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": suite,
        "created": created,
        "verificationMethod": method or verification_method(signer.algorithm, signer.public_key()),
        "proofPurpose": purpose,
    }
    if "@context" in unsecured:
        config["@context"] = unsecured["@context"]
    signature = signer.sign(_hash_data(suite, unsecured, config))
    return {**config, "proofValue": multibase_encode(signature)}


def credential_sign(
    unsecured: Mapping[str, Any], signers: list[signing.Signer], *, created: str
) -> dict[str, Any]:
    """The document with a proof set (one proof per signer; a single proof is an object)."""
    body = {k: v for k, v in unsecured.items() if k != "proof"}
    proofs = [proof_create(body, s, created=created) for s in signers]
    return {**body, "proof": proofs[0] if len(proofs) == 1 else proofs}


def issuer_signers() -> list[signing.Signer]:
    return [signing.signer(ISSUER_KEY, "ed25519"), signing.signer(ISSUER_KEY, "sm2")]


def issuer_did() -> str:
    return did_key("ed25519", signing.signer(ISSUER_KEY, "ed25519").public_key())


def trusted_issuer_keys() -> set[str]:
    """The DIDs whose proofs this platform accepts: its own issuer keys."""
    return {
        did_key(algorithm, signing.signer(ISSUER_KEY, algorithm).public_key())
        for algorithm in signing.ALGORITHMS
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def credential_build(
    *,
    public_id: str,
    identifier: str,
    type_code: str,
    type_name: str,
    issuer_id: str,
    issuer_name: str,
    issuer_uscc: str,
    valid_from: datetime,
    valid_until: datetime | None,
    holder_name_masked: str,
    holder_id_masked: str,
    holder_type: str,
    holder_commitment_value: str,
    face: Mapping[str, Any],
    version: int,
    trust_grade: str,
    status_url: str,
) -> dict[str, Any]:
    """The unsecured credential (no proof)."""
    document: dict[str, Any] = {
        "@context": [VC_CONTEXT],
        "id": f"urn:uuid:{public_id}",
        "type": ["VerifiableCredential", CREDENTIAL_TYPE],
        "name": type_name,
        "issuer": {"id": issuer_id, "name": issuer_name, "uscc": issuer_uscc},
        "validFrom": _iso(valid_from),
        "credentialSubject": {
            "identifier": identifier,
            "certificateType": {"code": type_code, "name": type_name},
            "version": f"{version:03d}",
            "trustGrade": trust_grade,
            "holder": {
                "name": holder_name_masked,
                "idType": holder_type,
                "idMasked": holder_id_masked,
                "idCommitment": holder_commitment_value,
            },
            "face": dict(face),
        },
        "credentialStatus": {
            "id": status_url,
            "type": "YiwangCertificateStatus",
        },
    }
    if valid_until is not None:
        document["validUntil"] = _iso(valid_until)
    return document


# --- verification -------------------------------------------------------------------------


@dataclass
class ProofCheck:
    cryptosuite: str
    verification_method: str
    ok: bool
    reason: str = ""


@dataclass
class CredentialCheck:
    ok: bool
    reason: str = ""
    proofs: list[ProofCheck] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "reason": self.reason,
            "proofs": [p.__dict__ for p in self.proofs],
        }


def _key_of(method: str) -> tuple[str, bytes]:
    """Key material from a verification method: a ``did:key`` or a URL whose fragment is a
    multikey (as in the W3C vectors)."""
    if method.startswith("did:key:"):
        return multikey_decode(method.removeprefix("did:key:").split("#", 1)[0])
    if "#" in method:
        return multikey_decode(method.split("#", 1)[1])
    raise ValueError("verification method carries no key")


def _trusted(method: str, trusted: Collection[str]) -> bool:
    controller = method.split("#", 1)[0]
    return method in trusted or controller in trusted


def _proof_verify(
    unsecured: dict[str, Any], canonical: bytes, proof: Any, trusted: Collection[str]
) -> ProofCheck | None:
    """One proof; None for a proof of a cryptosuite this verifier does not know."""
    if not isinstance(proof, dict):
        return ProofCheck("", "", False, "proof is not an object")
    suite = proof.get("cryptosuite")
    method = proof.get("verificationMethod")
    if proof.get("type") != PROOF_TYPE or suite not in (EDDSA_SUITE, SM2_SUITE):
        return None
    if not isinstance(method, str):
        return ProofCheck(str(suite), "", False, "verificationMethod missing")
    check = ProofCheck(str(suite), method, False)
    value = proof.get("proofValue")
    if not isinstance(value, str):
        check.reason = "proofValue missing"
        return check
    if proof.get("proofPurpose") != "assertionMethod":
        check.reason = "proofPurpose is not assertionMethod"
        return check
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    if "@context" in config:
        ctx = config["@context"]
        doc_ctx = unsecured.get("@context")
        ctx_list = ctx if isinstance(ctx, list) else [ctx]
        doc_list = doc_ctx if isinstance(doc_ctx, list) else [doc_ctx]
        if doc_list[: len(ctx_list)] != ctx_list:
            check.reason = "proof @context does not match the document"
            return check
    try:
        algorithm, public_key = _key_of(method)
        signature = multibase_decode(value)
    except ValueError as exc:
        check.reason = f"malformed key or proofValue: {exc}"
        return check
    if (suite == EDDSA_SUITE) != (algorithm == "ed25519"):
        check.reason = "key type does not match the cryptosuite"
        return check
    if not _trusted(method, trusted):
        check.reason = "key not trusted"
        return check
    try:
        message = _hash_data(suite, unsecured, config, canonical)
    except (TypeError, ValueError, rfc8785.CanonicalizationError) as exc:
        check.reason = f"cannot canonicalise: {exc}"
        return check
    if not signing.verify(algorithm, public_key, message, signature):
        check.reason = "signature does not verify"
        return check
    check.ok = True
    return check


def credential_verify(document: Any, trusted_keys: Collection[str]) -> CredentialCheck:
    """Check every known proof of ``document`` against ``trusted_keys`` (DIDs or verification
    method ids). OK when at least one known proof exists and every known proof verifies with a
    trusted key. Malformed input gives a result with a reason, never an exception."""
    try:
        return _credential_verify(document, trusted_keys)
    except Exception as exc:  # hostile input must not crash the verifier
        return CredentialCheck(False, f"malformed credential: {type(exc).__name__}")


def _credential_verify(document: Any, trusted_keys: Collection[str]) -> CredentialCheck:
    if not isinstance(document, dict):
        return CredentialCheck(False, "credential is not a JSON object")
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    try:
        canonical = jcs(unsecured)
    except (TypeError, ValueError, rfc8785.CanonicalizationError) as exc:
        return CredentialCheck(False, f"cannot canonicalise: {exc}")
    if len(canonical) > MAX_CREDENTIAL_BYTES:
        return CredentialCheck(False, "credential too large")
    raw = document.get("proof")
    if raw is None:
        return CredentialCheck(False, "no proof")
    proofs = raw if isinstance(raw, list) else [raw]
    if not proofs or len(proofs) > MAX_PROOFS:
        return CredentialCheck(False, "proof set empty or too large")
    checks = [
        c for c in (_proof_verify(unsecured, canonical, p, trusted_keys) for p in proofs) if c
    ]
    if not checks:
        return CredentialCheck(False, "no proof of a known cryptosuite")
    failed = [c for c in checks if not c.ok]
    if failed:
        first = failed[0]
        reason = f"{first.cryptosuite}: {first.reason}" if first.cryptosuite else first.reason
        return CredentialCheck(False, reason, checks)
    return CredentialCheck(True, "", checks)


def credential_verify_benchmark(n: int = 200) -> float:
    """Full verifications per second (both proofs of a typical certificate credential), with
    keys made on the spot: no database needed."""
    ed = signing.Ed25519Signer.generate()
    sm = signing.SM2Signer.generate()
    issuer = did_key("ed25519", ed.public_key())
    unsecured = credential_build(
        public_id="00000000-0000-4000-8000-000000000000",
        identifier="1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F",
        type_code="11100000000013338W032",
        type_name="建筑施工特种作业人员操作资格证书",
        issuer_id=issuer,
        issuer_name="六安市住房和城乡建设局",
        issuer_uscc="11220000013544541J",
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_until=datetime(2032, 1, 1, tzinfo=UTC),
        holder_name_masked="张*",
        holder_id_masked="3415**********0012",
        holder_type="111",
        holder_commitment_value=holder_commitment(b"0" * 16, "341502199001010012"),
        face={"name": "张*", "category": "建筑电工", "number": "皖A042026000001"},
        version=1,
        trust_grade="A",
        status_url="https://zw.example.gov.cn/certificates/verify/x",
    )
    signed = credential_sign(unsecured, [ed, sm], created="2026-01-01T00:00:00Z")
    trusted = {issuer, did_key("sm2", sm.public_key())}
    count = max(1, n)
    start = time.perf_counter()
    for _ in range(count):
        if not credential_verify(signed, trusted).ok:
            raise RuntimeError("benchmark credential failed to verify")
    return count / (time.perf_counter() - start)
