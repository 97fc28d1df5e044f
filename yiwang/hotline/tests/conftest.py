"""The hotline tests' world: the Lu'an demo departments and accounts (a 12345 dispatcher, a
handling unit at 城管局, a city-wide supervisor, citizens) and the demo hotline
configuration (category tree, dispatch catalogue, time limits, mailboxes)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.core.cache import cache

from yiwang.accounts.demo import accounts_demo_load
from yiwang.accounts.models import Department, Role, User
from yiwang.accounts.services import role_grant, staff_create
from yiwang.hotline.demo import hotline_demo_load
from yiwang.hotline.models import Category


@dataclass
class World:
    dispatcher: User
    handler: User  # handling unit at 城管局 (la-cgj)
    other_handler: User  # handling unit at 住建局 (la-zjj)
    supervisor: User  # city-wide
    citizen: User
    other_citizen: User
    cgj: Department
    zjj: Department
    streetlight: Category
    noise: Category


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(db: None) -> World:
    accounts_demo_load(password="yiwang-demo-2026")
    hotline_demo_load()
    admin = User.objects.get(username="demo-admin")
    zjj = Department.objects.get(code="la-zjj")
    other = staff_create(
        actor=admin,
        username="zjj-handler",
        real_name="钱承办",
        department=zjj,
        password="yiwang-demo-2026",
    )
    role_grant(actor=admin, user=other, role=Role.HANDLING_UNIT, department=zjj)
    return World(
        dispatcher=User.objects.get(username="demo-dispatcher"),
        handler=User.objects.get(username="demo-handler"),
        other_handler=other,
        supervisor=User.objects.get(username="demo-supervisor"),
        citizen=User.objects.get(username="demo-citizen"),
        other_citizen=User.objects.get(username="demo-elder"),
        cgj=Department.objects.get(code="la-cgj"),
        zjj=zjj,
        streetlight=Category.objects.get(code="cxjs-szss-ld"),
        noise=Category.objects.get(code="hjbh-wr-zs"),
    )
