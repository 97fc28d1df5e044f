"""Every error the API returns, in one format: problem details (RFC 9457,
``application/problem+json``).

Body: ``type`` (``urn:yiwang:problem:<code>``), ``title`` (the status in the user's language),
``status``, ``detail`` (what went wrong, in the user's language), ``code`` (stable, for
programs: ``<app>.<reason>``), ``instance`` (the request path) and extras: ``errors`` (field
errors) on 422, ``incident`` on 500, whatever a DomainError carries.

The mapping lives here and nowhere else; ``install_problem_handlers`` puts it on a NinjaAPI and
``api_not_found`` answers the /api/ paths that match no operation.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI
from ninja.errors import (
    AuthenticationError,
    AuthorizationError,
    HttpError,
    Throttled,
)
from ninja.errors import ValidationError as NinjaValidationError

from yiwang.core.errors import DomainError

logger = logging.getLogger("yiwang.api")

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Members of the problem object that a DomainError's extras may not overwrite.
RESERVED = frozenset({"type", "title", "status", "detail", "code", "instance"})

TITLES: dict[int, Promise] = {
    400: _("请求有误"),
    401: _("未登录或凭据无效"),
    403: _("无权执行此操作"),
    404: _("未找到"),
    405: _("不支持该请求方法"),
    409: _("与当前状态冲突"),
    422: _("输入有误"),
    429: _("请求过于频繁"),
    500: _("服务器内部错误"),
    503: _("服务暂不可用"),
}

# Field-error messages for the pydantic error types a client meets most; other types keep
# pydantic's English message (still exact, just not translated).
FIELD_MESSAGES: dict[str, Promise] = {
    "missing": _("此项为必填项。"),
    "string_too_short": _("长度不能少于 {min_length} 个字符。"),
    "string_too_long": _("长度不能超过 {max_length} 个字符。"),
    "int_parsing": _("请输入整数。"),
    "int_type": _("请输入整数。"),
    "bool_parsing": _("请输入 true 或 false。"),
    "greater_than_equal": _("不能小于 {ge}。"),
    "less_than_equal": _("不能大于 {le}。"),
    "greater_than": _("必须大于 {gt}。"),
    "less_than": _("必须小于 {lt}。"),
    "json_invalid": _("请求体不是有效的 JSON。"),
    "uuid_parsing": _("请输入有效的 UUID。"),
    "datetime_parsing": _("请输入有效的日期时间（ISO 8601）。"),
    "date_from_datetime_parsing": _("请输入有效的日期（YYYY-MM-DD）。"),
    "too_short": _("至少需要 {min_length} 项。"),
    "timezone_aware": _("请在日期时间中注明时区，例如 2026-12-31T23:59:59+08:00。"),
    "enum": _("取值无效，可选值：{expected}。"),
    "literal_error": _("取值无效，可选值：{expected}。"),
}


def problem_response(
    request: HttpRequest,
    *,
    status: int,
    code: str,
    detail: str | Promise | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """The one constructor of an API error response."""
    title = str(TITLES.get(status, TITLES[500 if status >= 500 else 400]))
    body: dict[str, Any] = {
        "type": f"urn:yiwang:problem:{code}",
        "title": title,
        "status": status,
        "detail": str(detail) if detail else title,
        "code": code,
        "instance": request.path,
    }
    body.update({k: v for k, v in (extra or {}).items() if k not in RESERVED})
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False, cls=DjangoJSONEncoder),
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
    )
    if status == 401:
        # RFC 9110 §11.6.1: a 401 names the scheme that would succeed.
        response["WWW-Authenticate"] = 'Bearer realm="yiwang"'
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _field_error(error: dict[str, Any]) -> dict[str, Any]:
    loc = [str(part) for part in error.get("loc", ())]
    # ninja prefixes the source ("body", "query", "path") and, for bodies, the parameter name.
    field_parts = loc[2:] if loc[:1] == ["body"] and len(loc) > 2 else loc[1:]
    kind = str(error.get("type", ""))
    template = FIELD_MESSAGES.get(kind)
    message = str(error.get("msg", ""))
    if template is not None:
        try:
            message = str(template).format(**error.get("ctx", {}))
        except (KeyError, IndexError):
            message = str(template)
    return {"field": ".".join(field_parts), "loc": loc, "type": kind, "message": message}


def _on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return problem_response(
        request, status=exc.status, code=exc.code, detail=exc.message, extra=exc.extra
    )


def _on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [_field_error(e) for e in exc.errors]
    return problem_response(
        request,
        status=422,
        code="api.invalid_input",
        detail=_("请求中有 %(count)d 处输入有误，请按 errors 中的说明修改。")
        % {"count": len(errors)},
        extra={"errors": errors},
    )


def _on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem_response(
        request,
        status=401,
        code="core.unauthenticated",
        detail=_("请先登录，或在 Authorization 头中提供有效的访问令牌（Bearer yw_…）。"),
    )


def _on_authorization_error(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
    return problem_response(request, status=403, code="core.forbidden")


def _on_throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    headers = {"Retry-After": str(exc.wait)} if exc.wait else None
    return problem_response(request, status=429, code="api.throttled", headers=headers)


def _on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        # ninja raises its only 400 when the body does not parse (its text may quote the body).
        return problem_response(
            request,
            status=400,
            code="api.malformed_body",
            detail=_("无法解析请求体，请发送有效的 JSON（Content-Type: application/json）。"),
        )
    return problem_response(
        request, status=exc.status_code, code=f"api.http_{exc.status_code}", detail=str(exc)
    )


def _on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    # The exception's text may name a model or a query: never echo it.
    return problem_response(
        request, status=404, code="core.not_found", detail=_("请求的资源不存在。")
    )


def _on_permission_denied(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem_response(request, status=403, code="core.forbidden")


def _on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    incident = uuid.uuid4().hex
    logger.error(
        "unhandled API error %s on %s %s",
        incident,
        request.method,
        request.path,
        exc_info=exc,
    )
    return problem_response(
        request,
        status=500,
        code="core.internal",
        detail=_("服务器出现意外错误，已记录。请稍后重试；如需联系我们，请提供事件编号。"),
        extra={"incident": incident},
    )


def install_problem_handlers(api: NinjaAPI) -> None:
    """Replace ninja's default handlers (plain JSON, a traceback under DEBUG) with ours.
    ninja picks the handler of the nearest class in the exception's MRO."""
    handlers: list[tuple[type[Exception], Callable[[HttpRequest, Any], HttpResponse]]] = [
        (DomainError, _on_domain_error),
        (NinjaValidationError, _on_validation_error),
        (AuthenticationError, _on_authentication_error),
        (AuthorizationError, _on_authorization_error),
        (Throttled, _on_throttled),
        (HttpError, _on_http_error),
        (Http404, _on_not_found),
        (DjangoPermissionDenied, _on_permission_denied),
        (Exception, _on_unexpected),
    ]
    for exc_class, handler in handlers:
        api.add_exception_handler(exc_class, handler)


def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Any /api/ path that matches no operation: a 404 problem, not the portal's HTML page."""
    return problem_response(
        request,
        status=404,
        code="api.unknown_path",
        detail=gettext("没有这个接口，请查看 /api/docs 中的接口列表。"),
    )


def problem_on_method_not_allowed(
    view: Callable[..., HttpResponseBase],
) -> Callable[..., HttpResponseBase]:
    """Wrap a ninja path view so that its bare 405 (plain text) becomes a problem too."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        if response.status_code != 405 or response.get("Content-Type") == PROBLEM_CONTENT_TYPE:
            return response
        # ninja builds Allow from a set: sort it so that clients and tests see one order.
        allow = ", ".join(sorted(m.strip() for m in response.get("Allow", "").split(",") if m))
        return problem_response(
            request,
            status=405,
            code="api.method_not_allowed",
            detail=_("此接口支持的请求方法：%(allow)s。") % {"allow": allow},
            headers={"Allow": allow},
        )

    return wrapper
