"""Certificate pages (/certificates/): the holder's 我的证照 and copies, the public verification
(the QR code's target)."""

from __future__ import annotations

from django.urls import URLPattern, path

from yiwang.certificates import views

app_name = "certificates"

urlpatterns: list[URLPattern] = [
    path("", views.mine, name="mine"),
    path("verify/", views.verify_form, name="verify_form"),
    path("verify/<str:identifier>/", views.verify, name="verify"),
    path("<uuid:public_id>/", views.detail, name="detail"),
    path("<uuid:public_id>/print/", views.print_copy, name="print"),
    path("<uuid:public_id>/pdf/", views.pdf, name="pdf"),
    path("<uuid:public_id>/credential/", views.credential, name="credential"),
    path("<uuid:public_id>/proof/", views.proof, name="proof"),
]
