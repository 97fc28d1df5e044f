from __future__ import annotations

from django.urls import path

from yiwang.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("preferences/elder/", views.elder_preference, name="elder_preference"),
]
