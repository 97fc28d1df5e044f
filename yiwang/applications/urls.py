"""Citizen pages of 办件 (mounted at the site root: /applications/…, /progress/ and the
self-service terminal /terminal/…)."""

from __future__ import annotations

from django.urls import path

from yiwang.applications import views, views_terminal

app_name = "applications"
urlpatterns = [
    path("applications/", views.mine, name="mine"),
    path("applications/apply/bundle/<slug:code>/", views.apply_bundle, name="apply_bundle"),
    path("applications/apply/<str:task_code>/", views.apply_item, name="apply"),
    path("applications/<uuid:public_id>/", views.detail, name="detail"),
    path("applications/<uuid:public_id>/withdraw/", views.withdraw, name="withdraw"),
    path("applications/<uuid:public_id>/supplement/", views.supplement, name="supplement"),
    path("progress/", views.progress, name="progress"),
    path("terminal/", views_terminal.home, name="terminal"),
    path(
        "terminal/apply/bundle/<slug:code>/",
        views_terminal.apply_bundle,
        name="terminal_apply_bundle",
    ),
    path("terminal/apply/<str:task_code>/", views_terminal.apply_item, name="terminal_apply"),
    path("terminal/done/<uuid:public_id>/", views_terminal.done, name="terminal_done"),
]
