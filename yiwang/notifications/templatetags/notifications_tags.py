"""``{% notifications_unread_count as n %}``: the header's unread count, one COUNT query (or
none, on a page whose view already counted and put ``notifications_unread_count`` in its
context)."""

from __future__ import annotations

from typing import Any

from django import template

from yiwang.notifications.selectors import notification_unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def notifications_unread_count(context: template.Context) -> int:
    if "notifications_unread_count" in context:
        return int(context["notifications_unread_count"])
    request: Any = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return notification_unread_count(user=user)
