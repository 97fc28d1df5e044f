"""Sign-in and sign-out pages (Django's auth views with our templates and landing pages)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import reverse


class LoginView(auth_views.LoginView):
    """Password sign-in (django-axes counts failures). Without a ``next`` URL, staff land on
    their console and citizens on the portal home."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        user = self.request.user
        if getattr(user, "kind", None) == "staff":
            return reverse("console:home")
        return super().get_default_redirect_url()
