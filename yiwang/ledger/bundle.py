"""Offline proof bundles (c2sp.org/tlog-proof@v1): "this entry is in the log, and witnesses saw it".

    c2sp.org/tlog-proof@v1
    extra <base64 leaf input>          (optional; ours carries the entry's leaf input)
    index <n>
    <base64 inclusion-proof hash>      (zero or more, from the leaf's sibling up)

    <the cosigned checkpoint note, verbatim>

:func:`bundle_verify` needs nothing but the bundle and a tlog-policy text (the trusted log and
witness keys and the quorum): no network. The extra data is not trusted by itself, but once the
inclusion proof verifies against ``leaf_hash(extra)`` under a checkpoint signed by the log and
cosigned by a quorum, the extra data is exactly what the log committed to.

Hostile input never raises: every failure is a :class:`BundleResult` with ``ok=False``, a
stable English ``reason`` and a Chinese ``message``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from yiwang.ledger import merkle
from yiwang.ledger.checkpoint import (
    MAX_SIZE,
    Checkpoint,
    CheckpointError,
    checkpoint_parse,
    parse_hash,
)
from yiwang.ledger.note import NoteError, cosignature_verify, note_parse, note_verify
from yiwang.ledger.policy import PolicyError, policy_parse

HEADER = "c2sp.org/tlog-proof@v1"
MAX_BUNDLE_BYTES = 192 * 1024
MAX_EXTRA_BYTES = 64 * 1024
MAX_PROOF_LINES = 64  # a tree of 2**63 leaves needs 63
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,18}")

REASONS: dict[str, Promise] = {
    "ok": _("证明有效：该记录已写入账本，并经见证方共同签名"),
    "too_large": _("证明包过大"),
    "not_text": _("证明包不是有效的 UTF-8 文本"),
    "malformed": _("证明包格式错误"),
    "bad_policy": _("信任策略文件格式错误"),
    "bad_checkpoint": _("检查点格式错误"),
    "unknown_origin": _("信任策略中没有该账本"),
    "bad_log_signature": _("账本签名无效"),
    "bad_cosignature": _("见证方签名无效"),
    "quorum_not_met": _("见证方签名数量不足，未达到信任策略要求"),
    "no_leaf": _("没有可核验的记录内容"),
    "index_out_of_range": _("记录序号超出账本范围"),
    "bad_inclusion": _("包含性证明无效：该记录不在此检查点的账本中"),
}


class BundleError(ValueError):
    def __init__(self, reason: str, detail: str = ""):
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


@dataclass(frozen=True)
class Bundle:
    index: int
    proof: list[bytes]
    checkpoint_note: str
    extra: bytes | None = None


@dataclass(frozen=True)
class BundleResult:
    ok: bool
    reason: str  # a key of REASONS
    detail: str = ""  # English, for logs and auditors
    index: int | None = None
    size: int | None = None
    origin: str | None = None
    cosigners: tuple[str, ...] = field(default=())
    quorum_met: bool = False
    extra: bytes | None = None
    checkpoint: Checkpoint | None = None

    @property
    def message(self) -> str:
        return str(REASONS.get(self.reason, REASONS["malformed"]))


def bundle_format(
    index: int, proof: Sequence[bytes], checkpoint_note: str, extra: bytes | None = None
) -> str:
    lines = [HEADER]
    if extra is not None:
        lines.append("extra " + base64.b64encode(extra).decode())
    lines.append(f"index {index}")
    lines.extend(base64.b64encode(h).decode() for h in proof)
    return "".join(line + "\n" for line in lines) + "\n" + checkpoint_note


def bundle_parse(text: str) -> Bundle:
    """Parse strictly; BundleError("malformed", detail) on anything unexpected."""
    if len(text) > MAX_BUNDLE_BYTES:
        raise BundleError("too_large")
    head, sep, checkpoint_note = text.partition("\n\n")
    if not sep or not checkpoint_note:
        raise BundleError("malformed", "no blank line before the checkpoint")
    lines = head.split("\n")
    if lines[0] != HEADER:
        raise BundleError("malformed", "first line must be " + HEADER)
    position = 1
    extra = None
    if position < len(lines) and lines[position].startswith("extra "):
        encoded = lines[position][len("extra ") :]
        if len(encoded) > MAX_EXTRA_BYTES * 4 // 3 + 4:
            raise BundleError("too_large", "extra data too large")
        try:
            extra = base64.b64decode(encoded.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
            raise BundleError("malformed", "extra is not base64") from exc
        if base64.b64encode(extra).decode() != encoded:
            raise BundleError("malformed", "extra is not canonical base64")
        position += 1
    if position >= len(lines) or not lines[position].startswith("index "):
        raise BundleError("malformed", "missing index line")
    index_text = lines[position][len("index ") :]
    if not _DECIMAL.fullmatch(index_text) or int(index_text) > MAX_SIZE:
        raise BundleError("malformed", "index must be a decimal without leading zeros")
    proof_lines = lines[position + 1 :]
    if len(proof_lines) > MAX_PROOF_LINES:
        raise BundleError("malformed", "too many proof lines")
    try:
        proof = [parse_hash(line) for line in proof_lines]
    except CheckpointError as exc:
        raise BundleError("malformed", "proof line: " + exc.reason) from exc
    return Bundle(index=int(index_text), proof=proof, checkpoint_note=checkpoint_note, extra=extra)


def bundle_verify(
    text: str | bytes, policy_text: str | bytes, leaf_input: bytes | None = None
) -> BundleResult:
    """Verify a bundle offline against a tlog-policy. ``leaf_input``, when the caller has the
    entry itself, is hashed instead of the bundle's (untrusted) extra data."""
    try:
        return _verify(text, policy_text, leaf_input)
    except (ValueError, TypeError, UnicodeError, OverflowError, RecursionError) as exc:
        # Every expected failure is handled below; this is the last fence for hostile input.
        return BundleResult(ok=False, reason="malformed", detail=type(exc).__name__)


def _verify(text: str | bytes, policy_text: str | bytes, leaf_input: bytes | None) -> BundleResult:
    if len(text) > MAX_BUNDLE_BYTES:
        return BundleResult(ok=False, reason="too_large")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            return BundleResult(ok=False, reason="not_text")
    try:
        policy = policy_parse(policy_text)
    except PolicyError as exc:
        return BundleResult(ok=False, reason="bad_policy", detail=str(exc))
    try:
        bundle = bundle_parse(text)
    except BundleError as exc:
        return BundleResult(ok=False, reason=exc.reason, detail=exc.detail)
    try:
        note = note_parse(bundle.checkpoint_note)
        checkpoint = checkpoint_parse(note.text)
    except (NoteError, CheckpointError) as exc:
        return BundleResult(ok=False, reason="bad_checkpoint", detail=exc.reason)
    base = BundleResult(
        ok=False,
        reason="malformed",
        index=bundle.index,
        size=checkpoint.size,
        origin=checkpoint.origin,
        extra=bundle.extra,
        checkpoint=checkpoint,
    )
    log_keys = [v for v in policy.logs if v.name == checkpoint.origin]
    if not log_keys:
        return replace(base, reason="unknown_origin")
    try:
        note_verify(bundle.checkpoint_note, log_keys)
    except NoteError as exc:
        return replace(base, reason="bad_log_signature", detail=exc.reason)
    cosigners: list[str] = []
    for sig in note.signatures:
        name = policy.witness_named(sig.name, sig.key_id)
        if name is None:
            continue
        try:
            cosignature_verify(note.text, sig, policy.witnesses[name])
        except NoteError as exc:
            return replace(base, reason="bad_cosignature", detail=f"{name}: {exc.reason}")
        if name not in cosigners:
            cosigners.append(name)
    quorum_met = policy.satisfied(cosigners)
    base = replace(base, cosigners=tuple(cosigners), quorum_met=quorum_met)
    if not quorum_met:
        return replace(base, reason="quorum_not_met")
    leaf = leaf_input if leaf_input is not None else bundle.extra
    if leaf is None:
        return replace(base, reason="no_leaf")
    if bundle.index >= checkpoint.size:
        return replace(base, reason="index_out_of_range")
    if not merkle.verify_inclusion(
        bundle.index, checkpoint.size, merkle.leaf_hash(leaf), bundle.proof, checkpoint.root_hash
    ):
        return replace(base, reason="bad_inclusion")
    return replace(base, ok=True, reason="ok")
