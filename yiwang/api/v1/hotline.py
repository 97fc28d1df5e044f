"""12345 hotline work orders (工单) for the city app and for staff integrations.

* Citizens (and enterprise accounts): ``POST /hotline/orders`` (JSON with base64 photos, or
  multipart with a ``payload`` JSON part and the photos as file parts; ``Idempotency-Key``
  header), their own orders under ``/me/hotline/orders`` with the replies and the public
  timeline, and their rating of a replied order (``…/satisfaction``).
* Staff: the orders they may see (the 12345 centre all of them, a supervisor those of their
  scope, a handling unit those dispatched to it), the staff view with the caller masked, and
  one operation per transition: dispatch, sign, return, return review, assist, reply,
  extension and its decision, return visit, close, merge, transfer.
* ``GET /hotline/categories``: the category tree for the app's picker.

Which order a person may see is decided by yiwang.hotline.access (anyone else's order is a
404); what they may do with it by yiwang.hotline.services (403 or 409).
"""

# No ``from __future__ import annotations``: ninja builds schemas from the signatures.

import base64
import binascii
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import paginate
from pydantic import ValidationError as PydanticValidationError

from yiwang.accounts.models import Department, User
from yiwang.api.auth import request_user
from yiwang.core.errors import NotFound, PermissionDenied, ValidationError
from yiwang.hotline import clock, errors, services
from yiwang.hotline.access import access_order_for_staff, access_own_order
from yiwang.hotline.models import Attachment, Category, Event, OrderStatus, WorkOrder
from yiwang.hotline.selectors import (
    CITIZEN_EVENT_KINDS,
    category_tree,
    order_citizen_events,
    orders_for_staff,
    orders_for_staff_filtered,
    orders_of_citizen,
)

router = Router(tags=["hotline"])

CITIZEN_KINDS = (User.Kind.CITIZEN, User.Kind.ENTERPRISE)
# An integration key belongs to a system user, which acts by the roles it was given.
STAFF_KINDS = (User.Kind.STAFF, User.Kind.SYSTEM)

EVENT_LABELS: dict[str, Any] = {
    "registered": _("已受理"),
    "dispatched": _("已派单"),
    "signed": _("承办单位已签收"),
    "replied": _("已答复"),
    "visited": _("已回访"),
    "reopened": _("重新办理"),
    "supervising": _("督办中"),
    "merged": _("已合并办理"),
    "transferred": _("已转紧急热线"),
    "closed": _("已办结"),
}
EMERGENCY_LABELS: dict[str, Any] = {
    "110": _("报警"),
    "119": _("火警"),
    "120": _("急救"),
    "122": _("交通事故报警"),
}

OrderKind = Literal["consult", "help", "complaint", "report", "suggestion", "praise"]
Outcome = Literal["resolved", "explained", "not_resolvable"]


# --- schemas: input ----------------------------------------------------------------------------


class PhotoIn(Schema):
    filename: str = Field("", max_length=200)
    content_base64: str = Field(description="the image, base64 (JPEG, PNG or WebP, ≤ 10 MB)")


class OrderIn(Schema):
    content: str = Field(description="what happened (≤ 4000 characters); stored as plain text")
    title: str = Field("", description="≤ 100 characters; by default the content's beginning")
    kind: OrderKind = "complaint"
    category: str | None = Field(None, description="category code (GET /hotline/categories)")
    lat: float | None = Field(None, description="WGS-84, with long")
    long: float | None = None
    address: str = Field("", max_length=200)
    division_code: str = Field("", max_length=12, description="行政区划代码 (6, 9 or 12 digits)")
    publish_consent: bool = Field(False, description="the writer agrees to publication")
    confidential: bool = Field(False, description="保密: keep the caller's identity from units")
    callback_requested: bool = True
    photos: list[PhotoIn] = Field(default_factory=list, max_length=services.MAX_PHOTOS + 1)


class SatisfactionIn(Schema):
    level: int = Field(ge=1, le=5, description="5 非常满意 … 1 非常不满意")
    comment: str = Field("", max_length=1000, description="required for levels 2 and 1")


class DispatchIn(Schema):
    lead_unit: str | None = Field(None, description="department code; default: the catalogue")
    assisting_units: list[str] = Field(default_factory=list, max_length=20)
    category: str | None = Field(None, description="category code confirming or correcting it")
    note: str = Field("", max_length=1000)


class ReasonIn(Schema):
    reason: str = Field(max_length=2000)


class NoteIn(Schema):
    note: str = Field(max_length=2000)


class ReturnReviewIn(Schema):
    accept: bool
    note: str = Field("", max_length=1000)
    lead_unit: str | None = Field(None, description="accepting: the new lead unit's code")
    assisting_units: list[str] = Field(default_factory=list, max_length=20)


class ReplyIn(Schema):
    action: str = Field(max_length=4000, description="办理情况: what the unit did")
    text: str = Field(max_length=4000, description="答复: the answer the citizen gets")
    outcome: Outcome


class DecisionIn(Schema):
    approve: bool
    note: str = Field("", max_length=1000)


class VisitIn(Schema):
    method: Literal["phone", "sms"] = "phone"
    reached: bool = True
    satisfaction: int | None = Field(None, ge=1, le=5)
    resolved: bool | None = None
    comment: str = Field("", max_length=1000)


class CloseIn(Schema):
    outcome: Outcome
    note: str = Field(max_length=2000)


class MergeIn(Schema):
    into: str = Field(min_length=1, max_length=32, description="工单编号 of the open order")


class TransferIn(Schema):
    number: Literal["", "110", "119", "120", "122"] = Field(
        "", description="default: the number the order was flagged with"
    )


class StaffFilters(Schema):
    status: OrderStatus | None = None
    category: str = Field("", max_length=32, description="category code (any level)")
    unit: str = Field("", max_length=64, description="lead unit's department code")


# --- schemas: output ---------------------------------------------------------------------------


class Ref(Schema):
    code: str
    name: str


class EmergencyOut(Schema):
    number: str = Field(description="110, 119, 120 or 122")
    notice: str


class PhotoOut(Schema):
    name: str
    content_type: str
    size: int


class ReplyOut(Schema):
    unit: str
    text: str
    outcome: str
    outcome_label: str
    at: datetime


class EventOut(Schema):
    kind: str
    label: str
    at: datetime
    unit: str


class OrderOut(Schema):
    """An order as the citizen who filed it sees it."""

    id: UUID
    number: str = Field(description="工单编号")
    title: str
    content: str
    kind: str
    kind_label: str
    channel: str
    status: str
    status_label: str
    category: Ref | None
    lead_unit: Ref | None
    address: str
    division_code: str
    lat: float | None
    long: float | None
    emergency: EmergencyOut | None = Field(description="call this number now, if set")
    publish_consent: bool
    registered_at: datetime
    handle_due: datetime | None = Field(description="the unit answers by then")
    replied_at: datetime | None
    closed_at: datetime | None
    outcome: str
    satisfaction: int | None
    can_rate: bool = Field(description="replied: POST …/satisfaction now")
    photos: list[PhotoOut]
    replies: list[ReplyOut]
    events: list[EventOut]


class StaffReplyOut(ReplyOut):
    action: str


class AssignmentOut(Schema):
    round: int
    unit: Ref
    role: str
    status: str
    signed_at: datetime | None
    return_reason: str
    note: str


class VisitOut(Schema):
    method: str
    result: str
    satisfaction: int | None
    resolved: bool | None
    comment: str
    at: datetime


class ExtensionOut(Schema):
    id: int
    unit: str
    reason: str
    status: str
    decision_note: str
    new_due: datetime | None
    requested_at: datetime


class StaffEventOut(EventOut):
    note: str


class StaffOrderOut(Schema):
    """An order as staff work on it: the caller masked, the full timeline."""

    id: UUID
    number: str
    title: str
    content: str
    kind: str
    kind_label: str
    channel: str
    status: str
    status_label: str
    urgency: str
    category: Ref | None
    suggested_category: Ref | None
    suggested_confidence: float | None
    lead_unit: Ref | None
    caller_name: str = Field(description="masked")
    caller_phone: str = Field(description="masked")
    callback_requested: bool
    confidential: bool
    address: str
    division_code: str
    lat: float | None
    long: float | None
    emergency: EmergencyOut | None
    dispatch_count: int
    designated: bool
    merged_into: str | None = Field(description="工单编号 of the order this one repeats")
    registered_at: datetime
    dispatched_at: datetime | None
    sign_due: datetime | None
    signed_at: datetime | None
    return_due: datetime | None
    handle_due: datetime | None
    light: str = Field(description="none | green | yellow | red")
    escalated_at: datetime | None
    extended: bool
    replied_at: datetime | None
    reply_on_time: bool | None
    reopen_count: int
    closed_at: datetime | None
    outcome: str
    satisfaction: int | None
    photos: list[PhotoOut]
    assignments: list[AssignmentOut]
    replies: list[StaffReplyOut]
    visits: list[VisitOut]
    extensions: list[ExtensionOut]
    events: list[StaffEventOut]


class OrderRowOut(Schema):
    id: UUID
    number: str
    title: str
    kind: str
    status: str
    status_label: str
    urgency: str
    category: str
    lead_unit: str
    registered_at: datetime
    handle_due: datetime | None
    closed_at: datetime | None

    @staticmethod
    def resolve_id(obj: WorkOrder) -> UUID:
        return obj.public_id

    @staticmethod
    def resolve_status_label(obj: WorkOrder) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_category(obj: WorkOrder) -> str:
        return obj.category.name if obj.category else ""

    @staticmethod
    def resolve_lead_unit(obj: WorkOrder) -> str:
        return obj.lead_unit.name if obj.lead_unit else ""


class CategoryNodeOut(Schema):
    code: str
    name: str
    description: str
    children: list["CategoryNodeOut"]


CategoryNodeOut.model_rebuild()


# --- helpers -----------------------------------------------------------------------------------


def _citizen(request: HttpRequest) -> User:
    user = request_user(request)
    if user.kind not in CITIZEN_KINDS:
        raise PermissionDenied("core.forbidden", _("只有群众和企业用户可以办理此操作。"))
    return user


def _staff(request: HttpRequest) -> User:
    user = request_user(request)
    if user.kind not in STAFF_KINDS:
        raise PermissionDenied("core.forbidden", _("只有工作人员可以办理此操作。"))
    return user


def _ref(obj: Category | Department | None) -> dict[str, str] | None:
    return {"code": obj.code, "name": obj.name} if obj is not None else None


def _emergency(order: WorkOrder) -> dict[str, str] | None:
    number = order.emergency_number
    if not number or order.status == WorkOrder.Status.TRANSFERRED:
        return None
    return {
        "number": number,
        "notice": gettext("您反映的情况可能需要紧急处置（%(l)s），请立即拨打 %(n)s。")
        % {"l": EMERGENCY_LABELS.get(number, number), "n": number},
    }


def _common(order: WorkOrder, photos: Iterable[Attachment] | None = None) -> dict[str, Any]:
    return {
        "id": order.public_id,
        "number": order.number,
        "title": order.title,
        "content": order.content,
        "kind": order.kind,
        "kind_label": str(order.get_kind_display()),
        "channel": order.channel,
        "status": order.status,
        "status_label": str(order.get_status_display()),
        "category": _ref(order.category),
        "lead_unit": _ref(order.lead_unit),
        "address": order.address,
        "division_code": order.division_code,
        "lat": order.lat,
        "long": order.long,
        "emergency": _emergency(order),
        "registered_at": order.registered_at,
        "handle_due": order.handle_due,
        "replied_at": order.replied_at,
        "closed_at": order.closed_at,
        "outcome": order.outcome,
        "satisfaction": order.satisfaction,
        "photos": [
            {"name": a.name, "content_type": a.content_type, "size": a.size}
            for a in (order.attachments.all() if photos is None else photos)
        ],
    }


def _reply(reply: Any) -> dict[str, Any]:
    return {
        "unit": reply.unit.name,
        "text": reply.text,
        "outcome": reply.outcome,
        "outcome_label": str(reply.get_outcome_display()),
        "at": reply.created_at,
    }


def _citizen_detail(order: WorkOrder, written: services.Intake | None = None) -> dict[str, Any]:
    """The citizen's view of ``order``; of a registration ``written`` in this request, from
    the rows it wrote (it has no reply yet) rather than read back."""
    if written is None:
        photos = None
        replies = [_reply(r) for r in order.replies.select_related("unit")]
        events: Iterable[Event] = order_citizen_events(order)
    else:
        photos, replies = written.attachments, []
        events = [e for e in written.events if e.kind in CITIZEN_EVENT_KINDS]
    return {
        **_common(order, photos),
        "publish_consent": order.publish_consent,
        "can_rate": order.status == WorkOrder.Status.REPLIED,
        "replies": replies,
        "events": [
            {
                "kind": e.kind,
                "label": str(EVENT_LABELS.get(e.kind, e.kind)),
                "at": e.created_at,
                "unit": e.unit.name if e.unit else "",
            }
            for e in events
        ],
    }


def _as_read(order: WorkOrder) -> WorkOrder:
    """``order`` as the database gives it back: times in UTC (the deadlines were computed in
    Shanghai time), so that an answer built from the written row shows what a read would."""
    for f in order._meta.concrete_fields:
        value = getattr(order, f.attname)
        if isinstance(value, datetime) and value.tzinfo is not None:
            setattr(order, f.attname, value.astimezone(UTC))
    return order


def _light(order: WorkOrder) -> str:
    if not order.is_open or order.status == WorkOrder.Status.REPLIED:
        return "none"
    ratio = float(clock.limits_for(order.category, order.urgency).warn_ratio)
    return clock.light(
        now=timezone.now(), start=order.dispatched_at, due=order.handle_due, ratio=ratio
    )


def _staff_detail(order: WorkOrder) -> dict[str, Any]:
    order.refresh_from_db()
    caller_name, caller_phone = services.masked_caller(order)
    return {
        **_common(order),
        "urgency": order.urgency,
        "suggested_category": _ref(order.suggested_category),
        "suggested_confidence": order.suggested_confidence,
        "caller_name": caller_name,
        "caller_phone": caller_phone,
        "callback_requested": order.callback_requested,
        "confidential": order.confidential,
        "dispatch_count": order.dispatch_count,
        "designated": order.designated,
        "merged_into": order.merged_into.number if order.merged_into else None,
        "dispatched_at": order.dispatched_at,
        "sign_due": order.sign_due,
        "signed_at": order.signed_at,
        "return_due": order.return_due,
        "light": _light(order),
        "escalated_at": order.escalated_at,
        "extended": order.extended,
        "reply_on_time": order.reply_on_time,
        "reopen_count": order.reopen_count,
        "assignments": [
            {
                "round": a.round,
                "unit": _ref(a.unit),
                "role": a.role,
                "status": a.status,
                "signed_at": a.signed_at,
                "return_reason": a.return_reason,
                "note": a.note,
            }
            for a in order.assignments.select_related("unit")
        ],
        "replies": [
            {**_reply(r), "action": r.action} for r in order.replies.select_related("unit")
        ],
        "visits": [
            {
                "method": v.method,
                "result": v.result,
                "satisfaction": v.satisfaction,
                "resolved": v.resolved,
                "comment": v.comment,
                "at": v.created_at,
            }
            for v in order.visits.all()
        ],
        "extensions": [
            {
                "id": x.pk,
                "unit": x.unit.name,
                "reason": x.reason,
                "status": x.status,
                "decision_note": x.decision_note,
                "new_due": x.new_due,
                "requested_at": x.created_at,
            }
            for x in order.extensions.select_related("unit")
        ],
        "events": [
            {
                "kind": e.kind,
                "label": str(EVENT_LABELS.get(e.kind, e.kind)),
                "at": e.created_at,
                "unit": e.unit.name if e.unit else "",
                "note": e.note,
            }
            for e in order.events.select_related("unit")
        ],
    }


def _parse(request: HttpRequest) -> tuple[OrderIn, list[services.Photo]]:
    """The body as ``OrderIn`` and its photos: JSON (photos in base64), or multipart with a
    ``payload`` JSON part and one file part per photo (any part name)."""
    uploads: list[services.Photo] = []
    try:
        if request.content_type == "multipart/form-data":
            raw: Any = json.loads(request.POST.get("payload") or "{}")
            for name in request.FILES:
                for upload in request.FILES.getlist(name):
                    if len(uploads) > services.MAX_PHOTOS:
                        break  # enough for the service to refuse them; read no more
                    # One byte past the limit is enough for the service to refuse it.
                    content = upload.read(services.MAX_PHOTO_BYTES + 1)
                    uploads.append(services.Photo(name=upload.name or name, content=content))
        else:
            raw = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise NinjaValidationError(
            [{"loc": ("body", "payload"), "type": "json_invalid", "msg": str(exc)}]
        ) from exc
    try:
        payload = OrderIn.model_validate(raw)
    except PydanticValidationError as exc:
        raise NinjaValidationError(
            [{**e, "loc": ("body", "payload", *e["loc"])} for e in exc.errors()]
        ) from exc
    problems = []
    for index, photo in enumerate(payload.photos):
        try:
            content = base64.b64decode(photo.content_base64, validate=True)
        except (binascii.Error, ValueError):
            problems.append(
                {
                    "field": f"photos[{index}].content_base64",
                    "code": "hotline.photo_base64",
                    "message": str(_("第 %(i)d 张照片的 base64 内容无效。") % {"i": index + 1}),
                }
            )
            continue
        uploads.append(services.Photo(name=photo.filename or f"photo-{index + 1}", content=content))
    if problems:
        raise ValidationError(
            errors.INVALID, "；".join(p["message"] for p in problems), problems=problems
        )
    return payload, uploads


def _departments(codes: list[str], field: str) -> list[Department]:
    found = {d.code: d for d in Department.objects.filter(code__in=codes)}
    missing = [c for c in codes if c not in found]
    if missing:
        message = str(_("找不到单位：%(c)s。") % {"c": "、".join(missing)})
        raise ValidationError(
            errors.UNIT_INVALID,
            message,
            problems=[{"field": field, "code": errors.UNIT_INVALID, "message": message}],
        )
    return [found[c] for c in codes]


def _department(code: str | None, field: str) -> Department | None:
    return _departments([code], field)[0] if code else None


def _category(code: str | None) -> Category | None:
    if not code:
        return None
    category = Category.objects.filter(code=code, active=True).first()
    if category is None:
        message = str(_("诉求分类不存在或已停用。"))
        raise ValidationError(
            errors.CATEGORY_UNKNOWN,
            message,
            problems=[{"field": "category", "code": errors.CATEGORY_UNKNOWN, "message": message}],
        )
    return category


def _staff_order(request: HttpRequest, order_id: UUID) -> tuple[User, WorkOrder]:
    user = _staff(request)
    return user, access_order_for_staff(user, order_id)


def _inline_refs(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref.startswith("#/$defs/"):
            return _inline_refs(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline_refs(v, defs) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline_refs(v, defs) for v in node]
    return node


def _order_body_schema() -> dict[str, Any]:
    """The documented request body of ``POST /hotline/orders``, which the operation parses
    itself (JSON or multipart); nested models inlined, since the document has no $defs."""
    schema = OrderIn.model_json_schema()
    defs = schema.pop("$defs", {})
    body = _inline_refs(schema, defs)
    multipart = {
        "type": "object",
        "properties": {
            "payload": {"type": "string", "description": "the JSON body above, as text"},
            "photo": {"type": "array", "items": {"type": "string", "format": "binary"}},
        },
        "required": ["payload"],
    }
    return {
        "required": True,
        "content": {
            "application/json": {"schema": body},
            "multipart/form-data": {"schema": multipart},
        },
    }


# --- citizens ----------------------------------------------------------------------------------


@router.post(
    "/hotline/orders",
    response={201: OrderOut, 200: OrderOut},
    openapi_extra={
        "requestBody": _order_body_schema(),
        "parameters": [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": 64},
                "description": "resend the same key when retrying: one order, not two",
            }
        ],
    },
)
def hotline_order_create(request: HttpRequest) -> Status[dict[str, Any]]:
    """File a request (诉求) with the 12345 hotline. JSON, or multipart with a `payload` JSON
    part and the photos as file parts. Every problem of the input comes at once as
    `422 hotline.invalid` with `problems`; nothing is created. With the same
    `Idempotency-Key` a repeated request answers 200 with the first order; the same key with
    another content is `409 hotline.idempotency_conflict`."""
    user = _citizen(request)
    payload, photos = _parse(request)
    intake = services.work_order_register(
        actor=user,
        channel=WorkOrder.Channel.API,
        citizen=user,
        content=payload.content,
        title=payload.title,
        kind=payload.kind,
        category=payload.category or None,
        lat=payload.lat,
        long=payload.long,
        address=payload.address,
        division_code=payload.division_code,
        publish_consent=payload.publish_consent,
        confidential=payload.confidential,
        callback_requested=payload.callback_requested,
        photos=photos,
        idempotency_key=request.headers.get("Idempotency-Key", ""),
    )
    if not intake.created:  # the order of the first request, just read
        return Status(200, _citizen_detail(intake.order))
    # Answered from the rows the registration has just written: none is read back.
    return Status(201, _citizen_detail(_as_read(intake.order), intake))


@router.get("/me/hotline/orders", response=list[OrderRowOut])
@paginate
def hotline_my_orders(request: HttpRequest) -> QuerySet[WorkOrder]:
    """Your orders, newest first."""
    return (
        orders_of_citizen(_citizen(request))
        .select_related("category", "lead_unit")
        .order_by("-registered_at", "-id")
    )


@router.get("/me/hotline/orders/{order_id}", response=OrderOut)
def hotline_my_order(request: HttpRequest, order_id: UUID) -> dict[str, Any]:
    """One of your orders, with the units' replies and its public timeline."""
    return _citizen_detail(access_own_order(_citizen(request), order_id))


@router.post("/me/hotline/orders/{order_id}/satisfaction", response=OrderOut)
def hotline_my_order_rate(
    request: HttpRequest, order_id: UUID, payload: SatisfactionIn
) -> dict[str, Any]:
    """Rate the reply to your order (网上评价): 5–3 closes it; 2–1 (with a comment) sends it
    back to the unit once, then to the supervisor. Only while it is replied (else 409)."""
    user = _citizen(request)
    order = access_own_order(user, order_id)
    services.work_order_visit(
        order=order,
        actor=user,
        method="online",
        satisfaction=payload.level,
        comment=payload.comment,
    )
    order.refresh_from_db()
    return _citizen_detail(order)


@router.get("/hotline/categories", response=list[CategoryNodeOut])
def hotline_categories(request: HttpRequest) -> list[dict[str, Any]]:
    """The active category tree (一级/二级/三级), for the app's picker."""
    nodes: dict[int, dict[str, Any]] = {}
    rows = category_tree()
    for c in rows:
        nodes[c.pk] = {"code": c.code, "name": c.name, "description": c.description}
        nodes[c.pk]["children"] = []
    roots: list[dict[str, Any]] = []
    for c in rows:
        parent = nodes.get(c.parent_id) if c.parent_id else None
        (parent["children"] if parent is not None else roots).append(nodes[c.pk])
    return roots


# --- the SMS gateway ----------------------------------------------------------------------------


class SmsReplyIn(Schema):
    phone: str = Field(max_length=20, description="the sender's mobile number")
    text: str = Field(max_length=500, description="what the caller wrote back")


class SmsReplyOut(Schema):
    matched: bool
    order_number: str | None = None
    level: int | None = None


@router.post("/hotline/sms-replies", response=SmsReplyOut)
def hotline_sms_reply(request: HttpRequest, payload: SmsReplyIn) -> dict[str, Any]:
    """The SMS gateway's callback for an incoming SMS (短信回访): "1"–"5" answers the survey sent
    with the reply (1 非常满意 … 5 非常不满意; words after the digit are the comment). Only a
    system integration account may call it. ``matched`` is false when the text is no answer or
    no surveyed order of that number waits for one."""
    user = request_user(request)
    if user.kind != User.Kind.SYSTEM:
        raise PermissionDenied("core.forbidden", _("只有短信网关的系统集成账号可以调用此接口。"))
    visit = services.work_order_survey_answer(
        phone=payload.phone, text=payload.text, actor=f"sms-gateway:{user.username}"
    )
    if visit is None:
        return {"matched": False}
    return {"matched": True, "order_number": visit.order.number, "level": visit.satisfaction}


# --- staff -------------------------------------------------------------------------------------


@router.get("/hotline/orders", response=list[OrderRowOut])
@paginate
def hotline_staff_orders(request: HttpRequest, filters: Query[StaffFilters]) -> QuerySet[WorkOrder]:
    """The orders you may see as staff, newest first: every order for the 12345 centre, those
    of your scope for a supervisor, those dispatched to your units for a handling unit."""
    return orders_for_staff_filtered(
        _staff(request),
        status=filters.status or "",
        category_code=filters.category,
        unit_code=filters.unit,
    )


@router.get("/hotline/orders/{order_id}", response=StaffOrderOut)
def hotline_staff_order(request: HttpRequest, order_id: UUID) -> dict[str, Any]:
    """The order as staff work on it (the caller masked)."""
    _, order = _staff_order(request, order_id)
    return _staff_detail(order)


@router.post("/hotline/orders/{order_id}/dispatch", response=StaffOrderOut)
def hotline_dispatch(request: HttpRequest, order_id: UUID, payload: DispatchIn) -> dict[str, Any]:
    """派单 (12345 centre): to the units given, or by default those of the dispatch catalogue
    for the order's (confirmed) category and area."""
    user, order = _staff_order(request, order_id)
    services.work_order_dispatch(
        order=order,
        actor=user,
        lead_unit=_department(payload.lead_unit, "lead_unit"),
        assisting_units=_departments(payload.assisting_units, "assisting_units"),
        category=_category(payload.category),
        note=payload.note,
    )
    return _staff_detail(order)


@router.post("/hotline/orders/{order_id}/sign", response=StaffOrderOut)
def hotline_sign(request: HttpRequest, order_id: UUID) -> dict[str, Any]:
    """签收 (the lead or an assisting unit)."""
    user, order = _staff_order(request, order_id)
    services.work_order_sign(order=order, actor=user)
    return _staff_detail(order)


@router.post("/hotline/orders/{order_id}/return", response=StaffOrderOut)
def hotline_return(request: HttpRequest, order_id: UUID, payload: ReasonIn) -> dict[str, Any]:
    """退单 (the lead unit, within the return time, with the reason)."""
    user, order = _staff_order(request, order_id)
    services.work_order_return_request(order=order, actor=user, reason=payload.reason)
    return _staff_detail(order)


@router.post("/hotline/orders/{order_id}/return-review", response=StaffOrderOut)
def hotline_return_review(
    request: HttpRequest, order_id: UUID, payload: ReturnReviewIn
) -> dict[str, Any]:
    """The 12345 centre accepts a return (re-dispatch to `lead_unit`) or refuses it (`note`)."""
    user, order = _staff_order(request, order_id)
    services.work_order_return_review(
        order=order,
        actor=user,
        accept=payload.accept,
        note=payload.note,
        lead_unit=_department(payload.lead_unit, "lead_unit"),
        assisting_units=_departments(payload.assisting_units, "assisting_units"),
    )
    return _staff_detail(order)


@router.post("/hotline/orders/{order_id}/assist", response=StaffOrderOut)
def hotline_assist(request: HttpRequest, order_id: UUID, payload: NoteIn) -> dict[str, Any]:
    """协办意见 (an assisting unit's part of the work)."""
    user, order = _staff_order(request, order_id)
    services.work_order_assist(order=order, actor=user, note=payload.note)
    return _staff_detail(order)


@router.post("/hotline/orders/{order_id}/reply", response=StaffOrderOut)
def hotline_reply(request: HttpRequest, order_id: UUID, payload: ReplyIn) -> dict[str, Any]:
    """答复 (the lead unit). An empty, boilerplate or unrelated reply is refused with
    `422 hotline.reply_refused` and its `problems`; the citizen hears nothing of it."""
    user, order = _staff_order(request, order_id)
    services.work_order_reply(
        order=order,
        actor=user,
        action=payload.action,
        text=payload.text,
        outcome=payload.outcome,
    )
    return _staff_detail(order)


@router.post("/hotline/orders/{order_id}/extension", response=StaffOrderOut)
def hotline_extension(request: HttpRequest, order_id: UUID, payload: ReasonIn) -> dict[str, Any]:
    """延期申请 (the lead unit, once, before the limit)."""
    user, order = _staff_order(request, order_id)
    services.work_order_extension_request(order=order, actor=user, reason=payload.reason)
    return _staff_detail(order)


@router.post(
    "/hotline/orders/{order_id}/extensions/{extension_id}/decision", response=StaffOrderOut
)
def hotline_extension_decision(
    request: HttpRequest, order_id: UUID, extension_id: int, payload: DecisionIn
) -> dict[str, Any]:
    """The 12345 centre (or the unit's supervisor) approves or refuses an extension."""
    user, order = _staff_order(request, order_id)
    extension = order.extensions.filter(pk=extension_id).first()
    if extension is None:
        raise NotFound("core.not_found", _("找不到该延期申请。"))
    services.work_order_extension_decide(
        extension=extension, actor=user, approve=payload.approve, note=payload.note
    )
    return _staff_detail(order)


@router.post("/hotline/orders/{order_id}/visit", response=StaffOrderOut)
def hotline_visit(request: HttpRequest, order_id: UUID, payload: VisitIn) -> dict[str, Any]:
    """回访 (12345 centre): by phone, or the result of an SMS survey."""
    user, order = _staff_order(request, order_id)
    services.work_order_visit(
        order=order,
        actor=user,
        method=payload.method,
        reached=payload.reached,
        satisfaction=payload.satisfaction,
        resolved=payload.resolved,
        comment=payload.comment,
    )
    return _staff_detail(order)


@router.post("/hotline/orders/{order_id}/close", response=StaffOrderOut)
def hotline_close(request: HttpRequest, order_id: UUID, payload: CloseIn) -> dict[str, Any]:
    """办结 by a person: the supervisor ends a supervised order; the centre closes one it
    answered directly or could not reach the caller about."""
    user, order = _staff_order(request, order_id)
    services.work_order_close(order=order, actor=user, outcome=payload.outcome, note=payload.note)
    return _staff_detail(order)


@router.post("/hotline/orders/{order_id}/merge", response=StaffOrderOut)
def hotline_merge(request: HttpRequest, order_id: UUID, payload: MergeIn) -> dict[str, Any]:
    """并单 (12345 centre): this order repeats the open order `into` (its 工单编号)."""
    user, order = _staff_order(request, order_id)
    into = orders_for_staff(user).filter(number=payload.into).first()
    if into is None:
        message = str(_("找不到要并入的工单 %(n)s。") % {"n": payload.into})
        raise ValidationError(
            errors.MERGE_INVALID,
            message,
            problems=[{"field": "into", "code": errors.MERGE_INVALID, "message": message}],
        )
    services.work_order_merge(order=order, into=into, actor=user)
    return _staff_detail(order)


@router.post("/hotline/orders/{order_id}/transfer", response=StaffOrderOut)
def hotline_transfer(request: HttpRequest, order_id: UUID, payload: TransferIn) -> dict[str, Any]:
    """转紧急热线 (12345 centre): an emergency goes to 110/119/120/122 and is closed here."""
    user, order = _staff_order(request, order_id)
    services.work_order_transfer(order=order, actor=user, number=payload.number)
    return _staff_detail(order)
