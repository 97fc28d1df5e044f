"""Staff pages of the 12345 hotline (/console/hotline/): the centre's operator, dispatch and
return-visit desks; the handling units' inbox; the supervisors' page; the order page."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from yiwang.hotline import views, views_centre, views_stats, views_unit

app_name = "hotline_staff"
urlpatterns: list[URLPattern | URLResolver] = [
    # --- the 12345 centre (views_centre): operator console, dispatch queue, return visits
    path("", views_centre.console, name="console"),
    path("check/", views_centre.check, name="check"),
    path("dispatch/", views_centre.dispatch_queue_page, name="dispatch_queue"),
    path("dispatch/<uuid:public_id>/", views_centre.dispatch, name="dispatch"),
    path("dispatch/<uuid:public_id>/dispatch/", views_centre.dispatch_order, name="dispatch_order"),
    path("dispatch/<uuid:public_id>/merge/", views_centre.merge, name="dispatch_merge"),
    path("dispatch/<uuid:public_id>/transfer/", views_centre.transfer, name="dispatch_transfer"),
    path("dispatch/<uuid:public_id>/close/", views_centre.close, name="dispatch_close"),
    path("dispatch/<uuid:public_id>/return/", views_centre.return_review, name="dispatch_return"),
    path(
        "dispatch/<uuid:public_id>/extensions/<int:extension_id>/",
        views_centre.extension_decide,
        name="dispatch_extension",
    ),
    path("visits/", views_centre.visits, name="visits"),
    path("visits/<uuid:public_id>/", views_centre.visit, name="visit"),
    path("visits/<uuid:public_id>/phone/", views_centre.visit_phone, name="visit_phone"),
    path("visits/<uuid:public_id>/record/", views_centre.visit_record, name="visit_record"),
    # --- handling units and supervisors (views_unit): inbox, order page, supervision
    path("inbox/", views_unit.inbox, name="inbox"),
    path("supervision/", views_unit.supervision, name="supervision"),
    path("orders/<uuid:public_id>/", views_unit.order, name="order"),
    path("orders/<uuid:public_id>/sign/", views_unit.sign, name="order_sign"),
    path("orders/<uuid:public_id>/return/", views_unit.return_request, name="order_return"),
    path("orders/<uuid:public_id>/assist/", views_unit.assist, name="order_assist"),
    path(
        "orders/<uuid:public_id>/extension/",
        views_unit.extension_request,
        name="order_extension",
    ),
    path(
        "orders/<uuid:public_id>/extension/<int:extension_id>/decide/",
        views_unit.extension_decide,
        name="order_extension_decide",
    ),
    path("orders/<uuid:public_id>/reply/", views_unit.reply, name="order_reply"),
    path("orders/<uuid:public_id>/close/", views_unit.close, name="order_close"),
    path(
        "orders/<uuid:public_id>/photos/<int:photo_id>/",
        views_unit.photo,
        name="order_photo",
    ),
    # --- figures for supervisors and the centre (views_stats)
    path("stats/", views_stats.stats, name="stats"),
    path("stats.xlsx", views_stats.stats_xlsx, name="stats_xlsx"),
    # --- publishing a mailbox letter (views: the portal's section)
    path("orders/<uuid:public_id>/publish/", views.letter_publish, name="order_publish"),
]
