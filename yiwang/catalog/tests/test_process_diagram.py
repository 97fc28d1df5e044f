"""The SVG process picture (yiwang.catalog.diagram) and process_freeze at publication."""

from __future__ import annotations

import pytest
from lxml import etree

from yiwang.catalog.diagram import process_svg
from yiwang.catalog.models import ItemVersion, ProcessStep
from yiwang.catalog.process import process_freeze, process_generate, process_validate
from yiwang.catalog.tests.factories import ItemVersionFactory, ProcessStepFactory

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> etree._Element:
    return etree.fromstring(svg.encode("utf-8"))


def texts(root: etree._Element) -> list[str]:
    return [t.text for t in root.iter(f"{SVG}text")]


def test_svg_of_parallel_steps_is_well_formed_and_names_every_step():
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

    root = parse(process_svg(version))

    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("viewBox").startswith("0 0 ")
    assert root.get("width") == "100%"
    labelled = root.get("aria-labelledby").split()
    assert [root.find(f".//*[@id='{i}']").tag for i in labelled] == [f"{SVG}title", f"{SVG}desc"]
    assert root.find(f"{SVG}title").text == "建设工程规划许可办理流程"
    assert root.find(f"{SVG}desc").text == (
        "第1步：受理（1个工作日）；"
        "第2步：规划审查（3个工作日）、消防设计审查（3个工作日） 并联办理；"
        "第3步：决定（1个工作日）；第4步：办结；第5步：送达（即办）。"
    )
    shown = texts(root)
    for name, _stage, _limit in steps:
        assert name in shown
    assert "以下环节并联办理" in shown
    assert shown.count("3个工作日") == 2
    # self-contained: no scripts, no external references, no web fonts
    svg = process_svg(version)
    assert "<script" not in svg
    assert "href" not in svg
    assert "@font-face" not in svg


def test_parallel_boxes_sit_side_by_side():
    version = ItemVersionFactory(children=False)
    for order, name in enumerate(["甲审查", "乙审查"]):
        ProcessStepFactory(version=version, name=name, kind="review", stage=1, sort_order=order)

    root = parse(process_svg(version))

    boxes = [r for r in root.iter(f"{SVG}rect") if r.get("stroke-dasharray") is None]
    assert len(boxes) == 2
    assert boxes[0].get("y") == boxes[1].get("y")
    assert int(boxes[0].get("x")) < int(boxes[1].get("x"))


@pytest.mark.parametrize(
    ("project_type", "expected"),
    [
        (ItemVersion.ProjectType.PROMISED, ["受理", "审查", "决定", "办结", "送达"]),
        (ItemVersion.ProjectType.IMMEDIATE, ["受理并办结", "即办"]),
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
    lines = texts(root)
    assert lines[0] == "对申请材料进行实质"
    assert lines[1].endswith("…")
    assert (
        root.find(f".//{SVG}g/{SVG}title").text
        == "对申请材料进行实质审查并组织<现场>核查与专家评审"
    )


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
