from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from yiwang.portal.display import user_display_name

# The long-lived cookie that keeps elder-friendly mode on for a browser (also for people who
# never sign in). "1" on, "0" off.
ELDER_COOKIE = "elder"


def elder_mode_active(request: HttpRequest) -> bool:
    """Elder mode is on when this browser asked for it, or when the signed-in person did (on
    any device). Switching it off while signed in clears both (see portal.views)."""
    user = getattr(request, "user", None)
    return request.COOKIES.get(ELDER_COOKIE) == "1" or bool(
        user is not None and user.is_authenticated and getattr(user, "elder_mode", False)
    )


def shell(request: HttpRequest) -> dict[str, Any]:
    """What the base layout needs on every page: site name, the elder-friendly switch, and a
    masked label for the signed-in person (never the full name: screens are shared)."""
    user = getattr(request, "user", None)
    label = user_display_name(user) if user is not None and user.is_authenticated else ""
    # "platform_name", not "site_name": Django's auth views put the request's host into
    # "site_name" and would override ours on the login page.
    return {
        "platform_name": settings.YIWANG_SITE_NAME,
        "elder_mode": elder_mode_active(request),
        "shell_user_label": label,
    }
