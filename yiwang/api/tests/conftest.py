"""People and credentials for the API tests: each principal of the authorization matrix."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from yiwang.accounts.models import ApiToken, User
from yiwang.accounts.selectors import id_number_blind_index, phone_blind_index
from yiwang.accounts.services import api_token_create, api_token_revoke
from yiwang.accounts.tests.factories import (
    DepartmentFactory,
    StaffFactory,
    UserFactory,
    make_id_number,
)

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def signed_in(user: User, **client_kwargs: object) -> Client:
    client = Client(**client_kwargs)  # type: ignore[arg-type]
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def bearer(raw: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {raw}"})


def personal_token(user: User, *, name: str = "ci") -> tuple[ApiToken, str]:
    return api_token_create(actor=user, user=user, kind=ApiToken.Kind.PERSONAL, name=name)


@pytest.fixture
def citizen(db: None) -> User:
    number = make_id_number(19, birth="19850102")  # UserFactory uses 19850101
    user: User = UserFactory.create(
        real_name="张三丰",
        id_number=number,
        id_number_index=id_number_blind_index(number),
        phone="13812345678",
        phone_index=phone_blind_index("13812345678"),
    )
    return user


@pytest.fixture
def staff(db: None) -> User:
    user: User = StaffFactory.create(
        real_name="李四", department=DepartmentFactory(code="lasjzj", name="六安市数据资源局")
    )
    return user


@pytest.fixture
def valid_token(staff: User) -> str:
    return personal_token(staff)[1]


@pytest.fixture
def expired_token(staff: User) -> str:
    token, raw = personal_token(staff, name="expired")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    return raw


@pytest.fixture
def revoked_token(staff: User) -> str:
    token, raw = personal_token(staff, name="revoked")
    api_token_revoke(actor=staff, token=token)
    return raw


# The principals of the authorization matrix, each a fixture returning a Client.
@pytest.fixture
def as_anonymous(db: None) -> Client:
    return Client()


@pytest.fixture
def as_citizen(citizen: User) -> Client:
    return signed_in(citizen)


@pytest.fixture
def as_staff(staff: User) -> Client:
    return signed_in(staff)


@pytest.fixture
def as_bearer_valid(valid_token: str) -> Client:
    return bearer(valid_token)


@pytest.fixture
def as_bearer_expired(expired_token: str) -> Client:
    return bearer(expired_token)


@pytest.fixture
def as_bearer_revoked(revoked_token: str) -> Client:
    return bearer(revoked_token)


@pytest.fixture
def as_bearer_garbage(db: None) -> Client:
    return bearer("yw_this-is-not-a-token")
