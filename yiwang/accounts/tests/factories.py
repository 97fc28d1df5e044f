"""factory_boy factories for accounts (other apps import these).

Factories write rows directly, without the services' checks and audit rows: use them to set
up a test's world, and call the services for the behaviour under test.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import factory
from django.utils import timezone
from stdnum.cn import ric, uscc

from yiwang.accounts.models import (
    ApiToken,
    Delegation,
    Department,
    Enterprise,
    EnterpriseMember,
    Role,
    RoleAssignment,
    User,
)
from yiwang.accounts.selectors import id_number_blind_index, phone_blind_index

TEST_PASSWORD = "Correct-Horse-Battery-9"


def make_id_number(sequence: int, *, region: str = "341502", birth: str = "19800101") -> str:
    """A valid resident ID number (GB 11643 check digit) for test person ``sequence``."""
    body = f"{region}{birth}{sequence % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum expects a placeholder check digit


def make_uscc(sequence: int, *, region: str = "341502") -> str:
    """A valid unified social credit code (GB 32100 check character)."""
    body = f"91{region}MA{sequence % 10_000_000:07d}"
    return body + uscc.calc_check_digit(body)


class DepartmentFactory(factory.django.DjangoModelFactory[Department]):  # type: ignore[misc]
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"test-dept-{n}")
    name = factory.Sequence(lambda n: f"测试机构{n}")
    kind = Department.Kind.BUREAU
    division_code = "341500"


class UserFactory(factory.django.DjangoModelFactory[User]):  # type: ignore[misc]
    """A citizen with a valid real-name identity (encrypted ID number and phone + indexes)."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"citizen{n}")
    kind = User.Kind.CITIZEN
    real_name = factory.Sequence(lambda n: f"张{n}")
    id_number = factory.Sequence(lambda n: make_id_number(n, birth="19850101"))
    id_number_index = factory.LazyAttribute(lambda u: id_number_blind_index(u.id_number))
    phone = factory.Sequence(lambda n: f"138{n % 100_000_000:08d}")
    phone_index = factory.LazyAttribute(lambda u: phone_blind_index(u.phone))
    password = factory.django.Password(TEST_PASSWORD)


CitizenFactory = UserFactory


class StaffFactory(UserFactory):
    username = factory.Sequence(lambda n: f"staff{n}")
    kind = User.Kind.STAFF
    real_name = factory.Sequence(lambda n: f"李{n}")
    id_number = ""
    id_number_index = ""
    phone = ""
    phone_index = ""
    department = factory.SubFactory(DepartmentFactory)


class SystemUserFactory(StaffFactory):
    username = factory.Sequence(lambda n: f"system{n}")
    kind = User.Kind.SYSTEM
    department = None


class RoleAssignmentFactory(factory.django.DjangoModelFactory[RoleAssignment]):  # type: ignore[misc]
    class Meta:
        model = RoleAssignment

    user = factory.SubFactory(StaffFactory)
    role = Role.APPROVER
    department = factory.LazyAttribute(lambda a: a.user.department)
    include_subtree = False


def staff_with_role(role: str, department: Department | None = None, **kwargs: Any) -> User:
    """A staff member of ``department`` holding ``role`` there (city-wide roles: no department
    on the assignment)."""
    department = department or DepartmentFactory()
    user = StaffFactory(department=department, **kwargs)
    city_wide = role in (Role.AUDITOR, Role.ADMIN)
    RoleAssignmentFactory(user=user, role=role, department=None if city_wide else department)
    return user


def admin_user(**kwargs: Any) -> User:
    return staff_with_role(Role.ADMIN, **kwargs)


class EnterpriseFactory(factory.django.DjangoModelFactory[Enterprise]):  # type: ignore[misc]
    class Meta:
        model = Enterprise

    uscc = factory.Sequence(make_uscc)
    name = factory.Sequence(lambda n: f"六安测试企业{n}有限公司")
    legal_representative = "王五"
    legal_representative_id_number = factory.Sequence(lambda n: make_id_number(n, birth="19700101"))
    division_code = "341502"


class EnterpriseMemberFactory(factory.django.DjangoModelFactory[EnterpriseMember]):  # type: ignore[misc]
    class Meta:
        model = EnterpriseMember

    enterprise = factory.SubFactory(EnterpriseFactory)
    user = factory.SubFactory(UserFactory)
    capacity = EnterpriseMember.Capacity.AGENT


class DelegationFactory(factory.django.DjangoModelFactory[Delegation]):  # type: ignore[misc]
    class Meta:
        model = Delegation

    principal = factory.SubFactory(UserFactory)
    agent = factory.SubFactory(UserFactory)
    scopes = factory.LazyFunction(lambda: [Delegation.Scope.APPLY.value])
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))
    recorded_by = factory.SelfAttribute("principal")


class ApiTokenFactory(factory.django.DjangoModelFactory[ApiToken]):  # type: ignore[misc]
    """A token row with a hash of nothing anyone knows; use api_token_create to get a raw
    token that authenticates."""

    class Meta:
        model = ApiToken

    user = factory.SubFactory(StaffFactory)
    kind = ApiToken.Kind.PERSONAL
    name = factory.Sequence(lambda n: f"token {n}")
    prefix = "yw_test"
    token_hash = factory.Sequence(lambda n: f"{n:064x}")
