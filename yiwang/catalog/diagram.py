"""An accessible SVG picture of an item's process for the public guide page (办事指南).

Drawn from the version's actual BPMN document (``process_xml``: the custom or frozen one, else
the one generated from its steps), so an uploaded process with branches and loops is what the
citizen sees. The process graph (``process_graph``) is laid out left to right in layers:

1. a depth-first walk from the start event marks the flows that go back to a node still being
   walked (loops such as 退回补正 → 审查); they are drawn under the picture and take no part
   in the layering, which makes the rest a DAG;
2. longest-path layering of that DAG: each node one column right of its furthest predecessor,
   so a join sits after every branch it waits for; a flow that spans several columns gets a
   placeholder in each, so no node is placed on its line;
3. the order inside a column by the barycentre of the neighbours (a few sweeps both ways)
   against crossings, then each node's height at the mean of its predecessors', pushed apart.

Self-contained: no fonts, scripts or links, a ``viewBox`` so it scales, ``role="img"`` with a
``<title>`` and a ``<desc>`` that say the whole process in words for screen readers, every text
from the document escaped, colours that print in black and white. A document with more than
``MAX_NODES`` flow nodes, or one that cannot be read, gets no picture (``None``): the page then
lists the steps. The BPMNDI of the document is not used: a modelling tool's layout is made for
a wide screen and an editor, not for a phone, and many uploads have none.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from itertools import pairwise
from statistics import fmean
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _

from yiwang.catalog.models import ItemVersion
from yiwang.catalog.process import FlowNode, ProcessGraph, SequenceFlow, process_graph, process_xml
from yiwang.core.errors import ValidationError

log = logging.getLogger(__name__)

MAX_NODES = 60
MAX_FLOWS = 150
BOX_W = 136
BOX_H = 64
EVENT_R = 18
GATE_R = 22  # half the diagonal of a gateway's diamond
GAP_X = 44  # between columns
GAP_Y = 24  # between nodes of one column
PAD = 12
LOOP_GAP = 16  # between the lowest node and the first loop line under it
LINE_CHARS = 8  # Chinese characters per line at 15px in a 136px box
SMALL = 12  # font size of labels and time limits
STROKE = "#1f4e79"
TEXT = "#111111"
MUTED = "#444444"
MIN_SCALE = 0.75  # narrower than this the page scrolls the picture rather than shrink it


def _node_title(node: FlowNode) -> str:
    """The node's name, or what it is when it has none (a join of parallel branches…)."""
    if node.name:
        return node.name
    words = {
        "start": _("开始"),
        "end": _("结束"),
        "event": _("事件"),
        "task": _("未命名环节"),
        "exclusive": _("条件分支"),
        "parallel": _("并行分支或汇合"),
        "inclusive": _("条件分支"),
        "gateway": _("分支"),
    }
    return str(words.get(node.kind, _("未命名环节")))


def _limit_text(limit: int | None) -> str:
    if limit is None:
        return ""
    if limit == 0:
        return _("即办")
    return _("%(n)d个工作日") % {"n": limit}


def _width(text: str) -> float:
    """Width in Chinese-character units (Latin letters and digits are about half)."""
    return sum(1.0 if ord(ch) > 0x2E7F else 0.55 for ch in text)


def _clip(text: str, limit: float) -> str:
    if _width(text) <= limit:
        return text
    while text and _width(text + "…") > limit:
        text = text[:-1]
    return text + "…"


def _wrap(text: str, limit: float = LINE_CHARS) -> list[str]:
    """One or two lines; two lines are balanced ("环境影响评价/文件审批", not a lone "批")."""
    total = _width(text)
    if total <= limit:
        return [text]
    target = min(limit, total / 2) if total <= 2 * limit else limit
    first = ""
    for ch in text:
        if _width(first + ch) > target + 0.01:
            break
        first += ch
    # the full name stays in <desc> and the box's <title>
    return [first, _clip(text[len(first) :], limit)]


# --- layout --------------------------------------------------------------------------------


@dataclass
class _Slot:
    """A node of the layered graph, or a placeholder for a flow crossing a column."""

    key: str
    node: FlowNode | None
    layer: int
    width: float
    height: float
    label: str = ""  # shown above (gateways) or below (events) the shape
    y: float = 0.0
    preds: list[str] = field(default_factory=list)
    succs: list[str] = field(default_factory=list)


@dataclass
class _Layout:
    slots: dict[str, _Slot]
    columns: list[list[str]]
    forward: list[tuple[SequenceFlow, list[str]]]  # a flow and the slots it passes through
    back: list[SequenceFlow]
    order: list[str]  # node ids in the order of the walk from the start event


def _shape_size(node: FlowNode) -> tuple[float, float]:
    if node.kind == "task":
        return BOX_W, BOX_H
    if node.kind in ("start", "end", "event"):
        return 2 * EVENT_R, 2 * EVENT_R
    return 2 * GATE_R, 2 * GATE_R


def _walk(graph: ProcessGraph) -> tuple[list[str], set[str]]:
    """Depth-first from the start events, then from any node not reached: the visiting order
    and the ids of the flows that go back to a node on the current path (loops)."""
    succ: dict[str, list[SequenceFlow]] = {node.id: [] for node in graph.nodes}
    for flow in graph.flows:
        succ[flow.source].append(flow)
    roots = [n.id for n in graph.nodes if n.kind == "start"] + [n.id for n in graph.nodes]
    state: dict[str, int] = {}  # 1 on the path, 2 done
    order: list[str] = []
    back: set[str] = set()
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        order.append(root)
        stack = [(root, iter(succ[root]))]
        while stack:
            node_id, flows = stack[-1]
            for flow in flows:
                seen = state.get(flow.target)
                if seen == 1:
                    back.add(flow.id)
                elif seen is None:
                    state[flow.target] = 1
                    order.append(flow.target)
                    stack.append((flow.target, iter(succ[flow.target])))
                    break
            else:
                state[node_id] = 2
                stack.pop()
    return order, back


def _layout(graph: ProcessGraph) -> _Layout:
    order, back_ids = _walk(graph)
    nodes = {node.id: node for node in graph.nodes}
    rank = {node_id: index for index, node_id in enumerate(order)}
    forward = [f for f in graph.flows if f.id not in back_ids]

    # Longest-path layering in a topological order (Kahn), ties in the order of the walk.
    indegree = dict.fromkeys(order, 0)
    outgoing: dict[str, list[SequenceFlow]] = {node_id: [] for node_id in order}
    for flow in forward:
        indegree[flow.target] += 1
        outgoing[flow.source].append(flow)
    layer = dict.fromkeys(order, 0)
    ready = [node_id for node_id in order if indegree[node_id] == 0]
    while ready:
        node_id = ready.pop(0)
        for flow in outgoing[node_id]:
            layer[flow.target] = max(layer[flow.target], layer[node_id] + 1)
            indegree[flow.target] -= 1
            if indegree[flow.target] == 0:
                ready.append(flow.target)
                ready.sort(key=rank.__getitem__)

    slots: dict[str, _Slot] = {}
    for node_id in order:
        node = nodes[node_id]
        width, height = _shape_size(node)
        label = "" if node.kind == "task" else _clip(node.name, 8)
        slots[node_id] = _Slot(node_id, node, layer[node_id], width, height, label)
    routes: list[tuple[SequenceFlow, list[str]]] = []
    for flow in sorted(forward, key=lambda f: (rank[f.source], rank[f.target])):
        path = [flow.source]
        for step in range(layer[flow.source] + 1, layer[flow.target]):
            key = f"{flow.id}\x00{step}"
            slots[key] = _Slot(key, None, step, 0.0, 0.0)
            path.append(key)
        path.append(flow.target)
        for a, b in pairwise(path):
            slots[a].succs.append(b)
            slots[b].preds.append(a)
        routes.append((flow, path))

    columns: list[list[str]] = [[] for _ in range(max(layer.values(), default=0) + 1)]
    for key, slot in slots.items():
        columns[slot.layer].append(key)
    position = {key: float(index) for column in columns for index, key in enumerate(column)}
    for sweep in range(8):  # barycentre ordering, alternately from the left and the right
        downward = sweep % 2 == 0
        for column in columns[1:] if downward else columns[-2::-1]:
            for key in column:
                near = slots[key].preds if downward else slots[key].succs
                if near:
                    position[key] = fmean(position[n] for n in near)
            column.sort(key=position.__getitem__)
            for index, key in enumerate(column):
                position[key] = float(index)

    # Heights: each node at the mean of its predecessors', then pushed apart in order and the
    # column shifted back so that it stays centred on what it follows.
    for column in columns:
        wanted = [
            fmean(slots[p].y for p in slots[key].preds) if slots[key].preds else 0.0
            for key in column
        ]
        placed: list[float] = []
        for index, key in enumerate(column):
            y = wanted[index]
            if placed:
                above = slots[column[index - 1]]
                gap = GAP_Y if above.node or slots[key].node else GAP_Y / 2
                y = max(y, placed[-1] + (above.height + slots[key].height) / 2 + gap)
            placed.append(y)
        shift = fmean(w - p for w, p in zip(wanted, placed, strict=True)) if column else 0.0
        for key, y in zip(column, placed, strict=True):
            slots[key].y = y + shift
    back = [f for f in graph.flows if f.id in back_ids]
    return _Layout(slots, columns, routes, back, order)


# --- drawing -------------------------------------------------------------------------------


def _path(points: list[tuple[float, float]]) -> str:
    return " ".join(
        f"{'M' if index == 0 else 'L'}{x:.0f},{y:.0f}" for index, (x, y) in enumerate(points)
    )


def _circle(cx: float, cy: float, r: float) -> str:
    # A path rather than <circle>, so that the print stylesheet's rule for paths covers it.
    arc = f"a{r:.0f},{r:.0f} 0 1,0"
    return f"M{cx - r:.0f},{cy:.0f} {arc} {2 * r:.0f},0 {arc} {-2 * r:.0f},0 z"


def _text(x: float, y: float, text: str, size: int, fill: str, anchor: str = "middle") -> str:
    return (
        f'<text x="{x:.0f}" y="{y:.0f}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="{fill}">{escape(text)}</text>'
    )


def _draw_node(slot: _Slot, cx: float) -> list[str]:
    node = slot.node
    if node is None:  # a placeholder: the flow's line is drawn with the flow
        return []
    cy = slot.y
    out = [f"<g><title>{escape(_node_title(node))}</title>"]
    if node.kind == "task":
        x, y = cx - BOX_W / 2, cy - BOX_H / 2
        out.append(
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" height="{BOX_H}" rx="8" '
            f'fill="#ffffff" stroke="{STROKE}" stroke-width="2"/>'
        )
        lines = _wrap(_node_title(node))
        limit = _limit_text(node.time_limit)
        total = len(lines) + (1 if limit else 0)
        first = cy - (total - 1) * 9 + 5
        for n, line in enumerate(lines):
            out.append(_text(cx, first + n * 18, line, 15, TEXT))
        if limit:
            out.append(_text(cx, first + len(lines) * 18, limit, SMALL, MUTED))
    elif node.kind in ("start", "end", "event"):
        width = {"start": 2, "end": 4, "event": 2}[node.kind]
        out.append(
            f'<path d="{_circle(cx, cy, EVENT_R)}" fill="#ffffff" stroke="{STROKE}" '
            f'stroke-width="{width}"/>'
        )
        if node.kind == "event":
            out.append(
                f'<path d="{_circle(cx, cy, EVENT_R - 4)}" fill="none" stroke="{STROKE}" '
                'stroke-width="1"/>'
            )
        if slot.label:
            out.append(_text(cx, cy + EVENT_R + 16, slot.label, SMALL, MUTED))
    else:
        r = GATE_R
        out.append(
            f'<path d="M{cx:.0f},{cy - r:.0f} L{cx + r:.0f},{cy:.0f} L{cx:.0f},{cy + r:.0f} '
            f'L{cx - r:.0f},{cy:.0f} z" fill="#ffffff" stroke="{STROKE}" stroke-width="2"/>'
        )
        m = 8
        if node.kind == "exclusive":
            out.append(
                f'<path d="M{cx - m:.0f},{cy - m:.0f} L{cx + m:.0f},{cy + m:.0f} '
                f'M{cx + m:.0f},{cy - m:.0f} L{cx - m:.0f},{cy + m:.0f}" '
                f'stroke="{STROKE}" stroke-width="3"/>'
            )
        elif node.kind == "parallel":
            out.append(
                f'<path d="M{cx:.0f},{cy - m - 2:.0f} L{cx:.0f},{cy + m + 2:.0f} '
                f'M{cx - m - 2:.0f},{cy:.0f} L{cx + m + 2:.0f},{cy:.0f}" '
                f'stroke="{STROKE}" stroke-width="3"/>'
            )
        elif node.kind == "inclusive":
            out.append(
                f'<path d="{_circle(cx, cy, 9)}" fill="none" stroke="{STROKE}" stroke-width="3"/>'
            )
        if slot.label:
            out.append(_text(cx, cy - r - 8, slot.label, SMALL, MUTED))
    out.append("</g>")
    return out


def _render(layout: _Layout, arrow: str) -> tuple[list[str], float, float]:
    """The body of the picture and its width and height (the top is at y=0)."""
    slots, columns = layout.slots, layout.columns
    # Column widths; a gap is wider where a named flow (是/否) leaves its left column.
    widths = [
        max(
            max(slots[k].width, _width(slots[k].label) * SMALL + 4 if slots[k].label else 0)
            for k in column
        )
        for column in columns
    ]
    gaps = [float(GAP_X)] * len(columns)
    for flow, path in layout.forward:
        if flow.name:
            source_layer = slots[path[0]].layer
            label = _width(_clip(flow.name, 6)) * SMALL
            gaps[source_layer] = max(gaps[source_layer], 14 + 4 + label + 10)
    lefts: list[float] = []
    x = float(PAD)
    for index, width in enumerate(widths):
        lefts.append(x)
        x += width + gaps[index]
    total_width = x - gaps[-1] + PAD
    centre = [left + width / 2 for left, width in zip(lefts, widths, strict=True)]

    def top(slot: _Slot) -> float:
        extra = (
            8 + SMALL
            if slot.label and slot.node and slot.node.kind not in ("start", "end", "event")
            else 0
        )
        return slot.y - slot.height / 2 - extra

    def bottom(slot: _Slot) -> float:
        extra = (
            16 + 4
            if slot.label and slot.node and slot.node.kind in ("start", "end", "event")
            else 0
        )
        return slot.y + slot.height / 2 + extra

    real = [s for s in slots.values() if s.node]
    low = min(top(s) for s in real)
    high = max(bottom(s) for s in real)

    edges: list[str] = []
    labels: list[str] = []
    marker = f'marker-end="url(#{arrow})"'
    for flow, path in layout.forward:
        first, last = slots[path[0]], slots[path[-1]]
        points = [(centre[first.layer] + first.width / 2, first.y)]
        current = first.y
        for index, key in enumerate(path[1:]):
            slot = slots[key]
            gap_left = lefts[slot.layer - 1] + widths[slot.layer - 1]
            bend = gap_left + (14 if flow.name and index == 0 else gaps[slot.layer - 1] / 2)
            if slot.y != current:
                points += [(bend, current), (bend, slot.y)]
                current = slot.y
            if index == 0 and flow.name:
                labels.append(
                    _text(bend + 4, slot.y - 5, _clip(flow.name, 6), SMALL, MUTED, "start")
                )
        points.append((centre[last.layer] - last.width / 2 - 2, last.y))
        edges.append(
            f'<path d="{_path(points)}" fill="none" stroke="{STROKE}" stroke-width="2" {marker}/>'
        )
    # Loops run under (or over) the columns between their ends, clear of every node and line
    # there and of the loops already drawn across the same columns.
    below, above = high, low
    drawn: list[tuple[int, int, bool, float]] = []  # first and last column, under, level
    for flow in layout.back:
        source, target = slots[flow.source], slots[flow.target]
        alone = [
            not any(s.y > slot.y for s in real if s.layer == slot.layer)
            for slot in (source, target)
        ]
        on_top = [
            not any(s.y < slot.y for s in real if s.layer == slot.layer)
            for slot in (source, target)
        ]
        under = all(alone) or not all(on_top)
        lo, hi = sorted((source.layer, target.layer))
        span = [s for s in slots.values() if lo <= s.layer <= hi]
        crossed = [lv for f, la, u, lv in drawn if u == under and f <= hi and lo <= la]
        room = LOOP_GAP + (SMALL if flow.name else 0)
        sx, tx = centre[source.layer], centre[target.layer]
        if flow.source == flow.target:
            sx, tx = sx + 24, tx - 24
        if under:
            level = max([bottom(s) for s in span] + crossed) + room
            below = max(below, level)
            ends = (source.y + source.height / 2, target.y + target.height / 2 + 2)
        else:
            level = min([top(s) for s in span] + crossed) - room
            above = min(above, level)
            ends = (source.y - source.height / 2, target.y - target.height / 2 - 2)
        drawn.append((lo, hi, under, level))
        if flow.name:
            labels.append(_text((sx + tx) / 2, level - 5, _clip(flow.name, 8), SMALL, MUTED))
        points = [(sx, ends[0]), (sx, level), (tx, level), (tx, ends[1])]
        edges.append(
            f'<path d="{_path(points)}" fill="none" stroke="{STROKE}" stroke-width="2" {marker}/>'
        )
    shapes: list[str] = []
    for column in columns:
        for key in column:
            slot = slots[key]
            if slot.node:
                shapes += _draw_node(slot, centre[slot.layer])
    offset = PAD - min(low, above - SMALL - 4 if above < low else low)
    height = max(high, below) + offset + PAD
    body = [f'<g transform="translate(0 {offset:.0f})">', *edges, *shapes, *labels, "</g>"]
    return body, total_width, height


# --- words ---------------------------------------------------------------------------------


def _describe(graph: ProcessGraph, layout: _Layout) -> str:
    """The process in words: from the start, what follows each step, where it branches (with
    the flows' names), what runs in parallel, what waits for what, and where it loops back."""
    nodes = {node.id: node for node in graph.nodes}
    out: dict[str, list[SequenceFlow]] = {node.id: [] for node in graph.nodes}
    into: dict[str, list[SequenceFlow]] = {node.id: [] for node in graph.nodes}
    for flow in graph.flows:
        out[flow.source].append(flow)
        into[flow.target].append(flow)
    back = {flow.id for flow in layout.back}
    named: set[str] = set()

    def say(node_id: str) -> str:
        node = nodes[node_id]
        name = _node_title(node)
        limit = _limit_text(node.time_limit)
        if limit and node_id not in named:
            named.add(node_id)
            return f"{name}（{limit}）"
        return name

    def is_join(node: FlowNode) -> bool:
        return node.kind in ("parallel", "inclusive") and len(into[node.id]) > 1

    def follows(flow: SequenceFlow) -> str:
        """What a flow leads to, seen through merging gateways and to the end."""
        seen: set[str] = set()
        while True:
            target = nodes[flow.target]
            onward = out[target.id]
            if target.kind == "exclusive" and len(onward) == 1 and target.id not in seen:
                seen.add(target.id)
                flow = onward[0]
                continue
            if target.kind == "end":
                # "结束" is what the generated process calls its end; other names say how
                # it ends (不予许可, 办结).
                if target.name and "结束" not in target.name:
                    return _("办理结束（%(end)s）") % {"end": target.name}
                return _("办理结束")
            if flow.id in back:
                return _("回到%(step)s") % {"step": say(target.id)}
            if target.kind in ("exclusive", "parallel", "inclusive", "gateway"):
                return branching(target)
            return _("进入%(step)s") % {"step": say(target.id)}

    def branching(gateway: FlowNode) -> str:
        onward = out[gateway.id]
        if is_join(gateway):
            return _("等待汇合")
        if gateway.kind == "parallel":
            names = "、".join(say(f.target) for f in onward)
            return _("%(steps)s同时办理") % {"steps": names}
        question = _("判断“%(q)s”：") % {"q": gateway.name} if gateway.name else _("视情况：")
        return question + choose(onward)

    def choose(flows: list[SequenceFlow]) -> str:
        choices = [
            _("若“%(c)s”，%(then)s") % {"c": flow.name, "then": follows(flow)}
            for flow in flows
            if flow.name
        ]
        choices += [
            _("其他情况%(then)s") % {"then": follows(flow)} for flow in flows if not flow.name
        ]
        return "；".join(choices)

    parts: list[str] = []
    slots = layout.slots
    for node_id in sorted(layout.order, key=lambda n: (slots[n].layer, slots[n].y)):
        node = nodes[node_id]
        flows = out[node_id]
        if node.kind in ("end",) or not flows:
            continue
        if node.kind in ("exclusive", "parallel", "inclusive", "gateway"):
            if is_join(node) and len(flows) == 1:
                waited = "、".join(_node_title(nodes[f.source]) for f in into[node_id])
                parts.append(
                    _("%(steps)s都完成后，%(then)s") % {"steps": waited, "then": follows(flows[0])}
                )
            continue  # a split is said by the step before it
        if len(flows) == 1 and is_join(nodes[flows[0].target]):
            continue  # said by the join
        subject = (
            _("从%(start)s开始") % {"start": node.name}
            if node.kind == "start" and node.name
            else _("开始")
            if node.kind == "start"
            else _("%(step)s之后") % {"step": say(node_id)}
        )
        if len(flows) == 1:
            parts.append(f"{subject}，{follows(flows[0])}")
        elif any(flow.name for flow in flows):  # named flows out of a task are conditions
            parts.append(f"{subject}，{choose(flows)}")
        else:
            names = "、".join(follows(f) for f in flows)
            parts.append(_("%(subject)s，同时%(steps)s") % {"subject": subject, "steps": names})
    return "；".join(parts) + "。" if parts else ""


def process_svg(version: ItemVersion) -> str | None:
    """The SVG document (a string, no XML declaration, ready to inline in a page), or None
    when the version's process cannot be drawn (unreadable, or more than MAX_NODES nodes)."""
    try:
        graph = process_graph(process_xml(version))
    except ValidationError as exc:
        log.warning("process of %s v%d not drawn: %s", version.item.task_code, version.number, exc)
        return None
    if not graph.nodes or len(graph.nodes) > MAX_NODES or len(graph.flows) > MAX_FLOWS:
        return None
    layout = _layout(graph)
    uid = f"proc-{version.item.public_id.hex[:8]}-{version.number}"
    body, width, height = _render(layout, f"{uid}-arrow")
    title = _("%(name)s办理流程") % {"name": version.name}
    head = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="100%" style="max-width:{width:.0f}px;min-width:{width * MIN_SCALE:.0f}px" '
        f'role="img" aria-labelledby="{uid}-t {uid}-d" class="process-diagram" '
        'font-family="sans-serif">',
        f'<title id="{uid}-t">{escape(title)}</title>',
        f'<desc id="{uid}-d">{escape(_describe(graph, layout))}</desc>',
        f'<defs><marker id="{uid}-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{STROKE}"/></marker></defs>',
    ]
    return "\n".join([*head, *body, "</svg>"])
