from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from yiwang.accounts import views
from yiwang.core.access import authenticated, public

app_name = "accounts"
urlpatterns = [
    path("login/", public(views.LoginView.as_view()), name="login"),
    path("logout/", authenticated(auth_views.LogoutView.as_view()), name="logout"),
    path("register/", views.register, name="register"),
    path("me/", views.me, name="me"),
    path("delegations/", views.delegations, name="delegations"),
    path(
        "delegations/<uuid:public_id>/revoke/",
        views.delegation_revoke_confirm,
        name="delegation_revoke",
    ),
]
