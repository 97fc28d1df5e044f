"""Applications (办件): submission and progress for applicants, the window's acceptance work and
the departments' task inbox for staff, and the public progress query.

* Applicants (citizens and enterprise accounts): ``POST /applications`` (JSON, or multipart
  with a ``payload`` JSON part and one file part per material named ``material_<id>``;
  ``Idempotency-Key`` header), their own list and detail, withdraw, supplement. Through a
  bearer token the channel is ``api``; a session may say ``online`` or ``terminal``.
* Window clerks (``/staff/applications``): the acceptance queue, submit for a walk-in applicant
  (``channel=window`` with the applicant's name and ID number), accept (容缺 too), refuse,
  request supplements, conclude, issue.
* Approvers (``/staff/tasks``): the department inbox, claim, complete, return, special
  procedures.
* ``GET /progress``: public, rate-limited, number + last four digits of the phone; shows the
  status, the timeline's kinds, the expected date and department names, nothing personal.

Who may act is decided by yiwang.applications.access (objects) and the services (roles).
"""

# No ``from __future__ import annotations``: ninja builds schemas from the signatures.

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from urllib.parse import urlencode
from uuid import UUID

from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import Throttled
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import paginate
from ninja.responses import NinjaJSONEncoder
from pydantic import ValidationError as PydanticValidationError

from yiwang.accounts.models import User
from yiwang.accounts.selectors import citizen_find_by_identity
from yiwang.api.auth import AUTH_METHOD_ATTR, request_user
from yiwang.applications import services
from yiwang.applications.access import (
    access_case_record,
    access_own_application,
    access_staff_application,
    access_task,
    require_applicant,
    require_staff,
)
from yiwang.applications.case_record import case_record
from yiwang.applications.models import Application, ApplicationMaterial, Event, Pause, Task
from yiwang.applications.selectors import (
    NOTICE_KINDS,
    PROGRESS_FAILURE_WINDOW,
    acceptance_queue,
    application_light,
    application_notice_pdf,
    application_pauses,
    applications_of,
    progress_admission,
    progress_find,
    progress_rate_window,
    task_inbox,
    task_light,
)
from yiwang.catalog.models import Bundle, ServiceItem
from yiwang.core.access import client_address
from yiwang.core.errors import NotFound, ValidationError
from yiwang.core.masking import mask_name, mask_phone

router = Router(tags=["applications"])


# --- schemas ---------------------------------------------------------------------------------


class MaterialIn(Schema):
    material_id: int = Field(description="catalog material id (from the item's guide)")
    content_base64: str | None = Field(None, description="the file, base64 (PDF, JPG, PNG)")
    filename: str = Field("", max_length=200)
    promised: bool = Field(False, description="容缺: supply later (tolerated materials only)")


class ApplicantIn(Schema):
    real_name: str = Field(min_length=1, max_length=50)
    id_number: str = Field(min_length=1, max_length=30)


class ApplicationIn(Schema):
    task_code: str | None = Field(None, max_length=50, description="实施编码 of the item")
    bundle: str | None = Field(None, max_length=64, description="code of a 一件事 bundle")
    situation: str = Field("", max_length=50, description="办理情形 code, when the item has any")
    form_data: dict[str, Any] = Field(default_factory=dict)
    contact_phone: str = Field(min_length=1, max_length=20)
    channel: Literal["online", "terminal", "window"] | None = None
    principal_id: UUID | None = Field(None, description="代办: the principal's public id")
    applicant: ApplicantIn | None = Field(None, description="window only: the walk-in applicant")
    materials: list[MaterialIn] = Field(default_factory=list, max_length=100)


class SupplementIn(Schema):
    materials: list[MaterialIn] = Field(default_factory=list, max_length=100)
    form_data: dict[str, Any] | None = None
    note: str = Field("", max_length=500)


class ReasonIn(Schema):
    reason: str = Field("", max_length=500)


class NoteIn(Schema):
    note: str = Field("", max_length=500)


class AcceptIn(Schema):
    note: str = Field("", max_length=500)
    tolerated: list[int] = Field(default_factory=list, description="容缺 material ids")
    promised_due: date | None = None


class ReasonsIn(Schema):
    reasons: list[str] = Field(min_length=1, max_length=50)


class ItemsIn(Schema):
    items: list[str] = Field(min_length=1, max_length=50)


class IssueIn(Schema):
    delivery_method: Literal["window", "post", "electronic"]
    tracking_number: str = Field("", max_length=40)
    address: str = Field("", max_length=300)


class CompleteIn(Schema):
    outcome: Literal["approve", "refuse"]
    opinion: str = Field(min_length=1, max_length=2000)


class SpecialIn(Schema):
    kind: Literal["hearing", "expert_review", "inspection", "testing", "public_notice", "other"]
    reason: str = Field(min_length=1, max_length=2000)


class ResultIn(Schema):
    result: str = Field(min_length=1, max_length=2000)


class MaterialOut(Schema):
    id: UUID
    material_id: int
    name: str
    source: str
    filename: str
    content_type: str
    size: int
    promised_due: date | None
    fulfilled: bool


class TaskBriefOut(Schema):
    id: UUID
    name: str
    department: str
    status: str
    outcome: str
    due_date: date | None
    light: str


class EventOut(Schema):
    kind: str
    at: datetime
    text: str
    department: str


class ApplicationOut(Schema):
    id: UUID
    number: str = Field(description="办件编号")
    name: str
    task_code: str
    bundle: str | None
    status: str
    status_label: str
    decision: str
    channel: str
    department: str
    submitted_at: datetime
    accepted_at: datetime | None
    due_date: date | None = Field(description="承诺办结日期 (expected completion)")
    light: str = Field(description="none | green | yellow | red")
    paused: bool
    refusal_reasons: list[str]
    supplement_items: list[str]
    delivery_method: str
    tracking_number: str
    materials: list[MaterialOut]
    tasks: list[TaskBriefOut]
    events: list[EventOut]


class StaffApplicationOut(ApplicationOut):
    """What the department sees besides: the applicant (masked) and the form."""

    applicant: str = Field(description="applicant's name, masked")
    principal: str = Field(description="代办: the principal's name, masked")
    contact_phone: str = Field(description="masked")
    situation: str
    form_data: dict[str, Any]


class ApplicationRowOut(Schema):
    id: UUID
    number: str
    name: str
    status: str
    status_label: str
    department: str
    submitted_at: datetime
    due_date: date | None

    @staticmethod
    def resolve_id(obj: Application) -> UUID:
        return obj.public_id

    @staticmethod
    def resolve_status_label(obj: Application) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_department(obj: Application) -> str:
        return obj.department.name


class TaskOut(Schema):
    id: UUID
    application_id: UUID
    application_number: str
    application_name: str
    name: str
    department: str
    status: str
    assignee: str
    outcome: str
    opinion: str
    due_date: date | None
    light: str
    escalated: bool

    @staticmethod
    def resolve_id(obj: Task) -> UUID:
        return obj.public_id

    @staticmethod
    def resolve_application_id(obj: Task) -> UUID:
        return obj.application.public_id

    @staticmethod
    def resolve_application_number(obj: Task) -> str:
        return obj.application.number

    @staticmethod
    def resolve_application_name(obj: Task) -> str:
        return obj.application.name

    @staticmethod
    def resolve_department(obj: Task) -> str:
        return obj.department.name

    @staticmethod
    def resolve_assignee(obj: Task) -> str:
        return str(obj.assignee) if obj.assignee else ""

    @staticmethod
    def resolve_light(obj: Task) -> str:
        return task_light(obj)

    @staticmethod
    def resolve_escalated(obj: Task) -> bool:
        return obj.escalated_at is not None


class PauseOut(Schema):
    kind: str
    reason: str
    started_at: datetime
    ended_at: datetime | None
    result: str


class CaseRecordOut(Schema):
    """The national 办件 tables of one application; the keys of each table and their national
    names are listed in docs/api.md and yiwang/applications/case_record.py."""

    case_number: str = Field(description="办件编号")
    accept: dict[str, Any] = Field(description="受理 (up_pro_accept)")
    process: list[dict[str, Any]] = Field(description="过程 (up_pro_process), in time order")
    result: dict[str, Any] | None = Field(description="结果 (up_pro_result); null until it ends")
    special_procedure: list[dict[str, Any]] = Field(
        description="特别程序 (up_pro_special_procedure)"
    )
    material: list[dict[str, Any]] = Field(description="材料 (up_pro_material)")


class ProgressEventOut(Schema):
    kind: str
    at: datetime
    department: str


class ProgressOut(Schema):
    number: str
    name: str
    status: str
    status_label: str
    submitted_at: datetime
    expected_date: date | None
    departments: list[str]
    events: list[ProgressEventOut]


class InboxFilters(Schema):
    status: Literal["open", "claimed", "done"] | None = None


# --- helpers ---------------------------------------------------------------------------------


def _row(application: Application) -> dict[str, Any]:
    return {
        "id": application.public_id,
        "number": application.number,
        "name": application.name,
        "status": application.status,
        "status_label": str(application.get_status_display()),
        "department": application.department.name,
        "submitted_at": application.submitted_at,
        "due_date": application.due_date,
    }


def _material_out(row: ApplicationMaterial) -> dict[str, Any]:
    return {
        "id": row.public_id,
        "material_id": row.material_id,
        "name": row.name,
        "source": row.source,
        "filename": row.original_name,
        "content_type": row.content_type,
        "size": row.size,
        "promised_due": row.promised_due,
        "fulfilled": row.source != ApplicationMaterial.Source.PROMISED
        or row.fulfilled_at is not None,
    }


# What a detail lists, read once each; a service that has just written some of these rows hands
# them on (yiwang.core.db.known) and those are not read again.
_DETAIL_ROWS = (
    Prefetch("tasks", queryset=Task.objects.select_related("department")),
    "pauses",
    "materials",
    Prefetch("events", queryset=Event.objects.select_related("department")),
)


def _detail(application: Application, *, staff: bool) -> dict[str, Any]:
    prefetch_related_objects([application], *_DETAIL_ROWS)
    tasks = application.tasks.all()  # in their default order, as every list below
    pauses = list(application.pauses.all())
    now = timezone.now()
    clock = application_pauses(application, rows=pauses, now=now)
    return {
        **_row(application),
        "task_code": application.item.task_code,
        "bundle": application.bundle.code if application.bundle else None,
        "decision": application.decision,
        "channel": application.channel,
        "accepted_at": application.accepted_at,
        "light": application_light(application, now=now, pauses=clock),
        "paused": any(p.ended_at is None for p in pauses),
        "refusal_reasons": list(application.refusal_reasons),
        "supplement_items": list(application.supplement_items),
        "delivery_method": application.delivery_method,
        "tracking_number": application.tracking_number,
        "materials": [_material_out(m) for m in application.materials.all()],
        "tasks": [
            {
                "id": t.public_id,
                "name": t.name,
                "department": t.department.name,
                "status": t.status,
                "outcome": t.outcome,
                "due_date": t.due_date,
                "light": task_light(t, now=now, pauses=clock),
            }
            for t in tasks
        ],
        "events": [
            {
                "kind": e.kind,
                "at": e.created_at,
                "text": e.text,
                "department": e.department.name if e.department else "",
            }
            for e in application.events.all()
            if staff or e.public
        ],
    }


def _parse(request: HttpRequest, schema: type[Schema]) -> tuple[Any, dict[str, bytes]]:
    """The body as ``schema``: JSON, or multipart with a ``payload`` JSON part and files."""
    files: dict[str, bytes] = {}
    try:
        if request.content_type == "multipart/form-data":
            raw: Any = json.loads(request.POST.get("payload") or "{}")
            for name in request.FILES:
                upload = request.FILES.get(name)
                if upload is not None:
                    files[name] = upload.read()
        else:
            raw = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise NinjaValidationError(
            [{"loc": ("body", "payload"), "type": "json_invalid", "msg": str(exc)}]
        ) from exc
    try:
        return schema.model_validate(raw), files
    except PydanticValidationError as exc:
        raise NinjaValidationError(
            [{**e, "loc": ("body", "payload", *e["loc"])} for e in exc.errors()]
        ) from exc


def _materials(given: list[MaterialIn], files: dict[str, bytes]) -> list[services.MaterialInput]:
    found: list[services.MaterialInput] = []
    seen: set[int] = set()
    for index, material in enumerate(given):
        content = files.get(f"material_{material.material_id}")
        if content is None and material.content_base64:
            try:
                content = base64.b64decode(material.content_base64, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ValidationError(
                    "applications.invalid",
                    _("第 %(i)d 项材料的 base64 内容无效。") % {"i": index + 1},
                    field=f"materials[{index}].content_base64",
                ) from exc
        seen.add(material.material_id)
        found.append(
            services.MaterialInput(
                material_id=material.material_id,
                content=content,
                filename=material.filename,
                promised=material.promised,
            )
        )
    for name, content in files.items():  # files without an entry in the payload
        if name.startswith("material_") and name[9:].isdigit() and int(name[9:]) not in seen:
            found.append(services.MaterialInput(material_id=int(name[9:]), content=content))
    return found


# --- applicants ------------------------------------------------------------------------------


@dataclass
class _Request:
    """A submission's parties, channel and target, resolved from the request."""

    user: User
    payload: ApplicationIn
    files: dict[str, bytes]
    channel: str
    item: ServiceItem | None
    bundle: Bundle | None
    applicant: User | None
    principal: User | None


def _submission(request: HttpRequest) -> _Request:
    user = request_user(request)
    payload, files = _parse(request, ApplicationIn)
    channel = payload.channel or "online"
    if channel == "window":
        require_staff(user)
    else:
        require_applicant(user)
        if getattr(request, AUTH_METHOD_ATTR, "") == "token":
            channel = "api"
    item = bundle = None
    if payload.bundle:
        bundle = Bundle.objects.filter(code=payload.bundle).first()
        if bundle is None:
            raise NotFound("core.not_found", _("找不到该一件事。"))
    elif payload.task_code:
        item = ServiceItem.objects.filter(task_code=payload.task_code).first()
        if item is None:
            raise NotFound("core.not_found", _("找不到该事项。"))
    applicant = principal = None
    if payload.applicant is not None and channel == "window":
        applicant = citizen_find_by_identity(
            real_name=payload.applicant.real_name, id_number=payload.applicant.id_number
        )
        if applicant is None:
            raise ValidationError(
                "applications.invalid",
                _("找不到姓名和身份证号码相符的实名注册用户。"),
                field="applicant",
            )
    if payload.principal_id is not None:
        principal = User.objects.filter(public_id=payload.principal_id).first()
        if principal is None:
            raise ValidationError(
                "applications.invalid", _("找不到被代办人。"), field="principal_id"
            )
    return _Request(user, payload, files, channel, item, bundle, applicant, principal)


def _service_arguments(r: _Request) -> dict[str, Any]:
    """What ``application_submit`` and ``application_validate`` both take."""
    return {
        "actor": r.user,
        "item": r.item,
        "bundle": r.bundle,
        "form_data": r.payload.form_data,
        "contact_phone": r.payload.contact_phone,
        "materials": _materials(r.payload.materials, r.files),
        "situation": r.payload.situation,
        "channel": r.channel,
        "applicant": r.applicant,
        "principal": r.principal,
    }


@router.post("/applications", response={201: ApplicationOut, 200: ApplicationOut})
def application_create(request: HttpRequest) -> Status[dict[str, Any]]:
    """Submit an application (JSON or multipart; see the module docs). With the same
    `Idempotency-Key` a repeated request answers 200 with the first application."""
    r = _submission(request)
    key = request.headers.get("Idempotency-Key", "")
    before = (
        Application.objects.filter(applicant=r.applicant or r.user, idempotency_key=key)
        .values_list("pk", flat=True)
        .first()
        if key
        else None
    )
    application = services.application_submit(**_service_arguments(r), idempotency_key=key)
    status = 200 if before == application.pk else 201
    return Status(status, _detail(application, staff=False))


class ValidOut(Schema):
    valid: bool = Field(description="always true: an invalid submission answers 422")


@router.post("/applications/validate", response=ValidOut)
def application_validate(request: HttpRequest) -> dict[str, Any]:
    """Check a submission (the same body as `POST /applications`) without creating anything
    or storing a file: 200 when it would be accepted for 预审, else the same 422 with every
    problem that the submission would answer."""
    services.application_validate(**_service_arguments(_submission(request)))
    return {"valid": True}


@router.get("/applications", response=list[ApplicationRowOut])
@paginate
def application_list(request: HttpRequest) -> QuerySet[Application]:
    """Your applications (and those filed for you or for a principal you act for)."""
    return applications_of(require_applicant(request_user(request)))


@router.get("/applications/{application_id}", response=ApplicationOut)
def application_detail(request: HttpRequest, application_id: UUID) -> dict[str, Any]:
    user = require_applicant(request_user(request))
    return _detail(access_own_application(user, application_id), staff=False)


@router.get(
    "/applications/{application_id}/notices/{kind}.pdf",
    response={200: None},
    openapi_extra={
        "responses": {
            200: {
                "description": "the notice as PDF",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def application_notice(request: HttpRequest, application_id: UUID, kind: str) -> HttpResponse:
    """A case notice as PDF: ``acceptance`` 受理通知书, ``refusal`` 不予受理通知书,
    ``correction`` 补正材料一次性告知书, ``decision`` 办结通知书. For the applicant (and the
    代办 principal or agent) and for staff of the application's department (the read is
    audited); 404 for anyone else and while the case has not reached that notice."""
    user = request_user(request)
    staff = getattr(user, "kind", None) == User.Kind.STAFF
    if staff:
        application = access_staff_application(user, application_id)
    else:
        application = access_own_application(user, application_id)
    progress_url = (
        request.build_absolute_uri(reverse("api:progress_query"))
        + "?"
        + urlencode({"number": application.number})
    )
    pdf = (
        application_notice_pdf(application=application, kind=kind, progress_url=progress_url)
        if kind in NOTICE_KINDS
        else None
    )
    if pdf is None:
        raise NotFound("core.not_found", _("该办件还没有这份通知书。"))
    if staff:
        services.application_read_log(
            actor=user, application=application, purpose=f"打印通知书（{kind}）"
        )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{application.number}-{kind}.pdf"'
    return response


@router.post("/applications/{application_id}/withdraw", response=ApplicationOut)
def application_withdraw(
    request: HttpRequest, application_id: UUID, payload: ReasonIn
) -> dict[str, Any]:
    user = require_applicant(request_user(request))
    application = access_own_application(user, application_id)
    done = services.application_withdraw(application=application, actor=user, reason=payload.reason)
    return _detail(done, staff=False)


@router.post("/applications/{application_id}/supplement", response=ApplicationOut)
def application_supplement(request: HttpRequest, application_id: UUID) -> dict[str, Any]:
    """Supply what was asked (JSON with base64 files, or multipart like the submission)."""
    user = require_applicant(request_user(request))
    application = access_own_application(user, application_id)
    payload, files = _parse(request, SupplementIn)
    done = services.application_supplement(
        application=application,
        actor=user,
        materials=_materials(payload.materials, files),
        form_data=payload.form_data,
        note=payload.note,
    )
    return _detail(done, staff=False)


# --- window ----------------------------------------------------------------------------------


@router.get("/staff/applications/queue", response=list[ApplicationRowOut])
@paginate
def staff_acceptance_queue(request: HttpRequest) -> QuerySet[Application]:
    """Applications waiting for acceptance in your window departments, oldest first."""
    return acceptance_queue(require_staff(request_user(request)))


@router.get("/staff/applications/{application_id}", response=StaffApplicationOut)
def staff_application_detail(request: HttpRequest, application_id: UUID) -> dict[str, Any]:
    """The case as the department works on it; the read is audited with its purpose."""
    user = require_staff(request_user(request))
    application = access_staff_application(user, application_id)
    services.application_read_log(actor=user, application=application, purpose="办件受理审查")
    principal = application.principal
    return {
        **_detail(application, staff=True),
        "applicant": mask_name(application.applicant.real_name),
        "principal": mask_name(principal.real_name) if principal else "",
        "contact_phone": mask_phone(application.contact_phone),
        "situation": application.situation,
        "form_data": application.form_data,
    }


@router.get("/staff/applications/{application_id}/case-record", response=CaseRecordOut)
def staff_case_record(request: HttpRequest, application_id: UUID) -> dict[str, Any]:
    """The national case record (受理, 过程, 结果, 特别程序, 材料) for the provincial
    platform. It carries the applicant's ID number unmasked: only staff of the accepting
    department (or above it, by a subtree role) get it, and the read is audited."""
    user = require_staff(request_user(request))
    application = access_case_record(user, application_id)
    services.application_read_log(actor=user, application=application, purpose="国家办件数据上报")
    return case_record(application)


@router.post("/staff/applications/{application_id}/accept", response=ApplicationOut)
def staff_application_accept(
    request: HttpRequest, application_id: UUID, payload: AcceptIn
) -> dict[str, Any]:
    user = require_staff(request_user(request))
    application = access_staff_application(user, application_id)
    done = services.application_accept(
        application=application,
        actor=user,
        note=payload.note,
        tolerated=payload.tolerated,
        promised_due=payload.promised_due,
    )
    return _detail(done, staff=True)


@router.post("/staff/applications/{application_id}/refuse", response=ApplicationOut)
def staff_application_refuse(
    request: HttpRequest, application_id: UUID, payload: ReasonsIn
) -> dict[str, Any]:
    user = require_staff(request_user(request))
    application = access_staff_application(user, application_id)
    done = services.application_refuse(application=application, actor=user, reasons=payload.reasons)
    return _detail(done, staff=True)


@router.post("/staff/applications/{application_id}/request-supplement", response=ApplicationOut)
def staff_application_request_supplement(
    request: HttpRequest, application_id: UUID, payload: ItemsIn
) -> dict[str, Any]:
    user = require_staff(request_user(request))
    application = access_staff_application(user, application_id)
    done = services.application_request_supplement(
        application=application, actor=user, items=payload.items
    )
    return _detail(done, staff=True)


@router.post("/staff/applications/{application_id}/conclude", response=ApplicationOut)
def staff_application_conclude(
    request: HttpRequest, application_id: UUID, payload: NoteIn
) -> dict[str, Any]:
    user = require_staff(request_user(request))
    application = access_staff_application(user, application_id)
    done = services.application_conclude(application=application, actor=user, note=payload.note)
    return _detail(done, staff=True)


@router.post("/staff/applications/{application_id}/issue", response=ApplicationOut)
def staff_application_issue(
    request: HttpRequest, application_id: UUID, payload: IssueIn
) -> dict[str, Any]:
    user = require_staff(request_user(request))
    application = access_staff_application(user, application_id)
    done = services.application_issue(
        application=application,
        actor=user,
        delivery_method=payload.delivery_method,
        tracking_number=payload.tracking_number,
        address=payload.address,
    )
    return _detail(done, staff=True)


# --- department tasks ------------------------------------------------------------------------


@router.get("/staff/tasks", response=list[TaskOut])
@paginate
def staff_task_inbox(request: HttpRequest, filters: Query[InboxFilters]) -> QuerySet[Task]:
    """Your departments' approval tasks (open and claimed by default), by due date."""
    return task_inbox(require_staff(request_user(request)), status=filters.status)


@router.post("/staff/tasks/{task_id}/claim", response=TaskOut)
def staff_task_claim(request: HttpRequest, task_id: UUID) -> Task:
    user = require_staff(request_user(request))
    return services.task_claim(task=access_task(user, task_id), actor=user)


@router.post("/staff/tasks/{task_id}/complete", response=TaskOut)
def staff_task_complete(request: HttpRequest, task_id: UUID, payload: CompleteIn) -> Task:
    user = require_staff(request_user(request))
    return services.task_complete(
        task=access_task(user, task_id),
        actor=user,
        outcome=payload.outcome,
        opinion=payload.opinion,
    )


@router.post("/staff/tasks/{task_id}/return", response=TaskOut)
def staff_task_return(request: HttpRequest, task_id: UUID, payload: ItemsIn) -> Task:
    user = require_staff(request_user(request))
    return services.task_return(task=access_task(user, task_id), actor=user, items=payload.items)


def _pause_out(pause: Pause) -> dict[str, Any]:
    return {
        "kind": pause.kind,
        "reason": pause.reason,
        "started_at": pause.started_at,
        "ended_at": pause.ended_at,
        "result": pause.result,
    }


@router.post("/staff/tasks/{task_id}/special-procedure", response={201: PauseOut})
def staff_special_procedure_start(
    request: HttpRequest, task_id: UUID, payload: SpecialIn
) -> Status[dict[str, Any]]:
    """Open a special procedure (听证, 专家评审, 现场勘验 …): the clock stops."""
    user = require_staff(request_user(request))
    pause = services.special_procedure_start(
        task=access_task(user, task_id), actor=user, kind=payload.kind, reason=payload.reason
    )
    return Status(201, _pause_out(pause))


@router.post("/staff/tasks/{task_id}/special-procedure/end", response=PauseOut)
def staff_special_procedure_end(
    request: HttpRequest, task_id: UUID, payload: ResultIn
) -> dict[str, Any]:
    user = require_staff(request_user(request))
    pause = services.special_procedure_end(
        task=access_task(user, task_id), actor=user, result=payload.result
    )
    return _pause_out(pause)


# --- public progress query ---------------------------------------------------------------------


class ProgressParams(Schema):
    number: str = Field(min_length=1, max_length=32, description="办件编号")
    phone_last4: str = Field(
        min_length=4, max_length=4, pattern=r"^\d{4}$", description="last 4 digits of the phone"
    )


@router.get("/progress", auth=None, response=ProgressOut)
def progress_query(request: HttpRequest, params: Query[ProgressParams]) -> HttpResponse:
    """办件进度查询: the application's status, timeline (kinds and departments), expected
    completion date. An unknown number and wrong digits give the same 404."""
    # Per client address, for everyone (signed in or not): the number and four digits are
    # the only secret, so guessing must be slow; the same budget as the /progress/ page. Per
    # number too: many addresses guessing the 10,000 endings of one number get nowhere.
    within, locked = progress_admission(address=client_address(request), number=params.number)
    if not within:
        raise Throttled(wait=progress_rate_window()[1])
    if locked:
        raise Throttled(wait=PROGRESS_FAILURE_WINDOW)
    progress = progress_find(number=params.number, phone_last4=params.phone_last4)
    if progress is None:
        raise NotFound("core.not_found", _("没有找到与编号和手机号后四位相符的办件。"))
    # The hottest public read: the values are built here in ProgressOut's shape (a test checks
    # them against the schema, which stays the documented response) and rendered directly,
    # without a second validation pass per request (docs/adr/0006-hot-paths.md).
    return JsonResponse(
        {
            "number": progress.number,
            "name": progress.item_name,
            "status": progress.status,
            "status_label": progress.status_label,
            "submitted_at": progress.submitted_at,
            "expected_date": progress.expected_date,
            "departments": progress.departments,
            "events": [
                {"kind": e.kind, "at": e.at, "department": e.department} for e in progress.events
            ],
        },
        encoder=NinjaJSONEncoder,
    )
