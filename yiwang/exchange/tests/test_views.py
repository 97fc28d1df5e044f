"""The exchange pages: the access matrix (citizen, other staff, the owner's data officer, the
consumer's data officer, the data bureau), forms whose bad input changes nothing, the decision
race, 共享查询 through the real gateway, the citizen's 用数记录 (their own entries only), and
escaping. The world is ``factories.make_world``: a population resource on a real SQLite file."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from yiwang.accounts.models import Department, Role, User
from yiwang.accounts.tests.factories import DepartmentFactory, UserFactory, staff_with_role
from yiwang.core.errors import DomainError
from yiwang.exchange import gateway
from yiwang.exchange.models import (
    AccessAnomaly,
    AccessLogEntry,
    DataResource,
    Grant,
    SharingClass,
    SharingRequest,
)
from yiwang.exchange.tests.factories import World, make_grant, make_world

pytestmark = pytest.mark.django_db

BASE = "/console/exchange/"


def _client(user: User | None = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _bureau() -> User:
    bureau = DepartmentFactory(code="la-sjzyj", name="六安市数据资源局")
    return staff_with_role(Role.DATA_OFFICER, bureau)


def _pending(world: World) -> SharingRequest:
    return SharingRequest.objects.create(
        resource=world.resource,
        consumer=world.consumer,
        requested_by=world.consumer_officer,
        fields=["name", "address"],
        item_codes=[],
        purpose="办理不动产登记",
    )


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


# --- the access matrix --------------------------------------------------------------------------


def _urls(world: World, grant: Grant, pending: SharingRequest) -> dict[str, str]:
    code = world.resource.code
    return {
        "home": BASE,
        "catalogue": BASE + "resources/",
        "resource": f"{BASE}resources/{code}/",
        "new": BASE + "resources/new/",
        "edit": f"{BASE}resources/{code}/edit/",
        "withdraw": f"{BASE}resources/{code}/withdraw/",
        "request_new": f"{BASE}resources/{code}/request/",
        "requests": BASE + "requests/",
        "request": f"{BASE}requests/{pending.pk}/",
        "grants": BASE + "grants/",
        "revoke": f"{BASE}grants/{grant.pk}/revoke/",
        "log": BASE + "log/",
        "anomalies": BASE + "anomalies/",
        "query": BASE + "query/",
        "figures": BASE + "figures/",
        "xlsx": BASE + "figures.xlsx",
        "mine": "/exchange/",
    }


STAFF_PAGES = ("home", "catalogue", "resource", "grants", "query")
OFFICER_PAGES = ("new", "requests", "log", "anomalies")
BUREAU_PAGES = ("figures", "xlsx")

EXPECTED: dict[str, dict[str, int]] = {
    # A citizen: no console page; their own 用数记录.
    "citizen": {
        **dict.fromkeys(STAFF_PAGES + OFFICER_PAGES + BUREAU_PAGES, 403),
        **dict.fromkeys(("edit", "withdraw", "request_new", "request", "revoke"), 403),
        "mine": 200,
    },
    # Staff of a third department without the data officer role.
    "other": {
        **dict.fromkeys(STAFF_PAGES, 200),
        **dict.fromkeys(OFFICER_PAGES + BUREAU_PAGES, 403),
        **dict.fromkeys(("edit", "withdraw", "request_new", "request", "revoke"), 403),
        "mine": 403,
    },
    "owner": {
        **dict.fromkeys(STAFF_PAGES + OFFICER_PAGES, 200),
        **dict.fromkeys(BUREAU_PAGES, 403),
        "edit": 200,
        "withdraw": 200,
        "request_new": 302,  # its own resource: nothing to ask for
        "request": 200,
        "revoke": 200,
        "mine": 403,
    },
    "consumer": {
        **dict.fromkeys(STAFF_PAGES + OFFICER_PAGES, 200),
        **dict.fromkeys(BUREAU_PAGES, 403),
        "edit": 404,
        "withdraw": 404,
        "request_new": 200,
        "request": 200,
        "revoke": 404,
        "mine": 403,
    },
    "bureau": {
        **dict.fromkeys(STAFF_PAGES + OFFICER_PAGES + BUREAU_PAGES, 200),
        "edit": 404,
        "withdraw": 404,
        "request_new": 200,
        "request": 404,
        "revoke": 404,
        "mine": 403,
    },
}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_the_access_matrix(world: World, who: str) -> None:
    grant = make_grant(world.resource, world.consumer, granted_by=world.owner_officer)
    pending = _pending(world)
    users = {
        "citizen": world.citizen,
        "other": world.other_clerk,
        "owner": world.owner_officer,
        "consumer": world.consumer_officer,
        "bureau": _bureau(),
    }
    client = _client(users[who])
    got = {name: client.get(url).status_code for name, url in _urls(world, grant, pending).items()}
    assert got == EXPECTED[who]


def test_anonymous_visitors_are_sent_to_the_login_page(world: World) -> None:
    for url in (BASE, BASE + "figures/", "/exchange/"):
        response = _client().get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_a_draft_is_hidden_from_staff_who_do_not_own_it(world: World) -> None:
    world.resource.status = DataResource.Status.DRAFT
    world.resource.save()
    url = f"{BASE}resources/{world.resource.code}/"
    assert _client(world.consumer_officer).get(url).status_code == 404
    assert _client(world.owner_officer).get(url).status_code == 200


# --- the catalogue and the resource page ------------------------------------------------------


def test_the_resource_page_names_the_adapter_kind_never_its_configuration(world: World) -> None:
    world.resource.adapter_config = {**world.resource.adapter_config, "password": "s3cret-pw"}
    world.resource.save()
    page = _client(world.consumer_officer).get(f"{BASE}resources/{world.resource.code}/")
    html = page.content.decode()
    assert "数据库视图" in html
    assert "s3cret-pw" not in html
    assert "owner.sqlite3" not in html
    assert "申请使用" in html  # a data officer of another department
    owner_html = _client(world.owner_officer).get(f"{BASE}resources/{world.resource.code}/")
    assert "申请使用" not in owner_html.content.decode()
    assert "s3cret-pw" not in owner_html.content.decode()


def test_the_catalogue_filters_and_escapes(world: World) -> None:
    world.resource.name = "<b>人口</b>基础信息"
    world.resource.save()
    other = DataResource.objects.create(
        code="LA-DR-T-009",
        name="车辆信息",
        owner=world.other,
        fields=[{"key": "plate", "label": "号牌", "personal": False, "mask": ""}],
        subject_type="vehicle",
        update_frequency="daily",
        legal_basis="依据",
        sharing_class=SharingClass.UNCONDITIONAL,
        adapter_kind="http",
        adapter_config={"url": "http://127.0.0.1:9/x"},
        status=DataResource.Status.PUBLISHED,
    )
    client = _client(world.other_clerk)
    html = client.get(BASE + "resources/").content.decode()
    assert "&lt;b&gt;人口&lt;/b&gt;基础信息" in html
    assert "<b>人口</b>" not in html
    assert other.name in html
    only = client.get(BASE + "resources/", {"sharing_class": "unconditional"}).content.decode()
    assert other.name in only
    assert "基础信息" not in only
    owner_only = client.get(BASE + "resources/", {"owner": world.other.pk}).content.decode()
    assert other.name in owner_only
    assert "基础信息" not in owner_only


# --- resource forms ---------------------------------------------------------------------------


def _resource_post(owner: Department, **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "owner": owner.pk,
        "code": "LA-DR-T-100",
        "name": "测试资源",
        "description": "",
        "subject_type": "111",
        "update_frequency": "daily",
        "legal_basis": "《政务信息资源共享管理暂行办法》",
        "sharing_class": "conditional",
        "sharing_condition": "限办理行政审批事项使用",
        "adapter_kind": "http",
        "adapter_config": '{"url": "http://127.0.0.1:9/lookup", "timeout_s": 2}',
        "rate_limit_per_minute": "600",
        "f-TOTAL_FORMS": "3",
        "f-INITIAL_FORMS": "0",
        "f-MIN_NUM_FORMS": "0",
        "f-MAX_NUM_FORMS": "60",
        "f-0-key": "name",
        "f-0-label": "姓名",
        "f-0-personal": "on",
        "f-0-mask": "name",
        "f-1-key": "",
        "f-1-label": "",
        "f-1-mask": "",
        "f-2-key": "",
        "f-2-label": "",
        "f-2-mask": "",
    }
    data.update(over)
    return data


@pytest.mark.parametrize(
    "bad",
    [
        {"f-1-key": "name", "f-1-label": "重复"},  # duplicate key
        {"f-0-key": "姓名"},  # not an identifier
        {"f-0-key": "", "f-0-label": ""},  # no field at all
        {"f-1-key": "phone"},  # a key without its label
        {"adapter_config": "{not json"},
        {"sharing_condition": ""},  # conditional without its condition
        {"code": ""},
    ],
)
def test_bad_resource_input_saves_nothing(world: World, bad: dict[str, str]) -> None:
    before = DataResource.objects.count()
    response = _client(world.owner_officer).post(
        BASE + "resources/new/", _resource_post(world.owner, **bad)
    )
    assert response.status_code == 422
    assert 'class="form-errors"' in response.content.decode()
    assert DataResource.objects.count() == before


def test_a_resource_is_created_with_its_rows_and_edited_keeping_its_config(world: World) -> None:
    client = _client(world.owner_officer)
    response = client.post(
        BASE + "resources/new/",
        _resource_post(world.owner, **{"f-1-key": "phone", "f-1-label": "电话"}),
    )
    assert response.status_code == 302
    made = DataResource.objects.get(code="LA-DR-T-100")
    assert made.owner == world.owner
    assert made.status == DataResource.Status.DRAFT
    assert made.fields == [
        {"key": "name", "label": "姓名", "personal": True, "mask": "name"},
        {"key": "phone", "label": "电话", "personal": False, "mask": ""},
    ]
    edit = client.get(f"{BASE}resources/{made.code}/edit/").content.decode()
    assert "127.0.0.1:9/lookup" not in edit  # the config is never shown back
    post = _resource_post(world.owner, name="改名后的资源", adapter_config="")
    post.update({"f-INITIAL_FORMS": "0"})
    resp = client.post(f"{BASE}resources/{made.code}/edit/", post)
    assert resp.status_code == 302
    made.refresh_from_db()
    assert made.name == "改名后的资源"
    assert made.adapter_config == {"url": "http://127.0.0.1:9/lookup", "timeout_s": 2}


def test_publish_and_withdraw_need_the_owner_and_a_reason(world: World) -> None:
    client = _client(world.owner_officer)
    url = f"{BASE}resources/{world.resource.code}/withdraw/"
    assert client.post(url, {"reason": "  "}).status_code == 422
    assert client.post(url, {"reason": "系统改造"}).status_code == 422  # no confirmation
    world.resource.refresh_from_db()
    assert world.resource.status == DataResource.Status.PUBLISHED
    assert (
        _client(world.consumer_officer).post(url, {"reason": "x", "confirm": "on"}).status_code
        == 404
    )
    assert client.post(url, {"reason": "系统改造", "confirm": "on"}).status_code == 302
    world.resource.refresh_from_db()
    assert world.resource.status == DataResource.Status.WITHDRAWN


# --- requests and decisions -----------------------------------------------------------------------


def test_a_request_without_fields_or_purpose_saves_nothing(world: World) -> None:
    url = f"{BASE}resources/{world.resource.code}/request/"
    client = _client(world.consumer_officer)
    for bad in (
        {"consumer": world.consumer.pk, "purpose": "办理不动产登记"},  # no field
        {"consumer": world.consumer.pk, "fields_wanted": ["name"], "purpose": " "},
        {"consumer": world.owner.pk, "fields_wanted": ["name"], "purpose": "x"},  # the owner
        {"consumer": world.consumer.pk, "fields_wanted": ["salary"], "purpose": "x"},
    ):
        assert client.post(url, bad).status_code == 422
    assert SharingRequest.objects.count() == 0


def test_a_conditional_request_goes_to_the_owner_who_approves_it(world: World) -> None:
    client = _client(world.consumer_officer)
    response = client.post(
        f"{BASE}resources/{world.resource.code}/request/",
        {
            "consumer": world.consumer.pk,
            "fields_wanted": ["address", "name"],
            "purpose": "二手房转移登记核验户籍",
            "item_codes": [],
        },
    )
    # 有条件共享 needs the items it is for.
    assert response.status_code == 422
    assert "有条件共享的资源须写明用于哪些事项" in response.content.decode()
    world.resource.sharing_class = SharingClass.UNCONDITIONAL
    world.resource.save()
    response = client.post(
        f"{BASE}resources/{world.resource.code}/request/",
        {
            "consumer": world.consumer.pk,
            "fields_wanted": ["address", "name"],
            "purpose": "二手房转移登记核验户籍",
        },
    )
    assert response.status_code == 302
    made = SharingRequest.objects.get()
    assert made.fields == ["name", "address"]  # the resource's order
    assert made.status == SharingRequest.Status.APPROVED  # unconditional: at once
    assert Grant.objects.filter(request=made).count() == 1


def test_bad_decisions_change_nothing(world: World) -> None:
    pending = _pending(world)
    url = f"{BASE}requests/{pending.pk}/"
    client = _client(world.owner_officer)
    for bad in (
        {"decision": "refuse", "reason": " "},
        {"decision": "approve", "fields_granted": []},
        {"decision": "approve", "fields_granted": ["name", "phone"]},  # phone not requested
        {"decision": "approve", "fields_granted": ["name"], "mask-name": "nonsense"},
        {"decision": "maybe"},
    ):
        assert client.post(url, bad).status_code == 422
    pending.refresh_from_db()
    assert pending.status == SharingRequest.Status.PENDING
    assert Grant.objects.count() == 0
    # The consumer's officer sees the request but cannot decide it.
    assert (
        _client(world.consumer_officer).post(url, {"decision": "refuse", "reason": "x"}).status_code
        == 403
    )


def test_approve_with_fewer_fields_and_masks(world: World) -> None:
    pending = _pending(world)
    response = _client(world.owner_officer).post(
        f"{BASE}requests/{pending.pk}/",
        {
            "decision": "approve",
            "fields_granted": ["address"],
            "mask-name": "name",
            "mask-address": "address",
            "valid_until": "2099-12-31",
            "rate_limit_per_minute": "30",
        },
    )
    assert response.status_code == 302
    grant = Grant.objects.get(request=pending)
    assert grant.fields == ["address"]
    assert grant.masks == {"address": "address"}
    assert grant.rate_limit_per_minute == 30
    # Valid through the chosen day: the page shows that day, not the midnight after it.
    grants = _client(world.owner_officer).get(BASE + "grants/").content.decode()
    assert "2099-12-31" in grants
    assert "2100-01-01" not in grants
    page = _client(world.consumer_officer).get(f"{BASE}requests/{pending.pk}/").content.decode()
    assert "户籍地址：地址脱敏" in page


def test_refuse_with_reasons(world: World) -> None:
    pending = _pending(world)
    response = _client(world.owner_officer).post(
        f"{BASE}requests/{pending.pk}/", {"decision": "refuse", "reason": "用途与所列信息项不符"}
    )
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == SharingRequest.Status.REFUSED
    assert pending.decision_reason == "用途与所列信息项不符"
    page = _client(world.consumer_officer).get(f"{BASE}requests/{pending.pk}/").content.decode()
    assert "用途与所列信息项不符" in page


def test_the_second_officer_to_decide_sees_a_conflict(world: World) -> None:
    pending = _pending(world)
    first = world.owner_officer
    second = staff_with_role(Role.DATA_OFFICER, world.owner)
    url = f"{BASE}requests/{pending.pk}/"
    loaded = _client(second).get(url)  # the second officer has the form open
    assert "提交审核结果" in loaded.content.decode()
    assert (
        _client(first).post(url, {"decision": "refuse", "reason": "不符合条件"}).status_code == 302
    )
    late = _client(second).post(
        url, {"decision": "approve", "fields_granted": ["name"], "mask-name": ""}
    )
    assert late.status_code == 409
    assert "该申请已由其他数据专员处理" in late.content.decode()
    pending.refresh_from_db()
    assert pending.status == SharingRequest.Status.REFUSED
    assert Grant.objects.count() == 0


# --- grants ---------------------------------------------------------------------------------------


def test_revoke_needs_a_reason_and_a_confirmation(world: World) -> None:
    grant = make_grant(world.resource, world.consumer, granted_by=world.owner_officer)
    url = f"{BASE}grants/{grant.pk}/revoke/"
    client = _client(world.owner_officer)
    assert client.post(url, {"reason": "", "confirm": "on"}).status_code == 422
    assert client.post(url, {"reason": "项目结束"}).status_code == 422
    grant.refresh_from_db()
    assert grant.revoked_at is None
    assert client.post(url, {"reason": "项目结束", "confirm": "on"}).status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    assert grant.revoke_reason == "项目结束"


def test_the_grants_page_shows_both_sides(world: World) -> None:
    make_grant(world.resource, world.consumer, granted_by=world.owner_officer)
    owner_html = _client(world.owner_officer).get(BASE + "grants/").content.decode()
    assert "本部门授予其他部门的" in owner_html
    assert world.consumer.name in owner_html
    clerk_html = _client(world.consumer_clerk).get(BASE + "grants/").content.decode()
    assert world.resource.name in clerk_html
    assert "撤销" not in clerk_html


# --- 共享查询 -------------------------------------------------------------------------------------


def test_a_query_answers_masked_and_is_logged(world: World) -> None:
    world.resource.sharing_class = SharingClass.UNCONDITIONAL
    world.resource.save()
    grant = make_grant(
        world.resource, world.consumer, fields=["name", "address"], masks={"name": "name"}
    )
    row = world.rows[0]
    response = _client(world.consumer_clerk).post(
        BASE + "query/",
        {"grant": grant.pk, "key": row["id_number"], "case_number": "", "purpose": "核验户籍"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "查询结果：1 条记录" in html
    assert row["address"] in html
    assert row["name"] not in html  # masked
    assert row["id_number"] not in html.replace(f'value="{row["id_number"]}"', "")
    entry = AccessLogEntry.objects.get()
    assert (entry.outcome, entry.actor_id, entry.purpose) == (
        "answered",
        world.consumer_clerk.pk,
        "核验户籍",
    )


def test_a_conditional_query_without_a_case_is_refused_clearly_and_logged(world: World) -> None:
    grant = make_grant(world.resource, world.consumer)
    response = _client(world.consumer_clerk).post(
        BASE + "query/", {"grant": grant.pk, "key": world.rows[0]["id_number"]}
    )
    assert response.status_code == 403
    assert "有条件共享的数据资源须提供办件编号和使用用途" in response.content.decode()
    assert list(AccessLogEntry.objects.values_list("outcome", "code")) == [
        ("refused", "exchange.case_required")
    ]


def test_staff_cannot_query_with_another_departments_grant(world: World) -> None:
    grant = make_grant(world.resource, world.consumer)
    response = _client(world.other_clerk).post(
        BASE + "query/", {"grant": grant.pk, "key": world.rows[0]["id_number"]}
    )
    assert response.status_code == 422  # not among their choices
    assert AccessLogEntry.objects.count() == 0


def test_query_results_are_escaped(tmp_path: Path) -> None:
    world = make_world(tmp_path, sharing_class=SharingClass.UNCONDITIONAL)
    import sqlite3

    conn = sqlite3.connect(tmp_path / "owner.sqlite3")
    conn.execute("UPDATE people SET marital = '<script>alert(1)</script>'")
    conn.commit()
    conn.close()
    grant = make_grant(world.resource, world.consumer, fields=["marital"])
    html = (
        _client(world.consumer_clerk)
        .post(BASE + "query/", {"grant": grant.pk, "key": world.rows[0]["id_number"]})
        .content.decode()
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html


# --- the owner's log and anomalies ------------------------------------------------------------


def _calls(world: World, *purposes: str, key_index: int = 0) -> None:
    for purpose in purposes:
        gateway.exchange_query(
            consumer=world.consumer,
            actor=world.consumer_clerk,
            resource_code=world.resource.code,
            key=world.rows[key_index]["id_number"],
            purpose=purpose,
        )


def test_the_owner_log_filters_and_pages(world: World) -> None:
    world.resource.sharing_class = SharingClass.UNCONDITIONAL
    world.resource.save()
    make_grant(world.resource, world.consumer)
    _calls(world, *[f"用途{n}" for n in range(35)])
    with pytest.raises(DomainError, match="未获得该数据资源的共享授权"):
        gateway.exchange_query(
            consumer=world.other,
            actor=world.other_clerk,
            resource_code=world.resource.code,
            key=world.rows[0]["id_number"],
        )
    client = _client(world.owner_officer)
    first = client.get(BASE + "log/").content.decode()
    assert "共 36 次调用" in first
    assert "第 1 / 2 页" in first
    refused = client.get(BASE + "log/", {"outcome": "refused"}).content.decode()
    assert "共 1 次调用" in refused
    assert "exchange.no_grant" in refused
    by_consumer = client.get(BASE + "log/", {"consumer": world.consumer.pk}).content.decode()
    assert "共 35 次调用" in by_consumer
    bad_dates = client.get(BASE + "log/", {"since": "2026-02-01", "until": "2026-01-01"})
    assert "结束日期不能早于开始日期" in bad_dates.content.decode()
    # The consumer's officer sees no calls of a resource they do not own.
    assert "共 0 次调用" in _client(world.consumer_officer).get(BASE + "log/").content.decode()


def test_an_anomaly_is_closed_with_a_note(world: World) -> None:
    from django.utils import timezone

    anomaly = AccessAnomaly.objects.create(
        resource=world.resource,
        consumer=world.consumer,
        window_start=timezone.now(),
        window_end=timezone.now(),
        calls=900,
        subjects=850,
        cases=2,
        detail="一小时内查询850人，只关联2个办件",
    )
    url = f"{BASE}anomalies/{anomaly.pk}/close/"
    assert _client(world.consumer_officer).post(url, {"note": "x"}).status_code == 404
    client = _client(world.owner_officer)
    assert "一小时内查询850人" in client.get(BASE + "anomalies/").content.decode()
    assert client.post(url, {"note": "  "}).status_code == 422
    anomaly.refresh_from_db()
    assert anomaly.closed_at is None
    assert client.post(url, {"note": "已核实，系批量核验"}).status_code == 302
    anomaly.refresh_from_db()
    assert anomaly.close_note == "已核实，系批量核验"


# --- the data bureau ------------------------------------------------------------------------------


def test_the_figures_page_and_its_excel(world: World) -> None:
    client = _client(_bureau())
    page = client.get(BASE + "figures/", {"since": "2026-01-01", "until": "2026-12-31"})
    assert page.status_code == 200
    assert "统计期间：2026-01-01 至 2026-12-31" in page.content.decode()
    response = client.get(BASE + "figures.xlsx", {"since": "2026-01-01", "until": "2026-12-31"})
    assert response["Content-Disposition"] == (
        'attachment; filename="exchange-figures-20260101-20261231.xlsx"'
    )
    book = load_workbook(BytesIO(response.content))
    header = [c.value for c in book.worksheets[0][1]]
    assert header[:2] == ["部门", "已发布资源"]


# --- the citizen's 用数记录 -----------------------------------------------------------------------


def test_a_citizen_sees_only_their_own_entries(world: World) -> None:
    world.resource.sharing_class = SharingClass.UNCONDITIONAL
    world.resource.save()
    make_grant(world.resource, world.consumer)
    _calls(world, "为本人核验户籍<i>")
    _calls(world, "为他人核验", key_index=1)
    html = _client(world.citizen).get("/exchange/").content.decode()
    assert "共 1 条记录" in html
    assert "为本人核验户籍&lt;i&gt;" in html
    assert "为他人核验" not in html
    assert world.consumer.name in html
    assert world.resource.name in html
    assert "/hotline/mailbox/" in html
    stranger = UserFactory()
    other_html = _client(stranger).get("/exchange/").content.decode()
    assert "还没有部门通过数据共享查看过您的信息" in other_html


def test_the_citizen_menu_links_to_the_record(world: World) -> None:
    html = _client(world.citizen).get("/accounts/me/").content.decode()
    assert 'href="/exchange/"' in html
    staff_html = _client(world.consumer_clerk).get("/accounts/me/").content.decode()
    assert 'href="/exchange/"' not in staff_html


def test_the_console_lists_the_exchange_for_data_officers(world: World) -> None:
    html = _client(world.owner_officer).get("/console/").content.decode()
    assert 'href="/console/exchange/"' in html
    assert 'href="/console/exchange/log/"' in html
    clerk = _client(world.consumer_clerk).get("/console/").content.decode()
    assert 'href="/console/exchange/query/"' in clerk
    assert 'href="/console/exchange/log/"' not in clerk
