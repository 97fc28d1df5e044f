"""Staff console pages of 办件, mounted at /console/applications/ (see views_staff)."""

from __future__ import annotations

from django.urls import path

from yiwang.applications import views_staff as views

app_name = "applications_staff"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("walk-in/", views.walk_in, name="walk_in"),
    path("walk-in/bundle/<slug:code>/", views.walk_in_bundle, name="walk_in_bundle"),
    path("walk-in/<str:task_code>/", views.walk_in_item, name="walk_in_item"),
    path("issuance/", views.issuance, name="issuance"),
    path("tasks/", views.tasks, name="tasks"),
    path("tasks/<uuid:public_id>/", views.task, name="task"),
    path("tasks/<uuid:public_id>/claim/", views.task_claim, name="task_claim"),
    path("tasks/<uuid:public_id>/complete/", views.task_complete, name="task_complete"),
    path("tasks/<uuid:public_id>/return/", views.task_return, name="task_return"),
    path("tasks/<uuid:public_id>/special/", views.special_start, name="special_start"),
    path("tasks/<uuid:public_id>/special/end/", views.special_end, name="special_end"),
    path("<uuid:public_id>/", views.case, name="case"),
    path("<uuid:public_id>/accept/", views.accept, name="accept"),
    path("<uuid:public_id>/refuse/", views.refuse, name="refuse"),
    path("<uuid:public_id>/supplement/", views.request_supplement, name="supplement"),
    path("<uuid:public_id>/conclude/", views.conclude, name="conclude"),
    path("<uuid:public_id>/issue/", views.issue, name="issue"),
    path("<uuid:public_id>/notices/<str:kind>.pdf", views.notice, name="notice"),
    path(
        "<uuid:public_id>/materials/<uuid:material_id>/",
        views.material_file,
        name="material_file",
    ),
    path(
        "<uuid:public_id>/materials/<uuid:material_id>/data/",
        views.material_data,
        name="material_data",
    ),
]
