"""GET /api/v1/catalog/…: search, item detail, guide and bundles of the public catalog."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client

from yiwang.accounts.tests.factories import DepartmentFactory
from yiwang.api.pagination import MAX_PAGE_SIZE
from yiwang.catalog.models import Bundle, ItemVersion, Material, TimeUnit
from yiwang.catalog.search import search_index_reset
from yiwang.catalog.tests.factories import (
    BundleFactory,
    BundleMemberFactory,
    FeeItemFactory,
    ItemVersionFactory,
    LegalBasisFactory,
    MaterialFactory,
    PublishedVersionFactory,
    SituationFactory,
)


@pytest.fixture(autouse=True)
def fresh_index() -> Iterator[None]:
    search_index_reset()
    yield
    search_index_reset()


@pytest.fixture
def fund(db: None) -> ItemVersion:
    """住房公积金提取 with three situations, each with its own material, and a common one."""
    center = DepartmentFactory(code="lasgjj", name="六安市住房公积金管理中心")
    version: ItemVersion = PublishedVersionFactory(
        name="住房公积金提取",
        item__task_code="11341500MB1234567X4000117001",
        item__department=center,
        dept_name="六安市住房公积金管理中心",
        keywords="公积金 提取",
        is_fee=False,
        visit_count=0,
        promise_limit=3,
        promise_unit=TimeUnit.WORKING_DAY,
        anticipate_limit=5,
        anticipate_unit=TimeUnit.WORKING_DAY,
    )
    buy = SituationFactory(version=version, code="buy", name="购买自住住房", sort_order=1)
    retire = SituationFactory(version=version, code="retire", name="离休、退休", sort_order=2)
    MaterialFactory(version=version, name="购房合同", situations=[buy], sort_order=2)
    MaterialFactory(
        version=version,
        name="退休证明",
        situations=[retire],
        source=Material.Source.GOVERNMENT,
        data_resource_code="RS-RETIRE-01",
        sort_order=3,
    )
    LegalBasisFactory(version=version, law_name="《住房公积金管理条例》", article="第二十四条")
    return version


def test_search_returns_the_pagination_shape_best_match_first(fund: ItemVersion):
    PublishedVersionFactory(name="住房公积金缴存登记", keywords="")
    PublishedVersionFactory(name="居民身份证申领", keywords="")
    response = Client().get("/api/v1/catalog/items", {"q": "gjj提取"})
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["page"], body["page_size"]) == (2, 1, 20)
    first = body["items"][0]
    assert first == {
        "task_code": "11341500MB1234567X4000117001",
        "public_id": str(fund.item.public_id),
        "name": "住房公积金提取",
        "department": "六安市住房公积金管理中心",
        "department_code": "lasgjj",
        "item_type": "行政许可",
        "server_types": ["自然人"],
        "time_limit": "承诺 3 个工作日",
        "fully_online": True,
        "score": first["score"],
        "highlights": ["住房公积金提取"],
    }
    assert first["score"] > body["items"][1]["score"] > 0
    assert body["items"][1]["name"] == "住房公积金缴存登记"


def test_search_filters_and_pages(fund: ItemVersion):
    for n in range(3):
        PublishedVersionFactory(name=f"公积金测试事项{n}", keywords="")
    page = Client().get("/api/v1/catalog/items?q=公积金&page=2&page_size=2").json()
    assert (page["count"], page["page"], page["page_size"], len(page["items"])) == (4, 2, 2, 2)
    filtered = Client().get("/api/v1/catalog/items?q=公积金&department=lasgjj").json()
    assert [i["name"] for i in filtered["items"]] == ["住房公积金提取"]
    legal = Client().get("/api/v1/catalog/items?q=公积金&audience=legal").json()
    assert legal["count"] == 0


def test_an_empty_query_browses_all_published_items(fund: ItemVersion):
    ItemVersionFactory(name="草稿事项")
    body = Client().get("/api/v1/catalog/items").json()
    assert [i["name"] for i in body["items"]] == ["住房公积金提取"]
    assert body["items"][0]["score"] == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=0", "page"),
        ("page=abc", "page"),
        (f"page_size={MAX_PAGE_SIZE + 1}", "page_size"),
        ("audience=robots", "audience"),
        ("theme=0", "theme"),
        ("q=" + "证" * 101, "q"),
    ],
)
def test_bad_parameters_are_refused_with_422(db: None, query: str, field: str):
    response = Client().get(f"/api/v1/catalog/items?{query}")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_search_costs_a_fixed_number_of_queries(fund: ItemVersion, django_assert_num_queries):
    for n in range(15):
        PublishedVersionFactory(name=f"公积金事项{n}", keywords="")
    Client().get("/api/v1/catalog/items?q=公积金")  # builds the index
    with django_assert_num_queries(3):  # the index stamp (2) and the page's versions
        body = Client().get("/api/v1/catalog/items?q=公积金&page_size=10").json()
    assert len(body["items"]) == 10


def test_item_detail_has_every_public_element(fund: ItemVersion):
    FeeItemFactory(version=fund, name="工本费", standard="每证10元")
    response = Client().get(f"/api/v1/catalog/items/{fund.item.task_code}")
    assert response.status_code == 200
    body = response.json()
    assert body["task_code"] == fund.item.task_code
    assert body["version"] == 1
    assert body["department"] == {"code": "lasgjj", "name": "六安市住房公积金管理中心"}
    assert body["promise_limit"] == 3
    assert body["promise_unit"] == "working_day"
    assert [s["code"] for s in body["situations"]] == ["buy", "retire"]
    assert [(m["name"], m["situations"]) for m in body["materials"]] == [
        ("居民身份证", []),
        ("购房合同", ["buy"]),
        ("退休证明", ["retire"]),
    ]
    assert body["materials"][2]["data_resource_code"] == "RS-RETIRE-01"
    assert [f["name"] for f in body["fee_items"]] == ["工本费"]
    assert [s["name"] for s in body["steps"]] == ["受理", "审查", "决定", "办结", "送达"]
    assert len(body["faqs"]) == 1
    assert body["legal_bases"][0]["law_name"] == "《住房公积金管理条例》"
    assert body["result_sample"].endswith(".pdf")


def test_item_detail_costs_a_fixed_number_of_queries(
    fund: ItemVersion, django_assert_max_num_queries
):
    for n in range(10):
        MaterialFactory(version=fund, name=f"附加材料{n}")
    with django_assert_max_num_queries(10):
        response = Client().get(f"/api/v1/catalog/items/{fund.item.task_code}/guide")
    assert response.status_code == 200


def test_the_guide_groups_materials_by_situation_and_says_limits_in_words(fund: ItemVersion):
    response = Client().get(f"/api/v1/catalog/items/{fund.item.task_code}/guide")
    assert response.status_code == 200
    guide = response.json()
    assert guide["conditions"] == "申请人符合法定条件。"
    groups = [
        (g["situation"]["name"] if g["situation"] else None, [m["name"] for m in g["materials"]])
        for g in guide["materials"]
    ]
    assert groups == [
        (None, ["居民身份证"]),
        ("购买自住住房", ["购房合同"]),
        ("离休、退休", ["退休证明"]),
    ]
    retire_material = guide["materials"][2]["materials"][0]
    assert retire_material["fetched"] is True
    assert retire_material["source"] == "政府部门核发"
    assert guide["time_limits"] == {
        "statutory": "5 个工作日",
        "promised": "承诺 3 个工作日",
        "summary": "法定 5 个工作日，承诺 3 个工作日",
        "explain": "",
    }
    assert guide["visits"] == "零跑动（不需要到现场）"
    assert guide["fees"]["summary"] == "不收费"
    assert guide["where"] == "六安市政务服务中心一楼综合窗口"
    assert guide["online"]["depth"] == "全程网办（Ⅳ级）"
    assert guide["online"]["url"] == "https://www.ahzwfw.gov.cn/"


def test_the_guide_says_an_immediate_item_as_the_page_does(db: None):
    version = PublishedVersionFactory(
        name="即办事项",
        anticipate_limit=0,
        anticipate_unit=TimeUnit.IMMEDIATE,
        promise_limit=0,
        promise_unit=TimeUnit.IMMEDIATE,
        project_type=ItemVersion.ProjectType.IMMEDIATE,
    )
    page = Client().get(f"/services/{version.item.task_code}/").content.decode()

    guide = Client().get(f"/api/v1/catalog/items/{version.item.task_code}/guide").json()

    assert guide["time_limits"]["summary"] == "即办"  # not "法定 即办，即办"
    assert "法定 即办" not in page


@pytest.mark.parametrize("suffix", ["", "/guide"])
def test_unknown_draft_and_retired_items_are_404(db: None, suffix: str):
    draft = ItemVersionFactory(name="草稿事项")
    retired = PublishedVersionFactory(name="停用事项")
    retired.status = ItemVersion.Status.RETIRED
    retired.save(update_fields=["status"])
    for code in ("NO-SUCH-CODE", draft.item.task_code, retired.item.task_code):
        response = Client().get(f"/api/v1/catalog/items/{code}{suffix}")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "catalog.item_not_found"
        assert response.json()["task_code"] == code


def test_bundles_list_and_detail_merge_materials(fund: ItemVersion):
    other = PublishedVersionFactory(name="住房公积金缴存登记", keywords="")
    bundle = BundleFactory(
        code="house-fund",
        name="公积金一件事",
        status=Bundle.Status.PUBLISHED,
        lead_department=fund.item.department,
        promise_limit=3,
        promise_unit=TimeUnit.WORKING_DAY,
    )
    BundleMemberFactory(bundle=bundle, item=fund.item, sort_order=1)
    BundleMemberFactory(bundle=bundle, item=other.item, sort_order=2)
    BundleFactory(code="draft-bundle", name="草稿一件事", status=Bundle.Status.DRAFT)

    listing = Client().get("/api/v1/catalog/bundles").json()
    assert listing["count"] == 1
    assert listing["items"][0]["code"] == "house-fund"
    assert listing["items"][0]["time_limit"] == "承诺 3 个工作日"

    detail = Client().get("/api/v1/catalog/bundles/house-fund").json()
    assert [m["name"] for m in detail["members"]] == ["住房公积金提取", "住房公积金缴存登记"]
    assert detail["lead_department"] == {"code": "lasgjj", "name": "六安市住房公积金管理中心"}
    # 居民身份证 is asked once, by both members
    id_card = next(m for m in detail["materials"] if m["name"] == "居民身份证")
    assert id_card["task_codes"] == [fund.item.task_code, other.item.task_code]
    assert [m["name"] for m in detail["materials"]].count("居民身份证") == 1

    missing = Client().get("/api/v1/catalog/bundles/draft-bundle")
    assert missing.status_code == 404
    assert missing.json()["code"] == "catalog.bundle_not_found"
    assert missing.json()["bundle_code"] == "draft-bundle"
