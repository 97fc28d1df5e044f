from __future__ import annotations

from django.urls import path

from yiwang.console import tokens, views

app_name = "console"
urlpatterns = [
    path("", views.home, name="home"),
    path("tokens/", tokens.token_list, name="tokens"),
    path("tokens/<int:token_id>/revoke/", tokens.token_revoke, name="token_revoke"),
    path("delegations/new/", views.delegation_new, name="delegation_new"),
]
