"""Pages of the accounts app: sign-in (Django's auth view with our template and landing pages),
citizen registration, my account, and delegations (代办授权)."""

from __future__ import annotations

from typing import cast
from uuid import UUID

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from yiwang.accounts.access import (
    APPLICANT_KINDS,
    access_delegation_given_by_public_id,
    citizen_required,
)
from yiwang.accounts.forms import CitizenRegisterForm, DelegationGrantForm
from yiwang.accounts.models import User
from yiwang.accounts.selectors import (
    delegation_list_given,
    delegation_list_held,
    delegation_rows,
)
from yiwang.accounts.services import citizen_register, delegation_grant, delegation_revoke
from yiwang.core.access import authenticated, public
from yiwang.core.errors import DomainError
from yiwang.core.masking import mask_id_number, mask_name, mask_phone


class LoginView(auth_views.LoginView):
    """Password sign-in (django-axes counts failures). Without a ``next`` URL, staff land on
    their console and citizens on the portal home."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        user = self.request.user
        if getattr(user, "kind", None) == "staff":
            return reverse("console:home")
        return super().get_default_redirect_url()


# --- registration, my account, delegations -------------------------------------------------

# Registration signs the new citizen in; the password was just checked by the service, so the
# lockout backend (django-axes) has nothing to count.
_SIGN_IN_BACKEND = "django.contrib.auth.backends.ModelBackend"


@public
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    """Real-name registration (实名注册) of a citizen; signed-in people go to their account."""
    if request.user.is_authenticated:
        return redirect("accounts:me")
    form = CitizenRegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = citizen_register(
                username=data["username"],
                password=data["password1"],
                real_name=data["real_name"],
                id_number=data["id_number"],
                phone=data["phone"],
            )
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            login(request, user, backend=_SIGN_IN_BACKEND)
            messages.success(request, _("注册成功，您已登录。"))
            return redirect("accounts:me")
    return render(request, "accounts/register.html", {"form": form})


@authenticated
@require_GET
def me(request: HttpRequest) -> HttpResponse:
    """我的账号: what the platform holds about the person, masked (screens are shared)."""
    user = cast(User, request.user)
    return render(
        request,
        "accounts/me.html",
        {
            "masked_real_name": mask_name(user.real_name),
            "masked_id_number": mask_id_number(user.id_number),
            "masked_phone": mask_phone(user.phone),
            "is_applicant": user.kind in APPLICANT_KINDS,
        },
    )


@citizen_required
@require_http_methods(["GET", "POST"])
def delegations(request: HttpRequest) -> HttpResponse:
    """代办授权: the delegations I gave and hold, and the form to authorise someone."""
    user = cast(User, request.user)
    form = DelegationGrantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        agent = form.find_citizen(name_field="agent_name", id_field="agent_id_number")
        if agent is not None:
            try:
                delegation = delegation_grant(
                    principal=user,
                    agent=agent,
                    scopes=form.cleaned_data["scopes"],
                    expires_at=form.expires_at,
                    actor=user,
                )
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                messages.success(
                    request,
                    _("已授权 %(agent)s 为您代办，有效期至 %(day)s。")
                    % {
                        "agent": mask_name(delegation.agent.real_name),
                        "day": form.cleaned_data["expires_on"].isoformat(),
                    },
                )
                return redirect("accounts:delegations")
    return render(
        request,
        "accounts/delegations.html",
        {
            "form": form,
            "given": delegation_list_given(user=user),
            "held": delegation_list_held(user=user),
        },
    )


@citizen_required
@require_http_methods(["GET", "POST"])
def delegation_revoke_confirm(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Ask before withdrawing a delegation I gave (GET), then withdraw it (POST)."""
    delegation = access_delegation_given_by_public_id(request.user, public_id)
    if request.method == "POST":
        try:
            delegation_revoke(delegation=delegation, actor=cast(User, request.user))
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(
                request,
                _("已撤销对 %(agent)s 的代办授权。")
                % {"agent": mask_name(delegation.agent.real_name)},
            )
        return redirect("accounts:delegations")
    return render(
        request,
        "accounts/delegation_revoke.html",
        {"row": delegation_rows([delegation])[0]},
    )
