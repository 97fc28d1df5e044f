"""The OpenAPI schema and the interactive docs, served offline."""

from __future__ import annotations

import re

from django.contrib.staticfiles import finders
from django.test import Client

ASSET = re.compile(r'(?:src|href)="([^"]+)"')


def test_docs_page_loads_only_local_assets(db: None):
    response = Client().get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assets = ASSET.findall(html)
    assert "/static/ninja/swagger-ui-bundle.js" in assets
    assert "/static/ninja/swagger-ui.css" in assets
    # no CDN, no other origin: every script and stylesheet comes from our /static/
    assert [a for a in assets if not a.startswith("/static/")] == []
    assert "http://" not in html
    assert "https://" not in html
    # and each of them is shipped by an installed package
    for asset in assets:
        assert finders.find(asset.removeprefix("/static/")), asset


def test_docs_page_points_swagger_at_the_v1_schema(db: None):
    html = Client().get("/api/docs").content.decode()
    assert '"url": "/api/v1/openapi.json"' in html


def test_openapi_schema_lists_the_v1_operations_and_both_auth_schemes(db: None):
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/v1/health",
        "/api/v1/me",
        "/api/v1/me/tokens",
        "/api/v1/me/tokens/{token_id}",
        "/api/v1/me/delegations",
        "/api/v1/me/delegations/{public_id}",
        "/api/v1/departments",
        "/api/v1/catalog/items",
        "/api/v1/catalog/items/{task_code}",
        "/api/v1/catalog/items/{task_code}/guide",
        "/api/v1/catalog/bundles",
        "/api/v1/catalog/bundles/{code}",
        "/api/v1/me/notifications",
        "/api/v1/me/notifications/read-all",
        "/api/v1/me/notifications/{notification_id}/read",
        "/api/v1/applications",
        "/api/v1/applications/validate",
        "/api/v1/applications/{application_id}",
        "/api/v1/applications/{application_id}/withdraw",
        "/api/v1/applications/{application_id}/supplement",
        "/api/v1/applications/{application_id}/notices/{kind}.pdf",
        "/api/v1/staff/applications/queue",
        "/api/v1/staff/applications/{application_id}",
        "/api/v1/staff/applications/{application_id}/case-record",
        "/api/v1/staff/applications/{application_id}/accept",
        "/api/v1/staff/applications/{application_id}/refuse",
        "/api/v1/staff/applications/{application_id}/request-supplement",
        "/api/v1/staff/applications/{application_id}/conclude",
        "/api/v1/staff/applications/{application_id}/issue",
        "/api/v1/staff/tasks",
        "/api/v1/staff/tasks/{task_id}/claim",
        "/api/v1/staff/tasks/{task_id}/complete",
        "/api/v1/staff/tasks/{task_id}/return",
        "/api/v1/staff/tasks/{task_id}/special-procedure",
        "/api/v1/staff/tasks/{task_id}/special-procedure/end",
        "/api/v1/progress",
        "/api/v1/me/rating-invitations",
        "/api/v1/me/rating-invitations/{invitation_id}/rating",
        "/api/v1/evaluation/rectifications",
        "/api/v1/evaluation/rectifications/{rectification_id}/reply",
        "/api/v1/evaluation/rectifications/{rectification_id}/follow-up",
        "/api/v1/evaluation/stats/departments",
        "/api/v1/evaluation/stats/items",
        "/api/v1/hotline/orders",
        "/api/v1/hotline/categories",
        "/api/v1/hotline/sms-replies",
        "/api/v1/me/hotline/orders",
        "/api/v1/me/hotline/orders/{order_id}",
        "/api/v1/me/hotline/orders/{order_id}/satisfaction",
        "/api/v1/hotline/orders/{order_id}",
        "/api/v1/certificates/mine",
        "/api/v1/certificates/verify/{identifier}",
        "/api/v1/certificates/{identifier}/credential",
        "/api/v1/certificates/{identifier}/uses",
        "/api/v1/certificates/{identifier}/revoke",
        "/api/v1/exchange/query",
        "/api/v1/exchange/resources",
        "/api/v1/exchange/resources/{code}",
        "/api/v1/exchange/requests",
        "/api/v1/exchange/requests/{request_id}/approve",
        "/api/v1/exchange/requests/{request_id}/refuse",
        "/api/v1/exchange/grants/{grant_id}/revoke",
        "/api/v1/exchange/access-log",
        "/api/v1/exchange/my-access-log",
        "/api/v1/ledger/checkpoint",
        "/api/v1/ledger/proof/inclusion",
        "/api/v1/ledger/proof/consistency",
        "/api/v1/ledger/entries/{index}",
        "/api/v1/ledger/policy",
        *(
            f"/api/v1/hotline/orders/{{order_id}}/{action}"
            for action in (
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
        ),
        "/api/v1/hotline/orders/{order_id}/extensions/{extension_id}/decision",
    }
    schemes = schema["components"]["securitySchemes"]
    assert schemes["BearerToken"] == {"type": "http", "scheme": "bearer"}
    assert schemes["SessionAuth"] == {"type": "apiKey", "in": "cookie", "name": "sessionid"}
    assert "security" not in schema["paths"]["/api/v1/health"]["get"]
    assert schema["paths"]["/api/v1/me"]["get"]["security"] == [
        {"BearerToken": []},
        {"SessionAuth": []},
    ]
    params = {p["name"] for p in schema["paths"]["/api/v1/departments"]["get"]["parameters"]}
    assert params == {"page", "page_size"}
