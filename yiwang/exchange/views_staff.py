"""Staff pages of data sharing (/console/exchange/, 数据共享):

* ``/`` the home: a data officer's resources (status, class, active grants, calls this month),
  the requests waiting for them and the open anomalies; for any staff the catalogue and the
  grants their departments hold;
* ``resources/`` the catalogue (search, owner and class filters) and a resource's page
  (fields with their personal flag and default mask, legal basis, frequency, class and the
  adapter's kind, never its configuration), ``申请使用`` for another department's data officer;
* ``resources/new/``, ``<code>/edit/``, ``<code>/publish/``, ``<code>/withdraw/`` for the
  owner's data officers;
* ``requests/<id>/`` a request: the owner's decision (approve with fields, masks, items, term
  and rate limit, or refuse with reasons) or the consumer's view of it;
* ``grants/`` both sides' grants, ``grants/<id>/revoke/`` (reason and confirmation);
* ``log/`` the owner's access log with filters and ``anomalies/`` with their closing;
* ``query/`` 共享查询: any staff of a consumer department calls the gateway (logged like any
  other call) and sees the masked answer or the refusal;
* ``figures/`` (and ``figures.xlsx``) the collaboration figures for the data bureau.

Every view is ``staff_required`` or ``role_required(DATA_OFFICER)`` (marked for the URL
meta-test); which objects a user may touch is decided by ``yiwang.exchange.access`` through
``selectors_pages`` and checked again by the services and the gateway.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from functools import wraps
from io import BytesIO
from typing import Any, TypeVar, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from yiwang.accounts.access import role_required, staff_required
from yiwang.accounts.models import Department, Role, User
from yiwang.core.access import mark
from yiwang.core.errors import DomainError
from yiwang.exchange import gateway, selectors, services
from yiwang.exchange.access import (
    access_anomaly,
    access_grant_revoke,
    access_resource_view,
    data_officer_department_ids,
    query_department_ids,
    user_is_data_bureau,
    user_may_manage_resource,
    user_may_query_for,
)
from yiwang.exchange.forms import (
    CatalogueFilterForm,
    CloseAnomalyForm,
    DecisionForm,
    LogFilterForm,
    PeriodForm,
    QueryForm,
    ReasonForm,
    RequestForm,
    ResourceForm,
    field_rows,
)
from yiwang.exchange.models import (
    AccessLogEntry,
    AdapterKind,
    DataResource,
    Grant,
    MaskKind,
    SharingClass,
    SharingRequest,
)
from yiwang.exchange.selectors_pages import (
    access_request_view,
    access_resource_manage,
    departments,
    grant_is_active,
    item_choices,
    item_labels,
    request_departments,
    resources_of_departments,
)

F = TypeVar("F", bound=Callable[..., HttpResponseBase])

PAGE_SIZE = 30
officer_required = role_required(Role.DATA_OFFICER)


def data_bureau_required(view: F) -> F:
    """The data bureau (市数据资源局): its data officers, administrators and supervisors."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not user_is_data_bureau(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return mark(cast(F, staff_required(wrapper)), "exchange:data_bureau")


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """Render with what the section's tabs need (which tabs this user sees)."""
    user = request.user
    context.setdefault("xc_officer", bool(data_officer_department_ids(user)))
    context.setdefault("xc_bureau", user_is_data_bureau(user))
    return render(request, template, context, status=status)


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _mask_label(mask: str) -> str:
    try:
        return str(MaskKind(mask).label) if mask else ""
    except ValueError:
        return mask


def _field_rows(resource: DataResource) -> list[dict[str, Any]]:
    return [
        {
            "key": f["key"],
            "label": f["label"],
            "personal": bool(f.get("personal")),
            "mask": _mask_label(str(f.get("mask") or "")),
        }
        for f in resource.fields
    ]


def _labels(resource: DataResource, keys: list[str]) -> list[str]:
    names = {str(f["key"]): str(f["label"]) for f in resource.fields}
    return [names.get(k, k) for k in keys]


# --- home ---------------------------------------------------------------------------------------


@staff_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    officer_ids = data_officer_department_ids(user)
    own_ids = query_department_ids(user) | officer_ids
    context: dict[str, Any] = {
        "officer": bool(officer_ids),
        "bureau": user_is_data_bureau(user),
        "grants": [g for g in selectors.grants_of_consumer(own_ids) if grant_is_active(g)],
    }
    if officer_ids:
        context.update(
            {
                "resources": resources_of_departments(officer_ids),
                "to_decide": list(selectors.requests_to_decide(user)),
                "anomalies": [
                    a for a in selectors.anomalies_of_owner(officer_ids) if a.closed_at is None
                ],
                "mine_pending": [
                    r
                    for r in selectors.requests_of_consumers(user)
                    if r.status == SharingRequest.Status.PENDING
                ],
            }
        )
    return _page(request, "exchange/staff/home.html", context)


# --- the catalogue --------------------------------------------------------------------------------


@staff_required
@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    owners = list(
        Department.objects.filter(data_resources__status=DataResource.Status.PUBLISHED)
        .distinct()
        .order_by("sort_order", "code")
    )
    form = CatalogueFilterForm(request.GET or None, owners=owners)
    data = form.cleaned_data if form.is_valid() else {}
    rows = selectors.resources_catalogue(
        q=str(data.get("q") or "").strip(),
        owner_id=data.get("owner"),
        sharing_class=str(data.get("sharing_class") or "") or None,
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return _page(
        request,
        "exchange/staff/catalogue.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "officer": bool(data_officer_department_ids(_user(request))),
        },
    )


@staff_required
@require_GET
def resource_detail(request: HttpRequest, code: str) -> HttpResponse:
    user = _user(request)
    resource = access_resource_view(user, code)
    manages = user_may_manage_resource(user, resource)
    may_request = (
        resource.status == DataResource.Status.PUBLISHED
        and resource.sharing_class != SharingClass.NONE
        and bool(request_departments(user, resource))
    )
    return _page(
        request,
        "exchange/staff/resource.html",
        {
            "resource": resource,
            "fields": _field_rows(resource),
            "manages": manages,
            "may_request": may_request,
            "adapter_kind": AdapterKind(resource.adapter_kind).label,
            "grants": (
                [
                    g
                    for g in selectors.grants_of_owner({resource.owner_id})
                    if g.resource_id == resource.pk
                ]
                if manages
                else []
            ),
        },
    )


def _resource_save(request: HttpRequest, resource: DataResource | None) -> HttpResponse:
    user = _user(request)
    owned = departments(data_officer_department_ids(user))
    posted = request.method == "POST"
    initial: dict[str, Any] = {}
    if resource is not None:
        initial = {
            name: getattr(resource, name)
            for name in (
                "code",
                "name",
                "description",
                "subject_type",
                "update_frequency",
                "legal_basis",
                "sharing_class",
                "sharing_condition",
                "adapter_kind",
                "rate_limit_per_minute",
            )
        }
        initial["owner"] = resource.owner_id
    form = ResourceForm(
        request.POST if posted else None,
        initial=initial,
        departments=owned,
        editing=resource is not None,
    )
    rows = field_rows(request.POST if posted else None, resource=resource)
    if posted and form.is_valid() & rows.is_valid():
        data = form.cleaned_data
        owner = next(d for d in owned if d.pk == data["owner"])
        config = data["adapter_config"]
        if config is None and resource is not None:
            config = resource.adapter_config
        try:
            saved = services.resource_save(
                actor=user,
                owner=owner,
                code=data["code"],
                name=data["name"].strip(),
                description=data["description"].strip(),
                fields=rows.spec(),
                subject_type=data["subject_type"],
                update_frequency=data["update_frequency"],
                legal_basis=data["legal_basis"].strip(),
                sharing_class=data["sharing_class"],
                sharing_condition=data["sharing_condition"],
                adapter_kind=data["adapter_kind"],
                adapter_config=config,
                rate_limit_per_minute=data["rate_limit_per_minute"],
                resource=resource,
            )
        except DomainError as exc:
            field = str(exc.extra.get("field") or "")
            form.add_error(field if field in form.fields else None, str(exc.message))
        else:
            messages.success(request, _("数据资源已保存。"))
            return redirect("exchange_staff:resource", code=saved.code)
    return _page(
        request,
        "exchange/staff/resource_form.html",
        {"form": form, "rows": rows, "resource": resource},
        status=422 if posted else 200,
    )


@officer_required
@require_http_methods(["GET", "POST"])
def resource_new(request: HttpRequest) -> HttpResponse:
    return _resource_save(request, None)


@officer_required
@require_http_methods(["GET", "POST"])
def resource_edit(request: HttpRequest, code: str) -> HttpResponse:
    return _resource_save(request, access_resource_manage(_user(request), code))


@officer_required
@require_POST
def resource_publish(request: HttpRequest, code: str) -> HttpResponse:
    resource = access_resource_manage(_user(request), code)
    try:
        services.resource_publish(actor=_user(request), resource=resource)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("数据资源已发布，其他部门可以在目录中看到并申请使用。"))
    return redirect("exchange_staff:resource", code=resource.code)


@officer_required
@require_http_methods(["GET", "POST"])
def resource_withdraw(request: HttpRequest, code: str) -> HttpResponse:
    user = _user(request)
    resource = access_resource_manage(user, code)
    posted = request.method == "POST"
    form = ReasonForm(
        request.POST if posted else None,
        confirm_label=gettext_lazy("我已知晓：下架后所有部门都不能再调用该资源。"),
        reason_label=gettext_lazy("下架原因"),
    )
    if posted and form.is_valid():
        try:
            services.resource_withdraw(
                actor=user, resource=resource, reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("数据资源已下架。"))
            return redirect("exchange_staff:resource", code=resource.code)
    return _page(
        request,
        "exchange/staff/withdraw.html",
        {"resource": resource, "form": form},
        status=422 if posted else 200,
    )


# --- requests -----------------------------------------------------------------------------------


@officer_required
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest, code: str) -> HttpResponse:
    user = _user(request)
    resource = access_resource_view(user, code)
    allowed = request_departments(user, resource)
    if (
        not allowed
        or resource.status != DataResource.Status.PUBLISHED
        or resource.sharing_class == SharingClass.NONE
    ):
        messages.error(request, _("您不能为该资源提出共享申请。"))
        return redirect("exchange_staff:resource", code=resource.code)
    posted = request.method == "POST"
    form = RequestForm(
        request.POST if posted else None,
        resource=resource,
        departments=allowed,
        items=item_choices(),
    )
    if posted and form.is_valid():
        data = form.cleaned_data
        consumer = next(d for d in allowed if d.pk == data["consumer"])
        try:
            created = services.request_create(
                actor=user,
                consumer=consumer,
                resource=resource,
                fields=form.ordered_fields(),
                item_codes=list(data["item_codes"]),
                purpose=data["purpose"],
                valid_until=data["valid_until"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            if created.status == SharingRequest.Status.APPROVED:
                messages.success(request, _("无条件共享资源：申请已自动通过，可以开始查询。"))
            else:
                messages.success(request, _("申请已提交，等待提供部门的数据专员审核。"))
            return redirect("exchange_staff:request", pk=created.pk)
    return _page(
        request,
        "exchange/staff/request_form.html",
        {"resource": resource, "form": form},
        status=422 if posted else 200,
    )


@officer_required
@require_GET
def requests_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    return _page(
        request,
        "exchange/staff/requests.html",
        {
            "to_decide": list(selectors.requests_to_decide(user)),
            "mine": list(selectors.requests_of_consumers(user)),
        },
    )


def _request_context(sharing: SharingRequest) -> dict[str, Any]:
    return {
        "sharing": sharing,
        "resource": sharing.resource,
        "requested_labels": _labels(sharing.resource, list(sharing.fields)),
        "items": item_labels(list(sharing.item_codes)),
    }


@officer_required
@require_http_methods(["GET", "POST"])
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    sharing, decides = access_request_view(user, pk)
    context = _request_context(sharing)
    context["decides"] = decides
    pending = sharing.status == SharingRequest.Status.PENDING
    posted = request.method == "POST"
    if posted and not decides:
        raise PermissionDenied
    form = None
    status = 200
    if decides and pending:
        form = DecisionForm(
            request.POST if posted else None,
            resource=sharing.resource,
            requested=list(sharing.fields),
            items=context["items"],
            valid_until=sharing.valid_until,
        )
        if posted:
            status = 422
            if form.is_valid():
                done = _decide(request, user, sharing, form)
                if done is not None:
                    return done
                sharing.refresh_from_db()
                if sharing.status != SharingRequest.Status.PENDING:
                    # Someone else decided between this page's load and its post.
                    messages.error(
                        request,
                        _(
                            "该申请已由其他数据专员处理（%(s)s），您的决定没有保存。"
                            "请查看下面的处理结果。"
                        )
                        % {"s": sharing.get_status_display()},
                    )
                    context = _request_context(sharing)
                    context["decides"] = decides
                    form = None
                    status = 409
    elif posted:
        messages.error(
            request,
            _("该申请已由其他数据专员处理（%(s)s），您的决定没有保存。")
            % {"s": sharing.get_status_display()},
        )
        status = 409
    context["form"] = form
    grant = Grant.objects.filter(request=sharing).first()
    context["grant"] = grant
    if grant is not None:
        names = dict(zip(grant.fields, _labels(sharing.resource, list(grant.fields)), strict=True))
        context["granted_labels"] = list(names.values())
        context["grant_masks"] = [
            (names.get(k, k), _mask_label(str(m))) for k, m in dict(grant.masks).items()
        ]
    return _page(request, "exchange/staff/request.html", context, status=status)


def _decide(
    request: HttpRequest, user: User, sharing: SharingRequest, form: DecisionForm
) -> HttpResponse | None:
    data = form.cleaned_data
    try:
        if data["decision"] == "approve":
            until = data["valid_until"]
            services.request_approve(
                actor=user,
                request=sharing,
                fields=form.granted(),
                masks=form.masks(),
                item_codes=list(data["item_codes"]),
                # Valid through the chosen day, as request_create reads a date.
                valid_until=_day_start(until + timedelta(days=1)) if until else None,
                rate_limit_per_minute=data["rate_limit_per_minute"],
                reason=data["reason"],
            )
            messages.success(request, _("已同意，申请部门现在可以在授权范围内查询。"))
        else:
            services.request_refuse(actor=user, request=sharing, reason=data["reason"])
            messages.success(request, _("已拒绝，申请部门会看到您的理由。"))
    except DomainError as exc:
        form.add_error(None, str(exc.message))
        return None
    return redirect("exchange_staff:request", pk=sharing.pk)


@officer_required
@require_POST
def request_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    sharing, _decides = access_request_view(user, pk)
    if sharing.consumer_id not in data_officer_department_ids(user):
        raise PermissionDenied
    try:
        services.request_withdraw(actor=user, request=sharing)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("申请已撤回。"))
    return redirect("exchange_staff:request", pk=sharing.pk)


# --- grants -------------------------------------------------------------------------------------


@staff_required
@require_GET
def grants_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    officer_ids = data_officer_department_ids(user)
    own_ids = query_department_ids(user) | officer_ids
    return _page(
        request,
        "exchange/staff/grants.html",
        {
            "given": list(selectors.grants_of_owner(officer_ids)) if officer_ids else [],
            "held": list(selectors.grants_of_consumer(own_ids)),
            "officer": bool(officer_ids),
            "now": timezone.now(),
        },
    )


@officer_required
@require_http_methods(["GET", "POST"])
def grant_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    grant = access_grant_revoke(user, pk)
    if grant.revoked_at is not None:
        messages.error(request, _("该授权已撤销。"))
        return redirect("exchange_staff:grants")
    posted = request.method == "POST"
    form = ReasonForm(
        request.POST if posted else None,
        confirm_label=gettext_lazy("我已核实：撤销后使用部门立即不能再查询该资源。"),
        reason_label=gettext_lazy("撤销原因"),
    )
    if posted and form.is_valid():
        try:
            services.grant_revoke(actor=user, grant=grant, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("授权已撤销。"))
            return redirect("exchange_staff:grants")
    return _page(
        request,
        "exchange/staff/revoke.html",
        {"grant": grant, "form": form, "field_labels": _labels(grant.resource, grant.fields)},
        status=422 if posted else 200,
    )


# --- the access log and anomalies ---------------------------------------------------------------


@officer_required
@require_GET
def access_log(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    ids = data_officer_department_ids(user)
    own = DataResource.objects.filter(owner_id__in=ids).order_by("code")
    consumers = sorted(
        {
            (int(cid), str(label))
            for cid, label in AccessLogEntry.objects.filter(owner_id__in=ids)
            .order_by()
            .values_list("consumer_id", "consumer_label")
            .distinct()
        },
        key=lambda pair: pair[1],
    )
    form = LogFilterForm(
        request.GET or None,
        consumers=consumers,
        resources=[(r.code, f"{r.code} {r.name}") for r in own],
    )
    filters: dict[str, Any] = {}
    if form.is_valid():
        data = form.cleaned_data
        filters = {
            "consumer_id": data.get("consumer"),
            "resource_code": data.get("resource") or "",
            "outcome": data.get("outcome") or "",
            "case_number": str(data.get("case_number") or "").strip(),
            "since": _day_start(data["since"]) if data.get("since") else None,
            "until": _day_start(data["until"] + timedelta(days=1)) if data.get("until") else None,
        }
    rows = selectors.access_log_of_owner(ids, **filters)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    names = selectors.resource_names({e.resource_code for e in page})
    return _page(
        request,
        "exchange/staff/log.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "entries": [(e, names.get(e.resource_code, "")) for e in page],
        },
    )


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@officer_required
@require_GET
def anomalies(request: HttpRequest) -> HttpResponse:
    ids = data_officer_department_ids(_user(request))
    rows = list(selectors.anomalies_of_owner(ids))
    return _page(
        request,
        "exchange/staff/anomalies.html",
        {
            "open": [a for a in rows if a.closed_at is None],
            "closed": [a for a in rows if a.closed_at is not None][:50],
            "form": CloseAnomalyForm(),
        },
    )


@officer_required
@require_http_methods(["GET", "POST"])
def anomaly_close(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    anomaly = access_anomaly(user, pk)
    posted = request.method == "POST"
    form = CloseAnomalyForm(request.POST if posted else None)
    if anomaly.closed_at is not None:
        messages.error(request, _("该异常已处理。"))
        return redirect("exchange_staff:anomalies")
    if posted and form.is_valid():
        try:
            services.anomaly_close(actor=user, anomaly=anomaly, note=form.cleaned_data["note"])
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("已记录处理说明，异常已关闭。"))
            return redirect("exchange_staff:anomalies")
    return _page(
        request,
        "exchange/staff/anomaly_close.html",
        {"anomaly": anomaly, "form": form},
        status=422 if posted else 200,
    )


# --- 共享查询 -------------------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def query(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    own_ids = query_department_ids(user)
    grants = [
        g
        for g in selectors.grants_of_consumer(own_ids)
        if grant_is_active(g) and user_may_query_for(user, g.consumer)
    ]
    choices = [
        (g.pk, f"{g.resource.name}（{g.resource.owner.name} → {g.consumer.name}）") for g in grants
    ]
    posted = request.method == "POST"
    initial = {"grant": request.GET.get("grant", "")}
    form = QueryForm(request.POST if posted else None, grants=choices, initial=initial)
    result: dict[str, Any] | None = None
    refusal = ""
    status = 200
    if posted and form.is_valid():
        data = form.cleaned_data
        grant = next(g for g in grants if g.pk == data["grant"])
        try:
            answer = gateway.exchange_query(
                consumer=grant.consumer,
                actor=user,
                resource_code=grant.resource.code,
                key=str(data["key"]).strip(),
                case_number=str(data["case_number"]).strip(),
                purpose=str(data["purpose"]).strip(),
            )
        except DomainError as exc:
            refusal = str(exc.message)
            status = exc.status
        else:
            labels = _labels(grant.resource, list(answer.fields))
            result = {
                "answer": answer,
                "labels": labels,
                "rows": [
                    [(label, r.get(k, "")) for label, k in zip(labels, answer.fields, strict=True)]
                    for r in answer.records
                ],
            }
    elif posted:
        status = 422
    return _page(
        request,
        "exchange/staff/query.html",
        {
            "form": form,
            "grants": grants,
            "result": result,
            "refusal": refusal,
            "conditional": [g.pk for g in grants if g.resource.sharing_class == "conditional"],
        },
        status=status,
    )


# --- collaboration figures (数据资源局) ----------------------------------------------------------

FIGURE_COLUMNS: list[tuple[str, Any]] = [
    ("resources_published", gettext_lazy("已发布资源")),
    ("requests_received", gettext_lazy("收到申请")),
    ("requests_answered", gettext_lazy("已答复申请")),
    ("median_answer_hours", gettext_lazy("答复用时中位数（小时）")),
    ("calls_served", gettext_lazy("提供调用")),
    ("calls_made", gettext_lazy("发起调用")),
    ("refused_calls", gettext_lazy("拒绝调用")),
    ("materials_saved", gettext_lazy("为群众免交材料")),
]


def _period(form: PeriodForm) -> tuple[date, date]:
    today = timezone.localdate()
    since, until = today - timedelta(days=29), today
    if form.is_bound and form.is_valid():
        since = form.cleaned_data.get("since") or since
        until = form.cleaned_data.get("until") or until
        if since > until:
            since = until
    return since, until


def _figures(since: date, until: date) -> list[dict[str, Any]]:
    found = selectors.collaboration_figures(
        since=_day_start(since), until=_day_start(until + timedelta(days=1))
    )
    rows = []
    for fig in found:
        values = [getattr(fig, attr) for attr, _label in FIGURE_COLUMNS]
        rows.append(
            {
                "label": fig.department,
                "values": values,
                "cells": [(str(c[1]), v) for c, v in zip(FIGURE_COLUMNS, values, strict=True)],
            }
        )
    return rows


@data_bureau_required
@require_GET
def figures(request: HttpRequest) -> HttpResponse:
    form = PeriodForm(request.GET or None)
    since, until = _period(form)
    return _page(
        request,
        "exchange/staff/figures.html",
        {
            "form": form,
            "since": since,
            "until": until,
            "columns": [label for _a, label in FIGURE_COLUMNS],
            "rows": _figures(since, until),
            "query": f"since={since.isoformat()}&until={until.isoformat()}",
        },
    )


@data_bureau_required
@require_GET
def figures_xlsx(request: HttpRequest) -> HttpResponse:
    since, until = _period(PeriodForm(request.GET or None))
    book = Workbook()
    sheet = book.active
    sheet.title = _("部门协同")
    sheet.append([_("部门"), *[str(label) for _a, label in FIGURE_COLUMNS]])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in _figures(since, until):
        sheet.append(
            [
                row["label"],
                *[float(v) if hasattr(v, "as_integer_ratio") else v for v in row["values"]],
            ]
        )
        # A department name is data, never a formula.
        sheet.cell(row=sheet.max_row, column=1).data_type = "s"
    for column in range(1, len(FIGURE_COLUMNS) + 2):
        sheet.column_dimensions[get_column_letter(column)].width = 28 if column == 1 else 14
    sheet.freeze_panes = "B2"
    notes = book.create_sheet(_("说明"))
    notes.append([_("统计期间"), f"{since:%Y-%m-%d} 至 {until:%Y-%m-%d}"])
    notes.append([_("为群众免交材料：申请材料由共享交换或电子证照提供、群众无需上传的份数。")])
    out = BytesIO()
    book.save(out)
    response = HttpResponse(
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = f"exchange-figures-{since:%Y%m%d}-{until:%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
