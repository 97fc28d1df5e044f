"""GET /api/v1/ledger/…: public, read-only; proofs served verify against the checkpoint."""

from __future__ import annotations

import base64

import pytest
from django.db import transaction
from django.test import Client

from yiwang.ledger import merkle, services
from yiwang.ledger.models import Checkpoint, Entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def published() -> Checkpoint:
    with transaction.atomic():
        for i in range(21):
            services.entry_append(kind="certificate.issue", subject=f"C{i}", payload={"i": i})
    services.ledger_integrate_all()
    return services.checkpoint_publish()


def _b(items: list[str]) -> list[bytes]:
    return [base64.b64decode(x) for x in items]


def test_checkpoint_as_json_and_as_text(published: Checkpoint) -> None:
    body = Client().get("/api/v1/ledger/checkpoint").json()
    assert body["size"] == 21
    assert base64.b64decode(body["root"]) == bytes(published.root)
    assert body["note"].startswith("ledger.yiwang.luan.example/v1\n21\n" + body["root"] + "\n\n")
    assert body["cosigners"] == []
    text = Client().get("/api/v1/ledger/checkpoint", HTTP_ACCEPT="text/plain")
    assert text["Content-Type"] == "text/plain; charset=utf-8"
    assert text.content.decode() == body["note"]


def test_inclusion_and_consistency_proofs_verify(published: Checkpoint) -> None:
    entry = Client().get("/api/v1/ledger/entries/13").json()
    leaf = base64.b64decode(entry["leaf_input"])
    assert base64.b64decode(entry["leaf_hash"]) == merkle.leaf_hash(leaf)
    assert entry["bundle"].startswith("c2sp.org/tlog-proof@v1\nextra ")
    body = Client().get("/api/v1/ledger/proof/inclusion?index=13&size=21").json()
    assert merkle.verify_inclusion(
        13, 21, merkle.leaf_hash(leaf), _b(body["proof"]), bytes(published.root)
    )
    default_size = Client().get("/api/v1/ledger/proof/inclusion?index=13").json()
    assert default_size == body
    leaves = [bytes(h) for h in Entry.objects.order_by("index").values_list("leaf_hash", flat=True)]
    cons = Client().get("/api/v1/ledger/proof/consistency?size1=5&size2=21").json()
    assert cons["size1"] == 5
    proof = _b(cons["proof"])
    root5 = merkle.root(leaves[:5])
    assert merkle.verify_consistency(5, 21, root5, bytes(published.root), proof)
    assert not merkle.verify_consistency(5, 21, leaves[0], bytes(published.root), proof)


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ("/proof/inclusion?index=abc&size=3", 400, "参数 index 应为非负整数"),
        ("/proof/inclusion?index=-1&size=3", 400, "参数 index 应为非负整数"),
        ("/proof/inclusion?index=5&size=3", 400, "无法生成证明"),
        ("/proof/inclusion?index=0&size=99", 404, "账本尚未达到该树大小"),
        ("/proof/consistency?size1=0&size2=3", 400, "无法生成证明"),
        ("/proof/consistency?size2=3", 400, "缺少参数 size1"),
        ("/entries/99", 404, "条目"),
        ("/entries/x", 400, "参数 index"),
    ],
)
def test_bad_parameters_answer_in_chinese(
    published: Checkpoint, query: str, status: int, words: str
) -> None:
    response = Client().get("/api/v1/ledger" + query)
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert words in response.json()["detail"]


def test_policy_names_the_log_key(published: Checkpoint) -> None:
    text = Client().get("/api/v1/ledger/policy").content.decode()
    assert text.startswith("log ledger.yiwang.luan.example/v1+")
    assert text.endswith("quorum none\n")
