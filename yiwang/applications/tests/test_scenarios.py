"""The issue's three scenarios at API level, on the Lu'an demo catalog:

* 企业开办 as a bundle: one submission, six department tasks in parallel, all approved, one
  issuance, within the bundle's one working day;
* 住房公积金提取 on retirement, approved at acceptance by the demo version's DMN table (秒批);
  a 购房 withdrawal under the same table goes to people;
* 二手房转移登记 as a bundle from one window: housing, tax and natural resources in parallel,
  then the utilities.

Materials the government holds are answered by a test provider registered in
``yiwang.applications.sources``: the e-certificate app's real provider answers only with
certificates the applicant holds, and these applicants hold none; the others are uploaded.
The data-sharing exchange sits above this app, so its demo is not loaded here and its
provider steps aside. ``yiwang.exchange.tests.test_scenarios_exchange`` runs these same tests
with the exchange demo loaded: there the exchange provides every material that has a data
resource (real gateway calls) and the test provider only the others. So the applicants are
people the exchange demo's owner stores know (demo accounts, and the 二手房 parties of
``yiwang.exchange.owners``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from yiwang.accounts.demo import accounts_demo_load
from yiwang.accounts.models import Department, Role, User
from yiwang.accounts.tests.factories import UserFactory, staff_with_role
from yiwang.applications import sources
from yiwang.applications.models import Application
from yiwang.applications.tests.conftest import signed_in
from yiwang.applications.tests.factories import PNG
from yiwang.catalog.bundles import bundle_materials
from yiwang.catalog.demo import GJJTQ_DMN, GJJTQ_RETIREMENT_AGE, catalog_demo_load
from yiwang.catalog.models import Bundle, ItemVersion, Material
from yiwang.core.calendar import work_calendar_load

pytestmark = pytest.mark.django_db

PNG64 = base64.b64encode(PNG).decode()
# The 二手房 parties of the exchange demo's owner stores (yiwang.exchange.owners: SELLER_*,
# BUYER_*; that app sits above this one, so the values are repeated here).
SELLER_ID_NUMBER = "341502198001010012"
SELLER_CERTIFICATE_NO = "皖(2020)六安市不动产权第0000001号"
BUYER_ID_NUMBER = "341503199003030448"


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """Accounts and catalog demo once for the module (the slow part), undone afterwards."""
    with django_db_blocker.unblock():
        from django.db import connection, transaction

        atomic = transaction.atomic()
        atomic.__enter__()
        accounts_demo_load(password="yiwang-demo-2026")
        catalog_demo_load(
            actor=User.objects.get(username="demo-catalog"),
            reviewer=User.objects.get(username="demo-reviewer"),
        )
        samples = [
            str(name)
            for name in ItemVersion.objects.exclude(result_sample="").values_list(
                "result_sample", flat=True
            )
        ]
        yield
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)
        connection.close()
        # the in-memory storage outlives the rollback: leave the names free for other tests
        for name in samples:
            default_storage.delete(name)


@pytest.fixture
def government_source() -> Iterator[None]:
    def provider(material: Material, applicant: User) -> sources.FetchedMaterial:
        return sources.FetchedMaterial(
            reference=f"DZZZ-{material.certificate_type_code or material.data_resource_code}",
            provider="test-certificates",
        )

    sources.material_provider_register(provider)
    yield
    sources.material_provider_unregister(provider)


def demo_clerk() -> User:
    """The demo's comprehensive-window clerk (a 数据资源局 employee): accepts for every
    department, as a person doing the scenarios by hand would."""
    return User.objects.get(username="demo-clerk")


def dept(code: str) -> Department:
    return Department.objects.get(code=code)


def post(client: Client, url: str, data: dict[str, Any]) -> Any:
    response = client.post(url, json.dumps(data), content_type="application/json")
    assert response.status_code in (200, 201), response.content.decode()
    return response.json()


def bundle_uploads(bundle: Bundle) -> list[dict[str, Any]]:
    return [
        {"material_id": m.uses[0].material_id, "content_base64": PNG64, "filename": "m.png"}
        for m in bundle_materials(bundle)
        if m.necessity == Material.Necessity.REQUIRED and not m.fetched
    ]


def approve_all(application_id: str, approvers: dict[str, User]) -> list[str]:
    """Every department approves the task it has open now (tasks that open meanwhile wait
    for the next call); returns the department names seen."""
    inboxes = {
        code: signed_in(approver).get("/api/v1/staff/tasks").json()["items"]
        for code, approver in approvers.items()
    }
    seen = []
    for code, approver in approvers.items():
        client = signed_in(approver)
        for task in inboxes[code]:
            if task["application_id"] != application_id:
                continue
            seen.append(task["department"])
            post(client, f"/api/v1/staff/tasks/{task['id']}/claim", {})
            post(
                client,
                f"/api/v1/staff/tasks/{task['id']}/complete",
                {"outcome": "approve", "opinion": "同意"},
            )
    return seen


def test_enterprise_start_up_bundle(demo, government_source):
    bundle = Bundle.objects.get(code="qykb")
    founder = User.objects.get(username="demo-legal")  # in the population register
    clerk = demo_clerk()
    codes = ["la-scjgj", "la-gaj", "la-swj", "la-rsj", "la-gjjzx", "la-rmyh"]
    approvers = {code: staff_with_role(Role.APPROVER, dept(code)) for code in codes}
    form = {
        "enterprise_name": "六安市皋城科技有限公司",
        "enterprise_type": "有限责任公司",
        "registered_address": "六安市金安区梅山南路100号",
        "registered_capital": "100",
        "business_scope": "软件开发",
        "legal_rep_name": founder.real_name,
        "legal_rep_id_number": founder.id_number,
        "contact_phone": "13900002222",
        "seal_types": "公章",
    }

    # one submission
    created = post(
        signed_in(founder),
        "/api/v1/applications",
        {
            "bundle": "qykb",
            "form_data": form,
            "contact_phone": "13900002222",
            "materials": bundle_uploads(bundle),
        },
    )
    assert created["bundle"] == "qykb"
    # one window accepts; every department's task opens at once (并联)
    accepted = post(signed_in(clerk), f"/api/v1/staff/applications/{created['id']}/accept", {})
    assert accepted["status"] == "in_review"
    parallel = [t for t in accepted["tasks"] if t["status"] == "open"]
    assert len(parallel) == 6
    assert sorted(t["department"] for t in parallel) == sorted(dept(c).name for c in codes)

    seen = approve_all(created["id"], approvers)
    assert sorted(seen) == sorted(dept(c).name for c in codes)

    window = signed_in(clerk)
    post(window, f"/api/v1/staff/applications/{created['id']}/conclude", {})
    issued = post(
        window,
        f"/api/v1/staff/applications/{created['id']}/issue",
        {"delivery_method": "electronic"},
    )
    assert issued["status"] == "issued"
    application = Application.objects.get(public_id=created["id"])
    # within the bundle's promise: one working day after acceptance
    calendar = work_calendar_load()
    assert application.accepted_at is not None
    assert application.due_date == calendar.add_working_days(application.accepted_at, 1).due
    assert application.concluded_at is not None
    assert application.concluded_at.date() <= application.due_date


def fund_withdrawal_uploads(version: ItemVersion, situation: str) -> list[dict[str, Any]]:
    return [
        {"material_id": m.pk, "content_base64": PNG64}
        for m in version.materials.all()
        if m.necessity == Material.Necessity.REQUIRED
        and not m.fetched
        and (not m.situations.exists() or m.situations.filter(code=situation).exists())
    ]


def test_housing_fund_withdrawal_on_retirement_is_approved_by_rule(demo, government_source):
    version = ItemVersion.objects.get(name="住房公积金提取", status="published")
    # the demo's own decision table, published with the version
    assert version.dmn_xml == GJJTQ_DMN
    retiree = User.objects.get(username="demo-elder")  # born 1942, in the population register
    clerk = demo_clerk()

    created = post(
        signed_in(retiree),
        "/api/v1/applications",
        {
            "task_code": version.item.task_code,
            "situation": "retire",
            "form_data": {"age": GJJTQ_RETIREMENT_AGE + 2},
            "contact_phone": "13900003333",
            "materials": fund_withdrawal_uploads(version, "retire"),
        },
    )
    done = post(signed_in(clerk), f"/api/v1/staff/applications/{created['id']}/accept", {})

    assert done["status"] == "concluded"
    assert done["decision"] == "approved"
    assert all(t["outcome"] == "approve" for t in done["tasks"])
    kinds = [e["kind"] for e in done["events"]]
    assert "auto_approved" in kinds
    assert kinds[-1] == "concluded"


@pytest.mark.parametrize(
    ("situation", "form_data"),
    [
        ("purchase", {"age": GJJTQ_RETIREMENT_AGE + 2}),
        ("leave", {}),
        ("retire", {"age": GJJTQ_RETIREMENT_AGE - 1}),
    ],
)
def test_housing_fund_withdrawal_otherwise_goes_to_people(
    demo, government_source, situation, form_data
):
    version = ItemVersion.objects.get(name="住房公积金提取", status="published")
    applicant = User.objects.get(username="demo-citizen")
    clerk = demo_clerk()
    created = post(
        signed_in(applicant),
        "/api/v1/applications",
        {
            "task_code": version.item.task_code,
            "situation": situation,
            "form_data": form_data,
            "contact_phone": "13900005555",
            "materials": fund_withdrawal_uploads(version, situation),
        },
    )
    accepted = post(signed_in(clerk), f"/api/v1/staff/applications/{created['id']}/accept", {})

    assert accepted["status"] == "in_review"
    assert accepted["decision"] != "approved"
    open_tasks = [t for t in accepted["tasks"] if t["status"] == "open"]
    assert [t["department"] for t in open_tasks] == [dept("la-gjjzx").name]
    kinds = [e["kind"] for e in accepted["events"]]
    # the table decided (no auto approval, no evaluation failure)
    assert "auto_approved" not in kinds
    assert "rules_failed" not in kinds


def house_transfer_to_approval() -> tuple[dict[str, Any], list[list[str]], User]:
    """二手房转移登记 from the window up to approval by every department: (the staff view of
    the application, the departments open at each stage, the buyer). Also the start of the
    certificates app's end-to-end test."""
    bundle = Bundle.objects.get(code="eshgh")
    buyer = UserFactory(real_name="孙买房", id_number=BUYER_ID_NUMBER, phone="13900004444")
    clerk = demo_clerk()
    codes = ["la-zjj", "la-swj", "la-zrzyghj", "la-sjzyj"]
    approvers = {code: staff_with_role(Role.APPROVER, dept(code)) for code in codes}
    form = {
        "seller_name": "周卖房",
        "seller_id_number": SELLER_ID_NUMBER,
        "buyer_name": "孙买房",
        "buyer_id_number": buyer.id_number,
        "buyer_phone": "13900004444",
        "property_certificate_no": SELLER_CERTIFICATE_NO,
        "property_address": "六安市金安区佛子岭路1号",
        "price": "800000",
    }
    # the clerk submits at the window for the walk-in buyer
    created = post(
        signed_in(clerk),
        "/api/v1/applications",
        {
            "bundle": "eshgh",
            "channel": "window",
            "applicant": {"real_name": buyer.real_name, "id_number": buyer.id_number},
            "form_data": form,
            "contact_phone": "13900004444",
            "materials": bundle_uploads(bundle),
        },
    )
    assert created["channel"] == "window"
    accepted = post(signed_in(clerk), f"/api/v1/staff/applications/{created['id']}/accept", {})
    stages = []
    open_now = [t["department"] for t in accepted["tasks"] if t["status"] == "open"]
    detail = accepted
    while open_now:
        stages.append(sorted(open_now))
        approve_all(created["id"], approvers)
        detail = signed_in(clerk).get(f"/api/v1/staff/applications/{created['id']}").json()
        open_now = [t["department"] for t in detail["tasks"] if t["status"] == "open"]
    return detail, stages, buyer


def test_second_hand_house_transfer_from_one_window(demo, government_source):
    detail, stages, _buyer = house_transfer_to_approval()
    # housing, tax and natural resources at once (three tasks, three departments), then the
    # utilities
    assert stages == [
        sorted([dept("la-zjj").name, dept("la-swj").name, dept("la-zrzyghj").name]),
        [dept("la-sjzyj").name],
    ]
    assert detail["status"] == "approved"
