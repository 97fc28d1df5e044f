"""Open311 GeoReport v2 (/open311/v2/): the format is the resource's file extension."""

from __future__ import annotations

from django.urls import re_path

from yiwang.hotline import open311

app_name = "open311"

# Any extension reaches the view, which answers an unknown one with the spec's 404 body.
FMT = r"\.(?P<fmt>[A-Za-z0-9]{1,10})$"

urlpatterns = [
    re_path(r"^discovery" + FMT, open311.discovery, name="discovery"),
    re_path(r"^services" + FMT, open311.service_list, name="services"),
    re_path(r"^services/(?P<code>[-\w]{1,32})" + FMT, open311.service_definition, name="service"),
    re_path(r"^requests" + FMT, open311.service_requests, name="requests"),
    re_path(r"^requests/(?P<number>[-\w]{1,32})" + FMT, open311.service_request, name="request"),
]
