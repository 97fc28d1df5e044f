"""Citizen portal pages: home, accessibility statement, the
elder-friendly switch, and the error pages for the whole site."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from yiwang.accounts.services import user_preferences_set
from yiwang.core.access import public
from yiwang.core.errors import ValidationError
from yiwang.portal.context_processors import ELDER_COOKIE

logger = logging.getLogger(__name__)

# Elder mode is switched on once and kept: ten years is "for good" for a browser cookie.
ELDER_COOKIE_MAX_AGE = 10 * 365 * 24 * 3600


@dataclass(frozen=True)
class EntryCard:
    """One entry on the portal home. ``url`` is None while the feature is not built yet: the
    card then says so instead of linking nowhere."""

    key: str
    icon: str
    title: str | Promise
    description: str | Promise
    url: str | None
    primary: bool  # shown in elder mode too (elder mode shows fewer, bigger cards)


def _entry_cards() -> list[EntryCard]:
    # Each later issue replaces a None with its real page.
    return [
        EntryCard(
            "apply",
            "办",
            _("办事"),
            _("查找事项，在线申请，一次办好"),
            reverse("catalog:service_list"),
            True,
        ),
        EntryCard(
            "my",
            "件",
            _("我的办件"),
            _("查看办件进度、补正材料、领取结果"),
            reverse("applications:mine"),
            True,
        ),
        EntryCard(
            "complaint",
            "诉",
            _("12345 诉求"),
            _("投诉、求助、建议，限时办理与回访"),
            reverse("hotline:home"),
            True,
        ),
        EntryCard("certificates", "证", _("电子证照"), _("亮证、授权使用、在线核验"), None, False),
        EntryCard(
            "rating",
            "评",
            _("好差评"),
            _("评价每一次服务，差评必整改"),
            reverse("evaluation:mine"),
            False,
        ),
    ]


@public
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html", {"cards": _entry_cards()})


@public
@require_GET
def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/accessibility.html")


def _safe_next(request: HttpRequest) -> str:
    candidate = request.POST.get("next", "")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("portal:home")


@public
@require_POST
def elder_preference(request: HttpRequest) -> HttpResponse:
    """Switch elder-friendly mode on or off: for this browser (a long-lived cookie) and, when
    signed in, for the person's account, so it follows them to other devices."""
    choice = request.POST.get("elder_mode", "")
    if choice not in ("on", "off"):
        raise ValidationError(
            "portal.elder_mode_invalid", _("长辈版开关的取值只能是 on 或 off。"), value=choice[:20]
        )
    enabled = choice == "on"
    if request.user.is_authenticated:
        user_preferences_set(user=request.user, elder_mode=enabled)
    target = _safe_next(request)
    response: HttpResponse
    if request.headers.get("HX-Request") == "true":
        # htmx posted the form in place: let it navigate (a full reload re-renders the layout).
        response = HttpResponse(status=204, headers={"HX-Redirect": target})
    else:
        response = HttpResponseRedirect(target)
    response.set_cookie(
        ELDER_COOKIE,
        "1" if enabled else "0",
        max_age=ELDER_COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


# --- error pages (wired in yiwang.urls) ------------------------------------------------------


def _error(request: HttpRequest, status: int) -> HttpResponse:
    return render(request, "error.html", {"status": status}, status=status)


def error_400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400)


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404)


def error_500(request: HttpRequest) -> HttpResponse:
    # The full layout reads the session and the user; when the fault is the database itself
    # that fails too, so fall back to the bare page rather than raise inside the handler.
    try:
        return _error(request, 500)
    except Exception:
        logger.exception("error page failed to render with the full layout")
        return HttpResponse(render_to_string("error_bare.html", {"status": 500}), status=500)
