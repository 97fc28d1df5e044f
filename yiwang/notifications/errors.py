"""Stable error codes of the notifications app (raised as yiwang.core.errors classes).

Other apps and API clients may rely on these strings; never rename one.
"""

from __future__ import annotations

# notify: what a calling service passed
EVENT_INVALID = "notifications.event_invalid"
TITLE_INVALID = "notifications.title_invalid"
BODY_INVALID = "notifications.body_invalid"
LINK_INVALID = "notifications.link_invalid"
CHANNEL_UNKNOWN = "notifications.channel_unknown"
# notify_phone: not a mainland mobile number
INVALID_PHONE = "notifications.invalid_phone"
PRINCIPAL_SELF = "notifications.principal_self"
# the recipient holds no active delegation (代办) from the principal named
NO_DELEGATION = "notifications.no_delegation"
