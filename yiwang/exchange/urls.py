"""Citizen pages of data sharing (/exchange/): 用数记录, who read my data and why."""

from __future__ import annotations

from django.urls import URLPattern, path

from yiwang.exchange import views

app_name = "exchange"

urlpatterns: list[URLPattern] = [
    path("", views.mine, name="mine"),
]
