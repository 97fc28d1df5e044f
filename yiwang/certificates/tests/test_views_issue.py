"""签发电子证照 (/console/certificates/issue/): a clerk issues a certificate by hand when the
issuance hook could not tell the holder."""

from __future__ import annotations

from typing import cast

import pytest

from yiwang.applications.models import Application
from yiwang.applications.tests.factories import ApplicationFactory
from yiwang.catalog.tests.factories import PublishedVersionFactory
from yiwang.certificates.models import Certificate, CertificateType
from yiwang.certificates.tests.test_views import (
    World,
    _client,
    _text,
    world,  # noqa: F401 - a fixture
)
from yiwang.core.models import AuditEntry
from yiwang.ledger.models import Entry

pytestmark = pytest.mark.django_db

URL = "/console/certificates/issue/"


@pytest.fixture
def w(request: pytest.FixtureRequest) -> World:
    """test_views' world (the issuing department, its clerk, a type, one certificate)."""
    return cast(World, request.getfixturevalue("world"))


def _post(w: World, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "type": w.ctype.pk,
        "holder_name": w.other_citizen.real_name,
        "holder_number": w.other_citizen.id_number,
        "face-business_name": "王记面馆",
        "face-address": "六安市裕安区解放路2号",
        "application": "",
        "reason": "补发",
    }
    data.update(overrides)
    return data


def test_a_clerk_issues_a_certificate_by_hand(w: World) -> None:
    client = _client(w.clerk)
    page = client.get(URL)
    assert page.status_code == 200
    assert "经营者名称" in _text(page)
    assert "签发电子证照" in _text(client.get("/console/certificates/"))

    response = client.post(URL, _post(w))

    created = Certificate.objects.exclude(pk=w.certificate.pk).get()
    assert response.status_code == 302
    assert response["Location"] == f"/console/certificates/{created.public_id}/"
    assert (created.status, created.holder_name, created.issuing_department) == (
        Certificate.Status.VALID,
        w.other_citizen.real_name,
        w.issuer,
    )
    assert created.face_data == {"business_name": "王记面馆", "address": "六安市裕安区解放路2号"}
    entry = Entry.objects.get(pk=int(created.ledger_entry_ref or 0))
    assert (entry.kind, entry.subject, entry.index) == (
        "certificate.issue",
        created.identifier,
        None,
    )
    actions = set(
        AuditEntry.objects.filter(object_id=str(created.pk)).values_list("action", flat=True)
    )
    assert actions == {"certificates.issue", "certificates.issue_by_hand"}
    detail = client.get(response["Location"])
    assert f"已签发电子证照，证照标识：{created.identifier}" in _text(detail)


def test_an_invalid_id_number_is_shown_on_the_form_and_nothing_is_created(
    w: World,
) -> None:
    bad = w.other_citizen.id_number[:17] + ("0" if w.other_citizen.id_number[17] != "0" else "1")
    response = _client(w.clerk).post(URL, _post(w, holder_number=bad))
    assert response.status_code == 422
    text = _text(response)
    assert "身份证号码" in text
    assert "校验" in text
    assert f'value="{bad}"' in response.content.decode()
    assert Certificate.objects.count() == 1


def test_a_missing_required_face_field_creates_nothing(w: World) -> None:
    response = _client(w.clerk).post(URL, _post(w, **{"face-business_name": ""}))
    assert response.status_code == 422
    assert "请填写照面字段“经营者名称”。" in _text(response)
    assert Certificate.objects.count() == 1


def test_a_type_the_department_does_not_issue_is_refused(w: World) -> None:
    foreign = CertificateType.objects.create(
        code=w.ctype.code[:-3] + "012",
        name="建筑业企业资质证书",
        definer_name="住房和城乡建设部",
        face_fields=[{"key": "business_name", "label": "企业名称", "required": True}],
    )
    foreign.issuing_departments.add(w.other)
    response = _client(w.clerk).post(URL, _post(w, type=foreign.pk))
    assert response.status_code == 403
    assert "您所在的部门不颁发该类证照，不能签发。" in _text(response)
    # the other department's clerk may not issue the first department's type either
    response = _client(w.other_clerk).post(URL, _post(w))
    assert response.status_code == 403
    assert Certificate.objects.count() == 1


def test_staff_of_a_department_issuing_nothing_see_a_message(w: World) -> None:
    response = _client(w.other_clerk).get(URL)
    assert response.status_code == 200
    assert "您所在的部门不颁发任何电子证照" in _text(response)
    assert "签发电子证照" not in _text(_client(w.other_clerk).get("/console/certificates/"))


def test_citizens_and_staff_without_an_issuing_role_are_denied(w: World) -> None:
    assert _client(w.citizen).get(URL).status_code == 403
    assert _client(w.citizen).post(URL, _post(w)).status_code == 403
    assert _client(w.handler).get(URL).status_code == 403
    anonymous = _client().get(URL)
    assert anonymous.status_code == 302
    assert "login" in anonymous["Location"]
    assert Certificate.objects.count() == 1


def _case(w: World, **kwargs: object) -> Application:
    version = PublishedVersionFactory(
        item__department=w.issuer,
        children=False,
        name="食品经营许可",
        result_certificate_type=w.ctype.code,
    )
    defaults: dict[str, object] = {
        "version": version,
        "applicant": w.other_citizen,
        "status": Application.Status.ISSUED,
        "decision": Application.Decision.APPROVED,
        "form_data": {"business_name": "王记面馆"},
    }
    return ApplicationFactory(**{**defaults, **kwargs})


def test_a_case_prefills_the_form_and_is_linked(w: World) -> None:
    case = _case(w)
    client = _client(w.clerk)
    page = client.get(URL, {"application": case.number})
    html = page.content.decode()
    assert page.status_code == 200
    assert f'value="{w.other_citizen.id_number}"' in html
    assert f'value="{w.other_citizen.real_name}"' in html
    assert 'value="王记面馆"' in html
    assert f'value="{case.number}"' in html

    response = client.post(URL, _post(w, application=case.number))
    created = Certificate.objects.get(source_application=case)
    assert response.status_code == 302
    assert created.holder_user == w.other_citizen


def test_a_case_of_another_department_or_not_approved_is_refused(w: World) -> None:
    rejected = _case(w, decision=Application.Decision.REJECTED)
    response = _client(w.clerk).post(URL, _post(w, application=rejected.number))
    assert response.status_code == 422
    assert f"找不到本部门编号为“{rejected.number}”" in _text(response)
    assert Certificate.objects.count() == 1
