"""签发电子证照 (/console/certificates/issue/): a window clerk or approver issues a certificate by
hand when the issuance hook could not (it cannot tell the holder, e.g. 企业开办 before the
enterprise's USCC exists).

The page only shapes the input: ``services.certificate_issue`` checks the issuer, the holder
number and the face, signs the credential and writes the audit row and the ledger entry. The
reason (备注) and the case are recorded in a second audit row in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from yiwang.accounts.access import role_required
from yiwang.accounts.models import Department, Role, User
from yiwang.applications.models import Application
from yiwang.certificates import services
from yiwang.certificates.access import issuer_department_ids
from yiwang.certificates.hooks import face_for, holder_for
from yiwang.certificates.models import CertificateType, HolderType
from yiwang.certificates.selectors import certificate_types_for_department
from yiwang.core.audit import audit_record
from yiwang.core.errors import DomainError
from yiwang.core.identifiers import ID_NUMBER_INVALID, USCC_INVALID

FACE_PREFIX = "face-"  # face keys are Python identifiers: "face-<key>" never clashes
ISSUABLE_STATUSES = (Application.Status.ISSUED, Application.Status.CONCLUDED)
issuer_required = role_required(Role.WINDOW_CLERK, Role.APPROVER)


@dataclass(frozen=True)
class Issuable:
    type: CertificateType
    department: Department


def issuable_types(user: User) -> list[Issuable]:
    """Each type the user's departments issue, once, with the first of those departments (by
    the console's order) that issues it."""
    departments = Department.objects.filter(pk__in=issuer_department_ids(user)).order_by(
        "sort_order", "code"
    )
    found: dict[int, Issuable] = {}
    for department in departments:
        for type_ in certificate_types_for_department(department).order_by("name", "code"):
            found.setdefault(type_.pk, Issuable(type_, department))
    return list(found.values())


def _application_of(user: User, number: str) -> Application | None:
    """A case of the user's departments that may carry a certificate: issued or concluded,
    and approved."""
    return (
        Application.objects.filter(
            number=number,
            department_id__in=issuer_department_ids(user),
            status__in=ISSUABLE_STATUSES,
            decision=Application.Decision.APPROVED,
        )
        .select_related("version", "applicant", "principal")
        .first()
    )


class IssueForm(forms.Form):
    type = forms.TypedChoiceField(label=_("证照类型"), coerce=int, widget=forms.HiddenInput)
    holder_name = forms.CharField(
        label=_("持证主体名称"),
        max_length=200,
        error_messages={"required": _("请填写持证主体名称。")},
    )
    holder_number = forms.CharField(
        label=_("持证主体代码"),
        max_length=30,
        error_messages={"required": _("请填写持证主体代码。")},
    )
    application = forms.CharField(
        label=_("申请编号"),
        max_length=32,
        required=False,
        help_text=_("选填。填写后证照与该办件关联，须为本部门已办结或已出件、准予办理的办件。"),
    )
    reason = forms.CharField(
        label=_("备注"),
        max_length=200,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("选填。为何手工签发，例如“企业开办后补发营业执照”。"),
    )

    def __init__(self, *args: Any, issuable: Issuable, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        type_ = issuable.type
        choice = cast(forms.TypedChoiceField, self.fields["type"])
        choice.choices = [(type_.pk, type_.name)]
        choice.initial = type_.pk
        number = self.fields["holder_number"]
        if type_.holder_type == HolderType.USCC:
            number.label = _("统一社会信用代码")
            number.error_messages["required"] = _("请填写统一社会信用代码。")
        else:
            number.label = _("公民身份号码")
            number.error_messages["required"] = _("请填写公民身份号码。")
        for spec in type_.face_fields or []:
            self.fields[FACE_PREFIX + str(spec["key"])] = forms.CharField(
                label=str(spec["label"]),
                max_length=services.FACE_VALUE_MAX,
                required=bool(spec.get("required")),
                error_messages={"required": _("请填写照面字段“%(f)s”。") % {"f": spec["label"]}},
            )
        # The face right after the holder; the case and the reason last.
        face = [name for name in self.fields if name.startswith(FACE_PREFIX)]
        self.order_fields(["type", "holder_name", "holder_number", *face])
        self.application_obj: Application | None = None

    def clean_application(self) -> str:
        number = str(self.cleaned_data["application"]).strip()
        if number:
            self.application_obj = _application_of(self.user, number)
            if self.application_obj is None:
                raise forms.ValidationError(
                    _("找不到本部门编号为“%(n)s”且已办结或已出件、准予办理的办件。") % {"n": number}
                )
        return number

    def face(self) -> dict[str, Any]:
        return {
            key.removeprefix(FACE_PREFIX): str(value).strip()
            for key, value in self.cleaned_data.items()
            if key.startswith(FACE_PREFIX) and str(value).strip()
        }


def _prefill(user: User, issuable: Issuable, number: str) -> tuple[dict[str, Any], str]:
    """Initial values from a case of the user's departments, and a note when it gives none."""
    application = _application_of(user, number)
    if application is None:
        return {}, str(
            _("找不到本部门编号为“%(n)s”且已办结或已出件、准予办理的办件，请手工填写。")
            % {"n": number}
        )
    initial: dict[str, Any] = {"application": application.number}
    holder = holder_for(application, issuable.type)
    name = ""
    if holder is not None:
        name, holder_number, _account = holder
        initial.update({"holder_name": name, "holder_number": holder_number})
    for key, value in face_for(application, issuable.type, name).items():
        initial[FACE_PREFIX + key] = value
    note = "" if holder is not None else str(_("该办件未载明持证主体，请手工填写持证主体。"))
    return initial, note


def _chosen(request: HttpRequest, types: list[Issuable], user: User) -> Issuable | None:
    """The type of the page: posted, asked for, the result type of the case, or the only one."""
    raw = request.POST.get("type") if request.method == "POST" else request.GET.get("type")
    if raw:
        return next((i for i in types if str(i.type.pk) == raw), None)
    number = request.GET.get("application", "").strip()[:32]
    if number:
        application = _application_of(user, number)
        code = application.version.result_certificate_type if application else ""
        match = next((i for i in types if code and i.type.code == code), None)
        if match is not None:
            return match
    return types[0] if len(types) == 1 else None


def _issue(user: User, issuable: Issuable, form: IssueForm) -> Any:
    data = form.cleaned_data
    application = form.application_obj
    holder_user = None
    if application is not None and issuable.type.holder_type == HolderType.ID_NUMBER:
        holder = holder_for(application, issuable.type)
        # The account is linked only when the number typed is the one the case names.
        if holder is not None and holder[1] == str(data["holder_number"]).strip().upper():
            holder_user = holder[2]
    with transaction.atomic():
        certificate = services.certificate_issue(
            actor=user,
            type=issuable.type,
            department=issuable.department,
            holder_name=data["holder_name"],
            holder_number=data["holder_number"],
            holder_user=holder_user,
            face=form.face(),
            application=application,
        )
        audit_record(
            actor=user,
            action="certificates.issue_by_hand",
            obj=certificate,
            reason=str(data["reason"]).strip(),
            after={
                "identifier": certificate.identifier,
                "application": application.number if application else "",
            },
        )
    return certificate


@issuer_required
@require_http_methods(["GET", "POST"])
def issue(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    types = issuable_types(user)
    posted = request.method == "POST"
    chosen = _chosen(request, types, user) if types else None
    context: dict[str, Any] = {"types": types, "chosen": chosen, "form": None, "note": ""}
    if chosen is None and (posted or request.GET.get("type")):
        # A type this user's departments do not issue: refuse, create nothing.
        messages.error(request, _("您所在的部门不颁发该类证照，不能签发。"))
        return render(request, "certificates/staff/issue.html", context, status=403)
    if chosen is None:
        return render(request, "certificates/staff/issue.html", context)
    if posted:
        form = IssueForm(request.POST, issuable=chosen, user=user)
        if form.is_valid():
            try:
                certificate = _issue(user, chosen, form)
            except DomainError as exc:
                field = exc.extra.get("field")
                if exc.code in (ID_NUMBER_INVALID, USCC_INVALID):
                    form.add_error("holder_number", str(exc.message))
                elif field and FACE_PREFIX + str(field) in form.fields:
                    form.add_error(FACE_PREFIX + str(field), str(exc.message))
                else:
                    form.add_error(None, str(exc.message))
            else:
                messages.success(
                    request,
                    _("已签发电子证照，证照标识：%(i)s") % {"i": certificate.identifier},
                )
                return redirect("certificates_staff:detail", public_id=certificate.public_id)
        context["form"] = form
        return render(request, "certificates/staff/issue.html", context, status=422)
    initial: dict[str, Any] = {}
    number = request.GET.get("application", "").strip()[:32]
    if number:
        initial, context["note"] = _prefill(user, chosen, number)
    context["form"] = IssueForm(initial=initial, issuable=chosen, user=user)
    return render(request, "certificates/staff/issue.html", context)
