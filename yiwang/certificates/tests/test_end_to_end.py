"""The issue's "done means": a certificate issued at the end of a demo application verifies
offline from its bundle.

二手房转移登记 on the Lu'an demo, from the window through the parallel approvals to 办结 and 出件;
出件 issues the 不动产权证书 (natural resources) and the 完税证明 (tax) to the buyer; the log
integrates them, a witness (this codebase's witness app behind a live server) cosigns the
checkpoint, and the credential and its bundle then verify with the offline commands and the
published policy alone. One changed character in the credential fails.
"""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from yiwang.accounts.demo import accounts_demo_load
from yiwang.accounts.models import User
from yiwang.applications.tests.conftest import signed_in
from yiwang.applications.tests.test_scenarios import (
    demo_clerk,
    government_source,  # noqa: F401 - a fixture
    house_transfer_to_approval,
    post,
)
from yiwang.catalog.demo import catalog_demo_load, certificate_type_code
from yiwang.certificates.demo import certificates_demo_load
from yiwang.certificates.models import Certificate
from yiwang.ledger import selectors as ledger
from yiwang.ledger import services as ledger_services
from yiwang.ledger.models import Entry

pytestmark = pytest.mark.django_db(transaction=True)


def _exit_code(*args: str) -> int:
    try:
        call_command(*args, stdout=StringIO(), stderr=StringIO())
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def _witness(live_server: Any, name: str) -> None:
    out = StringIO()
    call_command("witness", "init", "--name", name, stdout=out)
    vkey = next(w for w in out.getvalue().split() if w.startswith(name + "+"))
    log_vkey = ledger.log_policy_text().split()[1]
    call_command(
        "witness", "trust-log", "--origin", ledger.ledger_origin(), "--vkey", log_vkey,
        stdout=StringIO(),
    )  # fmt: skip
    ledger_services.witness_add(
        name=name, url=live_server.url + "/witness/add-checkpoint", vkey=vkey
    )


@pytest.mark.usefixtures("government_source")
def test_a_certificate_from_a_demo_application_verifies_offline(
    live_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The live server shares a busy CI machine; the production timeout is for real networks.
    monkeypatch.setattr(ledger_services, "WITNESS_TIMEOUT_SECONDS", 60.0)
    accounts_demo_load(password="yiwang-demo-2026")
    catalog_demo_load(
        actor=User.objects.get(username="demo-catalog"),
        reviewer=User.objects.get(username="demo-reviewer"),
    )
    certificates_demo_load()
    detail, _stages, buyer = house_transfer_to_approval()
    assert detail["status"] == "approved"
    clerk = signed_in(demo_clerk())
    post(clerk, f"/api/v1/staff/applications/{detail['id']}/conclude", {})
    post(
        clerk,
        f"/api/v1/staff/applications/{detail['id']}/issue",
        {"delivery_method": "electronic"},
    )

    issued = Certificate.objects.filter(source_application__public_id=detail["id"]).order_by("id")
    assert sorted(c.type.code for c in issued) == sorted(
        [certificate_type_code("不动产权证书"), certificate_type_code("完税证明")]
    )
    deed = issued.get(type__code=certificate_type_code("不动产权证书"))
    assert (deed.holder_user, deed.holder_name, deed.issuing_department.code) == (
        buyer,
        "孙买房",
        "la-zrzyghj",
    )
    assert deed.status == Certificate.Status.VALID

    _witness(live_server, "witness.caizheng")
    ledger_services.ledger_integrate_all()
    checkpoint = ledger_services.checkpoint_publish()
    assert list(checkpoint.cosignatures.values_list("witness", flat=True)) == ["witness.caizheng"]
    bundle = ledger.entry_bundle(Entry.objects.get(pk=int(deed.ledger_entry_ref or 0)))
    assert bundle is not None
    (tmp_path / "deed.json").write_text(json.dumps(deed.credential, ensure_ascii=False))
    (tmp_path / "deed.proof").write_text(bundle)
    (tmp_path / "policy.txt").write_text(ledger.log_policy_text())
    policy = ["--policy", str(tmp_path / "policy.txt")]

    assert _exit_code("ledger", "verify-bundle", str(tmp_path / "deed.proof"), *policy) == 0
    assert (
        _exit_code(
            "certificates",
            "verify",
            str(tmp_path / "deed.json"),
            "--bundle",
            str(tmp_path / "deed.proof"),
            *policy,
        )
        == 0
    )

    forged = dict(deed.credential)
    forged["validUntil"] = "2099-12-31T00:00:00Z"
    (tmp_path / "forged.json").write_text(json.dumps(forged, ensure_ascii=False))
    assert (
        _exit_code(
            "certificates",
            "verify",
            str(tmp_path / "forged.json"),
            "--bundle",
            str(tmp_path / "deed.proof"),
            *policy,
        )
        == 1
    )
