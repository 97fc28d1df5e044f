"""Every API operation declares who may call it, and the matrix of principals × operations holds.

An operation is authenticated by default (yiwang.api.auth.DEFAULT_AUTH, set on the NinjaAPI); one
that says ``auth=None`` must be on PUBLIC below, so that making an operation public is a visible,
reviewed decision (GOV.UK Notify's test_route_authentication, for ninja).
"""

from __future__ import annotations

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
from yiwang.catalog.models import Bundle
from yiwang.catalog.tests.factories import BundleFactory, PublishedVersionFactory
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
}


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
    url = "/api" + path.format(
        token_id=target.pk,
        public_id=given.public_id,
        task_code=published.item.task_code,
        code=bundle.code,
        notification_id=own.public_id,
    )
    body: dict[str, Any] = {"name": "laptop"}
    if endpoint == "delegation_create":
        body = {
            "agent": {"real_name": agent.real_name, "id_number": agent.id_number},
            "scopes": ["apply"],
            "expires_at": (timezone.now() + timedelta(days=7)).isoformat(),
        }
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
