"""Staff pages of e-certificates (/console/certificates/):

* ``/console/certificates/`` the issuing department's certificates (window clerks and
  approvers of the issuing department), searchable by identifier, and the way to 用证;
* ``<id>/`` one certificate as the issuing department sees it, ``<id>/revoke/`` 注销 (a reason
  and a confirmation are required) and ``<id>/new-version/`` 新版本 (the face edited);
* ``use/`` 用证 for staff of any department: look a certificate up by its identifier, record
  the reason (申请事由) and the case number, and see the result. The holder sees every use.

Access is decided by ``yiwang.certificates.access`` on the identifier (someone who may not see
a certificate gets the same 404 as for one that does not exist); the services check again.
"""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from yiwang.accounts.access import role_required, staff_required
from yiwang.accounts.models import Department, Role, User
from yiwang.applications.selectors import staff_department_ids
from yiwang.certificates import services
from yiwang.certificates.access import (
    access_certificate_revoke,
    access_certificate_use,
    access_certificate_view,
    issuer_department_ids,
    user_may_issue,
)
from yiwang.certificates.models import Certificate, HolderType, TrustGrade
from yiwang.certificates.selectors import masked_holder, uses_of_certificate
from yiwang.certificates.selectors_pages import (
    HOLDER_STATUS_WORDS,
    certificates_issued_for_staff,
    face_rows,
    identifier_of,
    status_now,
)
from yiwang.certificates.views_staff_issue import issuable_types
from yiwang.core.errors import DomainError, ValidationError
from yiwang.core.identifiers import ecert_id_parse

PAGE_SIZE = 20
issuer_required = role_required(Role.WINDOW_CLERK, Role.APPROVER)


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _summary(certificate: Certificate) -> dict[str, Any]:
    status = status_now(certificate)
    name, number = masked_holder(certificate)
    return {
        "certificate": certificate,
        "status": status,
        "status_word": HOLDER_STATUS_WORDS.get(status, status),
        "holder_name": name,
        "holder_number": number,
        "holder_type": str(HolderType(certificate.holder_type).label),
        "grade": str(TrustGrade(certificate.trust_grade).label),
        "face": face_rows(certificate),
    }


# --- forms (shape only; the services decide) ----------------------------------------------------


class SearchForm(forms.Form):
    q = forms.CharField(label=_("电子证照标识"), max_length=200, required=False)


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("注销原因"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("将显示在公开核验页和持证人的证照页上，请写清依据，不要写个人信息。"),
        error_messages={"required": _("请填写注销原因。")},
    )
    confirm = forms.BooleanField(
        label=_("我已核实：注销后该证照立即失效，不能撤回。"),
        error_messages={"required": _("请勾选确认后再注销。")},
    )

    def clean_reason(self) -> str:
        text = str(self.cleaned_data["reason"]).strip()
        if not text:
            raise forms.ValidationError(_("请填写注销原因。"))
        return text


class UseForm(forms.Form):
    identifier = forms.CharField(
        label=_("电子证照标识"),
        max_length=200,
        help_text=_("持证人出示的证照二维码下方的编号，以 1.2.156.3005.2 开头。"),
        error_messages={"required": _("请填写电子证照标识。")},
    )
    department = forms.TypedChoiceField(label=_("用证部门"), coerce=int)
    reason = forms.CharField(
        label=_("申请事由"),
        max_length=200,
        help_text=_("为办理什么事项使用该证照，持证人会看到。"),
        error_messages={"required": _("请填写申请事由。")},
    )
    case_number = forms.CharField(
        label=_("办件编号"), max_length=64, error_messages={"required": _("请填写办件编号。")}
    )

    def __init__(self, *args: Any, departments: list[Department], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.TypedChoiceField, self.fields["department"])
        field.choices = [(d.pk, d.name) for d in departments]
        if len(departments) == 1:
            field.initial = departments[0].pk

    def clean_identifier(self) -> str:
        try:
            return str(ecert_id_parse(self.cleaned_data["identifier"]))
        except ValidationError as exc:
            raise forms.ValidationError(str(exc.message)) from exc


FACE_PREFIX = "face-"  # face keys are Python identifiers: "face-<key>" never clashes with "reason"


def _face_form(certificate: Certificate, data: Any = None) -> forms.Form:
    """A form with one text field per face field of the type, pre-filled with this version,
    and the reason for the change."""
    form = forms.Form(data)
    current = certificate.face_data if isinstance(certificate.face_data, dict) else {}
    for spec in certificate.type.face_fields or []:
        key = str(spec["key"])
        form.fields[FACE_PREFIX + key] = forms.CharField(
            label=str(spec["label"]),
            max_length=500,
            required=bool(spec.get("required")),
            initial=current.get(key, ""),
        )
    form.fields["reason"] = forms.CharField(
        label=_("变更原因"),
        max_length=500,
        required=True,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("请填写变更原因。")},
    )
    return form


# --- the issuing department ---------------------------------------------------------------------


@staff_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    search = SearchForm(request.GET or None)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    rows = certificates_issued_for_staff(user, query=query)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    items = []
    for certificate in page:
        status = status_now(certificate)
        items.append(
            {
                "certificate": certificate,
                "status": status,
                "status_word": HOLDER_STATUS_WORDS.get(status, status),
            }
        )
    issuer = bool(issuer_department_ids(user))
    return render(
        request,
        "certificates/staff/home.html",
        {
            "search": search,
            "query": query,
            "page": page,
            "items": items,
            "issuer": issuer,
            # 签发电子证照 only for departments that issue at least one type.
            "may_issue_by_hand": issuer and bool(issuable_types(user)),
        },
    )


@staff_required
@require_GET
def detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = _user(request)
    certificate = access_certificate_view(user, identifier_of(public_id))
    context = _summary(certificate)
    context.update(
        {
            "may_issue": user_may_issue(user, certificate.issuing_department),
            "uses": list(uses_of_certificate(certificate)),
        }
    )
    return render(request, "certificates/staff/detail.html", context)


@issuer_required
@require_http_methods(["GET", "POST"])
def revoke(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = _user(request)
    certificate = access_certificate_revoke(user, identifier_of(public_id))
    posted = request.method == "POST"
    form = RevokeForm(request.POST if posted else None)
    if certificate.status not in (Certificate.Status.VALID, Certificate.Status.EXPIRED):
        messages.error(request, _("该证照已注销或已被新版本替代，不能注销。"))
        return redirect("certificates_staff:detail", public_id=certificate.public_id)
    if posted and form.is_valid():
        try:
            services.certificate_revoke(
                actor=user, certificate=certificate, reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("证照已注销，公开核验页立即显示为“已注销”。"))
            return redirect("certificates_staff:detail", public_id=certificate.public_id)
    context = _summary(certificate)
    context["form"] = form
    return render(request, "certificates/staff/revoke.html", context, status=422 if posted else 200)


@issuer_required
@require_http_methods(["GET", "POST"])
def new_version(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = _user(request)
    certificate = access_certificate_revoke(user, identifier_of(public_id))
    if certificate.status != Certificate.Status.VALID:
        messages.error(request, _("只有有效的证照可以发布新版本。"))
        return redirect("certificates_staff:detail", public_id=certificate.public_id)
    posted = request.method == "POST"
    form = _face_form(certificate, request.POST if posted else None)
    if posted and form.is_valid():
        data = form.cleaned_data
        reason = str(data["reason"]).strip()
        face = {
            key.removeprefix(FACE_PREFIX): str(value).strip()
            for key, value in data.items()
            if key.startswith(FACE_PREFIX) and str(value).strip()
        }
        try:
            created = services.certificate_new_version(
                actor=user, certificate=certificate, face=face, reason=reason
            )
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(
                request,
                _("已发布新版本（第 %(v)d 版），旧版本显示为“已被新版本替代”。")
                % {"v": created.version},
            )
            return redirect("certificates_staff:detail", public_id=created.public_id)
    context = _summary(certificate)
    context["form"] = form
    return render(
        request, "certificates/staff/new_version.html", context, status=422 if posted else 200
    )


# --- 用证: any department -----------------------------------------------------------------------


def _use_departments(user: User) -> list[Department]:
    # The same departments access_certificate_use offers, before an identifier is known.
    ids = staff_department_ids(user) | issuer_department_ids(user)
    return list(Department.objects.filter(pk__in=ids).order_by("sort_order", "code"))


@staff_required
@require_http_methods(["GET", "POST"])
def use(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    departments = _use_departments(user)
    posted = request.method == "POST"
    form = UseForm(
        request.POST if posted else None,
        departments=departments,
        initial={"identifier": request.GET.get("id", "")[:200]},
    )
    result: dict[str, Any] | None = None
    if posted and form.is_valid():
        data = form.cleaned_data
        try:
            certificate, allowed = access_certificate_use(user, data["identifier"])
            department = next((d for d in allowed if d.pk == data["department"]), None)
            if department is None:
                form.add_error("department", _("您不能以该部门的名义用证。"))
            else:
                services.certificate_use(
                    actor=user,
                    certificate=certificate,
                    department=department,
                    reason=data["reason"].strip(),
                    case_number=data["case_number"].strip(),
                )
                certificate.refresh_from_db()
                result = _summary(certificate)
        except DomainError as exc:
            form.add_error(None, str(exc.message))
    status = 200
    if posted and result is None:
        status = 422
    return render(
        request,
        "certificates/staff/use.html",
        {"form": form, "result": result, "departments": departments},
        status=status,
    )
