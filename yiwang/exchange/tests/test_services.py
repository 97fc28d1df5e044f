"""Services of the exchange: catalogue, requests, decisions, revocation, anomalies."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from yiwang.core.errors import DomainError
from yiwang.core.models import AuditEntry
from yiwang.exchange import services
from yiwang.exchange.models import (
    AccessAnomaly,
    DataResource,
    Grant,
    SharingClass,
    SharingRequest,
)
from yiwang.exchange.tests.factories import PERSON_FIELDS, World, make_world

pytestmark = pytest.mark.django_db


def ask(world: World, **kwargs: object) -> SharingRequest:
    arguments: dict[str, object] = {
        "actor": world.consumer_officer,
        "consumer": world.consumer,
        "resource": world.resource,
        "fields": ["name", "address"],
        "item_codes": ["ITEM-1"],
        "purpose": "二手房转移登记核验户籍",
    }
    arguments.update(kwargs)
    return services.request_create(**arguments)  # type: ignore[arg-type]


def fails(expected: str, call: object, /, **kwargs: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(**kwargs)  # type: ignore[operator]
    assert caught.value.code == expected
    return caught.value


def save_kwargs(world: World, **kwargs: object) -> dict[str, object]:
    values: dict[str, object] = {
        "actor": world.owner_officer,
        "owner": world.owner,
        "code": "la-dr-ga-009",
        "name": "居住证信息",
        "description": "",
        "fields": PERSON_FIELDS,
        "subject_type": "111",
        "update_frequency": "daily",
        "legal_basis": "《居住证暂行条例》",
        "sharing_class": SharingClass.CONDITIONAL,
        "sharing_condition": "限审批使用",
        "adapter_kind": "http",
        "adapter_config": {"url": "http://127.0.0.1:9/x"},
    }
    values.update(kwargs)
    return values


def test_resource_save_publish_withdraw(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    resource = services.resource_save(**save_kwargs(world))  # type: ignore[arg-type]
    assert (resource.code, resource.status) == ("LA-DR-GA-009", "draft")
    fails(
        "core.forbidden",
        services.resource_save,
        **save_kwargs(world, actor=world.consumer_officer),
    )
    fails("exchange.invalid", services.resource_save, **save_kwargs(world, code="x y"))
    error = fails(
        "exchange.invalid", services.resource_save, **save_kwargs(world, sharing_condition="")
    )
    assert error.extra == {"field": "sharing_condition"}
    fails("exchange.invalid", services.resource_save, **save_kwargs(world, adapter_config={}))
    fails("exchange.duplicate", services.resource_save, **save_kwargs(world))
    published = services.resource_publish(actor=world.owner_officer, resource=resource)
    assert published.status == "published"
    assert published.published_at is not None
    fails("exchange.state", services.resource_publish, actor=world.owner_officer, resource=resource)
    fails(
        "exchange.state",
        services.resource_save,
        **save_kwargs(world, code="LA-DR-GA-010", resource=resource),
    )
    fails(
        "exchange.invalid",
        services.resource_withdraw,
        actor=world.owner_officer,
        resource=resource,
        reason=" ",
    )
    withdrawn = services.resource_withdraw(
        actor=world.owner_officer, resource=resource, reason="系统迁移"
    )
    assert withdrawn.status == "withdrawn"
    actions = list(
        AuditEntry.objects.filter(object_type="exchange.dataresource").values_list(
            "action", flat=True
        )
    )
    assert actions == [
        "exchange.resource_create",
        "exchange.resource_publish",
        "exchange.resource_withdraw",
    ]


def test_request_approve_once_then_conflict(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    request = ask(world)
    assert (request.status, request.fields) == ("pending", ["name", "address"])
    fails("exchange.duplicate", ask, world=world)
    until = timezone.now() + timedelta(days=365)
    fails(
        "core.forbidden",
        services.request_approve,
        actor=world.consumer_officer,
        request=request,
        fields=["name"],
        masks={},
        item_codes=[],
        valid_until=until,
    )
    fails(
        "exchange.invalid",
        services.request_approve,
        actor=world.owner_officer,
        request=request,
        fields=["name"],
        masks={"phone": "phone"},
        item_codes=[],
        valid_until=until,
    )
    fails(
        "exchange.invalid",
        services.request_approve,
        actor=world.owner_officer,
        request=request,
        fields=["name"],
        masks={},
        item_codes=[],
        valid_until=timezone.now() - timedelta(days=1),
    )
    # more than was asked for (phone was not requested)
    fails(
        "exchange.invalid",
        services.request_approve,
        actor=world.owner_officer,
        request=request,
        fields=["name", "phone"],
        masks={},
        item_codes=[],
        valid_until=until,
    )
    grant = services.request_approve(
        actor=world.owner_officer,
        request=request,
        fields=["name", "address"],
        masks={"address": "address"},
        item_codes=["ITEM-1"],
        valid_until=until,
    )
    assert (grant.fields, grant.masks, grant.item_codes, grant.rate_limit_per_minute) == (
        ["name", "address"],
        {"address": "address"},
        ["ITEM-1"],
        600,
    )
    error = fails(
        "exchange.state",
        services.request_approve,
        actor=world.owner_officer,
        request=request,
        fields=["name"],
        masks={},
        item_codes=[],
        valid_until=until,
    )
    assert error.status == 409
    fails(
        "exchange.state",
        services.request_refuse,
        actor=world.owner_officer,
        request=request,
        reason="迟了",
    )
    assert Grant.objects.count() == 1


def test_refuse_needs_a_reason_and_withdraw_only_pending(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    request = ask(world)
    fails(
        "exchange.invalid",
        services.request_refuse,
        actor=world.owner_officer,
        request=request,
        reason="",
    )
    refused = services.request_refuse(actor=world.owner_officer, request=request, reason="用途不明")
    assert (refused.status, refused.decision_reason) == ("refused", "用途不明")
    fails(
        "exchange.state", services.request_withdraw, actor=world.consumer_officer, request=request
    )
    second = ask(world)
    assert services.request_withdraw(actor=world.consumer_officer, request=second).status == (
        "withdrawn"
    )


def test_an_unconditional_resource_is_granted_on_request(tmp_path: Path) -> None:
    world = make_world(tmp_path, sharing_class=SharingClass.UNCONDITIONAL)
    request = ask(world, valid_until=timezone.localdate() + timedelta(days=30))
    request.refresh_from_db()
    assert (request.status, request.decision_reason) == ("approved", "无条件共享")
    grant = Grant.objects.get(request=request)
    assert (grant.granted_by_id, grant.fields, grant.masks) == (
        world.consumer_officer.pk,
        ["name", "address"],
        {},
    )
    assert timezone.localtime(grant.valid_until).date() == timezone.localdate() + timedelta(days=31)


def test_requests_are_validated(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    fails("core.forbidden", ask, world=world, actor=world.consumer_clerk)
    fails("exchange.invalid", ask, world=world, fields=["salary"])
    fails("exchange.invalid", ask, world=world, fields=[])
    fails("exchange.invalid", ask, world=world, purpose="  ")
    fails("exchange.own_resource", ask, world=world, consumer=world.owner, actor=world.admin)
    DataResource.objects.filter(pk=world.resource.pk).update(sharing_class=SharingClass.NONE)
    fails("exchange.not_shared", ask, world=world)
    assert SharingRequest.objects.count() == 0


def test_revoke_and_anomaly_close(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    grant = services.request_approve(
        actor=world.owner_officer,
        request=ask(world),
        fields=["name"],
        masks={},
        item_codes=[],
        valid_until=None,
    )
    fails(
        "exchange.invalid", services.grant_revoke, actor=world.owner_officer, grant=grant, reason=""
    )
    fails(
        "core.forbidden",
        services.grant_revoke,
        actor=world.consumer_officer,
        grant=grant,
        reason="x",
    )
    revoked = services.grant_revoke(actor=world.owner_officer, grant=grant, reason="超范围调用")
    assert (revoked.revoked_by_id, revoked.revoke_reason) == (world.owner_officer.pk, "超范围调用")
    fails(
        "exchange.state",
        services.grant_revoke,
        actor=world.owner_officer,
        grant=grant,
        reason="again",
    )
    now = timezone.now()
    anomaly = AccessAnomaly.objects.create(
        resource=world.resource,
        consumer=world.consumer,
        window_start=now - timedelta(days=1),
        window_end=now,
        calls=100,
        subjects=90,
        cases=1,
        detail="test",
    )
    closed = services.anomaly_close(actor=world.owner_officer, anomaly=anomaly, note="已核实")
    assert closed.close_note == "已核实"
    assert closed.closed_by_id == world.owner_officer.pk
    fails(
        "exchange.state",
        services.anomaly_close,
        actor=world.owner_officer,
        anomaly=anomaly,
        note="x",
    )


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_approvals_one_wins(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    request = ask(world)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve() -> None:
        barrier.wait()
        try:
            services.request_approve(
                actor=world.owner_officer,
                request=request,
                fields=["name"],
                masks={},
                item_codes=[],
                valid_until=None,
            )
            outcomes.append("granted")
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["exchange.state", "granted"]
    assert Grant.objects.count() == 1
