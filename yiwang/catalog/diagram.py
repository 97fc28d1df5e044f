"""An accessible SVG picture of an item's process for the public guide page (办事指南).

Drawn from the same steps the BPMN process is generated from (``process_steps``), top to
bottom so that it reads on a phone: one row per stage, parallel steps (并联办理) side by side in
a bracket, the step's time limit under its name. Self-contained: no fonts, scripts or links,
a ``viewBox`` so it scales to any width, ``role="img"`` with ``<title>``/``<desc>`` that say
the whole process in words for screen readers, and colours that print in black and white.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from django.utils.translation import gettext as _

from yiwang.catalog.models import ItemVersion
from yiwang.catalog.process import StepView, process_stages, process_steps

BOX_W = 160
BOX_H = 64
GAP_X = 16
GAP_Y = 36
PAD = 12
LINE_CHARS = 9  # Chinese characters per line at 15px in a 160px box
STROKE = "#1f4e79"
TEXT = "#111111"
MUTED = "#444444"


def _limit_text(step: StepView) -> str:
    if step.time_limit is None:
        return ""
    if step.time_limit == 0:
        return _("即办")
    return _("%(n)d个工作日") % {"n": step.time_limit}


def _width(text: str) -> float:
    """Width in Chinese-character units (Latin letters and digits are about half)."""
    return sum(1.0 if ord(ch) > 0x2E7F else 0.55 for ch in text)


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
    rest = text[len(first) :]
    if _width(rest) > limit:  # the full name stays in <desc> and the box's <title>
        while rest and _width(rest + "…") > limit:
            rest = rest[:-1]
        rest += "…"
    return [first, rest]


def _describe(stages: list[list[StepView]]) -> str:
    parts = []
    for number, stage in enumerate(stages, start=1):
        names = []
        for step in stage:
            limit = _limit_text(step)
            names.append(f"{step.name}（{limit}）" if limit else step.name)
        if len(stage) > 1:
            parts.append(
                _("第%(n)d步：%(steps)s 并联办理") % {"n": number, "steps": "、".join(names)}
            )
        else:
            parts.append(_("第%(n)d步：%(step)s") % {"n": number, "step": names[0]})
    return "；".join(parts) + "。"


def process_svg(version: ItemVersion) -> str:
    """The SVG document (a string, no XML declaration, ready to inline in a page)."""
    stages = process_stages(process_steps(version))
    columns = max((len(stage) for stage in stages), default=1)
    width = PAD * 2 + columns * BOX_W + (columns - 1) * GAP_X
    centre = width / 2
    title = _("%(name)s办理流程") % {"name": version.name}
    uid = f"proc-{version.item.public_id.hex[:8]}-{version.number}"

    body: list[str] = []
    y = float(PAD)
    for number, stage in enumerate(stages):
        count = len(stage)
        row_w = count * BOX_W + (count - 1) * GAP_X
        x0 = (width - row_w) / 2
        entry = y
        if number:
            # One arrow from the previous stage into this one (into the bracket of a parallel
            # stage): fan-out lines to every parallel box would clutter a phone screen.
            body.append(
                f'<line x1="{centre:.0f}" y1="{y - GAP_Y + 2:.0f}" x2="{centre:.0f}" '
                f'y2="{entry - 3:.0f}" stroke="{STROKE}" stroke-width="2" '
                f'marker-end="url(#{uid}-arrow)"/>'
            )
        top = y
        if count > 1:
            body.append(
                f'<rect x="{x0 - 6:.0f}" y="{y:.0f}" width="{row_w + 12:.0f}" '
                f'height="{BOX_H + 30:.0f}" rx="6" fill="none" stroke="{STROKE}" '
                'stroke-dasharray="5 4" stroke-width="1"/>'
            )
            body.append(
                f'<text x="{centre:.0f}" y="{y + 16:.0f}" text-anchor="middle" font-size="12" '
                f'fill="{MUTED}">{escape(_("以下环节并联办理"))}</text>'
            )
            top = y + 24
        for index, step in enumerate(stage):
            x = x0 + index * (BOX_W + GAP_X)
            body.append(f"<g><title>{escape(step.name)}</title>")
            body.append(
                f'<rect x="{x:.0f}" y="{top:.0f}" width="{BOX_W}" height="{BOX_H}" rx="8" '
                f'fill="#ffffff" stroke="{STROKE}" stroke-width="2"/>'
            )
            lines = _wrap(step.name)
            limit = _limit_text(step)
            total = len(lines) + (1 if limit else 0)
            first = top + BOX_H / 2 - (total - 1) * 9 + 5
            for n, line in enumerate(lines):
                body.append(
                    f'<text x="{x + BOX_W / 2:.0f}" y="{first + n * 18:.0f}" '
                    f'text-anchor="middle" font-size="15" fill="{TEXT}">{escape(line)}</text>'
                )
            if limit:
                body.append(
                    f'<text x="{x + BOX_W / 2:.0f}" y="{first + len(lines) * 18:.0f}" '
                    f'text-anchor="middle" font-size="12" fill="{MUTED}">{escape(limit)}</text>'
                )
            body.append("</g>")
        y = top + BOX_H + (6 if count > 1 else 0) + GAP_Y
    height = y - GAP_Y + PAD

    head = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height:.0f}" '
        f'width="100%" style="max-width:{width}px" role="img" '
        f'aria-labelledby="{uid}-t {uid}-d" class="process-diagram" font-family="sans-serif">',
        f'<title id="{uid}-t">{escape(title)}</title>',
        f'<desc id="{uid}-d">{escape(_describe(stages))}</desc>',
        f'<defs><marker id="{uid}-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{STROKE}"/></marker></defs>',
    ]
    return "\n".join([*head, *body, "</svg>"])
