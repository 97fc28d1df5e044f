"""The add-checkpoint client against a small local HTTP server: each kind of answer maps to a
result, and nothing raises."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from yiwang.ledger.witness_client import add_checkpoint, add_checkpoint_body

ANSWERS: dict[str, tuple[int, str, bytes]] = {
    "/ok": (200, "text/plain", "— w.example AAAAAQ==\n".encode()),
    "/conflict": (409, "text/x.tlog.size", b"42\n"),
    "/conflict-bad": (409, "text/plain", b"42\n"),
    "/forbidden": (403, "text/plain", b"witness.untrusted_signature\n"),
    "/broken": (500, "text/html", b"<h1>oops</h1>"),
    "/garbage": (200, "text/plain", b"not a signature\n"),
    "/huge": (200, "text/plain", b"x" * 70_000),
}
RECEIVED: list[bytes] = []


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        RECEIVED.append(self.rfile.read(int(self.headers["Content-Length"])))
        status, content_type, body = ANSWERS[self.path]
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_body_format() -> None:
    body = add_checkpoint_body(5, [bytes(32), b"\xff" * 32], "o\n9\nR\n\n— o sig\n")

    assert body == (
        b"old 5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
        b"//////////////////////////////////////////8=\n\no\n9\nR\n\n\xe2\x80\x94 o sig\n"
    )


def test_answers_mapped(base_url: str) -> None:
    ok = add_checkpoint(base_url + "/ok", 0, [], "cp\n")
    conflict = add_checkpoint(base_url + "/conflict", 3, [bytes(32)], "cp\n")
    conflict_bad = add_checkpoint(base_url + "/conflict-bad", 3, [], "cp\n")
    forbidden = add_checkpoint(base_url + "/forbidden", 0, [], "cp\n")
    broken = add_checkpoint(base_url + "/broken", 0, [], "cp\n")
    garbage = add_checkpoint(base_url + "/garbage", 0, [], "cp\n")
    huge = add_checkpoint(base_url + "/huge", 0, [], "cp\n")

    assert (ok.status, ok.ok, ok.cosignature_lines) == (200, True, ["— w.example AAAAAQ==\n"])
    assert (conflict.status, conflict.conflict_size, conflict.ok) == (409, 42, False)
    assert (conflict_bad.conflict_size, conflict_bad.error) == (
        None,
        "409 without a tlog size body",
    )
    assert (forbidden.status, forbidden.error) == (403, "HTTP 403: witness.untrusted_signature")
    assert (broken.status, broken.error) == (500, "HTTP 500: <h1>oops</h1>")
    assert (garbage.ok, garbage.error) == (False, "response is not signature lines")
    assert (huge.ok, huge.error) == (False, "response too large")
    assert RECEIVED[1] == b"old 3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\ncp\n"


def test_unreachable_and_bad_url_never_raise() -> None:
    refused = add_checkpoint("http://127.0.0.1:9/add-checkpoint", 0, [], "cp\n", timeout=1)
    not_http = add_checkpoint("file:///etc/passwd", 0, [], "cp\n")

    assert refused.status == 0
    assert refused.error is not None
    assert refused.error.startswith("network error")
    assert (not_http.status, not_http.error) == (0, "witness URL must be http(s)")
