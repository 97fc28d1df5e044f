"""The witness: cosign a log's checkpoint only if it is consistent with the last one it cosigned.

``witness_add_checkpoint`` implements the checks of c2sp.org/tlog-witness ``add-checkpoint``
in order: unknown origin (404), no trusted log signature (403), old size above the new one
(400), old size not the size last cosigned (409, with that size), then the consistency proof
(422). The compare and the store happen in one transaction on the log's row locked with
``SELECT … FOR UPDATE``: two concurrent requests built on the same old size cannot both advance,
the second sees the new size and gets 409. This is the race the specification warns about
(a slower request rolling the witness back by K leaves).

One departure from the stored tlog-witness text: a checkpoint of the same size with another root
(a fork) is answered 422 here, as the issue asks, not 409; either way it is not cosigned.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.core.audit import audit_record
from yiwang.core.signing import signer
from yiwang.ledger import merkle
from yiwang.ledger.checkpoint import (
    Checkpoint,
    CheckpointError,
    checkpoint_parse,
    parse_hash,
    parse_size,
)
from yiwang.ledger.note import (
    TYPE_COSIGNATURE,
    TYPE_ED25519,
    TYPE_ESCAPE,
    NoteError,
    cosign,
    note_parse,
    note_verify,
    vkey_format,
    vkey_parse,
)
from yiwang.witness.errors import WitnessRefused
from yiwang.witness.models import WitnessedLog, WitnessEvidence, WitnessIdentity

MAX_BODY_BYTES = 96 * 1024
MAX_PROOF_LINES = 63
EMPTY_ROOT = hashlib.sha256(b"").digest()
MAX_EVIDENCE_PER_LOG = 1000


@dataclass(frozen=True)
class AddCheckpointRequest:
    old_size: int
    proof: list[bytes]
    note: str
    checkpoint: Checkpoint


def _bad_request(detail: str) -> WitnessRefused:
    return WitnessRefused(400, "witness.bad_request", _("请求格式错误：%s") % detail)


def add_checkpoint_parse(body: bytes) -> AddCheckpointRequest:
    """Parse an add-checkpoint body: ``old <n>``, proof lines, blank line, signed checkpoint."""
    if len(body) > MAX_BODY_BYTES:
        raise _bad_request("body too large")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad_request("not UTF-8") from exc
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise _bad_request("no blank line before the checkpoint")
    lines = head.split("\n")
    if not lines[0].startswith("old "):
        raise _bad_request("first line must be old <size>")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise _bad_request("more than 63 proof lines")
    try:
        old_size = parse_size(lines[0][len("old ") :])
        proof = [parse_hash(line) for line in lines[1:]]
        checkpoint = checkpoint_parse(note_parse(note).text)
    except (CheckpointError, NoteError) as exc:
        raise _bad_request(exc.reason) from exc
    return AddCheckpointRequest(old_size, proof, note, checkpoint)


def witness_identity() -> WitnessIdentity | None:
    return WitnessIdentity.objects.first()


def witness_vkey(identity: WitnessIdentity) -> str:
    """The verifier key of this witness's cosignatures (type 0x04), for tlog-policy files."""
    public_key = signer(identity.key_name, "ed25519").public_key()
    return vkey_format(identity.name, TYPE_COSIGNATURE, public_key)


@transaction.atomic
def witness_init(*, name: str, actor: str = "cli:witness") -> WitnessIdentity:
    """Create this deployment's witness identity (and its key); idempotent for the same name."""
    vkey_format(name, TYPE_COSIGNATURE, bytes(32))  # validates the name as a note key name
    existing = witness_identity()
    if existing is not None:
        if existing.name != name:
            raise WitnessRefused(
                409,
                "witness.already_initialised",
                _("本见证方已初始化为 %s，不能更改名称") % existing.name,
            )
        return existing
    identity = WitnessIdentity.objects.create(name=name)
    signer(identity.key_name, "ed25519")  # created now, so that the vkey can be published
    audit_record(actor=actor, action="witness.init", obj=identity, after={"name": name})
    return identity


@transaction.atomic
def witness_trust_log(*, origin: str, vkeys: list[str], actor: str = "cli:witness") -> WitnessedLog:
    """Trust ``vkeys`` (Ed25519 or the project's SM2 type) as the signers of log ``origin``.
    Re-trusting replaces the keys and keeps the witnessed size."""
    if not origin or not vkeys:
        raise WitnessRefused(400, "witness.bad_request", _("必须提供账本标识和公钥"))
    parsed = []
    for text in vkeys:
        try:
            vkey = vkey_parse(text)
        except NoteError as exc:
            raise WitnessRefused(
                400, "witness.bad_vkey", _("公钥格式错误：%s") % exc.reason
            ) from exc
        if vkey.type_byte not in (TYPE_ED25519, TYPE_ESCAPE) or vkey.name != origin:
            raise WitnessRefused(
                400, "witness.bad_vkey", _("账本公钥的名称必须等于账本标识，类型为 Ed25519 或 SM2")
            )
        parsed.append(str(vkey))
    log, created = WitnessedLog.objects.select_for_update().get_or_create(
        origin=origin, defaults={"log_vkeys": "\n".join(parsed)}
    )
    before = {"log_vkeys": log.vkey_lines()}
    if not created:
        log.log_vkeys = "\n".join(parsed)
        log.save(update_fields=["log_vkeys", "updated_at"])
    audit_record(
        actor=actor,
        action="witness.trust_log",
        obj=log,
        before=None if created else before,
        after={"origin": origin, "log_vkeys": parsed},
    )
    return log


def _inconsistent(detail: str) -> WitnessRefused:
    return WitnessRefused(
        422, "witness.inconsistent", _("检查点与已见证的历史不一致：%s") % detail, detail=detail
    )


def _check_consistency(log: WitnessedLog, request: AddCheckpointRequest) -> None:
    cp = request.checkpoint
    if request.old_size == 0:
        if request.proof:
            raise _inconsistent("proof must be empty when old size is 0")
        if cp.size == 0 and cp.root_hash != EMPTY_ROOT:
            raise _inconsistent("size-0 checkpoint without the empty-tree root")
        return
    stored_root = bytes.fromhex(log.root_hash)
    if request.old_size == cp.size:
        if request.proof or cp.root_hash != stored_root:
            raise _inconsistent("same size, different root (fork)")
        return
    if not merkle.verify_consistency(
        request.old_size, cp.size, stored_root, cp.root_hash, request.proof
    ):
        raise _inconsistent("consistency proof does not verify")


def witness_add_checkpoint(*, body: bytes) -> list[str]:
    """Check and cosign; returns the cosignature lines. Raises WitnessRefused with the status.

    A checkpoint signed by the log but inconsistent with what this witness cosigned (422) is
    kept as :class:`WitnessEvidence`, after the refused transaction has rolled back."""
    request = add_checkpoint_parse(body)
    identity = witness_identity()
    if identity is None:
        raise WitnessRefused(503, "witness.not_initialised", _("见证方尚未初始化"))
    try:
        return _add_checkpoint(identity, request)
    except WitnessRefused as exc:
        if exc.status == 422:
            _evidence_record(request, body, str(exc.extra.get("detail", exc.code)))
        raise


def _add_checkpoint(identity: WitnessIdentity, request: AddCheckpointRequest) -> list[str]:
    cp = request.checkpoint
    with transaction.atomic():
        log = WitnessedLog.objects.select_for_update().filter(origin=cp.origin).first()
        if log is None:
            raise WitnessRefused(404, "witness.unknown_log", _("本见证方不见证该账本"))
        try:
            note_verify(request.note, [vkey_parse(v) for v in log.vkey_lines()])
        except NoteError as exc:
            raise WitnessRefused(
                403, "witness.untrusted_signature", _("检查点没有可信的账本签名")
            ) from exc
        if request.old_size > cp.size:
            raise WitnessRefused(400, "witness.old_after_new", _("旧树大小大于新检查点"))
        if request.old_size != log.size:
            raise WitnessRefused(
                409, "witness.stale_size", _("旧树大小与已见证的不一致"), size=log.size
            )
        _check_consistency(log, request)
        line = cosign(
            note_parse(request.note).text,
            identity.name,
            signer(identity.key_name, "ed25519"),
            max(1, int(time.time())),
        )
        log.size = cp.size
        log.root_hash = cp.root_hash.hex()
        log.checkpoint = request.note + line
        log.cosigned_at = timezone.now()
        log.save(update_fields=["size", "root_hash", "checkpoint", "cosigned_at", "updated_at"])
    return [line]


@transaction.atomic
def _evidence_record(request: AddCheckpointRequest, body: bytes, reason: str) -> None:
    log = WitnessedLog.objects.filter(origin=request.checkpoint.origin).first()
    if log is None:
        return
    if WitnessEvidence.objects.filter(log=log).count() >= MAX_EVIDENCE_PER_LOG:
        return  # a flood of refusals must not fill the disk; the first ones tell the story
    WitnessEvidence.objects.create(
        log=log,
        reason=reason[:200],
        witnessed_size=log.size,
        witnessed_root=log.root_hash,
        request_body=body.decode("utf-8"),
    )
