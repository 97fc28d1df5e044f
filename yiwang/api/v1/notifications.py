"""The signed-in person's notifications (我的消息): list, mark one read, mark all read.

Anyone signed in (citizen, enterprise, staff, an integration's system user) has an inbox; only
their own notifications are ever visible: another person's id is a 404. The principal of a
delegated matter (代办) is shown by masked name.
"""

# No ``from __future__ import annotations`` here: ninja's @paginate rebuilds the operation's
# signature outside this module, where string annotations (Query[...]) would not resolve.

from datetime import datetime
from uuid import UUID

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from yiwang.api.auth import request_user
from yiwang.core.masking import mask_name
from yiwang.notifications.access import access_notification_by_public_id
from yiwang.notifications.models import Notification
from yiwang.notifications.selectors import notification_list
from yiwang.notifications.services import notification_mark_read, notifications_mark_all_read

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: UUID = Field(description="the notification's public id (use it to mark it read)")
    event: str = Field(description="what happened, e.g. `application.accepted`")
    title: str
    body: str
    link: str = Field(description="a path on this platform (relative URL), or empty")
    principal: str | None = Field(
        description="masked name of the person you act for under a delegation (代办), if any"
    )
    created_at: datetime
    read_at: datetime | None

    @staticmethod
    def resolve_id(obj: Notification) -> UUID:
        return obj.public_id

    @staticmethod
    def resolve_principal(obj: Notification) -> str | None:
        return (
            mask_name(obj.principal.real_name or obj.principal.username) if obj.principal else None
        )


class NotificationFilters(Schema):
    unread: bool | None = Field(None, description="`true`: only unread; `false`: only read")


class ReadAllOut(Schema):
    updated: int = Field(description="how many notifications were unread and are now read")


@router.get("/me/notifications", response=list[NotificationOut])
@paginate
def my_notification_list(
    request: HttpRequest, filters: Query[NotificationFilters]
) -> QuerySet[Notification]:
    """Your notifications, newest first; `unread=true` for the unread ones only (their
    `count` is the unread count)."""
    return notification_list(user=request_user(request), unread=filters.unread)


@router.post("/me/notifications/read-all", response=ReadAllOut)
def my_notifications_read_all(request: HttpRequest) -> ReadAllOut:
    """Mark every unread notification of yours read."""
    return ReadAllOut(updated=notifications_mark_all_read(user=request_user(request)))


@router.post("/me/notifications/{notification_id}/read", response=NotificationOut)
def my_notification_read(request: HttpRequest, notification_id: UUID) -> Notification:
    """Mark one of your notifications read (again: no change). Anyone else's is a 404."""
    user = request_user(request)
    notification = access_notification_by_public_id(user, notification_id)
    return notification_mark_read(user=user, notification=notification)
