"""Once only (国务院令第716号 第七条) in applications, on the Lu'an demo with the owners' real
stores: the 二手房 bundle end to end with real gateway calls between 住建, 税务 and 自然资源,
the owner-down path (the owner's database gone), a consumer without a grant, the staff's fresh
reads and the apply form's prefill. No provider is stubbed: the material comes from the
exchange or is uploaded."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.test import Client, override_settings

from yiwang.accounts.demo import accounts_demo_load
from yiwang.accounts.models import Department, Role, User
from yiwang.accounts.tests.factories import UserFactory, staff_with_role
from yiwang.applications.models import Application, ApplicationMaterial, Task
from yiwang.applications.tests.conftest import signed_in
from yiwang.applications.tests.factories import PNG
from yiwang.catalog import demo as catalog_demo
from yiwang.catalog.bundles import bundle_materials
from yiwang.catalog.models import Bundle, ItemVersion, Material
from yiwang.exchange import demo as exchange_demo
from yiwang.exchange import owners
from yiwang.exchange.errors import ExchangeRefused
from yiwang.exchange.gateway import exchange_query
from yiwang.exchange.models import AccessLogEntry
from yiwang.exchange.selectors import access_log_of_subject

pytestmark = pytest.mark.django_db

PASSWORD = "yiwang-demo-2026"
PNG64 = base64.b64encode(PNG).decode()
FIRST_STAGE = ["la-zjj", "la-swj", "la-zrzyghj"]


@pytest.fixture(scope="module")
def city(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """Accounts, catalog and exchange demo once for the module (owners' stores in a temporary
    directory, 500 generated people besides the demo's), undone afterwards."""
    out = tmp_path_factory.mktemp("owners")
    with django_db_blocker.unblock(), override_settings(YIWANG_EXCHANGE_OWNERS_DIR=str(out)):
        from django.db import connection, transaction

        atomic = transaction.atomic()
        # like a TestCase's own block: the access log writes its rows in it, and they go
        # with the rollback (no journal left behind for later tests)
        atomic._from_testcase = True  # type: ignore[attr-defined]
        atomic.__enter__()
        accounts_demo_load(password=PASSWORD)
        catalog_demo.catalog_demo_load(
            actor=User.objects.get(username="demo-catalog"),
            reviewer=User.objects.get(username="demo-reviewer"),
        )
        exchange_demo.exchange_demo_load(password=PASSWORD, population=500)
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


def dept(code: str) -> Department:
    return Department.objects.get(code=code)


def post(client: Client, url: str, data: dict[str, Any], status: int = 201) -> Any:
    response = client.post(url, json.dumps(data), content_type="application/json")
    assert response.status_code == status, response.content.decode()
    return response.json()


def uploads_for(materials: list[Any]) -> list[dict[str, Any]]:
    """A scan for every required material the government does not hold."""
    return [
        {"material_id": m.uses[0].material_id, "content_base64": PNG64, "filename": "m.png"}
        for m in materials
        if m.necessity == Material.Necessity.REQUIRED and not m.fetched
    ]


def house_form(buyer: User) -> dict[str, Any]:
    return {
        "seller_name": owners.SELLER_NAME,
        "seller_id_number": owners.SELLER_ID_NUMBER,
        "buyer_name": buyer.real_name,
        "buyer_id_number": buyer.id_number,
        "buyer_phone": owners.BUYER_PHONE,
        "property_certificate_no": owners.SELLER_CERTIFICATE_NO,
        "property_address": owners.SELLER_ADDRESS,
        "price": "800000",
    }


def submit_house_transfer(buyer: User, *, status: int = 201) -> Any:
    bundle = Bundle.objects.get(code="eshgh")
    return post(
        signed_in(User.objects.get(username="demo-clerk")),
        "/api/v1/applications",
        {
            "bundle": "eshgh",
            "channel": "window",
            "applicant": {"real_name": buyer.real_name, "id_number": buyer.id_number},
            "form_data": house_form(buyer),
            "contact_phone": owners.BUYER_PHONE,
            "materials": uploads_for(bundle_materials(bundle)),
        },
        status=status,
    )


def the_buyer() -> User:
    found = User.objects.filter(username="buyer-sun").first()
    return found or UserFactory(
        username="buyer-sun",
        real_name=owners.BUYER_NAME,
        id_number=owners.BUYER_ID_NUMBER,
        phone=owners.BUYER_PHONE,
    )


def test_catalog_names_the_exchange_demo_resources(city: Path) -> None:
    assert (
        catalog_demo.DR_POPULATION,
        catalog_demo.DR_REAL_ESTATE,
        catalog_demo.DR_TAX_PAID,
    ) == (exchange_demo.POPULATION, exchange_demo.REAL_ESTATE, exchange_demo.TAX_PAID)


def test_second_hand_house_transfer_with_real_exchange_calls(city: Path) -> None:
    bundle = Bundle.objects.get(code="eshgh")
    held = [m for m in bundle_materials(bundle) if m.fetched]
    # what the government holds is never asked for
    assert sorted(m.name for m in held) == ["不动产权证书", "买卖双方居民身份证"]
    buyer = the_buyer()
    seller = UserFactory(real_name=owners.SELLER_NAME, id_number=owners.SELLER_ID_NUMBER)

    created = submit_house_transfer(buyer)
    application = Application.objects.get(public_id=created["id"])
    stored = {
        m.name: (m.source, m.reference.rsplit(":", 1)[0], bool(m.file))
        for m in application.materials.all()
    }
    assert stored["买卖双方居民身份证"] == ("government", "exchange:LA-DR-GA-001", False)
    assert stored["不动产权证书"] == ("government", "exchange:LA-DR-ZR-001", False)
    assert not application.materials.filter(
        source=ApplicationMaterial.Source.UPLOAD, material__data_resource_code__gt=""
    ).exists()
    # identity of both parties (two reads) and the seller's property (one read), bound to
    # the case by 住建 (the member that needs them), before acceptance
    at_submission = AccessLogEntry.objects.filter(case_number=application.number).order_by("seq")
    assert [(e.consumer_id, e.resource_code, e.outcome) for e in at_submission] == [
        (dept("la-zjj").pk, "LA-DR-GA-001", "answered"),
        (dept("la-zjj").pk, "LA-DR-GA-001", "answered"),
        (dept("la-zjj").pk, "LA-DR-ZR-001", "answered"),
    ]
    attempt = str(application.public_id)[:8]
    assert {e.purpose for e in at_submission} == {
        f"申请受理前核验：买卖双方居民身份证（提交 {attempt}）",
        f"申请受理前核验：不动产权证书（提交 {attempt}）",
    }
    identity = application.materials.get(name="买卖双方居民身份证").reference
    assert identity == "exchange:LA-DR-GA-001:{}+{}".format(*[e.seq for e in at_submission][:2])

    # the applicant's page says what was fetched and from where
    page = signed_in(buyer).get(f"/applications/{application.public_id}/").content.decode()
    assert "由六安市公安局通过数据共享提供：人口基本信息" in page
    assert "由六安市自然资源和规划局通过数据共享提供：不动产登记信息" in page

    clerk = signed_in(User.objects.get(username="demo-clerk"))
    post(clerk, f"/api/v1/staff/applications/{created['id']}/accept", {}, status=200)
    # each department of the first stage opens its task's 共享数据 (case-bound reads)
    shown = {}
    for code in FIRST_STAGE:
        approver = staff_with_role(Role.APPROVER, dept(code))
        task = Task.objects.get(application=application, department=dept(code))
        response = signed_in(approver).get(
            f"/console/applications/tasks/{task.public_id}/?shared=1"
        )
        assert response.status_code == 200
        shown[code] = response.content.decode()
    # 住建 sees the seller's flat with its seizure and mortgage state
    assert owners.SELLER_CERTIFICATE_NO in shown["la-zjj"]
    assert "是否查封" in shown["la-zjj"]
    assert "是否抵押" in shown["la-zjj"]
    # 税务 the registry's area and use
    assert "建筑面积（平方米）" in shown["la-swj"]
    assert "96.4" in shown["la-swj"]
    # 自然资源 the tax record of the buyer (none yet in the owner's store) and identities
    assert "完税证明（契税）" in shown["la-zrzyghj"]
    assert "提供部门没有该主体的记录。" in shown["la-zrzyghj"]

    by_task = AccessLogEntry.objects.filter(
        case_number=application.number, purpose__in=[t.name for t in application.tasks.all()]
    )
    assert {e.consumer_id for e in by_task} == {dept(c).pk for c in FIRST_STAGE}
    assert set(by_task.values_list("outcome", flat=True)) == {"answered"}
    assert {(e.consumer_id, e.resource_code) for e in by_task} >= {
        (dept("la-zjj").pk, "LA-DR-ZR-001"),
        (dept("la-swj").pk, "LA-DR-ZR-001"),
        (dept("la-swj").pk, "LA-DR-GA-001"),
        (dept("la-zrzyghj").pk, "LA-DR-SW-001"),
        (dept("la-zrzyghj").pk, "LA-DR-GA-001"),
    }
    # buyer and seller see who read their data, for this case
    for person in (buyer, seller):
        mine = access_log_of_subject(person).filter(case_number=application.number)
        assert mine.count() >= 2
    seller_readers = set(
        access_log_of_subject(seller)
        .filter(case_number=application.number)
        .values_list("consumer_id", flat=True)
    )
    assert seller_readers == {dept(c).pk for c in FIRST_STAGE}


def test_staff_open_a_fetched_material_through_a_fresh_logged_call(city: Path) -> None:
    created = submit_house_transfer(the_buyer())
    clerk = signed_in(User.objects.get(username="demo-clerk"))
    post(clerk, f"/api/v1/staff/applications/{created['id']}/accept", {}, status=200)
    application = Application.objects.get(public_id=created["id"])
    material = application.materials.get(name="不动产权证书")
    approver = staff_with_role(Role.APPROVER, dept("la-zjj"))
    before = AccessLogEntry.objects.count()
    url = f"/console/applications/{application.public_id}/materials/{material.public_id}/data/"
    page = signed_in(approver).get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert owners.SELLER_CERTIFICATE_NO in text
    assert "由六安市自然资源和规划局通过数据共享提供：不动产登记信息" in text
    entry = AccessLogEntry.objects.order_by("-seq").first()
    assert AccessLogEntry.objects.count() == before + 1
    assert entry is not None
    assert (entry.consumer_id, entry.case_number, entry.purpose, entry.outcome) == (
        dept("la-zjj").pk,
        application.number,
        "查看申请材料：不动产权证书",
        "answered",
    )


def test_an_owner_that_is_down_refuses_the_submission_with_a_retry(city: Path) -> None:
    store = owners.store_path("zrzyghj", city)
    away = store.with_suffix(".down")
    store.rename(away)  # the registry's database is unreachable: the real adapter fails
    try:
        before = Application.objects.count()
        body = submit_house_transfer(the_buyer(), status=503)
    finally:
        away.rename(store)
    assert body["code"] == "exchange.source_unavailable"
    assert "不动产权证书" in body["detail"]
    assert "请稍后重试" in body["detail"]
    assert "六安市自然资源和规划局" in body["detail"]
    assert Application.objects.count() == before  # nothing was filed
    # once the owner answers again the same submission goes through
    assert submit_house_transfer(the_buyer())["bundle"] == "eshgh"


def test_a_consumer_without_a_grant_is_said_on_the_material(city: Path) -> None:
    # 公积金中心's request for the real-estate registry is still pending in the demo
    version = ItemVersion.objects.get(name="住房公积金提取", status="published")
    citizen = User.objects.get(username="demo-citizen")
    body = post(
        signed_in(citizen),
        "/api/v1/applications",
        {
            "task_code": version.item.task_code,
            "situation": "purchase",
            "form_data": {"age": 40},
            "contact_phone": "13800000001",
            "materials": [
                {"material_id": m.pk, "content_base64": PNG64}
                for m in version.materials.filter(necessity="required")
                if not m.fetched
                and (not m.situations.exists() or m.situations.filter(code="purchase").exists())
            ],
        },
        status=422,
    )
    messages = [p["message"] for p in body["problems"]]
    assert (
        "“不动产权证书或网签备案购房合同”暂时无法通过电子证照或数据共享获取"
        "（六安市住房公积金管理中心尚未获得“不动产登记信息”的共享授权），请上传。"
    ) in messages


def test_the_apply_form_is_prefilled_from_the_population_register(city: Path) -> None:
    citizen = User.objects.get(username="demo-citizen")
    before = AccessLogEntry.objects.count()
    page = signed_in(citizen).get("/applications/apply/bundle/eshgh/").content.decode()
    assert "以下信息来自六安市公安局，如有误请联系该部门更正" in page
    assert f'value="{citizen.id_number}"' in page  # 买受人身份证号码
    assert 'value="李小明"' in page
    read = AccessLogEntry.objects.order_by("-seq").first()
    assert AccessLogEntry.objects.count() == before + 1
    assert read is not None
    assert (read.resource_code, read.purpose, read.case_number, read.outcome) == (
        "LA-DR-GA-001",
        "申请表预填",
        "",
        "answered",
    )
    assert read.consumer_id == dept("la-zrzyghj").pk  # the bundle's accepting department


def test_a_property_the_seller_does_not_hold_is_a_problem_on_the_material(city: Path) -> None:
    buyer = the_buyer()
    form = {**house_form(buyer), "property_certificate_no": "皖(2020)六安市不动产权第0009999号"}
    before = Application.objects.count()
    body = post(
        signed_in(User.objects.get(username="demo-clerk")),
        "/api/v1/applications",
        {
            "bundle": "eshgh",
            "channel": "window",
            "applicant": {"real_name": buyer.real_name, "id_number": buyer.id_number},
            "form_data": form,
            "contact_phone": owners.BUYER_PHONE,
            "materials": uploads_for(bundle_materials(Bundle.objects.get(code="eshgh"))),
        },
        status=422,
    )
    assert [p["message"] for p in body["problems"]] == [
        "“不动产权证书”无法通过数据共享获取：六安市自然资源和规划局没有证书号为"
        "皖(2020)六安市不动产权第0009999号的不动产记录，请核对申请表或上传该材料。"
    ]
    assert Application.objects.count() == before


def test_own_data_needs_no_case_number_and_only_ones_own(city: Path) -> None:
    citizen = User.objects.get(username="demo-citizen")
    consumer = dept("la-zrzyghj")
    own = exchange_query(
        consumer=consumer,
        actor=citizen,
        resource_code=exchange_demo.POPULATION,
        key=citizen.id_number,
        purpose="申请表预填",
    )
    assert [r["name"] for r in own.records] == [citizen.real_name]
    for key, purpose in ((owners.SELLER_ID_NUMBER, "申请表预填"), (citizen.id_number, "")):
        with pytest.raises(ExchangeRefused) as refused:
            exchange_query(
                consumer=consumer,
                actor=citizen,
                resource_code=exchange_demo.POPULATION,
                key=key,
                purpose=purpose,
            )
        assert refused.value.code == "exchange.case_required"
    # staff acting for a department never read without a case, whoever the subject is
    staff = staff_with_role(Role.APPROVER, consumer)
    with pytest.raises(ExchangeRefused) as refused:
        exchange_query(
            consumer=consumer,
            actor=staff,
            resource_code=exchange_demo.POPULATION,
            key=citizen.id_number,
            purpose="申请表预填",
        )
    assert refused.value.code == "exchange.case_required"
