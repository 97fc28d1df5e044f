"""Citizen pages of 办件:

* ``/applications/apply/<task_code>/`` (and ``/applications/apply/bundle/<code>/`` for a
  一件事): the application form; every problem the service finds is shown next to its field
  or material and what was typed is kept (files must be chosen again: browsers do not keep
  them). A hidden idempotency key per rendered form makes a double click one application.
* ``/applications/`` 我的办件 and ``/applications/<id>/`` with the timeline, the materials,
  the notice PDFs (the API's notice endpoint, which checks access itself), withdraw and
  supplement.
* ``/progress/`` the public progress query (number + last four phone digits): what the API
  shows, nothing personal; limited per client address and per number like the API.

Plain forms that work without JavaScript; each view resolves the actor and the object through
``access``, calls one service and renders.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiwang.accounts.models import Delegation, User
from yiwang.applications import services, shared, sources
from yiwang.applications.access import access_own_application, require_applicant
from yiwang.applications.apply_flow import (
    Submission,
    form_context,
    materials_from_post,
    place_problems,
    problems_of,
    submit_from_post,
)
from yiwang.applications.forms import (
    FORM_PREFIX,
    SELF,
    ApplyForm,
    MaterialRow,
    ProgressForm,
    SupplementForm,
    WithdrawForm,
    material_rows,
)
from yiwang.applications.models import Application, ApplicationMaterial
from yiwang.applications.selectors import (
    application_light,
    application_situation_name,
    application_timeline,
    applications_of,
    delegators_of,
    progress_admission,
    progress_find,
)
from yiwang.catalog.models import Bundle, ItemVersion, ServiceItem
from yiwang.core.access import authenticated, client_address, public
from yiwang.core.errors import DomainError, NotFound, ValidationError

PAGE_SIZE = 20
WITHDRAWABLE = (
    Application.Status.SUBMITTED,
    Application.Status.SUPPLEMENT_REQUESTED,
    Application.Status.ACCEPTED,
    Application.Status.IN_REVIEW,
)
NOTICES_BY_STATUS = {
    "acceptance": _("受理通知书"),
    "refusal": _("不予受理通知书"),
    "correction": _("补正材料一次性告知书"),
    "decision": _("办结通知书"),
}
LIGHT_LABELS = {
    "green": _("正常"),
    "yellow": _("临近期限"),
    "red": _("已超期"),
    "none": "",
}
EVENT_LABELS = {
    "submitted": _("提交申请"),
    "accepted": _("已受理"),
    "refused": _("不予受理"),
    "supplement_requested": _("需要补正材料"),
    "supplemented": _("已补正材料"),
    "task_opened": _("部门开始审查"),
    "task_approved": _("部门审查通过"),
    "task_refused": _("部门审查未通过"),
    "auto_approved": _("规则自动审批通过"),
    "rules_failed": _("转人工审批"),
    "approved": _("准予办理"),
    "rejected": _("不予办理"),
    "special_started": _("特别程序开始"),
    "special_ended": _("特别程序结束"),
    "concluded": _("已办结"),
    "issued": _("已出件"),
    "withdrawn": _("已撤回"),
    "escalated": _("督办"),
}


def event_label(kind: str) -> str:
    return str(EVENT_LABELS.get(kind, kind))


# --- apply -----------------------------------------------------------------------------------


def _principals(user: User) -> list[User]:
    """Whom ``user`` may file for: principals of active delegations with scope ``apply``."""
    return [
        d.principal
        for d in delegators_of(user).select_related("principal").order_by("principal__real_name")
        if Delegation.Scope.APPLY in d.scopes
    ]


def apply_page(
    request: HttpRequest,
    *,
    item: ServiceItem | None,
    bundle: Bundle | None,
    title: str,
    version: ItemVersion | None,
    channel: str = Application.Channel.ONLINE,
    template: str = "applications/citizen/apply.html",
    data: Any = None,
    done: Callable[[Application], HttpResponse] | None = None,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """The apply page of the portal (and, with its own ``template``, ``channel`` and ``done``,
    of the self-service terminal). ``data`` replaces the POST (the terminal fills in the
    account's phone)."""
    user = require_applicant(request.user)
    principals = _principals(user)
    rows = material_rows(version, bundle)
    posted = request.method == "POST"
    form = ApplyForm(
        (data if data is not None else request.POST) if posted else None,
        version=version,
        bundle=bundle,
        principals=principals,
    )
    outcome = Submission()
    prefilled = None if posted else _prefill(form, user, version, bundle)
    if posted:
        chosen = str(form.data.get("principal", SELF))
        principal = next((p for p in principals if str(p.public_id) == chosen), None)
        outcome = submit_from_post(
            request,
            form=form,
            rows=rows,
            actor=user,
            item=item,
            bundle=bundle,
            channel=channel,
            principal=principal if chosen != SELF else None,
        )
        if outcome.application is not None:
            application = outcome.application
            if done is not None:
                return done(application)
            messages.success(
                request,
                _("申请已提交，办件编号 %(n)s。请留意短信和“我的消息”。")
                % {"n": application.number},
            )
            return redirect("applications:detail", public_id=application.public_id)
    return render(
        request,
        template,
        {
            **form_context(
                form=form,
                rows=rows,
                outcome=outcome,
                posted=posted,
                title=title,
                item=item,
                bundle=bundle,
                version=version,
            ),
            "prefill_sources": prefilled.sources if prefilled is not None else [],
            **(extra or {}),
        },
        status=outcome.status,
    )


def _prefill(
    form: ApplyForm, user: User, version: ItemVersion | None, bundle: Bundle | None
) -> shared.Prefill | None:
    """Fill the new form from what the government already holds about the applicant
    (registered by the exchange app: a logged read of their own records); the page names
    where the values came from."""
    found = shared.prefill_for(user, version, bundle, form.fact_names)
    if found is None:
        return None
    for name, value in found.values.items():
        key = "contact_phone" if name == "contact_phone" else FORM_PREFIX + name
        if key in form.fields:
            form.initial[key] = value
    return found


@authenticated
@require_http_methods(["GET", "POST"])
def apply_item(request: HttpRequest, task_code: str) -> HttpResponse:
    item = ServiceItem.objects.filter(task_code=task_code).first()
    version = (
        ItemVersion.objects.filter(item=item, status=ItemVersion.Status.PUBLISHED).first()
        if item is not None
        else None
    )
    if item is None or version is None or version.external_system:
        raise NotFound("core.not_found", _("找不到该事项，或该事项不能在本平台申请。"))
    return apply_page(request, item=item, bundle=None, version=version, title=version.name)


@authenticated
@require_http_methods(["GET", "POST"])
def apply_bundle(request: HttpRequest, code: str) -> HttpResponse:
    bundle = Bundle.objects.filter(code=code, status=Bundle.Status.PUBLISHED).first()
    if bundle is None:
        raise NotFound("core.not_found", _("找不到该一件事，或它尚未发布。"))
    return apply_page(request, item=None, bundle=bundle, version=None, title=bundle.name)


# --- my applications -------------------------------------------------------------------------


@authenticated
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    user = require_applicant(request.user)
    page = Paginator(applications_of(user), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"application": a, "light": application_light(a)} for a in page.object_list]
    return render(
        request,
        "applications/citizen/mine.html",
        {"page": page, "rows": rows, "light_labels": LIGHT_LABELS},
    )


def _notices(application: Application) -> list[tuple[str, Any]]:
    """The notices the case has reached (the API answers 404 for the others)."""
    status = application.status
    found: list[tuple[str, Any]] = []
    if application.accepted_at is not None:
        found.append(("acceptance", NOTICES_BY_STATUS["acceptance"]))
    if status == Application.Status.REFUSED:
        found.append(("refusal", NOTICES_BY_STATUS["refusal"]))
    if application.supplement_items:
        found.append(("correction", NOTICES_BY_STATUS["correction"]))
    if status in (Application.Status.CONCLUDED, Application.Status.ISSUED):
        found.append(("decision", NOTICES_BY_STATUS["decision"]))
    return found


def _detail_context(
    application: Application,
    *,
    supplement_form: SupplementForm | None = None,
    withdraw_form: WithdrawForm | None = None,
    supplement_errors: list[str] | None = None,
) -> dict[str, Any]:
    light = application_light(application)
    materials = list(application.materials.select_related("material").order_by("id"))
    for m in materials:
        # where a government-held material came from (e.g. 由…通过数据共享提供：…)
        setattr(m, "origin", sources.material_describe(m) if m.reference else "")  # noqa: B010
    asked = application.status == Application.Status.SUPPLEMENT_REQUESTED
    open_promises = [
        m
        for m in materials
        if m.source == ApplicationMaterial.Source.PROMISED and m.fulfilled_at is None
    ]
    supplement_rows: list[MaterialRow] = []
    if asked or open_promises:
        supplement_rows = [
            r for r in material_rows(application.version, application.bundle) if not r.fetched
        ]
    return {
        "application": application,
        "light": light,
        "light_label": LIGHT_LABELS.get(light, ""),
        "situation_name": application_situation_name(application),
        "events": [
            {"label": event_label(e.kind), "event": e}
            for e in application_timeline(application, public_only=True)
        ],
        "materials": materials,
        "tasks": list(application.tasks.select_related("department").order_by("created_at", "id")),
        "notices": _notices(application),
        "can_withdraw": application.status in WITHDRAWABLE,
        "supplement_open": asked or bool(open_promises),
        "supplement_rows": supplement_rows,
        "supplement_form": supplement_form or SupplementForm(),
        "supplement_errors": supplement_errors or [],
        "withdraw_form": withdraw_form or WithdrawForm(),
    }


@authenticated
@require_GET
def detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = require_applicant(request.user)
    application = access_own_application(user, public_id)
    return render(request, "applications/citizen/detail.html", _detail_context(application))


@authenticated
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """GET: the confirmation page; POST: withdraw."""
    user = require_applicant(request.user)
    application = access_own_application(user, public_id)
    form = WithdrawForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.application_withdraw(
                application=application, actor=user, reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("申请已撤回。"))
        return redirect("applications:detail", public_id=application.public_id)
    return render(
        request,
        "applications/citizen/withdraw.html",
        {
            "application": application,
            "form": form,
            "can_withdraw": application.status in WITHDRAWABLE,
        },
    )


@authenticated
@require_POST
def supplement(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = require_applicant(request.user)
    application = access_own_application(user, public_id)
    form = SupplementForm(request.POST)
    context = _detail_context(application, supplement_form=form)
    rows: list[MaterialRow] = context["supplement_rows"]
    given, index_to_id = materials_from_post(request, rows)
    general: list[str] = []
    if form.is_valid():
        if not given:
            general.append(str(_("请至少上传一份材料。")))
        else:
            try:
                services.application_supplement(
                    application=application,
                    actor=user,
                    materials=given,
                    form_data=None,
                    note=form.cleaned_data["note"],
                )
            except ValidationError as exc:
                general = place_problems(
                    ApplyForm(version=None, bundle=None, principals=[]),
                    rows,
                    problems_of(exc),
                    index_to_id,
                )
            except DomainError as exc:
                general = [str(exc.message)]
            else:
                messages.success(request, _("补正材料已提交。"))
                return redirect("applications:detail", public_id=application.public_id)
    context["supplement_errors"] = general
    return render(request, "applications/citizen/detail.html", context, status=422)


# --- public progress -------------------------------------------------------------------------


@public
@require_GET
def progress(request: HttpRequest) -> HttpResponse:
    form = ProgressForm(request.GET or None)
    found = None
    problem = ""
    status = 200
    if form.is_bound and form.is_valid():
        number = form.cleaned_data["number"].strip()
        within, locked = progress_admission(address=client_address(request), number=number)
        if not within or locked:
            problem = str(_("查询太频繁，请稍后再试。如需帮助请拨打 12345。"))
            status = 429
        else:
            found = progress_find(number=number, phone_last4=form.cleaned_data["phone_last4"])
            if found is None:
                problem = str(_("没有找到与编号和手机号后四位相符的办件，请核对后再查。"))
                status = 404
    elif form.is_bound:
        status = 422
    return render(
        request,
        "applications/citizen/progress.html",
        {
            "form": form,
            "progress": found,
            "problem": problem,
            "events": [
                {"label": event_label(e.kind), "event": e} for e in (found.events if found else [])
            ],
        },
        status=status,
    )
