"""The 12345 centre's pages, under ``/console/hotline/`` (role DISPATCHER):

* 话务台 (``console``): one form for a call, built for the keyboard; while the operator types,
  htmx posts the form to ``check`` (which changes nothing) and shows the emergency to transfer,
  the classifier's suggestion, open orders the call may repeat and the caller's earlier orders;
  the submit registers the order (channel ``phone``) and shows where it went;
* 派单台 (``dispatch_queue``, ``dispatch``): orders waiting for a dispatcher (emergencies
  first), returns to review and extensions to decide; per order: dispatch, merge, transfer,
  close a consultation answered on the phone, review a return, decide an extension;
* 回访 (``visits``, ``visit``): replied orders; the caller's number is shown in full only on
  request, and each such read is audited with its purpose.

Each view parses input, calls one service and redirects; invalid input comes back onto the
form's fields (422) and a conflict (the order moved on) as a message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiwang.accounts.access import role_required
from yiwang.accounts.models import Department, Role, User
from yiwang.core.audit import audit_record
from yiwang.core.errors import Conflict, DomainError, NotFound, ValidationError
from yiwang.core.masking import mask_name, mask_phone
from yiwang.hotline import services
from yiwang.hotline.emergency import Emergency, emergency_detect
from yiwang.hotline.forms_centre import (
    CentreForm,
    CloseForm,
    DispatchForm,
    ExtensionForm,
    IntakeForm,
    MergeForm,
    ReturnReviewForm,
    TransferForm,
    VisitForm,
)
from yiwang.hotline.location import COUNTY_BY_CODE, location_resolve
from yiwang.hotline.models import Assignment, Category, Extension, ReturnVisit, WorkOrder
from yiwang.hotline.selectors import (
    DuplicateCandidate,
    Suggestion,
    caller_order_count,
    classifier_predict,
    dispatch_queue,
    dispatch_rule_for,
    duplicate_candidates,
    extension_queue,
    orders_for_staff,
    visit_queue,
)

PAGE_SIZE = 20
CHECK_MIN_CHARS = 2  # fewer typed characters say nothing about the call
dispatcher_required = role_required(Role.DISPATCHER)
Status = WorkOrder.Status


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _order(request: HttpRequest, public_id: UUID) -> WorkOrder:
    order = (
        orders_for_staff(_user(request))
        .select_related("category", "suggested_category", "lead_unit", "merged_into")
        .filter(public_id=public_id)
        .first()
    )
    if order is None:
        raise NotFound("core.not_found", _("找不到该工单，或您无权查看。"))
    return order


def order_light(order: WorkOrder, now: datetime) -> str:
    """The handling time light from the stored deadlines (no query per row)."""
    if order.handle_due is None or order.status not in WorkOrder.OPEN_STATUSES:
        return "none"
    if now > order.handle_due:
        return "red"
    if order.warn_due is not None and now >= order.warn_due:
        return "yellow"
    return "green"


def division_name(code: str, address: str = "") -> str:
    """The county of ``code``, unless the address already names it."""
    county = COUNTY_BY_CODE.get((code or "")[:6])
    return county.name if county and county.name not in address else ""


def _with_lights(rows: Any) -> list[WorkOrder]:
    now = timezone.now()
    shown = list(rows)
    for row in shown:
        row.light = order_light(row, now)
        row.division_name = division_name(row.division_code, row.address)
    return shown


# --- 话务台: the operator console -----------------------------------------------------------


@dataclass
class Check:
    """What the console shows beside the form while the operator types."""

    emergency: Emergency | None = None
    suggestion: Suggestion | None = None
    duplicates: list[DuplicateCandidate] = field(default_factory=list)
    caller_phone: str = ""  # masked
    caller_orders: int = 0
    location: str = ""
    location_problem: str = ""
    ran: bool = False


def _check(data: Any) -> Check:
    """The checks of registration, without registering: the same detectors the service runs."""
    content = str(data.get("content", "")).strip()
    phone = "".join(str(data.get("caller_phone", "")).split())
    found = Check()
    if phone and services.PHONE_RE.match(phone):
        found.caller_phone = mask_phone(phone)
        found.caller_orders = caller_order_count(phone)
    address = str(data.get("address", "")).strip()[:200]
    division = str(data.get("division_code", "")).strip()[:12]
    division_code, lat, long = division, None, None
    if address or division:
        try:
            location = location_resolve(
                lat=None, long=None, address=address, division_code=division
            )
        except DomainError as exc:
            found.location_problem = str(exc.message)
        else:
            division_code, lat, long = location.division_code, location.lat, location.long
            found.location = location.division_name
    if len(content) < CHECK_MIN_CHARS:
        return found
    found.ran = True
    text = f"{content[:30]}\n{content}"
    found.emergency = emergency_detect(text)
    code = str(data.get("category", "")).strip()
    chosen = Category.objects.filter(code=code, active=True).first() if code else None
    found.suggestion = None if chosen else classifier_predict(text)
    category = chosen or (found.suggestion.category if found.suggestion else None)
    found.duplicates = duplicate_candidates(
        text=text, category=category, division_code=division_code, lat=lat, long=long
    )
    return found


@dataclass
class Result:
    """Where a just registered order went."""

    order: WorkOrder
    lead: Department | None
    assisting: list[str]
    reason: str  # why it waits: emergency, duplicate, no_category, no_rule ("" if dispatched)
    duplicates: list[DuplicateCandidate]
    emergency: Emergency | None = None


def _result(order: WorkOrder) -> Result:
    dispatched = order.status != Status.REGISTERED
    assisting = (
        [
            a.unit.short_name or a.unit.name
            for a in order.assignments.filter(
                round=order.dispatch_count, role=Assignment.Role.ASSIST
            ).select_related("unit")
        ]
        if dispatched
        else []
    )
    duplicates: list[DuplicateCandidate] = []
    reason = ""
    if not dispatched:
        duplicates = duplicate_candidates(
            text=f"{order.title}\n{order.content}",
            category=order.category or order.suggested_category,
            division_code=order.division_code,
            lat=order.lat,
            long=order.long,
            exclude_pk=order.pk,
        )
        if order.emergency_number:
            reason = "emergency"
        elif duplicates:
            reason = "duplicate"
        elif order.category is None:
            reason = "no_category"
        else:
            reason = "no_rule"
    return Result(
        order=order,
        lead=order.lead_unit if dispatched else None,
        assisting=assisting,
        reason=reason,
        duplicates=duplicates,
        # The order keeps only the number; the detector names the kind again for the label.
        emergency=emergency_detect(f"{order.title}\n{order.content}")
        if order.emergency_number
        else None,
    )


def _console_page(
    request: HttpRequest,
    form: IntakeForm,
    *,
    check: Check | None = None,
    result: Result | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "hotline/centre/console.html",
        {
            "form": form,
            "check": check or Check(),
            "result": result,
            "transfer_form": TransferForm(
                initial={"number": result.order.emergency_number} if result else None
            ),
        },
        status=status,
    )


@dispatcher_required
@require_http_methods(["GET", "POST"])
def console(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = IntakeForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                intake = services.work_order_register(
                    actor=_user(request),
                    channel=WorkOrder.Channel.PHONE,
                    content=data["content"],
                    kind=data["kind"],
                    caller_name=data["caller_name"],
                    caller_phone=data["caller_phone"],
                    callback_requested=data["callback_requested"],
                    confidential=data["confidential"],
                    address=data["address"],
                    division_code=data["division_code"],
                    category=data["category"] or None,
                    urgency=data["urgency"],
                )
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                url = reverse("hotline_staff:console")
                return redirect(f"{url}?registered={intake.order.public_id}")
        return _console_page(request, form, check=_check(request.POST), status=422)
    result = None
    registered = request.GET.get("registered", "")
    if registered:
        try:
            result = _result(_order(request, UUID(registered)))
        except ValueError:
            result = None
    return _console_page(request, IntakeForm(), result=result)


@dispatcher_required
@require_POST
def check(request: HttpRequest) -> HttpResponse:
    """The console's live checks (htmx posts the form while the operator types); changes
    nothing. Without JavaScript the "预检" button posts here and gets the whole console."""
    found = _check(request.POST)
    if request.headers.get("HX-Request") == "true":
        return render(request, "hotline/centre/_check.html", {"check": found})
    return _console_page(request, IntakeForm(request.POST), check=found)


# --- 派单台: the dispatch queue and the order's desk ---------------------------------------------


@dispatcher_required
@require_GET
def dispatch_queue_page(request: HttpRequest) -> HttpResponse:
    page = Paginator(dispatch_queue(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "hotline/centre/dispatch_queue.html",
        {
            "page": page,
            "rows": _with_lights(page.object_list),
            "extensions": list(extension_queue()[:50]),
        },
    )


def _dispatch_initial(order: WorkOrder) -> dict[str, Any]:
    category = order.category or order.suggested_category
    initial: dict[str, Any] = {"category": category.code if category else ""}
    rule = dispatch_rule_for(category, order.division_code) if category else None
    if rule is not None:
        initial["lead_unit"] = rule.lead_unit
        initial["assisting_units"] = list(rule.assisting_units.all())
    return initial


def _dispatch_page(
    request: HttpRequest,
    order: WorkOrder,
    *,
    forms: dict[str, CentreForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    given = forms or {}
    state = order.status
    actions: dict[str, Any] = {}
    candidates: list[DuplicateCandidate] = []
    if state == Status.REGISTERED:
        actions["dispatch"] = given.get("dispatch") or DispatchForm(
            initial=_dispatch_initial(order)
        )
        actions["transfer"] = given.get("transfer") or TransferForm(
            initial={"number": order.emergency_number or "119"}
        )
        actions["close"] = given.get("close") or CloseForm()
    if state in (Status.REGISTERED, Status.DISPATCHED):
        candidates = duplicate_candidates(
            text=f"{order.title}\n{order.content}",
            category=order.category or order.suggested_category,
            division_code=order.division_code,
            lat=order.lat,
            long=order.long,
            exclude_pk=order.pk,
        )
        actions["merge"] = given.get("merge") or MergeForm(
            initial={"into": candidates[0].order.number if candidates else ""}
        )
    returned = None
    if state == Status.RETURN_REQUESTED:
        returned = (
            order.assignments.filter(round=order.dispatch_count, role=Assignment.Role.LEAD)
            .select_related("unit")
            .first()
        )
        actions["return"] = given.get("return") or ReturnReviewForm()
    extension = (
        order.extensions.filter(status=Extension.Status.PENDING).select_related("unit").first()
    )
    if extension is not None:
        actions["extension"] = given.get("extension") or ExtensionForm()
    assignments = order.assignments.filter(round=order.dispatch_count).select_related("unit")
    return render(
        request,
        "hotline/centre/dispatch.html",
        {
            "order": order,
            "light": order_light(order, timezone.now()),
            "division_name": division_name(order.division_code, order.address),
            "caller_name": mask_name(order.caller_name),
            "caller_phone": mask_phone(order.caller_phone),
            "assignments": assignments if order.dispatch_count else [],
            "candidates": candidates,
            "emergency": emergency_detect(f"{order.title}\n{order.content}")
            if order.emergency_number and state == Status.REGISTERED
            else None,
            "returned": returned,
            "extension": extension,
            "actions": actions,
        },
        status=status,
    )


@dispatcher_required
@require_GET
def dispatch(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _dispatch_page(request, _order(request, public_id))


def _back(request: HttpRequest, order: WorkOrder) -> HttpResponse:
    if request.POST.get("back") == "console":
        return redirect("hotline_staff:console")
    if order.status in (Status.REGISTERED, Status.RETURN_REQUESTED):
        return redirect("hotline_staff:dispatch", public_id=order.public_id)
    return redirect("hotline_staff:dispatch_queue")


def _act(
    request: HttpRequest,
    public_id: UUID,
    name: str,
    form: CentreForm,
    act: Callable[[WorkOrder, dict[str, Any]], Any],
    done: Any,
) -> HttpResponse:
    """Validate ``form``, call ``act(order, cleaned_data)``; a conflict is a message, invalid
    input is shown on the form (422)."""
    order = _order(request, public_id)
    if form.is_valid():
        try:
            act(order, form.cleaned_data)
        except Conflict as exc:
            messages.error(request, str(exc.message))
            return redirect("hotline_staff:dispatch", public_id=order.public_id)
        except ValidationError as exc:
            form.add_domain_error(exc)
        else:
            order.refresh_from_db()
            messages.success(request, str(done) % {"n": order.number})
            return _back(request, order)
    order.refresh_from_db()
    return _dispatch_page(request, order, forms={name: form}, status=422)


@dispatcher_required
@require_POST
def dispatch_order(request: HttpRequest, public_id: UUID) -> HttpResponse:
    form = DispatchForm(request.POST)

    def act(order: WorkOrder, data: dict[str, Any]) -> None:
        services.work_order_dispatch(
            order=order,
            actor=_user(request),
            category=form.chosen_category(),
            lead_unit=data["lead_unit"],
            assisting_units=list(data["assisting_units"]) if data["lead_unit"] else [],
            note=data["note"],
        )

    return _act(request, public_id, "dispatch", form, act, _("工单 %(n)s 已派单。"))


@dispatcher_required
@require_POST
def merge(request: HttpRequest, public_id: UUID) -> HttpResponse:
    form = MergeForm(request.POST)

    def act(order: WorkOrder, data: dict[str, Any]) -> None:
        into = WorkOrder.objects.filter(number=data["into"].strip()).first()
        if into is None:
            raise ValidationError("hotline.merge_invalid", _("找不到该工单编号。"))
        services.work_order_merge(order=order, into=into, actor=_user(request))

    return _act(request, public_id, "merge", form, act, _("工单 %(n)s 已并单。"))


@dispatcher_required
@require_POST
def transfer(request: HttpRequest, public_id: UUID) -> HttpResponse:
    form = TransferForm(request.POST)

    def act(order: WorkOrder, data: dict[str, Any]) -> None:
        services.work_order_transfer(order=order, actor=_user(request), number=data["number"])

    return _act(request, public_id, "transfer", form, act, _("工单 %(n)s 已转接紧急热线。"))


@dispatcher_required
@require_POST
def close(request: HttpRequest, public_id: UUID) -> HttpResponse:
    form = CloseForm(request.POST)

    def act(order: WorkOrder, data: dict[str, Any]) -> None:
        services.work_order_close(
            order=order, actor=_user(request), outcome=data["outcome"], note=data["note"]
        )

    return _act(request, public_id, "close", form, act, _("工单 %(n)s 已直接答复办结。"))


@dispatcher_required
@require_POST
def return_review(request: HttpRequest, public_id: UUID) -> HttpResponse:
    form = ReturnReviewForm(request.POST)

    def act(order: WorkOrder, data: dict[str, Any]) -> None:
        services.work_order_return_review(
            order=order,
            actor=_user(request),
            accept=data["decision"] == "accept",
            note=data["note"],
            lead_unit=data["lead_unit"],
            assisting_units=list(data["assisting_units"]),
        )

    return _act(request, public_id, "return", form, act, _("工单 %(n)s 的退单已审核。"))


@dispatcher_required
@require_POST
def extension_decide(request: HttpRequest, public_id: UUID, extension_id: int) -> HttpResponse:
    form = ExtensionForm(request.POST)

    def act(order: WorkOrder, data: dict[str, Any]) -> None:
        extension = order.extensions.filter(pk=extension_id).first()
        if extension is None:
            raise NotFound("core.not_found", _("找不到该延期申请。"))
        services.work_order_extension_decide(
            extension=extension,
            actor=_user(request),
            approve=data["approve"] == "yes",
            note=data["note"],
        )

    return _act(request, public_id, "extension", form, act, _("工单 %(n)s 的延期申请已处理。"))


# --- 回访: return visits ----------------------------------------------------------------------


@dispatcher_required
@require_GET
def visits(request: HttpRequest) -> HttpResponse:
    page = Paginator(visit_queue(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "hotline/centre/visits.html",
        {"page": page, "rows": _with_lights(page.object_list)},
    )


def _visit_page(
    request: HttpRequest,
    order: WorkOrder,
    *,
    form: VisitForm | None = None,
    full_phone: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "hotline/centre/visit.html",
        {
            "order": order,
            "light": order_light(order, timezone.now()),
            "division_name": division_name(order.division_code, order.address),
            "caller_name": mask_name(order.caller_name),
            "caller_phone": mask_phone(order.caller_phone),
            "full_phone": full_phone,
            "reply": order.replies.select_related("unit").order_by("-created_at", "-id").first(),
            "attempts": order.visits.filter(result=ReturnVisit.Result.UNREACHABLE).count(),
            "form": form or VisitForm(),
            "can_visit": order.status == Status.REPLIED,
        },
        status=status,
    )


@dispatcher_required
@require_GET
def visit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _visit_page(request, _order(request, public_id))


@dispatcher_required
@require_POST
def visit_phone(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The caller's number in full, for the call back: each read is audited (purpose 回访)."""
    order = _order(request, public_id)
    with transaction.atomic():
        audit_record(
            actor=_user(request),
            action="hotline.caller_phone_read",
            obj=order,
            reason="回访",
            after={"number": order.number},
        )
    return _visit_page(request, order, full_phone=order.caller_phone)


@dispatcher_required
@require_POST
def visit_record(request: HttpRequest, public_id: UUID) -> HttpResponse:
    order = _order(request, public_id)
    form = VisitForm(request.POST)
    reached = "unreachable" not in request.POST
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.work_order_visit(
                order=order,
                actor=_user(request),
                method=ReturnVisit.Method.PHONE,
                reached=reached,
                satisfaction=data["satisfaction"] if reached else None,
                resolved=data["resolved"] if reached else None,
                comment=data["comment"],
            )
        except Conflict as exc:
            messages.error(request, str(exc.message))
            return redirect("hotline_staff:visit", public_id=order.public_id)
        except ValidationError as exc:
            # The service asks for a level, and for the caller's words when unsatisfied.
            target = "comment" if data["satisfaction"] is not None else "satisfaction"
            form.add_error(target, str(exc.message))
        else:
            messages.success(
                request,
                (_("工单 %(n)s：已记录未能联系上。") if not reached else _("工单 %(n)s 已回访。"))
                % {"n": order.number},
            )
            return redirect("hotline_staff:visits")
    return _visit_page(request, order, form=form, status=422)
