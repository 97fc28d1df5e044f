"""The e-certificate transparency log, read-only and public: anyone (a citizen, another
department, an auditor, a witness) must be able to fetch checkpoints and proofs and check them
without an account — that is what makes the log verifiable. Entries are the events the log
committed to; they carry no personal data beyond what the certificates app puts in a payload.

Hashes are standard base64, as in C2SP checkpoints and tlog-proof bundles.
"""

from __future__ import annotations

import base64
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema

from yiwang.core.errors import DomainError, NotFound
from yiwang.ledger import merkle, selectors
from yiwang.ledger.models import Entry

router = Router(tags=["ledger"])

MAX_INT = 2**63 - 1


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _int(value: str | None, name: str, *, default: int | None = None) -> int:
    if value is None or value == "":
        if default is None:
            raise DomainError(
                "ledger.bad_parameter", _("缺少参数 %(name)s") % {"name": name}, parameter=name
            )
        return default
    if not value.isdigit() or int(value) > MAX_INT:
        raise DomainError(
            "ledger.bad_parameter",
            _("参数 %(name)s 应为非负整数") % {"name": name},
            parameter=name,
        )
    return int(value)


def _proof_or_400(build: Any, *args: int) -> list[bytes]:
    """404 for a tree the log has not reached (yet), 400 for sizes that cannot be asked."""
    if args[-1] > selectors.log_size():
        raise NotFound(message=_("账本尚未达到该树大小"))
    try:
        proof: list[bytes] = build(*args)
    except merkle.ProofError as exc:
        raise DomainError(
            "ledger.bad_parameter",
            _("无法生成证明：序号或树大小超出账本范围"),
            reason=exc.reason,
        ) from exc
    return proof


class CheckpointOut(Schema):
    origin: str
    size: int
    root: str
    note: str
    cosigners: list[str]
    created_at: str


class ProofOut(Schema):
    size: int
    proof: list[str]
    index: int | None = None
    size1: int | None = None


class EntryOut(Schema):
    index: int
    kind: str
    subject: str
    leaf_input: str
    leaf_hash: str
    created_at: str
    bundle: str | None


@router.get(
    "/ledger/checkpoint",
    auth=None,
    response={200: CheckpointOut},
    summary="Latest checkpoint (signed note, with witness cosignatures)",
)
def checkpoint(request: HttpRequest) -> Any:
    """JSON by default; the bare signed note as ``text/plain`` when the client asks for it
    (``Accept: text/plain``), as C2SP clients expect."""
    cp = selectors.latest_checkpoint()
    if cp is None:
        raise NotFound(message=_("账本尚未发布检查点"))
    note = selectors.cosigned_note(cp)
    if "text/plain" in request.headers.get("Accept", ""):
        return HttpResponse(note, content_type="text/plain; charset=utf-8")
    return {
        "origin": selectors.ledger_origin(),
        "size": cp.size,
        "root": _b64(bytes(cp.root)),
        "note": note,
        "cosigners": list(cp.cosignatures.order_by("witness").values_list("witness", flat=True)),
        "created_at": cp.created_at.isoformat(),
    }


@router.get(
    "/ledger/proof/inclusion",
    auth=None,
    response={200: ProofOut},
    summary="Inclusion proof of an entry in the tree of a given size",
)
def proof_inclusion(request: HttpRequest, index: str = "", size: str = "") -> Any:
    """``size`` defaults to the latest checkpoint's."""
    latest = selectors.latest_checkpoint()
    n = _int(size, "size", default=latest.size if latest else None)
    i = _int(index, "index")
    proof = _proof_or_400(selectors.inclusion_proof, i, n)
    return {"index": i, "size": n, "proof": [_b64(h) for h in proof]}


@router.get(
    "/ledger/proof/consistency",
    auth=None,
    response={200: ProofOut},
    summary="Consistency proof between two tree sizes",
)
def proof_consistency(request: HttpRequest, size1: str = "", size2: str = "") -> Any:
    latest = selectors.latest_checkpoint()
    first = _int(size1, "size1")
    second = _int(size2, "size2", default=latest.size if latest else None)
    proof = _proof_or_400(selectors.consistency_proof, first, second)
    return {"size1": first, "size": second, "proof": [_b64(h) for h in proof]}


@router.get(
    "/ledger/entries/{index}",
    auth=None,
    response={200: EntryOut},
    summary="One entry of the log, with its offline proof bundle once a checkpoint covers it",
)
def entry(request: HttpRequest, index: str) -> Any:
    number = _int(index, "index")
    found = Entry.objects.filter(index=number).first()
    if found is None:
        raise NotFound(message=_("账本中没有序号为 %(index)s 的条目") % {"index": number})
    return {
        "index": number,
        "kind": found.kind,
        "subject": found.subject,
        "leaf_input": _b64(bytes(found.leaf_input)),
        "leaf_hash": _b64(bytes(found.leaf_hash)),
        "created_at": found.created_at.isoformat(),
        "bundle": selectors.entry_bundle(found),
    }


@router.get(
    "/ledger/policy",
    auth=None,
    summary="The tlog-policy a verifier needs: the log key, the witnesses and the quorum",
)
def policy(request: HttpRequest) -> HttpResponse:
    return HttpResponse(selectors.log_policy_text(), content_type="text/plain; charset=utf-8")
