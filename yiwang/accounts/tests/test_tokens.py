from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from yiwang.accounts import services
from yiwang.accounts.models import ApiToken
from yiwang.accounts.tests.factories import StaffFactory, SystemUserFactory, admin_user
from yiwang.core.errors import Conflict, PermissionDenied
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def _personal(**kwargs):
    staff = StaffFactory()
    token, raw = services.api_token_create(
        actor=staff, user=staff, kind="personal", name="脚本", **kwargs
    )
    return staff, token, raw


def test_a_valid_personal_token_authenticates_its_staff_member():
    staff, token, raw = _personal()

    assert services.api_token_authenticate(raw) == staff
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_an_integration_key_authenticates_its_system_user():
    system = SystemUserFactory()
    _token, raw = services.api_token_create(
        actor=admin_user(), user=system, kind="integration", name="12345 对接"
    )

    assert services.api_token_authenticate(raw) == system


@pytest.mark.parametrize("raw", ["", "Bearer", "yw_", "yw_not-a-real-token", "abc"])
def test_a_wrong_token_authenticates_nobody(raw):
    _personal()

    assert services.api_token_authenticate(raw) is None


def test_an_expired_token_authenticates_nobody():
    _staff, token, raw = _personal(expires_at=timezone.now() + timedelta(days=1))
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert services.api_token_authenticate(raw) is None
    token.refresh_from_db()
    assert token.last_used_at is None


def test_a_revoked_token_authenticates_nobody():
    staff, token, raw = _personal()

    services.api_token_revoke(actor=staff, token=token)

    assert services.api_token_authenticate(raw) is None
    assert AuditEntry.objects.filter(action="accounts.api_token_revoke").count() == 1


def test_a_deactivated_user_token_authenticates_nobody():
    staff, _token, raw = _personal()
    staff.is_active = False
    staff.save(update_fields=["is_active"])

    assert services.api_token_authenticate(raw) is None


def test_a_personal_token_of_a_user_who_became_a_citizen_authenticates_nobody():
    staff, _token, raw = _personal()
    staff.kind = "citizen"
    staff.save(update_fields=["kind"])

    assert services.api_token_authenticate(raw) is None


def test_last_used_at_is_written_at_most_once_a_minute():
    _staff, token, raw = _personal()
    services.api_token_authenticate(raw)
    token.refresh_from_db()
    first = token.last_used_at

    services.api_token_authenticate(raw)
    token.refresh_from_db()
    assert token.last_used_at == first

    earlier = first - timedelta(minutes=2)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=earlier)
    services.api_token_authenticate(raw)
    token.refresh_from_db()
    assert token.last_used_at > earlier


def test_revoke_twice_or_by_a_stranger_is_refused():
    staff, token, _raw = _personal()

    with pytest.raises(PermissionDenied):
        services.api_token_revoke(actor=StaffFactory(), token=token)
    token.refresh_from_db()
    assert token.revoked_at is None

    services.api_token_revoke(actor=staff, token=token)
    with pytest.raises(Conflict) as caught:
        services.api_token_revoke(actor=staff, token=token)

    assert caught.value.code == "accounts.token_revoked"
    assert AuditEntry.objects.filter(action="accounts.api_token_revoke").count() == 1
