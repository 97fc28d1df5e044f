from __future__ import annotations

from django.urls import URLPattern

app_name = "certificates_staff"

urlpatterns: list[URLPattern] = []
