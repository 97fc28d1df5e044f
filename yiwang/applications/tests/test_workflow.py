"""Acceptance, parallel department tasks, refusal, return, supplements, special procedures,
DMN auto approval (秒批), conclusion, issuance, withdrawal and escalation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from yiwang.accounts.models import Role
from yiwang.accounts.tests.factories import DelegationFactory, UserFactory, staff_with_role
from yiwang.applications import errors, hooks, services
from yiwang.applications.models import Application, Pause, Task
from yiwang.applications.tests.conftest import material, submit
from yiwang.applications.tests.factories import PNG
from yiwang.catalog.tests.factories import PublishedVersionFactory
from yiwang.core.calendar import work_calendar_load
from yiwang.core.errors import Conflict, PermissionDenied, ValidationError
from yiwang.core.models import AuditEntry
from yiwang.evaluation.models import Invitation
from yiwang.notifications.models import Notification

pytestmark = pytest.mark.django_db


def open_tasks(application):
    return list(
        application.tasks.filter(status__in=["open", "claimed"]).order_by("department__code")
    )


def accept(application, clerk, **kwargs):
    return services.application_accept(application=application, actor=clerk, **kwargs)


def test_acceptance_starts_the_process_with_parallel_department_tasks(
    version, citizen, clerk, dept_b, dept_c
):
    application = accept(submit(version, citizen), clerk)

    assert application.status == Application.Status.IN_REVIEW
    assert application.accepted_by == clerk
    assert application.due_date is not None
    tasks = open_tasks(application)
    assert [(t.name, t.department) for t in tasks] == [("税务审查", dept_b), ("住建审查", dept_c)]
    assert all(t.due_date is not None for t in tasks)
    kinds = list(application.events.values_list("kind", flat=True))
    assert kinds == ["submitted", "accepted", "task_opened", "task_opened"]
    assert Notification.objects.filter(event="application.accepted", recipient=citizen).exists()


def test_only_a_clerk_of_the_department_accepts(version, citizen):
    application = submit(version, citizen)
    elsewhere = staff_with_role(Role.WINDOW_CLERK)

    with pytest.raises(PermissionDenied):
        accept(application, elsewhere)
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED


def test_accepting_twice_is_a_conflict(version, citizen, clerk):
    application = accept(submit(version, citizen), clerk)

    with pytest.raises(Conflict) as caught:
        accept(application, clerk)
    assert caught.value.code == errors.INVALID_TRANSITION


def test_parallel_approvals_then_the_decision_then_conclusion_and_issuance(
    version, citizen, clerk, approver_a, approver_b, approver_c, dept_a
):
    application = accept(submit(version, citizen), clerk)
    tax, housing = open_tasks(application)

    services.task_claim(task=tax, actor=approver_b)
    services.task_complete(task=tax, actor=approver_b, outcome="approve", opinion="无欠税")
    application.refresh_from_db()
    # the join waits for the other branch
    assert [t.name for t in open_tasks(application)] == ["住建审查"]
    services.task_complete(task=housing, actor=approver_c, outcome="approve", opinion="同意")
    application.refresh_from_db()
    (decide,) = open_tasks(application)
    assert (decide.name, decide.department) == ("决定", dept_a)

    services.task_complete(task=decide, actor=approver_a, outcome="approve", opinion="准予许可")
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED
    assert application.decision == "approved"
    assert open_tasks(application) == []

    services.application_conclude(application=application, actor=clerk)
    done = services.application_issue(
        application=application,
        actor=clerk,
        delivery_method="post",
        tracking_number="SF1234567890",
        address="六安市金安区梅山南路1号",
    )
    assert done.status == Application.Status.ISSUED
    assert (done.delivery_method, done.tracking_number) == ("post", "SF1234567890")
    assert Notification.objects.filter(event="application.issued", recipient=citizen).exists()


def test_post_delivery_needs_a_tracking_number_and_address(version, citizen, clerk):
    application = accept(submit(version, citizen), clerk)
    Application.objects.filter(pk=application.pk).update(
        status=Application.Status.CONCLUDED, decision="approved"
    )

    with pytest.raises(ValidationError) as caught:
        services.application_issue(application=application, actor=clerk, delivery_method="post")
    assert sorted(p["field"] for p in caught.value.extra["problems"]) == [
        "address",
        "tracking_number",
    ]


def test_one_refusal_rejects_and_cancels_the_other_branches(version, citizen, clerk, approver_b):
    application = accept(submit(version, citizen), clerk)
    tax, housing = open_tasks(application)

    services.task_complete(task=tax, actor=approver_b, outcome="refuse", opinion="存在欠税")

    application.refresh_from_db()
    housing.refresh_from_db()
    assert application.status == Application.Status.REJECTED
    assert application.decision == "rejected"
    assert housing.status == Task.Status.CANCELLED
    assert Notification.objects.filter(event="application.rejected").count() == 1


def test_another_department_cannot_act_on_a_task(version, citizen, clerk, approver_c):
    application = accept(submit(version, citizen), clerk)
    tax, _housing = open_tasks(application)

    with pytest.raises(PermissionDenied):
        services.task_claim(task=tax, actor=approver_c)
    with pytest.raises(PermissionDenied):
        services.task_complete(task=tax, actor=approver_c, outcome="approve", opinion="x")
    tax.refresh_from_db()
    assert tax.status == Task.Status.OPEN


def test_a_claimed_task_belongs_to_its_claimant(version, citizen, clerk, approver_b, approver_b2):
    application = accept(submit(version, citizen), clerk)
    tax, _ = open_tasks(application)
    services.task_claim(task=tax, actor=approver_b)

    with pytest.raises(Conflict) as caught:
        services.task_claim(task=tax, actor=approver_b2)
    assert caught.value.code == errors.TASK_TAKEN
    assert "吴税务" in str(caught.value.message)
    with pytest.raises(Conflict):
        services.task_complete(task=tax, actor=approver_b2, outcome="approve", opinion="x")


def test_a_finished_task_cannot_be_finished_again(version, citizen, clerk, approver_b):
    application = accept(submit(version, citizen), clerk)
    tax, _ = open_tasks(application)
    services.task_complete(task=tax, actor=approver_b, outcome="approve", opinion="同意")

    with pytest.raises(Conflict):
        services.task_complete(task=tax, actor=approver_b, outcome="refuse", opinion="反悔")
    assert AuditEntry.objects.filter(action="applications.task_complete").count() == 1


def test_supplement_before_acceptance_lists_everything_and_waits(version, citizen, clerk):
    application = submit(version, citizen)

    services.application_request_supplement(
        application=application, actor=clerk, items=["申请书未签字", "缺少场地证明"]
    )
    application.refresh_from_db()
    assert application.status == Application.Status.SUPPLEMENT_REQUESTED
    assert application.supplement_items == ["申请书未签字", "缺少场地证明"]
    assert application.pauses.get().ended_at is None
    note = Notification.objects.get(event="application.supplement_requested")
    assert "申请书未签字" in note.body
    assert "缺少场地证明" in note.body

    services.application_supplement(
        application=application,
        actor=citizen,
        materials=[
            services.MaterialInput(material_id=material(version, "场地证明").pk, content=PNG)
        ],
    )
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED
    assert application.pauses.get().ended_at is not None
    assert application.materials.count() == 2


def test_only_the_applicant_supplements(version, citizen, other_citizen, clerk):
    application = submit(version, citizen)
    services.application_request_supplement(application=application, actor=clerk, items=["x"])

    with pytest.raises(PermissionDenied):
        services.application_supplement(
            application=application,
            actor=other_citizen,
            materials=[
                services.MaterialInput(material_id=material(version, "申请书").pk, content=PNG)
            ],
        )


def test_refusal_needs_reasons_and_tells_them(version, citizen, clerk):
    application = submit(version, citizen)
    with pytest.raises(ValidationError):
        services.application_refuse(application=application, actor=clerk, reasons=[" "])

    services.application_refuse(
        application=application, actor=clerk, reasons=["不属于本部门职权范围"]
    )
    application.refresh_from_db()
    assert application.status == Application.Status.REFUSED
    assert application.refusal_reasons == ["不属于本部门职权范围"]


def test_return_asks_the_applicant_and_pauses_then_review_resumes(
    version, citizen, clerk, approver_b
):
    application = accept(submit(version, citizen), clerk)
    tax, _ = open_tasks(application)
    services.task_claim(task=tax, actor=approver_b)

    services.task_return(task=tax, actor=approver_b, items=["完税证明模糊"])
    application.refresh_from_db()
    tax.refresh_from_db()
    assert application.status == Application.Status.SUPPLEMENT_REQUESTED
    assert (tax.status, tax.assignee) == (Task.Status.OPEN, None)
    with pytest.raises(Conflict):
        services.task_complete(task=tax, actor=approver_b, outcome="approve", opinion="同意")

    services.application_supplement(
        application=application,
        actor=citizen,
        materials=[services.MaterialInput(material_id=material(version, "申请书").pk, content=PNG)],
    )
    application.refresh_from_db()
    assert application.status == Application.Status.IN_REVIEW
    services.task_complete(task=tax, actor=approver_b, outcome="approve", opinion="同意")


def test_a_special_procedure_stops_the_clock_and_moves_the_due_date(
    version, citizen, clerk, approver_b
):
    application = accept(submit(version, citizen), clerk)
    tax, _ = open_tasks(application)
    # accepted twelve days ago; the clock has long run out on its five working days
    accepted_at = timezone.now() - timedelta(days=12)
    Application.objects.filter(pk=application.pk).update(accepted_at=accepted_at)
    calendar = work_calendar_load()
    without_pause = calendar.add_working_days(accepted_at, 5).due

    pause = services.special_procedure_start(
        task=tax, actor=approver_b, kind="expert_review", reason="需组织专家评审"
    )
    with pytest.raises(Conflict):  # no decision during the procedure
        services.task_complete(task=tax, actor=approver_b, outcome="approve", opinion="同意")
    with pytest.raises(Conflict):  # one pause at a time
        services.special_procedure_start(task=tax, actor=approver_b, kind="hearing", reason="x")
    # the expert review began ten days ago (two days after acceptance)
    started = accepted_at + timedelta(days=2)
    Pause.objects.filter(pk=pause.pk).update(started_at=started)
    services.special_procedure_end(task=tax, actor=approver_b, result="专家意见：同意")

    application.refresh_from_db()
    pause.refresh_from_db()
    assert pause.ended_at is not None
    expected = calendar.deadline_with_pauses(
        accepted_at, days=5, pauses=[(pause.started_at, pause.ended_at)]
    ).due
    assert application.due_date == expected
    assert expected > without_pause
    kinds = list(application.events.values_list("kind", flat=True))
    assert "special_started" in kinds
    assert "special_ended" in kinds


def test_withdrawal_before_a_decision_cancels_the_tasks(version, citizen, clerk):
    application = accept(submit(version, citizen), clerk)

    services.application_withdraw(application=application, actor=citizen, reason="不办了")

    application.refresh_from_db()
    assert application.status == Application.Status.WITHDRAWN
    assert open_tasks(application) == []
    with pytest.raises(Conflict):
        services.application_withdraw(application=application, actor=citizen)


def test_no_withdrawal_after_the_decision(version, citizen, clerk, approver_b):
    application = accept(submit(version, citizen), clerk)
    tax, _ = open_tasks(application)
    services.task_complete(task=tax, actor=approver_b, outcome="refuse", opinion="不符合条件")

    with pytest.raises(Conflict):
        services.application_withdraw(application=application, actor=citizen)


def test_tolerated_acceptance_records_the_promise(version, citizen, clerk):
    application = submit(version, citizen)
    tolerated = material(version, "场地证明")

    with pytest.raises(ValidationError):  # a promise needs its date
        accept(application, clerk, tolerated=[tolerated.pk])
    accepted = accept(
        application,
        clerk,
        tolerated=[tolerated.pk],
        promised_due=timezone.localdate() + timedelta(days=5),
    )

    promise = accepted.materials.get(source="promised")
    assert promise.material == tolerated
    assert promise.fulfilled_at is None
    services.application_supplement(
        application=accepted,
        actor=citizen,
        materials=[services.MaterialInput(material_id=tolerated.pk, content=PNG)],
    )
    promise.refresh_from_db()
    assert promise.fulfilled_at is not None


def _approved(application):
    Application.objects.filter(pk=application.pk).update(
        status=Application.Status.APPROVED, decision="approved"
    )
    return application


def test_issuance_hooks_run_at_issuance_and_conclusion_is_no_hook_kind(version, citizen, clerk):
    seen: list[str] = []

    def on_issuance(application):
        seen.append(application.number)

    hooks.hook_register("issuance", on_issuance)
    try:
        application = _approved(accept(submit(version, citizen), clerk))
        services.application_conclude(application=application, actor=clerk)
        assert seen == []
        services.application_issue(
            application=application, actor=clerk, delivery_method="electronic"
        )
    finally:
        hooks.hook_unregister("issuance", on_issuance)
    assert seen == [application.number]
    with pytest.raises(ValueError, match="unknown hook kind"):
        hooks.hook_register("conclusion", on_issuance)


def test_concluding_invites_the_applicant_to_rate_exactly_once(version, citizen, clerk):
    application = _approved(accept(submit(version, citizen), clerk))

    services.application_conclude(application=application, actor=clerk)

    invitation = Invitation.objects.get()
    assert (invitation.subject_kind, invitation.subject_id) == (
        "application",
        str(application.public_id),
    )
    assert (invitation.rater, invitation.principal) == (citizen, None)
    assert (invitation.department, invitation.item) == (application.department, application.item)
    assert (invitation.title, invitation.channel) == (application.name[:100], "online")
    assert AuditEntry.objects.filter(action="evaluation.invite").count() == 1
    # a second conclusion is refused and invites nobody again
    with pytest.raises(Conflict):
        services.application_conclude(application=application, actor=clerk)
    assert Invitation.objects.count() == 1


def test_under_a_delegation_the_agent_rates_for_the_principal(version, citizen, clerk):
    elder = UserFactory(real_name="王奶奶")
    DelegationFactory(principal=elder, agent=citizen)
    application = _approved(accept(submit(version, citizen, principal=elder), clerk))

    services.application_conclude(application=application, actor=clerk)

    invitation = Invitation.objects.get(subject_id=str(application.public_id))
    assert (invitation.rater, invitation.principal) == (citizen, elder)


def test_a_failing_invitation_rolls_the_conclusion_back(version, citizen, other_citizen, clerk):
    application = _approved(accept(submit(version, citizen), clerk))
    # the subject was already offered to someone else: rating_invite raises a Conflict
    Invitation.objects.create(
        subject_kind="application",
        subject_id=str(application.public_id),
        rater=other_citizen,
        department=application.department,
        title="别人的邀请",
        channel="online",
    )

    with pytest.raises(Conflict) as caught:
        services.application_conclude(application=application, actor=clerk)

    assert caught.value.code == "evaluation.invitation_mismatch"
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED
    assert application.concluded_at is None
    assert not application.events.filter(kind="concluded").exists()
    assert not AuditEntry.objects.filter(action="applications.conclude").exists()
    assert not Notification.objects.filter(event="application.concluded").exists()
    assert Invitation.objects.count() == 1


DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="gjj" name="公积金提取"
  namespace="https://yiwang.example">
  <decision id="gjj_auto" name="公积金提取秒批">
    <decisionTable id="t1" hitPolicy="FIRST">
      <input id="i1" label="年龄"><inputExpression id="e1" typeRef="integer"><text>age</text>
      </inputExpression></input>
      <input id="i2" label="情形"><inputExpression id="e2" typeRef="string"><text>situation</text>
      </inputExpression></input>
      <output id="o1" label="秒批" name="auto_approve" typeRef="boolean"/>
      <rule id="r1"><inputEntry id="r1a"><text>&gt;= 60</text></inputEntry>
        <inputEntry id="r1b"><text>'retire'</text></inputEntry>
        <outputEntry id="r1o"><text>True</text></outputEntry></rule>
      <rule id="r2"><inputEntry id="r2a"><text>-</text></inputEntry>
        <inputEntry id="r2b"><text>-</text></inputEntry>
        <outputEntry id="r2o"><text>False</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""


@pytest.fixture
def gjj(dept_a):
    from yiwang.catalog.tests.factories import MaterialFactory, SituationFactory

    version = PublishedVersionFactory(item__department=dept_a, name="住房公积金提取", dmn_xml=DMN)
    SituationFactory(version=version, code="retire", name="离休、退休")
    SituationFactory(version=version, code="purchase", name="购房")
    version.materials.all().delete()
    MaterialFactory(version=version, name="申请书")
    return version


def test_dmn_rules_approve_and_conclude_at_once(gjj, citizen, clerk):
    application = submit(
        gjj,
        citizen,
        situation="retire",
        form_data={"age": 61},
        materials=[services.MaterialInput(material_id=material(gjj, "申请书").pk, content=PNG)],
    )

    application = accept(application, clerk)

    assert application.status == Application.Status.CONCLUDED
    assert application.decision == "approved"
    tasks = list(application.tasks.all())
    assert tasks
    assert all(
        (t.status, t.outcome, t.completed_by_label) == ("done", "approve", "system:rules")
        for t in tasks
    )
    assert "auto_approved" in application.events.values_list("kind", flat=True)


def test_dmn_rules_that_do_not_approve_leave_it_to_people(gjj, citizen, clerk):
    application = submit(
        gjj,
        citizen,
        situation="purchase",
        form_data={"age": 35},
        materials=[services.MaterialInput(material_id=material(gjj, "申请书").pk, content=PNG)],
    )

    application = accept(application, clerk)

    assert application.status == Application.Status.IN_REVIEW
    assert [t.status for t in application.tasks.all()] == ["open"]


def test_dmn_rules_missing_a_fact_fall_back_to_people(gjj, citizen, clerk):
    application = submit(
        gjj,
        citizen,
        situation="retire",
        form_data={},
        materials=[services.MaterialInput(material_id=material(gjj, "申请书").pk, content=PNG)],
    )

    application = accept(application, clerk)

    assert application.status == Application.Status.IN_REVIEW
    assert application.events.filter(kind="rules_failed", public=False).exists()


def test_overdue_tasks_escalate_to_the_supervisor_once(version, citizen, clerk, dept_b):
    supervisor = staff_with_role(Role.SUPERVISOR, dept_b)
    application = accept(submit(version, citizen), clerk)
    tax, housing = open_tasks(application)
    Task.objects.filter(pk=tax.pk).update(due_date=timezone.localdate() - timedelta(days=1))

    assert services.tasks_escalate_overdue() == 1
    assert services.tasks_escalate_overdue() == 0

    tax.refresh_from_db()
    housing.refresh_from_db()
    assert tax.escalated_at is not None
    assert housing.escalated_at is None
    assert (
        Notification.objects.filter(recipient=supervisor, event="application.task_overdue").count()
        == 1
    )


def test_a_crash_in_the_middle_of_an_approval_leaves_the_case_as_it_was(
    version, citizen, clerk, approver_b, monkeypatch
):
    application = accept(submit(version, citizen), clerk)
    tax, _ = open_tasks(application)
    state_before = application.workflow_state
    events_before = application.events.count()

    def boom(**kwargs):
        raise RuntimeError("crash after the task and the process were written")

    monkeypatch.setattr(services, "audit_record", boom)
    with pytest.raises(RuntimeError):
        services.task_complete(task=tax, actor=approver_b, outcome="refuse", opinion="不同意")

    application.refresh_from_db()
    tax.refresh_from_db()
    assert (tax.status, tax.outcome) == (Task.Status.OPEN, "")
    assert application.status == Application.Status.IN_REVIEW
    assert application.workflow_state == state_before
    assert application.events.count() == events_before
    assert [t.status for t in open_tasks(application)] == ["open", "open"]
