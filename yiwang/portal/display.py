"""How a person is named on screen: masked, because service-hall screens and phones are
seen by others (PIPL; DESIGN.md "masked in every display"). The masking rules themselves are
core's (yiwang.core.masking); this module only picks what to show."""

from __future__ import annotations

from typing import Any

from yiwang.core.masking import mask_name


def user_display_name(user: Any) -> str:
    """The masked real name, or the masked account name when no real name is on file."""
    real_name = (getattr(user, "real_name", "") or "").strip()
    if real_name:
        return mask_name(real_name)
    username = getattr(user, "username", "") or ""
    if len(username) <= 2:
        return username
    # Account names are often phone numbers: show only the ends.
    return f"{username[:2]}***{username[-1:]}" if len(username) > 4 else username[0] + "***"
