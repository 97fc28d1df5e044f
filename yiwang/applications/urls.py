"""Citizen pages of 办件 (mounted at the site root: /applications/… and /progress/)."""

from __future__ import annotations

from django.urls import path

from yiwang.applications import views

app_name = "applications"
urlpatterns = [
    path("applications/", views.mine, name="mine"),
    path("applications/apply/bundle/<slug:code>/", views.apply_bundle, name="apply_bundle"),
    path("applications/apply/<str:task_code>/", views.apply_item, name="apply"),
    path("applications/<uuid:public_id>/", views.detail, name="detail"),
    path("applications/<uuid:public_id>/withdraw/", views.withdraw, name="withdraw"),
    path("applications/<uuid:public_id>/supplement/", views.supplement, name="supplement"),
    path("progress/", views.progress, name="progress"),
]
