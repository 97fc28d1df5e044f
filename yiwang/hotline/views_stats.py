"""工单统计 (/console/hotline/stats/): the hotline's figures per lead unit, per first-level
category and in total over a period, for the 12345 centre (the whole city) and supervisors
(the units of their scope), and the same figures as an Excel file (``stats.xlsx``).

The figures and their definitions are in ``yiwang.hotline.stats``; the page shows the
definitions too. Plain GET forms: no JavaScript needed.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from yiwang.accounts.access import role_required
from yiwang.accounts.models import Role
from yiwang.hotline.stats import (
    SORT_KEYS,
    Figures,
    Period,
    Report,
    city_today,
    hotline_stats,
    rows_sorted,
)

MAX_DAYS = 5 * 366 + 1  # the generator's five years, and a margin


class PeriodForm(forms.Form):
    first = forms.DateField(
        label=gettext_lazy("登记日期从"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    last = forms.DateField(
        label=gettext_lazy("至"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    sort = forms.ChoiceField(
        choices=[("", "")] + [(k, k) for k in SORT_KEYS],
        required=False,
        widget=forms.HiddenInput,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("first"), data.get("last")
        if first and last:
            if first > last:
                self.add_error("last", _("结束日期不能早于开始日期。"))
            elif (last - first).days >= MAX_DAYS:
                self.add_error("last", _("统计期间不能超过五年。"))
        return data


def _period(form: PeriodForm) -> Period:
    default = Period.default()
    if not (form.is_bound and form.is_valid()):
        return default
    first: date | None = form.cleaned_data.get("first")
    last: date | None = form.cleaned_data.get("last")
    if first is None and last is None:
        return default
    if last is None:
        last = max(first or default.last, city_today())
    if first is None:
        first = last - timedelta(days=29)
    return Period(first, last)


def _sort(form: PeriodForm) -> str:
    if form.is_bound and form.is_valid():
        return str(form.cleaned_data.get("sort") or "")
    return ""


@role_required(Role.SUPERVISOR, Role.DISPATCHER)
@require_GET
def stats(request: HttpRequest) -> HttpResponse:
    form = PeriodForm(request.GET or None)
    period = _period(form)
    report = hotline_stats(user=request.user, period=period)
    sort = _sort(form)
    query = f"first={period.first.isoformat()}&last={period.last.isoformat()}"
    columns = [
        ("orders", _("工单量")),
        ("sign_rate", _("按时签收率")),
        ("reply_rate", _("按时办结率")),
        ("close_rate", _("办结率")),
        ("satisfaction_rate", _("满意率")),
        ("average_hours", _("平均办理时长")),
        ("repeat_rate", _("重复诉求率")),
    ]
    return render(
        request,
        "hotline/stats/stats.html",
        {
            "form": form,
            "report": report,
            "by_unit": rows_sorted(report.by_unit, sort),
            "by_category": rows_sorted(report.by_category, sort),
            "sort": sort,
            "query": query,
            "columns": columns,
        },
    )


# --- Excel ---------------------------------------------------------------------------------

HEADERS = [
    "名称",
    "工单量",
    "按时签收率",
    "已签收",
    "按时签收",
    "超时未签收",
    "按时办结率",
    "已答复",
    "按时答复",
    "超时未答复",
    "办结率",
    "已办结",
    "应办结（不含并单、转警）",
    "满意率",
    "已回访",
    "满意（含基本满意）",
    "平均办理时长（小时）",
    "平均办理时长（天）",
    "重复诉求率",
    "并单",
    "转紧急热线",
]
_PERCENT_COLUMNS = {3, 7, 11, 14, 19}  # 1-based columns holding a rate
_DECIMAL_COLUMNS = {17, 18}


def _ratio(value: Decimal | None) -> float | None:
    # Excel's percent format multiplies by 100: store the fraction.
    return None if value is None else float(value) / 100


def _values(row: Figures) -> list[Any]:
    return [
        row.label,
        row.orders,
        _ratio(row.sign_rate),
        row.signed,
        row.signed_on_time,
        row.sign_overdue,
        _ratio(row.reply_rate),
        row.replied,
        row.replied_on_time,
        row.reply_overdue,
        _ratio(row.close_rate),
        row.closed,
        row.closable,
        _ratio(row.satisfaction_rate),
        row.visited,
        row.satisfied,
        None if row.average_hours is None else float(row.average_hours),
        None if row.average_days is None else float(row.average_days),
        _ratio(row.repeat_rate),
        row.merged,
        row.transferred,
    ]


def _sheet(ws: Worksheet, title: str, rows: list[Figures], total: Figures | None) -> None:
    ws.title = title
    ws.append([_(h) for h in HEADERS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in [*rows, *([total] if total else [])]:
        ws.append(_values(row))
        # A name is data, never a formula (an admin-entered "=…" stays text).
        ws.cell(row=ws.max_row, column=1).data_type = "s"
    if total:
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
    for column in range(1, len(HEADERS) + 1):
        for (cell,) in ws.iter_rows(min_row=2, min_col=column, max_col=column):
            if column in _PERCENT_COLUMNS:
                cell.number_format = "0.0%"
            elif column in _DECIMAL_COLUMNS:
                cell.number_format = "0.00"
        ws.column_dimensions[get_column_letter(column)].width = 28 if column == 1 else 12
    ws.freeze_panes = "B2"


def stats_workbook(report: Report) -> bytes:
    """按单位 (with the total row), 按一级分类 and 说明 (period and definitions)."""
    book = Workbook()
    _sheet(book.active, _("按单位"), report.by_unit, report.total)
    _sheet(book.create_sheet(), _("按一级分类"), report.by_category, report.total)
    notes = book.create_sheet(_("说明"))
    notes.append(
        [_("统计期间"), f"{report.period.first:%Y-%m-%d} 至 {report.period.last:%Y-%m-%d}"]
    )
    notes.append([_("范围"), _("全市") if report.city_wide else _("督办范围内的承办单位")])
    for line in DEFINITIONS:
        notes.append([str(line)])
    notes.column_dimensions["A"].width = 100
    out = BytesIO()
    book.save(out)
    return out.getvalue()


DEFINITIONS = [
    gettext_lazy("按时签收率 = 按时签收 ÷（已签收 + 超时未签收）。"),
    gettext_lazy(
        "按时办结率 = 按时答复 ÷（已答复 + 超过办结时限仍未答复）；经批准延期的按延期后的时限计算。"
    ),
    gettext_lazy(
        "办结率 = 已办结 ÷（工单量 − 并单 − 转紧急热线）："
        "并单随主工单办理，转警由 110/119/120/122 处置，均不计入分母。"
    ),
    gettext_lazy("满意率 = 最后一次回访为非常满意、满意或基本满意的工单 ÷ 已回访工单。"),
    gettext_lazy("平均办理时长 = 已办结工单从登记到办结的平均时间。"),
    gettext_lazy("重复诉求率 = 并单（重复诉求合并办理）÷ 工单量。"),
]


@role_required(Role.SUPERVISOR, Role.DISPATCHER)
@require_GET
def stats_xlsx(request: HttpRequest) -> HttpResponse:
    period = _period(PeriodForm(request.GET or None))
    report = hotline_stats(user=request.user, period=period)
    response = HttpResponse(
        stats_workbook(report),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = f"hotline-stats-{period.first:%Y%m%d}-{period.last:%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
