"""The national case record (受理, 过程, 结果, 特别程序, 材料): the tables of a case taken
through every step, the ``export-cases`` command (JSON Lines and Excel, filters, bad
arguments), the staff API and its access rule, and the query count over many cases."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from yiwang.accounts.models import Role, RoleAssignment
from yiwang.accounts.tests.factories import (
    DepartmentFactory,
    EnterpriseFactory,
    UserFactory,
    staff_with_role,
)
from yiwang.applications import services
from yiwang.applications.case_record import (
    TABLES,
    case_record,
    case_records_iter,
    case_records_write_xlsx,
)
from yiwang.applications.models import Application
from yiwang.applications.tests.conftest import material, signed_in, submit
from yiwang.applications.tests.factories import PNG, ApplicationFactory
from yiwang.core.calendar import SHANGHAI
from yiwang.core.models import AuditEntry
from yiwang.evaluation.models import Invitation
from yiwang.evaluation.services import rating_submit

pytestmark = pytest.mark.django_db


def at(value):
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def open_tasks(application):
    return list(
        application.tasks.filter(status__in=["open", "claimed"]).order_by("department__code")
    )


def full_case(version, citizen, clerk, approver_a, approver_b, approver_c):
    """submit → 补正 (request, supply) → 受理 → 税务 (专家评审) ‖ 住建 → 决定 → 办结 → 邮寄送达
    → rated 满意."""
    application = submit(version, citizen)
    services.application_request_supplement(
        application=application, actor=clerk, items=["申请书未签字"]
    )
    services.application_supplement(
        application=application,
        actor=citizen,
        materials=[
            services.MaterialInput(
                material_id=material(version, "场地证明").pk, content=PNG, filename="cd.png"
            )
        ],
    )
    application = services.application_accept(application=application, actor=clerk)
    tax, housing = open_tasks(application)
    services.task_claim(task=tax, actor=approver_b)
    services.special_procedure_start(
        task=tax, actor=approver_b, kind="expert_review", reason="需组织专家评审"
    )
    services.special_procedure_end(task=tax, actor=approver_b, result="专家意见：同意")
    services.task_complete(task=tax, actor=approver_b, outcome="approve", opinion="无欠税")
    services.task_complete(task=housing, actor=approver_c, outcome="approve", opinion="同意")
    (decide,) = open_tasks(application)
    services.task_complete(task=decide, actor=approver_a, outcome="approve", opinion="准予许可")
    application.refresh_from_db()
    services.application_conclude(application=application, actor=clerk, note="准予行政许可")
    services.application_issue(
        application=application,
        actor=clerk,
        delivery_method="post",
        tracking_number="SF1234567890",
        address="六安市金安区梅山南路1号",
    )
    invitation = Invitation.objects.get(subject_id=str(application.public_id))
    rating_submit(actor=citizen, invitation=invitation, level=4)
    application.refresh_from_db()
    return application


@pytest.fixture
def done(version, citizen, clerk, approver_a, approver_b, approver_c):
    return full_case(version, citizen, clerk, approver_a, approver_b, approver_c)


# --- the tables --------------------------------------------------------------------------------


def test_a_case_through_every_step_fills_the_five_tables(done, version, citizen, clerk, dept_a):
    dept_a.uscc = "11341500MB1234567X"
    dept_a.save()

    record = case_record(done)

    assert record["case_number"] == done.number
    assert record["accept"] == {
        "case_number": done.number,
        "apply_time": at(done.submitted_at),
        "accept_time": at(done.accepted_at),
        "accept_doc_number": f"{done.number}-SL",
        "promise_finish_date": done.due_date.isoformat(),
        "accept_dept_name": "六安市测试审批局",
        "accept_dept_code": "11341500MB1234567X",
        "accept_person": "陈受理",
        "applicant_name": "张三",
        "applicant_type": "自然人",
        "applicant_id_type": "居民身份证",
        "applicant_id_number": citizen.id_number,
        "legal_representative": "",
        "contact_name": "张三",
        "contact_id_type": "居民身份证",
        "contact_id_number": citizen.id_number,
        "contact_mobile": "13800001111",
        "mailing_address": "",
        "postcode": "",
        "apply_type": "网上申请",
        "handle_type": "承诺件",
        "summary": "张三申请测试许可",
        "task_code": version.item.task_code,
        "catalog_code": version.item.catalog_code,
        "task_name": "测试许可",
        "task_version": version.number,
    }
    # the ID number is stored encrypted and exported in clear for the province
    assert len(citizen.id_number) == 18
    process = record["process"]
    assert [r["seq"] for r in process] == list(range(1, 8))
    assert {r["case_number"] for r in process} == {done.number}
    assert [(r["step_name"], r["action"], r["dept_name"], r["handler"]) for r in process] == [
        ("受理", "受理", "六安市测试审批局", "陈受理"),
        ("补正", "补正完成", "六安市测试审批局", "陈受理"),
        ("税务审查", "同意", "六安市测试税务局", "吴税务"),
        ("住建审查", "同意", "六安市测试住建局", "王住建"),
        ("决定", "同意", "六安市测试审批局", "周审批"),
        ("办结", "准予", "六安市测试审批局", "陈受理"),
        ("送达", "邮寄送达", "六安市测试审批局", "陈受理"),
    ]
    assert [r["opinion"] for r in process[1:5]] == ["申请书未签字", "无欠税", "同意", "准予许可"]
    assert process[5]["opinion"] == "准予行政许可"
    assert process[6]["opinion"] == "快递单号 SF1234567890"
    pause = done.pauses.get(kind="supplement")
    assert (process[1]["start_time"], process[1]["end_time"]) == (
        at(pause.started_at),
        at(pause.ended_at),
    )
    tax = done.tasks.get(name="税务审查")
    assert (process[2]["start_time"], process[2]["end_time"]) == (
        at(tax.created_at),
        at(tax.completed_at),
    )
    assert process[0]["end_time"] == at(done.accepted_at)
    assert process[5]["end_time"] == at(done.concluded_at)
    assert process[6]["end_time"] == at(done.issued_at)

    assert record["result"] == {
        "case_number": done.number,
        "finish_time": at(done.concluded_at),
        "result": "准予办理",
        "result_description": "准予行政许可",
        "certificate_name": "测试许可证",
        "certificate_number": "",
        "delivered_by_express": True,
        "satisfaction": "满意",
        "satisfaction_level": 4,
    }
    expert = done.pauses.get(kind="expert_review")
    assert record["special_procedure"] == [
        {
            "case_number": done.number,
            "seq": 1,
            "kind": "专家评审",
            "reason": "需组织专家评审",
            "start_time": at(expert.started_at),
            "end_time": at(expert.ended_at),
            "opinion": "",
            "result": "专家意见：同意",
        }
    ]
    assert record["material"] == [
        {
            "case_number": done.number,
            "seq": 1,
            "name": "申请书",
            "collect_method": "申请人上传",
            "collect_count": 1,
            "attachment_name": "sqs.png",
        },
        {
            "case_number": done.number,
            "seq": 2,
            "name": "场地证明",
            "collect_method": "申请人上传",
            "collect_count": 1,
            "attachment_name": "cd.png",
        },
    ]


def test_a_waiting_case_has_no_result_and_no_acceptance_yet(version, citizen):
    application = submit(version, citizen)

    record = case_record(application)

    assert record["accept"]["accept_time"] == ""
    assert record["accept"]["accept_doc_number"] == ""
    assert record["accept"]["accept_person"] == ""
    assert [(r["step_name"], r["action"], r["end_time"]) for r in record["process"]] == [
        ("受理", "待受理", "")
    ]
    assert record["result"] is None
    assert record["special_procedure"] == []


def test_a_refused_case_ends_with_the_reasons(version, citizen, clerk):
    application = submit(version, citizen)
    services.application_refuse(
        application=application, actor=clerk, reasons=["不属于本部门职权范围", "材料不全"]
    )

    record = case_record(application)

    assert record["process"][0]["action"] == "不予受理"
    assert record["process"][0]["opinion"] == "不属于本部门职权范围；材料不全"
    result = record["result"]
    assert (result["result"], result["result_description"]) == (
        "不予受理",
        "不属于本部门职权范围；材料不全",
    )
    assert result["certificate_name"] == ""
    assert (result["delivered_by_express"], result["satisfaction_level"]) == (None, None)


def test_a_rejected_case_reports_the_refusing_opinion_and_no_certificate(
    version, citizen, clerk, approver_b
):
    application = services.application_accept(application=submit(version, citizen), actor=clerk)
    tax, _housing = open_tasks(application)
    services.task_complete(task=tax, actor=approver_b, outcome="refuse", opinion="存在欠税")
    application.refresh_from_db()
    services.application_conclude(application=application, actor=clerk)

    record = case_record(application)

    result = record["result"]
    assert (result["result"], result["result_description"], result["certificate_name"]) == (
        "不予办理",
        "存在欠税",
        "",
    )
    # not issued yet: how the result travels is not known
    assert result["delivered_by_express"] is None
    actions = {r["step_name"]: r["action"] for r in record["process"]}
    assert actions["税务审查"] == "不同意"
    assert actions["住建审查"] == "已取消"


def test_an_enterprise_account_applies_as_its_enterprise(version):
    enterprise = EnterpriseFactory(name="六安市皋城科技有限公司", legal_representative="王五")
    account = UserFactory(kind="enterprise", real_name="赵经办")
    enterprise.members.add(account, through_defaults={"capacity": "agent"})
    application = ApplicationFactory(version=version, applicant=account)

    accept = case_record(application)["accept"]

    assert (
        accept["applicant_name"],
        accept["applicant_type"],
        accept["applicant_id_type"],
        accept["applicant_id_number"],
        accept["legal_representative"],
        accept["contact_name"],
    ) == ("六安市皋城科技有限公司", "法人", "统一社会信用代码", enterprise.uscc, "王五", "赵经办")


def test_the_record_is_chinese_whatever_the_reader_language(done):
    from django.utils import translation

    with translation.override("en"):
        record = case_record(done)

    assert record["accept"]["apply_type"] == "网上申请"
    assert record["process"][0]["step_name"] == "受理"


# --- many cases --------------------------------------------------------------------------------


def many(version, citizen, clerk, approver_b, count):
    """``count`` accepted applications, each with tasks, materials, events and a hearing."""
    found = []
    for _ in range(count):
        application = services.application_accept(application=submit(version, citizen), actor=clerk)
        tax, _housing = open_tasks(application)
        services.special_procedure_start(
            task=tax, actor=approver_b, kind="hearing", reason="依申请听证"
        )
        found.append(application)
    return found


def queries(applications, **kwargs):
    with CaptureQueriesContext(connection) as captured:
        records = list(case_records_iter(applications, **kwargs))
    return len(captured.captured_queries), records


def test_the_query_count_does_not_grow_with_the_number_of_cases(
    version, citizen, clerk, approver_b
):
    many(version, citizen, clerk, approver_b, 2)
    few, few_records = queries(Application.objects.all())
    many(version, citizen, clerk, approver_b, 6)

    more, more_records = queries(Application.objects.all())

    assert (len(few_records), len(more_records)) == (2, 8)
    assert more == few
    assert more <= 7  # applications, materials, tasks, pauses, events, enterprises, ratings
    assert all(len(r["special_procedure"]) == 1 for r in more_records)


def test_chunks_cost_a_fixed_number_of_queries_each_and_lose_no_case(
    version, citizen, clerk, approver_b
):
    made = many(version, citizen, clerk, approver_b, 7)
    one_chunk, _ = queries(Application.objects.all(), chunk_size=100)

    count, records = queries(Application.objects.all(), chunk_size=3)

    assert [r["case_number"] for r in records] == [
        a.number for a in sorted(made, key=lambda a: a.pk)
    ]
    assert count <= 3 * one_chunk


def test_a_full_sheet_continues_on_the_next(tmp_path, version, citizen, clerk):
    applications = [
        services.application_accept(application=submit(version, citizen), actor=clerk)
        for _ in range(3)
    ]
    path = tmp_path / "cases.xlsx"

    rows = case_records_write_xlsx(case_records_iter(Application.objects.all()), path, max_rows=3)

    workbook = load_workbook(path, read_only=True)
    assert workbook.sheetnames == [
        "受理",
        "受理（2）",
        "过程",
        "过程（2）",
        "过程（3）",
        "过程（4）",
        "过程（5）",
        "结果",
        "特别程序",
        "材料",
        "材料（2）",
    ]
    numbers = [r[0] for r in workbook["受理"].iter_rows(min_row=2, values_only=True)]
    numbers += [r[0] for r in workbook["受理（2）"].iter_rows(min_row=2, values_only=True)]
    assert numbers == [a.number for a in applications]
    assert rows == {"accept": 3, "process": 9, "result": 0, "special_procedure": 0, "material": 3}


# --- the command -------------------------------------------------------------------------------


def export(*args):
    call_command("export-cases", *[str(a) for a in args])


def audits():
    return AuditEntry.objects.filter(action="applications.case_export")


def test_the_command_writes_json_lines_that_read_back(tmp_path, done, capsys):
    path = tmp_path / "cases.jsonl"

    export("--format", "jsonl", path)

    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0]) == case_record(done)
    assert "已导出 1 条办件" in capsys.readouterr().out
    (entry,) = audits()
    assert entry.actor_label == "system:export-cases"
    assert entry.after == {
        "since": "",
        "until": "",
        "department": "",
        "format": "jsonl",
        "count": 1,
    }


def test_the_command_writes_a_workbook_with_one_sheet_per_table(tmp_path, done):
    path = tmp_path / "cases.xlsx"

    export("--format", "xlsx", path)

    workbook = load_workbook(path, read_only=True)
    assert workbook.sheetnames == ["受理", "过程", "结果", "特别程序", "材料"]
    sheets = {t.key: list(workbook[str(t.title)].iter_rows(values_only=True)) for t in TABLES}
    assert sheets["accept"][0][:4] == ("办件编号", "申请时间", "受理时间", "受理文书编号")
    assert sheets["process"][0] == (
        "办件编号",
        "序号",
        "办理环节名称",
        "业务动作",
        "办理部门",
        "环节开始时间",
        "环节结束时间",
        "办理意见",
        "受理人员",
    )
    assert [len(rows) - 1 for rows in sheets.values()] == [1, 7, 1, 1, 2]
    # every row is joined to its case by 办件编号
    assert {row[0] for rows in sheets.values() for row in rows[1:]} == {done.number}
    record = case_record(done)
    header = sheets["accept"][0]
    accept = dict(zip(header, sheets["accept"][1], strict=True))
    assert accept["申请人证件号码"] == record["accept"]["applicant_id_number"]
    assert accept["事项版本"] == record["accept"]["task_version"]
    result = dict(zip(sheets["result"][0], sheets["result"][1], strict=True))
    assert (result["是否快递递送结果"], result["满意度"]) == ("是", "满意")
    assert [row[3] for row in sheets["process"][1:]] == [r["action"] for r in record["process"]]


def test_the_format_follows_the_extension_when_not_given(tmp_path, done):
    path = tmp_path / "cases.xlsx"

    export(path)

    assert load_workbook(path, read_only=True).sheetnames[0] == "受理"


def test_dates_select_on_the_submission_day_in_city_time(tmp_path, version, citizen):
    old = submit(version, citizen)
    new = submit(version, citizen)
    # 2026-03-01 23:30 in 六安 is 15:30 UTC: the day is the city's
    Application.objects.filter(pk=old.pk).update(
        submitted_at=datetime(2026, 3, 1, 15, 30, tzinfo=UTC)
    )
    Application.objects.filter(pk=new.pk).update(
        submitted_at=datetime(2026, 3, 1, 16, 30, tzinfo=UTC)
    )
    path = tmp_path / "cases.jsonl"

    export("--since", "2026-03-01", "--until", "2026-03-01", "--format", "jsonl", path)
    first = [json.loads(line)["case_number"] for line in path.read_text().splitlines()]
    export("--since", "2026-03-02", "--format", "jsonl", path)
    second = [json.loads(line)["case_number"] for line in path.read_text().splitlines()]

    assert (first, second) == ([old.number], [new.number])


def test_a_department_includes_the_departments_below_it(tmp_path, version, citizen, dept_a):
    office = DepartmentFactory(code="la-test-a-office", parent=dept_a)
    elsewhere = DepartmentFactory(code="la-test-z")
    mine = ApplicationFactory(version=version, department=dept_a)
    below = ApplicationFactory(version=version, department=office)
    ApplicationFactory(version=version, department=elsewhere)
    path = tmp_path / "cases.jsonl"

    export("--department", "la-test-a", "--format", "jsonl", path)

    numbers = sorted(json.loads(line)["case_number"] for line in path.read_text().splitlines())
    assert numbers == sorted([mine.number, below.number])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2026-13-01"], "日期“2026-13-01”无效"),
        (["--until", "yesterday"], "日期“yesterday”无效"),
        (["--since", "2026-03-02", "--until", "2026-03-01"], "开始日期 2026-03-02 晚于结束日期"),
        (["--department", "no-such-dept"], "找不到机构代码为“no-such-dept”的部门"),
        (["--format", "csv"], "不受支持"),
        (["--chunk-size", "0"], "每批条数“0”无效"),
    ],
)
def test_bad_arguments_say_why_and_write_nothing(tmp_path, done, args, message):
    path = tmp_path / "cases.jsonl"

    given = args if "--format" in args else [*args, "--format", "jsonl"]

    with pytest.raises(CommandError) as caught:
        export(*given, path)

    assert message in str(caught.value)
    assert list(tmp_path.iterdir()) == []
    assert not audits().exists()


def test_an_unknown_extension_without_format_is_refused(tmp_path, done):
    with pytest.raises(CommandError) as caught:
        export(tmp_path / "cases.csv")

    assert "请用 --format 指定格式" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_directory_is_refused(tmp_path, done):
    with pytest.raises(CommandError) as caught:
        export("--format", "jsonl", tmp_path / "nowhere" / "cases.jsonl")

    assert "输出目录不存在" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_export_leaves_no_partial_file(tmp_path, done):
    # OUT is a directory: everything is written, then the rename fails
    target = tmp_path / "cases.jsonl"
    target.mkdir()
    (target / "keep").write_text("x", encoding="utf-8")

    with pytest.raises(IsADirectoryError):
        export("--format", "jsonl", target)

    assert [p.name for p in tmp_path.iterdir()] == ["cases.jsonl"]
    assert [p.name for p in target.iterdir()] == ["keep"]
    assert not audits().exists()


# --- the API -----------------------------------------------------------------------------------


def url(application):
    return f"/api/v1/staff/applications/{application.public_id}/case-record"


def test_staff_of_the_accepting_department_get_the_record_and_the_read_is_audited(done, clerk):
    response = signed_in(clerk).get(url(done))

    assert response.status_code == 200
    assert response.json() == json.loads(json.dumps(case_record(done)))
    entry = AuditEntry.objects.filter(action="applications.staff_read").latest("seq")
    assert (entry.actor_id, entry.object_id, entry.reason) == (
        clerk.pk,
        str(done.pk),
        "国家办件数据上报",
    )


def test_a_supervisor_above_the_department_gets_it_through_the_subtree(done, dept_a):
    city = DepartmentFactory(code="la-test-city")
    dept_a.parent = city
    dept_a.save()
    supervisor = staff_with_role(Role.SUPERVISOR, city)
    RoleAssignment.objects.filter(user=supervisor).update(include_subtree=True)

    assert signed_in(supervisor).get(url(done)).status_code == 200


def test_citizens_and_other_departments_are_refused_and_nothing_is_audited(
    done, citizen, approver_b
):
    before = AuditEntry.objects.filter(action="applications.staff_read").count()
    elsewhere = staff_with_role(Role.WINDOW_CLERK, DepartmentFactory(code="la-test-y"))

    as_citizen = signed_in(citizen).get(url(done))
    as_elsewhere = signed_in(elsewhere).get(url(done))
    # a department that only had a task of the case does not get the ID numbers
    as_task_department = signed_in(approver_b).get(url(done))

    assert (as_citizen.status_code, as_citizen.json()["code"]) == (403, "core.forbidden")
    assert (as_elsewhere.status_code, as_elsewhere.json()["code"]) == (404, "core.not_found")
    assert as_task_department.status_code == 404
    for response in (as_citizen, as_elsewhere, as_task_department):
        assert "applicant_id_number" not in response.content.decode()
    assert AuditEntry.objects.filter(action="applications.staff_read").count() == before
    assert (
        signed_in(approver_b).get(f"/api/v1/staff/applications/{done.public_id}").status_code == 200
    )


def test_tasks_still_open_show_their_state(version, citizen, clerk):
    application = services.application_accept(application=submit(version, citizen), actor=clerk)
    record = case_record(application)

    assert [(r["step_name"], r["action"], r["end_time"]) for r in record["process"][1:]] == [
        ("税务审查", "待认领", ""),
        ("住建审查", "待认领", ""),
    ]
