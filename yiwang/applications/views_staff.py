"""Staff console pages of 办件, under ``/console/applications/``:

* 受理台 (window clerks): the acceptance queue of their departments, oldest first, and the case
  page with 受理 (容缺), 不予受理 and 一次性告知补正;
* 前台综合受理 (window clerks): a walk-in applicant's application entered at the window
  (``/console/applications/walk-in/``): choose an item or 一件事 of the clerk's departments,
  identify the applicant (real name + ID number of a real-name user), fill in the same form
  as the portal and submit with channel ``window``; the case page then offers 受理 at once;
* 出件 (window clerks): approved and rejected cases to conclude (办结), concluded ones to issue
  (window pickup, post, electronic);
* 待办任务 (approvers): the departments' task inbox, the task page with claim, approve or
  refuse with an opinion, return for supplement, special procedures.

Each view resolves the actor and the object through ``access`` (another department's case is a
404), calls one service and redirects; a conflict (a lost race, a state that moved on) comes
back as the service's message, invalid input onto the form's fields.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode
from uuid import UUID

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiwang.accounts.access import role_required
from yiwang.accounts.models import Role, User
from yiwang.accounts.selectors import (
    citizen_find_by_identity,
    user_department_ids_for_role,
    user_departments_for_role,
)
from yiwang.applications import services, shared, sources
from yiwang.applications.access import access_staff_application, access_task
from yiwang.applications.apply_flow import (
    Submission,
    form_context,
    materials_from_post,
    submit_from_post,
)
from yiwang.applications.forms import (
    WalkInForm,
    field_label,
    form_field_labels,
    material_rows,
)
from yiwang.applications.forms_staff import (
    AcceptForm,
    CompleteForm,
    ConcludeForm,
    IssueForm,
    RefuseForm,
    SpecialEndForm,
    SpecialStartForm,
    StaffForm,
    SupplementForm,
)
from yiwang.applications.models import Application, ApplicationMaterial, Pause, Task
from yiwang.applications.selectors import (
    NOTICE_KINDS,
    acceptance_queue,
    application_light,
    application_notice_pdf,
    application_situation_name,
    application_timeline,
    issuance_queue,
    task_inbox,
    task_light,
)
from yiwang.catalog.models import Bundle, ItemVersion, Material, ServiceItem
from yiwang.catalog.search import catalog_search
from yiwang.core.errors import Conflict, NotFound, ValidationError
from yiwang.core.masking import mask_name, mask_phone

PAGE_SIZE = 20
WALK_IN_SEARCH_LIMIT = 500  # catalog hits looked at for the walk-in item list
clerk_required = role_required(Role.WINDOW_CLERK)
approver_required = role_required(Role.APPROVER)
staff_of_case_required = role_required(Role.WINDOW_CLERK, Role.APPROVER, Role.SUPERVISOR)

NOTICE_LABELS = {
    "acceptance": _("受理通知书"),
    "refusal": _("不予受理通知书"),
    "correction": _("补正材料一次性告知书"),
    "decision": _("办结通知书"),
}


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _notices(application: Application) -> list[tuple[str, Any]]:
    """The notices this case has reached, in the order it reached them."""
    kinds = []
    if application.accepted_at is not None:
        kinds.append("acceptance")
    if application.status == Application.Status.REFUSED and application.refusal_reasons:
        kinds.append("refusal")
    if application.pauses.filter(kind=Pause.Kind.SUPPLEMENT).exists():
        kinds.append("correction")
    if application.concluded_at is not None:
        kinds.append("decision")
    return [(k, NOTICE_LABELS[k]) for k in kinds]


def _tolerable(application: Application) -> list[tuple[int, str]]:
    """容缺 materials the applicant has not supplied: what the clerk may accept without."""
    if application.status != Application.Status.SUBMITTED:
        return []
    have = set(application.materials.values_list("material_id", flat=True))
    found = []
    for requirement in services.requirements_for(
        version=None if application.bundle_id else application.version,
        bundle=application.bundle,
        situation=application.situation,
    ):
        missing = [m for m in requirement.material_ids if m not in have]
        if requirement.necessity == Material.Necessity.TOLERATED and missing:
            found.append((missing[0], requirement.name))
    return found


def _with_lights(rows: Any, light: Any) -> list[Any]:
    shown = list(rows)
    for row in shown:
        row.light = light(row)
    return shown


def _form_rows(application: Application) -> list[tuple[str, Any]]:
    """The application form as (label, value) rows: the catalog's labels, never bare keys."""
    labels = form_field_labels(
        None if application.bundle_id else application.version, application.bundle
    )
    return [(field_label(k, labels), v) for k, v in sorted(application.form_data.items())]


def _done(request: HttpRequest, message: Any, to: str, **kwargs: Any) -> HttpResponse:
    messages.success(request, message)
    return HttpResponseRedirect(reverse(to, kwargs=kwargs))


# --- 受理台 and 出件: the window ------------------------------------------------------------------


@clerk_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    page = Paginator(acceptance_queue(_user(request)), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "applications/staff/queue.html",
        {"page": page, "rows": _with_lights(page.object_list, application_light)},
    )


# --- 前台综合受理: walk-in applications ----------------------------------------------------------


def _walk_in_hits(user: User, q: str) -> tuple[list[Any], bool]:
    """Published items (that this platform handles) and 一件事 of the clerk's window
    departments matching ``q``, best first; and whether the search limit was reached."""
    departments = set(user_department_ids_for_role(user, Role.WINDOW_CLERK))
    found = catalog_search(q=q, kind="all", limit=WALK_IN_SEARCH_LIMIT)
    hits = [
        hit
        for hit in found.items
        if (
            hit.version is not None
            and not hit.version.external_system
            and hit.version.item.department_id in departments
        )
        or (hit.bundle is not None and hit.bundle.lead_department_id in departments)
    ]
    return hits, found.count > WALK_IN_SEARCH_LIMIT


@clerk_required
@require_GET
def walk_in(request: HttpRequest) -> HttpResponse:
    """Step 1: choose the item (or 一件事) the walk-in applicant asks for."""
    q = request.GET.get("q", "").strip()[:100]
    hits, truncated = _walk_in_hits(_user(request), q)
    page = Paginator(hits, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "applications/staff/walk_in_choose.html",
        {
            "q": q,
            "page": page,
            "truncated": truncated,
            "query_string": urlencode({"q": q}) if q else "",
        },
    )


def _walk_in_applicant(form: WalkInForm) -> tuple[User | None, str]:
    """The real-name user the clerk identified, or None and the problem (none when a field is
    empty: the form says so)."""
    name = str(form.data.get("applicant_name", "")).strip()
    number = str(form.data.get("applicant_id_number", "")).strip().upper()
    if not name or not number:
        return None, ""
    try:
        found = citizen_find_by_identity(real_name=name, id_number=number)
    except ValidationError as exc:
        return None, str(exc.message)
    if found is None:
        return None, str(
            _(
                "找不到姓名和身份证号码相符的实名注册用户。请核对身份证原件；"
                "申请人尚未实名注册的，请先协助其完成实名注册。"
            )
        )
    return found, ""


def _walk_in(
    request: HttpRequest,
    *,
    item: ServiceItem | None,
    bundle: Bundle | None,
    version: ItemVersion | None,
    title: str,
) -> HttpResponse:
    user = _user(request)
    rows = material_rows(version, bundle)
    posted = request.method == "POST"
    form = WalkInForm(
        request.POST if posted else None, version=version, bundle=bundle, principals=[]
    )
    outcome = Submission()
    if posted:
        applicant, problem = _walk_in_applicant(form)
        if applicant is None:
            # Without an applicant the service cannot check the rest (whose materials, whose
            # e-certificates): the identity comes first, with the form's own problems.
            materials_from_post(request, rows)  # keeps the 容缺 ticks
            form.is_valid()
            if problem:
                form.add_error("applicant_id_number", problem)
            outcome = Submission(status=422)
        else:
            outcome = submit_from_post(
                request,
                form=form,
                rows=rows,
                actor=user,
                item=item,
                bundle=bundle,
                channel=Application.Channel.WINDOW,
                applicant=applicant,
            )
        if outcome.application is not None:
            application = outcome.application
            return _done(
                request,
                _("已为申请人 %(name)s 提交申请，办件编号 %(n)s。请核对材料原件后受理。")
                % {
                    "name": mask_name(applicant.real_name if applicant else ""),
                    "n": application.number,
                },
                "applications_staff:case",
                public_id=application.public_id,
            )
    return render(
        request,
        "applications/staff/walk_in_form.html",
        form_context(
            form=form,
            rows=rows,
            outcome=outcome,
            posted=posted,
            title=title,
            item=item,
            bundle=bundle,
            version=version,
        ),
        status=outcome.status,
    )


def _walk_in_not_found() -> NotFound:
    return NotFound("core.not_found", _("找不到该事项，或它不属于您所在窗口的受理范围。"))


@clerk_required
@require_http_methods(["GET", "POST"])
def walk_in_item(request: HttpRequest, task_code: str) -> HttpResponse:
    """Step 2: the walk-in application of one item of the clerk's departments."""
    departments = user_departments_for_role(_user(request), Role.WINDOW_CLERK)
    version = (
        ItemVersion.objects.filter(
            item__task_code=task_code,
            item__department_id__in=departments,
            status=ItemVersion.Status.PUBLISHED,
            external_system=False,
        )
        .select_related("item")
        .first()
    )
    if version is None:
        raise _walk_in_not_found()
    return _walk_in(request, item=version.item, bundle=None, version=version, title=version.name)


@clerk_required
@require_http_methods(["GET", "POST"])
def walk_in_bundle(request: HttpRequest, code: str) -> HttpResponse:
    """Step 2 for a 一件事 whose lead department is one of the clerk's."""
    departments = user_departments_for_role(_user(request), Role.WINDOW_CLERK)
    bundle = Bundle.objects.filter(
        code=code, status=Bundle.Status.PUBLISHED, lead_department_id__in=departments
    ).first()
    if bundle is None:
        raise _walk_in_not_found()
    return _walk_in(request, item=None, bundle=bundle, version=None, title=bundle.name)


@clerk_required
@require_GET
def issuance(request: HttpRequest) -> HttpResponse:
    page = Paginator(issuance_queue(_user(request)), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "applications/staff/issuance.html",
        {"page": page, "rows": _with_lights(page.object_list, application_light)},
    )


def _case_page(
    request: HttpRequest,
    application: Application,
    *,
    forms: dict[str, StaffForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    given = forms or {}
    state = application.status
    clerk = application.department_id in user_department_ids_for_role(user, Role.WINDOW_CLERK)
    actions: dict[str, StaffForm] = {}
    if clerk:
        if state == Application.Status.SUBMITTED:
            actions["accept"] = given.get("accept") or AcceptForm(tolerable=_tolerable(application))
            actions["supplement"] = given.get("supplement") or SupplementForm()
        if state in (Application.Status.SUBMITTED, Application.Status.SUPPLEMENT_REQUESTED):
            actions["refuse"] = given.get("refuse") or RefuseForm()
        if state in (Application.Status.APPROVED, Application.Status.REJECTED):
            actions["conclude"] = given.get("conclude") or ConcludeForm()
        if state == Application.Status.CONCLUDED:
            actions["issue"] = given.get("issue") or IssueForm()
    services.application_read_log(actor=user, application=application, purpose="办件受理审查")
    principal = application.principal
    return render(
        request,
        "applications/staff/case.html",
        {
            "application": application,
            "light": application_light(application),
            "applicant": mask_name(application.applicant.real_name),
            "principal": mask_name(principal.real_name) if principal else "",
            "contact_phone": mask_phone(application.contact_phone),
            "situation_name": application_situation_name(application),
            "form_data": _form_rows(application),
            "materials": _materials(application),
            "promised": ApplicationMaterial.Source.PROMISED,
            "tasks": _with_lights(
                application.tasks.select_related("department", "assignee").order_by(
                    "created_at", "id"
                ),
                task_light,
            ),
            "events": application_timeline(application, public_only=False),
            "notices": _notices(application),
            "actions": actions,
        },
        status=status,
    )


@staff_of_case_required
@require_GET
def case(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _case_page(request, access_staff_application(_user(request), public_id))


def _case_action(
    request: HttpRequest, public_id: UUID, name: str, form: StaffForm, act: Any, done: Any
) -> HttpResponse:
    """Validate ``form``, call ``act(application, cleaned_data)``; a conflict is a message on
    the case page, invalid input is shown on the form (422)."""
    application = access_staff_application(_user(request), public_id)
    if form.is_valid():
        try:
            act(application, form.cleaned_data)
        except Conflict as exc:
            messages.error(request, str(exc.message))
            return redirect("applications_staff:case", public_id=application.public_id)
        except ValidationError as exc:
            form.add_domain_error(exc)
        else:
            return _done(request, done, "applications_staff:case", public_id=public_id)
    return _case_page(request, application, forms={name: form}, status=422)


@clerk_required
@require_POST
def accept(request: HttpRequest, public_id: UUID) -> HttpResponse:
    application = access_staff_application(_user(request), public_id)
    form = AcceptForm(request.POST, tolerable=_tolerable(application))

    def act(app: Application, data: dict[str, Any]) -> None:
        services.application_accept(
            application=app,
            actor=_user(request),
            note=data["note"],
            tolerated=data.get("tolerated") or [],
            promised_due=data.get("promised_due"),
        )

    return _case_action(
        request, public_id, "accept", form, act, _("已受理，受理通知书可下载打印。")
    )


@clerk_required
@require_POST
def refuse(request: HttpRequest, public_id: UUID) -> HttpResponse:
    form = RefuseForm(request.POST)

    def act(app: Application, data: dict[str, Any]) -> None:
        services.application_refuse(
            application=app, actor=_user(request), reasons=form.reason_list()
        )

    return _case_action(
        request, public_id, "refuse", form, act, _("已作出不予受理决定，通知书可下载打印。")
    )


@clerk_required
@require_POST
def request_supplement(request: HttpRequest, public_id: UUID) -> HttpResponse:
    form = SupplementForm(request.POST)

    def act(app: Application, data: dict[str, Any]) -> None:
        services.application_request_supplement(
            application=app, actor=_user(request), items=form.item_list()
        )

    return _case_action(
        request, public_id, "supplement", form, act, _("已一次性告知补正，告知书可下载打印。")
    )


@clerk_required
@require_POST
def conclude(request: HttpRequest, public_id: UUID) -> HttpResponse:
    form = ConcludeForm(request.POST)

    def act(app: Application, data: dict[str, Any]) -> None:
        services.application_conclude(application=app, actor=_user(request), note=data["note"])

    return _case_action(
        request, public_id, "conclude", form, act, _("已办结，请选择送达方式出件。")
    )


@clerk_required
@require_POST
def issue(request: HttpRequest, public_id: UUID) -> HttpResponse:
    form = IssueForm(request.POST)

    def act(app: Application, data: dict[str, Any]) -> None:
        services.application_issue(
            application=app,
            actor=_user(request),
            delivery_method=data["delivery_method"],
            tracking_number=data["tracking_number"],
            address=data["address"],
        )

    return _case_action(request, public_id, "issue", form, act, _("已出件。"))


@staff_of_case_required
@require_GET
def notice(request: HttpRequest, public_id: UUID, kind: str) -> HttpResponse:
    """A case notice as PDF, for staff of the case's departments; the read is audited."""
    user = _user(request)
    application = access_staff_application(user, public_id)
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
    services.application_read_log(
        actor=user, application=application, purpose=f"打印通知书（{kind}）"
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{application.number}-{kind}.pdf"'
    return response


@staff_of_case_required
@require_GET
def material_file(request: HttpRequest, public_id: UUID, material_id: UUID) -> HttpResponseBase:
    """An uploaded material of the case, for staff of the case's departments; the read is
    audited. Served as an attachment with the type sniffed at upload, never rendered inline
    from the site's own origin."""
    user = _user(request)
    application = access_staff_application(user, public_id)
    found = application.materials.filter(public_id=material_id).exclude(file="").first()
    if found is None:
        raise NotFound("core.not_found", _("找不到该材料文件。"))
    try:
        handle = found.file.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise NotFound("core.not_found", _("该材料文件已不在存储中。")) from exc
    services.application_read_log(
        actor=user, application=application, purpose=f"查看材料（{found.name}）"
    )
    stored = found.file.name or ""
    extension = stored.rsplit(".", 1)[-1] if "." in stored else "bin"
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"{application.number}-{found.name}.{extension}",
        content_type=found.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _materials(application: Application) -> list[ApplicationMaterial]:
    """The case's materials, each with where a government-held one came from (``origin``)."""
    found = list(application.materials.select_related("material").order_by("id"))
    for m in found:
        setattr(m, "origin", sources.material_describe(m) if m.reference else "")  # noqa: B010
    return found


@staff_of_case_required
@require_GET
def material_data(request: HttpRequest, public_id: UUID, material_id: UUID) -> HttpResponse:
    """A material fetched through data sharing, read again for the staff member's department
    (a fresh, case-bound and logged call: the platform keeps no copy of the data)."""
    user = _user(request)
    application = access_staff_application(user, public_id)
    found = (
        application.materials.filter(public_id=material_id)
        .select_related("material", "material__version__item")
        .first()
    )
    records = shared.material_data(found, user) if found is not None else None
    if found is None or records is None:
        raise NotFound("core.not_found", _("找不到该共享材料。"))
    services.application_read_log(
        actor=user, application=application, purpose=f"查看共享材料（{found.name}）"
    )
    return render(
        request,
        "applications/staff/material_data.html",
        {
            "application": application,
            "material": found,
            "origin": sources.material_describe(found),
            "shared_records": records,
        },
    )


# --- 待办任务: the approvers ----------------------------------------------------------------------


@approver_required
@require_GET
def tasks(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    mine = request.GET.get("mine") == "1"
    rows = task_inbox(user)
    if mine:
        rows = rows.filter(status=Task.Status.CLAIMED, assignee=user)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "applications/staff/tasks.html",
        {
            "page": page,
            "rows": _with_lights(page.object_list, task_light),
            "mine": mine,
            "query_string": "mine=1" if mine else "",
        },
    )


def _task_page(
    request: HttpRequest,
    task: Task,
    *,
    forms: dict[str, StaffForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    given = forms or {}
    application = task.application
    open_pause = application.pauses.filter(ended_at__isnull=True).first()
    working = task.status in (Task.Status.OPEN, Task.Status.CLAIMED) and (
        application.status == Application.Status.IN_REVIEW
    )
    mine_or_free = task.status == Task.Status.OPEN or task.assignee_id == user.pk
    actions: dict[str, StaffForm] = {}
    if working and mine_or_free and open_pause is None:
        actions["complete"] = given.get("complete") or CompleteForm()
        actions["return"] = given.get("return") or SupplementForm()
        actions["special"] = given.get("special") or SpecialStartForm()
    if open_pause is not None and open_pause.kind != Pause.Kind.SUPPLEMENT and working:
        actions["special_end"] = given.get("special_end") or SpecialEndForm()
    services.application_read_log(actor=user, application=application, purpose="部门审批审查")
    shared_asked = request.method == "GET" and request.GET.get("shared") == "1"
    return render(
        request,
        "applications/staff/task.html",
        {
            "task": task,
            "application": application,
            "light": task_light(task),
            "can_claim": working and task.status == Task.Status.OPEN,
            "claimed_by_other": task.status == Task.Status.CLAIMED and task.assignee_id != user.pk,
            "open_pause": open_pause,
            "form_data": _form_rows(application),
            "materials": _materials(application),
            "promised": ApplicationMaterial.Source.PROMISED,
            # 共享数据: read (case-bound and logged) only when staff ask for it
            "shared_asked": shared_asked,
            "shared_records": shared.task_data(task, user) if shared_asked else [],
            "others": application.tasks.exclude(pk=task.pk)
            .select_related("department")
            .order_by("created_at", "id"),
            "events": application_timeline(application, public_only=False),
            "actions": actions,
        },
        status=status,
    )


@approver_required
@require_GET
def task(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _task_page(request, access_task(_user(request), public_id))


def _task_action(
    request: HttpRequest, public_id: UUID, name: str, form: StaffForm | None, act: Any, done: Any
) -> HttpResponse:
    found = access_task(_user(request), public_id)
    if form is None or form.is_valid():
        try:
            act(found, form.cleaned_data if form is not None else {})
        except Conflict as exc:
            messages.error(request, str(exc.message))
            return redirect("applications_staff:task", public_id=found.public_id)
        except ValidationError as exc:
            if form is None:
                messages.error(request, str(exc.message))
                return redirect("applications_staff:task", public_id=found.public_id)
            form.add_domain_error(exc)
        else:
            return _done(request, done, "applications_staff:task", public_id=public_id)
    found.refresh_from_db()
    return _task_page(request, found, forms={name: form} if form else None, status=422)


@approver_required
@require_POST
def task_claim(request: HttpRequest, public_id: UUID) -> HttpResponse:
    def act(found: Task, data: dict[str, Any]) -> None:
        services.task_claim(task=found, actor=_user(request))

    return _task_action(request, public_id, "claim", None, act, _("已认领，请审查后作出决定。"))


@approver_required
@require_POST
def task_complete(request: HttpRequest, public_id: UUID) -> HttpResponse:
    form = CompleteForm(request.POST)

    def act(found: Task, data: dict[str, Any]) -> None:
        services.task_complete(
            task=found, actor=_user(request), outcome=data["outcome"], opinion=data["opinion"]
        )

    return _task_action(request, public_id, "complete", form, act, _("已提交审批意见。"))


@approver_required
@require_POST
def task_return(request: HttpRequest, public_id: UUID) -> HttpResponse:
    form = SupplementForm(request.POST)

    def act(found: Task, data: dict[str, Any]) -> None:
        services.task_return(task=found, actor=_user(request), items=form.item_list())

    return _task_action(
        request, public_id, "return", form, act, _("已退回补正，计时暂停至申请人补正。")
    )


@approver_required
@require_POST
def special_start(request: HttpRequest, public_id: UUID) -> HttpResponse:
    form = SpecialStartForm(request.POST)

    def act(found: Task, data: dict[str, Any]) -> None:
        services.special_procedure_start(
            task=found, actor=_user(request), kind=data["kind"], reason=data["reason"]
        )

    return _task_action(
        request, public_id, "special", form, act, _("特别程序已启动，期间暂停计时。")
    )


@approver_required
@require_POST
def special_end(request: HttpRequest, public_id: UUID) -> HttpResponse:
    form = SpecialEndForm(request.POST)

    def act(found: Task, data: dict[str, Any]) -> None:
        services.special_procedure_end(task=found, actor=_user(request), result=data["result"])

    return _task_action(
        request, public_id, "special_end", form, act, _("特别程序已结束，恢复计时。")
    )
