"""我的消息 (/notifications/) and the staff outbox page (/notifications/outbox/)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from yiwang.accounts.models import User
from yiwang.accounts.tests.factories import DelegationFactory, UserFactory
from yiwang.core.models import AuditEntry
from yiwang.notifications.models import Notification, OutboundMessage
from yiwang.notifications.tests.conftest import EMAIL, PHONE, signed_in
from yiwang.notifications.tests.factories import NotificationFactory, OutboundMessageFactory

pytestmark = pytest.mark.django_db

INBOX = "/notifications/"
READ_ALL = "/notifications/read-all/"
OUTBOX = "/notifications/outbox/"


def _read_url(notification: Notification) -> str:
    return f"/notifications/{notification.public_id}/read/"


def _header_link(html: str) -> str:
    match = re.search(r'<a class="tool-link" id="unread-count"[^>]*>.*?</a>', html)
    assert match is not None
    return match.group(0)


# --- 我的消息 -------------------------------------------------------------------------------


def test_the_urls_are_where_the_links_point():
    assert reverse("notifications:inbox") == INBOX
    assert reverse("notifications:read_all") == READ_ALL
    assert reverse("notifications:outbox") == OUTBOX


@pytest.mark.parametrize("url", [INBOX, OUTBOX])
def test_anonymous_visitors_are_sent_to_sign_in(client: Client, url: str):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url}"


def test_the_inbox_lists_only_ones_own_notifications_newest_first(
    citizen: User, other_citizen: User
):
    first = NotificationFactory.create(recipient=citizen, title="材料已收到")
    second = NotificationFactory.create(recipient=citizen, title="您的申请已受理")
    NotificationFactory.create(recipient=other_citizen, title="别人的消息")

    response = signed_in(citizen).get(INBOX)

    html = response.content.decode()
    assert response.status_code == 200
    assert [n.pk for n in response.context["page"].object_list] == [second.pk, first.pk]
    assert "别人的消息" not in html
    assert "共 2 条消息，2 条未读" in html
    assert f'action="{_read_url(second)}"' in html


def test_the_header_shows_the_unread_count_on_every_page(citizen: User):
    NotificationFactory.create_batch(3, recipient=citizen)
    NotificationFactory.create(recipient=citizen, read_at="2026-01-01T00:00:00+08:00")

    html = signed_in(citizen).get("/accounts/me/").content.decode()

    assert _header_link(html) == (
        '<a class="tool-link" id="unread-count" href="/notifications/">我的消息&nbsp;'
        '<span class="badge">3</span><span class="visually-hidden">条未读</span></a>'
    )


def test_the_header_link_has_no_badge_when_all_is_read(citizen: User):
    html = signed_in(citizen).get("/accounts/me/").content.decode()

    assert _header_link(html) == (
        '<a class="tool-link" id="unread-count" href="/notifications/">我的消息</a>'
    )


def test_the_header_counts_with_one_count_query(citizen: User):
    NotificationFactory.create_batch(5, recipient=citizen)
    client = signed_in(citizen)

    with CaptureQueriesContext(connection) as queries:
        client.get("/accounts/me/")

    on_notifications = [q["sql"] for q in queries if "notifications_notification" in q["sql"]]
    assert len(on_notifications) == 1
    assert on_notifications[0].startswith("SELECT COUNT(*)")


def test_the_unread_count_uses_the_partial_index(citizen: User):
    NotificationFactory.create_batch(3, recipient=citizen)
    unread = Notification.objects.filter(recipient_id=citizen.pk, read_at__isnull=True)

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # a three-row table is cheaper to scan: ask the planner what it would use at scale
            cursor.execute("SET LOCAL enable_seqscan = off")
        plan = unread.explain()

    assert "notification_unread_idx" in plan


def test_the_inbox_counts_once_for_page_and_header(citizen: User):
    NotificationFactory.create_batch(3, recipient=citizen)
    client = signed_in(citizen)

    with CaptureQueriesContext(connection) as queries:
        client.get(INBOX)

    counts = [q["sql"] for q in queries if q["sql"].startswith("SELECT COUNT(*)")]
    # the paginator's total and the unread count; the header reuses the latter
    assert len(counts) == 2


def test_the_inbox_query_count_does_not_grow_with_the_rows(citizen: User):
    elder = UserFactory.create(real_name="李秀英")
    DelegationFactory.create(principal=elder, agent=citizen)
    NotificationFactory.create_batch(2, recipient=citizen, principal=elder)
    client = signed_in(citizen)
    with CaptureQueriesContext(connection) as few:
        client.get(INBOX)
    NotificationFactory.create_batch(15, recipient=citizen, principal=elder)

    with CaptureQueriesContext(connection) as many:
        client.get(INBOX)

    assert len(many) == len(few)


def test_the_principal_is_shown_masked(citizen: User):
    elder = UserFactory.create(real_name="李秀英")
    NotificationFactory.create(recipient=citizen, principal=elder)

    html = signed_in(citizen).get(INBOX).content.decode()

    assert "代办：李** 的事项" in html
    assert "李秀英" not in html


def test_the_unread_filter_and_pagination(citizen: User):
    NotificationFactory.create_batch(22, recipient=citizen)
    NotificationFactory.create_batch(3, recipient=citizen, read_at="2026-01-01T00:00:00+08:00")
    client = signed_in(citizen)

    unread = client.get(INBOX, {"show": "unread"})
    second_page = client.get(INBOX, {"page": "2"})

    assert unread.context["page"].paginator.count == 22
    assert all(n.read_at is None for n in unread.context["page"].object_list)
    assert len(second_page.context["page"].object_list) == 5
    assert "第 2 页，共 2 页" in second_page.content.decode()


def test_marking_one_read_goes_back_to_the_same_list(citizen: User):
    notification = NotificationFactory.create(recipient=citizen)
    NotificationFactory.create(recipient=citizen)

    response = signed_in(citizen).post(_read_url(notification), {"show": "unread", "page": "2"})

    assert response.status_code == 302
    assert response["Location"] == "/notifications/?show=unread&page=2"
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert Notification.objects.filter(recipient=citizen, read_at__isnull=True).count() == 1


def test_marking_read_again_keeps_the_first_time(citizen: User):
    notification = NotificationFactory.create(recipient=citizen)
    client = signed_in(citizen)
    client.post(_read_url(notification))
    notification.refresh_from_db()
    first = notification.read_at

    client.post(_read_url(notification))

    notification.refresh_from_db()
    assert notification.read_at == first


def test_another_persons_notification_is_not_found_and_stays_unread(
    citizen: User, other_citizen: User, platform_admin: User
):
    theirs = NotificationFactory.create(recipient=other_citizen)

    for user in (citizen, platform_admin):
        response = signed_in(user).post(_read_url(theirs))
        assert response.status_code == 404
        assert "找不到该消息，或您无权查看。" in response.content.decode()

    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_an_unknown_id_is_not_found(citizen: User):
    response = signed_in(citizen).post("/notifications/00000000-0000-0000-0000-000000000000/read/")

    assert response.status_code == 404


def test_marking_read_takes_a_post(citizen: User):
    notification = NotificationFactory.create(recipient=citizen)

    response = signed_in(citizen).get(_read_url(notification))

    assert response.status_code == 405
    notification.refresh_from_db()
    assert notification.read_at is None


def test_a_post_without_the_csrf_token_is_refused(citizen: User):
    notification = NotificationFactory.create(recipient=citizen)
    client = signed_in(citizen, enforce_csrf_checks=True)

    for url in (_read_url(notification), READ_ALL):
        assert client.post(url).status_code == 403

    notification.refresh_from_db()
    assert notification.read_at is None


def test_a_post_with_the_csrf_token_is_accepted(citizen: User):
    notification = NotificationFactory.create(recipient=citizen)
    client = signed_in(citizen, enforce_csrf_checks=True)
    client.get(INBOX)

    response = client.post(
        _read_url(notification), {"csrfmiddlewaretoken": client.cookies["csrftoken"].value}
    )

    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_mark_all_read_touches_only_ones_own(citizen: User, other_citizen: User):
    NotificationFactory.create_batch(3, recipient=citizen)
    theirs = NotificationFactory.create(recipient=other_citizen)

    response = signed_in(citizen).post(READ_ALL, {"show": "unread"})

    assert response.status_code == 302
    assert response["Location"] == "/notifications/?show=unread"
    assert Notification.objects.filter(recipient=citizen, read_at__isnull=True).count() == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_forms_post_in_place_with_htmx_and_update_the_header(citizen: User):
    NotificationFactory.create(recipient=citizen)

    html = signed_in(citizen).get(INBOX).content.decode()

    assert html.count('hx-select-oob="#unread-count"') == 2  # mark one, mark all
    assert html.count('hx-select="#notifications-page"') == 2
    assert html.count('<div id="notifications-page">') == 1


def test_staff_have_an_inbox_too(approver: User):
    NotificationFactory.create(recipient=approver, title="您有新的审批任务")

    response = signed_in(approver).get(INBOX)

    assert response.status_code == 200
    assert "您有新的审批任务" in response.content.decode()


# --- the staff outbox page ------------------------------------------------------------------


@pytest.mark.parametrize("who", ["citizen", "plain_staff", "approver"])
def test_the_outbox_is_refused_to_citizens_and_staff_without_the_role(request, who: str):
    OutboundMessageFactory.create()
    user = request.getfixturevalue(who)

    response = signed_in(user).get(OUTBOX)

    assert response.status_code == 403
    assert "<h1>没有访问权限</h1>" in response.content.decode()
    assert not AuditEntry.objects.filter(action="notifications.outbox_read").exists()


@pytest.mark.parametrize("who", ["auditor", "platform_admin"])
def test_auditors_and_administrators_read_the_outbox_with_masked_addresses(
    request, citizen: User, who: str
):
    # given an SMS and an email to the citizen
    note = NotificationFactory.create(recipient=citizen, title="您的申请已受理")
    OutboundMessageFactory.create(notification=note, body="【六安市一网通办】您的申请已受理")
    OutboundMessageFactory.create(
        notification=note,
        channel="email",
        address=EMAIL,
        address_masked="z*******@example.com",
        status="failed",
        attempts=8,
        last_error="DeliveryFailed: 短信网关返回 HTTP 500",
    )
    reader = request.getfixturevalue(who)

    # when
    response = signed_in(reader).get(OUTBOX)

    # then both are listed with masked addresses and masked names only
    html = response.content.decode()
    assert response.status_code == 200
    assert "138****5678" in html
    assert "z*******@example.com" in html
    assert PHONE not in html
    assert EMAIL not in html
    assert "张三丰" not in html
    assert "张**" in html
    assert "DeliveryFailed: 短信网关返回 HTTP 500" in html
    assert "【六安市一网通办】您的申请已受理" in html
    # and the read is in the audit trail, naming whose messages were read
    entry = AuditEntry.objects.get(action="notifications.outbox_read")
    assert (entry.actor_id, entry.reason) == (reader.pk, "核查短信和邮件发送情况")
    assert entry.after is not None
    assert entry.after["recipient_ids"] == [citizen.pk]
    assert sorted(entry.after["messages"]) == sorted(
        str(m.public_id) for m in OutboundMessage.objects.all()
    )


def test_the_outbox_never_loads_the_encrypted_address(auditor: User):
    OutboundMessageFactory.create_batch(2)
    client = signed_in(auditor)

    with CaptureQueriesContext(connection) as queries:
        client.get(OUTBOX)

    selects = [q["sql"] for q in queries if 'FROM "notifications_outboundmessage"' in q["sql"]]
    assert selects
    assert all('"notifications_outboundmessage"."address",' not in sql for sql in selects)
    assert all('"notifications_outboundmessage"."address" ' not in sql for sql in selects)


def test_the_outbox_filters_by_status_and_channel_and_ignores_unknown_values(auditor: User):
    OutboundMessageFactory.create(status="recorded")
    failed = OutboundMessageFactory.create(status="failed", channel="email", address=EMAIL)
    client = signed_in(auditor)

    by_status = client.get(OUTBOX, {"status": "failed"})
    by_channel = client.get(OUTBOX, {"channel": "email"})
    unknown = client.get(OUTBOX, {"status": "exploded", "channel": "pigeon"})

    assert [m.pk for m in by_status.context["messages_shown"]] == [failed.pk]
    assert [m.pk for m in by_channel.context["messages_shown"]] == [failed.pk]
    assert len(unknown.context["messages_shown"]) == 2
    assert "发送失败（1）" in by_status.content.decode()


def test_the_outbox_query_count_does_not_grow_with_the_rows(auditor: User):
    OutboundMessageFactory.create_batch(2)
    client = signed_in(auditor)
    with CaptureQueriesContext(connection) as few:
        client.get(OUTBOX)
    OutboundMessageFactory.create_batch(12)

    with CaptureQueriesContext(connection) as many:
        client.get(OUTBOX)

    assert len(many) == len(few)


def test_an_empty_outbox_page_writes_no_audit_row(auditor: User):
    response = signed_in(auditor).get(OUTBOX)

    assert response.status_code == 200
    assert "没有符合条件的发送记录。" in response.content.decode()
    assert not AuditEntry.objects.filter(action="notifications.outbox_read").exists()
