"""The public catalog pages, mounted at /services/ (yiwang.urls)."""

from __future__ import annotations

from django.urls import path

from yiwang.catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.service_list, name="service_list"),
    # Before the item route: "bundles" must never be read as a task code.
    path("bundles/", views.bundle_list, name="bundle_list"),
    path("bundles/<slug:code>/", views.bundle_detail, name="bundle_detail"),
    path("<str:task_code>/", views.service_guide, name="service_guide"),
]
