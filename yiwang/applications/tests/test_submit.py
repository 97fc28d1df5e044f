"""Submission: validation reports every problem at once and creates nothing; idempotency;
代办; the window channel; materials the government holds; a crash leaves nothing."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage

from yiwang.accounts.models import Delegation, Role
from yiwang.accounts.tests.factories import DelegationFactory, UserFactory, staff_with_role
from yiwang.applications import errors, services, sources
from yiwang.applications.models import Application, ApplicationMaterial, Event
from yiwang.applications.tests.conftest import material, submit
from yiwang.applications.tests.factories import PDF, PNG
from yiwang.catalog.models import Material
from yiwang.catalog.tests.factories import MaterialFactory
from yiwang.core.errors import Conflict, PermissionDenied, ValidationError
from yiwang.core.models import AuditEntry
from yiwang.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_a_complete_submission_creates_the_application_with_its_number_and_trail(version, citizen):
    application = submit(version, citizen)

    assert application.status == Application.Status.SUBMITTED
    assert application.channel == Application.Channel.ONLINE
    assert len(application.number) == 24
    assert application.number.startswith("341500")
    assert application.contact_phone_last4 == "1111"
    row = application.materials.get()
    assert (row.source, row.content_type, row.size) == ("upload", "image/png", len(PNG))
    assert default_storage.open(str(row.file.name)).read() == PNG
    assert list(application.events.values_list("kind", flat=True)) == ["submitted"]
    assert AuditEntry.objects.filter(action="applications.submit").count() == 1
    assert (
        Notification.objects.filter(recipient=citizen, event="application.submitted").count() == 1
    )


def test_numbers_are_unique_and_sort_in_submission_order(version, citizen):
    first = submit(version, citizen)
    second = submit(version, citizen)

    assert first.number < second.number


def test_every_problem_is_reported_at_once_and_nothing_is_created(version, citizen):
    unknown = MaterialFactory()  # a material of another item
    audit_before = AuditEntry.objects.count()

    with pytest.raises(ValidationError) as caught:
        submit(
            version,
            citizen,
            contact_phone="12345",
            materials=[
                services.MaterialInput(material_id=unknown.pk, content=PNG),
                services.MaterialInput(
                    material_id=material(version, "场地证明").pk, content=b"not a picture"
                ),
            ],
        )

    assert caught.value.code == errors.INVALID
    codes = sorted(p["code"] for p in caught.value.extra["problems"])
    assert codes == ["bad_type", "missing", "phone", "unknown_material"]
    # the required 申请书 was not given at all, the tolerated 场地证明 was given but refused
    assert "4 处" in str(caught.value.message)
    assert Application.objects.count() == 0
    assert ApplicationMaterial.objects.count() == 0
    assert AuditEntry.objects.count() == audit_before
    assert Notification.objects.count() == 0


def test_an_oversized_file_is_refused(version, citizen, settings):
    settings.YIWANG_APPLICATION_MAX_UPLOAD_BYTES = 10

    with pytest.raises(ValidationError) as caught:
        submit(version, citizen)

    assert [p["code"] for p in caught.value.extra["problems"]] == ["too_large"]


def test_a_tolerated_material_may_be_promised_but_a_required_one_may_not(version, citizen):
    with pytest.raises(ValidationError) as caught:
        submit(
            version,
            citizen,
            materials=[
                services.MaterialInput(material_id=material(version, "申请书").pk, promised=True)
            ],
        )
    assert [p["code"] for p in caught.value.extra["problems"]] == ["not_tolerated"]

    application = submit(
        version,
        citizen,
        materials=[
            services.MaterialInput(material_id=material(version, "申请书").pk, content=PDF),
            services.MaterialInput(material_id=material(version, "场地证明").pk, promised=True),
        ],
    )
    assert sorted(application.materials.values_list("source", "content_type")) == [
        ("promised", ""),
        ("upload", "application/pdf"),
    ]


def test_the_same_idempotency_key_returns_the_first_application(version, citizen):
    first = submit(version, citizen, idempotency_key="abc-1")
    again = submit(version, citizen, idempotency_key="abc-1")

    assert again.pk == first.pk
    assert Application.objects.count() == 1
    assert AuditEntry.objects.filter(action="applications.submit").count() == 1


def test_the_same_key_with_another_payload_is_a_conflict(version, citizen):
    first = submit(version, citizen, idempotency_key="abc-1")

    with pytest.raises(Conflict) as caught:
        submit(version, citizen, idempotency_key="abc-1", form_data={"purpose": "另一件事"})

    assert caught.value.code == errors.IDEMPOTENCY_CONFLICT
    assert caught.value.extra["number"] == first.number
    assert Application.objects.count() == 1


def test_another_person_may_use_the_same_key(version, citizen, other_citizen):
    submit(version, citizen, idempotency_key="abc-1")
    submit(version, other_citizen, idempotency_key="abc-1")

    assert Application.objects.count() == 2


def test_an_agent_files_for_a_principal_under_an_active_delegation(version, citizen):
    elder = UserFactory(real_name="王奶奶")
    delegation = DelegationFactory(principal=elder, agent=citizen)

    application = submit(version, citizen, principal=elder)

    assert (application.applicant, application.principal) == (citizen, elder)
    assert application.delegation == delegation
    assert AuditEntry.objects.get(action="applications.submit").on_behalf_of_id == elder.pk
    assert Notification.objects.filter(recipient=elder).count() == 1


def test_an_agent_without_the_apply_scope_is_refused(version, citizen):
    elder = UserFactory()
    DelegationFactory(principal=elder, agent=citizen, scopes=[Delegation.Scope.QUERY.value])

    with pytest.raises(ValidationError):
        submit(version, citizen, principal=elder)
    assert Application.objects.count() == 0


def test_a_window_clerk_submits_for_a_walk_in_applicant(version, citizen, clerk):
    application = submit(version, clerk, applicant=citizen, channel=Application.Channel.WINDOW)

    assert (application.applicant, application.submitted_by) == (citizen, clerk)
    assert application.channel == "window"


def test_staff_without_the_window_role_cannot_submit_at_the_window(version, citizen):
    approver = staff_with_role(Role.APPROVER)

    with pytest.raises(PermissionDenied):
        submit(version, approver, applicant=citizen, channel=Application.Channel.WINDOW)


def test_staff_cannot_submit_as_applicants(version, clerk):
    with pytest.raises(PermissionDenied):
        submit(version, clerk)


def test_a_government_material_comes_from_a_registered_source(version, citizen):
    licence = MaterialFactory(
        version=version,
        name="营业执照",
        source=Material.Source.GOVERNMENT,
        certificate_type_code="11100000MBDEM0023A001",
    )
    # with no provider the applicant is told to upload it
    with pytest.raises(ValidationError) as caught:
        submit(version, citizen)
    assert [p["code"] for p in caught.value.extra["problems"]] == ["fetch_unavailable"]

    def provider(m, applicant):
        if m.pk == licence.pk and applicant == citizen:
            return sources.FetchedMaterial(reference="ZZ-0001", provider="test")
        return None

    sources.material_provider_register(provider)
    try:
        application = submit(version, citizen)
    finally:
        sources.material_provider_unregister(provider)

    fetched = application.materials.get(source="government")
    assert (fetched.material, fetched.reference, fetched.file.name) == (licence, "ZZ-0001", "")


def test_a_crash_after_the_first_write_leaves_nothing(version, citizen, monkeypatch):
    def boom(**kwargs):
        raise RuntimeError("crash in the middle")

    monkeypatch.setattr(services, "audit_record", boom)
    saved: list[str] = []
    real_store = services._store

    def store(content, mime):
        saved.append(real_store(content, mime))
        return saved[-1]

    monkeypatch.setattr(services, "_store", store)

    with pytest.raises(RuntimeError):
        submit(version, citizen)

    assert Application.objects.count() == 0
    assert ApplicationMaterial.objects.count() == 0
    assert Event.objects.count() == 0
    assert Notification.objects.count() == 0
    assert saved
    assert not default_storage.exists(saved[0])
