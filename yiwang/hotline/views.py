"""Citizen pages of the 12345 hotline (/hotline/), mobile first:

* ``/hotline/`` what 12345 is, the emergency numbers, the ways in (public);
* ``/hotline/new/`` 我要反映: the request form, photos and the browser's location optional;
* ``/hotline/my/`` and ``/hotline/my/<id>/`` the citizen's own orders: status in plain words,
  the public timeline, the replies, and the satisfaction form once replied;
* ``/hotline/mailbox/`` the mailboxes, ``…/<code>/write/`` a letter;
* ``/hotline/letters/`` the letters published with their writers' consent (public);
* ``/console/hotline/orders/<id>/publish/`` (staff) publishing a letter: the texts pre-filled
  with personal data masked by ``services.redact``, checked again by the service.

Plain forms that work without JavaScript (``hotline/portal.js`` only adds the character
counter and "use my location"); each view resolves the actor and the object through
``access``, calls one service and renders. Everything a person wrote is shown escaped.
"""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiwang.accounts.access import citizen_required, role_required
from yiwang.accounts.models import Role, User
from yiwang.core.access import public
from yiwang.core.errors import Conflict, DomainError, NotFound, ValidationError
from yiwang.evaluation.selectors import invitation_list
from yiwang.hotline import errors, services
from yiwang.hotline.access import access_order_for_staff, access_own_order
from yiwang.hotline.forms import (
    SATISFACTION_CHOICES,
    SATISFACTION_HINTS,
    LetterForm,
    OrderForm,
    PortalForm,
    PublishForm,
    VisitForm,
    new_token,
    photos_of,
)
from yiwang.hotline.models import ReturnVisit, WorkOrder
from yiwang.hotline.selectors import (
    letters_published,
    mailboxes_active,
    order_citizen_events,
    orders_of_citizen,
)

PAGE_SIZE = 20
HOTLINE_NUMBER = "12345"
Status = WorkOrder.Status

EMERGENCY_NUMBERS = [
    ("110", _("报警")),
    ("119", _("火警")),
    ("120", _("急救")),
    ("122", _("交通事故")),
]

# What each status means to the person who wrote, in plain words.
STATUS_TEXT: dict[str, Any] = {
    Status.REGISTERED: _("已受理，正在分派给负责的部门"),
    Status.DISPATCHED: _("已派给承办单位，等待签收"),
    Status.HANDLING: _("承办单位正在办理"),
    Status.RETURN_REQUESTED: _("正在重新确认负责的部门"),
    Status.REPLIED: _("已答复，请您评价"),
    Status.SUPERVISING: _("已转督办，正在跟进"),
    Status.CLOSED: _("已办结"),
    Status.MERGED: _("已与相同诉求合并办理"),
    Status.TRANSFERRED: _("已转紧急热线"),
}

LEVEL_TEXT = dict(SATISFACTION_CHOICES)


def _event_label(kind: str, unit: Any, note: str, order: WorkOrder) -> str:
    """A step of the public timeline in plain words. Notes are staff text and never shown,
    except the emergency number of a transfer and the level of a visit."""
    name = unit.name if unit is not None else ""
    if kind == "registered":
        return str(_("诉求已受理"))
    if kind == "dispatched":
        return str(_("已派给%(u)s办理") % {"u": name} if name else _("已派给承办单位办理"))
    if kind == "signed":
        return str(_("%(u)s已签收") % {"u": name} if name else _("承办单位已签收"))
    if kind == "replied":
        return str(_("%(u)s已答复") % {"u": name} if name else _("承办单位已答复"))
    if kind == "visited":
        first = note.split(" ", 1)[0]
        level = LEVEL_TEXT.get(int(first)) if first.isdigit() else None
        return str(_("评价：%(l)s") % {"l": level} if level else _("已回访"))
    if kind == "reopened":
        return str(_("您不满意，已重新办理"))
    if kind == "supervising":
        return str(_("已转督办"))
    if kind == "merged":
        return str(_("已与相同诉求的工单合并办理"))
    if kind == "transferred":
        number = note if note in dict(EMERGENCY_NUMBERS) else ""
        return str(_("已转接 %(n)s") % {"n": number} if number else _("已转紧急热线"))
    if kind == "closed":
        outcome = order.get_outcome_display() if order.outcome else ""
        return str(_("已办结：%(o)s") % {"o": outcome} if outcome else _("已办结"))
    return ""


def _timeline(order: WorkOrder) -> list[dict[str, Any]]:
    rows = []
    for event in order_citizen_events(order):
        label = _event_label(event.kind, event.unit, event.note, order)
        if label:
            rows.append({"label": label, "at": event.created_at, "kind": event.kind})
    return rows


def _emergency(order: WorkOrder) -> tuple[str, Any] | None:
    """The number to call now, for an order flagged as an emergency and not yet routed."""
    if order.emergency_number and order.status in (Status.REGISTERED, Status.TRANSFERRED):
        return next((row for row in EMERGENCY_NUMBERS if row[0] == order.emergency_number), None)
    return None


def _rebind_token(form: PortalForm) -> None:
    """A fresh token for a form re-shown after its token was used for another request."""
    data = cast(QueryDict, form.data).copy()
    data["token"] = new_token()
    form.data = data


def _register(
    request: HttpRequest, form: PortalForm, *, user: User, **fields: Any
) -> WorkOrder | None:
    """Register the (valid) form's request, or put the service's problems on the form."""
    data = form.cleaned_data
    try:
        intake = services.work_order_register(
            actor=user,
            citizen=user,
            kind=data["kind"],
            title=data["title"],
            content=data["content"],
            idempotency_key=data["token"],
            **fields,
        )
    except ValidationError as exc:
        form.place_problems(exc)
        return None
    except Conflict as exc:
        if exc.code == errors.IDEMPOTENCY_CONFLICT:
            _rebind_token(form)
        form.add_error(None, str(exc.message))
        return None
    except DomainError as exc:
        form.add_error(None, str(exc.message))
        return None
    order = intake.order
    if intake.created:
        messages.success(
            request, _("提交成功，工单编号 %(n)s。办理进展会通知您。") % {"n": order.number}
        )
    return order


# --- public: what 12345 is, the letters -------------------------------------------------------


@public
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "hotline/portal/home.html",
        {
            "hotline_number": HOTLINE_NUMBER,
            "emergency_numbers": EMERGENCY_NUMBERS,
            "mailboxes": list(mailboxes_active()),
            "letters": list(letters_published()[:5]),
        },
    )


@public
@require_GET
def mailboxes(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "hotline/portal/mailboxes.html",
        {"mailboxes": list(mailboxes_active()), "emergency_numbers": EMERGENCY_NUMBERS},
    )


@public
@require_GET
def letters(request: HttpRequest) -> HttpResponse:
    page = Paginator(letters_published(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "hotline/portal/letters.html", {"page": page})


@public
@require_GET
def letter(request: HttpRequest, public_id: UUID) -> HttpResponse:
    found = letters_published().filter(public_id=public_id).first()
    if found is None:
        raise NotFound("core.not_found", _("找不到该来信，或它没有公开。"))
    return render(request, "hotline/portal/letter.html", {"letter": found})


# --- the citizen: write, follow, rate ---------------------------------------------------------


@citizen_required
@require_http_methods(["GET", "POST"])
def order_new(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    posted = request.method == "POST"
    form = OrderForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        initial={"token": new_token()},
    )
    if posted and form.is_valid():
        data = form.cleaned_data
        order = _register(
            request,
            form,
            user=user,
            channel=data["channel"],
            address=data["address"],
            lat=data["lat"],
            long=data["long"],
            category=data["category"] or None,
            confidential=data["confidential"],
            photos=photos_of(data["photos"]),
        )
        if order is not None:
            return redirect("hotline:my_order", public_id=order.public_id)
        if "address" in form.errors and data["lat"] is not None:
            # A point outside the city: drop it, so that the address alone can be sent.
            cleared = cast(QueryDict, form.data).copy()
            cleared["lat"] = cleared["long"] = ""
            form.data = cleared
    return render(
        request,
        "hotline/portal/new.html",
        {"form": form, "emergency_numbers": EMERGENCY_NUMBERS},
        status=422 if posted else 200,
    )


@citizen_required
@require_http_methods(["GET", "POST"])
def mailbox_write(request: HttpRequest, code: str) -> HttpResponse:
    user = cast(User, request.user)
    mailbox = mailboxes_active().filter(code=code).first()
    if mailbox is None:
        raise NotFound("core.not_found", _("找不到该信箱，或它已停用。"))
    posted = request.method == "POST"
    form = LetterForm(request.POST if posted else None, initial={"token": new_token()})
    if posted and form.is_valid():
        order = _register(
            request,
            form,
            user=user,
            channel=WorkOrder.Channel.MAILBOX,
            mailbox=mailbox,
            publish_consent=form.cleaned_data["publish_consent"],
        )
        if order is not None:
            return redirect("hotline:my_order", public_id=order.public_id)
    return render(
        request,
        "hotline/portal/letter_write.html",
        {"form": form, "mailbox": mailbox, "emergency_numbers": EMERGENCY_NUMBERS},
        status=422 if posted else 200,
    )


@citizen_required
@require_GET
def my_orders(request: HttpRequest) -> HttpResponse:
    rows = orders_of_citizen(request.user).select_related("mailbox").order_by("-registered_at")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    items = [{"order": o, "status_text": STATUS_TEXT.get(o.status, "")} for o in page]
    return render(request, "hotline/portal/my_list.html", {"page": page, "items": items})


def _order_page(
    request: HttpRequest,
    order: WorkOrder,
    *,
    visit_form: VisitForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = cast(User, request.user)
    invitation = None
    if order.status == Status.CLOSED:
        invitation = (
            invitation_list(rater=user)
            .filter(subject_kind="work_order", subject_id=str(order.public_id))
            .first()
        )
    form = visit_form or (VisitForm() if order.status == Status.REPLIED else None)
    return render(
        request,
        "hotline/portal/my_detail.html",
        {
            "order": order,
            "status_text": STATUS_TEXT.get(order.status, ""),
            "timeline": _timeline(order),
            "replies": list(order.replies.select_related("unit")),
            "photo_count": order.attachments.count(),
            "emergency": _emergency(order),
            "form": form,
            "level_choices": [
                (radio, SATISFACTION_HINTS[int(radio.data["value"])])
                for radio in form["satisfaction"]
            ]
            if form is not None
            else [],
            "invitation": invitation,
        },
        status=status,
    )


@citizen_required
@require_GET
def my_order(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _order_page(request, access_own_order(request.user, public_id))


@citizen_required
@require_POST
def my_order_visit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    order = access_own_order(request.user, public_id)
    form = VisitForm(request.POST)
    if order.status != Status.REPLIED:
        messages.error(request, _("该工单现在不需要评价。"))
        return redirect("hotline:my_order", public_id=order.public_id)
    if form.is_valid():
        level = form.cleaned_data["satisfaction"]
        try:
            services.work_order_visit(
                order=order,
                actor=request.user,
                method=ReturnVisit.Method.ONLINE,
                satisfaction=level,
                comment=form.cleaned_data["comment"],
            )
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            if level >= 3:
                messages.success(request, _("感谢您的评价，工单已办结。"))
            else:
                messages.success(request, _("已收到您的意见，工单将重新办理。"))
            return redirect("hotline:my_order", public_id=order.public_id)
    return _order_page(request, order, visit_form=form, status=422)


# --- staff: publishing a mailbox letter (公开) ------------------------------------------------


def _publish_initial(order: WorkOrder) -> dict[str, str]:
    """The letter's texts with phone and ID numbers and the writer's name masked, for the
    staff member to finish removing personal data by hand."""
    if order.published_at is not None:
        return {
            "public_title": order.public_title,
            "public_content": order.public_content,
            "public_reply": order.public_reply,
        }
    names = [order.caller_name]
    reply = order.replies.order_by("-created_at", "-id").first()
    return {
        "public_title": services.redact(order.title, names)[:100],
        "public_content": services.redact(order.content, names),
        "public_reply": services.redact(reply.text, names) if reply else "",
    }


@role_required(Role.DISPATCHER, Role.HANDLING_UNIT)
@require_http_methods(["GET", "POST"])
def letter_publish(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = cast(User, request.user)
    order = access_order_for_staff(user, public_id)
    publishable = (
        order.channel == WorkOrder.Channel.MAILBOX
        and order.publish_consent
        and order.status == Status.CLOSED
    )
    posted = request.method == "POST" and publishable
    form = PublishForm(request.POST if posted else None, initial=_publish_initial(order))
    if posted and form.is_valid():
        try:
            services.work_order_publish(order=order, actor=user, **form.cleaned_data)
        except ValidationError as exc:
            for problem in exc.extra.get("problems") or [{"message": exc.message}]:
                field = problem.get("field")
                form.add_error(field if field in form.fields else None, str(problem["message"]))
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("来信已公开。"))
            return redirect("hotline:letter", public_id=order.public_id)
    return render(
        request,
        "hotline/portal/publish.html",
        {"order": order, "form": form, "publishable": publishable},
        status=422 if posted else 200,
    )
