"""How a person is named on screen: masked, because service-hall screens and phones are
seen by others (PIPL; DESIGN.md "masked in every display")."""

from __future__ import annotations

from typing import Any


def name_mask(name: str) -> str:
    """Keep the first character (the surname for most Chinese names), star the rest:
    ``张三丰`` → ``张**``; a one-character name stays as it is."""
    name = name.strip()
    if len(name) <= 1:
        return name
    return name[0] + "*" * (len(name) - 1)


def user_display_name(user: Any) -> str:
    """The masked real name, or the masked account name when no real name is on file."""
    real_name = (getattr(user, "real_name", "") or "").strip()
    if real_name:
        return name_mask(real_name)
    username = getattr(user, "username", "") or ""
    if len(username) <= 2:
        return username
    # Account names are often phone numbers: show only the ends.
    return f"{username[:2]}***{username[-1:]}" if len(username) > 4 else username[0] + "***"
