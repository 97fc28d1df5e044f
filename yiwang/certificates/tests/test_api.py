"""The certificates API: who sees what, who may use and revoke."""

from __future__ import annotations

import pytest
from django.test import Client

from yiwang.accounts.models import Role, User
from yiwang.accounts.tests.factories import staff_with_role
from yiwang.certificates import credential as vc
from yiwang.certificates import services
from yiwang.certificates.models import Certificate, CertificateUse
from yiwang.certificates.tests.test_services import issue, make_world

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_mine_lists_only_the_holders_certificates() -> None:
    world = make_world()
    mine = issue(world)
    issue(world, holder=world.other_citizen)
    response = signed_in(world.citizen).get("/api/v1/certificates/mine")
    assert response.status_code == 200
    assert [(c["identifier"], c["status"], c["type_name"]) for c in response.json()] == [
        (mine.identifier, "valid", "测试许可证")
    ]
    assert Client().get("/api/v1/certificates/mine").status_code == 401


def test_the_credential_goes_to_the_holder_and_the_issuing_and_using_staff_only() -> None:
    world = make_world()
    certificate = issue(world)
    url = f"/api/v1/certificates/{certificate.identifier}/credential"

    response = signed_in(world.citizen).get(url)
    assert response.status_code == 200
    body = response.json()
    assert body["credential"] == certificate.credential
    assert body["status"] == "valid"
    assert vc.credential_verify(body["credential"], vc.trusted_issuer_keys()).ok is True
    assert signed_in(world.clerk).get(url).status_code == 200
    # another citizen and staff of another department learn nothing
    assert signed_in(world.other_citizen).get(url).status_code == 404
    assert signed_in(world.other_clerk).get(url).status_code == 404
    assert Client().get(url).status_code == 401
    # once the other department used it in a case, its staff may open it
    services.certificate_use(
        actor=world.other_clerk,
        certificate=certificate,
        department=world.other,
        reason="办理测试",
        case_number="C-1",
    )
    assert signed_in(world.other_clerk).get(url).status_code == 200


def test_public_verification_shows_status_and_masked_holder_only() -> None:
    world = make_world()
    certificate = issue(world)
    response = Client().get(f"/api/v1/certificates/verify/{certificate.identifier}")
    assert response.status_code == 200
    body = response.json()
    number = world.citizen.id_number
    assert (body["status"], body["valid"], body["holder_name"], body["holder_id"]) == (
        "valid",
        True,
        "张*",
        number[:4] + "*" * 10 + number[-4:],
    )
    assert number not in response.content.decode()
    assert "credential" not in body
    assert body["ledger"]["entry_id"] == certificate.ledger_entry_ref
    missing = Client().get("/api/v1/certificates/verify/1.2.156.3005.2.nothing")
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/problem+json"


def test_staff_record_uses_with_reason_and_case_number_and_the_holder_sees_them() -> None:
    world = make_world()
    certificate = issue(world)
    url = f"/api/v1/certificates/{certificate.identifier}/uses"
    staff = signed_in(world.other_clerk)

    refused = staff.post(url, {"reason": " ", "case_number": ""}, content_type="application/json")
    assert refused.status_code == 422
    assert (
        signed_in(world.citizen)
        .post(url, {"reason": "x", "case_number": "C"}, content_type="application/json")
        .status_code
        == 403
    )
    foreign = staff.post(
        url,
        {"reason": "办理测试", "case_number": "C-1", "department": world.issuer.code},
        content_type="application/json",
    )
    assert foreign.status_code == 403

    created = staff.post(
        url, {"reason": "办理食品经营许可", "case_number": "C-2"}, content_type="application/json"
    )
    assert created.status_code == 201
    assert created.json()["department"] == "六安市测试用证局"
    use = CertificateUse.objects.get()
    assert (use.department, use.user, use.case_number) == (world.other, world.other_clerk, "C-2")

    seen = signed_in(world.citizen).get(url)
    assert [(u["department"], u["reason"], u["case_number"]) for u in seen.json()] == [
        ("六安市测试用证局", "办理食品经营许可", "C-2")
    ]
    assert signed_in(world.other_citizen).get(url).status_code == 404


def test_only_issuing_staff_revoke_and_the_revocation_shows_at_once() -> None:
    world = make_world()
    certificate = issue(world)
    url = f"/api/v1/certificates/{certificate.identifier}/revoke"
    body = {"reason": "持证人申请注销"}

    # staff of another department: 404 (they cannot see it), and 403 once they used it; the
    # holder sees it but may not revoke it (403)
    assert (
        signed_in(world.other_clerk).post(url, body, content_type="application/json").status_code
        == 404
    )
    services.certificate_use(
        actor=world.other_clerk,
        certificate=certificate,
        department=world.other,
        reason="办理测试",
        case_number="C-1",
    )
    forbidden = signed_in(world.other_clerk).post(url, body, content_type="application/json")
    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "core.forbidden"
    assert (
        signed_in(world.citizen).post(url, body, content_type="application/json").status_code == 403
    )
    approver = staff_with_role(Role.APPROVER, world.issuer)
    no_reason = signed_in(approver).post(url, {"reason": ""}, content_type="application/json")
    assert no_reason.status_code == 422

    done = signed_in(world.clerk).post(url, body, content_type="application/json")
    assert (done.status_code, done.json()) == (
        200,
        {"identifier": certificate.identifier, "status": "revoked"},
    )
    assert Certificate.objects.get(pk=certificate.pk).status == "revoked"
    public = Client().get(f"/api/v1/certificates/verify/{certificate.identifier}").json()
    assert (public["status"], public["valid"]) == ("revoked", False)
    credential = signed_in(world.citizen).get(
        f"/api/v1/certificates/{certificate.identifier}/credential"
    )
    assert credential.json()["status"] == "revoked"
    again = signed_in(world.clerk).post(url, body, content_type="application/json")
    assert again.status_code == 409
