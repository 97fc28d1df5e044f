from __future__ import annotations

from django.urls import path

from yiwang.evaluation import views

app_name = "evaluation"
urlpatterns = [
    path("", views.my_ratings, name="mine"),
    path("<uuid:public_id>/", views.rate, name="rate"),
    path("rectifications/", views.rectifications, name="rectifications"),
    path("rectifications/<uuid:public_id>/", views.rectification, name="rectification"),
    path(
        "rectifications/<uuid:public_id>/reply/",
        views.rectification_reply_view,
        name="rectification_reply",
    ),
    path(
        "rectifications/<uuid:public_id>/follow-up/",
        views.rectification_follow_up_view,
        name="rectification_follow_up",
    ),
    path("stats/", views.stats, name="stats"),
]
