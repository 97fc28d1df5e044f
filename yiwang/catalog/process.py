"""Processes (BPMN 2.0) and rules (DMN) of an item version, run by SpiffWorkflow (ADR 0005).

* ``process_generate`` writes the standard BPMN process of a version from its ``ProcessStep``
  rows, or, when it has none, from its settings (即办件: one task; 承诺件:
  受理→审查→决定→办结→送达). Steps that share a ``stage`` run in parallel between a parallel
  gateway split and join (并联审批). Each user task carries the step's role, department and
  time limit as ``spiffworkflow:properties``; tasks sit in one lane per department. The
  document carries BPMNDI (a shape per flow node, an edge per flow) so that bpmn.io and Camunda
  Modeler draw it.
* ``process_xml`` is the document a version follows (custom or frozen, else generated);
  ``process_graph`` reads its flow nodes and sequence flows for the guide's picture.
* ``process_validate`` checks uploaded BPMN or DMN and raises ``catalog.bpmn_invalid`` /
  ``catalog.dmn_invalid`` with the parser's reason. It parses with a hardened lxml parser and
  refuses DTDs (hence XXE and entity expansion) and oversize documents before SpiffWorkflow
  sees anything.
* Expressions (sequence-flow conditions, DMN cells) are evaluated by ``SafeScriptEngine``: a
  small whitelisted Python subset without attribute access, imports or builtins, because
  SpiffWorkflow's stock engine calls ``eval``/``exec`` on whatever the document contains.
  Script and service tasks are refused for the same reason.
* Services (draft versions only, audited): ``process_set_custom``, ``process_reset_generated``,
  ``rules_set_dmn``; ``process_freeze`` is called by publication; ``rules_evaluate`` runs the
  decision table on facts.
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from yiwang.catalog import errors
from yiwang.catalog.access import catalog_require_editor
from yiwang.catalog.models import ItemVersion, ProcessStep
from yiwang.core.audit import audit_record
from yiwang.core.errors import Conflict, ValidationError

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
DMN_NAMESPACES = (
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
)
DMN13_NS = DMN_NAMESPACES[2]

# A hand-drawn process of a government service has tens of elements; 1 MB leaves room for
# diagrams (BPMNDI) and documentation while keeping parsing cheap for a web request.
MAX_XML_BYTES = 1_000_000
# Hit policies we evaluate correctly: UNIQUE (we enforce that at most one rule matches, which
# SpiffWorkflow does not), FIRST (first matching rule in table order), COLLECT (lists).
HIT_POLICIES = ("UNIQUE", "FIRST", "COLLECT")

# Role of each standard step kind (accounts.Role values).
KIND_ROLES = {
    ProcessStep.Kind.ACCEPT: "window_clerk",
    ProcessStep.Kind.REVIEW: "approver",
    ProcessStep.Kind.DECIDE: "approver",
    ProcessStep.Kind.CONCLUDE: "window_clerk",
    ProcessStep.Kind.DELIVER: "window_clerk",
    ProcessStep.Kind.OTHER: "",
}

# Elements that would run code or call out of the platform from an uploaded document.
_REFUSED_ELEMENTS = {
    "scriptTask": _("脚本任务（scriptTask）会执行任意代码，不允许上传"),
    "serviceTask": _("服务任务（serviceTask）会调用外部系统，不允许上传"),
    "callActivity": _("调用活动（callActivity）引用平台外的流程，不支持"),
}
_REFUSED_SPIFF_EXTENSIONS = ("preScript", "postScript", "serviceTaskOperator")


# --- the steps a process is made of -------------------------------------------------------


@dataclass(frozen=True)
class StepView:
    """One step of a process as generation and the diagram see it (a row or a standard step)."""

    name: str
    kind: str
    stage: int
    role: str = ""
    department_code: str = ""
    department_name: str = ""
    time_limit: int | None = None
    description: str = ""


def process_steps(version: ItemVersion) -> list[StepView]:
    """The version's steps in order, or the standard steps its settings imply.

    Standard step names are data in Chinese like the rows' names, not translated UI text: the
    stored BPMN must not depend on the language of the request that generated it."""
    rows = list(version.steps.select_related("department").order_by("stage", "sort_order", "id"))
    if rows:
        return [
            StepView(
                name=row.name,
                kind=row.kind,
                stage=row.stage,
                role=row.role or KIND_ROLES.get(ProcessStep.Kind(row.kind), ""),
                department_code=row.department.code if row.department else "",
                department_name=row.department.name if row.department else "",
                time_limit=row.time_limit,
                description=row.description,
            )
            for row in rows
        ]
    dept = version.item.department
    dept_code = dept.code if dept else ""
    dept_name = dept.name if dept else version.dept_name
    if version.project_type == ItemVersion.ProjectType.IMMEDIATE:
        return [
            StepView(
                name="受理并办结",
                kind=ProcessStep.Kind.CONCLUDE,
                stage=0,
                role="window_clerk",
                department_code=dept_code,
                department_name=dept_name,
                time_limit=0,
                description="即办件：窗口当场受理并办结。",
            )
        ]
    standard = [
        (ProcessStep.Kind.ACCEPT, "受理"),
        (ProcessStep.Kind.REVIEW, "审查"),
        (ProcessStep.Kind.DECIDE, "决定"),
        (ProcessStep.Kind.CONCLUDE, "办结"),
        (ProcessStep.Kind.DELIVER, "送达"),
    ]
    return [
        StepView(
            name=label,
            kind=kind,
            stage=index,
            role=KIND_ROLES[kind],
            department_code=dept_code,
            department_name=dept_name,
        )
        for index, (kind, label) in enumerate(standard)
    ]


def process_stages(steps: list[StepView]) -> list[list[StepView]]:
    """Group consecutive steps by ``stage``: a group of two or more runs in parallel."""
    stages: list[list[StepView]] = []
    for step in steps:
        if stages and stages[-1][0].stage == step.stage:
            stages[-1].append(step)
        else:
            stages.append([step])
    return stages


# --- generation ---------------------------------------------------------------------------


def _q(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def _properties(parent: etree._Element, values: Mapping[str, str]) -> None:
    ext = etree.SubElement(parent, _q("extensionElements"))
    props = etree.SubElement(ext, f"{{{SPIFF_NS}}}properties")
    for name, value in values.items():
        etree.SubElement(props, f"{{{SPIFF_NS}}}property", name=name, value=value)


def process_generate(version: ItemVersion) -> str:
    """The standard BPMN 2.0 process of ``version`` as an XML string (UTF-8 declaration).

    Deterministic: the same steps give the same document, so a regenerated process of an
    unchanged version compares equal.
    """
    steps = process_steps(version)
    stages = process_stages(steps)
    process_id = f"Process_{version.item.public_id.hex}_v{version.number}"

    root = etree.Element(
        _q("definitions"),
        nsmap={
            "bpmn": BPMN_NS,
            "bpmndi": BPMNDI_NS,
            "dc": DC_NS,
            "di": DI_NS,
            "spiffworkflow": SPIFF_NS,
        },
        id=f"Definitions_{version.item.public_id.hex}_v{version.number}",
        targetNamespace="https://yiwang.liuan.gov.cn/catalog",
        exporter="yiwang",
        exporterVersion="1",
    )
    process = etree.SubElement(
        root, _q("process"), id=process_id, name=version.name, isExecutable="true"
    )
    _properties(
        process,
        {
            "taskCode": version.item.task_code,
            "versionNumber": str(version.number),
            "projectType": version.project_type,
            "promiseLimit": "" if version.promise_limit is None else str(version.promise_limit),
            "promiseUnit": version.promise_unit,
            "anticipateLimit": (
                "" if version.anticipate_limit is None else str(version.anticipate_limit)
            ),
            "anticipateUnit": version.anticipate_unit,
        },
    )
    lane_set = etree.SubElement(process, _q("laneSet"), id="LaneSet_1")

    # Flow nodes in order; lanes are filled at the end (the schema wants laneSet first).
    nodes: list[tuple[str, str]] = []  # (node id, lane key)
    flows: list[tuple[str, str, str]] = []  # (flow id, source, target)
    incoming: dict[str, list[str]] = {}
    outgoing: dict[str, list[str]] = {}
    elements: dict[str, etree._Element] = {}
    lane_names: dict[str, str] = {}
    default_lane = steps[0].department_code if steps else ""
    lane_names.setdefault(default_lane, steps[0].department_name if steps else version.dept_name)

    # Columns of the diagram (BPMNDI), left to right: a stage is one column, or three for a
    # parallel stage (split gateway, the stacked tasks, join gateway).
    columns: list[list[str]] = [["StartEvent_1"]]

    def add_flow(source: str, target: str) -> None:
        flow_id = f"Flow_{len(flows) + 1}"
        flows.append((flow_id, source, target))
        outgoing.setdefault(source, []).append(flow_id)
        incoming.setdefault(target, []).append(flow_id)

    start = etree.SubElement(process, _q("startEvent"), id="StartEvent_1", name="申请")
    elements["StartEvent_1"] = start
    nodes.append(("StartEvent_1", default_lane))
    previous = "StartEvent_1"
    task_number = 0
    for stage_number, stage in enumerate(stages, start=1):
        tasks: list[str] = []
        for step in stage:
            task_number += 1
            task_id = f"Task_{task_number}"
            task = etree.SubElement(process, _q("userTask"), id=task_id, name=step.name)
            if step.description:
                doc = etree.Element(_q("documentation"))
                doc.text = step.description
                task.insert(0, doc)
            _properties(
                task,
                {
                    "kind": step.kind,
                    "stage": str(step.stage),
                    "role": step.role,
                    "department": step.department_code,
                    "departmentName": step.department_name,
                    # Working days are counted by the platform's WorkCalendar, which a BPMN
                    # timer (ISO 8601 durations in natural time) cannot express.
                    "timeLimit": "" if step.time_limit is None else str(step.time_limit),
                    "timeLimitUnit": "working_day",
                },
            )
            elements[task_id] = task
            lane_key = step.department_code
            lane_names.setdefault(lane_key, step.department_name or version.dept_name)
            nodes.append((task_id, lane_key))
            tasks.append(task_id)
        if len(tasks) == 1:
            add_flow(previous, tasks[0])
            previous = tasks[0]
            columns.append(tasks)
            continue
        split_id, join_id = f"Gateway_{stage_number}_split", f"Gateway_{stage_number}_join"
        split = etree.SubElement(process, _q("parallelGateway"), id=split_id, name="并联办理")
        join = etree.SubElement(process, _q("parallelGateway"), id=join_id, name="汇合")
        elements[split_id], elements[join_id] = split, join
        nodes += [(split_id, default_lane), (join_id, default_lane)]
        add_flow(previous, split_id)
        for task_id in tasks:
            add_flow(split_id, task_id)
            add_flow(task_id, join_id)
        previous = join_id
        columns += [[split_id], tasks, [join_id]]
    end = etree.SubElement(process, _q("endEvent"), id="EndEvent_1", name="结束")
    elements["EndEvent_1"] = end
    nodes.append(("EndEvent_1", default_lane))
    add_flow(previous, "EndEvent_1")
    columns.append(["EndEvent_1"])

    # tFlowNode lists incoming/outgoing after documentation and extensionElements.
    for node_id, element in elements.items():
        for flow_id in incoming.get(node_id, []):
            etree.SubElement(element, _q("incoming")).text = flow_id
        for flow_id in outgoing.get(node_id, []):
            etree.SubElement(element, _q("outgoing")).text = flow_id
    for flow_id, source, target in flows:
        etree.SubElement(
            process, _q("sequenceFlow"), id=flow_id, sourceRef=source, targetRef=target
        )
    for index, (lane_key, lane_name) in enumerate(lane_names.items(), start=1):
        lane = etree.SubElement(lane_set, _q("lane"), id=f"Lane_{index}", name=lane_name)
        for node_id, node_lane in nodes:
            if node_lane == lane_key:
                etree.SubElement(lane, _q("flowNodeRef")).text = node_id
    _diagram_interchange(root, process_id, columns, flows)
    xml: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return xml.decode("utf-8")


# Shape sizes of bpmn.io / Camunda Modeler, so that a generated process opens there looking
# like one drawn by hand: tasks 100×80, gateways 50×50, events 36×36.
_DI_SIZES = {"Task": (100, 80), "Gateway": (50, 50), "StartEvent": (36, 36), "EndEvent": (36, 36)}
_DI_GAP_X = 50  # between columns
_DI_PITCH_Y = 110  # between the centres of parallel tasks stacked in one column
_DI_LEFT, _DI_MIDDLE = 160, 200  # left edge of the first column; the centre line


def _di_size(node_id: str) -> tuple[int, int]:
    return _DI_SIZES[node_id.split("_", 1)[0]]


def _diagram_interchange(
    root: etree._Element,
    process_id: str,
    columns: list[list[str]],
    flows: list[tuple[str, str, str]],
) -> None:
    """Append the BPMNDI section: a shape (bounds) per flow node and an edge (waypoints) per
    sequence flow, left to right by stage, parallel tasks stacked between their gateways.

    Only the diagram of the generated process: modelling tools need it to show anything,
    while the guide page draws its own picture from the process graph (``diagram.py``)."""
    di = etree.SubElement(root, f"{{{BPMNDI_NS}}}BPMNDiagram", id="BPMNDiagram_1")
    plane = etree.SubElement(
        di, f"{{{BPMNDI_NS}}}BPMNPlane", id="BPMNPlane_1", bpmnElement=process_id
    )
    # Centre of every node, from the columns.
    centres: dict[str, tuple[int, int]] = {}
    left = _DI_LEFT
    for column in columns:
        width = max(_di_size(node_id)[0] for node_id in column)
        top = _DI_MIDDLE - (len(column) - 1) * _DI_PITCH_Y // 2
        for index, node_id in enumerate(column):
            centres[node_id] = (left + width // 2, top + index * _DI_PITCH_Y)
        left += width + _DI_GAP_X
    for column in columns:
        for node_id in column:
            (cx, cy), (w, h) = centres[node_id], _di_size(node_id)
            shape = etree.SubElement(
                plane,
                f"{{{BPMNDI_NS}}}BPMNShape",
                id=f"{node_id}_di",
                bpmnElement=node_id,
            )
            etree.SubElement(
                shape,
                f"{{{DC_NS}}}Bounds",
                x=str(cx - w // 2),
                y=str(cy - h // 2),
                width=str(w),
                height=str(h),
            )
    for flow_id, source, target in flows:
        (sx, sy), (sw, sh) = centres[source], _di_size(source)
        (tx, ty), (tw, th) = centres[target], _di_size(target)
        if sy == ty:
            points = [(sx + sw // 2, sy), (tx - tw // 2, ty)]
        elif source.startswith("Gateway"):  # split: leave the diamond at its top or bottom
            points = [(sx, sy + (sh // 2 if ty > sy else -sh // 2)), (sx, ty), (tx - tw // 2, ty)]
        else:  # join: enter the diamond at its top or bottom
            points = [(sx + sw // 2, sy), (tx, sy), (tx, ty + (th // 2 if sy > ty else -th // 2))]
        edge = etree.SubElement(
            plane,
            f"{{{BPMNDI_NS}}}BPMNEdge",
            id=f"{flow_id}_di",
            bpmnElement=flow_id,
        )
        for x, y in points:
            etree.SubElement(edge, f"{{{DI_NS}}}waypoint", x=str(x), y=str(y))


# --- the process as a graph (what the guide page draws) ------------------------------------

# BPMN flow-node elements by what the picture draws for them.
_NODE_KINDS = {
    "startEvent": "start",
    "endEvent": "end",
    "intermediateCatchEvent": "event",
    "intermediateThrowEvent": "event",
    "boundaryEvent": "event",
    "task": "task",
    "userTask": "task",
    "manualTask": "task",
    "serviceTask": "task",
    "sendTask": "task",
    "receiveTask": "task",
    "businessRuleTask": "task",
    "scriptTask": "task",
    "subProcess": "task",
    "callActivity": "task",
    "exclusiveGateway": "exclusive",
    "parallelGateway": "parallel",
    "inclusiveGateway": "inclusive",
    "eventBasedGateway": "gateway",
    "complexGateway": "gateway",
}


@dataclass(frozen=True)
class FlowNode:
    """A flow node of a process: ``kind`` is start, end, event, task, exclusive, parallel,
    inclusive or gateway; ``element`` the BPMN element's local name (userTask, …);
    ``time_limit`` the working days of a task that carries them (generated processes do)."""

    id: str
    kind: str
    element: str
    name: str
    time_limit: int | None = None


@dataclass(frozen=True)
class SequenceFlow:
    id: str
    source: str
    target: str
    name: str = ""


@dataclass(frozen=True)
class ProcessGraph:
    """The flow nodes and sequence flows of a document's executable process, in document
    order (nodes inside sub-processes are not part of it: a sub-process is one node)."""

    name: str
    nodes: tuple[FlowNode, ...]
    flows: tuple[SequenceFlow, ...]


def _time_limit(element: etree._Element) -> int | None:
    values = element.xpath(
        "bpmn:extensionElements/spiffworkflow:properties"
        "/spiffworkflow:property[@name='timeLimit']/@value",
        namespaces={"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS},
    )
    text = str(values[0]).strip() if values else ""
    return int(text) if text.isdigit() and len(text) <= 4 else None


def process_graph(xml: str | bytes) -> ProcessGraph:
    """The graph of a BPMN document's executable process (the first process when none is
    marked executable). Parsed with the hardened parser of uploads; raises
    ``catalog.bpmn_invalid`` (reason empty, too_large, dtd, syntax, not_bpmn, no_process)."""
    root = _safe_parse(xml, "bpmn")
    if root.tag != _q("definitions"):
        raise _invalid(
            "bpmn",
            "not_bpmn",
            _("不是 BPMN 2.0 文档：根元素应为 %(ns)s 命名空间的 definitions，实际为 %(tag)s。")
            % {"ns": BPMN_NS, "tag": root.tag},
        )
    processes = root.findall(_q("process"))
    executable = [p for p in processes if p.get("isExecutable", "true") == "true"]
    if not processes:
        raise _invalid("bpmn", "no_process", _("文档中没有流程（bpmn:process）。"))
    process = (executable or processes)[0]
    nodes: list[FlowNode] = []
    flows: list[SequenceFlow] = []
    for child in process:
        if not isinstance(child.tag, str):
            continue
        qname = etree.QName(child)
        node_id = child.get("id") or ""
        if qname.namespace != BPMN_NS or not node_id:
            continue
        name = " ".join((child.get("name") or "").split())
        if qname.localname == "sequenceFlow":
            flows.append(
                SequenceFlow(
                    id=node_id,
                    source=child.get("sourceRef") or "",
                    target=child.get("targetRef") or "",
                    name=name,
                )
            )
        elif qname.localname in _NODE_KINDS:
            kind = _NODE_KINDS[qname.localname]
            nodes.append(
                FlowNode(
                    id=node_id,
                    kind=kind,
                    element=qname.localname,
                    name=name,
                    time_limit=_time_limit(child) if kind == "task" else None,
                )
            )
    known = {node.id for node in nodes}
    return ProcessGraph(
        name=" ".join((process.get("name") or "").split()),
        nodes=tuple(nodes),
        flows=tuple(f for f in flows if f.source in known and f.target in known),
    )


def process_xml(version: ItemVersion) -> str:
    """The BPMN document the version follows: the stored one when it is custom or was frozen
    by publication, else the one generated from its current steps (a draft's stored copy of a
    generated process may predate its latest steps)."""
    frozen = version.status in (ItemVersion.Status.PUBLISHED, ItemVersion.Status.RETIRED)
    if version.bpmn_xml and (version.bpmn_custom or frozen):
        return version.bpmn_xml
    return process_generate(version)


# --- the expression sandbox ---------------------------------------------------------------


_SAFE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len,
    "min": min,
    "max": max,
    "abs": abs,
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "round": round,
    "sum": sum,
    "any": any,
    "all": all,
}
# FEEL spells these in lower case; accepting them spares authors of tables from other tools.
_SAFE_CONSTANTS = {"true": True, "false": False, "null": None, "True": True, "False": False}
_ALLOWED_NODES = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.BinOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.FloorDiv,
    ast.Mod,
    ast.Compare,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
    ast.Is,
    ast.IsNot,
    ast.IfExp,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.List,
    ast.Tuple,
    ast.Set,
    ast.Dict,
    ast.Subscript,
    ast.Slice,
    ast.Call,
)
_MAX_EXPRESSION_CHARS = 2000


class UnsafeExpression(ValueError):
    """An expression uses something outside the sandbox's subset of Python."""


def expression_check(expression: str) -> ast.Expression:
    """Parse ``expression`` and refuse anything but literals, names, arithmetic, comparisons,
    boolean logic and calls of a few pure functions. Raises SyntaxError or UnsafeExpression."""
    if len(expression) > _MAX_EXPRESSION_CHARS:
        raise UnsafeExpression(f"expression longer than {_MAX_EXPRESSION_CHARS} characters")
    tree = ast.parse(expression.strip(), mode="eval")
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise UnsafeExpression(f"'{type(node).__name__}' is not allowed in an expression")
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise UnsafeExpression(f"name '{node.id}' is not allowed")
        if isinstance(node, ast.Call) and (
            not isinstance(node.func, ast.Name)
            or node.func.id not in _SAFE_FUNCTIONS
            or node.keywords
        ):
            raise UnsafeExpression(
                "only len, min, max, abs, int, float, str, bool, round, sum, "
                "any and all may be called"
            )
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str | bytes)
            and len(node.value) > _MAX_EXPRESSION_CHARS
        ):
            raise UnsafeExpression("string constant too long")
    return tree


@lru_cache(maxsize=4096)
def _compiled(expression: str) -> Any:
    return compile(expression_check(expression), "<expression>", "eval")


class SafeEnvironment(BasePythonScriptEngineEnvironment):  # type: ignore[misc]
    """Evaluates whitelisted expressions over the task data; refuses scripts."""

    def evaluate(
        self,
        expression: str,
        context: dict[str, Any],
        external_context: dict[str, Any] | None = None,
    ) -> Any:
        scope: dict[str, Any] = {"__builtins__": {}, **_SAFE_FUNCTIONS, **_SAFE_CONSTANTS}
        scope.update(external_context or {})
        scope.update({k: v for k, v in context.items() if not k.startswith("_")})
        return eval(_compiled(expression), scope)  # noqa: S307 (whitelisted AST, no builtins)

    def execute(
        self,
        script: str,
        context: dict[str, Any],
        external_context: dict[str, Any] | None = None,
    ) -> bool:
        raise UnsafeExpression("scripts are not allowed in catalog processes")

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        raise UnsafeExpression("service calls are not allowed in catalog processes")


class SafeScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(environment=SafeEnvironment())


# --- validation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedProcess:
    """What a valid BPMN or DMN document contains.

    BPMN: ``id``/``name`` of the executable process, ``tasks`` the names of its tasks in
    document order, ``spec`` the SpiffWorkflow ``BpmnProcessSpec``.
    DMN: ``id``/``name`` of the decision, ``inputs`` the input expressions (usually the fact
    names), ``outputs`` the output names,
    ``rule_count``, ``hit_policy``, ``spec`` the SpiffWorkflow ``DecisionTable``.
    """

    kind: str
    id: str
    name: str
    spec: Any
    tasks: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    rule_count: int = 0
    hit_policy: str = ""
    warnings: tuple[str, ...] = field(default_factory=tuple)


def _invalid(kind: str, reason: str, message: Any, **extra: Any) -> ValidationError:
    code = errors.BPMN_INVALID if kind == "bpmn" else errors.DMN_INVALID
    return ValidationError(code, message, reason=reason, **extra)


def _safe_parse(xml: str | bytes, kind: str) -> etree._Element:
    """Parse untrusted XML: size limit, no DTD, no entities, no network."""
    label = "BPMN" if kind == "bpmn" else "DMN"
    raw = xml.encode("utf-8") if isinstance(xml, str) else xml
    if not raw.strip():
        raise _invalid(kind, "empty", _("%(k)s 文件为空。") % {"k": label})
    if len(raw) > MAX_XML_BYTES:
        raise _invalid(
            kind,
            "too_large",
            _("%(k)s 文件过大（%(n)d 字节），上限为 %(limit)d 字节。")
            % {"k": label, "n": len(raw), "limit": MAX_XML_BYTES},
            limit=MAX_XML_BYTES,
        )
    # A DTD is never needed in BPMN or DMN and is how XXE and entity bombs arrive: refuse it
    # before parsing rather than trusting every parser flag to neutralise it.
    if re.search(rb"<!DOCTYPE|<!ENTITY", raw, re.IGNORECASE):
        raise _invalid(
            kind, "dtd", _("%(k)s 文件不得包含 DTD 或实体声明（<!DOCTYPE>）。") % {"k": label}
        )
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or 0
        raise _invalid(
            kind,
            "syntax",
            _("XML 语法错误（第 %(line)d 行）：%(msg)s") % {"line": line, "msg": exc.msg},
            line=line,
        ) from exc
    if root.getroottree().docinfo.doctype:
        raise _invalid(kind, "dtd", _("%(k)s 文件不得包含 DTD。") % {"k": label})
    return root


def _line_of(root: etree._Element, exc: ValidationException) -> int:
    line = getattr(exc, "line_number", "")
    if isinstance(line, int) and line > 0:
        return line
    node_id = getattr(exc, "id", "")
    if node_id:
        found = root.xpath("//*[@id=$id]", id=node_id)
        if found:
            return int(found[0].sourceline or 0)
    return 0


def _spiff_message(exc: Exception) -> str:
    text = str(exc)
    notes = getattr(exc, "__notes__", None)
    if notes:
        text = f"{text} ({'; '.join(str(n) for n in notes)})"
    return text


def _spiff_invalid(kind: str, root: etree._Element, exc: Exception) -> ValidationError:
    line = _line_of(root, exc) if isinstance(exc, ValidationException) else 0
    where = _("（第 %(line)d 行）") % {"line": line} if line else ""
    return _invalid(
        kind,
        "spiff",
        _("%(k)s 校验失败%(where)s：%(msg)s")
        % {"k": "BPMN" if kind == "bpmn" else "DMN", "where": where, "msg": _spiff_message(exc)},
        line=line,
    )


def _check_expression_text(kind: str, text: str, where: str, line: int) -> None:
    try:
        expression_check(text)
    except (SyntaxError, UnsafeExpression) as exc:
        raise _invalid(
            kind,
            "expression",
            _("%(where)s的表达式“%(expr)s”不被允许：%(msg)s")
            % {"where": where, "expr": text[:200], "msg": getattr(exc, "msg", None) or str(exc)},
            line=line,
        ) from exc


def _validate_bpmn(root: etree._Element) -> ParsedProcess:
    if root.tag != _q("definitions"):
        raise _invalid(
            "bpmn",
            "not_bpmn",
            _("不是 BPMN 2.0 文档：根元素应为 %(ns)s 命名空间的 definitions，实际为 %(tag)s。")
            % {"ns": BPMN_NS, "tag": root.tag},
        )
    ns = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}
    for local, reason in _REFUSED_ELEMENTS.items():
        found = root.xpath(f"//bpmn:{local}", namespaces=ns)
        if found:
            raise _invalid("bpmn", "unsafe", reason, line=int(found[0].sourceline or 0))
    for ext in _REFUSED_SPIFF_EXTENSIONS:
        found = root.xpath(f"//spiffworkflow:{ext}", namespaces=ns)
        if found:
            raise _invalid(
                "bpmn",
                "unsafe",
                _("扩展元素 spiffworkflow:%(e)s 会执行代码，不允许上传。") % {"e": ext},
                line=int(found[0].sourceline or 0),
            )
    for expr in root.xpath(
        "//bpmn:conditionExpression | //bpmn:timeDuration | //bpmn:timeDate | //bpmn:timeCycle",
        namespaces=ns,
    ):
        if (expr.text or "").strip():
            _check_expression_text(
                "bpmn", expr.text, _("第 %(l)d 行") % {"l": expr.sourceline}, expr.sourceline
            )
    parser = SpiffBpmnParser(validator=VALIDATOR)
    try:
        parser.add_bpmn_xml(root, filename="upload.bpmn")
        process_ids = parser.get_process_ids()
        if not process_ids:
            raise _invalid(
                "bpmn",
                "no_process",
                _('文档中没有可执行的流程（bpmn:process 需 isExecutable="true"）。'),
            )
        if len(process_ids) > 1:
            raise _invalid(
                "bpmn",
                "many_processes",
                _("文档中有 %(n)d 个可执行流程（%(ids)s），每个事项只能有一个。")
                % {"n": len(process_ids), "ids": "、".join(process_ids)},
            )
        spec = parser.get_spec(process_ids[0])
        subprocesses = parser.get_subprocess_specs(process_ids[0])
        # Instantiating proves the spec is runnable (SpiffWorkflow resolves every reference).
        BpmnWorkflow(spec, subprocesses, script_engine=SafeScriptEngine())
    except ValidationError:
        raise
    except (SpiffWorkflowException, etree.LxmlError, KeyError, ValueError, TypeError) as exc:
        raise _spiff_invalid("bpmn", root, exc) from exc
    tasks = tuple(
        str(node.get("name") or node.get("id"))
        for node in root.xpath(
            "//bpmn:process[@isExecutable='true' or not(@isExecutable)]"
            "//*[self::bpmn:userTask or self::bpmn:manualTask or self::bpmn:task]",
            namespaces=ns,
        )
    )
    return ParsedProcess(
        kind="bpmn", id=process_ids[0], name=str(spec.description or ""), spec=spec, tasks=tasks
    )


def _validate_dmn(root: etree._Element) -> tuple[ParsedProcess, SpiffBpmnParser]:
    namespace = etree.QName(root).namespace
    if etree.QName(root).localname != "definitions" or namespace not in DMN_NAMESPACES:
        raise _invalid(
            "dmn",
            "not_dmn",
            _("不是 DMN 文档：根元素应为 DMN 1.1–1.3 命名空间的 definitions，实际为 %(tag)s。")
            % {"tag": root.tag},
        )
    parser = SpiffBpmnParser(validator=VALIDATOR)
    try:
        parser.add_dmn_xml(root, filename="upload.dmn")
        dmn_parser = next(iter(parser.dmn_parsers.values()))
        dmn_parser.parse()
    except (
        SpiffWorkflowException,
        etree.LxmlError,
        KeyError,
        ValueError,
        TypeError,
        IndexError,
    ) as exc:
        raise _spiff_invalid("dmn", root, exc) from exc
    decision = dmn_parser.decision
    if not decision.decisionTables:
        raise _invalid("dmn", "no_table", _("决策“%(d)s”中没有决策表。") % {"d": decision.id})
    table = decision.decisionTables[0]
    if table.hit_policy not in HIT_POLICIES:
        raise _invalid(
            "dmn",
            "hit_policy",
            _("不支持的命中策略 %(p)s，可用：%(ok)s。")
            % {"p": table.hit_policy, "ok": "、".join(HIT_POLICIES)},
        )
    if not table.inputs or not table.outputs:
        raise _invalid("dmn", "columns", _("决策表至少需要一个输入列和一个输出列。"))
    for column in table.inputs:
        if column.expression:
            _check_expression_text(
                "dmn", column.expression, _("输入列“%(c)s”") % {"c": column.label or column.id}, 0
            )
    for rule in table.rules:
        where = _("第 %(r)d 条规则") % {"r": rule.row_number}
        for entry in rule.inputEntries:
            for text in entry.lhs:
                if text is None or not text.strip():
                    continue
                # A cell is either a full expression ("'退休'", "?>=60") or an operator and
                # operand the engine prefixes with the input ("> 60", "in ['a','b']").
                cell = text.replace("?", "dmninputexpr")
                try:
                    expression_check(cell)
                except SyntaxError:
                    _check_expression_text("dmn", f"v {cell}", where, 0)
                except UnsafeExpression:
                    _check_expression_text("dmn", cell, where, 0)
        for out in rule.outputEntries:
            if out.text and out.text.strip():
                _check_expression_text("dmn", out.text, where, 0)
    parsed = ParsedProcess(
        kind="dmn",
        id=str(decision.id),
        name=str(decision.name or ""),
        spec=table,
        inputs=tuple(str(c.expression or c.name or c.label or c.id) for c in table.inputs),
        outputs=tuple(str(c.name or c.label or c.id) for c in table.outputs),
        rule_count=len(table.rules),
        hit_policy=table.hit_policy,
    )
    return parsed, parser


def process_validate(xml: str | bytes, *, kind: str) -> ParsedProcess:
    """Parse and check a BPMN 2.0 (``kind="bpmn"``) or DMN (``kind="dmn"``) document.

    Raises ``ValidationError`` ``catalog.bpmn_invalid`` / ``catalog.dmn_invalid`` whose message
    carries the parser's reason and whose extra ``reason`` is one of: empty, too_large, dtd,
    syntax, not_bpmn, not_dmn, unsafe, expression, no_process, many_processes, spiff,
    no_table, hit_policy, columns (``line`` when known).
    """
    if kind not in ("bpmn", "dmn"):
        raise ValueError(f"kind must be 'bpmn' or 'dmn', not {kind!r}")
    root = _safe_parse(xml, kind)
    if kind == "bpmn":
        return _validate_bpmn(root)
    return _validate_dmn(root)[0]


# --- running ------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _bpmn_specs(xml: str) -> tuple[Any, dict[str, Any]]:
    parsed = process_validate(xml, kind="bpmn")
    return parsed.spec, {}


def process_workflow(version: ItemVersion) -> BpmnWorkflow:
    """A new SpiffWorkflow instance of the version's process (its stored BPMN, or the
    generated one while none is stored), with the expression sandbox as script engine."""
    xml = version.bpmn_xml or process_generate(version)
    spec, subprocesses = _bpmn_specs(xml)
    return BpmnWorkflow(spec, subprocesses, script_engine=SafeScriptEngine())


def process_ready_tasks(workflow: BpmnWorkflow) -> list[Any]:
    """The user and manual tasks waiting for a person, in a stable order."""
    tasks = workflow.get_tasks(state=TaskState.READY, manual=True)
    return sorted(tasks, key=lambda t: t.task_spec.bpmn_id or "")


# --- services -----------------------------------------------------------------------------


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest() if text else ""


def _lock_draft(version: ItemVersion, *, actor: Any) -> ItemVersion:
    if not isinstance(actor, str):  # a named system actor ("system:import") is trusted
        catalog_require_editor(actor)
    locked = ItemVersion.objects.select_for_update().select_related("item").get(pk=version.pk)
    if locked.status != ItemVersion.Status.DRAFT:
        raise Conflict(
            errors.VERSION_IMMUTABLE,
            _("版本 v%(n)d 状态为“%(s)s”，只有草稿版本可以修改。")
            % {"n": locked.number, "s": locked.get_status_display()},
        )
    return locked


def _copy_back(source: ItemVersion, target: ItemVersion, fields: list[str]) -> None:
    for name in fields:
        setattr(target, name, getattr(source, name))


@transaction.atomic
def process_set_custom(*, actor: Any, version: ItemVersion, bpmn_xml: str) -> ItemVersion:
    """Store an uploaded BPMN process for a draft version (refused with the parser's reason)."""
    parsed = process_validate(bpmn_xml, kind="bpmn")
    locked = _lock_draft(version, actor=actor)
    before = {"bpmn_custom": locked.bpmn_custom, "bpmn_sha256": _digest(locked.bpmn_xml)}
    locked.bpmn_xml = bpmn_xml
    locked.bpmn_custom = True
    locked.save(update_fields=["bpmn_xml", "bpmn_custom", "updated_at"])
    audit_record(
        actor=actor,
        action="catalog.process_set_custom",
        obj=locked,
        before=before,
        after={
            "bpmn_custom": True,
            "bpmn_sha256": _digest(bpmn_xml),
            "process_id": parsed.id,
            "tasks": list(parsed.tasks),
        },
    )
    _copy_back(locked, version, ["bpmn_xml", "bpmn_custom", "updated_at"])
    return locked


@transaction.atomic
def process_reset_generated(*, actor: Any, version: ItemVersion) -> ItemVersion:
    """Drop a custom process and go back to the one generated from the steps/settings."""
    locked = _lock_draft(version, actor=actor)
    before = {"bpmn_custom": locked.bpmn_custom, "bpmn_sha256": _digest(locked.bpmn_xml)}
    locked.bpmn_xml = process_generate(locked)
    locked.bpmn_custom = False
    locked.save(update_fields=["bpmn_xml", "bpmn_custom", "updated_at"])
    audit_record(
        actor=actor,
        action="catalog.process_reset_generated",
        obj=locked,
        before=before,
        after={"bpmn_custom": False, "bpmn_sha256": _digest(locked.bpmn_xml)},
    )
    _copy_back(locked, version, ["bpmn_xml", "bpmn_custom", "updated_at"])
    return locked


def process_freeze(version: ItemVersion) -> None:
    """Called by publication inside its transaction, before the status changes: a generated
    process is regenerated from the final steps and stored; a custom one is re-validated.
    Saves ``bpmn_xml`` only; the caller's audit row covers the publication."""
    if version.bpmn_custom and version.bpmn_xml:
        process_validate(version.bpmn_xml, kind="bpmn")
        return
    xml = process_generate(version)
    if xml != version.bpmn_xml:
        version.bpmn_xml = xml
        version.save(update_fields=["bpmn_xml"])


@transaction.atomic
def rules_set_dmn(*, actor: Any, version: ItemVersion, dmn_xml: str) -> ItemVersion:
    """Store (or, with an empty string, remove) the version's DMN decision table."""
    parsed = process_validate(dmn_xml, kind="dmn") if dmn_xml.strip() else None
    locked = _lock_draft(version, actor=actor)
    before = {"dmn_sha256": _digest(locked.dmn_xml)}
    locked.dmn_xml = dmn_xml if parsed else ""
    locked.save(update_fields=["dmn_xml", "updated_at"])
    after: dict[str, Any] = {"dmn_sha256": _digest(locked.dmn_xml)}
    if parsed:
        after |= {
            "decision": parsed.id,
            "hit_policy": parsed.hit_policy,
            "rules": parsed.rule_count,
        }
    audit_record(
        actor=actor,
        action="catalog.rules_set_dmn" if parsed else "catalog.rules_cleared",
        obj=locked,
        before=before,
        after=after,
    )
    _copy_back(locked, version, ["dmn_xml", "updated_at"])
    return locked


# --- rules --------------------------------------------------------------------------------


class _StrictEngine(DMNEngine):  # type: ignore[misc]
    """SpiffWorkflow's engine, but UNIQUE means unique: two matching rules are an error in the
    table (SpiffWorkflow silently takes the first, which is FIRST)."""

    def decide(self, task: Any) -> list[Any]:
        table = self.decision_table
        if table.hit_policy != "UNIQUE":
            return list(super().decide(task))
        check = self._DMNEngine__check_rule
        matched = [rule for rule in table.rules if check(rule, task)]
        if len(matched) > 1:
            rows = "、".join(str(rule.row_number) for rule in matched)
            raise RuleConflict(rows)
        return matched

    def evaluate(self, input_expr: str, match_expr: str | None, task: Any) -> Any:
        # SpiffWorkflow 3.2 joins input and cell without a space, so a cell "not in ['a']"
        # becomes "reasonnot in ['a']"; this is its method with the space added.
        if match_expr is None:
            return True
        engine = task.workflow.script_engine
        match_expr = re.sub(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)", "dmninputexpr", match_expr)
        if "dmninputexpr" in match_expr:
            context = {"dmninputexpr": engine.evaluate(task, input_expr)}
            return engine.evaluate(task, match_expr, external_context=context)
        engine.validate(input_expr)
        if self.needs_eq(engine, match_expr):
            return engine.evaluate(task, f"({input_expr}) == ({match_expr})")
        return engine.evaluate(task, f"({input_expr}) {match_expr}")


class RuleConflict(Exception):
    pass


_RULES_PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="{bpmn}" xmlns:spiffworkflow="{spiff}" id="RulesDefinitions" targetNamespace="https://yiwang.liuan.gov.cn/rules">
  <bpmn:process id="Rules" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1"/>
    <bpmn:businessRuleTask id="Task_Decide" name="decide">
      <bpmn:extensionElements><spiffworkflow:calledDecisionId>{decision}</spiffworkflow:calledDecisionId></bpmn:extensionElements>
    </bpmn:businessRuleTask>
    <bpmn:endEvent id="EndEvent_1"/>
    <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Task_Decide"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Task_Decide" targetRef="EndEvent_1"/>
  </bpmn:process>
</bpmn:definitions>
"""


@lru_cache(maxsize=64)
def _rules_spec(dmn_xml: str) -> tuple[Any, tuple[str, ...]]:
    parsed, parser = _validate_dmn(_safe_parse(dmn_xml, "dmn"))
    # The decision id went through the DMN schema (an xsd:ID), so it is a safe NCName.
    wrapper = _RULES_PROCESS.format(bpmn=BPMN_NS, spiff=SPIFF_NS, decision=parsed.id)
    parser.add_bpmn_xml(etree.fromstring(wrapper.encode("utf-8")), filename="rules.bpmn")
    spec = parser.get_spec("Rules")
    task_spec = spec.task_specs["Task_Decide"]
    task_spec.dmnEngine = _StrictEngine(task_spec.dmnEngine.decision_table)
    return spec, parsed.outputs


_FACT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


def _check_facts(facts: Mapping[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for name, value in facts.items():
        if not isinstance(name, str) or not _FACT_NAME.match(name) or name in _SAFE_FUNCTIONS:
            raise ValidationError(
                errors.FACTS_INVALID,
                _("事实名称“%(n)s”无效：须以字母开头，只含字母、数字和下划线。") % {"n": name},
            )
        if not isinstance(value, str | int | float | bool | list | tuple | type(None)):
            raise ValidationError(
                errors.FACTS_INVALID,
                _("事实“%(n)s”的值类型不受支持。") % {"n": name},
            )
        clean[name] = list(value) if isinstance(value, tuple) else value
    return clean


def rules_evaluate(version: ItemVersion, facts: Mapping[str, Any]) -> dict[str, Any]:
    """Evaluate the version's DMN decision table on ``facts`` with SpiffWorkflow's DMN engine.

    Returns the outputs of the matching rule (``{}`` if none matches; lists under COLLECT).
    Raises ``catalog.dmn_missing`` when the version has no table, ``catalog.facts_invalid``
    for unusable facts and ``catalog.rules_failed`` when the table cannot be evaluated on them
    (a missing fact, two rules matching under UNIQUE).
    """
    if not version.dmn_xml.strip():
        raise ValidationError(errors.DMN_MISSING, _("该事项版本没有配置 DMN 决策表。"))
    data = _check_facts(facts)
    spec, outputs = _rules_spec(version.dmn_xml)
    workflow = BpmnWorkflow(spec, script_engine=SafeScriptEngine())
    workflow.data.update(data)
    start = workflow.get_tasks(state=TaskState.READY)
    for task in start:
        task.data.update(data)
    try:
        workflow.do_engine_steps()
    except Exception as exc:  # SpiffWorkflow wraps rule errors in its own exceptions
        cause: BaseException | None = exc
        while cause is not None and not isinstance(cause, RuleConflict | NameError):
            cause = cause.__cause__ or getattr(cause, "exception", None) or cause.__context__
        if isinstance(cause, RuleConflict):
            message = _("命中策略为 UNIQUE，但第 %(rows)s 条规则同时匹配。") % {"rows": cause}
        elif isinstance(cause, NameError):
            message = _("缺少事实：%(msg)s") % {"msg": cause}
        else:
            message = _("决策表无法计算：%(msg)s") % {"msg": _spiff_message(exc)}
        raise ValidationError(errors.RULES_FAILED, message) from exc
    if not workflow.completed:
        raise ValidationError(errors.RULES_FAILED, _("决策表未能完成计算。"))
    result = workflow.data if workflow.data else workflow.last_task.data
    return {name: result[name] for name in outputs if name in result}
