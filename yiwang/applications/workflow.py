"""The approval process of an application, run by SpiffWorkflow (ADR 0005).

* A single-item application runs its pinned version's process (``process_workflow``).
* A bundle (一件事) runs a process generated here from its pinned member versions: one user
  task per department and stage (members of one department in one stage share a task),
  stages in order, the tasks of a stage between a parallel split and join (并联办理). A bundle
  with ``dispatch=parallel`` has one stage.
* The state is stored on the application with SpiffWorkflow's JSON serializer (spec included),
  so a later change of the catalog never changes a running case.

Ready user tasks carry ``spiffworkflow:properties`` (kind, role, department, timeLimit) as the
catalog's generator writes them; ``ready_tasks`` reads them into ``ReadyTask`` values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from uuid import UUID

from lxml import etree
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from yiwang.catalog.models import Bundle, ItemVersion
from yiwang.catalog.process import (
    BPMN_NS,
    SPIFF_NS,
    SafeScriptEngine,
    process_ready_tasks,
    process_validate,
    process_workflow,
)

_serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))

# Step kinds that the window does as part of the application's own transitions (受理 at
# acceptance, 办结 and 送达 at conclusion and issuance): the engine completes them itself.
WINDOW_KINDS = frozenset({"accept", "conclude", "deliver"})


@dataclass(frozen=True)
class ReadyTask:
    spiff_id: UUID
    bpmn_id: str
    name: str
    kind: str
    role: str
    department_code: str
    time_limit: int | None


def workflow_dump(workflow: BpmnWorkflow) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_serializer.serialize_json(workflow))
    return data


def workflow_load(state: dict[str, Any]) -> BpmnWorkflow:
    workflow = _serializer.deserialize_json(json.dumps(state))
    workflow.script_engine = SafeScriptEngine()
    return workflow


def _task_name(bpmn_name: str, department_name: str) -> str:
    """A task's name without the "<department>：" that bundle processes generated before the
    department was left out of it (their specs are stored with the running cases)."""
    prefix = f"{department_name}："
    if department_name and bpmn_name.startswith(prefix) and len(bpmn_name) > len(prefix):
        return bpmn_name[len(prefix) :]
    return bpmn_name


def ready_tasks(workflow: BpmnWorkflow) -> list[tuple[ReadyTask, Any]]:
    found = []
    for task in process_ready_tasks(workflow):
        props = (getattr(task.task_spec, "extensions", None) or {}).get("properties", {})
        limit = str(props.get("timeLimit", "")).strip()
        name = str(task.task_spec.bpmn_name or task.task_spec.bpmn_id or "")
        found.append(
            (
                ReadyTask(
                    spiff_id=task.id,
                    bpmn_id=str(task.task_spec.bpmn_id or ""),
                    name=_task_name(name, str(props.get("departmentName", ""))),
                    kind=str(props.get("kind", "")),
                    role=str(props.get("role", "")) or "approver",
                    department_code=str(props.get("department", "")),
                    time_limit=int(limit) if limit.isdigit() else None,
                ),
                task,
            )
        )
    return found


def workflow_for_version(version: ItemVersion) -> BpmnWorkflow:
    return process_workflow(version)


# --- bundles ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BundleTask:
    stage: int
    department_code: str
    department_name: str
    name: str
    time_limit: int | None


def bundle_tasks(bundle: Bundle, members: list[dict[str, Any]]) -> list[BundleTask]:
    """One task per (stage, department) over the pinned members, in stage order."""
    parallel = bundle.dispatch == Bundle.Dispatch.PARALLEL
    grouped: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for member in members:
        stage = 0 if parallel else int(member["stage"])
        grouped.setdefault((stage, member["department_code"]), []).append(member)
    tasks = []
    for (stage, code), rows in sorted(grouped.items(), key=lambda kv: kv[0][0]):
        limits = [r["time_limit"] for r in rows if r.get("time_limit") is not None]
        tasks.append(
            BundleTask(
                stage=stage,
                department_code=code,
                department_name=rows[0]["department_name"],
                # the department is the task's own column on every page: not in its name
                name="、".join(r["name"] for r in rows),
                time_limit=max(limits) if limits else None,
            )
        )
    return tasks


def _q(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def bundle_process_xml(bundle: Bundle, members: list[dict[str, Any]]) -> str:
    """The BPMN 2.0 process of a bundle application (see the module docstring)."""
    root = etree.Element(
        _q("definitions"),
        nsmap={"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS},
        id=f"Definitions_bundle_{bundle.code.replace('-', '_')}",
        targetNamespace="https://yiwang.liuan.gov.cn/applications",
    )
    process = etree.SubElement(
        root, _q("process"), id=f"Bundle_{bundle.public_id.hex}", name=bundle.name
    )
    process.set("isExecutable", "true")
    flows: list[tuple[str, str]] = []
    etree.SubElement(process, _q("startEvent"), id="StartEvent_1")
    previous = "StartEvent_1"
    tasks = bundle_tasks(bundle, members)
    stages: dict[int, list[BundleTask]] = {}
    for task in tasks:
        stages.setdefault(task.stage, []).append(task)
    number = 0
    for stage_number, (_stage, stage_tasks) in enumerate(sorted(stages.items()), start=1):
        ids = []
        for task in stage_tasks:
            number += 1
            task_id = f"Task_{number}"
            element = etree.SubElement(process, _q("userTask"), id=task_id, name=task.name)
            ext = etree.SubElement(element, _q("extensionElements"))
            props = etree.SubElement(ext, f"{{{SPIFF_NS}}}properties")
            values = {
                "kind": "decide",
                "role": "approver",
                "department": task.department_code,
                "departmentName": task.department_name,
                "timeLimit": "" if task.time_limit is None else str(task.time_limit),
            }
            for name, value in values.items():
                etree.SubElement(props, f"{{{SPIFF_NS}}}property", name=name, value=value)
            ids.append(task_id)
        if len(ids) == 1:
            flows.append((previous, ids[0]))
            previous = ids[0]
            continue
        split, join = f"Gateway_{stage_number}_split", f"Gateway_{stage_number}_join"
        etree.SubElement(process, _q("parallelGateway"), id=split, name="并联办理")
        etree.SubElement(process, _q("parallelGateway"), id=join, name="汇合")
        flows.append((previous, split))
        for task_id in ids:
            flows += [(split, task_id), (task_id, join)]
        previous = join
    etree.SubElement(process, _q("endEvent"), id="EndEvent_1")
    flows.append((previous, "EndEvent_1"))
    for index, (source, target) in enumerate(flows, start=1):
        etree.SubElement(
            process, _q("sequenceFlow"), id=f"Flow_{index}", sourceRef=source, targetRef=target
        )
    xml: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return xml.decode("utf-8")


@lru_cache(maxsize=64)
def _spec(xml: str) -> Any:
    return process_validate(xml, kind="bpmn").spec


def workflow_for_bundle(bundle: Bundle, members: list[dict[str, Any]]) -> BpmnWorkflow:
    return BpmnWorkflow(
        _spec(bundle_process_xml(bundle, members)), {}, script_engine=SafeScriptEngine()
    )
