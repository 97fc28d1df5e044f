"""Staff pages of data sharing (/console/exchange/): the catalogue, resources, requests and
grants, the access log and anomalies, 共享查询 and the data bureau's figures."""

from __future__ import annotations

from django.urls import URLPattern, path

from yiwang.exchange import views_staff as v

app_name = "exchange_staff"

urlpatterns: list[URLPattern] = [
    path("", v.home, name="home"),
    path("resources/", v.catalogue, name="catalogue"),
    path("resources/new/", v.resource_new, name="resource_new"),
    path("resources/<str:code>/", v.resource_detail, name="resource"),
    path("resources/<str:code>/edit/", v.resource_edit, name="resource_edit"),
    path("resources/<str:code>/publish/", v.resource_publish, name="resource_publish"),
    path("resources/<str:code>/withdraw/", v.resource_withdraw, name="resource_withdraw"),
    path("resources/<str:code>/request/", v.request_new, name="request_new"),
    path("requests/", v.requests_list, name="requests"),
    path("requests/<int:pk>/", v.request_detail, name="request"),
    path("requests/<int:pk>/withdraw/", v.request_withdraw, name="request_withdraw"),
    path("grants/", v.grants_list, name="grants"),
    path("grants/<int:pk>/revoke/", v.grant_revoke, name="grant_revoke"),
    path("log/", v.access_log, name="log"),
    path("anomalies/", v.anomalies, name="anomalies"),
    path("anomalies/<int:pk>/close/", v.anomaly_close, name="anomaly_close"),
    path("query/", v.query, name="query"),
    path("figures/", v.figures, name="figures"),
    path("figures.xlsx", v.figures_xlsx, name="figures_xlsx"),
]
