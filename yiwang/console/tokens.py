"""The staff member's personal API tokens: list, create (the token shown once), revoke.

Only one's own tokens: an administrator manages other people's tokens in the admin, not here,
so another person's token id is a 404 for everyone. The raw token exists in exactly one
response (the page rendered by the POST that created it): it is never put in a redirect, a
message or the session, and every page here is ``never_cache`` so that no browser or proxy
keeps a copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from django.contrib import messages
from django.db.models import QuerySet, TextChoices
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from yiwang.accounts.access import access_api_token_by_id, staff_required
from yiwang.accounts.models import ApiToken, User
from yiwang.accounts.selectors import api_token_list
from yiwang.accounts.services import api_token_create, api_token_revoke
from yiwang.console.forms import TokenCreateForm
from yiwang.core.errors import Conflict, DomainError, NotFound


class TokenStatus(TextChoices):
    ACTIVE = "active", _("有效")
    EXPIRED = "expired", _("已过期")
    REVOKED = "revoked", _("已撤销")


@dataclass(frozen=True)
class TokenRow:
    token: ApiToken
    status: TokenStatus

    @property
    def is_active(self) -> bool:
        return self.status == TokenStatus.ACTIVE


def token_status(token: ApiToken, *, at: datetime) -> TokenStatus:
    """The same rule as ``api_token_authenticate``: revoked wins, then expiry."""
    if token.revoked_at is not None:
        return TokenStatus.REVOKED
    if token.expires_at is not None and token.expires_at <= at:
        return TokenStatus.EXPIRED
    return TokenStatus.ACTIVE


def _rows(tokens: QuerySet[ApiToken]) -> list[TokenRow]:
    now = timezone.now()
    return [TokenRow(token, token_status(token, at=now)) for token in tokens]


def _own_token(user: User, token_id: int) -> ApiToken:
    token = access_api_token_by_id(user, token_id)
    if token.user_id != user.pk:
        # access_* lets an administrator see any token; this page is about one's own.
        raise NotFound("core.not_found", _("找不到该令牌。"))
    return token


@staff_required
@never_cache
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    form = TokenCreateForm(request.POST or None)
    created: tuple[ApiToken, str] | None = None
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["expires_in_days"]
        try:
            created = api_token_create(
                actor=user,
                user=user,
                kind=ApiToken.Kind.PERSONAL,
                name=form.cleaned_data["name"],
                expires_at=timezone.now() + timedelta(days=days) if days else None,
            )
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            form = TokenCreateForm()
    return render(
        request,
        "console/tokens.html",
        {
            "form": form,
            "rows": _rows(api_token_list(user=user)),
            "created_token": created[0] if created else None,
            "raw_token": created[1] if created else "",
        },
    )


@staff_required
@never_cache
@require_http_methods(["GET", "POST"])
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    """GET asks for confirmation; POST revokes and goes back to the list."""
    user = cast(User, request.user)
    token = _own_token(user, token_id)
    if request.method == "POST":
        try:
            api_token_revoke(actor=user, token=token)
        except Conflict:
            # Revoked in another tab meanwhile: the outcome the person wanted.
            messages.info(request, _("令牌“%(name)s”已经撤销。") % {"name": token.name})
        else:
            messages.success(
                request,
                _("已撤销令牌“%(name)s”，使用它的请求将立即被拒绝。") % {"name": token.name},
            )
        return redirect("console:tokens")
    row = TokenRow(token, token_status(token, at=timezone.now()))
    return render(request, "console/token_revoke.html", {"row": row})
