"""Issue, new version, revoke, expire, use; the ledger entries and the holder's view."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import connection, connections
from django.utils import timezone

from yiwang.accounts.models import Department, Role, User
from yiwang.accounts.tests.factories import (
    DepartmentFactory,
    EnterpriseFactory,
    EnterpriseMemberFactory,
    UserFactory,
    staff_with_role,
)
from yiwang.certificates import credential as vc
from yiwang.certificates import selectors, services
from yiwang.certificates.models import Certificate, CertificateType, CertificateUse
from yiwang.core.errors import Conflict, PermissionDenied, ValidationError
from yiwang.core.identifiers import ecert_id_parse
from yiwang.core.models import AuditEntry
from yiwang.ledger.models import Entry

pytestmark = pytest.mark.django_db

DEFINER = "11100000MBDEM0023A"  # the catalog demo's 市场监管总局 (check digit valid)
ISSUER_USCC = "11341500MBLA00010U"
OTHER_USCC = "11341500MBLA0002X0"


@dataclass
class World:
    issuer: Department
    other: Department
    clerk: User
    other_clerk: User
    citizen: User
    other_citizen: User
    type: CertificateType


def make_world() -> World:
    from stdnum.cn import uscc

    issuer_uscc = ISSUER_USCC[:17] + uscc.calc_check_digit(ISSUER_USCC[:17])
    other_uscc = OTHER_USCC[:17] + uscc.calc_check_digit(OTHER_USCC[:17])
    issuer = DepartmentFactory(code="la-cert-a", name="六安市测试发证局", uscc=issuer_uscc)
    other = DepartmentFactory(code="la-cert-b", name="六安市测试用证局", uscc=other_uscc)
    type_ = CertificateType.objects.create(
        code=DEFINER + "901",
        name="测试许可证",
        definer_name="测试总局",
        face_fields=[
            {"key": "holder_name", "label": "持证人", "required": True},
            {"key": "scope", "label": "许可范围", "required": False},
        ],
        validity_years=5,
    )
    type_.issuing_departments.add(issuer)
    return World(
        issuer=issuer,
        other=other,
        clerk=staff_with_role(Role.WINDOW_CLERK, issuer, real_name="陈发证"),
        other_clerk=staff_with_role(Role.WINDOW_CLERK, other, real_name="吴用证"),
        citizen=UserFactory(real_name="张三"),
        other_citizen=UserFactory(real_name="李四"),
        type=type_,
    )


def issue(world: World, holder: User | None = None, **kwargs: object) -> Certificate:
    holder = holder or world.citizen
    defaults: dict[str, object] = {
        "actor": world.clerk,
        "type": world.type,
        "department": world.issuer,
        "holder_name": holder.real_name,
        "holder_number": holder.id_number,
        "holder_user": holder,
        "face": {"holder_name": holder.real_name, "scope": "餐饮服务"},
    }
    return services.certificate_issue(**{**defaults, **kwargs})  # type: ignore[arg-type]


def entry_of(certificate: Certificate) -> Entry:
    assert certificate.ledger_entry_ref is not None
    return Entry.objects.get(pk=certificate.ledger_entry_ref)


def test_issue_builds_a_checked_identifier_validity_credential_and_ledger_entry() -> None:
    world = make_world()
    today = timezone.localdate()
    certificate = issue(world, valid_from=dt.date(2026, 3, 1))

    parts = ecert_id_parse(certificate.identifier)
    assert (parts.type_code, parts.issuer_uscc, parts.serial, parts.version) == (
        world.type.code,
        world.issuer.uscc,
        "0000000001",
        1,
    )
    assert (certificate.valid_from, certificate.valid_until) == (
        dt.date(2026, 3, 1),
        dt.date(2031, 2, 28),
    )
    assert certificate.status == Certificate.Status.VALID
    assert certificate.trust_grade == "A"
    assert certificate.holder_type == "111"
    assert certificate.issued_at.date() >= today - dt.timedelta(days=1)

    document = certificate.credential
    assert document["credentialSubject"]["identifier"] == certificate.identifier
    assert document["credentialSubject"]["holder"]["name"] == "张*"
    assert world.citizen.id_number not in json.dumps(document)
    assert document["validUntil"] == "2031-02-28T16:00:00Z"  # end of 28 Feb, Asia/Shanghai
    assert document["credentialStatus"]["id"].endswith(
        f"/certificates/verify/{certificate.identifier}/"
    )
    assert vc.credential_verify(document, vc.trusted_issuer_keys()).ok is True
    assert certificate.credential_sha256 == vc.credential_sha256(document)

    entry = entry_of(certificate)
    leaf = json.loads(bytes(entry.leaf_input))
    assert (entry.kind, entry.subject) == ("certificate.issue", certificate.identifier)
    assert leaf["payload"] == {
        "identifier": certificate.identifier,
        "credential_sha256": certificate.credential_sha256,
        "status": "valid",
        "type_code": world.type.code,
        "issuer": world.issuer.uscc,
        "valid_until": "2031-02-28",
    }
    audit = AuditEntry.objects.get(action="certificates.issue")
    assert audit.object_id == str(certificate.pk)
    assert world.citizen.id_number not in json.dumps(audit.after)


def test_serials_count_per_type_and_issuer_and_long_term_has_no_end() -> None:
    world = make_world()
    first = issue(world)
    second = issue(world, holder=world.other_citizen)
    assert (first.serial, second.serial) == ("0000000001", "0000000002")
    world.type.validity_years = None
    world.type.save()
    third = issue(world)
    assert third.valid_until is None
    assert "validUntil" not in third.credential
    assert third.long_term is True


def test_only_clerks_of_an_issuing_department_issue() -> None:
    world = make_world()
    with pytest.raises(PermissionDenied) as caught:
        issue(world, actor=world.other_clerk)
    assert caught.value.code == "core.forbidden"
    with pytest.raises(PermissionDenied) as caught:
        issue(world, actor=world.other_clerk, department=world.other)
    assert str(caught.value.message) == "“六安市测试用证局”不是“测试许可证”的颁发机构。"
    assert Certificate.objects.count() == 0
    assert Entry.objects.filter(kind="certificate.issue").count() == 0


def test_issue_checks_the_holder_number_and_face() -> None:
    world = make_world()
    number = world.citizen.id_number
    wrong = number[:17] + ("1" if number[17] != "1" else "2")
    with pytest.raises(ValidationError) as caught:
        issue(world, holder_number=wrong)
    assert caught.value.code == "core.id_number_invalid"
    with pytest.raises(ValidationError) as caught:
        issue(world, face={"scope": "x"})
    assert str(caught.value.message) == "请填写照面字段“持证人”。"
    with pytest.raises(ValidationError) as caught:
        issue(world, face={"holder_name": "张三", "colour": "red"})
    assert str(caught.value.message) == "“测试许可证”没有照面字段：colour。"
    assert Certificate.objects.count() == 0


def test_new_version_supersedes_the_old_one() -> None:
    world = make_world()
    old = issue(world)
    new = services.certificate_new_version(
        actor=world.clerk,
        certificate=old,
        face={"holder_name": "张三", "scope": "餐饮服务、食品销售"},
        reason="经营范围变更",
    )
    old.refresh_from_db()
    assert (old.status, old.superseded_by_id) == ("superseded", new.pk)
    assert (new.serial, new.version, new.status) == (old.serial, 2, "valid")
    assert ecert_id_parse(new.identifier).version == 2
    assert entry_of(new).kind == "certificate.version"
    with pytest.raises(Conflict):
        services.certificate_new_version(actor=world.clerk, certificate=old, face={})
    with pytest.raises(PermissionDenied):
        services.certificate_new_version(
            actor=world.other_clerk, certificate=new, face={"holder_name": "张三"}
        )


def test_revoke_needs_a_reason_and_shows_everywhere_at_once() -> None:
    world = make_world()
    certificate = issue(world)
    with pytest.raises(ValidationError) as caught:
        services.certificate_revoke(actor=world.clerk, certificate=certificate, reason="  ")
    assert str(caught.value.message) == "请填写注销原因。"
    with pytest.raises(PermissionDenied):
        services.certificate_revoke(actor=world.other_clerk, certificate=certificate, reason="x")

    services.certificate_revoke(actor=world.clerk, certificate=certificate, reason="申请人申请注销")

    view = selectors.verification_view_data(certificate.identifier)
    assert view is not None
    assert (view.status, view.revoked_reason, view.is_valid) == ("revoked", "申请人申请注销", False)
    revoke = Entry.objects.get(kind="certificate.revoke")
    assert json.loads(bytes(revoke.leaf_input))["payload"]["status"] == "revoked"
    assert (
        selectors.valid_certificate_of(
            type_code=world.type.code, holder_number=world.citizen.id_number
        )
        is None
    )
    with pytest.raises(Conflict):
        services.certificate_use(
            actor=world.other_clerk,
            certificate=certificate,
            department=world.other,
            reason="核验",
            case_number="C-1",
        )
    with pytest.raises(Conflict):
        services.certificate_revoke(actor=world.clerk, certificate=certificate, reason="again")


def test_expiry_job_marks_only_certificates_past_their_last_day() -> None:
    world = make_world()
    old = issue(world, valid_from=dt.date(2020, 1, 1))  # valid until 2024-12-31
    current = issue(world, holder=world.other_citizen)
    assert services.certificates_expire(today=dt.date(2025, 1, 1)) == 1
    old.refresh_from_db()
    current.refresh_from_db()
    assert (old.status, current.status) == ("expired", "valid")
    assert services.certificates_expire(today=dt.date(2025, 1, 1)) == 0
    assert AuditEntry.objects.filter(action="certificates.expire").count() == 1


def test_use_needs_reason_and_case_number_and_the_holder_sees_it() -> None:
    world = make_world()
    certificate = issue(world)
    with pytest.raises(ValidationError) as caught:
        services.certificate_use(
            actor=world.other_clerk,
            certificate=certificate,
            department=world.other,
            reason="",
            case_number="",
        )
    assert caught.value.extra["fields"] == ["reason", "case_number"]
    with pytest.raises(PermissionDenied):
        services.certificate_use(
            actor=world.other_clerk,
            certificate=certificate,
            department=world.issuer,
            reason="办理测试",
            case_number="C-1",
        )
    use = services.certificate_use(
        actor=world.other_clerk,
        certificate=certificate,
        department=world.other,
        reason="办理食品经营许可",
        case_number="341500202611270000000001",
    )
    assert list(selectors.uses_of_certificate(certificate)) == [use]
    assert (use.department, use.user, use.reason) == (
        world.other,
        world.other_clerk,
        "办理食品经营许可",
    )
    assert CertificateUse.objects.count() == 1


def test_holders_see_their_own_certificates_only() -> None:
    world = make_world()
    mine = issue(world)
    theirs = issue(world, holder=world.other_citizen)
    assert list(selectors.certificates_of_holder(world.citizen)) == [mine]
    assert list(selectors.certificates_of_holder(world.other_citizen)) == [theirs]


def test_an_enterprise_certificate_is_seen_by_its_members() -> None:
    world = make_world()
    world.type.holder_type = "001"
    world.type.save()
    enterprise = EnterpriseFactory()
    EnterpriseMemberFactory(enterprise=enterprise, user=world.citizen, capacity="agent")
    certificate = issue(
        world,
        holder_name=enterprise.name,
        holder_number=enterprise.uscc,
        holder_user=None,
        face={"holder_name": enterprise.name},
    )
    assert certificate.holder_type == "001"
    assert list(selectors.certificates_of_holder(world.citizen)) == [certificate]
    assert list(selectors.certificates_of_holder(world.other_citizen)) == []
    view = selectors.verification_view_data(certificate.identifier)
    assert view is not None
    assert view.holder_name_masked == enterprise.name
    assert view.holder_id_masked == enterprise.uscc[:4] + "**********" + enterprise.uscc[-4:]


def test_verification_view_masks_the_holder() -> None:
    world = make_world()
    certificate = issue(world)
    view = selectors.verification_view_data(certificate.identifier.lower())
    assert view is not None
    number = world.citizen.id_number
    assert (view.holder_name_masked, view.holder_id_masked) == (
        "张*",
        number[:4] + "*" * 10 + number[-4:],
    )
    assert (view.ledger.state, view.ledger.entry_id, view.ledger.index) == (
        "pending",
        certificate.ledger_entry_ref,
        None,
    )
    assert selectors.verification_view_data("1.2.156.3005.2.x") is None


def test_the_daily_task_runs_the_expiry() -> None:
    from yiwang.certificates.tasks import expire

    world = make_world()
    old = issue(world, valid_from=dt.date(2000, 1, 1))
    assert expire() == 1
    old.refresh_from_db()
    assert old.status == "expired"


def _race(*calls: Callable[[], object]) -> tuple[list[object], list[BaseException]]:
    barrier = threading.Barrier(len(calls))
    results: list[object] = []
    failures: list[BaseException] = []

    def run(call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results.append(call())
        except BaseException as exc:  # the test inspects what each thread got
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, failures


@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_take_distinct_serials_and_one_revocation_wins() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite serialises whole transactions)")
    world = make_world()
    issue(world)  # the signing keys exist before the race

    results, failures = _race(*(lambda: issue(world) for _ in range(4)))

    assert failures == []
    assert sorted(c.serial for c in results) == [  # type: ignore[attr-defined]
        "0000000002",
        "0000000003",
        "0000000004",
        "0000000005",
    ]
    target = Certificate.objects.order_by("id").first()
    assert target is not None
    results, failures = _race(
        lambda: services.certificate_revoke(actor=world.clerk, certificate=target, reason="一"),
        lambda: services.certificate_revoke(actor=world.clerk, certificate=target, reason="二"),
    )
    assert (len(results), [type(f) for f in failures]) == (1, [Conflict])
    assert Entry.objects.filter(kind="certificate.revoke").count() == 1
