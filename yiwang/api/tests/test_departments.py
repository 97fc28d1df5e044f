"""GET /api/v1/departments: the public organisation tree, paginated."""

from __future__ import annotations

import pytest
from django.test import Client

from yiwang.accounts.models import Department
from yiwang.accounts.tests.factories import DepartmentFactory
from yiwang.api.pagination import MAX_PAGE_SIZE


@pytest.fixture
def tree(db: None) -> None:
    city = DepartmentFactory(
        code="lasrmzf", name="六安市人民政府", kind=Department.Kind.GOVERNMENT, sort_order=0
    )
    DepartmentFactory(code="lasjzj", name="六安市数据资源局", parent=city, sort_order=2)
    DepartmentFactory(code="lasscjgj", name="六安市市场监督管理局", parent=city, sort_order=1)
    county = DepartmentFactory(
        code="jzxrmzf",
        name="金寨县人民政府",
        kind=Department.Kind.GOVERNMENT,
        division_code="341524",
        parent=city,
        sort_order=3,
    )
    DepartmentFactory(code="jzxold", name="已撤并机构", parent=county, active=False)


def test_the_tree_comes_parents_first_in_order(tree: None):
    response = Client().get("/api/v1/departments")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    assert body["page"] == 1
    assert body["page_size"] == 20
    assert [(d["code"], d["parent"], d["depth"]) for d in body["items"]] == [
        ("lasrmzf", None, 0),
        ("lasscjgj", "lasrmzf", 1),
        ("lasjzj", "lasrmzf", 1),
        ("jzxrmzf", "lasrmzf", 1),
    ]
    assert body["items"][3] == {
        "code": "jzxrmzf",
        "name": "金寨县人民政府",
        "short_name": "",
        "kind": "government",
        "division_code": "341524",
        "parent": "lasrmzf",
        "depth": 1,
    }


def test_pages_split_the_list_and_a_page_past_the_end_is_empty(tree: None):
    second = Client().get("/api/v1/departments?page=2&page_size=3").json()
    assert [d["code"] for d in second["items"]] == ["jzxrmzf"]
    assert (second["count"], second["page"], second["page_size"]) == (4, 2, 3)
    beyond = Client().get("/api/v1/departments?page=9&page_size=3").json()
    assert beyond["items"] == []
    assert beyond["count"] == 4


def test_a_page_size_above_the_maximum_is_refused(tree: None):
    response = Client().get(f"/api/v1/departments?page_size={MAX_PAGE_SIZE + 1}")
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "page_size"
    assert error["message"] == f"不能大于 {MAX_PAGE_SIZE}。"


def test_the_list_costs_one_query_however_many_departments(
    tree: None, django_assert_max_num_queries
):
    DepartmentFactory.create_batch(30, parent=Department.objects.get(code="lasrmzf"))
    with django_assert_max_num_queries(1):
        response = Client().get("/api/v1/departments?page=2")
    assert response.json()["count"] == 34
