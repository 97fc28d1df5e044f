"""Case notices as PDF through the API: who may fetch which notice when, and what it says
(read back with pdftotext and, for the QR code of the acceptance notice, zbarimg)."""

from __future__ import annotations

import pytest

from yiwang.accounts.models import Role
from yiwang.accounts.tests.factories import DelegationFactory, UserFactory, staff_with_role
from yiwang.applications import services
from yiwang.applications.documents import AcceptanceNotice
from yiwang.applications.models import Application
from yiwang.applications.selectors import application_notice
from yiwang.applications.tests.conftest import signed_in, submit
from yiwang.applications.tests.test_documents import _qr_codes, _text, needs_poppler, needs_zbar
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db


# documents.py takes only a full URL with a dotted host for the QR code (not "testserver").
HOST = "zwfw.example.cn"


@pytest.fixture(autouse=True)
def _host(settings) -> None:
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, HOST]


def url(application: Application, kind: str) -> str:
    return f"/api/v1/applications/{application.public_id}/notices/{kind}.pdf"


def fetch(user, application: Application, kind: str):
    return signed_in(user).get(url(application, kind), HTTP_HOST=HOST)


def accepted(version, citizen, clerk, **kwargs) -> Application:
    return services.application_accept(application=submit(version, citizen, **kwargs), actor=clerk)


def test_no_notice_exists_before_its_step(version, citizen):
    application = submit(version, citizen)
    client = signed_in(citizen)

    for kind in ("acceptance", "refusal", "correction", "decision"):
        response = client.get(url(application, kind))
        assert response.status_code == 404, kind
        assert response.json()["code"] == "core.not_found"


def test_an_unknown_kind_is_a_404(version, citizen, clerk):
    application = accepted(version, citizen, clerk)

    response = fetch(citizen, application, "certificate")

    assert response.status_code == 404


@needs_zbar
def test_the_acceptance_notice_prints_the_number_and_a_qr_to_the_progress_query(
    version, citizen, clerk, tmp_path
):
    application = accepted(version, citizen, clerk)

    response = fetch(citizen, application, "acceptance")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = _text(response.content, tmp_path)
    assert application.number in text
    assert "受理通知书" in text
    assert "申请书" in text
    assert _qr_codes(response.content, tmp_path) == [
        f"http://{HOST}/api/v1/progress?number={application.number}"
    ]
    # the applicant's own read is not a staff read
    assert not AuditEntry.objects.filter(action="applications.staff_read").exists()
    # the refusal and the decision do not exist for an accepted case
    assert fetch(citizen, application, "refusal").status_code == 404
    assert fetch(citizen, application, "decision").status_code == 404


@needs_poppler
def test_the_refusal_notice_lists_every_reason_and_the_remedy(version, citizen, clerk, tmp_path):
    application = services.application_refuse(
        application=submit(version, citizen), actor=clerk, reasons=["不属于本部门职权", "材料不全"]
    )

    response = fetch(citizen, application, "refusal")

    assert response.status_code == 200
    text = _text(response.content, tmp_path)
    assert application.number in text
    assert "不属于本部门职权" in text
    assert "材料不全" in text
    assert "有管辖权的人民法院" in text
    assert fetch(citizen, application, "acceptance").status_code == 404


@needs_poppler
def test_the_correction_notice_lists_what_to_supply(version, citizen, clerk, tmp_path):
    application = services.application_request_supplement(
        application=submit(version, citizen), actor=clerk, items=["申请书未签字", "缺少场地证明"]
    )

    response = fetch(citizen, application, "correction")

    assert response.status_code == 200
    text = _text(response.content, tmp_path)
    assert application.number in text
    assert "申请书未签字" in text
    assert "缺少场地证明" in text


@needs_poppler
@pytest.mark.parametrize(
    ("decision", "shown"), [("approved", "准予办理"), ("rejected", "不予办理")]
)
def test_the_decision_notice_after_conclusion(version, citizen, clerk, tmp_path, decision, shown):
    application = accepted(version, citizen, clerk)
    client = signed_in(citizen)
    Application.objects.filter(pk=application.pk).update(
        status="approved" if decision == "approved" else "rejected", decision=decision
    )
    assert client.get(url(application, "decision")).status_code == 404

    services.application_conclude(application=application, actor=clerk, note="经审查")
    response = client.get(url(application, "decision"))

    assert response.status_code == 200
    text = _text(response.content, tmp_path)
    assert application.number in text
    assert shown in text
    assert ("有管辖权的人民法院" in text) == (decision == "rejected")


def test_staff_of_the_department_read_it_and_the_read_is_audited(version, citizen, clerk):
    application = accepted(version, citizen, clerk)

    response = fetch(clerk, application, "acceptance")

    assert response.status_code == 200, response.content.decode()
    entry = AuditEntry.objects.get(action="applications.staff_read")
    assert (entry.actor_id, entry.reason) == (clerk.pk, "打印通知书（acceptance）")


def test_nobody_else_learns_of_the_notice(version, citizen, other_citizen, clerk):
    application = accepted(version, citizen, clerk)
    elsewhere = staff_with_role(Role.WINDOW_CLERK)

    for person in (other_citizen, elsewhere):
        response = fetch(person, application, "acceptance")
        assert response.status_code == 404
        assert response.json()["code"] == "core.not_found"
    assert not AuditEntry.objects.filter(action="applications.staff_read").exists()


def test_the_principal_and_the_agent_both_fetch_it(version, citizen, clerk):
    elder = UserFactory(real_name="王奶奶")
    DelegationFactory(principal=elder, agent=citizen)
    application = accepted(version, citizen, clerk, principal=elder)

    assert fetch(elder, application, "acceptance").status_code == 200
    assert fetch(citizen, application, "acceptance").status_code == 200


def test_the_notice_is_about_the_principal_and_counts_tolerated_materials(version, citizen, clerk):
    elder = UserFactory(real_name="王奶奶")
    DelegationFactory(principal=elder, agent=citizen)
    application = accepted(version, citizen, clerk, principal=elder)

    notice = application_notice(
        application=application, kind="acceptance", progress_url="https://x.example/p"
    )

    assert isinstance(notice, AcceptanceNotice)
    assert notice.case.applicant_name == "王奶奶"
    assert notice.case.number == application.number
    assert notice.time_limit_days == 5
    assert notice.expected_completion == application.due_date
    assert [(m.name, m.count) for m in notice.materials] == [("申请书", 1)]
