"""Certificate types (type code, face fields), the watermark, the database constraints, and
the demo data."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction

from yiwang.certificates.demo import certificates_demo_load
from yiwang.certificates.models import (
    WATERMARK_DEFAULT,
    Certificate,
    CertificateType,
    CertificateUse,
    face_fields_validate,
    type_code_validate,
)
from yiwang.certificates.tests.test_services import issue, make_world
from yiwang.core.identifiers import ecert_id_parse

pytestmark = pytest.mark.django_db


def test_type_code_is_a_checked_uscc_and_three_digits() -> None:
    type_code_validate("11100000000013338W032")  # 住建部's real type code
    for bad in ("11100000000013338W03", "11100000000013338X032", "11100000000013338W03A", ""):
        with pytest.raises(DjangoValidationError):
            type_code_validate(bad)


def test_face_fields_are_an_ordered_list_of_key_label_required() -> None:
    face_fields_validate([{"key": "holder_name", "label": "持证人", "required": True}])
    bad_values = [
        {"key": "a", "label": "A", "required": True},  # not a list
        [{"key": "a", "label": "A"}],
        [{"key": "a", "label": "A", "required": "yes"}],
        [{"key": "a b", "label": "A", "required": True}],
        [{"key": "名称", "label": "A", "required": True}],
        [{"key": "a", "label": " ", "required": True}],
        [
            {"key": "a", "label": "A", "required": True},
            {"key": "a", "label": "B", "required": False},
        ],
        [{"key": "a", "label": "A", "required": True, "extra": 1}],
    ]
    for bad in bad_values:
        with pytest.raises(DjangoValidationError):
            face_fields_validate(bad)


def test_full_clean_of_a_type_runs_the_validators() -> None:
    type_ = CertificateType(
        code="11100000000013338W03X", name="x", definer_name="y", face_fields=[{"key": "a"}]
    )
    with pytest.raises(DjangoValidationError) as caught:
        type_.full_clean()
    assert set(caught.value.message_dict) == {"code", "face_fields"}


def test_watermark_names_the_issuer_and_the_end_of_validity() -> None:
    world = make_world()
    certificate = issue(world)
    assert world.type.watermark_template == WATERMARK_DEFAULT
    assert certificate.watermark() == (
        f"此件由六安市测试发证局提供，仅供办理政务服务事项时使用，有效期至"
        f"{certificate.valid_until.isoformat()}"  # type: ignore[union-attr]
    )
    world.type.validity_years = None
    world.type.save()
    assert issue(world).watermark().endswith("有效期至长期")


def test_the_database_refuses_a_duplicate_version_and_an_empty_use_reason() -> None:
    world = make_world()
    certificate = issue(world)
    with pytest.raises(IntegrityError), transaction.atomic():
        Certificate.objects.filter(pk=certificate.pk).update(status="lost")
    duplicate = Certificate.objects.get(pk=certificate.pk)
    duplicate.pk = None
    duplicate.public_id = None  # type: ignore[assignment]
    duplicate.identifier = certificate.identifier + "X"
    with pytest.raises(IntegrityError), transaction.atomic():
        Certificate.objects.bulk_create([duplicate])
    with pytest.raises(IntegrityError), transaction.atomic():
        CertificateUse.objects.create(
            certificate=certificate, department=world.other, reason="", case_number="C-1"
        )


def test_demo_types_and_certificates_load_once() -> None:
    from yiwang.accounts.demo import accounts_demo_load

    accounts_demo_load(password="demo-password-2026")
    created = certificates_demo_load()
    assert created == 6  # house, driving v1 + v2, social (revoked), housing fund, business
    assert certificates_demo_load() == 0
    citizen_certificates = Certificate.objects.filter(holder_user__username="demo-citizen")
    assert sorted(citizen_certificates.values_list("type__name", "status")) == [
        ("不动产权证书", "valid"),
        ("住房公积金缴存证明", "valid"),
        ("机动车驾驶证", "superseded"),
        ("机动车驾驶证", "valid"),
        ("社会保障卡", "revoked"),
    ]
    for certificate in Certificate.objects.all():
        assert str(ecert_id_parse(certificate.identifier)) == certificate.identifier
    business = Certificate.objects.get(type__name="营业执照")
    assert (business.holder_type, business.issuing_department.code) == ("001", "la-scjgj")
    assert CertificateUse.objects.get().reason == "办理住房公积金提取（购房）"
    assert CertificateType.objects.get(name="营业执照").code == "11100000MBDEM0023A001"
