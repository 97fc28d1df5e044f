"""Data sharing and exchange (数据共享交换).

* ``POST /exchange/query``: the gateway. Staff of the consumer department (or its integration
  key) read a resource within their grant; ``consumer`` names the department when the caller
  works for several. Refusals are 403/404/422/429, an owner's system that does not answer is
  503 (retry later); every call is logged, and ``log_seq`` names this call's log row.
* ``GET /exchange/resources`` and ``/exchange/resources/{code}``: the catalogue (any staff).
* ``POST /exchange/requests``: a consumer's data officer asks for a resource (an
  unconditional one is granted at once); ``/approve`` and ``/refuse``: the owner's data officer.
* ``POST /exchange/grants/{id}/revoke``: the owner's data officer, with a reason.
* ``GET /exchange/access-log``: calls on the resources of your data-officer departments.
* ``GET /exchange/my-access-log``: who read your data, for which case and purpose (no values).
"""

# No ``from __future__ import annotations``: ninja builds schemas from the signatures.

import json
from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from ninja.responses import NinjaJSONEncoder

from yiwang.accounts.models import User
from yiwang.api.auth import AUTH_METHOD_ATTR, BearerToken, SessionAuth, request_user
from yiwang.core.errors import PermissionDenied, Unauthenticated
from yiwang.exchange import services
from yiwang.exchange.access import (
    access_catalogue,
    access_grant_revoke,
    access_request_decide,
    access_resource_view,
    consumer_for_query,
    consumer_for_request,
    data_officer_department_ids,
    gateway_token_user,
)
from yiwang.exchange.gateway import exchange_query
from yiwang.exchange.models import AccessLogEntry, DataResource, Grant, SharingRequest
from yiwang.exchange.selectors import (
    access_log_of_owner,
    access_log_of_subject,
    resource_names,
    resources_catalogue,
)

router = Router(tags=["exchange"])


class QueryIn(Schema):
    resource: str = Field(max_length=50, description="resource code, e.g. LA-DR-GA-001")
    key: str = Field(max_length=64, description="subject key: ID number, USCC …")
    fields: list[str] | None = Field(None, description="default: every granted field")
    case_number: str = Field("", max_length=40, description="办件编号 (conditional resources)")
    purpose: str = Field("", max_length=500, description="使用用途 (conditional resources)")
    consumer: str = Field("", max_length=64, description="department code, if you have several")


class QueryOut(Schema):
    log_seq: int
    resource: str
    resource_name: str
    owner: str
    fields: list[str]
    records: list[dict[str, Any]]
    fetched_at: datetime


# As ninja's JSONRenderer answers (media type and charset).
QUERY_CONTENT_TYPE = "application/json; charset=utf-8"


class FieldOut(Schema):
    key: str
    label: str
    personal: bool
    mask: str


class ResourceOut(Schema):
    code: str
    name: str
    owner: str = Field(alias="owner.name")
    owner_code: str = Field(alias="owner.code")
    description: str
    subject_type: str
    update_frequency: str
    sharing_class: str
    sharing_condition: str
    legal_basis: str
    status: str
    fields: list[FieldOut]
    refreshed_at: datetime | None


class CatalogueFilter(Schema):
    q: str = ""
    sharing_class: str | None = None


class RequestIn(Schema):
    resource: str = Field(max_length=50)
    fields: list[str]
    item_codes: list[str] = []
    purpose: str = Field(max_length=2000)
    valid_until: date | None = None
    consumer: str = Field("", max_length=64, description="department code, if you have several")


class RequestOut(Schema):
    id: int
    resource: str = Field(alias="resource.code")
    consumer: str = Field(alias="consumer.name")
    fields: list[str]
    item_codes: list[str]
    purpose: str
    status: str
    decision_reason: str
    valid_until: date | None


class ApproveIn(Schema):
    fields: list[str]
    masks: dict[str, str] = {}
    item_codes: list[str] = []
    valid_until: datetime | None = None
    rate_limit_per_minute: int | None = None
    reason: str = Field("", max_length=2000)


class ReasonIn(Schema):
    reason: str = Field(max_length=2000)


class GrantOut(Schema):
    id: int
    resource: str = Field(alias="resource.code")
    consumer: str = Field(alias="consumer.name")
    fields: list[str]
    masks: dict[str, str]
    item_codes: list[str]
    valid_from: datetime
    valid_until: datetime | None
    rate_limit_per_minute: int
    revoked_at: datetime | None
    revoke_reason: str


class LogOut(Schema):
    seq: int
    created_at: datetime
    consumer: str = Field(alias="consumer_label")
    resource: str = Field(alias="resource_code")
    actor: str = Field(alias="actor_label")
    fields: list[str]
    case_number: str
    purpose: str
    outcome: str
    code: str
    result_size: int
    duration_ms: int


class LogFilter(Schema):
    resource: str = ""
    outcome: str = ""
    case_number: str = ""
    since: datetime | None = None
    until: datetime | None = None


class SubjectLogOut(Schema):
    created_at: datetime
    consumer: str
    resource: str
    resource_name: str
    purpose: str
    case_number: str


class GatewayBearerToken(BearerToken):
    """The default bearer check, with the token's user remembered between calls: a department
    system calls the gateway many times a second (``access.gateway_token_user`` says when
    a revoked token or deactivated user stops working: at the next call)."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = gateway_token_user(token)
        if user is None:
            raise Unauthenticated("core.unauthenticated", _("访问令牌无效、已过期或已撤销。"))
        request.user = user
        setattr(request, AUTH_METHOD_ATTR, "token")
        return user


@router.post("/exchange/query", response=QueryOut, auth=[GatewayBearerToken(), SessionAuth()])
def exchange_query_api(request: HttpRequest, payload: QueryIn) -> HttpResponse:
    """Read a resource within your department's grant (only granted fields, masked)."""
    user = request_user(request)
    consumer = consumer_for_query(user, payload.consumer)
    result = exchange_query(
        consumer=consumer,
        actor=user,
        resource_code=payload.resource,
        key=payload.key,
        fields=payload.fields,
        case_number=payload.case_number,
        purpose=payload.purpose,
    )
    # A department's system calls this many times a second: the answer is built here in
    # QueryOut's shape (a test holds it to the schema, which stays the documented response)
    # and rendered as ninja renders it, without a validation pass over the records per call
    # (as the progress query, docs/adr/0006-hot-paths.md).
    return HttpResponse(
        json.dumps(result.answer(), cls=NinjaJSONEncoder),
        content_type=QUERY_CONTENT_TYPE,
    )


@router.get("/exchange/resources", response=list[ResourceOut])
@paginate
def exchange_resources(
    request: HttpRequest, filters: Query[CatalogueFilter]
) -> QuerySet[DataResource]:
    """The catalogue of published resources (any staff member)."""
    access_catalogue(request_user(request))
    return resources_catalogue(q=filters.q, sharing_class=filters.sharing_class)


@router.get("/exchange/resources/{code}", response=ResourceOut)
def exchange_resource(request: HttpRequest, code: str) -> DataResource:
    return access_resource_view(request_user(request), code)


@router.post("/exchange/requests", response={201: RequestOut})
def exchange_request_create(request: HttpRequest, payload: RequestIn) -> Status[SharingRequest]:
    """Ask for a resource for your department (its data officer)."""
    user = request_user(request)
    consumer = consumer_for_request(user, payload.consumer)
    resource = access_resource_view(user, payload.resource)
    created = services.request_create(
        actor=user,
        consumer=consumer,
        resource=resource,
        fields=payload.fields,
        item_codes=payload.item_codes,
        purpose=payload.purpose,
        valid_until=payload.valid_until,
    )
    created.refresh_from_db()
    return Status(201, created)


@router.post("/exchange/requests/{request_id}/approve", response=GrantOut)
def exchange_request_approve(request: HttpRequest, request_id: int, payload: ApproveIn) -> Grant:
    user = request_user(request)
    sharing = access_request_decide(user, request_id)
    return services.request_approve(
        actor=user,
        request=sharing,
        fields=payload.fields,
        masks=payload.masks,
        item_codes=payload.item_codes,
        valid_until=payload.valid_until,
        rate_limit_per_minute=payload.rate_limit_per_minute,
        reason=payload.reason,
    )


@router.post("/exchange/requests/{request_id}/refuse", response=RequestOut)
def exchange_request_refuse(
    request: HttpRequest, request_id: int, payload: ReasonIn
) -> SharingRequest:
    user = request_user(request)
    sharing = access_request_decide(user, request_id)
    return services.request_refuse(actor=user, request=sharing, reason=payload.reason)


@router.post("/exchange/grants/{grant_id}/revoke", response=GrantOut)
def exchange_grant_revoke(request: HttpRequest, grant_id: int, payload: ReasonIn) -> Grant:
    user = request_user(request)
    grant = access_grant_revoke(user, grant_id)
    return services.grant_revoke(actor=user, grant=grant, reason=payload.reason)


@router.get("/exchange/access-log", response=list[LogOut])
@paginate
def exchange_access_log(
    request: HttpRequest, filters: Query[LogFilter]
) -> QuerySet[AccessLogEntry]:
    """Calls on your departments' resources, newest first (data officers of the owner)."""
    ids = data_officer_department_ids(request_user(request))
    if not ids:
        raise PermissionDenied("core.forbidden", _("共享调用日志仅供数据提供部门的数据专员查看。"))
    return access_log_of_owner(
        ids,
        resource_code=filters.resource,
        outcome=filters.outcome,
        case_number=filters.case_number,
        since=filters.since,
        until=filters.until,
    )


@router.get("/exchange/my-access-log", response=list[SubjectLogOut])
@paginate
def exchange_my_access_log(request: HttpRequest) -> list[dict[str, Any]]:
    """Who read your data, when, for which case and purpose (never the values read)."""
    entries = list(access_log_of_subject(request_user(request))[:500])
    names = resource_names(e.resource_code for e in entries)
    return [
        {
            "created_at": e.created_at,
            "consumer": e.consumer_label,
            "resource": e.resource_code,
            "resource_name": names.get(e.resource_code, e.resource_code),
            "purpose": e.purpose,
            "case_number": e.case_number,
        }
        for e in entries
    ]
