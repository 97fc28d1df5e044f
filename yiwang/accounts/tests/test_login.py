"""Password login through the real login page, with django-axes lockout, and the audit rows of
sign-in, sign-out, failed sign-in and lockout."""

from __future__ import annotations

import pytest
from django.urls import reverse

from yiwang.accounts.tests.factories import TEST_PASSWORD, StaffFactory, UserFactory
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def _login(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


def _actions():
    return list(AuditEntry.objects.values_list("action", flat=True))


def test_a_correct_password_signs_in_and_is_audited(client):
    user = UserFactory()

    response = _login(client, user.username, TEST_PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor_id, entry.object_id) == (
        "accounts.login",
        user.pk,
        str(user.pk),
    )


def test_a_wrong_password_is_refused_and_audited_without_the_password(client):
    user = UserFactory()

    response = _login(client, user.username, "wrong-password-1")

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor_id, entry.reason, entry.object_id) == (
        "accounts.login_failed",
        None,
        user.username,
        str(user.pk),
    )
    assert "wrong-password-1" not in str(entry.after)


def test_the_sixth_attempt_is_locked_out_even_with_the_right_password(client):
    user = UserFactory()
    for _ in range(5):
        _login(client, user.username, "wrong-password-1")

    response = _login(client, user.username, TEST_PASSWORD)

    assert response.status_code == 429
    page = response.content.decode()
    assert "锁定" in page
    assert "_auth_user_id" not in client.session
    actions = _actions()
    assert actions.count("accounts.login_failed") >= 5
    assert "accounts.login_locked_out" in actions
    assert "accounts.login" not in actions


def test_lockout_is_per_account_not_per_address(client):
    locked, other = UserFactory(), UserFactory()
    for _ in range(5):
        _login(client, locked.username, "wrong-password-1")

    response = _login(client, other.username, TEST_PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(other.pk)


def test_a_success_resets_the_failure_counter(client):
    user = UserFactory()
    for _ in range(4):
        _login(client, user.username, "wrong-password-1")
    assert _login(client, user.username, TEST_PASSWORD).status_code == 302
    client.post(reverse("accounts:logout"))
    for _ in range(4):
        _login(client, user.username, "wrong-password-1")

    response = _login(client, user.username, TEST_PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_logout_is_audited(client):
    user = UserFactory()
    _login(client, user.username, TEST_PASSWORD)

    client.post(reverse("accounts:logout"))

    assert _actions() == ["accounts.login", "accounts.logout"]
    assert "_auth_user_id" not in client.session


def test_staff_without_a_next_url_land_on_the_console(client):
    staff = StaffFactory()

    response = _login(client, staff.username, TEST_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/console/"


def test_citizens_without_a_next_url_land_on_the_portal_home(client):
    citizen = UserFactory()

    response = _login(client, citizen.username, TEST_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_a_next_url_on_another_site_is_ignored(client):
    staff = StaffFactory()

    response = client.post(
        LOGIN + "?next=https://evil.example/",
        {"username": staff.username, "password": TEST_PASSWORD},
    )

    assert response["Location"] == "/console/"
