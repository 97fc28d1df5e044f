"""Staff pages of e-certificates (/console/certificates/): the issuing department's list,
revocation and new versions; 用证 for any department."""

from __future__ import annotations

from django.urls import URLPattern, path

from yiwang.certificates import views_staff, views_staff_issue

app_name = "certificates_staff"

urlpatterns: list[URLPattern] = [
    path("", views_staff.home, name="home"),
    path("use/", views_staff.use, name="use"),
    path("issue/", views_staff_issue.issue, name="issue"),
    path("<uuid:public_id>/", views_staff.detail, name="detail"),
    path("<uuid:public_id>/revoke/", views_staff.revoke, name="revoke"),
    path("<uuid:public_id>/new-version/", views_staff.new_version, name="new_version"),
]
