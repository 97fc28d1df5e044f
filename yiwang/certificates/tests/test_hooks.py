"""Applications ↔ certificates: issuance at 出件, certificates in place of uploaded materials."""

from __future__ import annotations

import json

import pytest

from yiwang.accounts.models import Role
from yiwang.accounts.tests.factories import (
    EnterpriseFactory,
    EnterpriseMemberFactory,
    staff_with_role,
)
from yiwang.applications import services as applications
from yiwang.applications.models import Application
from yiwang.applications.tests.factories import PNG, ApplicationFactory
from yiwang.catalog.models import Material
from yiwang.catalog.tests.factories import MaterialFactory, PublishedVersionFactory
from yiwang.certificates import services
from yiwang.certificates.models import Certificate, CertificateUse
from yiwang.certificates.tests.test_services import World, entry_of, issue, make_world
from yiwang.core.errors import ValidationError

pytestmark = pytest.mark.django_db


def concluded(world: World, **kwargs: object) -> Application:
    version = PublishedVersionFactory(
        item__department=world.issuer,
        children=False,
        name="测试许可",
        result_certificate_type=world.type.code,
    )
    defaults: dict[str, object] = {
        "version": version,
        "applicant": world.citizen,
        "status": Application.Status.CONCLUDED,
        "decision": Application.Decision.APPROVED,
        "form_data": {"scope": "餐饮服务"},
    }
    return ApplicationFactory(**{**defaults, **kwargs})


def test_issuing_an_approved_application_issues_its_certificate() -> None:
    world = make_world()
    application = concluded(world)

    applications.application_issue(
        application=application, actor=world.clerk, delivery_method="electronic"
    )

    certificate = Certificate.objects.get(source_application=application)
    assert (certificate.type, certificate.holder_user, certificate.holder_name) == (
        world.type,
        world.citizen,
        "张三",
    )
    assert certificate.face_data == {"holder_name": "张三", "scope": "餐饮服务"}
    assert certificate.issuing_department == world.issuer
    assert entry_of(certificate).kind == "certificate.issue"
    # a second run of the hook does not issue twice
    from yiwang.certificates.hooks import issue_for_application

    assert issue_for_application(application) == [certificate]
    assert Certificate.objects.count() == 1


def test_a_rejected_application_or_an_unknown_type_issues_nothing() -> None:
    world = make_world()
    rejected = concluded(world, decision=Application.Decision.REJECTED)
    applications.application_issue(
        application=rejected, actor=world.clerk, delivery_method="window"
    )
    unknown = concluded(world)
    unknown.version.result_certificate_type = "11100000MBDEM0023A999"
    unknown.version.save()
    applications.application_issue(application=unknown, actor=world.clerk, delivery_method="window")
    assert Certificate.objects.count() == 0


def test_an_unknown_holder_issues_nothing_but_does_not_block_the_issue_step() -> None:
    world = make_world()
    world.citizen.id_number = ""
    world.citizen.save()
    application = concluded(world)
    applications.application_issue(
        application=application, actor=world.clerk, delivery_method="electronic"
    )
    application.refresh_from_db()
    assert application.status == Application.Status.ISSUED
    assert Certificate.objects.count() == 0
    world.type.holder_type = "001"
    world.type.save()
    enterprise_case = concluded(world)  # no USCC in the form, no enterprise of the applicant
    applications.application_issue(
        application=enterprise_case, actor=world.clerk, delivery_method="electronic"
    )
    assert Certificate.objects.count() == 0


def test_an_enterprise_certificate_goes_to_the_applicants_enterprise() -> None:
    world = make_world()
    world.type.holder_type = "001"
    world.type.save()
    enterprise = EnterpriseFactory()
    EnterpriseMemberFactory(enterprise=enterprise, user=world.citizen, capacity="agent")
    application = concluded(world, form_data={"holder_name": enterprise.name})
    applications.application_issue(
        application=application, actor=world.clerk, delivery_method="electronic"
    )
    certificate = Certificate.objects.get(source_application=application)
    assert (certificate.holder_name, certificate.holder_id_number, certificate.holder_user) == (
        enterprise.name,
        enterprise.uscc,
        None,
    )


def _version_needing_the_certificate(world: World):
    version = PublishedVersionFactory(
        item__department=world.other, children=False, name="食品经营许可"
    )
    MaterialFactory(version=version, name="申请书", sort_order=1)
    licence = MaterialFactory(
        version=version,
        name="测试许可证",
        source=Material.Source.GOVERNMENT,
        certificate_type_code=world.type.code,
        sort_order=2,
    )
    return version, licence


def _submit(version, citizen):
    return applications.application_submit(
        actor=citizen,
        item=version.item,
        form_data={"purpose": "测试"},
        contact_phone="13800001111",
        materials=[
            applications.MaterialInput(
                material_id=version.materials.get(name="申请书").pk,
                content=PNG,
                filename="sqs.png",
            )
        ],
    )


def test_a_valid_certificate_replaces_the_material_and_its_use_is_recorded() -> None:
    world = make_world()
    certificate = issue(world)
    version, licence = _version_needing_the_certificate(world)

    application = _submit(version, world.citizen)

    fetched = application.materials.get(material=licence)
    assert (fetched.source, fetched.reference) == ("government", certificate.identifier)
    use = CertificateUse.objects.get()
    assert (use.certificate, use.department, use.case_number, use.application) == (
        certificate,
        world.other,
        application.number,
        application,
    )
    assert use.reason == "办理食品经营许可"
    assert use.user is None


def test_a_revoked_or_foreign_certificate_does_not_replace_the_material() -> None:
    world = make_world()
    theirs = issue(world, holder=world.other_citizen)
    version, _licence = _version_needing_the_certificate(world)
    mine = issue(world)
    services.certificate_revoke(actor=world.clerk, certificate=mine, reason="注销")

    with pytest.raises(ValidationError) as caught:
        _submit(version, world.citizen)
    assert [p["code"] for p in caught.value.extra["problems"]] == ["fetch_unavailable"]
    assert CertificateUse.objects.count() == 0
    # the other citizen's certificate serves the other citizen only
    application = _submit(version, world.other_citizen)
    assert application.materials.get(source="government").reference == theirs.identifier
    assert json.dumps(list(CertificateUse.objects.values_list("certificate_id", flat=True))) == (
        f"[{theirs.pk}]"
    )


def test_clerk_of_another_department_cannot_issue_through_the_hook() -> None:
    world = make_world()
    elsewhere = staff_with_role(Role.WINDOW_CLERK, world.other)
    application = concluded(world)
    from yiwang.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        applications.application_issue(
            application=application, actor=elsewhere, delivery_method="electronic"
        )
    assert Certificate.objects.count() == 0
