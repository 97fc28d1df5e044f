from __future__ import annotations

from django.urls import URLPattern, path, re_path

from yiwang.witness import views

app_name = "witness"

urlpatterns: list[URLPattern] = [
    path("", views.status, name="status"),
    path("add-checkpoint", views.add_checkpoint, name="add_checkpoint"),
    re_path(r"^(?P<origin_hash>[0-9a-f]{64})/checkpoint$", views.checkpoint, name="checkpoint"),
]
