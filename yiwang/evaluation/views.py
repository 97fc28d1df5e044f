"""Pages of 好差评:

* ``/evaluation/`` 我的评价 and ``/evaluation/<id>/`` the rating page (the rater: five large
  choices and a comment; afterwards the rating, and the department's reply when there is one);
* ``/evaluation/rectifications/`` the rectification desk of a department's staff and its
  supervisors, ``…/<id>/`` with the reply form (staff) or the follow-up form (supervisor);
* ``/evaluation/stats/`` ratings per department and per item, for supervisors.

Plain forms that work without JavaScript; each view resolves the actor and the object through
``access``, calls one service and renders.
"""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiwang.accounts.models import Department, User
from yiwang.core.access import authenticated
from yiwang.core.errors import Conflict, DomainError, ValidationError
from yiwang.evaluation.access import (
    access_invitation_for_rater,
    access_rectification,
    can_follow_up,
    can_reply,
    desk_department_ids,
    rectification_desk_required,
    supervisor_required,
)
from yiwang.evaluation.forms import (
    LEVEL_HINTS,
    FollowUpForm,
    RatingForm,
    ReplyForm,
    StatsFilterForm,
)
from yiwang.evaluation.models import Channel, Invitation, Rating, Rectification
from yiwang.evaluation.selectors import (
    city_today,
    invitation_list,
    rating_stats_by_department,
    rating_stats_by_item,
    rating_stats_total,
    rectification_is_overdue,
    rectification_list,
    supervised_department_ids,
)
from yiwang.evaluation.services import (
    rating_submit,
    rectification_follow_up,
    rectification_reply,
)

PAGE_SIZE = 20
OVERDUE = "overdue"


def _stars(level: int) -> str:
    return "★" * level + "☆" * (5 - level)


# --- the rater -----------------------------------------------------------------------------


@authenticated
@require_GET
def my_ratings(request: HttpRequest) -> HttpResponse:
    rows = invitation_list(rater=cast(User, request.user))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "evaluation/my_ratings.html", {"page": page})


@authenticated
@require_http_methods(["GET", "POST"])
def rate(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = cast(User, request.user)
    invitation = access_invitation_for_rater(user, public_id)
    form = RatingForm(request.POST or None)
    if request.method == "POST" and invitation.status != Invitation.Status.PENDING:
        messages.error(request, _("您已经评价过这次服务，每次服务只能评价一次。"))
        return redirect("evaluation:rate", public_id=invitation.public_id)
    if request.method == "POST" and form.is_valid():
        try:
            rating = rating_submit(
                actor=user,
                invitation=invitation,
                level=form.cleaned_data["level"],
                comment=form.cleaned_data["comment"],
                channel=Channel.ONLINE,
            )
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            if hasattr(rating, "rectification"):
                messages.success(
                    request,
                    _("感谢您的评价。您的意见已转交%(d)s整改，答复会通知您。")
                    % {"d": invitation.department.name},
                )
            else:
                messages.success(request, _("感谢您的评价！"))
            return redirect("evaluation:rate", public_id=invitation.public_id)
    shown: Rating | None = None
    if invitation.status != Invitation.Status.PENDING:
        shown = getattr(invitation, "rating", None)
    status = 422 if request.method == "POST" and form.errors else 200
    return render(
        request,
        "evaluation/rate.html",
        {
            "invitation": invitation,
            "rating": shown,
            "rectification": getattr(shown, "rectification", None) if shown else None,
            "form": form,
            "level_choices": [
                (radio, LEVEL_HINTS[int(radio.data["value"])], _stars(int(radio.data["value"])))
                for radio in form["level"]
            ],
        },
        status=status,
    )


# --- the rectification desk ----------------------------------------------------------------


@rectification_desk_required
@require_GET
def rectifications(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    shown = request.GET.get("status") or ""
    if shown not in (*Rectification.Status.values, OVERDUE):
        shown = ""
    today = city_today()
    rows = rectification_list(
        department_ids=desk_department_ids(user),
        status=shown if shown in Rectification.Status.values else None,
        overdue_only=shown == OVERDUE,
        today=today,
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    tabs = [("", _("全部")), (OVERDUE, _("已超期")), *Rectification.Status.choices]
    return render(
        request,
        "evaluation/rectifications.html",
        {
            "page": page,
            "shown": shown,
            "tabs": tabs,
            "query_string": f"status={shown}" if shown else "",
            "is_supervisor": bool(supervised_department_ids(user)),
        },
    )


def _rectification_page(
    request: HttpRequest,
    rectification: Rectification,
    *,
    reply_form: ReplyForm | None = None,
    follow_up_form: FollowUpForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = cast(User, request.user)
    context: dict[str, Any] = {
        "rectification": rectification,
        "rating": rectification.rating,
        "invitation": rectification.rating.invitation,
        "overdue": rectification_is_overdue(rectification),
        "reply_form": None,
        "follow_up_form": None,
    }
    if can_reply(user, rectification):
        context["reply_form"] = reply_form or ReplyForm()
    if can_follow_up(user, rectification):
        context["follow_up_form"] = follow_up_form or FollowUpForm()
    return render(request, "evaluation/rectification.html", context, status=status)


@rectification_desk_required
@require_GET
def rectification(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _rectification_page(request, access_rectification(request.user, public_id))


@rectification_desk_required
@require_POST
def rectification_reply_view(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = cast(User, request.user)
    item = access_rectification(user, public_id)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            rectification_reply(
                actor=user,
                rectification=item,
                disposition=form.cleaned_data["disposition"],
                reply=form.cleaned_data["reply"],
            )
        except Conflict as exc:
            messages.error(request, str(exc.message))
            return redirect("evaluation:rectification", public_id=item.public_id)
        except ValidationError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("已答复评价人，等待督办人员回访。"))
            return redirect("evaluation:rectification", public_id=item.public_id)
    return _rectification_page(request, item, reply_form=form, status=422)


@rectification_desk_required
@require_POST
def rectification_follow_up_view(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = cast(User, request.user)
    item = access_rectification(user, public_id)
    form = FollowUpForm(request.POST)
    if form.is_valid():
        try:
            rectification_follow_up(
                actor=user,
                rectification=item,
                result=form.cleaned_data["result"],
                note=form.cleaned_data["note"],
            )
        except Conflict as exc:
            messages.error(request, str(exc.message))
            return redirect("evaluation:rectification", public_id=item.public_id)
        except ValidationError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("回访已登记，整改办结。"))
            return redirect("evaluation:rectification", public_id=item.public_id)
    return _rectification_page(request, item, follow_up_form=form, status=422)


# --- statistics ----------------------------------------------------------------------------


@supervisor_required
@require_GET
def stats(request: HttpRequest) -> HttpResponse:
    department_ids = supervised_department_ids(request.user)
    form = StatsFilterForm(request.GET or None)
    since = until = None
    if form.is_bound and form.is_valid():
        since, until = form.cleaned_data["since"], form.cleaned_data["until"]
    today = city_today()
    by_department = rating_stats_by_department(
        department_ids=department_ids, since=since, until=until, today=today
    )
    by_item = rating_stats_by_item(
        department_ids=department_ids, since=since, until=until, today=today
    )
    scope = Department.objects.filter(pk__in=department_ids).order_by("sort_order", "code")
    return render(
        request,
        "evaluation/stats.html",
        {
            "form": form,
            "by_department": by_department,
            "by_item": by_item,
            "total": rating_stats_total(by_department),
            "scope_count": scope.count(),
            "level_labels": [label for _lv, label, _n in rating_stats_total([]).levels],
        },
    )
