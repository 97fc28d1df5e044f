"""The process in BPMNDI (generated processes), the SVG picture of the guide page drawn from the
version's BPMN (yiwang.catalog.diagram), and process_freeze at publication."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser

from yiwang.catalog.diagram import MAX_NODES, process_svg
from yiwang.catalog.models import ItemVersion, ProcessStep
from yiwang.catalog.process import (
    BPMN_NS,
    BPMNDI_NS,
    DC_NS,
    DI_NS,
    SPIFF_NS,
    process_freeze,
    process_generate,
    process_graph,
    process_validate,
)
from yiwang.catalog.tests.factories import (
    ItemVersionFactory,
    ProcessStepFactory,
    PublishedVersionFactory,
)
from yiwang.core.errors import ValidationError

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"
NS = {"bpmn": BPMN_NS, "bpmndi": BPMNDI_NS, "dc": DC_NS, "di": DI_NS}


def parse(svg: str | None) -> etree._Element:
    assert svg is not None
    return etree.fromstring(svg.encode("utf-8"))


def texts(root: etree._Element) -> list[str]:
    return [t.text for t in root.iter(f"{SVG}text")]


def boxes(root: etree._Element) -> dict[str, tuple[float, float, float, float]]:
    """Task boxes by the full name in their <title>: (left, top, right, bottom)."""
    found = {}
    for group in root.iter(f"{SVG}g"):
        rect, title = group.find(f"{SVG}rect"), group.find(f"{SVG}title")
        if rect is not None and title is not None:
            x, y = float(rect.get("x")), float(rect.get("y"))
            found[title.text] = (x, y, x + float(rect.get("width")), y + float(rect.get("height")))
    return found


def lines(root: etree._Element) -> list[list[tuple[float, float]]]:
    """The points of every arrow (a flow), in order."""
    return [
        [(float(x), float(y)) for x, y in re.findall(r"[ML](-?[\d.]+),(-?[\d.]+)", path.get("d"))]
        for path in root.iter(f"{SVG}path")
        if path.get("marker-end")
    ]


def crosses(line: list[tuple[float, float]], box: tuple[float, float, float, float]) -> bool:
    """Whether an orthogonal line passes through the inside of a box (touching is fine)."""
    left, top, right, bottom = box
    for (x1, y1), (x2, y2) in pairwise(line):
        if y1 == y2 and top < y1 < bottom and min(x1, x2) < right and max(x1, x2) > left:
            return True
        if x1 == x2 and left < x1 < right and min(y1, y2) < bottom and max(y1, y2) > top:
            return True
    return False


def bpmn(body: str) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="{BPMN_NS}" '
        f'xmlns:spiffworkflow="{SPIFF_NS}" id="Definitions_1" targetNamespace="https://example.org">\n'
        f'<bpmn:process id="P" name="自定义流程" isExecutable="true">\n{body}\n</bpmn:process>\n'
        "</bpmn:definitions>\n"
    )


def flow(flow_id: str, source: str, target: str, name: str = "", condition: str = "") -> str:
    label = f' name="{name}"' if name else ""
    if condition:
        return (
            f'<bpmn:sequenceFlow id="{flow_id}"{label} sourceRef="{source}" targetRef="{target}">'
            f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>"
        )
    return f'<bpmn:sequenceFlow id="{flow_id}"{label} sourceRef="{source}" targetRef="{target}"/>'


# 受理 → 审查 → 通过？ 是 → 决定 → (制证 ∥ 通知领证) → 办结; 否 → 退回补正 → back to 审查.
REVIEW_LOOP = bpmn(
    '<bpmn:startEvent id="S" name="提交申请"/>'
    '<bpmn:userTask id="A" name="受理"/>'
    '<bpmn:userTask id="R" name="审查"><bpmn:extensionElements><spiffworkflow:properties>'
    '<spiffworkflow:property name="timeLimit" value="3"/>'
    "</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>"
    '<bpmn:exclusiveGateway id="G" name="通过？"/>'
    '<bpmn:userTask id="D" name="决定"/>'
    '<bpmn:manualTask id="B" name="退回补正"/>'
    '<bpmn:parallelGateway id="P1"/>'
    '<bpmn:userTask id="X" name="制证"/>'
    '<bpmn:userTask id="Y" name="通知申请人领取证照"/>'
    '<bpmn:parallelGateway id="P2"/>'
    '<bpmn:endEvent id="E" name="办结"/>'
    + flow("F1", "S", "A")
    + flow("F2", "A", "R")
    + flow("F3", "R", "G")
    + flow("F4", "G", "D", "是", "approved")
    + flow("F5", "G", "B", "否", "not approved")
    + flow("F6", "B", "R")
    + flow("F7", "D", "P1")
    + flow("F8", "P1", "X")
    + flow("F9", "P1", "Y")
    + flow("F10", "X", "P2")
    + flow("F11", "Y", "P2")
    + flow("F12", "P2", "E")
)


def custom_version(xml: str, **fields: object) -> ItemVersion:
    """A published version whose process is an uploaded BPMN, as publication leaves it."""
    return PublishedVersionFactory(bpmn_xml=xml, bpmn_custom=True, **fields)


def parallel_steps_version() -> ItemVersion:
    version = ItemVersionFactory(children=False, name="建设工程规划许可")
    steps = [
        ("受理", 0, 1),
        ("规划审查", 1, 3),
        ("消防设计审查", 1, 3),
        ("决定", 2, 1),
        ("办结", 3, None),
        ("送达", 4, 0),
    ]
    for order, (name, stage, limit) in enumerate(steps):
        ProcessStepFactory(
            version=version,
            name=name,
            kind=ProcessStep.Kind.OTHER,
            stage=stage,
            time_limit=limit,
            sort_order=order,
        )
    return version


# --- BPMNDI of the generated process --------------------------------------------------------


def test_generated_process_has_one_di_element_per_flow_node_and_flow():
    xml = process_generate(parallel_steps_version())
    root = etree.fromstring(xml.encode("utf-8"))

    (process,) = root.findall("bpmn:process", NS)
    (plane,) = root.findall("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS)
    assert plane.get("bpmnElement") == process.get("id")
    node_ids = [
        e.get("id")
        for e in process
        if etree.QName(e).localname in ("startEvent", "endEvent", "userTask", "parallelGateway")
    ]
    flow_ids = [e.get("id") for e in process.findall("bpmn:sequenceFlow", NS)]
    assert len(node_ids) == 10  # start, 6 tasks, split and join, end
    assert len(flow_ids) == 10
    shapes = [s.get("bpmnElement") for s in plane.findall("bpmndi:BPMNShape", NS)]
    edges = [e.get("bpmnElement") for e in plane.findall("bpmndi:BPMNEdge", NS)]
    assert sorted(shapes) == sorted(node_ids)
    assert sorted(edges) == sorted(flow_ids)
    for shape in plane.findall("bpmndi:BPMNShape", NS):
        (bounds,) = shape.findall("dc:Bounds", NS)
        assert int(bounds.get("width")) > 0
        assert int(bounds.get("height")) > 0
    for edge in plane.findall("bpmndi:BPMNEdge", NS):
        assert len(edge.findall("di:waypoint", NS)) >= 2


def test_generated_di_lays_stages_left_to_right_and_parallel_tasks_in_a_column():
    xml = process_generate(parallel_steps_version())
    root = etree.fromstring(xml.encode("utf-8"))
    names = {e.get("id"): e.get("name") for e in root.iter() if e.get("name")}
    bounds = {
        names.get(s.get("bpmnElement"), s.get("bpmnElement")): s.find("dc:Bounds", NS)
        for s in root.iterfind(".//bpmndi:BPMNShape", NS)
    }

    def x(name: str) -> int:
        return int(bounds[name].get("x"))

    def y(name: str) -> int:
        return int(bounds[name].get("y"))

    assert x("申请") < x("受理") < x("并联办理") < x("规划审查") < x("汇合") < x("决定")
    assert x("决定") < x("办结") < x("送达") < x("结束")
    assert x("规划审查") == x("消防设计审查")
    assert y("规划审查") + 80 < y("消防设计审查")
    # the sequence stays on one line, centred on the parallel column
    assert {y("受理"), y("决定"), y("送达")} == {(y("规划审查") + y("消防设计审查")) // 2}
    # every edge starts on its source and ends on its target
    for edge in root.iterfind(".//bpmndi:BPMNEdge", NS):
        flow_element = root.find(f".//bpmn:sequenceFlow[@id='{edge.get('bpmnElement')}']", NS)
        points = [(int(p.get("x")), int(p.get("y"))) for p in edge.findall("di:waypoint", NS)]
        for ref, (px, py) in (("sourceRef", points[0]), ("targetRef", points[-1])):
            shape = root.find(f".//bpmndi:BPMNShape[@bpmnElement='{flow_element.get(ref)}']", NS)
            b = shape.find("dc:Bounds", NS)
            left, top = int(b.get("x")), int(b.get("y"))
            assert left <= px <= left + int(b.get("width"))
            assert top <= py <= top + int(b.get("height"))


def test_generated_process_with_di_is_parsed_and_run_by_spiffworkflow():
    xml = process_generate(parallel_steps_version())
    parser = BpmnParser()
    parser.add_bpmn_str(xml.encode("utf-8"))
    (process_id,) = parser.get_process_ids()

    spec = parser.get_spec(process_id)

    assert process_validate(xml, kind="bpmn").tasks == (
        "受理",
        "规划审查",
        "消防设计审查",
        "决定",
        "办结",
        "送达",
    )
    assert {"Task_2", "Task_3", "Gateway_2_split"} <= set(spec.task_specs)


# --- the picture of a generated process ---------------------------------------------------


def test_svg_of_parallel_steps_is_well_formed_and_names_every_step():
    version = parallel_steps_version()

    root = parse(process_svg(version))

    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("viewBox").startswith("0 0 ")
    assert root.get("width") == "100%"
    labelled = root.get("aria-labelledby").split()
    assert [root.find(f".//*[@id='{i}']").tag for i in labelled] == [f"{SVG}title", f"{SVG}desc"]
    assert root.find(f"{SVG}title").text == "建设工程规划许可办理流程"
    assert root.find(f"{SVG}desc").text == (
        "从申请开始，进入受理（1个工作日）；"
        "受理之后，规划审查（3个工作日）、消防设计审查（3个工作日）同时办理；"
        "规划审查、消防设计审查都完成后，进入决定（1个工作日）；"
        "决定之后，进入办结；办结之后，进入送达（即办）；送达之后，办理结束。"
    )
    shown = texts(root)
    for name in ("受理", "规划审查", "消防设计审查", "决定", "办结", "送达"):
        assert name in shown
    assert [t for t in shown if t in ("申请", "并联办理", "汇合", "结束")] == [
        "申请",
        "并联办理",
        "汇合",
        "结束",
    ]
    assert shown.count("3个工作日") == 2
    assert shown.count("1个工作日") == 2
    assert shown.count("即办") == 1
    # ten flows, ten arrows; no arrow runs through a box
    assert len(lines(root)) == 10
    for line in lines(root):
        for box in boxes(root).values():
            assert not crosses(line, box)
    # self-contained: no scripts, no external references, no web fonts
    svg = process_svg(version)
    assert svg is not None
    assert "<script" not in svg
    assert "href" not in svg
    assert "@font-face" not in svg


def test_parallel_boxes_are_stacked_between_their_gateways():
    version = ItemVersionFactory(children=False)
    for order, name in enumerate(["甲审查", "乙审查"]):
        ProcessStepFactory(version=version, name=name, kind="review", stage=1, sort_order=order)

    found = boxes(parse(process_svg(version)))

    assert list(found) == ["甲审查", "乙审查"]
    first, second = found["甲审查"], found["乙审查"]
    assert first[0] == second[0]
    assert first[3] < second[1]


@pytest.mark.parametrize(
    ("project_type", "expected"),
    [
        (
            ItemVersion.ProjectType.PROMISED,
            ["申请", "受理", "审查", "决定", "办结", "送达", "结束"],
        ),
        (ItemVersion.ProjectType.IMMEDIATE, ["申请", "受理并办结", "即办", "结束"]),
    ],
)
def test_svg_without_steps_uses_the_standard_steps(project_type, expected):
    version = ItemVersionFactory(children=False, project_type=project_type)

    assert texts(parse(process_svg(version))) == expected


def test_long_names_and_markup_are_escaped_and_wrapped():
    version = ItemVersionFactory(children=False, name="A&B<事项>")
    ProcessStepFactory(
        version=version, name="对申请材料进行实质审查并组织<现场>核查与专家评审", kind="review"
    )

    root = parse(process_svg(version))

    assert root.find(f"{SVG}title").text == "A&B<事项>办理流程"
    shown = texts(root)
    assert shown[1] == "对申请材料进行实"
    assert shown[2].endswith("…")
    assert list(boxes(root)) == ["对申请材料进行实质审查并组织<现场>核查与专家评审"]


def test_a_draft_is_drawn_from_its_current_steps_not_a_stale_stored_process():
    version = ItemVersionFactory(children=False)
    ItemVersion.objects.filter(pk=version.pk).update(bpmn_xml=process_generate(version))
    version.refresh_from_db()
    ProcessStepFactory(version=version, name="新增的审查", kind="review")

    assert list(boxes(parse(process_svg(version)))) == ["新增的审查"]


def test_a_published_version_is_drawn_from_its_frozen_process():
    version = PublishedVersionFactory(children=False)
    ItemVersion.objects.filter(pk=version.pk).update(
        bpmn_xml=process_generate(version).replace('name="受理"', 'name="收件"')
    )
    version.refresh_from_db()

    assert list(boxes(parse(process_svg(version)))) == ["收件", "审查", "决定", "办结", "送达"]


# --- the picture of a custom process ------------------------------------------------------


def test_custom_process_with_a_loop_and_parallel_tasks_is_drawn_from_its_bpmn():
    process_validate(REVIEW_LOOP, kind="bpmn")  # an upload the admin accepts
    version = custom_version(REVIEW_LOOP, name="测试许可")

    root = parse(process_svg(version))

    found = boxes(root)
    assert list(found) == ["受理", "审查", "决定", "退回补正", "制证", "通知申请人领取证照"]
    shown = texts(root)
    for name in ("受理", "审查", "决定", "退回补正", "制证"):
        assert name in shown
    assert [t for t in shown if "领取" in t or t == "通知申请"] == ["通知申请", "人领取证照"]
    assert {"提交申请", "通过？", "是", "否", "办结", "3个工作日"} <= set(shown)
    assert root.find(f"{SVG}desc").text == (
        "从提交申请开始，进入受理；受理之后，进入审查（3个工作日）；"
        "审查之后，判断“通过？”：若“是”，进入决定；若“否”，进入退回补正；"
        "决定之后，制证、通知申请人领取证照同时办理；退回补正之后，回到审查；"
        "制证、通知申请人领取证照都完成后，办理结束（办结）。"
    )
    # layered left to right: the two outcomes share a column after the question, the
    # parallel tasks share the next but one
    assert found["受理"][2] < found["审查"][0]
    assert found["决定"][0] == found["退回补正"][0] > found["审查"][2]
    assert found["决定"][3] < found["退回补正"][1]
    assert found["制证"][0] == found["通知申请人领取证照"][0] > found["决定"][2]
    # the loop back is drawn (one arrow per flow) and ends under 审查, running under the boxes
    arrows = lines(root)
    assert len(arrows) == 12
    (back,) = [a for a in arrows if a[0][0] > a[-1][0]]
    assert back[-1] == ((found["审查"][0] + found["审查"][2]) / 2, found["审查"][3] + 2)
    assert back[1][1] > max(box[3] for box in found.values())
    for line in arrows:
        for box in found.values():
            assert not crosses(line, box)


def test_a_flow_that_skips_columns_goes_around_the_boxes_in_them():
    xml = bpmn(
        '<bpmn:startEvent id="S"/><bpmn:exclusiveGateway id="G" name="需要核查？"/>'
        '<bpmn:userTask id="A" name="现场核查"/><bpmn:userTask id="B" name="专家评审"/>'
        '<bpmn:exclusiveGateway id="M"/><bpmn:userTask id="C" name="决定"/>'
        '<bpmn:endEvent id="E"/>'
        + flow("F1", "S", "G")
        + flow("F2", "G", "A", "是", "check")
        + flow("F3", "A", "B")
        + flow("F4", "B", "M")
        + flow("F5", "G", "M", "否", "not check")
        + flow("F6", "M", "C")
        + flow("F7", "C", "E")
    )
    process_validate(xml, kind="bpmn")

    root = parse(process_svg(custom_version(xml)))

    assert len(lines(root)) == 7
    for line in lines(root):
        for box in boxes(root).values():
            assert not crosses(line, box)
    assert "视情况" not in root.find(f"{SVG}desc").text
    assert root.find(f"{SVG}desc").text == (
        "开始，判断“需要核查？”：若“是”，进入现场核查；若“否”，进入决定；"
        "现场核查之后，进入专家评审；专家评审之后，进入决定；决定之后，办理结束。"
    )


def test_cycles_without_a_start_and_a_task_looping_on_itself_do_not_break_the_picture():
    xml = bpmn(
        '<bpmn:userTask id="A" name="甲"/><bpmn:userTask id="B" name="乙"/>'
        '<bpmn:userTask id="C" name="丙"/>'
        + flow("F1", "A", "B")
        + flow("F2", "B", "C")
        + flow("F3", "C", "A", "重办")
        + flow("F4", "C", "C", "再议")
    )

    root = parse(process_svg(custom_version(xml)))

    found = boxes(root)
    assert found["甲"][2] < found["乙"][0] < found["乙"][2] < found["丙"][0]
    assert len(lines(root)) == 4
    assert {"重办", "再议"} <= set(texts(root))


def test_text_from_the_document_is_escaped():
    xml = bpmn(
        '<bpmn:startEvent id="S" name="&lt;/text&gt;&lt;script&gt;alert(1)&lt;/script&gt;"/>'
        '<bpmn:userTask id="T" name="审查 &lt;b&gt;&amp;amp;&lt;/b&gt; &quot;复核&quot;"/>'
        '<bpmn:endEvent id="E"/>'
        + flow("F1", "S", "T", "&lt;img src=x onerror=alert(1)&gt;")
        + flow("F2", "T", "E")
    )

    svg = process_svg(custom_version(xml))

    assert svg is not None
    assert "<script" not in svg
    assert "<img" not in svg
    assert "<b>" not in svg
    root = parse(svg)
    assert list(boxes(root)) == ['审查 <b>&amp;</b> "复核"']
    assert root.find(f"{SVG}desc").text.startswith("从</text><script>alert(1)</script>开始")


def chain(tasks: int) -> str:
    body = '<bpmn:startEvent id="S"/>' + "".join(
        f'<bpmn:userTask id="T{n}" name="环节{n}"/>' for n in range(tasks)
    )
    body += '<bpmn:endEvent id="E"/>'
    ids = ["S", *(f"T{n}" for n in range(tasks)), "E"]
    body += "".join(flow(f"F{n}", a, b) for n, (a, b) in enumerate(pairwise(ids)))
    return bpmn(body)


def test_a_process_of_at_most_max_nodes_is_drawn_and_a_larger_one_is_not():
    assert MAX_NODES == 60
    drawn = custom_version(chain(MAX_NODES - 2))
    too_big = custom_version(chain(MAX_NODES - 1))

    assert len(boxes(parse(process_svg(drawn)))) == MAX_NODES - 2
    assert process_svg(too_big) is None


@pytest.mark.parametrize(
    "stored",
    [
        "<definitions/>",
        "<broken",
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "y">]><d>&x;</d>',
        bpmn(""),
    ],
)
def test_a_process_that_cannot_be_read_gets_no_picture(stored):
    assert process_svg(custom_version(stored)) is None


def test_process_graph_refuses_what_is_not_bpmn():
    with pytest.raises(ValidationError) as caught:
        process_graph("<html/>")

    assert caught.value.extra["reason"] == "not_bpmn"


# --- process_freeze (called by publication) -----------------------------------------------


def test_freeze_stores_the_generated_process():
    version = ItemVersionFactory()

    process_freeze(version)

    version.refresh_from_db()
    assert version.bpmn_xml == process_generate(version)
    assert process_validate(version.bpmn_xml, kind="bpmn").tasks == (
        "受理",
        "审查",
        "决定",
        "办结",
        "送达",
    )


def test_freeze_keeps_a_custom_process():
    version = ItemVersionFactory(children=False)
    custom = process_generate(version).replace("受理", "收件")
    ItemVersion.objects.filter(pk=version.pk).update(bpmn_xml=custom, bpmn_custom=True)
    version.refresh_from_db()

    process_freeze(version)

    version.refresh_from_db()
    assert version.bpmn_xml == custom
