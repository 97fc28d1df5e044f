"""Who may see what of notifications.

- A person sees and marks only their own notifications: another person's id is a 404 for
  everyone, staff and administrators included (``access_notification_by_public_id``).
- The outbox of SMS and email (masked addresses, message text, delivery state) is for the
  platform administrators and the auditors (``outbox_reader_required``); each page they read
  is logged in the audit trail.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.utils.translation import gettext_lazy as _

from yiwang.accounts.access import role_required
from yiwang.accounts.models import Role
from yiwang.core.errors import NotFound
from yiwang.notifications.models import Notification

OUTBOX_ROLES = (Role.ADMIN.value, Role.AUDITOR.value)

outbox_reader_required = role_required(*OUTBOX_ROLES)


def access_notification_by_public_id(actor: Any, public_id: UUID | str) -> Notification:
    """One of ``actor``'s own notifications, or NotFound (also for anyone else's)."""
    notification = Notification.objects.filter(public_id=public_id, recipient_id=actor.pk).first()
    if notification is None:
        raise NotFound("core.not_found", _("找不到该消息，或您无权查看。"))
    return notification
