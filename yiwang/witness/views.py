"""The witness's HTTP face: the tlog-witness ``add-checkpoint`` call and a status page.

Both are public on purpose. tlog-witness has no client authentication: the request carries its
own proof (a checkpoint signed by a log key this witness trusts, plus a consistency proof), and a
request without one is refused. The status page shows only what the witness publishes anyway
(the logs it watches, their sizes and its verifier key).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from yiwang.core.access import public
from yiwang.witness import selectors, services
from yiwang.witness.errors import WitnessRefused

TEXT = "text/plain; charset=utf-8"


@public
@csrf_exempt  # a machine-to-machine text protocol, no cookies: CSRF does not apply
@require_POST
def add_checkpoint(request: HttpRequest) -> HttpResponse:
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > services.MAX_BODY_BYTES:
        return HttpResponse("body too large\n", status=413, content_type=TEXT)
    try:
        lines = services.witness_add_checkpoint(body=request.body)
    except WitnessRefused as exc:
        if exc.status == 409 and "size" in exc.extra:
            return HttpResponse(
                f"{exc.extra['size']}\n", status=409, content_type="text/x.tlog.size"
            )
        return HttpResponse(f"{exc.code}: {exc.message}\n", status=exc.status, content_type=TEXT)
    return HttpResponse("".join(lines), content_type=TEXT)


@public
@require_GET
def checkpoint(request: HttpRequest, origin_hash: str) -> HttpResponse:
    """Monitors compare what witnesses cosigned: GET <sha256(origin) hex>/checkpoint."""
    note = selectors.witnessed_checkpoint(origin_hash)
    if note is None:
        return HttpResponse("not found\n", status=404, content_type=TEXT)
    return HttpResponse(note, content_type=TEXT)


@public
@require_GET
def status(request: HttpRequest) -> HttpResponse:
    identity = services.witness_identity()
    return render(
        request,
        "witness/status.html",
        {
            "identity": identity,
            "vkey": services.witness_vkey(identity) if identity else "",
            "logs": selectors.witnessed_logs(),
        },
    )
