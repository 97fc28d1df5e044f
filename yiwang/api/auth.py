"""How an API request proves who it is.

Two ways, tried in this order:

1. ``Authorization: Bearer yw_…``: a staff member's personal token or an integration's API key,
   checked by ``yiwang.accounts.services.api_token_authenticate``. A request that presents a
   bearer token which does not verify is refused (401) even if it also carries a session: an
   integration with a revoked key must learn so, not silently act as someone else.
2. The Django session cookie of a signed-in person, with Django's CSRF check on unsafe methods
   (the ``X-CSRFToken`` header), because a browser sends the cookie on its own.

``DEFAULT_AUTH`` is the API-wide default: every operation is authenticated unless it declares
``auth=None`` and is listed as public in yiwang/api/tests/test_api_access.py.
"""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from yiwang.accounts.models import User
from yiwang.accounts.services import api_token_authenticate
from yiwang.core.errors import PermissionDenied, Unauthenticated

AUTH_METHOD_ATTR = "yiwang_auth_method"


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = api_token_authenticate(token)
        if user is None:
            raise Unauthenticated(
                "core.unauthenticated",
                _("访问令牌无效、已过期或已撤销。"),
            )
        # Code below the API (audit, access checks) reads request.user like for a page view.
        request.user = user
        setattr(request, AUTH_METHOD_ATTR, "token")
        return user


class SessionAuth(APIKeyCookie):
    """ninja's SessionAuth, except that an anonymous request is a plain 401 (not a CSRF 403)
    and a CSRF failure is a problem with its own code."""

    param_name: str = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise PermissionDenied(
                "api.csrf_failed",
                _("CSRF 校验失败：请在 X-CSRFToken 请求头中提供页面的 CSRF 令牌。"),
            )
        setattr(request, AUTH_METHOD_ATTR, "session")
        return cast(User, user)


DEFAULT_AUTH: list[Any] = [BearerToken(), SessionAuth()]
# Operations that manage credentials accept only a person at a browser: a leaked token must not
# be able to mint tokens that outlive its own revocation.
SESSION_ONLY: list[Any] = [SessionAuth()]


def request_user(request: HttpRequest) -> User:
    """The authenticated user of an operation that has auth (ninja puts it on request.auth)."""
    return cast(User, request.auth)  # type: ignore[attr-defined]
