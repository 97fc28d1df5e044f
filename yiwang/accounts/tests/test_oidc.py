"""The OIDC claim mapping, tested directly (no identity provider runs here)."""

from __future__ import annotations

import pytest

from yiwang.accounts.models import User
from yiwang.accounts.oidc import CityOIDCBackend, oidc_claims_to_identity
from yiwang.accounts.tests.factories import UserFactory, make_id_number
from yiwang.core.errors import ValidationError
from yiwang.core.models import AuditEntry

NUMBER = make_id_number(321, region="341524", birth="19751010")


def _claims(**overrides):
    return {"sub": "idp-0001", "name": "刘大山", "id_number": NUMBER, **overrides}


def test_claims_map_to_an_identity():
    identity = oidc_claims_to_identity(
        _claims(id_number=NUMBER.lower(), phone_number="+86 13912345678")
    )

    assert identity.subject == "idp-0001"
    assert identity.real_name == "刘大山"
    assert identity.id_number == NUMBER
    assert identity.phone == "13912345678"


def test_an_unusable_phone_claim_is_dropped():
    assert oidc_claims_to_identity(_claims(phone_number="010-1234")).phone == ""


def test_the_id_number_claim_name_is_configurable(settings):
    settings.YIWANG_OIDC_ID_NUMBER_CLAIM = "idcard"

    identity = oidc_claims_to_identity({"sub": "x", "name": "刘大山", "idcard": NUMBER})

    assert identity.id_number == NUMBER


@pytest.mark.parametrize(
    ("overrides", "code", "missing"),
    [
        ({"id_number": ""}, "accounts.sso_claims", ["id_number"]),
        ({"sub": None, "name": " "}, "accounts.sso_claims", ["sub", "name"]),
        (
            {"id_number": NUMBER[:17] + "0" if NUMBER[17] != "0" else NUMBER[:17] + "1"},
            "core.id_number_invalid",
            None,
        ),
    ],
)
def test_bad_claims_are_refused_with_a_clear_error(overrides, code, missing):
    with pytest.raises(ValidationError) as caught:
        oidc_claims_to_identity(_claims(**overrides))

    assert caught.value.code == code
    if missing:
        assert caught.value.extra["missing"] == missing
        assert "统一身份认证" in str(caught.value.message)


@pytest.mark.django_db
def test_backend_matches_an_existing_citizen_by_id_number():
    citizen = UserFactory(id_number=NUMBER)
    backend = CityOIDCBackend()

    assert backend.verify_claims(_claims()) is True
    assert list(backend.filter_users_by_claims(_claims())) == [citizen]
    assert backend.verify_claims(_claims(id_number="")) is False
    assert list(backend.filter_users_by_claims(_claims(id_number="bad"))) == []


@pytest.mark.django_db
def test_backend_creates_a_verified_citizen_at_first_sign_in_and_updates_later():
    backend = CityOIDCBackend()

    user = backend.create_user(_claims())

    assert (user.kind, user.real_name, user.id_number) == ("citizen", "刘大山", NUMBER)
    assert user.real_name_verified_at is not None
    assert not user.has_usable_password()
    assert AuditEntry.objects.get().action == "accounts.citizen_sso_register"

    again = backend.update_user(user, _claims(name="刘大山"))
    assert again == user
    assert AuditEntry.objects.count() == 1

    backend.update_user(user, _claims(name="刘山"))
    assert User.objects.get(pk=user.pk).real_name == "刘山"
    assert AuditEntry.objects.order_by("-seq")[0].action == "accounts.citizen_sso_update"
    assert User.objects.count() == 1
