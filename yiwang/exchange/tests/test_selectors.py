"""Reads: the catalogue, the subject's log, anomalies, collaboration figures, the command."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from yiwang.accounts.tests.factories import EnterpriseMemberFactory, make_uscc
from yiwang.applications.models import ApplicationMaterial
from yiwang.applications.tests.factories import ApplicationFactory
from yiwang.catalog.tests.factories import MaterialFactory
from yiwang.core.errors import DomainError
from yiwang.exchange import selectors, services
from yiwang.exchange.gateway import exchange_query
from yiwang.exchange.models import AccessAnomaly, AccessLogEntry, SharingClass, SubjectType
from yiwang.exchange.tests.factories import make_grant, make_resource, make_world, owner_sqlite
from yiwang.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_catalogue_lists_published_resources_and_searches(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    make_resource(world.owner, code="LA-DR-GA-002", name="户籍迁移", status="draft")
    make_resource(
        world.other, code="LA-DR-SW-001", name="完税证明", sharing_class=SharingClass.UNCONDITIONAL
    )
    assert [r.code for r in selectors.resources_catalogue()] == ["LA-DR-GA-001", "LA-DR-SW-001"]
    assert [r.code for r in selectors.resources_catalogue(q="完税")] == ["LA-DR-SW-001"]
    assert [r.code for r in selectors.resources_catalogue(sharing_class="conditional")] == [
        "LA-DR-GA-001"
    ]
    assert [r.code for r in selectors.resources_catalogue(owner_id=world.other.pk)] == [
        "LA-DR-SW-001"
    ]


def test_the_subject_sees_reads_of_their_id_number_and_their_enterprise(tmp_path: Path) -> None:
    world = make_world(tmp_path, sharing_class=SharingClass.UNCONDITIONAL)
    make_grant(world.resource, world.consumer)
    uscc = make_uscc(42)
    config = owner_sqlite(
        tmp_path / "scj.sqlite3", [{"uscc": uscc, "name": "六安某公司"}], table="ent", key="uscc"
    )
    enterprise_resource = make_resource(
        world.other,
        code="LA-DR-SC-001",
        fields=[
            {"key": "uscc", "label": "代码", "personal": False, "mask": ""},
            {"key": "name", "label": "名称", "personal": False, "mask": ""},
        ],
        subject_type=SubjectType.ENTERPRISE,
        sharing_class=SharingClass.UNCONDITIONAL,
        adapter_config=config,
    )
    make_grant(enterprise_resource, world.consumer)
    EnterpriseMemberFactory(user=world.citizen, enterprise__uscc=uscc)
    for key, code in (
        (world.rows[0]["id_number"], world.resource.code),
        (world.rows[1]["id_number"], world.resource.code),
        (uscc, "LA-DR-SC-001"),
    ):
        exchange_query(consumer=world.consumer, actor=None, resource_code=code, key=key)
    with pytest.raises(DomainError):  # refused reads are not shown to the subject
        exchange_query(
            consumer=world.other,
            actor=None,
            resource_code=world.resource.code,
            key=world.rows[0]["id_number"],
        )
    mine = selectors.access_log_of_subject(world.citizen)
    assert [e.resource_code for e in mine] == ["LA-DR-SC-001", "LA-DR-GA-001"]


def test_anomalies_are_flagged_once_and_notified_to_the_owners_officers(tmp_path: Path) -> None:
    world = make_world(tmp_path, rows=25, sharing_class=SharingClass.UNCONDITIONAL)
    make_grant(world.resource, world.consumer)
    for row in world.rows[:21]:
        exchange_query(
            consumer=world.consumer,
            actor=None,
            resource_code=world.resource.code,
            key=row["id_number"],
        )
    flagged = services.anomalies_detect()
    assert [(a.consumer_id, a.calls, a.subjects, a.cases) for a in flagged] == [
        (world.consumer.pk, 21, 21, 0)
    ]
    assert "未提供办件编号读取了21个不同主体的数据" in flagged[0].detail
    notices = Notification.objects.filter(event="exchange.anomaly")
    assert [n.recipient_id for n in notices] == [world.owner_officer.pk]
    assert services.anomalies_detect() == []  # an open flag is not repeated
    assert AccessAnomaly.objects.count() == 1
    assert list(selectors.anomalies_of_owner([world.owner.pk])) == flagged


def test_few_calls_with_cases_are_no_anomaly(tmp_path: Path) -> None:
    world = make_world(tmp_path, rows=5)
    make_grant(world.resource, world.consumer)
    case = ApplicationFactory(department=world.consumer).number
    for row in world.rows:
        exchange_query(
            consumer=world.consumer,
            actor=None,
            resource_code=world.resource.code,
            key=row["id_number"],
            case_number=case,
            purpose="核验",
        )
    assert services.anomalies_detect() == []


def test_collaboration_figures(tmp_path: Path) -> None:
    world = make_world(tmp_path, sharing_class=SharingClass.UNCONDITIONAL)
    make_grant(world.resource, world.consumer)
    conditional = make_resource(world.owner, code="LA-DR-GA-002")
    request = services.request_create(
        actor=world.consumer_officer,
        consumer=world.consumer,
        resource=conditional,
        fields=["name"],
        item_codes=[],
        purpose="核验",
    )
    services.request_refuse(actor=world.owner_officer, request=request, reason="不符合条件")
    exchange_query(
        consumer=world.consumer,
        actor=None,
        resource_code=world.resource.code,
        key=world.rows[0]["id_number"],
    )
    with pytest.raises(DomainError):
        exchange_query(
            consumer=world.other,
            actor=None,
            resource_code=world.resource.code,
            key=world.rows[0]["id_number"],
        )
    material = MaterialFactory(data_resource_code=world.resource.code)
    ApplicationMaterial.objects.create(
        application=ApplicationFactory(), material=material, name="户口簿", source="government"
    )
    now = timezone.now()
    figures = {
        f.department: f
        for f in selectors.collaboration_figures(
            since=now - timedelta(days=1), until=now + timedelta(minutes=1)
        )
    }
    owner = figures["测试公安局"]
    assert (
        owner.resources_published,
        owner.requests_received,
        owner.requests_answered,
        owner.calls_served,
        owner.refused_calls,
        owner.materials_saved,
    ) == (2, 1, 1, 1, 1, 1)
    assert owner.median_answer_hours == 0.0
    assert figures["测试自然资源局"].calls_made == 1


def test_the_command_queries_verifies_and_anchors(tmp_path: Path) -> None:
    world = make_world(tmp_path, sharing_class=SharingClass.UNCONDITIONAL)
    make_grant(world.resource, world.consumer, fields=["name"])
    out = StringIO()
    call_command(
        "exchange",
        "query",
        "--consumer",
        "t-zrzy",
        "--resource",
        world.resource.code,
        "--key",
        world.rows[0]["id_number"],
        stdout=out,
    )
    answer = json.loads(out.getvalue())
    assert (answer["records"], answer["log_seq"]) == ([{"name": world.rows[0]["name"]}], 1)
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command(
            "exchange",
            "query",
            "--consumer",
            "t-other",
            "--resource",
            world.resource.code,
            "--key",
            world.rows[0]["id_number"],
            stdout=out,
        )
    assert json.loads(out.getvalue())["code"] == "exchange.no_grant"
    out = StringIO()
    call_command("exchange", "verify-log", stdout=out)
    assert "access log intact: 2 rows" in out.getvalue()
    call_command("exchange", "anchor", stdout=StringIO())
    AccessLogEntry.objects.filter(seq=1).update(purpose="x")
    err = StringIO()
    with pytest.raises(SystemExit):
        call_command("exchange", "verify-log", stderr=err)
    assert "broken at seq 1" in err.getvalue()
