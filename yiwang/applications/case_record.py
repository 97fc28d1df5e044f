"""The national case record (办件数据): each application in the shape of the five 办件 tables
that the provincial platform collects (standards.md §1.5 (f)), read-only.

``case_record(application)`` gives one record; ``case_records_iter(applications)`` gives
them for a queryset of any size, in key order, one chunk at a time (a fixed number of
queries per chunk: the applications with their item, version, department and people, then
materials, tasks, pauses, events, enterprises and ratings, each prefetched once per chunk).
``case_records_export`` writes a file (``yiwang export-cases``): JSON Lines, one record per
line, or an Excel workbook with one sheet per table joined by 办件编号.

A record is a plain dict::

    {"case_number": "…", "accept": {…}, "process": [{…}, …], "result": {…} | None,
     "special_procedure": [{…}, …], "material": [{…}, …]}

Keys are stable snake_case English names; values are strings, integers, booleans or
``None``. Times are local (Asia/Shanghai) ``YYYY-MM-DD HH:MM:SS``, dates ``YYYY-MM-DD``, the
form the national exchange tables use. Text values are Simplified Chinese whatever the
reader's language: the record goes to the provincial platform. A field the platform does not
hold is ``""`` (never invented); see "Not held" below.

受理 ``accept`` (up_pro_accept), one per application:

=========================  ================  ================================================
key                        national field    from
=========================  ================  ================================================
case_number                办件编号          Application.number
apply_time                 申请时间          submitted_at
accept_time                受理时间          accepted_at ("" before acceptance)
accept_doc_number          受理文书编号      number of the 受理通知书 (``<number>-SL``)
promise_finish_date        承诺办结时间      due_date (working-day clock, pauses excluded)
accept_dept_name           受理部门          the accepting department
accept_dept_code           受理部门编码      its 统一社会信用代码 ("" when not recorded)
accept_person              受理人员          the clerk who accepted (timeline)
applicant_name             申请人名称        the person applied for (代办 principal, else the
                                             applicant); an enterprise account's enterprise
applicant_type             申请人类型        自然人 / 法人
applicant_id_type          申请人证件类型    居民身份证 / 统一社会信用代码
applicant_id_number        申请人证件号码    decrypted ID number or USCC (**personal data**)
legal_representative       法定代表人        the enterprise's (法人 only)
contact_name               联系人/代理人     the person who applied (the 代办 agent, or the
                                             applicant)
contact_id_type            联系人证件类型    居民身份证 ("" when no number is held)
contact_id_number          联系人证件号码    decrypted (**personal data**)
contact_mobile             联系人手机        the contact phone given with the application
mailing_address            通讯地址          not held: ""
postcode                   邮编              not held: ""
apply_type                 申请类型          channel: 网上申请 / 接口申请 / 窗口申请 / 自助终端
handle_type                办理类型          the version's 办件类型: 即办件 / 承诺件
summary                    办理摘要          "<applicant>申请<item or 一件事>"
task_code                  实施编码          ServiceItem.task_code
catalog_code               基本编码          ServiceItem.catalog_code
task_name                  事项名称          the pinned version's name
task_version               事项版本          the pinned version's number
=========================  ================  ================================================

过程 ``process`` (up_pro_process), one row per step, in time order: 受理 (or 不予受理;
待受理 while waiting), each 补正 (request and supply), each department task (同意 /
不同意 / 已取消, or 待认领 / 办理中 while open), 撤回, 办结, 送达:

``seq`` 序号, ``step_name`` 办理环节名称, ``action`` 业务动作, ``dept_name`` 办理部门,
``start_time`` 环节开始时间, ``end_time`` 环节结束时间, ``opinion`` 办理意见, ``handler``
受理人员 (the person, or 系统 for the rules engine).

结果 ``result`` (up_pro_result), once the case has ended (办结, 不予受理 or 撤回), else
``None``: ``finish_time`` 办结时间, ``result`` 办结结果 (准予办理 / 不予办理 / 不予受理 /
已撤回), ``result_description`` 办件结果描述, ``certificate_name`` 结果证照名称 (the
version's 审批结果名称 when approved), ``certificate_number`` 结果证照编号 (not held: no
e-certificate is issued yet), ``delivered_by_express`` 是否快递递送结果 (``None`` before
issuance), ``satisfaction`` 满意度 (好差评 level: 非常满意 … 非常不满意, "" when not rated),
``satisfaction_level`` (5 … 1, ``None`` when not rated).

特别程序 ``special_procedure`` (up_pro_special_procedure), one row per special procedure
(补正 is a step of ``process``, not a special procedure): ``seq`` 序号, ``kind`` 种类 (听证,
专家评审, 现场勘验, 检验检测, 公示, 其他特别程序), ``reason`` 启动理由或依据, ``start_time``
开始时间, ``end_time`` 结束时间, ``opinion`` 办理意见 (not held apart from the result: ""),
``result`` 结果.

材料 ``material`` (up_pro_material), one row per material received or promised: ``seq``
序号, ``name`` 材料名称, ``collect_method`` 收取方式 (申请人上传 / 部门共享获取 / 容缺后补),
``collect_count`` 收取数量 (0 for a 容缺 promise not yet kept), ``attachment_name`` 附件名称
(the uploaded file's name, or the sharing reference of a fetched material).

Not held: 通讯地址, 邮编, 结果证照编号, a special procedure's 办理意见. The national code
lists for 申请人类型, 证件类型, 申请类型 and 办结结果 differ by province and were not
available (standards.md §1.4 says the same of 事项类型): the labels are exported, to be
mapped to codes by the provincial interface.

The export includes ID numbers: the API gives a record only to staff of the accepting
department (``access.access_case_record``) and audits the read; the command is run by an
operator and writes one audit row per export (``services.case_records_export_log``).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any

from django.db.models import Prefetch, QuerySet
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from yiwang.accounts.models import Department, User
from yiwang.accounts.selectors import department_subtree_ids
from yiwang.applications import errors
from yiwang.applications.models import Application, ApplicationMaterial, Event, Pause, Task
from yiwang.applications.selectors import notice_document_number
from yiwang.core.calendar import SHANGHAI
from yiwang.core.errors import ValidationError
from yiwang.evaluation.selectors import rating_levels_of

# The record's text is Simplified Chinese whatever the reader's language.
RECORD_LANGUAGE = "zh-hans"
CHUNK_SIZE = 500
# Excel's limit, header included; a longer table continues on "<title>（2）" and so on.
XLSX_MAX_ROWS = 1_048_576
FORMATS = ("jsonl", "xlsx")

# (key, Chinese header) per table, in the national order; the keys are the record's keys.
ACCEPT_FIELDS: tuple[tuple[str, Promise], ...] = (
    ("case_number", _("办件编号")),
    ("apply_time", _("申请时间")),
    ("accept_time", _("受理时间")),
    ("accept_doc_number", _("受理文书编号")),
    ("promise_finish_date", _("承诺办结时间")),
    ("accept_dept_name", _("受理部门")),
    ("accept_dept_code", _("受理部门编码")),
    ("accept_person", _("受理人员")),
    ("applicant_name", _("申请人名称")),
    ("applicant_type", _("申请人类型")),
    ("applicant_id_type", _("申请人证件类型")),
    ("applicant_id_number", _("申请人证件号码")),
    ("legal_representative", _("法定代表人")),
    ("contact_name", _("联系人/代理人")),
    ("contact_id_type", _("联系人证件类型")),
    ("contact_id_number", _("联系人证件号码")),
    ("contact_mobile", _("联系人手机")),
    ("mailing_address", _("通讯地址")),
    ("postcode", _("邮编")),
    ("apply_type", _("申请类型")),
    ("handle_type", _("办理类型")),
    ("summary", _("办理摘要")),
    ("task_code", _("实施编码")),
    ("catalog_code", _("基本编码")),
    ("task_name", _("事项名称")),
    ("task_version", _("事项版本")),
)
PROCESS_FIELDS: tuple[tuple[str, Promise], ...] = (
    ("case_number", _("办件编号")),
    ("seq", _("序号")),
    ("step_name", _("办理环节名称")),
    ("action", _("业务动作")),
    ("dept_name", _("办理部门")),
    ("start_time", _("环节开始时间")),
    ("end_time", _("环节结束时间")),
    ("opinion", _("办理意见")),
    ("handler", _("受理人员")),
)
RESULT_FIELDS: tuple[tuple[str, Promise], ...] = (
    ("case_number", _("办件编号")),
    ("finish_time", _("办结时间")),
    ("result", _("办结结果")),
    ("result_description", _("办件结果描述")),
    ("certificate_name", _("结果证照名称")),
    ("certificate_number", _("结果证照编号")),
    ("delivered_by_express", _("是否快递递送结果")),
    ("satisfaction", _("满意度")),
    ("satisfaction_level", _("满意度等级")),
)
SPECIAL_PROCEDURE_FIELDS: tuple[tuple[str, Promise], ...] = (
    ("case_number", _("办件编号")),
    ("seq", _("序号")),
    ("kind", _("种类")),
    ("reason", _("启动理由或依据")),
    ("start_time", _("开始时间")),
    ("end_time", _("结束时间")),
    ("opinion", _("办理意见")),
    ("result", _("结果")),
)
MATERIAL_FIELDS: tuple[tuple[str, Promise], ...] = (
    ("case_number", _("办件编号")),
    ("seq", _("序号")),
    ("name", _("材料名称")),
    ("collect_method", _("收取方式")),
    ("collect_count", _("收取数量")),
    ("attachment_name", _("附件名称")),
)


@dataclass(frozen=True)
class Table:
    key: str  # the record's key
    national: str  # the national table
    title: Promise  # the sheet's name
    fields: tuple[tuple[str, Promise], ...]


TABLES: tuple[Table, ...] = (
    Table("accept", "up_pro_accept", _("受理"), ACCEPT_FIELDS),
    Table("process", "up_pro_process", _("过程"), PROCESS_FIELDS),
    Table("result", "up_pro_result", _("结果"), RESULT_FIELDS),
    Table(
        "special_procedure",
        "up_pro_special_procedure",
        _("特别程序"),
        SPECIAL_PROCEDURE_FIELDS,
    ),
    Table("material", "up_pro_material", _("材料"), MATERIAL_FIELDS),
)

# The timeline events that name who did a window step, and when a refusal happened.
_STEP_EVENTS = ("accepted", "refused", "concluded", "issued", "withdrawn")


# --- formatting ------------------------------------------------------------------------------


def _time(value: datetime | None) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _date(value: date | None) -> str:
    return value.isoformat() if value else ""


def _person(label: str) -> str:
    """A timeline or task label: a person's name, or a system actor (``system:rules``)."""
    return gettext("系统") if label.startswith("system:") else label


# --- one application ---------------------------------------------------------------------------


def _records_queryset(applications: QuerySet[Application]) -> QuerySet[Application]:
    # Large and not reported: the process state (a serialized workflow), the form, and the
    # process and rules of the version (joined to every row).
    rows = applications.defer(
        "workflow_state", "form_data", "version__bpmn_xml", "version__dmn_xml"
    )
    return rows.select_related(
        "item", "version", "bundle", "department", "applicant", "principal"
    ).prefetch_related(
        Prefetch("materials", queryset=ApplicationMaterial.objects.order_by("id")),
        Prefetch(
            "tasks",
            queryset=Task.objects.select_related("department", "assignee").order_by(
                "created_at", "id"
            ),
        ),
        Prefetch(
            "pauses",
            queryset=Pause.objects.select_related("started_by", "task__department").order_by(
                "started_at", "id"
            ),
        ),
        Prefetch(
            "events",
            queryset=Event.objects.filter(kind__in=_STEP_EVENTS).order_by("created_at", "id"),
            to_attr="step_events",
        ),
        "applicant__enterprises",
        "principal__enterprises",
    )


def _party(user: User) -> dict[str, str]:
    """Who applied, as the national table names them: a citizen by ID number, an enterprise
    account by its enterprise (when it belongs to exactly one: the application does not say
    which, so with several none is guessed)."""
    if user.kind == User.Kind.ENTERPRISE:
        enterprises = list(user.enterprises.all())
        if len(enterprises) == 1:
            enterprise = enterprises[0]
            return {
                "applicant_name": enterprise.name,
                "applicant_type": gettext("法人"),
                "applicant_id_type": gettext("统一社会信用代码"),
                "applicant_id_number": enterprise.uscc,
                "legal_representative": enterprise.legal_representative,
            }
        return {
            "applicant_name": user.real_name or user.username,
            "applicant_type": gettext("法人"),
            "applicant_id_type": "",
            "applicant_id_number": "",
            "legal_representative": "",
        }
    return {
        "applicant_name": user.real_name or user.username,
        "applicant_type": gettext("自然人"),
        "applicant_id_type": gettext("居民身份证") if user.id_number else "",
        "applicant_id_number": user.id_number or "",
        "legal_representative": "",
    }


def _events(application: Application, kind: str) -> list[Event]:
    return [e for e in application.step_events if e.kind == kind]  # type: ignore[attr-defined]


def _last_event(application: Application, kind: str) -> Event | None:
    found = _events(application, kind)
    return found[-1] if found else None


def _accept(application: Application) -> dict[str, Any]:
    person = application.principal or application.applicant
    contact = application.applicant
    accepted = _last_event(application, "accepted")
    version = application.version
    party = _party(person)
    subject = application.bundle.name if application.bundle else version.name
    return {
        "case_number": application.number,
        "apply_time": _time(application.submitted_at),
        "accept_time": _time(application.accepted_at),
        "accept_doc_number": notice_document_number(number=application.number, kind="acceptance")
        if application.accepted_at
        else "",
        "promise_finish_date": _date(application.due_date),
        "accept_dept_name": application.department.name,
        "accept_dept_code": application.department.uscc,
        "accept_person": _person(accepted.actor_label) if accepted else "",
        **party,
        "contact_name": contact.real_name or contact.username,
        "contact_id_type": gettext("居民身份证") if contact.id_number else "",
        "contact_id_number": contact.id_number or "",
        "contact_mobile": application.contact_phone,
        "mailing_address": "",
        "postcode": "",
        "apply_type": str(application.get_channel_display()),
        "handle_type": str(version.get_project_type_display()) if version.project_type else "",
        "summary": gettext("%(who)s申请%(what)s")
        % {"who": party["applicant_name"], "what": subject},
        "task_code": application.item.task_code,
        "catalog_code": application.item.catalog_code,
        "task_name": version.name,
        "task_version": version.number,
    }


@dataclass
class _Step:
    start: datetime | None
    row: dict[str, Any] = field(default_factory=dict)


def _acceptance_step(application: Application) -> _Step:
    refused = _last_event(application, "refused")
    accepted = _last_event(application, "accepted")
    department = application.department.name
    if application.accepted_at is not None:
        action = gettext("受理")
        if any(
            m.source == ApplicationMaterial.Source.PROMISED for m in application.materials.all()
        ):
            action = gettext("容缺受理")
        end, opinion, handler = (
            application.accepted_at,
            accepted.text if accepted else "",
            accepted.actor_label if accepted else "",
        )
    elif refused is not None:
        action, end = gettext("不予受理"), refused.created_at
        opinion, handler = "；".join(application.refusal_reasons), refused.actor_label
    elif application.status == Application.Status.WITHDRAWN:
        action, end, opinion, handler = gettext("未受理"), None, "", ""
    else:
        action, end, opinion, handler = gettext("待受理"), None, "", ""
    return _Step(
        application.submitted_at,
        {
            "step_name": gettext("受理"),
            "action": action,
            "dept_name": department,
            "start_time": _time(application.submitted_at),
            "end_time": _time(end),
            "opinion": opinion,
            "handler": _person(handler),
        },
    )


def _supplement_step(pause: Pause, department: str) -> _Step:
    return _Step(
        pause.started_at,
        {
            "step_name": gettext("补正"),
            "action": gettext("一次性告知补正") if pause.ended_at is None else gettext("补正完成"),
            "dept_name": pause.task.department.name if pause.task else department,
            "start_time": _time(pause.started_at),
            "end_time": _time(pause.ended_at),
            "opinion": pause.reason,
            "handler": str(pause.started_by) if pause.started_by else "",
        },
    )


def _task_step(task: Task) -> _Step:
    if task.status == Task.Status.DONE:
        action = str(task.get_outcome_display())
    else:
        action = str(task.get_status_display())
    handler = task.completed_by_label or (str(task.assignee) if task.assignee else "")
    return _Step(
        task.created_at,
        {
            "step_name": task.name,
            "action": action,
            "dept_name": task.department.name,
            "start_time": _time(task.created_at),
            "end_time": _time(task.completed_at),
            "opinion": task.opinion,
            "handler": _person(handler),
        },
    )


def _window_step(
    application: Application,
    *,
    kind: str,
    name: str,
    action: str,
    at: datetime | None,
    opinion: str,
) -> _Step | None:
    if at is None:
        return None
    event = _last_event(application, kind)
    return _Step(
        at,
        {
            "step_name": name,
            "action": action,
            "dept_name": application.department.name,
            "start_time": _time(at),
            "end_time": _time(at),
            "opinion": opinion,
            "handler": _person(event.actor_label) if event else "",
        },
    )


def _process(application: Application) -> list[dict[str, Any]]:
    department = application.department.name
    steps = [_acceptance_step(application)]
    steps += [
        _supplement_step(p, department)
        for p in application.pauses.all()
        if p.kind == Pause.Kind.SUPPLEMENT
    ]
    steps += [_task_step(t) for t in application.tasks.all()]
    tracking = application.tracking_number
    window = [
        _window_step(
            application,
            kind="withdrawn",
            name=gettext("撤回"),
            action=gettext("申请人撤回"),
            at=application.withdrawn_at,
            opinion="",
        ),
        _window_step(
            application,
            kind="concluded",
            name=gettext("办结"),
            action=str(application.get_decision_display()),
            at=application.concluded_at,
            opinion=application.result_note,
        ),
        _window_step(
            application,
            kind="issued",
            name=gettext("送达"),
            action=str(application.get_delivery_method_display()),
            at=application.issued_at,
            opinion=gettext("快递单号 %(t)s") % {"t": tracking} if tracking else "",
        ),
    ]
    steps += [s for s in window if s is not None]
    # Stable: steps with the same start keep the order above.
    steps.sort(key=lambda s: s.start or application.submitted_at)
    return [
        {"case_number": application.number, "seq": seq, **step.row}
        for seq, step in enumerate(steps, start=1)
    ]


def _result(application: Application, rating: Any) -> dict[str, Any] | None:
    status = application.status
    Status = Application.Status
    certificate_name = ""
    express: bool | None = None
    if status in (Status.CONCLUDED, Status.ISSUED):
        finish = application.concluded_at
        approved = application.decision == Application.Decision.APPROVED
        outcome = str(Status.APPROVED.label if approved else Status.REJECTED.label)
        if approved:
            description = application.result_note
            certificate_name = application.version.result_name
        else:
            opinions = [
                t.opinion
                for t in application.tasks.all()
                if t.outcome == Task.Outcome.REFUSE and t.opinion.strip()
            ]
            description = "；".join(opinions) or application.result_note
        if status == Status.ISSUED:
            express = application.delivery_method == Application.Delivery.POST
    elif status == Status.REFUSED:
        refused = _last_event(application, "refused")
        finish = refused.created_at if refused else application.updated_at
        outcome = str(Status.REFUSED.label)
        description = "；".join(application.refusal_reasons)
    elif status == Status.WITHDRAWN:
        finish, outcome, description = application.withdrawn_at, str(Status.WITHDRAWN.label), ""
    else:
        return None
    return {
        "case_number": application.number,
        "finish_time": _time(finish),
        "result": outcome,
        "result_description": description,
        "certificate_name": certificate_name,
        "certificate_number": "",
        "delivered_by_express": express,
        "satisfaction": str(rating.label) if rating is not None else "",
        "satisfaction_level": int(rating) if rating is not None else None,
    }


def _special_procedures(application: Application) -> list[dict[str, Any]]:
    pauses = [p for p in application.pauses.all() if p.kind != Pause.Kind.SUPPLEMENT]
    return [
        {
            "case_number": application.number,
            "seq": seq,
            "kind": str(p.get_kind_display()),
            "reason": p.reason,
            "start_time": _time(p.started_at),
            "end_time": _time(p.ended_at),
            "opinion": "",
            "result": p.result,
        }
        for seq, p in enumerate(pauses, start=1)
    ]


def _materials(application: Application) -> list[dict[str, Any]]:
    return [
        {
            "case_number": application.number,
            "seq": seq,
            "name": m.name,
            "collect_method": str(m.get_source_display()),
            "collect_count": 0
            if m.source == ApplicationMaterial.Source.PROMISED and m.fulfilled_at is None
            else 1,
            "attachment_name": m.original_name or m.reference,
        }
        for seq, m in enumerate(application.materials.all(), start=1)
    ]


def _record(application: Application, rating: Any) -> dict[str, Any]:
    return {
        "case_number": application.number,
        "accept": _accept(application),
        "process": _process(application),
        "result": _result(application, rating),
        "special_procedure": _special_procedures(application),
        "material": _materials(application),
    }


def case_records_iter(
    applications: QuerySet[Application], *, chunk_size: int = CHUNK_SIZE
) -> Iterator[dict[str, Any]]:
    """The record of every application of ``applications`` in key order, ``chunk_size`` at a
    time (keyset pagination: no OFFSET, no open cursor; memory bounded by the chunk)."""
    last = 0
    while True:
        with translation.override(RECORD_LANGUAGE):
            chunk = list(
                _records_queryset(applications.filter(pk__gt=last).order_by("pk"))[:chunk_size]
            )
            if not chunk:
                return
            ratings = rating_levels_of(
                subject_kind="application", subject_ids=[str(a.public_id) for a in chunk]
            )
            records = [_record(a, ratings.get(str(a.public_id))) for a in chunk]
        yield from records
        if len(chunk) < chunk_size:
            return
        last = chunk[-1].pk


def case_record(application: Application) -> dict[str, Any]:
    """The five tables of one application (a fixed number of queries)."""
    return next(case_records_iter(Application.objects.filter(pk=application.pk)))


# --- selection -------------------------------------------------------------------------------


def case_records_select(
    *, since: date | None = None, until: date | None = None, department_code: str = ""
) -> QuerySet[Application]:
    """Applications submitted (申请时间, city time) from ``since`` to ``until`` inclusive, of
    the department ``department_code`` and every department below it (a bureau reports for
    its offices). Raises ``applications.invalid`` for an unknown code or reversed dates."""
    rows = Application.objects.all()
    if since and until and since > until:
        raise ValidationError(
            errors.INVALID,
            _("开始日期 %(since)s 晚于结束日期 %(until)s。")
            % {"since": since.isoformat(), "until": until.isoformat()},
            field="since",
        )
    if since:
        rows = rows.filter(submitted_at__gte=datetime.combine(since, time.min, tzinfo=SHANGHAI))
    if until:
        end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=SHANGHAI)
        rows = rows.filter(submitted_at__lt=end)
    if department_code:
        department = Department.objects.filter(code=department_code).first()
        if department is None:
            raise ValidationError(
                errors.INVALID,
                _("找不到机构代码为“%(code)s”的部门。") % {"code": department_code},
                field="department",
            )
        rows = rows.filter(department_id__in=department_subtree_ids([department.pk]))
    return rows


# --- files -----------------------------------------------------------------------------------


def case_records_write_jsonl(records: Iterable[dict[str, Any]], out: IO[str]) -> int:
    """One JSON object per line (UTF-8, Chinese unescaped); returns the number of records."""
    count = 0
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        out.write("\n")
        count += 1
    return count


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return gettext("是") if value else gettext("否")
    return "" if value is None else value


class _Sheets:
    """Write-only sheets (streamed to temporary files by openpyxl), one per table, continued
    on a new sheet when one is full."""

    def __init__(self, workbook: Any, *, max_rows: int) -> None:
        self.workbook = workbook
        self.max_rows = max_rows
        self.current: dict[str, Any] = {}
        self.rows: dict[str, int] = {}
        self.parts: dict[str, int] = {}
        self.counts: dict[str, int] = {}
        for table in TABLES:
            self.parts[table.key] = 0
            self.counts[table.key] = 0
            self._open(table)

    def _open(self, table: Table) -> None:
        self.parts[table.key] += 1
        part = self.parts[table.key]
        title = str(table.title) if part == 1 else f"{table.title}（{part}）"
        sheet = self.workbook.create_sheet(title=title)
        if part > 1:  # beside the part it continues
            sheets = self.workbook.worksheets
            before = sheets.index(self.current[table.key])
            self.workbook.move_sheet(title, offset=before + 1 - sheets.index(sheet))
        sheet.append([str(header) for _key, header in table.fields])
        self.current[table.key] = sheet
        self.rows[table.key] = 1

    def append(self, table: Table, row: dict[str, Any]) -> None:
        if self.rows[table.key] >= self.max_rows:
            self._open(table)
        self.current[table.key].append([_cell(row[key]) for key, _header in table.fields])
        self.rows[table.key] += 1
        self.counts[table.key] += 1


def case_records_write_xlsx(
    records: Iterable[dict[str, Any]], path: str | Path, *, max_rows: int = XLSX_MAX_ROWS
) -> dict[str, int]:
    """Five sheets (受理, 过程, 结果, 特别程序, 材料) with Chinese headers, rows joined by
    办件编号, streamed (openpyxl write-only mode). Returns the rows written per table."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    with translation.override(RECORD_LANGUAGE):
        sheets = _Sheets(workbook, max_rows=max_rows)
        for record in records:
            for table in TABLES:
                value = record[table.key]
                for row in value if isinstance(value, list) else [value] if value else []:
                    sheets.append(table, row)
    workbook.save(str(path))
    return sheets.counts


@dataclass(frozen=True)
class ExportReport:
    path: str
    records: int
    rows: dict[str, int]  # per table (xlsx); empty for jsonl


def case_records_export(
    *,
    path: str,
    fmt: str,
    applications: QuerySet[Application],
    chunk_size: int = CHUNK_SIZE,
) -> ExportReport:
    """Write the records of ``applications`` to ``path`` as ``fmt`` (jsonl or xlsx). The file
    appears whole or not at all: it is written beside ``path`` under a temporary name and
    renamed at the end; on any failure the temporary file is removed and ``path`` untouched."""
    if fmt not in FORMATS:
        raise ValidationError(
            errors.INVALID,
            _("不支持的格式“%(f)s”，可选：%(all)s。") % {"f": fmt, "all": " / ".join(FORMATS)},
            field="format",
        )
    target = Path(path)
    directory = target.parent if str(target.parent) else Path()
    if not directory.is_dir():
        raise ValidationError(
            errors.INVALID, _("输出目录不存在：%(d)s") % {"d": str(directory)}, field="out"
        )
    records = case_records_iter(applications, chunk_size=chunk_size)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".part", dir=str(directory)
    )
    os.close(handle)
    try:
        if fmt == "jsonl":
            with open(temporary, "w", encoding="utf-8") as out:
                count = case_records_write_jsonl(records, out)
            rows: dict[str, int] = {}
        else:
            rows = case_records_write_xlsx(records, temporary)
            count = rows["accept"]  # one 受理 row per record
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return ExportReport(path=str(target), records=count, rows=rows)
