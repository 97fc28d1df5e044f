"""The world of the evaluation tests: a bureau under the city government, another bureau,
the people who rate and the staff who answer and supervise."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from yiwang.accounts.models import Department, Role, User
from yiwang.accounts.tests.factories import (
    DepartmentFactory,
    RoleAssignmentFactory,
    StaffFactory,
    UserFactory,
    staff_with_role,
)
from yiwang.catalog.models import ServiceItem
from yiwang.catalog.tests.factories import PublishedVersionFactory
from yiwang.evaluation.models import Channel, Invitation
from yiwang.evaluation.services import rating_invite

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def signed_in(user: User | None, **client_kwargs: Any) -> Client:
    client = Client(**client_kwargs)
    if user is not None:
        client.force_login(user, backend=MODEL_BACKEND)
    return client


@pytest.fixture
def city(db: None) -> Department:
    return DepartmentFactory(code="la-city", name="六安市人民政府", kind=Department.Kind.GOVERNMENT)


@pytest.fixture
def bureau(city: Department) -> Department:
    return DepartmentFactory(code="la-scjgj", name="六安市市场监督管理局", parent=city)


@pytest.fixture
def other_bureau(db: None) -> Department:
    # not under the city node of this test world: the city supervisor does not see it
    return DepartmentFactory(code="la-gaj", name="六安市公安局")


@pytest.fixture
def rater(db: None) -> User:
    return UserFactory(real_name="张三丰", phone="13812345678")


@pytest.fixture
def other_citizen(db: None) -> User:
    return UserFactory(real_name="王五")


@pytest.fixture
def clerk(bureau: Department) -> User:
    """A window clerk of the responsible bureau: answers its bad reviews."""
    return staff_with_role(Role.WINDOW_CLERK, bureau, real_name="陈受理")


@pytest.fixture
def other_clerk(other_bureau: Department) -> User:
    return staff_with_role(Role.APPROVER, other_bureau, real_name="吴审批")


@pytest.fixture
def supervisor(city: Department) -> User:
    """A supervisor of the city government and everything under it."""
    user = StaffFactory(department=city, real_name="王督办")
    RoleAssignmentFactory(user=user, role=Role.SUPERVISOR, department=city, include_subtree=True)
    return user


@pytest.fixture
def other_supervisor(other_bureau: Department) -> User:
    return staff_with_role(Role.SUPERVISOR, other_bureau, real_name="赵督办")


@pytest.fixture
def roleless_staff(bureau: Department) -> User:
    """Staff of the bureau without any role: neither answers nor supervises."""
    return StaffFactory(department=bureau, real_name="钱无岗")


@pytest.fixture
def item(bureau: Department) -> ServiceItem:
    version = PublishedVersionFactory(name="个体工商户设立登记", item__department=bureau)
    found: ServiceItem = version.item
    return found


def invite(
    *, rater: User, department: Department, item: ServiceItem | None = None, subject_id: str = ""
) -> Invitation:
    import uuid

    from django.db import transaction

    with transaction.atomic():
        return rating_invite(
            subject_kind="application",
            subject_id=subject_id or str(uuid.uuid4()),
            rater=rater,
            department=department,
            item=item,
            title="个体工商户设立登记",
            channel=Channel.ONLINE,
        )


@pytest.fixture
def invitation(rater: User, bureau: Department, item: ServiceItem) -> Invitation:
    return invite(rater=rater, department=bureau, item=item)
