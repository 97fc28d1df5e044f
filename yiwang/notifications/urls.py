from __future__ import annotations

from django.urls import path

from yiwang.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("read-all/", views.read_all, name="read_all"),
    path("<uuid:public_id>/read/", views.read, name="read"),
    path("outbox/", views.outbox, name="outbox"),
]
