"""Staff pages of the handling units (承办单位) and supervisors (督办), under /console/hotline/:

* the order page (every staff member who may see the order: the centre, the units it was
  dispatched to, supervisors in scope): the order, its photos, deadlines with the light, the
  dispatch rounds, replies, visits, extensions, the timeline, merged orders, and the forms of
  the actions the viewer may take (sign, return, assist, extension, reply, decide, close);
* the unit inbox: open orders of the user's units, nearest due first;
* the supervision page: escalated (超时) and supervising (群众再次不满意) orders.

Each view fetches the order through ``access`` (an order the viewer may not see is a 404),
calls one service and redirects. Which forms are shown is a convenience; the services decide.
A refused input comes back onto the form (422, nothing saved), a state that moved on or an
action not theirs as a message on the order page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast
from urllib.parse import urlencode
from uuid import UUID

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from yiwang.accounts.access import role_required
from yiwang.accounts.models import Role, User
from yiwang.accounts.selectors import user_roles
from yiwang.core.errors import DomainError, NotFound, ValidationError
from yiwang.core.masking import mask_name
from yiwang.evaluation.selectors import supervised_department_ids
from yiwang.hotline import clock, services
from yiwang.hotline.access import access_order_for_staff
from yiwang.hotline.forms_unit import (
    AssistForm,
    CloseForm,
    ExtensionDecideForm,
    ExtensionRequestForm,
    InboxFilterForm,
    ReplyForm,
    ReturnRequestForm,
    SignForm,
    UnitForm,
)
from yiwang.hotline.models import (
    Assignment,
    Attachment,
    Category,
    Event,
    Extension,
    WorkOrder,
)
from yiwang.hotline.selectors import (
    is_dispatcher,
    orders_for_staff,
    supervision_queue,
    unit_ids,
    unit_inbox,
)

PAGE_SIZE = 20
Status = WorkOrder.Status
RUNNING = (Status.DISPATCHED, Status.HANDLING, Status.RETURN_REQUESTED)
CURRENT = (
    Assignment.Status.PENDING,
    Assignment.Status.SIGNED,
    Assignment.Status.RETURN_REQUESTED,
)
# Photos are shown inline only in the types registration accepted (sniffed at upload).
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})

order_viewer_required = role_required(Role.DISPATCHER, Role.HANDLING_UNIT, Role.SUPERVISOR)
unit_required = role_required(Role.HANDLING_UNIT)
supervisor_required = role_required(Role.SUPERVISOR)

EVENT_LABELS: dict[str, Any] = {
    "registered": _("登记"),
    "emergency_flagged": _("识别为紧急诉求"),
    "category_corrected": _("更正分类"),
    "dispatched": _("派单"),
    "signed": _("签收"),
    "return_requested": _("申请退单"),
    "return_accepted": _("同意退单"),
    "return_refused": _("不同意退单"),
    "assisted": _("协办意见"),
    "extension_requested": _("申请延期"),
    "extension_approved": _("批准延期"),
    "extension_refused": _("不批准延期"),
    "warned": _("临近时限预警"),
    "escalated": _("超时督办"),
    "replied": _("答复"),
    "visited": _("回访"),
    "visit_unreachable": _("回访未联系上"),
    "reopened": _("群众不满意，重新办理"),
    "supervising": _("群众再次不满意，转督办"),
    "closed": _("办结"),
    "merged": _("并入其他工单"),
    "merged_in": _("并入重复工单"),
    "transferred": _("转紧急热线"),
    "published": _("公开"),
}


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def order_light(order: WorkOrder, now: datetime) -> str:
    """The order's traffic light while its handling clock runs (none once replied)."""
    if order.status not in RUNNING:
        return "none"
    start = order.dispatched_at
    due = order.handle_due
    ratio = 0.8
    if start is not None and due is not None and order.warn_due is not None and due > start:
        # The ratio in force when the order was dispatched, without a query per order.
        ratio = (order.warn_due - start) / (due - start)
    return clock.light(now=now, start=start, due=due, ratio=ratio)


def _sign_late(order: WorkOrder, now: datetime) -> bool:
    return order.signed_at is None and order.sign_due is not None and now > order.sign_due


def _person(user: User | None) -> str:
    if user is None:
        return str(_("系统"))
    if user.kind == User.Kind.STAFF:
        return user.real_name or user.username
    return mask_name(user.real_name) or str(_("群众"))


# --- the order page --------------------------------------------------------------------------


@dataclass
class Viewer:
    """What the viewer is on this order (the services check again)."""

    dispatcher: bool
    supervisor: bool
    lead: bool
    mine: list[Assignment] = field(default_factory=list)  # own units' current assignments

    @property
    def pending(self) -> bool:
        return any(a.status == Assignment.Status.PENDING for a in self.mine)

    @property
    def assisting(self) -> bool:
        return any(
            a.role == Assignment.Role.ASSIST
            and a.status in (Assignment.Status.PENDING, Assignment.Status.SIGNED)
            for a in self.mine
        )


def _viewer(user: User, order: WorkOrder, current: list[Assignment]) -> Viewer:
    units = unit_ids(user)
    return Viewer(
        dispatcher=is_dispatcher(user),
        supervisor=order.lead_unit_id is not None
        and order.lead_unit_id in supervised_department_ids(user),
        lead=order.lead_unit_id is not None and order.lead_unit_id in units,
        mine=[a for a in current if a.unit_id in units],
    )


def _actions(
    order: WorkOrder,
    viewer: Viewer,
    pending_extension: Extension | None,
    now: datetime,
    given: dict[str, UnitForm],
) -> dict[str, UnitForm]:
    state = order.status
    actions: dict[str, UnitForm] = {}

    def add(name: str, form_class: type[UnitForm]) -> None:
        actions[name] = given.get(name) or form_class()

    if state in (Status.DISPATCHED, Status.HANDLING) and viewer.pending:
        add("sign", SignForm)
    if (
        viewer.lead
        and state in (Status.DISPATCHED, Status.HANDLING)
        and not order.designated
        and (order.return_due is None or now <= order.return_due)
    ):
        add("return", ReturnRequestForm)
    if viewer.assisting and state in RUNNING:
        add("assist", AssistForm)
    if viewer.lead and state == Status.HANDLING:
        add("reply", ReplyForm)
    if (
        viewer.lead
        and state in (Status.DISPATCHED, Status.HANDLING)
        and not order.extended
        and pending_extension is None
        and (order.handle_due is None or now <= order.handle_due)
    ):
        add("extension", ExtensionRequestForm)
    if pending_extension is not None and (viewer.dispatcher or viewer.supervisor):
        add("decide", ExtensionDecideForm)
    if state == Status.SUPERVISING and viewer.supervisor:
        add("close", CloseForm)
    return actions


def _category_path(order: WorkOrder) -> list[str]:
    names: list[str] = []
    node = order.category
    while node is not None:
        names.append(node.name)
        node = node.parent
    return names[::-1]


def _order_page(
    request: HttpRequest,
    order: WorkOrder,
    *,
    forms: dict[str, UnitForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    now = timezone.now()
    assignments = list(
        order.assignments.select_related("unit", "signed_by").order_by("round", "role", "id")
    )
    current = [a for a in assignments if a.round == order.dispatch_count and a.status in CURRENT]
    extensions = list(order.extensions.select_related("unit", "decided_by"))
    pending_extension = next((e for e in extensions if e.status == Extension.Status.PENDING), None)
    viewer = _viewer(user, order, current)
    rounds: dict[int, list[Assignment]] = {}
    for a in assignments:
        rounds.setdefault(a.round, []).append(a)
    merged = list(order.merged_orders.order_by("registered_at"))
    visible = set(
        orders_for_staff(user)
        .filter(pk__in=[m.pk for m in merged] + [order.merged_into_id or 0])
        .values_list("pk", flat=True)
    )
    events = [
        (e, EVENT_LABELS.get(e.kind, e.kind), _person(e.actor))
        for e in Event.objects.filter(order=order).select_related("actor", "unit")
    ]
    caller_name, caller_phone = services.masked_caller(order)
    roles = user_roles(user)
    return render(
        request,
        "hotline/order_staff.html",
        {
            "order": order,
            "light": order_light(order, now),
            "sign_late": _sign_late(order, now),
            "caller_name": caller_name,
            "caller_phone": caller_phone,
            "category_path": _category_path(order),
            "photos": list(order.attachments.all()),
            "rounds": sorted(rounds.items()),
            "replies": list(order.replies.select_related("unit")),
            "visits": list(order.visits.all()),
            "extensions": extensions,
            "pending_extension": pending_extension,
            "events": events,
            "merged": [(m, m.pk in visible) for m in merged],
            "merged_into_visible": order.merged_into_id in visible,
            "viewer": viewer,
            "show_inbox": Role.HANDLING_UNIT.value in roles,
            "show_supervision": Role.SUPERVISOR.value in roles,
            "actions": _actions(order, viewer, pending_extension, now, forms or {}),
        },
        status=status,
    )


@order_viewer_required
@require_GET
def order(request: HttpRequest, public_id: UUID) -> HttpResponse:
    found = access_order_for_staff(_user(request), public_id)
    # Category and its parents for the path shown at the top (three levels at most).
    if found.category_id is not None:
        found.category = Category.objects.select_related("parent__parent").get(pk=found.category_id)
    return _order_page(request, found)


def _act(
    request: HttpRequest,
    public_id: UUID,
    name: str,
    form: UnitForm,
    act: Any,
    done: Any,
) -> HttpResponse:
    """Validate ``form`` and call ``act(order, cleaned_data, user)``. A ValidationError goes
    onto the form (422); any other DomainError (a state that moved on, an action that is not
    the viewer's) becomes a message on the order page. The services are atomic: nothing is
    saved either way."""
    user = _user(request)
    found = access_order_for_staff(user, public_id)
    if form.is_valid():
        try:
            act(found, form.cleaned_data, user)
        except ValidationError as exc:
            form.add_domain_error(exc)
        except DomainError as exc:
            messages.error(request, str(exc.message))
            return redirect("hotline_staff:order", public_id=found.public_id)
        else:
            messages.success(request, done)
            return redirect("hotline_staff:order", public_id=found.public_id)
    found.refresh_from_db()
    return _order_page(request, found, forms={name: form}, status=422)


@order_viewer_required
@require_POST
def sign(request: HttpRequest, public_id: UUID) -> HttpResponse:
    def act(found: WorkOrder, data: dict[str, Any], user: User) -> None:
        services.work_order_sign(order=found, actor=user)

    return _act(request, public_id, "sign", SignForm(request.POST), act, _("已签收。"))


@order_viewer_required
@require_POST
def return_request(request: HttpRequest, public_id: UUID) -> HttpResponse:
    def act(found: WorkOrder, data: dict[str, Any], user: User) -> None:
        services.work_order_return_request(order=found, actor=user, reason=data["reason"])

    return _act(
        request,
        public_id,
        "return",
        ReturnRequestForm(request.POST),
        act,
        _("退单申请已提交，等待热线中心审核。"),
    )


@order_viewer_required
@require_POST
def assist(request: HttpRequest, public_id: UUID) -> HttpResponse:
    def act(found: WorkOrder, data: dict[str, Any], user: User) -> None:
        services.work_order_assist(order=found, actor=user, note=data["note"])

    return _act(request, public_id, "assist", AssistForm(request.POST), act, _("协办意见已提交。"))


@order_viewer_required
@require_POST
def extension_request(request: HttpRequest, public_id: UUID) -> HttpResponse:
    def act(found: WorkOrder, data: dict[str, Any], user: User) -> None:
        services.work_order_extension_request(order=found, actor=user, reason=data["reason"])

    return _act(
        request,
        public_id,
        "extension",
        ExtensionRequestForm(request.POST),
        act,
        _("延期申请已提交。"),
    )


@order_viewer_required
@require_POST
def extension_decide(request: HttpRequest, public_id: UUID, extension_id: int) -> HttpResponse:
    def act(found: WorkOrder, data: dict[str, Any], user: User) -> None:
        extension = found.extensions.filter(pk=extension_id).first()
        if extension is None:
            raise NotFound("core.not_found", _("找不到该延期申请。"))
        services.work_order_extension_decide(
            extension=extension,
            actor=user,
            approve=data["decision"] == "approve",
            note=data["note"],
        )

    return _act(
        request,
        public_id,
        "decide",
        ExtensionDecideForm(request.POST),
        act,
        _("延期申请已审批。"),
    )


@order_viewer_required
@require_POST
def reply(request: HttpRequest, public_id: UUID) -> HttpResponse:
    def act(found: WorkOrder, data: dict[str, Any], user: User) -> None:
        services.work_order_reply(
            order=found,
            actor=user,
            action=data["action"],
            text=data["text"],
            outcome=data["outcome"],
        )

    return _act(
        request,
        public_id,
        "reply",
        ReplyForm(request.POST),
        act,
        _("答复已提交，等待热线中心回访。"),
    )


@order_viewer_required
@require_POST
def close(request: HttpRequest, public_id: UUID) -> HttpResponse:
    def act(found: WorkOrder, data: dict[str, Any], user: User) -> None:
        services.work_order_close(
            order=found, actor=user, outcome=data["outcome"], note=data["note"]
        )

    return _act(request, public_id, "close", CloseForm(request.POST), act, _("工单已办结。"))


@order_viewer_required
@require_GET
def photo(request: HttpRequest, public_id: UUID, photo_id: int) -> HttpResponseBase:
    """A photo of the order, for those who may see the order; never a public media URL.
    Shown inline only in the image types sniffed at upload, in a sandbox."""
    found = access_order_for_staff(_user(request), public_id)
    attachment: Attachment | None = found.attachments.filter(pk=photo_id).first()
    if attachment is None or not attachment.file:
        raise NotFound("core.not_found", _("找不到该照片。"))
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise NotFound("core.not_found", _("该照片已不在存储中。")) from exc
    inline = attachment.content_type in INLINE_TYPES
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=attachment.name,
        content_type=attachment.content_type if inline else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=300"
    return response


# --- the unit inbox and the supervision page ---------------------------------------------------


@dataclass(frozen=True)
class Row:
    order: WorkOrder
    light: str
    sign_late: bool
    roles: list[str]


def _rows(orders: Any, now: datetime, units: frozenset[int] = frozenset()) -> list[Row]:
    rows: list[Row] = []
    for o in orders:
        mine = [
            a for a in getattr(o, "mine", []) if a.round == o.dispatch_count and a.unit_id in units
        ]
        roles = sorted({str(a.get_role_display()) for a in mine})
        rows.append(Row(o, order_light(o, now), _sign_late(o, now), roles))
    return rows


def _overdue(now: datetime) -> Q:
    return Q(signed_at__isnull=True, sign_due__lt=now) | Q(handle_due__lt=now)


@unit_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    now = timezone.now()
    units = unit_ids(user)
    filters = InboxFilterForm(request.GET or None)
    rows: QuerySet[WorkOrder] = unit_inbox(user).prefetch_related(
        Prefetch(
            "assignments",
            queryset=Assignment.objects.filter(unit_id__in=units, status__in=CURRENT),
            to_attr="mine",
        )
    )
    wanted: dict[str, str] = {}
    if filters.is_valid():
        if filters.cleaned_data["status"]:
            rows = rows.filter(status=filters.cleaned_data["status"])
            wanted["status"] = filters.cleaned_data["status"]
        if filters.cleaned_data["overdue"]:
            rows = rows.filter(_overdue(now))
            wanted["overdue"] = "on"
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "hotline/unit/inbox.html",
        {
            "filters": filters if filters.is_bound else InboxFilterForm(),
            "page": page,
            "rows": _rows(page.object_list, now, units),
            "query_string": urlencode(wanted),
            "filtered": bool(wanted),
        },
    )


@supervisor_required
@require_GET
def supervision(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    page = Paginator(supervision_queue(_user(request)), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "hotline/unit/supervision.html",
        {"page": page, "rows": _rows(page.object_list, now), "query_string": ""},
    )
