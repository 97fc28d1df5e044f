"""The exchange demo: resources, officers, grants for the scenarios, idempotence, and a real
gateway call on a demo grant."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings

from yiwang.accounts.demo import accounts_demo_load
from yiwang.accounts.models import Department, Role, RoleAssignment, User
from yiwang.catalog.demo import catalog_demo_load
from yiwang.exchange import demo, owners
from yiwang.exchange.gateway import exchange_query
from yiwang.exchange.models import (
    DataResource,
    Grant,
    SharingClass,
    SharingRequest,
    SnapshotRow,
)

PASSWORD = "yiwang-demo-2026"

pytestmark = pytest.mark.django_db


@pytest.fixture
def owners_dir(tmp_path: Path) -> Iterator[Path]:
    with override_settings(YIWANG_EXCHANGE_OWNERS_DIR=str(tmp_path / "owners")):
        yield tmp_path / "owners"


@pytest.fixture
def loaded(owners_dir: Path) -> int:
    accounts_demo_load(password=PASSWORD)
    catalog_demo_load(
        actor=User.objects.get(username="demo-catalog"),
        reviewer=User.objects.get(username="demo-reviewer"),
    )
    return demo.exchange_demo_load(password=PASSWORD, population=500)


def counts() -> tuple[int, int, int, int, int]:
    return (
        DataResource.objects.count(),
        SharingRequest.objects.count(),
        Grant.objects.count(),
        User.objects.count(),
        RoleAssignment.objects.count(),
    )


def test_load_generates_missing_owner_stores_and_is_idempotent(
    loaded: int, owners_dir: Path
) -> None:
    assert owners.owners_present(owners_dir) is True
    assert loaded == len(demo.GRANTS)
    before = counts()
    assert before[:3] == (10, 12, 10)
    assert demo.exchange_demo_load(password=PASSWORD, population=500) == 0
    assert counts() == before


def test_catalogue_resources_owners_and_sharing_classes(loaded: int, owners_dir: Path) -> None:
    found = {
        r.code: (r.owner.code, r.sharing_class, r.status, r.adapter_kind)
        for r in DataResource.objects.select_related("owner")
    }
    assert found == {
        "LA-DR-GA-001": ("la-gaj", "conditional", "published", "sql"),
        "LA-DR-GA-002": ("la-gaj", "conditional", "published", "sql"),
        "LA-DR-GA-003": ("la-gaj", "none", "published", "sql"),
        "LA-DR-SC-001": ("la-scjgj", "conditional", "published", "sql"),
        "LA-DR-ZR-001": ("la-zrzyghj", "conditional", "published", "sql"),
        "LA-DR-ZR-002": ("la-zrzyghj", "unconditional", "published", "sql"),
        "LA-DR-RS-001": ("la-rsj", "conditional", "published", "sql"),
        "LA-DR-GJ-001": ("la-gjjzx", "conditional", "published", "file"),
        "LA-DR-SW-001": ("la-swj", "conditional", "published", "sql"),
        "LA-DR-SW-002": ("la-swj", "conditional", "published", "sql"),
    }
    social = DataResource.objects.get(code=demo.SOCIAL_INSURANCE)
    assert social.name == "社会保险参保缴费记录"
    assert social.adapter_config == {
        "url": "sqlite:///" + str((owners_dir / "rsj.sqlite3").resolve()),
        "table": "social_insurance",
        "key": "id_number",
    }
    fund = DataResource.objects.get(code=demo.HOUSING_FUND)
    assert Path(fund.adapter_config["path"]).is_file()
    with Path(fund.adapter_config["path"]).open(encoding="utf-8") as handle:
        delivered = sum(1 for _line in handle) - 1
    assert delivered > 2
    assert SnapshotRow.objects.filter(resource=fund).count() == delivered
    assert fund.refreshed_at is not None
    closed = DataResource.objects.get(code=demo.JUVENILE_RECORDS)
    assert "第二百八十六条" in closed.sharing_condition


def test_data_officers_can_sign_in_and_hold_the_role(loaded: int) -> None:
    for spec in demo.OFFICERS:
        user = User.objects.get(username=spec.username)
        assert user.check_password(PASSWORD)
        assert (
            RoleAssignment.objects.filter(
                user=user, role=Role.DATA_OFFICER, department__code=spec.department
            ).count()
            == 1
        )


def grant_of(consumer: str, code: str) -> Grant:
    return Grant.objects.get(consumer__code=consumer, resource__code=code, revoked_at__isnull=True)


def test_second_hand_house_and_other_scenario_grants(loaded: int) -> None:
    assert grant_of("la-swj", demo.REAL_ESTATE).item_codes == [demo.item_code("qssb")]
    assert grant_of("la-zjj", demo.REAL_ESTATE).item_codes == [demo.item_code("wqba")]
    assert grant_of("la-zjj", demo.POPULATION).masks == {"household_address": "address"}
    assert grant_of("la-zrzyghj", demo.TAX_PAID).item_codes == [demo.item_code("bdczy")]
    assert grant_of("la-zrzyghj", demo.POPULATION).item_codes == [demo.item_code("bdczy")]
    assert grant_of("la-scjgj", demo.POPULATION).item_codes == [demo.item_code("qysldj")]
    assert grant_of("la-gjjzx", demo.SOCIAL_INSURANCE).masks == {"id_number": "id_number"}
    assert grant_of("la-gjjzx", demo.POPULATION).item_codes == [demo.item_code("gjjtq")]
    assert grant_of("la-sjzyj", demo.DIVISIONS).resource.sharing_class == SharingClass.UNCONDITIONAL
    assert demo.item_code("bdczy") == "LA-341500-ZRZYGHJ-QR-BDCZY"


def test_one_pending_and_one_refused_request(loaded: int) -> None:
    pending = SharingRequest.objects.get(status=SharingRequest.Status.PENDING)
    assert (pending.consumer.code, pending.resource.code) == ("la-gjjzx", demo.REAL_ESTATE)
    refused = SharingRequest.objects.get(status=SharingRequest.Status.REFUSED)
    assert (refused.consumer.code, refused.resource.code) == ("la-zjj", demo.VEHICLES)
    assert "第三十四条" in refused.decision_reason
    assert refused.decided_by == User.objects.get(username="demo-data-gaj")


def test_the_data_bureau_reads_a_division_through_the_gateway(loaded: int) -> None:
    result = exchange_query(
        consumer=Department.objects.get(code="la-sjzyj"),
        actor=User.objects.get(username="demo-data-bureau"),
        resource_code=demo.DIVISIONS,
        key="341504",
    )
    assert result.fields[:4] == ["code", "name", "level", "parent_code"]
    assert [(r["code"], r["name"], r["level"]) for r in result.records] == [
        ("341504", "叶集区", "市辖区")
    ]
    assert result.owner_label == "六安市自然资源和规划局"
