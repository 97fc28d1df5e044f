"""selectors.delegation_list: one queryset for both sides, with role and status annotated."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from yiwang.accounts.selectors import delegation_list, delegation_status
from yiwang.accounts.tests.factories import DelegationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_annotated_status_and_role_agree_with_the_python_rules():
    # given a citizen with delegations in every state on both sides
    me = UserFactory()
    now = timezone.now()
    made = [
        DelegationFactory(principal=me),
        DelegationFactory(agent=me),
        DelegationFactory(principal=me, starts_at=now - timedelta(days=9), expires_at=now),
        DelegationFactory(agent=me, revoked_at=now - timedelta(seconds=1)),
        # revoked after it expired: revoked wins, as in delegation_status
        DelegationFactory(
            principal=me,
            starts_at=now - timedelta(days=9),
            expires_at=now - timedelta(days=2),
            revoked_at=now - timedelta(days=1),
        ),
    ]
    DelegationFactory()  # someone else's
    # when
    # (django-stubs cannot see annotations made inside another function)
    rows = list(delegation_list(user=me).values_list("pk", "role", "status"))  # type: ignore[misc]
    # then, newest first
    assert [pk for pk, _, _ in rows] == sorted((d.pk for d in made), reverse=True)
    by_pk = {d.pk: d for d in made}
    for pk, role, status in rows:
        assert status == delegation_status(by_pk[pk]).value
        assert role == ("given" if by_pk[pk].principal_id == me.pk else "held")


@pytest.mark.parametrize(("role", "status"), [("mine", None), (None, "pending")])
def test_unknown_filters_are_a_programming_error(role: str | None, status: str | None):
    with pytest.raises(ValueError, match="unknown delegation"):
        delegation_list(user=UserFactory(), role=role, status=status)
