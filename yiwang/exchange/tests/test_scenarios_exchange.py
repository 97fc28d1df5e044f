"""The issue's three scenarios (``yiwang.applications.tests.test_scenarios``) again, with the
exchange demo loaded: every material that has a data resource (居民身份证 from 人口基本信息,
不动产权证书 from 不动产登记信息) comes from real gateway calls on the owners' stores; the test
provider stands in only for materials with no data resource (e.g. 退休证明, an e-certificate
the demo applicants do not hold) or whose consumer has no grant yet (住房公积金提取's 购房
materials: the fund centre's request for the registry is pending in the demo)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.test import override_settings

from yiwang.accounts.demo import accounts_demo_load
from yiwang.accounts.models import User
from yiwang.applications.models import Application
from yiwang.applications.tests.test_scenarios import (  # noqa: F401 - collected again here
    government_source,
    house_transfer_to_approval,
    test_enterprise_start_up_bundle,
    test_housing_fund_withdrawal_on_retirement_is_approved_by_rule,
    test_housing_fund_withdrawal_otherwise_goes_to_people,
    test_second_hand_house_transfer_from_one_window,
)
from yiwang.catalog.demo import catalog_demo_load
from yiwang.catalog.models import ItemVersion
from yiwang.exchange.demo import exchange_demo_load

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """Accounts, catalog and exchange demo once for the module, undone afterwards (the
    scenarios' ``demo`` plus the exchange, its owners' stores in a temporary directory)."""
    out = tmp_path_factory.mktemp("owners")
    with django_db_blocker.unblock(), override_settings(YIWANG_EXCHANGE_OWNERS_DIR=str(out)):
        from django.db import connection, transaction

        atomic = transaction.atomic()
        # like a TestCase's own block: the access log writes its rows in it and they go with
        # the rollback (no journal left behind for later tests)
        atomic._from_testcase = True  # type: ignore[attr-defined]
        atomic.__enter__()
        accounts_demo_load(password="yiwang-demo-2026")
        catalog_demo_load(
            actor=User.objects.get(username="demo-catalog"),
            reviewer=User.objects.get(username="demo-reviewer"),
        )
        exchange_demo_load(password="yiwang-demo-2026", population=500)
        samples = [
            str(name)
            for name in ItemVersion.objects.exclude(result_sample="").values_list(
                "result_sample", flat=True
            )
        ]
        yield out
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)
        connection.close()
        for name in samples:
            default_storage.delete(name)


def test_the_house_transfer_uploads_nothing_a_department_holds(demo: Path) -> None:
    # no test provider at all: the exchange provides every government-held material
    detail, _stages, _buyer = house_transfer_to_approval()
    materials = Application.objects.get(public_id=detail["id"]).materials
    fetched = {m.name: m.reference.rsplit(":", 1)[0] for m in materials.filter(source="government")}
    assert fetched == {
        "买卖双方居民身份证": "exchange:LA-DR-GA-001",
        "不动产权证书": "exchange:LA-DR-ZR-001",
    }
