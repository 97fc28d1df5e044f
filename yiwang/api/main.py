"""The REST API: one NinjaAPI mounted at /api/ (yiwang.api.urls).

- operations under /api/v1/…, the OpenAPI schema at /api/v1/openapi.json;
- interactive docs at /api/docs: Swagger UI from ninja's own static files (ninja is in
  INSTALLED_APPS, so its template loads them through {% static %}, never from a CDN). The docs
  and the schema are public, as a government API's usually are: they describe operations and
  reveal no data;
- every operation is authenticated (bearer token or session, yiwang.api.auth) unless it says
  ``auth=None``; yiwang/api/tests/test_api_access.py fails for a public operation that is not on
  its allow-list;
- every error is problem+json (yiwang.api.errors); lists use yiwang.api.pagination.
"""

from __future__ import annotations

from ninja import NinjaAPI, Swagger

from yiwang.api.auth import DEFAULT_AUTH
from yiwang.api.errors import install_problem_handlers
from yiwang.api.v1 import (
    applications,
    catalog,
    certificates,
    delegations,
    departments,
    evaluation,
    exchange,
    hotline,
    ledger,
    me,
    notifications,
    platform,
)

api = NinjaAPI(
    title="yiwang API",
    version="1",
    description=(
        "六安市一网通办平台接口。Authentication: `Authorization: Bearer yw_…` or the session "
        "cookie (with `X-CSRFToken` on unsafe methods). Errors: `application/problem+json`. "
        "Integrator guide: docs/api.md."
    ),
    urls_namespace="api",
    openapi_url="/v1/openapi.json",
    docs_url="/docs",
    docs=Swagger(settings={"persistAuthorization": False}),
    auth=DEFAULT_AUTH,
)
install_problem_handlers(api)

api.add_router("/v1/", platform.router)
api.add_router("/v1/", me.router)
api.add_router("/v1/", departments.router)
api.add_router("/v1/", delegations.router)
api.add_router("/v1/", catalog.router)
api.add_router("/v1/", notifications.router)
api.add_router("/v1/", applications.router)
api.add_router("/v1/", evaluation.router)
api.add_router("/v1/", hotline.router)
api.add_router("/v1/", ledger.router)
api.add_router("/v1/", certificates.router)
api.add_router("/v1/", exchange.router)
