"""Client of the tlog-witness ``add-checkpoint`` call (c2sp.org/tlog-witness), with urllib.

The request body is ``old <size>\\n``, one base64 consistency-proof hash per line, a blank line
and the signed checkpoint note. The witness answers 200 with cosignature lines, 409 with the
size it last cosigned (``text/x.tlog.size``), or another status. This function never raises:
network failures come back as ``status=0`` with an error text, so that a log asking several
witnesses carries on when one is down.
"""

from __future__ import annotations

import base64
import re
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field

from yiwang.ledger.note import EM_DASH

MAX_RESPONSE_BYTES = 64 * 1024
MAX_PROOF_LINES = 63
_SIZE_BODY = re.compile(rb"(0|[1-9][0-9]{0,18})\n")


@dataclass(frozen=True)
class AddCheckpointResult:
    status: int  # HTTP status; 0 when no HTTP answer came back
    cosignature_lines: list[str] = field(default_factory=list)
    conflict_size: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.cosignature_lines)


def add_checkpoint_body(old_size: int, proof: Sequence[bytes], signed_checkpoint: str) -> bytes:
    lines = [f"old {old_size}", *(base64.b64encode(h).decode() for h in proof)]
    return ("".join(line + "\n" for line in lines) + "\n" + signed_checkpoint).encode()


def add_checkpoint(
    url: str,
    old_size: int,
    proof: Sequence[bytes],
    signed_checkpoint: str,
    timeout: float = 5.0,
) -> AddCheckpointResult:
    """POST the checkpoint to ``url`` (the witness's ``…/add-checkpoint``)."""
    if not url.startswith(("http://", "https://")):
        return AddCheckpointResult(status=0, error="witness URL must be http(s)")
    if old_size < 0 or len(proof) > MAX_PROOF_LINES:
        return AddCheckpointResult(status=0, error="invalid old size or proof")
    request = urllib.request.Request(  # noqa: S310 - http(s) checked above
        url,
        data=add_checkpoint_body(old_size, proof, signed_checkpoint),
        method="POST",
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) checked above
            status = int(response.status)
            body = response.read(MAX_RESPONSE_BYTES + 1)
            content_type = response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        status = exc.code
        try:
            body = exc.read(MAX_RESPONSE_BYTES + 1)
        except OSError:
            body = b""
        content_type = exc.headers.get("Content-Type", "") if exc.headers else ""
        exc.close()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return AddCheckpointResult(status=0, error=f"network error: {reason}")
    if len(body) > MAX_RESPONSE_BYTES:
        return AddCheckpointResult(status=status, error="response too large")
    if status == 200:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return AddCheckpointResult(status=status, error="response is not UTF-8")
        lines = [line + "\n" for line in text.split("\n") if line]
        if not lines or not all(line.startswith(EM_DASH + " ") for line in lines):
            return AddCheckpointResult(status=status, error="response is not signature lines")
        return AddCheckpointResult(status=status, cosignature_lines=lines)
    if status == 409:
        match = _SIZE_BODY.fullmatch(body)
        if match is None or not content_type.startswith("text/x.tlog.size"):
            return AddCheckpointResult(status=status, error="409 without a tlog size body")
        return AddCheckpointResult(status=status, conflict_size=int(match.group(1)))
    snippet = body[:200].decode("utf-8", "replace").strip()
    return AddCheckpointResult(status=status, error=f"HTTP {status}: {snippet}")
