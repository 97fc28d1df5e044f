"""A small world for the applications tests: a receiving department with a window clerk,
two departments that review in parallel, a published 行政许可 whose process is
受理 → 审查 (dept B ‖ dept C) → 决定 (dept A) → 办结 → 送达, and two citizens."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from yiwang.accounts.models import Department, Role, User
from yiwang.accounts.tests.factories import DepartmentFactory, UserFactory, staff_with_role
from yiwang.applications import services
from yiwang.applications.models import Application
from yiwang.applications.tests.factories import PNG
from yiwang.catalog.models import ItemVersion, Material, ProcessStep
from yiwang.catalog.tests.factories import (
    MaterialFactory,
    ProcessStepFactory,
    PublishedVersionFactory,
)


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    cache.clear()  # the progress query's rate limit lives in the cache
    yield
    cache.clear()


@pytest.fixture
def dept_a(db: None) -> Department:
    return DepartmentFactory(code="la-test-a", name="六安市测试审批局")


@pytest.fixture
def dept_b(db: None) -> Department:
    return DepartmentFactory(code="la-test-b", name="六安市测试税务局")


@pytest.fixture
def dept_c(db: None) -> Department:
    return DepartmentFactory(code="la-test-c", name="六安市测试住建局")


@pytest.fixture
def clerk(dept_a: Department) -> User:
    return staff_with_role(Role.WINDOW_CLERK, dept_a, real_name="陈受理")


@pytest.fixture
def approver_a(dept_a: Department) -> User:
    return staff_with_role(Role.APPROVER, dept_a, real_name="周审批")


@pytest.fixture
def approver_b(dept_b: Department) -> User:
    return staff_with_role(Role.APPROVER, dept_b, real_name="吴税务")


@pytest.fixture
def approver_b2(dept_b: Department) -> User:
    return staff_with_role(Role.APPROVER, dept_b, real_name="郑税务")


@pytest.fixture
def approver_c(dept_c: Department) -> User:
    return staff_with_role(Role.APPROVER, dept_c, real_name="王住建")


@pytest.fixture
def citizen(db: None) -> User:
    return UserFactory(real_name="张三", phone="13800001111")


@pytest.fixture
def other_citizen(db: None) -> User:
    return UserFactory(real_name="李四")


@pytest.fixture
def version(dept_a: Department, dept_b: Department, dept_c: Department) -> ItemVersion:
    version = PublishedVersionFactory(
        item__department=dept_a, children=False, name="测试许可", promise_limit=5
    )
    MaterialFactory(version=version, name="申请书", sort_order=1)
    MaterialFactory(
        version=version, name="场地证明", necessity=Material.Necessity.TOLERATED, sort_order=2
    )
    steps = [
        ("受理", ProcessStep.Kind.ACCEPT, 0, dept_a),
        ("税务审查", ProcessStep.Kind.REVIEW, 1, dept_b),
        ("住建审查", ProcessStep.Kind.REVIEW, 1, dept_c),
        ("决定", ProcessStep.Kind.DECIDE, 2, dept_a),
        ("办结", ProcessStep.Kind.CONCLUDE, 3, dept_a),
        ("送达", ProcessStep.Kind.DELIVER, 4, dept_a),
    ]
    for order, (name, kind, stage, department) in enumerate(steps):
        ProcessStepFactory(
            version=version,
            name=name,
            kind=kind,
            stage=stage,
            department=department,
            sort_order=order,
            time_limit=2,
        )
    return version


MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def signed_in(user: User) -> Client:
    """A client with ``user``'s session (the API accepts sessions like the pages)."""
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def material(version: ItemVersion, name: str) -> Material:
    return version.materials.get(name=name)


def submit(version: ItemVersion, citizen: User, **kwargs: Any) -> Application:
    """A complete online submission of ``version`` by ``citizen``."""
    defaults: dict[str, Any] = {
        "actor": citizen,
        "item": version.item,
        "form_data": {"purpose": "测试"},
        "contact_phone": "13800001111",
        "materials": [
            services.MaterialInput(
                material_id=material(version, "申请书").pk, content=PNG, filename="sqs.png"
            )
        ],
    }
    return services.application_submit(**{**defaults, **kwargs})
