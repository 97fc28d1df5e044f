"""Citizen pages of the 12345 hotline (/hotline/): write, follow, the mailboxes."""

from __future__ import annotations

from django.urls import URLPattern, path

from yiwang.hotline import views

app_name = "hotline"
urlpatterns: list[URLPattern] = [
    path("", views.home, name="home"),
    path("new/", views.order_new, name="new"),
    path("my/", views.my_orders, name="my_orders"),
    path("my/<uuid:public_id>/", views.my_order, name="my_order"),
    path("my/<uuid:public_id>/visit/", views.my_order_visit, name="my_order_visit"),
    path("mailbox/", views.mailboxes, name="mailboxes"),
    path("mailbox/<slug:code>/write/", views.mailbox_write, name="mailbox_write"),
    path("letters/", views.letters, name="letters"),
    path("letters/<uuid:public_id>/", views.letter, name="letter"),
]
