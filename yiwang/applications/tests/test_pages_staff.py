"""The staff console pages of 办件 (受理台, 待办任务, 出件) with the Django test client: access
for every kind of visitor, each action through the services, invalid input on the form, a
conflict shown as the service's message."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from yiwang.accounts.models import Department, Role, User
from yiwang.accounts.tests.factories import staff_with_role
from yiwang.applications import services
from yiwang.applications.models import Application, ApplicationMaterial, Pause, Task
from yiwang.applications.tests.conftest import material, signed_in, submit
from yiwang.catalog.models import ItemVersion
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db

BASE = "/console/applications/"


def case_url(application: Application, action: str = "") -> str:
    return f"{BASE}{application.public_id}/" + (f"{action}/" if action else "")


def task_url(task: Task, action: str = "") -> str:
    return f"{BASE}tasks/{task.public_id}/" + (f"{action}/" if action else "")


def page_text(response: Any) -> str:
    return str(response.content.decode())


def follow(client: Client, url: str, data: dict[str, Any] | None = None) -> Any:
    response = client.post(url, data or {}, follow=True)
    assert response.status_code == 200, page_text(response)
    return response


def accepted(version: ItemVersion, citizen: User, clerk: User) -> Application:
    application = submit(version, citizen)
    return services.application_accept(application=application, actor=clerk)


def task_of(application: Application, department: Department) -> Task:
    return application.tasks.get(department=department, status__in=["open", "claimed"])


# --- access ----------------------------------------------------------------------------------


def test_the_queue_shows_the_departments_submissions_oldest_first(version, citizen, clerk):
    first = submit(version, citizen, idempotency_key="a")
    second = submit(version, citizen, idempotency_key="b")
    Application.objects.filter(pk=second.pk).update(
        submitted_at=first.submitted_at + timedelta(minutes=5)
    )
    done = accepted(version, citizen, clerk)

    response = signed_in(clerk).get(BASE)

    text = page_text(response)
    assert response.status_code == 200
    assert text.index(first.number) < text.index(second.number)
    assert done.number not in text
    assert "未计时" in text


def test_pages_refuse_people_without_the_role(version, citizen, clerk, approver_b, dept_b):
    application = accepted(version, citizen, clerk)
    task = task_of(application, dept_b)
    other_clerk = staff_with_role(Role.WINDOW_CLERK, dept_b)
    for url in (BASE, f"{BASE}issuance/", case_url(application)):
        assert signed_in(citizen).get(url).status_code == 403
    for url in (f"{BASE}tasks/", task_url(task)):
        assert signed_in(citizen).get(url).status_code == 403
        assert signed_in(other_clerk).get(url).status_code == 403
    assert signed_in(approver_b).get(BASE).status_code == 403
    anonymous = Client().get(BASE)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")


def test_another_departments_clerk_learns_nothing(version, citizen, clerk, dept_b):
    application = submit(version, citizen)
    other_clerk = signed_in(staff_with_role(Role.WINDOW_CLERK, dept_b))

    assert application.number not in page_text(other_clerk.get(BASE))
    assert other_clerk.get(case_url(application)).status_code == 404
    response = other_clerk.post(case_url(application, "accept"), {})
    assert response.status_code == 404
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED


def test_another_departments_approver_cannot_open_the_task(
    version, citizen, clerk, dept_b, approver_c
):
    task = task_of(accepted(version, citizen, clerk), dept_b)
    client = signed_in(approver_c)

    inbox = page_text(client.get(f"{BASE}tasks/"))
    assert "住建审查" in inbox  # dept C's own task of the same case
    assert "税务审查" not in inbox
    assert client.get(task_url(task)).status_code == 404
    assert client.post(task_url(task, "claim")).status_code == 404
    task.refresh_from_db()
    assert task.status == Task.Status.OPEN


def test_opening_a_case_is_an_audited_read(version, citizen, clerk):
    application = submit(version, citizen)

    response = signed_in(clerk).get(case_url(application))

    text = page_text(response)
    assert response.status_code == 200
    assert "测试" in text  # the form data
    assert "申请书" in text  # the materials
    assert "13800001111" not in text  # the phone is masked
    reads = AuditEntry.objects.filter(action="applications.staff_read", actor_id=clerk.pk)
    assert reads.count() == 1
    assert reads.get().reason == "办件受理审查"


def test_staff_download_an_uploaded_material_and_the_read_is_audited(
    version, citizen, clerk, dept_b, approver_c
):
    from yiwang.applications.tests.factories import PNG

    application = accepted(version, citizen, clerk)
    upload = application.materials.get(source=ApplicationMaterial.Source.UPLOAD)
    url = f"{case_url(application)}materials/{upload.public_id}/"

    page = page_text(signed_in(clerk).get(case_url(application)))
    response = signed_in(clerk).get(url)
    approver_reads = signed_in(approver_c).get(url)  # a department with a task of the case

    assert "下载查看" in page
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG  # type: ignore[attr-defined]
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment;")
    assert approver_reads.status_code == 200
    assert AuditEntry.objects.filter(
        action="applications.staff_read", actor_id=clerk.pk, reason="查看材料（申请书）"
    ).exists()


def test_materials_of_another_department_or_case_stay_hidden(version, citizen, clerk, dept_b):
    application = submit(version, citizen)
    other = submit(version, citizen, contact_phone="13800002222")
    upload = application.materials.get(source=ApplicationMaterial.Source.UPLOAD)
    other_clerk = signed_in(staff_with_role(Role.WINDOW_CLERK, dept_b))

    stranger = other_clerk.get(f"{case_url(application)}materials/{upload.public_id}/")
    crossed = signed_in(clerk).get(f"{case_url(other)}materials/{upload.public_id}/")
    as_citizen = signed_in(citizen).get(f"{case_url(application)}materials/{upload.public_id}/")

    assert stranger.status_code == 404
    assert crossed.status_code == 404  # the material belongs to another case
    assert as_citizen.status_code in (302, 403)
    assert not AuditEntry.objects.filter(reason__startswith="查看材料").exists()


# --- 受理台 -----------------------------------------------------------------------------------


def test_accepting_with_a_tolerated_material(version, citizen, clerk):
    application = submit(version, citizen)
    tolerated = material(version, "场地证明")
    due = timezone.localdate() + timedelta(days=3)

    response = follow(
        signed_in(clerk),
        case_url(application, "accept"),
        {"tolerated": [tolerated.pk], "promised_due": due.isoformat(), "note": ""},
    )

    application.refresh_from_db()
    assert application.status == Application.Status.IN_REVIEW
    promised = application.materials.get(source=ApplicationMaterial.Source.PROMISED)
    assert (promised.material_id, promised.promised_due) == (tolerated.pk, due)
    text = page_text(response)
    assert "已受理，受理通知书可下载打印。" in text
    assert f"{case_url(application)}notices/acceptance.pdf" in text


def test_a_tolerated_material_needs_a_date_and_nothing_changes(version, citizen, clerk):
    application = submit(version, citizen)

    response = signed_in(clerk).post(
        case_url(application, "accept"), {"tolerated": [material(version, "场地证明").pk]}
    )

    assert response.status_code == 422
    assert "容缺受理须约定补交日期。" in page_text(response)
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED
    assert not application.materials.filter(source=ApplicationMaterial.Source.PROMISED).exists()


def test_accepting_an_accepted_case_shows_the_conflict(version, citizen, clerk):
    application = submit(version, citizen)
    client = signed_in(clerk)
    follow(client, case_url(application, "accept"))

    response = follow(client, case_url(application, "accept"))

    assert f"办件 {application.number} 当前状态为“审批中”，不能受理。" in page_text(response)
    assert AuditEntry.objects.filter(action="applications.accept").count() == 1


def test_refusing_with_reasons_and_the_refusal_notice(version, citizen, clerk):
    application = submit(version, citizen)
    client = signed_in(clerk)

    response = follow(
        client, case_url(application, "refuse"), {"reasons": "不属于本部门职权\n\n材料虚假"}
    )

    application.refresh_from_db()
    assert application.status == Application.Status.REFUSED
    assert application.refusal_reasons == ["不属于本部门职权", "材料虚假"]
    assert "notices/refusal.pdf" in page_text(response)
    pdf = client.get(f"{case_url(application)}notices/refusal.pdf")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_refusing_without_a_reason_is_refused(version, citizen, clerk):
    application = submit(version, citizen)

    response = signed_in(clerk).post(case_url(application, "refuse"), {"reasons": "  "})

    assert response.status_code == 422
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED


def test_asking_for_every_missing_item_at_once(version, citizen, clerk):
    application = submit(version, citizen)
    client = signed_in(clerk)

    response = follow(
        client, case_url(application, "supplement"), {"items": "申请书未签字\n场地证明不清晰"}
    )

    application.refresh_from_db()
    assert application.status == Application.Status.SUPPLEMENT_REQUESTED
    assert application.supplement_items == ["申请书未签字", "场地证明不清晰"]
    assert application.pauses.filter(kind=Pause.Kind.SUPPLEMENT, ended_at=None).count() == 1
    assert "notices/correction.pdf" in page_text(response)
    assert client.get(f"{case_url(application)}notices/correction.pdf").status_code == 200


def test_a_notice_the_case_has_not_reached_is_404(version, citizen, clerk):
    application = submit(version, citizen)
    client = signed_in(clerk)

    assert client.get(f"{case_url(application)}notices/acceptance.pdf").status_code == 404
    assert client.get(f"{case_url(application)}notices/nonsense.pdf").status_code == 404


# --- 待办任务 ----------------------------------------------------------------------------------


def test_the_inbox_lists_the_departments_open_tasks(version, citizen, clerk, approver_b, dept_b):
    application = accepted(version, citizen, clerk)

    response = signed_in(approver_b).get(f"{BASE}tasks/")

    text = page_text(response)
    assert response.status_code == 200
    assert application.number in text
    assert "税务审查" in text
    assert "住建审查" not in text  # dept C's task
    assert application.number not in page_text(signed_in(approver_b).get(f"{BASE}tasks/?mine=1"))


def test_claiming_then_a_colleague_loses_with_the_conflict_message(
    version, citizen, clerk, approver_b, approver_b2, dept_b
):
    task = task_of(accepted(version, citizen, clerk), dept_b)
    follow(signed_in(approver_b), task_url(task, "claim"))

    response = follow(signed_in(approver_b2), task_url(task, "claim"))

    assert "该任务已由" in page_text(response)
    assert "认领，请刷新后查看。" in page_text(response)
    task.refresh_from_db()
    assert (task.status, task.assignee) == (Task.Status.CLAIMED, approver_b)
    # the loser cannot decide either
    response = follow(
        signed_in(approver_b2),
        task_url(task, "complete"),
        {"outcome": "approve", "opinion": "同意"},
    )
    assert "认领。" in page_text(response)
    task.refresh_from_db()
    assert task.status == Task.Status.CLAIMED


def test_approving_and_refusing_with_an_opinion(
    version, citizen, clerk, approver_b, approver_c, dept_b, dept_c
):
    application = accepted(version, citizen, clerk)
    follow(
        signed_in(approver_b),
        task_url(task_of(application, dept_b), "complete"),
        {"outcome": "approve", "opinion": "税务无异议"},
    )
    follow(
        signed_in(approver_c),
        task_url(task_of(application, dept_c), "complete"),
        {"outcome": "refuse", "opinion": "房屋存在违建"},
    )

    application.refresh_from_db()
    assert application.status == Application.Status.REJECTED
    assert list(application.tasks.values_list("outcome", "opinion").order_by("id")) == [
        ("approve", "税务无异议"),
        ("refuse", "房屋存在违建"),
    ]


def test_a_decision_needs_an_opinion(version, citizen, clerk, approver_b, dept_b):
    task = task_of(accepted(version, citizen, clerk), dept_b)

    response = signed_in(approver_b).post(
        task_url(task, "complete"), {"outcome": "approve", "opinion": ""}
    )

    assert response.status_code == 422
    assert "办理意见" in page_text(response)
    task.refresh_from_db()
    assert task.status == Task.Status.OPEN


def test_returning_a_task_for_supplement(version, citizen, clerk, approver_b, dept_b):
    application = accepted(version, citizen, clerk)
    task = task_of(application, dept_b)

    follow(signed_in(approver_b), task_url(task, "return"), {"items": "缺少完税证明"})

    application.refresh_from_db()
    task.refresh_from_db()
    assert application.status == Application.Status.SUPPLEMENT_REQUESTED
    assert application.supplement_items == ["缺少完税证明"]
    assert task.status == Task.Status.OPEN


def test_a_special_procedure_stops_decisions_until_it_ends(
    version, citizen, clerk, approver_b, dept_b
):
    application = accepted(version, citizen, clerk)
    task = task_of(application, dept_b)
    client = signed_in(approver_b)

    follow(client, task_url(task, "special"), {"kind": "hearing", "reason": "涉及重大利益"})
    page = page_text(client.get(task_url(task)))
    assert "结束特别程序" in page
    assert "提交决定" not in page
    response = follow(client, task_url(task, "complete"), {"outcome": "approve", "opinion": "同意"})
    assert "特别程序或补正尚未结束，暂不能作出决定。" in page_text(response)

    follow(client, task_url(task, "special/end"), {"result": "听证完成"})

    pause = application.pauses.get(kind=Pause.Kind.HEARING)
    assert pause.ended_at is not None
    assert "提交决定" in page_text(client.get(task_url(task)))


# --- 出件 ------------------------------------------------------------------------------------


def approved(version, citizen, clerk, approvers: list[User]) -> Application:
    application = accepted(version, citizen, clerk)
    for _round in range(2):  # the parallel reviews, then the decision
        for person in approvers:
            for task in application.tasks.filter(status="open"):
                if person.department_id == task.department_id:
                    services.task_complete(
                        task=task, actor=person, outcome="approve", opinion="同意"
                    )
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED
    return application


def test_concluding_and_issuing_by_post(
    version, citizen, clerk, approver_a, approver_b, approver_c
):
    application = approved(version, citizen, clerk, [approver_a, approver_b, approver_c])
    client = signed_in(clerk)
    assert application.number in page_text(client.get(f"{BASE}issuance/"))

    follow(client, case_url(application, "conclude"), {"note": ""})
    response = client.post(case_url(application, "issue"), {"delivery_method": "post"})
    assert response.status_code == 422
    assert "邮寄送达须填写快递单号。" in page_text(response)
    assert "邮寄送达须填写邮寄地址。" in page_text(response)
    application.refresh_from_db()
    assert application.status == Application.Status.CONCLUDED

    response = follow(
        client,
        case_url(application, "issue"),
        {"delivery_method": "post", "tracking_number": "SF1234567890", "address": "六安市一号"},
    )

    application.refresh_from_db()
    assert application.status == Application.Status.ISSUED
    assert application.tracking_number == "SF1234567890"
    assert "notices/decision.pdf" in page_text(response)
    assert application.number not in page_text(client.get(f"{BASE}issuance/"))


def test_issuing_before_conclusion_shows_the_conflict(
    version, citizen, clerk, approver_a, approver_b, approver_c
):
    application = approved(version, citizen, clerk, [approver_a, approver_b, approver_c])

    response = follow(
        signed_in(clerk), case_url(application, "issue"), {"delivery_method": "window"}
    )

    assert "不能出件" in page_text(response)
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED


def test_the_console_links_to_the_pages(clerk, approver_b):
    assert f'href="{BASE}"' in page_text(signed_in(clerk).get("/console/"))
    assert f'href="{BASE}issuance/"' in page_text(signed_in(clerk).get("/console/"))
    assert f'href="{BASE}tasks/"' in page_text(signed_in(approver_b).get("/console/"))
