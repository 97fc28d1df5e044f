"""BPMN generation, validation and running with SpiffWorkflow (yiwang.catalog.process)."""

from __future__ import annotations

import pytest
from django.utils import translation
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from yiwang.accounts.models import Role
from yiwang.accounts.tests.factories import DepartmentFactory, staff_with_role
from yiwang.catalog import errors
from yiwang.catalog.models import ItemVersion, ProcessStep
from yiwang.catalog.process import (
    BPMN_NS,
    MAX_XML_BYTES,
    SPIFF_NS,
    SafeEnvironment,
    UnsafeExpression,
    expression_check,
    process_generate,
    process_ready_tasks,
    process_reset_generated,
    process_set_custom,
    process_validate,
    process_workflow,
)
from yiwang.catalog.tests.factories import ItemVersionFactory, ProcessStepFactory
from yiwang.core.errors import Conflict, PermissionDenied, ValidationError
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db

NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}


def run_to_completion(workflow: BpmnWorkflow) -> list[list[str]]:
    """Complete ready user tasks in rounds; return the names ready together in each round."""
    rounds: list[list[str]] = []
    workflow.do_engine_steps()
    while not workflow.completed:
        ready = process_ready_tasks(workflow)
        assert ready, "workflow stuck with no ready task"
        rounds.append([t.task_spec.bpmn_name for t in ready])
        for task in ready:
            task.run()
        workflow.do_engine_steps()
    return rounds


def parse_with_plain_spiff(xml: str) -> BpmnWorkflow:
    """Parse with SpiffWorkflow's stock BpmnParser, as the brief asks, independent of ours."""
    parser = BpmnParser()
    parser.add_bpmn_str(xml.encode("utf-8"))
    (process_id,) = parser.get_process_ids()
    return BpmnWorkflow(parser.get_spec(process_id))


def parallel_version() -> ItemVersion:
    """受理 → (规划审查 ∥ 消防审查 ∥ 环保审查) → 决定 → 办结 → 送达."""
    version = ItemVersionFactory(children=False, name="建设工程规划许可")
    planning = DepartmentFactory(code="liuan-zrzy", name="六安市自然资源和规划局")
    fire = DepartmentFactory(code="liuan-zjj", name="六安市住房和城乡建设局")
    env = DepartmentFactory(code="liuan-sthj", name="六安市生态环境局")
    rows = [
        ("受理", ProcessStep.Kind.ACCEPT, 0, "window_clerk", None, 1),
        ("规划审查", ProcessStep.Kind.REVIEW, 1, "approver", planning, 3),
        ("消防审查", ProcessStep.Kind.REVIEW, 1, "approver", fire, 3),
        ("环保审查", ProcessStep.Kind.REVIEW, 1, "approver", env, 2),
        ("决定", ProcessStep.Kind.DECIDE, 2, "approver", None, 1),
        ("办结", ProcessStep.Kind.CONCLUDE, 3, "window_clerk", None, None),
        ("送达", ProcessStep.Kind.DELIVER, 4, "window_clerk", None, 1),
    ]
    for order, (name, kind, stage, role, dept, limit) in enumerate(rows):
        ProcessStepFactory(
            version=version,
            name=name,
            kind=kind,
            stage=stage,
            role=role,
            department=dept,
            time_limit=limit,
            sort_order=order,
        )
    return version


# --- generation ---------------------------------------------------------------------------


def test_generated_parallel_process_runs_in_order_with_parallel_tasks_ready_together():
    xml = process_generate(parallel_version())

    rounds = run_to_completion(parse_with_plain_spiff(xml))

    assert rounds == [
        ["受理"],
        ["规划审查", "消防审查", "环保审查"],
        ["决定"],
        ["办结"],
        ["送达"],
    ]


def test_generated_process_carries_role_department_and_time_limit():
    version = parallel_version()
    xml = process_generate(version)

    parsed = process_validate(xml, kind="bpmn")

    assert parsed.tasks == ("受理", "规划审查", "消防审查", "环保审查", "决定", "办结", "送达")
    review = parsed.spec.task_specs["Task_3"]
    assert review.bpmn_name == "消防审查"
    assert review.extensions["properties"] == {
        "kind": "review",
        "stage": "1",
        "role": "approver",
        "department": "liuan-zjj",
        "departmentName": "六安市住房和城乡建设局",
        "timeLimit": "3",
        "timeLimitUnit": "working_day",
    }
    assert review.lane == "六安市住房和城乡建设局"
    # 受理 has no department of its own: it sits in the lane of the first step's department
    accept = parsed.spec.task_specs["Task_1"]
    assert accept.extensions["properties"]["timeLimit"] == "1"
    root = etree.fromstring(xml.encode("utf-8"))
    assert len(root.xpath("//bpmn:parallelGateway", namespaces=NS)) == 2
    assert root.xpath("//bpmn:process/@isExecutable", namespaces=NS) == ["true"]


def test_generated_process_is_deterministic():
    version = parallel_version()

    assert process_generate(version) == process_generate(version)


def test_promised_item_without_steps_gets_the_standard_five_steps():
    version = ItemVersionFactory(children=False, project_type=ItemVersion.ProjectType.PROMISED)
    xml = process_generate(version)

    rounds = run_to_completion(parse_with_plain_spiff(xml))

    assert rounds == [["受理"], ["审查"], ["决定"], ["办结"], ["送达"]]
    spec = process_validate(xml, kind="bpmn").spec
    assert spec.task_specs["Task_1"].extensions["properties"]["role"] == "window_clerk"
    assert spec.task_specs["Task_2"].extensions["properties"]["role"] == "approver"
    assert spec.task_specs["Task_1"].extensions["properties"]["department"] == (
        version.item.department.code
    )


def test_immediate_item_without_steps_is_one_task():
    version = ItemVersionFactory(children=False, project_type=ItemVersion.ProjectType.IMMEDIATE)

    rounds = run_to_completion(parse_with_plain_spiff(process_generate(version)))

    assert rounds == [["受理并办结"]]


def test_process_workflow_uses_stored_or_generated_process():
    version = parallel_version()

    assert run_to_completion(process_workflow(version))[1] == ["规划审查", "消防审查", "环保审查"]


def test_names_with_xml_metacharacters_are_escaped():
    version = ItemVersionFactory(children=False, name='A&B <"许可">')
    ProcessStepFactory(version=version, name="审查 <初审> & 复审", kind=ProcessStep.Kind.REVIEW)

    parsed = process_validate(process_generate(version), kind="bpmn")

    assert parsed.tasks == ("审查 <初审> & 复审",)
    assert parsed.name == 'A&B <"许可">'


# --- validation ---------------------------------------------------------------------------


def invalid(xml: str | bytes, kind: str = "bpmn") -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        process_validate(xml, kind=kind)
    return caught.value


def test_syntax_error_names_the_line():
    err = invalid('<?xml version="1.0"?>\n<definitions>\n<process>\n</definitions>\n')

    assert err.code == errors.BPMN_INVALID
    assert err.extra["reason"] == "syntax"
    assert err.extra["line"] == 4
    assert str(err.message).startswith("XML 语法错误（第 4 行）：")
    assert "Opening and ending tag mismatch" in str(err.message)


def test_not_bpmn_is_refused():
    err = invalid("<html><body>hello</body></html>")

    assert err.extra["reason"] == "not_bpmn"
    assert str(err.message) == (
        "不是 BPMN 2.0 文档：根元素应为 http://www.omg.org/spec/BPMN/20100524/MODEL "
        "命名空间的 definitions，实际为 html。"
    )


def test_doctype_and_external_entities_are_refused():
    xxe = (
        '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}"><bpmn:process id="p" name="&x;"/>'
        "</bpmn:definitions>"
    )

    err = invalid(xxe)

    assert err.extra["reason"] == "dtd"
    assert str(err.message) == "BPMN 文件不得包含 DTD 或实体声明（<!DOCTYPE>）。"
    assert invalid(xxe.replace("bpmn:", "dmn:"), kind="dmn").code == errors.DMN_INVALID


def test_oversize_upload_is_refused_with_the_limit():
    err = invalid("<a>" + " " * MAX_XML_BYTES + "</a>")

    assert err.extra == {"reason": "too_large", "limit": MAX_XML_BYTES}
    assert str(err.message) == "BPMN 文件过大（1000007 字节），上限为 1000000 字节。"


def test_empty_upload_is_refused():
    assert str(invalid("  ").message) == "BPMN 文件为空。"


def minimal(body: str, executable: str = "true") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="{BPMN_NS}" '
        'id="D" targetNamespace="https://example.org">\n'
        f'<bpmn:process id="P" isExecutable="{executable}">\n{body}\n</bpmn:process>\n'
        "</bpmn:definitions>\n"
    )


GOOD_BODY = (
    '<bpmn:startEvent id="S"/>\n<bpmn:userTask id="T" name="审核"/>\n<bpmn:endEvent id="E"/>\n'
    '<bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="T"/>\n'
    '<bpmn:sequenceFlow id="F2" sourceRef="T" targetRef="E"/>'
)


def test_minimal_hand_written_process_is_accepted():
    parsed = process_validate(minimal(GOOD_BODY), kind="bpmn")

    assert (parsed.kind, parsed.id, parsed.tasks) == ("bpmn", "P", ("审核",))


def test_non_executable_process_is_refused():
    err = invalid(minimal(GOOD_BODY, executable="false"))

    assert err.extra["reason"] == "no_process"
    assert str(err.message) == '文档中没有可执行的流程（bpmn:process 需 isExecutable="true"）。'


def test_schema_violation_reports_spiffworkflow_reason_and_line():
    err = invalid(minimal(GOOD_BODY + '\n<bpmn:userTask id="X" bogus="1"/>'))

    assert err.extra["reason"] == "spiff"
    assert err.extra["line"] == 9
    assert "bogus" in str(err.message)
    assert str(err.message).startswith("BPMN 校验失败（第 9 行）：")


def test_dangling_sequence_flow_is_refused_with_parser_reason():
    err = invalid(minimal(GOOD_BODY.replace('targetRef="E"', 'targetRef="Nowhere"')))

    assert err.extra["reason"] == "spiff"
    assert "BPMN 校验失败" in str(err.message)


def test_script_task_is_refused():
    body = GOOD_BODY.replace(
        '<bpmn:userTask id="T" name="审核"/>',
        '<bpmn:scriptTask id="T"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>',
    )

    err = invalid(minimal(body))

    assert err.extra == {"reason": "unsafe", "line": 5}
    assert str(err.message) == "脚本任务（scriptTask）会执行任意代码，不允许上传"


def test_unsafe_condition_expression_is_refused():
    body = (
        '<bpmn:startEvent id="S"/><bpmn:exclusiveGateway id="G"/>'
        '<bpmn:userTask id="T" name="审核"/><bpmn:endEvent id="E"/>'
        '<bpmn:sequenceFlow id="F0" sourceRef="S" targetRef="G"/>\n'
        '<bpmn:sequenceFlow id="F1" sourceRef="G" targetRef="T">'
        "<bpmn:conditionExpression>().__class__.__bases__</bpmn:conditionExpression>"
        "</bpmn:sequenceFlow>"
        '<bpmn:sequenceFlow id="F2" sourceRef="T" targetRef="E"/>'
    )

    err = invalid(minimal(body))

    assert err.extra["reason"] == "expression"
    assert "Attribute" in str(err.message)


def test_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError, match="kind must be"):
        process_validate(minimal(GOOD_BODY), kind="xpdl")


# --- services -----------------------------------------------------------------------------


@pytest.fixture
def catalog_admin():
    return staff_with_role(Role.CATALOG_ADMIN)


def test_set_custom_stores_and_audits(catalog_admin):
    version = ItemVersionFactory(children=False)
    xml = minimal(GOOD_BODY)

    process_set_custom(actor=catalog_admin, version=version, bpmn_xml=xml)

    version.refresh_from_db()
    assert (version.bpmn_xml, version.bpmn_custom) == (xml, True)
    entry = AuditEntry.objects.get(action="catalog.process_set_custom")
    assert entry.object_id == str(version.pk)
    assert entry.after is not None
    assert (entry.after["tasks"], entry.after["process_id"]) == (["审核"], "P")
    assert entry.before == {"bpmn_custom": False, "bpmn_sha256": ""}
    assert run_to_completion(process_workflow(version)) == [["审核"]]


def test_set_custom_refuses_invalid_and_changes_nothing(catalog_admin):
    version = ItemVersionFactory(children=False)

    with pytest.raises(ValidationError) as caught:
        process_set_custom(actor=catalog_admin, version=version, bpmn_xml="<broken")

    assert caught.value.code == errors.BPMN_INVALID
    version.refresh_from_db()
    assert (version.bpmn_xml, version.bpmn_custom) == ("", False)
    assert not AuditEntry.objects.filter(action__startswith="catalog.process").exists()


@pytest.mark.parametrize(
    "status", [ItemVersion.Status.REVIEW, ItemVersion.Status.PUBLISHED, ItemVersion.Status.RETIRED]
)
def test_only_drafts_change(catalog_admin, status):
    version = ItemVersionFactory(children=False, status=status)

    with pytest.raises(Conflict) as caught:
        process_set_custom(actor=catalog_admin, version=version, bpmn_xml=minimal(GOOD_BODY))
    with pytest.raises(Conflict):
        process_reset_generated(actor=catalog_admin, version=version)

    assert caught.value.code == errors.VERSION_IMMUTABLE
    version.refresh_from_db()
    assert version.bpmn_xml == ""
    assert not AuditEntry.objects.filter(action__startswith="catalog.process").exists()


def test_reset_generated_replaces_custom_process(catalog_admin):
    version = parallel_version()
    process_set_custom(actor=catalog_admin, version=version, bpmn_xml=minimal(GOOD_BODY))

    process_reset_generated(actor=catalog_admin, version=version)

    version.refresh_from_db()
    assert version.bpmn_custom is False
    assert version.bpmn_xml == process_generate(version)
    entry = AuditEntry.objects.get(action="catalog.process_reset_generated")
    assert entry.before is not None
    assert entry.after is not None
    assert (entry.before["bpmn_custom"], entry.after["bpmn_custom"]) == (True, False)


# --- the expression sandbox ---------------------------------------------------------------


def test_custom_process_with_a_condition_routes_on_task_data():
    body = (
        '<bpmn:startEvent id="S"/><bpmn:userTask id="T0" name="受理"/>'
        '<bpmn:exclusiveGateway id="G" default="F3"/>'
        '<bpmn:userTask id="T1" name="集体讨论"/><bpmn:userTask id="T2" name="直接决定"/>'
        '<bpmn:endEvent id="E1"/><bpmn:endEvent id="E2"/>'
        '<bpmn:sequenceFlow id="F0" sourceRef="S" targetRef="T0"/>'
        '<bpmn:sequenceFlow id="F1" sourceRef="T0" targetRef="G"/>'
        '<bpmn:sequenceFlow id="F2" sourceRef="G" targetRef="T1">'
        "<bpmn:conditionExpression>amount &gt; 100 and kind in ['企业', '个体']"
        "</bpmn:conditionExpression></bpmn:sequenceFlow>"
        '<bpmn:sequenceFlow id="F3" sourceRef="G" targetRef="T2"/>'
        '<bpmn:sequenceFlow id="F4" sourceRef="T1" targetRef="E1"/>'
        '<bpmn:sequenceFlow id="F5" sourceRef="T2" targetRef="E2"/>'
    )
    version = ItemVersionFactory(children=False, bpmn_xml=minimal(body), bpmn_custom=True)

    names = []
    for amount in (500, 50):
        workflow = process_workflow(version)
        workflow.do_engine_steps()
        (accept,) = process_ready_tasks(workflow)
        accept.data.update({"amount": amount, "kind": "企业"})
        accept.run()
        workflow.do_engine_steps()
        names.append([t.task_spec.bpmn_name for t in process_ready_tasks(workflow)])

    assert names == [["集体讨论"], ["直接决定"]]


@pytest.mark.parametrize(
    "expression",
    [
        "().__class__.__bases__[0].__subclasses__()",
        "__import__('os')",
        "open('/etc/passwd')",
        "eval('1')",
        "[c for c in 'abc']",
        "lambda: 1",
        "2 ** 1000000",
        "_secret",
    ],
)
def test_sandbox_refuses_escapes(expression):
    with pytest.raises(UnsafeExpression):
        expression_check(expression)


def test_sandbox_has_no_builtins_at_run_time():
    env = SafeEnvironment()

    assert env.evaluate("max(a, 3) >= 3 and true", {"a": 1}) is True
    with pytest.raises(NameError):
        env.evaluate("globals", {})
    with pytest.raises(UnsafeExpression):
        env.execute("x = 1", {})


def test_generated_process_does_not_depend_on_the_request_language():
    version = ItemVersionFactory(children=False)
    chinese = process_generate(version)

    with translation.override("en"):
        assert process_generate(version) == chinese


def test_only_catalog_editors_may_upload_a_process():
    version = ItemVersionFactory()
    approver = staff_with_role(Role.APPROVER, department=DepartmentFactory())
    before = version.bpmn_xml

    with pytest.raises(PermissionDenied):
        process_set_custom(actor=approver, version=version, bpmn_xml=process_generate(version))

    version.refresh_from_db()
    assert version.bpmn_xml == before
    assert version.bpmn_custom is False
    assert not AuditEntry.objects.filter(action="catalog.process_set_custom").exists()


def test_publication_stores_the_process_generated_from_the_final_steps():
    from yiwang.catalog.services import version_publish, version_submit

    editor = staff_with_role(Role.CATALOG_ADMIN, department=DepartmentFactory())
    version = ItemVersionFactory()
    version_submit(actor=editor, version=version)

    reviewer = staff_with_role(Role.CATALOG_ADMIN, department=DepartmentFactory())
    published = version_publish(actor=reviewer, version=version)

    assert published.bpmn_xml == process_generate(published)
    names = [task for stage in run_to_completion(process_workflow(published)) for task in stage]
    assert names == [step.name for step in published.steps.order_by("stage", "sort_order", "id")]
