"""Roles that work in the Django admin get exactly the access their role needs, derived from
their role assignments: granted with the role, gone with it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from yiwang.accounts import services
from yiwang.accounts.models import Role
from yiwang.accounts.tests.factories import (
    DepartmentFactory,
    StaffFactory,
    admin_user,
)

pytestmark = pytest.mark.django_db

AUDIT_TRAIL = reverse("admin:core_auditentry_changelist")
CALENDAR = reverse("admin:core_calendarday_changelist")


def _grant(role, department=None):
    user = StaffFactory(department=department or DepartmentFactory())
    services.role_grant(actor=admin_user(), user=user, role=role, department=department)
    user.refresh_from_db()
    return user


def test_auditor_reads_the_audit_trail_in_the_admin_but_cannot_edit_the_calendar(client):
    auditor = _grant(Role.AUDITOR)
    client.force_login(auditor)

    assert auditor.is_staff is True
    assert client.get(AUDIT_TRAIL).status_code == 200
    assert client.get(CALENDAR).status_code == 403


def test_catalog_admin_edits_the_calendar_but_does_not_read_the_audit_trail(client):
    catalog = _grant(Role.CATALOG_ADMIN, department=DepartmentFactory())
    client.force_login(catalog)

    assert client.get(CALENDAR).status_code == 200
    assert catalog.has_perm("core.change_calendarday")
    assert client.get(AUDIT_TRAIL).status_code == 403


def test_an_approver_has_no_admin_access(client):
    approver = _grant(Role.APPROVER, department=DepartmentFactory())
    client.force_login(approver)

    assert approver.is_staff is False
    response = client.get(AUDIT_TRAIL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_revoking_the_role_takes_the_admin_access_away():
    auditor = _grant(Role.AUDITOR)
    assignment = auditor.role_assignments.get()

    services.role_revoke(actor=admin_user(), assignment=assignment, reason="调岗")

    auditor.refresh_from_db()
    assert auditor.is_staff is False
    assert auditor.user_permissions.count() == 0
