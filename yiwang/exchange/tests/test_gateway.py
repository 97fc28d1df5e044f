"""The gateway: answers inside a grant only, masks, refuses and logs every call once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from yiwang.accounts.tests.factories import make_id_number
from yiwang.applications.tests.factories import ApplicationFactory, TaskFactory
from yiwang.core.crypto import blind_index
from yiwang.core.errors import DomainError
from yiwang.exchange.accesslog import log_verify
from yiwang.exchange.adapters import SourceUnavailable
from yiwang.exchange.gateway import exchange_query, mask_address
from yiwang.exchange.gatewaycache import exchange_cache_bump
from yiwang.exchange.models import AccessLogEntry, DataResource, SharingClass
from yiwang.exchange.tests.factories import World, make_grant, make_world
from yiwang.hotline.models import Assignment, WorkOrder

pytestmark = pytest.mark.django_db


def query(world: World, **kwargs: Any) -> Any:
    arguments: dict[str, Any] = {
        "consumer": world.consumer,
        "actor": world.consumer_clerk,
        "resource_code": world.resource.code,
        "key": world.rows[0]["id_number"],
    }
    arguments.update(kwargs)
    return exchange_query(**arguments)


def refused(world: World, **kwargs: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        query(world, **kwargs)
    return caught.value


def the_log() -> list[tuple[str, str]]:
    return list(AccessLogEntry.objects.order_by("seq").values_list("outcome", "code"))


def case_of(world: World, **kwargs: Any) -> str:
    return str(ApplicationFactory(department=world.consumer, **kwargs).number)


def test_an_answer_inside_the_grant_has_only_the_granted_fields_masked(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    grant = make_grant(
        world.resource,
        world.consumer,
        fields=["name", "address", "id_number"],
        masks={"id_number": "id_number", "address": "address"},
    )
    case = case_of(world)
    result = query(world, case_number=case, purpose="二手房转移登记")
    row = world.rows[0]
    assert result.fields == ["id_number", "name", "address"]
    assert result.records == [
        {
            "id_number": row["id_number"][:4] + "*" * 10 + row["id_number"][-4:],
            "name": row["name"],
            "address": "安徽省六安市金安区" + "*" * (len(row["address"]) - 9),
        }
    ]
    assert (result.resource_code, result.owner_label) == ("LA-DR-GA-001", "测试公安局")
    entry = AccessLogEntry.objects.get()
    assert entry.seq == result.log_seq
    assert (entry.outcome, entry.code, entry.result_size, entry.grant_id) == (
        "answered",
        "",
        1,
        grant.pk,
    )
    assert (entry.case_number, entry.purpose, entry.fields) == (
        case,
        "二手房转移登记",
        ["id_number", "name", "address"],
    )
    assert entry.subject_index == blind_index(row["id_number"], purpose="exchange.subject")
    assert (entry.consumer_id, entry.owner_id, entry.actor_id) == (
        world.consumer.pk,
        world.owner.pk,
        world.consumer_clerk.pk,
    )
    assert log_verify().ok is True


def test_asking_for_fields_returns_those_and_a_field_outside_the_grant_is_refused(
    tmp_path: Path,
) -> None:
    world = make_world(tmp_path, sharing_class=SharingClass.UNCONDITIONAL)
    make_grant(world.resource, world.consumer, fields=["name", "marital"])
    assert query(world, fields=["marital"]).records == [{"marital": world.rows[0]["marital"]}]
    error = refused(world, fields=["name", "phone", "address"])
    assert (error.status, error.code, error.extra) == (
        403,
        "exchange.field_not_granted",
        {"fields": ["address", "phone"]},
    )
    assert "address、phone" in str(error.message)
    error = refused(world, fields=["salary"])
    assert (error.status, error.code) == (422, "exchange.unknown_field")
    assert the_log() == [
        ("answered", ""),
        ("refused", "exchange.field_not_granted"),
        ("refused", "exchange.unknown_field"),
    ]


def test_no_grant_expired_revoked_not_shared_and_withdrawn_are_refused(tmp_path: Path) -> None:
    world = make_world(tmp_path, sharing_class=SharingClass.UNCONDITIONAL)
    assert refused(world).code == "exchange.no_grant"
    grant = make_grant(
        world.resource,
        world.consumer,
        valid_from=timezone.now() - timedelta(days=2),
        valid_until=timezone.now() - timedelta(days=1),
    )
    assert refused(world).code == "exchange.grant_expired"
    grant.valid_until = None
    grant.revoked_at = timezone.now()
    grant.revoke_reason = "超范围使用"
    grant.save()
    error = refused(world)
    assert (error.status, error.code) == (403, "exchange.grant_revoked")
    assert "超范围使用" in str(error.message)
    make_grant(world.resource, world.consumer)
    assert len(query(world).records) == 1
    DataResource.objects.filter(pk=world.resource.pk).update(sharing_class=SharingClass.NONE)
    exchange_cache_bump()  # a bulk update sends no signal
    assert refused(world).code == "exchange.not_shared"
    DataResource.objects.filter(pk=world.resource.pk).update(
        sharing_class=SharingClass.UNCONDITIONAL, status=DataResource.Status.WITHDRAWN
    )
    exchange_cache_bump()
    assert refused(world).code == "exchange.resource_unavailable"
    assert refused(world, resource_code="NOPE").code == "exchange.resource_not_found"
    assert [code for _o, code in the_log()] == [
        "exchange.no_grant",
        "exchange.grant_expired",
        "exchange.grant_revoked",
        "",
        "exchange.not_shared",
        "exchange.resource_unavailable",
        "exchange.resource_not_found",
    ]
    assert AccessLogEntry.objects.get(resource_code="NOPE").owner_id == 0
    assert log_verify().ok is True


def test_a_conditional_resource_needs_a_case_of_the_consumer_and_a_granted_item(
    tmp_path: Path,
) -> None:
    world = make_world(tmp_path)
    case = case_of(world)
    item_code = ApplicationFactory._meta.model.objects.get(number=case).item.task_code
    make_grant(world.resource, world.consumer, item_codes=[item_code])
    assert refused(world).code == "exchange.case_required"
    assert refused(world, case_number=case).code == "exchange.case_required"  # no purpose
    other_case = str(ApplicationFactory(department=world.other).number)
    error = refused(world, case_number=other_case, purpose="核验")
    assert (error.status, error.code) == (403, "exchange.case_not_of_consumer")
    assert refused(world, case_number="NO-SUCH", purpose="核验").code == (
        "exchange.case_not_of_consumer"
    )
    other_item_case = case_of(world)
    assert refused(world, case_number=other_item_case, purpose="核验").code == (
        "exchange.item_not_granted"
    )
    assert len(query(world, case_number=case, purpose="核验").records) == 1
    # a department with a task on another department's case takes part in it
    TaskFactory(
        application=ApplicationFactory._meta.model.objects.get(number=other_case),
        department=world.consumer,
    )
    assert refused(world, case_number=other_case, purpose="核验").code == (
        "exchange.item_not_granted"
    )


def test_a_bad_id_number_is_422_with_a_chinese_message_and_logged(tmp_path: Path) -> None:
    world = make_world(tmp_path, sharing_class=SharingClass.UNCONDITIONAL)
    make_grant(world.resource, world.consumer)
    good = world.rows[0]["id_number"]
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    error = refused(world, key=wrong)
    assert (error.status, error.code) == (422, "exchange.invalid_key")
    assert "校验位错误" in str(error.message)
    assert the_log() == [("refused", "exchange.invalid_key")]


def test_the_rate_limit_is_per_consumer_and_resource_per_minute(tmp_path: Path) -> None:
    world = make_world(tmp_path, sharing_class=SharingClass.UNCONDITIONAL)
    make_grant(world.resource, world.consumer, rate_limit_per_minute=2)
    make_grant(world.resource, world.other, rate_limit_per_minute=2)
    query(world)
    query(world)
    error = refused(world)
    assert (error.status, error.code) == (429, "exchange.rate_limited")
    assert len(query(world, consumer=world.other).records) == 1  # another consumer's budget
    assert the_log() == [
        ("answered", ""),
        ("answered", ""),
        ("refused", "exchange.rate_limited"),
        ("answered", ""),
    ]


def test_an_owner_store_that_is_down_fails_loudly_and_no_record_is_an_answer(
    tmp_path: Path,
) -> None:
    world = make_world(tmp_path, sharing_class=SharingClass.UNCONDITIONAL)
    make_grant(world.resource, world.consumer)
    assert len(query(world).records) == 1
    nobody = query(world, key=make_id_number(999, birth="19500101"))
    assert (nobody.records, nobody.fields[:1]) == ([], ["id_number"])
    (tmp_path / "owner.sqlite3").unlink()
    with pytest.raises(SourceUnavailable) as caught:
        query(world)
    assert caught.value.status == 503
    assert the_log() == [
        ("answered", ""),
        ("answered", ""),
        ("failed", "exchange.source_unavailable"),
    ]
    assert AccessLogEntry.objects.order_by("seq").last().result_size == 0  # type: ignore[union-attr]


def test_mask_address_keeps_the_district_or_county() -> None:
    assert mask_address("安徽省六安市霍山县衡山镇1号") == "安徽省六安市霍山县" + "*" * 5
    assert mask_address("六安市梅山路8号") == "六安市" + "*" * 5
    assert mask_address("") == ""
    assert mask_address("某地") == "某*"


def test_a_hotline_order_of_the_consumer_is_a_case_too(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    make_grant(world.resource, world.consumer)
    WorkOrder.objects.create(
        number="GD2026112700000077",
        channel="api",
        title="噪音扰民",
        content="夜间施工",
        citizen=world.citizen,
        status="dispatched",
        registered_at=timezone.now(),
        lead_unit=world.consumer,
    )
    answer = query(world, case_number="GD2026112700000077", purpose="核实诉求人身份")
    assert len(answer.records) == 1
    error = refused(world, consumer=world.other, case_number="GD2026112700000077", purpose="核实")
    assert error.code == "exchange.no_grant"
    make_grant(world.resource, world.other)
    error = refused(world, consumer=world.other, case_number="GD2026112700000077", purpose="核实")
    assert error.code == "exchange.case_not_of_consumer"
    # an assisting unit the order was dispatched to takes part too
    Assignment.objects.create(
        order=WorkOrder.objects.get(number="GD2026112700000077"),
        round=1,
        unit=world.other,
        role=Assignment.Role.ASSIST,
    )
    answer = query(world, consumer=world.other, case_number="GD2026112700000077", purpose="协办")
    assert len(answer.records) == 1


def test_a_citizen_reading_their_own_record_with_a_purpose_needs_no_case(
    tmp_path: Path,
) -> None:
    world = make_world(tmp_path)
    make_grant(world.resource, world.consumer)
    own = query(world, actor=world.citizen, purpose="申请表预填")
    assert [r["name"] for r in own.records] == [world.rows[0]["name"]]
    assert AccessLogEntry.objects.get().case_number == ""
    other_person = world.rows[1]["id_number"]
    assert refused(world, actor=world.citizen, key=other_person, purpose="申请表预填").code == (
        "exchange.case_required"
    )
    assert refused(world, actor=world.citizen).code == "exchange.case_required"  # no purpose
    assert refused(world, purpose="申请表预填").code == "exchange.case_required"  # staff
