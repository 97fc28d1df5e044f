"""Pages: 我的消息 (/notifications/) for every signed-in person, and the outbox of SMS and
email (/notifications/outbox/) for administrators and auditors.

The inbox works without JavaScript (POST forms, then a redirect back to the same list); with
htmx loaded, the forms post in place and swap the list and the header's unread link."""

from __future__ import annotations

from typing import cast
from urllib.parse import urlencode
from uuid import UUID

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from yiwang.accounts.models import User
from yiwang.core.access import authenticated
from yiwang.notifications.access import access_notification_by_public_id, outbox_reader_required
from yiwang.notifications.models import OutboundMessage
from yiwang.notifications.selectors import (
    notification_list,
    notification_unread_count,
    outbound_message_list,
    outbound_status_counts,
)
from yiwang.notifications.services import (
    notification_mark_read,
    notifications_mark_all_read,
    outbound_messages_read_log,
)

INBOX_PAGE_SIZE = 20
OUTBOX_PAGE_SIZE = 50
SHOW_UNREAD = "unread"
# Recorded in the audit trail as is (not translated: the trail is read in any language).
OUTBOX_READ_PURPOSE = "核查短信和邮件发送情况"


def _inbox_url(*, unread_only: bool, page: str | None) -> str:
    """The inbox list a form was posted from (only known parameters travel back)."""
    query: dict[str, str] = {}
    if unread_only:
        query["show"] = SHOW_UNREAD
    if page and page.isdigit() and page != "1":
        query["page"] = page
    url = reverse("notifications:inbox")
    return f"{url}?{urlencode(query)}" if query else url


@authenticated
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    unread_only = request.GET.get("show") == SHOW_UNREAD
    rows = notification_list(user=user, unread=True if unread_only else None)
    page = Paginator(rows, INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    unread = page.paginator.count if unread_only else notification_unread_count(user=user)
    return render(
        request,
        "notifications/inbox.html",
        {
            "page": page,
            "unread_only": unread_only,
            # also read by the header's unread link, so that this page counts once
            "notifications_unread_count": unread,
            "query_string": f"show={SHOW_UNREAD}" if unread_only else "",
        },
    )


@authenticated
@require_POST
def read(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = cast(User, request.user)
    notification = access_notification_by_public_id(user, public_id)
    notification_mark_read(user=user, notification=notification)
    return redirect(
        _inbox_url(
            unread_only=request.POST.get("show") == SHOW_UNREAD, page=request.POST.get("page")
        )
    )


@authenticated
@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    notifications_mark_all_read(user=cast(User, request.user))
    return redirect(_inbox_url(unread_only=request.POST.get("show") == SHOW_UNREAD, page=None))


@outbox_reader_required
@require_GET
def outbox(request: HttpRequest) -> HttpResponse:
    """What was sent, recorded or failed, newest first; masked addresses only. Each page
    shown is logged in the audit trail (staff reading other people's messages)."""
    status = request.GET.get("status") or None
    channel = request.GET.get("channel") or None
    status = status if status in OutboundMessage.Status.values else None
    channel = channel if channel in OutboundMessage.Channel.values else None
    rows = outbound_message_list(status=status, channel=channel)
    page = Paginator(rows, OUTBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    messages = list(page.object_list)
    outbound_messages_read_log(
        actor=cast(User, request.user), messages=messages, purpose=OUTBOX_READ_PURPOSE
    )
    query = urlencode({k: v for k, v in (("status", status), ("channel", channel)) if v})
    return render(
        request,
        "notifications/outbox.html",
        {
            "page": page,
            "messages_shown": messages,
            "status": status or "",
            "channel": channel or "",
            "statuses": OutboundMessage.Status.choices,
            "channels": OutboundMessage.Channel.choices,
            "status_counts": outbound_status_counts(),
            "query_string": query,
        },
    )
