from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def shell(request: HttpRequest) -> dict[str, Any]:
    """What the base layout needs on every page: site name and the elder-friendly switch."""
    user = getattr(request, "user", None)
    elder = request.COOKIES.get("elder") == "1" or bool(
        user is not None and user.is_authenticated and getattr(user, "elder_mode", False)
    )
    return {"site_name": settings.YIWANG_SITE_NAME, "elder_mode": elder}
