"""Open311 GeoReport v2 at /open311/v2/ (the summary we follow: docs/open311.md and the
frozen spec, GeoReport/v2 on open311.org).

Resources: ``discovery``, ``services``, ``services/<code>``, ``requests`` (GET list, POST
create) and ``requests/<number>``, each in ``.xml`` (required by the spec) and ``.json`` (the
"Spark convention": a container of repeated children is always an array, so lists, the POST
answer and errors are top-level arrays). The services are the active leaf categories; a
request is a work order and its ``service_request_id`` is the order number.

Every read is public, so what it shows is what a stranger may see: no caller name or phone,
phone and ID numbers masked inside texts (``services.redact``), and neither the text nor the
place of a confidential order or of an unpublished mailbox letter. Only the POST needs an API
key (``yiwang open311 create-key``); it registers the order through
``services.work_order_register`` like every other channel.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db.models import Max, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from lxml import etree

from yiwang.core.access import public
from yiwang.core.calendar import SHANGHAI
from yiwang.core.errors import DomainError
from yiwang.hotline import selectors, services
from yiwang.hotline.models import Category, WorkOrder

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CONTENT_TYPES = {
    "xml": "text/xml; charset=utf-8",
    "json": "application/json; charset=utf-8",
}
DESCRIPTION_MAX = 4000
MEDIA_URL_MAX = 500
MAX_RANGE = timedelta(days=90)
MAX_ROWS = 1000
# Before any category exists the service list has never changed.
FIRST_CHANGESET = datetime(2026, 1, 1, tzinfo=SHANGHAI)

# --- rendering -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Many:
    """A container of repeated children: ``<tag>`` elements in XML, an array in JSON."""

    tag: str
    items: Sequence[Any]


# Characters XML 1.0 cannot carry at all (lxml refuses them): dropped from user text.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _xml_fill(element: Any, body: Any) -> None:
    if isinstance(body, Many):
        for item in body.items:
            _xml_fill(etree.SubElement(element, body.tag), item)
    elif isinstance(body, dict):
        for name, value in body.items():
            _xml_fill(etree.SubElement(element, name), value)
    else:
        element.text = _xml_text(body)


def _json_value(body: Any) -> Any:
    if isinstance(body, Many):
        return [_json_value(item) for item in body.items]
    if isinstance(body, dict):
        return {name: _json_value(value) for name, value in body.items()}
    return body


def render(fmt: str, root: str, body: Any, *, status: int = 200) -> HttpResponse:
    """``body`` under the root element ``root`` in ``fmt`` (xml or json)."""
    if fmt == "json":
        return JsonResponse(
            _json_value(body),
            safe=False,
            status=status,
            content_type=CONTENT_TYPES["json"],
            json_dumps_params={"ensure_ascii": False},
        )
    element = etree.Element(root)
    _xml_fill(element, body)
    # lxml writes the declaration with single quotes; the spec shows double quotes.
    text = b'<?xml version="1.0" encoding="utf-8"?>\n' + etree.tostring(
        element, encoding="utf-8", xml_declaration=False
    )
    return HttpResponse(text, status=status, content_type=CONTENT_TYPES["xml"])


def error(fmt: str, status: int, *descriptions: str) -> HttpResponse:
    """The spec's error body: ``errors ⇊ error {code, description}``, with the HTTP status."""
    items = [{"code": status, "description": text} for text in descriptions]
    return render(fmt, "errors", Many("error", items), status=status)


View = Callable[..., HttpResponse]


def _formatted(view: View) -> View:
    """Answer an unknown format extension with 404 (in XML: the one format every client
    reads)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, fmt: str, **kwargs: Any) -> HttpResponse:
        if fmt not in CONTENT_TYPES:
            return error("xml", 404, _("不支持的格式“%s”，请使用 xml 或 json。") % fmt[:20])
        return view(request, *args, fmt=fmt, **kwargs)

    return wrapper


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(SHANGHAI).isoformat(timespec="seconds")


# --- discovery -----------------------------------------------------------------------------


def _changeset() -> str:
    latest = Category.objects.aggregate(latest=Max("updated_at"))["latest"]
    return _iso(latest or FIRST_CHANGESET) or ""


def _endpoint_url(request: HttpRequest) -> str:
    base = reverse("open311:discovery", kwargs={"fmt": "xml"}).rsplit("/", 1)[0] + "/"
    site = str(getattr(settings, "YIWANG_SITE_URL", "") or "").rstrip("/")
    return site + base if site else request.build_absolute_uri(base)


@public
@_formatted
def discovery(request: HttpRequest, *, fmt: str) -> HttpResponse:
    changeset = _changeset()
    contact = getattr(settings, "YIWANG_OPEN311_CONTACT", "") or _(
        "12345政务服务便民热线：电话 12345。接口问题请联系 12345 热线管理员。"
    )
    key_service = getattr(settings, "YIWANG_OPEN311_KEY_SERVICE", "") or _(
        "提交诉求需要 API 密钥：请向 12345 热线管理员申请，管理员运行 "
        "“yiwang open311 create-key --name 单位名称”生成密钥，密钥只显示一次。"
        "查询服务和诉求无需密钥。"
    )
    endpoint = {
        "specification": SPECIFICATION,
        "url": _endpoint_url(request),
        "changeset": changeset,
        "type": "production",
        "formats": Many("format", ["text/xml", "application/json"]),
    }
    body = {
        "changeset": changeset,
        "contact": contact,
        "key_service": key_service,
        "endpoints": Many("endpoint", [endpoint]),
    }
    return render(fmt, "discovery", body)


# --- services ------------------------------------------------------------------------------


def _leaves() -> QuerySet[Category]:
    return selectors.category_leaves().select_related("parent", "parent__parent")


def _group(category: Category) -> str:
    node = category
    while node.parent is not None:
        node = node.parent
    return node.name


def _service(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description,
        "metadata": False,
        "type": "realtime",
        "keywords": category.keywords,
        "group": _group(category),
    }


@public
@_formatted
def service_list(request: HttpRequest, *, fmt: str) -> HttpResponse:
    return render(fmt, "services", Many("service", [_service(c) for c in _leaves()]))


@public
@_formatted
def service_definition(request: HttpRequest, *, code: str, fmt: str) -> HttpResponse:
    category = _leaves().filter(code=code).first()
    if category is None:
        return error(fmt, 404, _("服务代码“%s”不存在。") % code[:40])
    # No service asks for extra attributes (metadata is false): the list is empty.
    body = {"service_code": category.code, "attributes": Many("attribute", [])}
    return render(fmt, "service_definition", body)


# --- requests: reading ---------------------------------------------------------------------

Status = WorkOrder.Status


def _public_orders() -> QuerySet[WorkOrder]:
    """Orders as Open311 requests: those with a category (a service); an order waiting to
    be classified appears once a dispatcher has chosen its category."""
    return WorkOrder.objects.filter(category__isnull=False).select_related(
        "category", "lead_unit", "merged_into"
    )


def _status_notes(order: WorkOrder, names: list[str]) -> str:
    if order.status == Status.CLOSED and order.published_at and order.public_reply:
        return services.redact(order.public_reply, names)
    label = str(order.get_status_display())
    if order.status == Status.MERGED and order.merged_into is not None:
        return _("%(s)s：与工单 %(n)s 合并办理") % {"s": label, "n": order.merged_into.number}
    if order.status == Status.TRANSFERRED and order.emergency_number:
        return f"{label}（{order.emergency_number}）"
    if order.status == Status.CLOSED and order.outcome:
        return f"{label}：{order.get_outcome_display()}"
    return label


def _request(order: WorkOrder) -> dict[str, Any]:
    """One work order as the spec's ``request``; every field always present (None when we
    have nothing to say, or nothing we may say)."""
    names = [order.caller_name]
    description: str | None = None
    address: str | None = None
    lat: float | None = None
    long: float | None = None
    if order.channel == WorkOrder.Channel.MAILBOX:
        # A letter is private; its published version (with consent, redacted) has no place.
        if order.published_at is not None and not order.confidential:
            description = services.redact(order.public_content, names)
    elif not order.confidential:
        description = services.redact(order.content, names)
        address = services.redact(order.address, names) or None
        lat, long = order.lat, order.long
    closed = not order.is_open
    category = cast(Category, order.category)  # _public_orders: never None
    return {
        "service_request_id": order.number,
        "status": "closed" if closed else "open",
        "status_notes": _status_notes(order, names),
        "service_name": category.name,
        "service_code": category.code,
        "description": description,
        "agency_responsible": order.lead_unit.name if order.lead_unit else None,
        "service_notice": None,
        "requested_datetime": _iso(order.registered_at),
        "updated_datetime": _iso(
            order.closed_at if closed and order.closed_at else order.updated_at
        ),
        "expected_datetime": _iso(order.handle_due),
        "address": address,
        "address_id": order.division_code or None,
        "zipcode": None,
        "lat": lat,
        "long": long,
        "media_url": None,
    }


class BadQuery(Exception):
    pass


def _csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


# A "+" in a query string decodes to a space: "…T08:00:00 08:00" meant "+08:00".
_LOST_PLUS = re.compile(r"(T[\d:.]+) (\d{2}:?\d{2})$")


def _when(value: str, name: str) -> datetime:
    text = _LOST_PLUS.sub(r"\1+\2", value.strip())
    try:
        if "T" in text:
            moment = parse_datetime(text)
        else:
            # A W3C date alone: the day as it begins in Shanghai.
            day = parse_date(text)
            moment = datetime.combine(day, time.min, tzinfo=SHANGHAI) if day else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise BadQuery(
            _("%(f)s 应为带时区的 W3C 日期时间，例如 2026-01-01T00:00:00+08:00。") % {"f": name}
        )
    return moment


def _window(start_text: str, end_text: str) -> tuple[datetime, datetime]:
    start = _when(start_text, "start_date") if start_text else None
    end = _when(end_text, "end_date") if end_text else None
    if start is None:
        end = end or timezone.now()
        start = end - MAX_RANGE
    elif end is None:
        end = start + MAX_RANGE
    if end < start:
        raise BadQuery(_("end_date 不能早于 start_date。"))
    if end - start > MAX_RANGE:
        raise BadQuery(_("查询时间范围不能超过 90 天。"))
    return start, end


def _filtered(params: Any) -> QuerySet[WorkOrder]:
    rows = _public_orders()
    ids = _csv(params.get("service_request_id", ""))
    if ids:
        # The spec: a list of ids overrides every other argument.
        return rows.filter(number__in=ids[:MAX_ROWS])
    codes = _csv(params.get("service_code", ""))
    if codes:
        rows = rows.filter(category__code__in=codes)
    start, end = _window(params.get("start_date", ""), params.get("end_date", ""))
    rows = rows.filter(registered_at__gte=start, registered_at__lte=end)
    statuses = set(_csv(params.get("status", "")))
    if statuses - {"open", "closed"}:
        raise BadQuery(_("status 只能是 open 或 closed。"))
    if statuses == {"open"}:
        rows = rows.filter(status__in=WorkOrder.OPEN_STATUSES)
    elif statuses == {"closed"}:
        rows = rows.exclude(status__in=WorkOrder.OPEN_STATUSES)
    return rows


def _request_list(request: HttpRequest, fmt: str) -> HttpResponse:
    try:
        rows = _filtered(request.GET)
    except BadQuery as exc:
        return error(fmt, 400, str(exc))
    orders = rows.order_by("-registered_at", "-id")[:MAX_ROWS]
    return render(fmt, "service_requests", Many("request", [_request(o) for o in orders]))


@public
@_formatted
def service_request(request: HttpRequest, *, number: str, fmt: str) -> HttpResponse:
    order = _public_orders().filter(number=number).first()
    if order is None:
        return error(fmt, 404, _("诉求“%s”不存在。") % number[:40])
    return render(fmt, "service_requests", Many("request", [_request(order)]))


# --- requests: creating --------------------------------------------------------------------


def _number(value: str, name: str, problems: list[str]) -> float | None:
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        problems.append(_("%s 应为数字（WGS-84 坐标）。") % name)
        return None
    return number


def _notice(intake: services.Intake) -> str:
    if intake.emergency is not None:
        return intake.emergency.label
    return _("如遇火警、警情、急救等紧急情况，请直接拨打 119、110、120。")


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    form = request.POST
    key = (form.get("api_key") or request.GET.get("api_key") or "").strip()
    row = services.open311_key_check(key)
    if row is None:
        return error(fmt, 403, _("api_key 缺失或无效，无法提交诉求。"))
    code = form.get("service_code", "").strip()
    if not code:
        return error(fmt, 400, _("请提供 service_code。"))
    category = _leaves().filter(code=code).first()
    if category is None:
        return error(fmt, 404, _("服务代码“%s”不存在。") % code[:40])
    problems: list[str] = []
    lat_text, long_text = form.get("lat", "").strip(), form.get("long", "").strip()
    lat = _number(lat_text, "lat", problems)
    long = _number(long_text, "long", problems)
    address = form.get("address_string", "").strip()
    address_id = form.get("address_id", "").strip()
    if not ((lat_text and long_text) or address or address_id):
        problems.append(_("请提供位置：lat 和 long、address_string 或 address_id 之一。"))
    description = form.get("description", "")
    if len(description) > DESCRIPTION_MAX:
        problems.append(_("description 不能超过 4000 个字符。"))
    media_url = form.get("media_url", "").strip()
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
        except DjangoValidationError:
            problems.append(_("media_url 应为 http 或 https 链接。"))
        if len(media_url) > MEDIA_URL_MAX:
            problems.append(_("media_url 不能超过 500 个字符。"))
    if problems:
        return error(fmt, 400, *problems)
    phone = form.get("phone", "").strip()
    # Chinese order: family name first.
    name = (form.get("last_name", "").strip() + form.get("first_name", "").strip())[:50]
    # The spec makes the description optional; our orders need a text: the service's name.
    content = description.strip() or category.name
    if media_url:
        content = f"{content}\n{_('图片链接')}：{media_url}"
    try:
        intake = services.work_order_register(
            actor=f"open311:{row.prefix}",
            channel=WorkOrder.Channel.OPEN311,
            category=category,
            content=content,
            lat=lat,
            long=long,
            address=address,
            division_code=address_id,
            caller_name=name,
            caller_phone=phone,
            callback_requested=bool(phone),
        )
    except DomainError as exc:
        found = exc.extra.get("problems") or [{"message": str(exc.message)}]
        return error(fmt, 400, *[str(p["message"]) for p in found])
    answer = {"service_request_id": intake.order.number, "service_notice": _notice(intake)}
    return render(fmt, "service_requests", Many("request", [answer]))


# The POST is an API call authenticated by its key, not a form of our pages: no CSRF token.
@public
@csrf_exempt
@_formatted
def service_requests(request: HttpRequest, *, fmt: str) -> HttpResponse:
    """GET: the service requests (filtered); POST: a new one (API key required)."""
    if request.method == "POST":
        return _create(request, fmt)
    if request.method in ("GET", "HEAD"):
        return _request_list(request, fmt)
    response = error(fmt, 405, _("只支持 GET 和 POST。"))
    response["Allow"] = "GET, HEAD, POST"
    return response
