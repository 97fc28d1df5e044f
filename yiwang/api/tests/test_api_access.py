"""Every API operation declares who may call it, and the matrix of principals × operations holds.

An operation is authenticated by default (yiwang.api.auth.DEFAULT_AUTH, set on the NinjaAPI); one
that says ``auth=None`` must be on PUBLIC below, so that making an operation public is a visible,
reviewed decision (GOV.UK Notify's test_route_authentication, for ninja).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from ninja import NinjaAPI, Router
from ninja.constants import NOT_SET
from ninja.utils import normalize_path

from yiwang.accounts.models import ApiToken, Delegation, User
from yiwang.accounts.tests.factories import DelegationFactory, UserFactory
from yiwang.api.auth import DEFAULT_AUTH
from yiwang.api.errors import api_not_found
from yiwang.api.main import api
from yiwang.api.tests.conftest import personal_token, signed_in
from yiwang.applications.models import Pause
from yiwang.applications.tests.factories import PNG, ApplicationFactory, TaskFactory
from yiwang.catalog.models import Bundle
from yiwang.catalog.tests.factories import BundleFactory, PublishedVersionFactory
from yiwang.certificates.models import Certificate, CertificateUse
from yiwang.evaluation.models import Rating, Rectification
from yiwang.evaluation.tests.factories import InvitationFactory, RectificationFactory
from yiwang.hotline.models import WorkOrder
from yiwang.notifications.tests.factories import NotificationFactory

# Operations anyone may call, signed in or not. Adding one here is an access decision.
PUBLIC = {
    ("GET", "/v1/health"),  # monitoring and load balancers; reveals no data
    ("GET", "/v1/departments"),  # the city publishes its organisation
    # the city publishes its service catalog (published versions and bundles only)
    ("GET", "/v1/catalog/items"),
    ("GET", "/v1/catalog/items/{task_code}"),
    ("GET", "/v1/catalog/items/{task_code}/guide"),
    ("GET", "/v1/catalog/bundles"),
    ("GET", "/v1/catalog/bundles/{code}"),
    # 办件进度查询: number + last four digits of the phone, rate-limited, nothing personal
    ("GET", "/v1/progress"),
    # the e-certificate transparency log: checkpoints and proofs must be checkable by anyone
    ("GET", "/v1/ledger/checkpoint"),
    ("GET", "/v1/ledger/proof/inclusion"),
    ("GET", "/v1/ledger/proof/consistency"),
    ("GET", "/v1/ledger/entries/{index}"),
    ("GET", "/v1/ledger/policy"),
    # e-certificate verification (the QR code): status and masked holder, nothing personal
    ("GET", "/v1/certificates/verify/{identifier}"),
}
# Non-operation views under /api/: the schema and the docs are public (they describe the
# operations and hold no data), unknown paths answer 404.
PUBLIC_VIEWS = {"api:openapi-json", "api:openapi-view", "api-index", "api-not-found"}


def operations(an_api: NinjaAPI) -> Iterator[tuple[str, str, Any]]:
    """(method, path, operation) for every operation of ``an_api``, as bound (auth inherited)."""
    for bound in an_api._get_bound_routers():
        for path, path_view in bound.path_operations.items():
            for operation in path_view.operations:
                full = normalize_path("/" + bound.prefix + "/" + path).rstrip("/")
                for method in operation.methods:
                    yield method, full, operation


def undeclared_public(an_api: NinjaAPI, allowed: set[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted(
        (method, path)
        for method, path, operation in operations(an_api)
        if not operation.auth_callbacks and (method, path) not in allowed
    )


def test_every_operation_is_authenticated_or_explicitly_public():
    assert undeclared_public(api, PUBLIC) == []


def test_the_public_allow_list_names_only_public_operations():
    public_now = {(m, p) for m, p, op in operations(api) if not op.auth_callbacks}
    assert public_now == PUBLIC


def test_operations_without_their_own_auth_get_the_default():
    inheriting = [op for _, _, op in operations(api) if op.auth_param is NOT_SET]
    assert inheriting
    assert all(op.auth_callbacks == DEFAULT_AUTH for op in inheriting)
    # and those that chose their own auth chose a non-empty one or are public
    chosen = [op for _, _, op in operations(api) if op.auth_param is not NOT_SET]
    assert {op.view_func.__name__ for op in chosen if op.auth_callbacks} == {
        "token_list",
        "token_create",
        "token_revoke",
        "exchange_query_api",  # DEFAULT_AUTH's two ways, the token's user cached
    }


def test_the_meta_test_catches_a_public_operation_nobody_listed():
    # given an API with the default auth and one operation that opts out without being listed
    rogue = NinjaAPI(urls_namespace="rogue", auth=DEFAULT_AUTH)
    router = Router()

    @router.get("/secret", auth=None)
    def secret(request: Any) -> dict[str, str]:
        return {}

    @router.get("/guarded")
    def guarded(request: Any) -> dict[str, str]:
        return {}

    rogue.add_router("/v1/", router)
    # then only the unlisted public one is reported
    assert undeclared_public(rogue, set()) == [("GET", "/v1/secret")]
    assert undeclared_public(rogue, {("GET", "/v1/secret")}) == []


def _api_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[Any], namespace: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, f"{p.namespace}:" if p.namespace else namespace)
            elif isinstance(p, URLPattern):
                names.add(namespace + (p.name or "?"))

    for top in get_resolver().url_patterns:
        if isinstance(top, URLResolver) and str(top.pattern) == "api/":
            walk(top.url_patterns, "")
    return names


def test_every_view_under_api_is_an_operation_or_a_listed_public_view():
    operation_names = {f"api:{op.view_func.__name__}" for _, _, op in operations(api)}
    unexplained = _api_url_names() - operation_names - PUBLIC_VIEWS - {"api:api-root"}
    assert unexplained == set()
    assert "api:openapi-json" in _api_url_names()


def test_the_api_root_and_unknown_paths_are_answered_by_the_not_found_view():
    assert get_resolver().resolve("/api/").func is api_not_found
    assert get_resolver().resolve("/api/v2/anything").func is api_not_found


# --- the authorization matrix ---------------------------------------------------------------

PRINCIPALS = [
    "anonymous",
    "citizen",
    "staff",
    "bearer_valid",
    "bearer_expired",
    "bearer_revoked",
    "bearer_garbage",
]
# The staff transitions of a work order: POST /v1/hotline/orders/{order_id}/<action>.
HOTLINE_ACTIONS = (
    "dispatch",
    "sign",
    "return",
    "return-review",
    "assist",
    "reply",
    "extension",
    "visit",
    "close",
    "merge",
    "transfer",
)
ENDPOINTS: dict[str, tuple[str, str]] = {
    "health": ("GET", "/v1/health"),
    "departments": ("GET", "/v1/departments"),
    "me": ("GET", "/v1/me"),
    "token_list": ("GET", "/v1/me/tokens"),
    "token_create": ("POST", "/v1/me/tokens"),
    "token_revoke": ("DELETE", "/v1/me/tokens/{token_id}"),
    "delegation_list": ("GET", "/v1/me/delegations"),
    "delegation_create": ("POST", "/v1/me/delegations"),
    "delegation_revoke": ("DELETE", "/v1/me/delegations/{public_id}"),
    "catalog_items": ("GET", "/v1/catalog/items"),
    "catalog_item": ("GET", "/v1/catalog/items/{task_code}"),
    "catalog_guide": ("GET", "/v1/catalog/items/{task_code}/guide"),
    "catalog_bundles": ("GET", "/v1/catalog/bundles"),
    "catalog_bundle": ("GET", "/v1/catalog/bundles/{code}"),
    "notification_list": ("GET", "/v1/me/notifications"),
    "notification_read": ("POST", "/v1/me/notifications/{notification_id}/read"),
    "notification_read_all": ("POST", "/v1/me/notifications/read-all"),
    "application_create": ("POST", "/v1/applications"),
    "application_validate": ("POST", "/v1/applications/validate"),
    "application_list": ("GET", "/v1/applications"),
    "application_detail": ("GET", "/v1/applications/{application_id}"),
    "application_withdraw": ("POST", "/v1/applications/{application_id}/withdraw"),
    "application_supplement": ("POST", "/v1/applications/{application_id}/supplement"),
    "application_notice": ("GET", "/v1/applications/{application_id}/notices/{kind}.pdf"),
    "staff_queue": ("GET", "/v1/staff/applications/queue"),
    "staff_application": ("GET", "/v1/staff/applications/{application_id}"),
    "staff_case_record": ("GET", "/v1/staff/applications/{application_id}/case-record"),
    "staff_accept": ("POST", "/v1/staff/applications/{application_id}/accept"),
    "staff_refuse": ("POST", "/v1/staff/applications/{application_id}/refuse"),
    "staff_request_supplement": (
        "POST",
        "/v1/staff/applications/{application_id}/request-supplement",
    ),
    "staff_conclude": ("POST", "/v1/staff/applications/{application_id}/conclude"),
    "staff_issue": ("POST", "/v1/staff/applications/{application_id}/issue"),
    "staff_tasks": ("GET", "/v1/staff/tasks"),
    "task_claim": ("POST", "/v1/staff/tasks/{task_id}/claim"),
    "task_complete": ("POST", "/v1/staff/tasks/{task_id}/complete"),
    "task_return": ("POST", "/v1/staff/tasks/{task_id}/return"),
    "special_start": ("POST", "/v1/staff/tasks/{task_id}/special-procedure"),
    "special_end": ("POST", "/v1/staff/tasks/{task_id}/special-procedure/end"),
    "progress": ("GET", "/v1/progress"),
    "rating_invitations": ("GET", "/v1/me/rating-invitations"),
    "rating_submit": ("POST", "/v1/me/rating-invitations/{invitation_id}/rating"),
    "rectification_list": ("GET", "/v1/evaluation/rectifications"),
    "rectification_reply": ("POST", "/v1/evaluation/rectifications/{rectification_id}/reply"),
    "rectification_follow_up": (
        "POST",
        "/v1/evaluation/rectifications/{rectification_id}/follow-up",
    ),
    "rating_stats_departments": ("GET", "/v1/evaluation/stats/departments"),
    "rating_stats_items": ("GET", "/v1/evaluation/stats/items"),
    "hotline_order_create": ("POST", "/v1/hotline/orders"),
    "hotline_my_orders": ("GET", "/v1/me/hotline/orders"),
    "hotline_my_order": ("GET", "/v1/me/hotline/orders/{order_id}"),
    "hotline_my_order_rate": ("POST", "/v1/me/hotline/orders/{order_id}/satisfaction"),
    "hotline_categories": ("GET", "/v1/hotline/categories"),
    "hotline_sms_reply": ("POST", "/v1/hotline/sms-replies"),
    "hotline_staff_orders": ("GET", "/v1/hotline/orders"),
    "hotline_staff_order": ("GET", "/v1/hotline/orders/{order_id}"),
    **{
        f"hotline_{action}": ("POST", f"/v1/hotline/orders/{{order_id}}/{action}")
        for action in HOTLINE_ACTIONS
    },
    "hotline_extension_decision": (
        "POST",
        "/v1/hotline/orders/{order_id}/extensions/{extension_id}/decision",
    ),
    "ledger_checkpoint": ("GET", "/v1/ledger/checkpoint"),
    "ledger_inclusion": ("GET", "/v1/ledger/proof/inclusion"),
    "ledger_consistency": ("GET", "/v1/ledger/proof/consistency"),
    "ledger_entry": ("GET", "/v1/ledger/entries/{index}"),
    "ledger_policy": ("GET", "/v1/ledger/policy"),
    "certificate_mine": ("GET", "/v1/certificates/mine"),
    "certificate_verify": ("GET", "/v1/certificates/verify/{identifier}"),
    "certificate_credential": ("GET", "/v1/certificates/{identifier}/credential"),
    "certificate_uses": ("GET", "/v1/certificates/{identifier}/uses"),
    "certificate_use": ("POST", "/v1/certificates/{identifier}/uses"),
    "certificate_revoke": ("POST", "/v1/certificates/{identifier}/revoke"),
    "exchange_query": ("POST", "/v1/exchange/query"),
    "exchange_resources": ("GET", "/v1/exchange/resources"),
    "exchange_resource": ("GET", "/v1/exchange/resources/{code}"),
    "exchange_request_create": ("POST", "/v1/exchange/requests"),
    "exchange_request_approve": ("POST", "/v1/exchange/requests/{request_id}/approve"),
    "exchange_request_refuse": ("POST", "/v1/exchange/requests/{request_id}/refuse"),
    "exchange_grant_revoke": ("POST", "/v1/exchange/grants/{grant_id}/revoke"),
    "exchange_access_log": ("GET", "/v1/exchange/access-log"),
    "exchange_my_access_log": ("GET", "/v1/exchange/my-access-log"),
}
ANY = dict.fromkeys(PRINCIPALS, 200)
UNAUTH = {"anonymous": 401, "bearer_expired": 401, "bearer_revoked": 401, "bearer_garbage": 401}
# Token management takes a signed-in staff member at a browser: a bearer token gets 401.
SESSION_STAFF = {**UNAUTH, "citizen": 403, "bearer_valid": 401}
# Delegation is between residents: staff (by session or by their token) get 403.
APPLICANTS = {**UNAUTH, "staff": 403, "bearer_valid": 403}
# Everyone signed in has an inbox; the notification read below is the citizen's, so anyone else
# learns nothing about it (404).
SIGNED_IN = {**UNAUTH, "citizen": 200, "staff": 200, "bearer_valid": 200}
# Department work: citizens get 403; staff (by session or token) without a role in the
# object's department learn nothing about it (404).
STAFF_ONLY = {**UNAUTH, "citizen": 403, "staff": 404, "bearer_valid": 404}
MATRIX: dict[str, dict[str, int]] = {
    "health": ANY,
    "departments": ANY,
    "me": {**UNAUTH, "citizen": 200, "staff": 200, "bearer_valid": 200},
    "token_list": {**SESSION_STAFF, "staff": 200},
    "token_create": {**SESSION_STAFF, "staff": 201},
    "token_revoke": {**SESSION_STAFF, "staff": 204},
    "delegation_list": {**APPLICANTS, "citizen": 200},
    "delegation_create": {**APPLICANTS, "citizen": 201},
    "delegation_revoke": {**APPLICANTS, "citizen": 204},
    "catalog_items": ANY,
    "catalog_item": ANY,
    "catalog_guide": ANY,
    "catalog_bundles": ANY,
    "catalog_bundle": ANY,
    "notification_list": SIGNED_IN,
    "notification_read": {**UNAUTH, "citizen": 200, "staff": 404, "bearer_valid": 404},
    "notification_read_all": SIGNED_IN,
    # applications: the citizen's own (below); staff without a role there see nothing (404)
    "application_create": {**APPLICANTS, "citizen": 201},
    "application_validate": {**APPLICANTS, "citizen": 200},
    "application_list": {**APPLICANTS, "citizen": 200},
    "application_detail": {**APPLICANTS, "citizen": 200},
    "application_withdraw": {**APPLICANTS, "citizen": 200},
    "application_supplement": {**APPLICANTS, "citizen": 200},
    # the applicant's correction notice: staff without a role in the department see nothing
    "application_notice": {**UNAUTH, "citizen": 200, "staff": 404, "bearer_valid": 404},
    "staff_queue": {**STAFF_ONLY, "staff": 200, "bearer_valid": 200},
    "staff_application": STAFF_ONLY,
    "staff_case_record": STAFF_ONLY,
    "staff_accept": STAFF_ONLY,
    "staff_refuse": STAFF_ONLY,
    "staff_request_supplement": STAFF_ONLY,
    "staff_conclude": STAFF_ONLY,
    "staff_issue": STAFF_ONLY,
    "staff_tasks": {**STAFF_ONLY, "staff": 200, "bearer_valid": 200},
    "task_claim": STAFF_ONLY,
    "task_complete": STAFF_ONLY,
    "task_return": STAFF_ONLY,
    "special_start": STAFF_ONLY,
    "special_end": STAFF_ONLY,
    "progress": dict.fromkeys(PRINCIPALS, 404),  # an unknown number, whoever asks
    # 好差评: everyone signed in has their own invitations; the one below is the citizen's.
    # The staff member holds no desk or supervisor role anywhere: 403 (evaluation's own tests
    # cover the roles and departments: yiwang/evaluation/tests/test_access.py, test_api.py).
    "rating_invitations": SIGNED_IN,
    "rating_submit": {**UNAUTH, "citizen": 201, "staff": 404, "bearer_valid": 404},
    "rectification_list": {**UNAUTH, "citizen": 403, "staff": 403, "bearer_valid": 403},
    "rectification_reply": {**UNAUTH, "citizen": 403, "staff": 403, "bearer_valid": 403},
    "rectification_follow_up": {**UNAUTH, "citizen": 403, "staff": 403, "bearer_valid": 403},
    "rating_stats_departments": {**UNAUTH, "citizen": 403, "staff": 403, "bearer_valid": 403},
    "rating_stats_items": {**UNAUTH, "citizen": 403, "staff": 403, "bearer_valid": 403},
    # 12345 hotline: the citizen's own orders (below, replied); staff without a handling,
    # dispatching or supervising role see no order (yiwang/hotline/tests/test_api.py has the
    # matrix of the centre, the lead unit, another unit and another citizen)
    "hotline_order_create": {**APPLICANTS, "citizen": 201},
    "hotline_my_orders": {**APPLICANTS, "citizen": 200},
    "hotline_my_order": {**APPLICANTS, "citizen": 200},
    "hotline_my_order_rate": {**APPLICANTS, "citizen": 200},
    "hotline_categories": SIGNED_IN,
    # the SMS gateway's callback: system integration accounts only
    "hotline_sms_reply": {**UNAUTH, "citizen": 403, "staff": 403, "bearer_valid": 403},
    "hotline_staff_orders": {**STAFF_ONLY, "staff": 200, "bearer_valid": 200},
    "hotline_staff_order": STAFF_ONLY,
    **{f"hotline_{action}": STAFF_ONLY for action in HOTLINE_ACTIONS},
    "hotline_extension_decision": STAFF_ONLY,
    # the transparency log is public; an empty log has no checkpoint, entry or tree yet
    **dict.fromkeys(
        ["ledger_checkpoint", "ledger_inclusion", "ledger_consistency", "ledger_entry"],
        dict.fromkeys(PRINCIPALS, 404),
    ),
    "ledger_policy": ANY,
    # e-certificates: the one below is the citizen's. Staff of another department learn
    # nothing (404); the holder may not revoke (403); only staff with a department use (403)
    # (yiwang/certificates/tests/test_api.py has the issuing and using departments)
    "certificate_mine": SIGNED_IN,
    "certificate_verify": ANY,
    "certificate_credential": {**UNAUTH, "citizen": 200, "staff": 404, "bearer_valid": 404},
    "certificate_uses": {**UNAUTH, "citizen": 200, "staff": 404, "bearer_valid": 404},
    "certificate_use": {**UNAUTH, "citizen": 403, "staff": 403, "bearer_valid": 403},
    "certificate_revoke": {**UNAUTH, "citizen": 403, "staff": 404, "bearer_valid": 404},
    # data exchange: the staff member works for a department with no data-officer role; the
    # query names a department they do not work for (403 before the gateway); the catalogue
    # is for staff; decisions and the owner's log for data officers
    # (yiwang/exchange/tests/test_api.py has the owner, the consumer and the grants)
    "exchange_query": {**UNAUTH, "citizen": 403, "staff": 403, "bearer_valid": 403},
    "exchange_resources": {**UNAUTH, "citizen": 403, "staff": 200, "bearer_valid": 200},
    "exchange_resource": STAFF_ONLY,
    "exchange_request_create": {**UNAUTH, "citizen": 403, "staff": 403, "bearer_valid": 403},
    "exchange_request_approve": STAFF_ONLY,
    "exchange_request_refuse": STAFF_ONLY,
    "exchange_grant_revoke": STAFF_ONLY,
    "exchange_access_log": {**UNAUTH, "citizen": 403, "staff": 403, "bearer_valid": 403},
    "exchange_my_access_log": SIGNED_IN,
}


# Bodies that pass the schemas, so that the matrix sees access decisions, not 422s.
APPLICATION_BODIES: dict[str, dict[str, Any]] = {
    "staff_refuse": {"reasons": ["不属于受理范围"]},
    "staff_request_supplement": {"items": ["缺少申请书"]},
    "staff_issue": {"delivery_method": "window"},
    "task_complete": {"outcome": "approve", "opinion": "同意"},
    "task_return": {"items": ["材料不清晰"]},
    "special_start": {"kind": "hearing", "reason": "依申请听证"},
    "special_end": {"result": "听证结束"},
}
EVALUATION_BODIES: dict[str, dict[str, Any]] = {
    "rating_submit": {"level": 5},
    "rectification_reply": {"disposition": "fixed", "reply": "已核实并整改完毕。"},
    "rectification_follow_up": {"result": "satisfied", "note": "电话回访，群众满意。"},
}
HOTLINE_BODIES: dict[str, dict[str, Any]] = {
    "hotline_order_create": {"content": "人民路的路灯不亮了", "division_code": "341502"},
    "hotline_my_order_rate": {"level": 5},
    "hotline_return": {"reason": "不属于本单位职责"},
    "hotline_return-review": {"accept": False, "note": "属于本单位职责"},
    "hotline_assist": {"note": "已配合现场勘查"},
    "hotline_reply": {"action": "已更换灯泡", "text": "路灯已修复。", "outcome": "resolved"},
    "hotline_extension": {"reason": "需要等待配件"},
    "hotline_extension_decision": {"approve": True},
    "hotline_close": {"outcome": "resolved", "note": "已修复路灯"},
    "hotline_merge": {"into": "GD2026112700000002"},
    "hotline_sms_reply": {"phone": "13800000001", "text": "1"},
}
EXCHANGE_BODIES: dict[str, dict[str, Any]] = {
    "exchange_query": {"resource": "LA-DR-X", "key": "k", "consumer": "no-such-department"},
    "exchange_request_create": {"resource": "LA-DR-X", "fields": ["a"], "purpose": "测试"},
    "exchange_request_approve": {"fields": ["a"]},
    "exchange_request_refuse": {"reason": "测试"},
    "exchange_grant_revoke": {"reason": "测试"},
}


def _certificate_of(citizen: User) -> str:
    """A certificate of ``citizen`` (issued by a department where the staff hold no role)."""
    from yiwang.certificates.tests.test_services import issue, make_world

    return issue(make_world(), holder=citizen).identifier


def test_the_matrix_covers_every_operation_and_every_principal():
    assert {(m, p) for m, p, _ in operations(api)} == set(ENDPOINTS.values())
    assert all(set(row) == set(PRINCIPALS) for row in MATRIX.values())


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_authorization_matrix(request, staff: User, citizen: User, endpoint: str, principal: str):
    # given a token of the staff member and a delegation the citizen gave, which the revoke
    # operations target
    target, _ = personal_token(staff, name="target")
    agent = UserFactory.create(real_name="王小明")
    given = DelegationFactory.create(principal=citizen, agent=agent)
    client: Client = request.getfixturevalue(f"as_{principal}")
    tokens_before = ApiToken.objects.count()
    method, path = ENDPOINTS[endpoint]
    # and a published item and bundle, which the catalog operations read
    published = PublishedVersionFactory.create()
    bundle = BundleFactory.create(status=Bundle.Status.PUBLISHED)
    # and an unread notification of the citizen, which the notification operations target
    own = NotificationFactory.create(recipient=citizen)
    # and an application of the citizen waiting for a supplement, and a task of a department
    # where the staff member holds no role
    application = ApplicationFactory.create(
        applicant=citizen, version=published, status="supplement_requested"
    )
    task = TaskFactory.create(
        application=ApplicationFactory.create(
            applicant=citizen, version=published, status="in_review"
        )
    )
    # and a rating invitation of the citizen, and a rectification of a department where the
    # staff member holds no role
    invitation = InvitationFactory.create(rater=citizen)
    rectification = RectificationFactory.create(rating__invitation__rater=agent)
    # and a work order of the citizen, replied and waiting for their rating
    order = WorkOrder.objects.create(
        number="GD2026112700000001",
        channel="api",
        title="路灯不亮",
        content="人民路的路灯不亮了",
        citizen=citizen,
        status="replied",
        registered_at=timezone.now(),
    )
    url = "/api" + path.format(
        order_id=order.public_id,
        extension_id=0,
        invitation_id=invitation.public_id,
        rectification_id=rectification.public_id,
        application_id=application.public_id,
        task_id=task.public_id,
        token_id=target.pk,
        public_id=given.public_id,
        task_code=published.item.task_code,
        code=bundle.code,
        notification_id=own.public_id,
        kind="correction",
        index=0,
        request_id=0,
        grant_id=0,
        identifier=_certificate_of(citizen) if endpoint.startswith("certificate_") else "x",
    )
    body: dict[str, Any] = {"name": "laptop"}
    if endpoint == "delegation_create":
        body = {
            "agent": {"real_name": agent.real_name, "id_number": agent.id_number},
            "scopes": ["apply"],
            "expires_at": (timezone.now() + timedelta(days=7)).isoformat(),
        }
    png = {
        "material_id": published.materials.get().pk,
        "content_base64": base64.b64encode(PNG).decode(),
    }
    body = APPLICATION_BODIES.get(endpoint, body)
    body = EVALUATION_BODIES.get(endpoint, body)
    body = HOTLINE_BODIES.get(endpoint, body)
    if endpoint in ("application_create", "application_validate"):
        body = {"task_code": published.item.task_code, "contact_phone": "13812345678"}
        body["materials"] = [png]
    if endpoint == "application_supplement":
        body = {"materials": [png]}
    if endpoint == "certificate_use":
        body = {"reason": "办理测试", "case_number": "C-1"}
    if endpoint == "certificate_revoke":
        body = {"reason": "测试注销"}
    body = EXCHANGE_BODIES.get(endpoint, body)
    if endpoint == "progress":
        url += "?number=341500000000000000000000&phone_last4=0000"
    if endpoint.startswith("ledger_"):  # public; the empty log has no tree of size 1 yet (404)
        url += "?index=0&size=1&size1=1&size2=1"
    if endpoint == "application_notice":
        # the supplement request that the correction notice prints
        Pause.objects.create(
            application=application,
            kind="supplement",
            reason="缺少申请书",
            started_at=timezone.now(),
        )
    # when
    response = client.generic(method, url, data=json.dumps(body), content_type="application/json")
    # then
    expected = MATRIX[endpoint][principal]
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["status"] == expected
        code = {401: "core.unauthenticated", 403: "core.forbidden", 404: "core.not_found"}[expected]
        assert response.json()["code"] == code
    # and nothing was created or revoked by a refused request
    created = 1 if (endpoint, expected) == ("token_create", 201) else 0
    assert ApiToken.objects.count() == tokens_before + created
    target.refresh_from_db()
    assert (target.revoked_at is not None) == ((endpoint, expected) == ("token_revoke", 204))
    granted = 1 if (endpoint, expected) == ("delegation_create", 201) else 0
    assert Delegation.objects.count() == 1 + granted
    given.refresh_from_db()
    assert (given.revoked_at is not None) == ((endpoint, expected) == ("delegation_revoke", 204))
    own.refresh_from_db()
    marked = {("notification_read", "citizen"), ("notification_read_all", "citizen")}
    assert (own.read_at is not None) == ((endpoint, principal) in marked)
    rated = 1 if (endpoint, expected) == ("rating_submit", 201) else 0
    assert Rating.objects.count() == 1 + rated
    assert Rectification.objects.get().status == "open"
    if endpoint.startswith("certificate_"):
        assert CertificateUse.objects.count() == 0
        assert not Certificate.objects.filter(status="revoked").exists()
    filed = 1 if (endpoint, expected) == ("hotline_order_create", 201) else 0
    assert WorkOrder.objects.count() == 1 + filed
    order.refresh_from_db()
    assert order.status == (
        "closed" if (endpoint, expected) == ("hotline_my_order_rate", 200) else "replied"
    )


def test_a_session_post_without_the_csrf_token_is_refused_and_changes_nothing(staff: User):
    client = signed_in(staff, enforce_csrf_checks=True)
    response = client.post("/api/v1/me/tokens", {"name": "x"}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "api.csrf_failed"
    assert ApiToken.objects.filter(user=staff).count() == 0


def test_a_session_post_with_the_csrf_token_is_accepted(staff: User):
    client = signed_in(staff, enforce_csrf_checks=True)
    client.get("/api/docs")  # the docs page sets the CSRF cookie, like any page would
    csrf = client.cookies["csrftoken"].value
    response = client.post(
        "/api/v1/me/tokens",
        {"name": "x"},
        content_type="application/json",
        headers={"X-CSRFToken": csrf},
    )
    assert response.status_code == 201
    assert ApiToken.objects.filter(user=staff).count() == 1


def test_a_bad_bearer_token_is_refused_even_with_a_valid_session(staff: User):
    client = signed_in(staff)
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer yw_garbage"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="yiwang"'


def test_an_integration_key_of_a_system_user_authenticates(db: None):
    from yiwang.accounts.services import api_token_create
    from yiwang.accounts.tests.factories import SystemUserFactory, admin_user

    system = SystemUserFactory.create()
    _, raw = api_token_create(
        actor=admin_user(), user=system, kind=ApiToken.Kind.INTEGRATION, name="12345 hotline"
    )
    response = Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["kind"] == "system"
