"""The tlog-witness add-checkpoint endpoint: every status code, the fork and rollback attempts,
and the race of two concurrent requests (exactly one may advance)."""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from yiwang.core.models import AuditEntry
from yiwang.ledger.note import cosign, cosignature_verify, note_parse, vkey_parse
from yiwang.ledger.witness_client import add_checkpoint_body
from yiwang.witness import services
from yiwang.witness.errors import WitnessRefused
from yiwang.witness.models import WitnessedLog, WitnessEvidence
from yiwang.witness.services import witness_init, witness_trust_log, witness_vkey
from yiwang.witness.tests.conftest import ORIGIN, WITNESS_NAME, FakeLog

URL = "/witness/add-checkpoint"


def _post(body: bytes, client: Client | None = None) -> Any:
    return (client or Client()).post(URL, data=body, content_type="text/plain")


@pytest.fixture
def witness(fake_log: FakeLog) -> str:
    identity = witness_init(name=WITNESS_NAME)
    witness_trust_log(origin=ORIGIN, vkeys=fake_log.vkeys)
    return witness_vkey(identity)


def _stored() -> tuple[int, str]:
    log = WitnessedLog.objects.get(origin=ORIGIN)
    return log.size, log.root_hash


@pytest.mark.django_db
def test_first_then_consistent_checkpoint_cosigned(fake_log: FakeLog, witness: str) -> None:
    first = _post(fake_log.body(0, 5))
    second = _post(fake_log.body(5, 9))

    assert (first.status_code, second.status_code) == (200, 200)
    text = note_parse(fake_log.checkpoint(9)).text
    line = second.content.decode()
    assert line.startswith(f"— {WITNESS_NAME} ")
    assert line.endswith("\n")
    timestamp = cosignature_verify(text, line, vkey_parse(witness))
    assert abs(timestamp - time.time()) < 60
    assert _stored() == (9, base64.b64decode(text.split("\n")[2]).hex())
    stored = WitnessedLog.objects.get(origin=ORIGIN).checkpoint
    assert stored.endswith(line)


@pytest.mark.django_db
def test_same_checkpoint_again_is_cosigned_again(fake_log: FakeLog, witness: str) -> None:
    assert _post(fake_log.body(0, 5)).status_code == 200

    response = _post(fake_log.body(5, 5))

    assert response.status_code == 200
    assert _stored()[0] == 5


@pytest.mark.django_db
def test_unknown_origin_404(fake_log: FakeLog, witness: str) -> None:
    other = FakeLog(origin="other.example/log")

    response = _post(other.body(0, 3))

    assert response.status_code == 404
    assert response.content.decode().startswith("witness.unknown_log")


@pytest.mark.django_db
def test_untrusted_log_key_403(fake_log: FakeLog, witness: str) -> None:
    impostor = FakeLog()  # same origin, other keys

    response = _post(impostor.body(0, 3))

    assert response.status_code == 403
    assert _stored() == (0, "")


@pytest.mark.django_db
def test_old_above_new_400(fake_log: FakeLog, witness: str) -> None:
    assert _post(fake_log.body(0, 5)).status_code == 200

    response = _post(add_checkpoint_body(6, [], fake_log.checkpoint(5)))

    assert response.status_code == 400
    assert _stored()[0] == 5


@pytest.mark.django_db
def test_stale_old_size_409_with_size_body(fake_log: FakeLog, witness: str) -> None:
    assert _post(fake_log.body(0, 5)).status_code == 200

    response = _post(fake_log.body(3, 9))

    assert response.status_code == 409
    assert response["Content-Type"] == "text/x.tlog.size"
    assert response.content == b"5\n"
    assert _stored()[0] == 5


@pytest.mark.django_db
def test_bad_consistency_proof_422(fake_log: FakeLog, witness: str) -> None:
    assert _post(fake_log.body(0, 5)).status_code == 200
    proof = fake_log.proof(5, 9)
    proof[0] = bytes([proof[0][0] ^ 1]) + proof[0][1:]

    response = _post(fake_log.body(5, 9, proof=proof))

    assert response.status_code == 422
    assert _stored()[0] == 5


@pytest.mark.django_db
def test_proof_with_old_zero_422(fake_log: FakeLog, witness: str) -> None:
    response = _post(fake_log.body(0, 9, proof=fake_log.proof(5, 9)))

    assert response.status_code == 422


@pytest.mark.django_db
def test_size_zero_needs_empty_root(fake_log: FakeLog, witness: str) -> None:
    wrong = add_checkpoint_body(0, [], fake_log.checkpoint(0, root=bytes(32)))
    right = add_checkpoint_body(0, [], fake_log.checkpoint(0))

    assert _post(wrong).status_code == 422
    assert _post(right).status_code == 200


@pytest.mark.django_db
def test_fork_same_size_other_root_422(fake_log: FakeLog, witness: str) -> None:
    """The log signs a second tree of the same size (a split view): the witness refuses."""
    assert _post(fake_log.body(0, 8)).status_code == 200
    before = _stored()
    fake_log.leaves[3] = b"rewritten entry"
    fork = fake_log.body(8, 8)

    response = _post(fork)

    assert response.status_code == 422
    assert response.content.decode().startswith("witness.inconsistent")
    assert _stored() == before
    evidence = WitnessEvidence.objects.get()
    assert evidence.reason == "same size, different root (fork)"
    assert (evidence.witnessed_size, evidence.witnessed_root) == before
    assert evidence.request_body == fork.decode()


@pytest.mark.django_db
def test_fork_at_larger_size_422(fake_log: FakeLog, witness: str) -> None:
    """A rewritten history cannot be proven consistent with the one already cosigned."""
    assert _post(fake_log.body(0, 8)).status_code == 200
    forked = FakeLog(key=fake_log.key, sm2=fake_log.sm2)
    forked.leaves[2] = b"altered"

    response = _post(forked.body(8, 12))

    assert response.status_code == 422
    assert _stored()[0] == 8
    assert list(WitnessEvidence.objects.values_list("reason", flat=True)) == [
        "consistency proof does not verify"
    ]


@pytest.mark.django_db
def test_no_evidence_for_unsigned_or_stale_requests(fake_log: FakeLog, witness: str) -> None:
    assert _post(fake_log.body(0, 8)).status_code == 200

    assert _post(FakeLog().body(8, 8)).status_code == 403
    assert _post(fake_log.body(3, 8)).status_code == 409
    assert WitnessEvidence.objects.count() == 0


@pytest.mark.django_db
def test_monitoring_checkpoint_path(fake_log: FakeLog, witness: str) -> None:
    line = _post(fake_log.body(0, 4)).content.decode()
    origin_hash = hashlib.sha256(ORIGIN.encode()).hexdigest()

    found = Client().get(f"/witness/{origin_hash}/checkpoint")
    missing = Client().get(f"/witness/{'0' * 64}/checkpoint")

    assert found.status_code == 200
    assert found.content.decode().startswith(note_parse(fake_log.checkpoint(4)).text + "\n— ")
    assert found.content.decode().endswith(line)
    assert missing.status_code == 404


@pytest.mark.django_db
def test_rollback_attempt_refused(fake_log: FakeLog, witness: str) -> None:
    assert _post(fake_log.body(0, 12)).status_code == 200

    smaller_as_old = _post(add_checkpoint_body(12, [], fake_log.checkpoint(7)))
    stale_old = _post(fake_log.body(7, 7))
    from_zero = _post(fake_log.body(0, 7))

    assert smaller_as_old.status_code == 400
    assert (stale_old.status_code, stale_old.content) == (409, b"12\n")
    assert (from_zero.status_code, from_zero.content) == (409, b"12\n")
    assert _stored()[0] == 12


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"old 0\n",
        b"old 00\n\nx\n",
        b"new 0\n\nx\n",
        b"old 0\nnot base64\n\nx\n",
        b"old 0\n\nnot a note\n",
        b"\xff\xfe",
        b"old 0\n" + b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n" * 64 + b"\nx\n\n",
    ],
)
def test_malformed_body_400(witness: str, body: bytes) -> None:
    assert _post(body).status_code == 400


@pytest.mark.django_db
def test_oversized_body_413_and_get_405(witness: str) -> None:
    assert _post(b"x" * (services.MAX_BODY_BYTES + 1)).status_code == 413
    assert Client().get(URL).status_code == 405


@pytest.mark.django_db
def test_uninitialised_witness_503(fake_log: FakeLog) -> None:
    witness_trust_log(origin=ORIGIN, vkeys=fake_log.vkeys)

    assert _post(fake_log.body(0, 3)).status_code == 503


@pytest.mark.django_db
def test_csrf_enforced_client_still_accepted(fake_log: FakeLog, witness: str) -> None:
    response = _post(fake_log.body(0, 3), client=Client(enforce_csrf_checks=True))

    assert response.status_code == 200


@pytest.mark.django_db
def test_status_page_public(fake_log: FakeLog, witness: str) -> None:
    _post(fake_log.body(0, 5))

    response = Client().get("/witness/")

    assert response.status_code == 200
    page = response.content.decode()
    assert witness in page
    assert ORIGIN in page
    assert "<td>5</td>" in page
    assert "不一致证据" in page


@pytest.mark.django_db
def test_init_and_trust_are_audited(fake_log: FakeLog, witness: str) -> None:
    actions = sorted(AuditEntry.objects.values_list("action", flat=True))

    assert actions == ["witness.init", "witness.trust_log"]
    assert witness_init(name=WITNESS_NAME).name == WITNESS_NAME
    with pytest.raises(WitnessRefused, match="already_initialised"):
        witness_init(name="witness.other.example")


@pytest.mark.django_db
def test_trust_log_refuses_key_of_other_name(fake_log: FakeLog) -> None:
    other = FakeLog(origin="other.example/log")

    with pytest.raises(WitnessRefused, match="bad_vkey"):
        witness_trust_log(origin=ORIGIN, vkeys=other.vkeys)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (DATABASE_URL)"
)
def test_race_exactly_one_advances(
    fake_log: FakeLog, witness: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _post(fake_log.body(0, 5)).status_code == 200

    def slow_cosign(*args: Any, **kwargs: Any) -> str:
        # Hold the row lock a while: without it both requests would pass the size check.
        time.sleep(0.5)
        return cosign(*args, **kwargs)

    monkeypatch.setattr("yiwang.witness.services.cosign", slow_cosign)
    bodies = {9: fake_log.body(5, 9), 12: fake_log.body(5, 12)}
    barrier = threading.Barrier(2)
    results: dict[int, Any] = {}

    def submit(size: int) -> None:
        barrier.wait()
        try:
            results[size] = _post(bodies[size])
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(size,)) for size in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    statuses = sorted(r.status_code for r in results.values())
    assert statuses == [200, 409]
    winner = next(size for size, r in results.items() if r.status_code == 200)
    loser = next(r for r in results.values() if r.status_code == 409)
    assert loser.content == f"{winner}\n".encode()
    assert _stored()[0] == winner


def _parse_status(body: bytes) -> int:
    try:
        services.add_checkpoint_parse(body)
    except WitnessRefused as exc:
        return exc.status
    return 0


@hsettings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=2000))
def test_parse_garbage_only_refuses(body: bytes) -> None:
    """Hostile bodies are refused with 400, never an unexpected exception (no database)."""
    assert _parse_status(body) in (0, 400)
