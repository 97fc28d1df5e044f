"""Administrators edit the calendar in the Django admin; every edit is audited and changes the
next deadline computed; the audit trail and the outbox are read-only there."""

from __future__ import annotations

import importlib
from datetime import date

import pytest
from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse

from yiwang.core.audit import audit_record
from yiwang.core.calendar import calendar_next_year_check, work_calendar_load
from yiwang.core.models import AuditEntry, CalendarDay, CalendarYear, OutboxMessage

pytestmark = pytest.mark.django_db


def calendar_audit():
    # Signing in writes its own audit rows (accounts.login); these tests look at the calendar's.
    return AuditEntry.objects.filter(action__startswith="calendar.")


@pytest.fixture(autouse=True)
def seeded(db):
    if not CalendarYear.objects.exists():
        seed = importlib.import_module("yiwang.core.migrations.0002_calendar_seed")
        seed.seed(django_apps, None)


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser(
        username="calendar-admin", password="x", email="admin@example.org"
    )


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_the_day_list_filters_by_year_and_kind_and_searches(admin_client):
    url = reverse("admin:core_calendarday_changelist")
    page = admin_client.get(url, {"year": "2025", "kind": "workday"})
    assert page.status_code == 200
    shown = {d.date for d in page.context["cl"].result_list}
    assert shown == set(
        CalendarDay.objects.filter(date__year=2025, kind="workday").values_list("date", flat=True)
    )
    assert date(2025, 10, 11) in shown
    found = admin_client.get(url, {"q": "中秋", "year": "2025"})
    assert {d.date for d in found.context["cl"].result_list} == {date(2025, 10, 6)}


def test_adding_a_holiday_is_audited_and_changes_deadlines(admin_client, admin_user):
    assert work_calendar_load().add_working_days(date(2025, 10, 8), 1).due == date(2025, 10, 9)

    response = admin_client.post(
        reverse("admin:core_calendarday_add"),
        {"date": "2025-10-09", "kind": "holiday", "name": "临时休假", "_save": "保存"},
    )

    assert response.status_code == 302
    day = CalendarDay.objects.get(date=date(2025, 10, 9))
    assert (day.kind, day.name, day.source) == ("holiday", "临时休假", "admin")
    entry = AuditEntry.objects.get(action="calendar.day_changed")
    assert (entry.actor_id, entry.object_type, entry.object_id) == (
        admin_user.pk,
        "core.calendarday",
        str(day.pk),
    )
    assert entry.before is None
    assert entry.after == {
        "date": "2025-10-09",
        "kind": "holiday",
        "name": "临时休假",
        "source": "admin",
    }
    assert work_calendar_load().add_working_days(date(2025, 10, 8), 1).due == date(2025, 10, 10)


def test_changing_a_seeded_day_records_before_and_after(admin_client):
    day = CalendarDay.objects.get(date=date(2024, 9, 29))

    response = admin_client.post(
        reverse("admin:core_calendarday_change", args=[day.pk]),
        {"date": "2024-09-29", "kind": "holiday", "name": "国庆节", "_save": "保存"},
    )

    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="calendar.day_changed")
    assert entry.before == {
        "date": "2024-09-29",
        "kind": "workday",
        "name": "国庆节",
        "source": "seed",
    }
    assert entry.after == {
        "date": "2024-09-29",
        "kind": "holiday",
        "name": "国庆节",
        "source": "admin",
    }
    assert not work_calendar_load().is_working_day(date(2024, 9, 29))


def test_deleting_a_day_is_audited(admin_client):
    day = CalendarDay.objects.get(date=date(2024, 10, 12))
    pk = day.pk

    response = admin_client.post(
        reverse("admin:core_calendarday_delete", args=[pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not CalendarDay.objects.filter(pk=pk).exists()
    entry = AuditEntry.objects.get(action="calendar.day_changed")
    assert (entry.object_id, entry.after) == (str(pk), None)
    assert entry.before is not None
    assert entry.before["kind"] == "workday"
    assert not work_calendar_load().is_working_day(date(2024, 10, 12))


def test_bulk_deleting_days_audits_each_one(admin_client):
    pks = list(
        CalendarDay.objects.filter(date__year=2004, kind="workday").values_list("pk", flat=True)
    )

    response = admin_client.post(
        reverse("admin:core_calendarday_changelist"),
        {"action": "delete_selected", "_selected_action": pks, "post": "yes"},
    )

    assert response.status_code == 302
    assert not CalendarDay.objects.filter(pk__in=pks).exists()
    audited = AuditEntry.objects.filter(action="calendar.day_changed")
    assert sorted(audited.values_list("object_id", flat=True)) == sorted(map(str, pks))


def test_a_make_up_workday_on_a_weekday_is_refused_and_changes_nothing(admin_client):
    days_before = CalendarDay.objects.count()

    response = admin_client.post(
        reverse("admin:core_calendarday_add"),
        {"date": "2025-10-14", "kind": "workday", "name": "", "_save": "保存"},
    )

    assert response.status_code == 200
    assert "调休上班日应为周六或周日：2025-10-14 本来就是工作日。" in response.content.decode()
    assert CalendarDay.objects.count() == days_before
    assert not calendar_audit().exists()


def test_a_day_for_a_missing_year_creates_no_year(admin_client):
    response = admin_client.post(
        reverse("admin:core_calendarday_add"),
        {"date": "2027-02-06", "kind": "holiday", "name": "春节", "_save": "保存"},
    )

    assert response.status_code == 302
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert work_calendar_load().add_working_days(date(2027, 2, 5), 1).provisional_years == (2027,)


def test_a_year_added_in_the_admin_starts_unofficial(admin_client):
    form = admin_client.get(reverse("admin:core_calendaryear_add"))
    assert form.context["adminform"].form.initial["official"] is False

    response = admin_client.post(
        reverse("admin:core_calendaryear_add"),
        {"year": "2027", "notice": "国办发明电〔2026〕号", "_save": "保存"},
    )

    assert response.status_code == 302
    year = CalendarYear.objects.get(year=2027)
    assert (year.official, year.source) == (False, "admin")
    entry = AuditEntry.objects.get(action="calendar.year_changed")
    assert entry.after == {
        "year": 2027,
        "official": False,
        "source": "admin",
        "notice": "国办发明电〔2026〕号",
    }


def test_marking_a_year_official_is_an_audited_action(admin_client):
    CalendarDay.objects.create(date=date(2027, 1, 1), kind="holiday", name="元旦")
    year = CalendarYear.objects.create(year=2027, official=False, source="admin")
    seeded = CalendarYear.objects.get(year=2026)
    assert calendar_next_year_check(today=date(2026, 11, 26)) is not None

    response = admin_client.post(
        reverse("admin:core_calendaryear_changelist"),
        {"action": "mark_official", "_selected_action": [year.pk, seeded.pk]},
    )

    assert response.status_code == 302
    year.refresh_from_db()
    assert year.official is True
    entries = list(calendar_audit())
    assert [(e.action, e.object_id) for e in entries] == [
        ("calendar.year_marked_official", str(year.pk))
    ]
    assert (entries[0].before["official"], entries[0].after["official"]) == (False, True)
    cal = work_calendar_load()
    assert not cal.is_working_day(date(2027, 1, 1))
    assert cal.add_working_days(date(2026, 12, 31), 1).provisional is False
    assert calendar_next_year_check(today=date(2026, 11, 27)) is None


def test_staff_without_permission_cannot_edit_the_calendar(client):
    clerk = get_user_model().objects.create_user(username="clerk", password="x", is_staff=True)
    client.force_login(clerk)

    response = client.post(
        reverse("admin:core_calendarday_add"),
        {"date": "2025-10-09", "kind": "holiday", "name": "x", "_save": "保存"},
    )

    assert response.status_code == 403
    assert not CalendarDay.objects.filter(date=date(2025, 10, 9)).exists()
    assert not calendar_audit().exists()


def test_the_audit_trail_is_read_only_in_the_admin(admin_client, admin_user):
    with transaction.atomic():
        entry = audit_record(actor=admin_user, action="test.something", object_type="x")
    rows_before = AuditEntry.objects.count()
    changelist = admin_client.get(reverse("admin:core_auditentry_changelist"))
    assert changelist.status_code == 200
    assert "test.something" in changelist.content.decode()

    view = admin_client.get(reverse("admin:core_auditentry_change", args=[entry.pk]))
    assert view.status_code == 200
    assert 'name="_save"' not in view.content.decode()
    assert admin_client.get(reverse("admin:core_auditentry_add")).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:core_auditentry_change", args=[entry.pk]), {"action": "forged"}
        ).status_code
        == 403
    )
    assert (
        admin_client.post(
            reverse("admin:core_auditentry_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    entry.refresh_from_db()
    assert entry.action == "test.something"
    assert AuditEntry.objects.count() == rows_before


def test_the_outbox_is_read_only_in_the_admin(admin_client):
    calendar_next_year_check(today=date(2026, 11, 26))
    message = OutboxMessage.objects.get()

    changelist = admin_client.get(reverse("admin:core_outboxmessage_changelist"))
    assert changelist.status_code == 200
    assert "admin.notice" in changelist.content.decode()
    assert admin_client.get(reverse("admin:core_outboxmessage_add")).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:core_outboxmessage_delete", args=[message.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert OutboxMessage.objects.filter(pk=message.pk).exists()
