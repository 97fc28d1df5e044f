"""The public catalog pages: what a citizen sees at /services/ and in a 办事指南."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import reverse
from lxml import etree

from yiwang.accounts.models import Role
from yiwang.accounts.tests.factories import DepartmentFactory, UserFactory, staff_with_role
from yiwang.catalog import guide
from yiwang.catalog.diagram import MAX_NODES
from yiwang.catalog.models import Bundle, ItemVersion, Material, Theme, TimeUnit
from yiwang.catalog.process import process_freeze
from yiwang.catalog.search import search_index_reset
from yiwang.catalog.tests.factories import (
    BundleFactory,
    BundleMemberFactory,
    FeeItemFactory,
    ItemVersionFactory,
    MaterialFactory,
    ProcessStepFactory,
    PublishedVersionFactory,
    ServiceItemFactory,
    SituationFactory,
    ThemeFactory,
)
from yiwang.catalog.tests.test_process_diagram import REVIEW_LOOP, chain

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_search_index() -> Iterator[None]:
    # The index lives for the process and is keyed by a stamp of the published catalog;
    # each test's catalog is new, so start from nothing rather than trust the stamp.
    search_index_reset()
    yield
    search_index_reset()


LIST_URL = "/services/"


def _guide_url(version: ItemVersion) -> str:
    return reverse("catalog:service_guide", args=[version.item.task_code])


def _material_names(html: str) -> list[str]:
    return re.findall(r'<p class="material-name"><strong>([^<]+)</strong>', html)


def _result_names(html: str) -> list[str]:
    return re.findall(r'<h3><a href="/services/[^"]+/">([^<]+)</a></h3>', html)


# --- list and search -----------------------------------------------------------------------


def test_list_shows_published_items_only():
    published = PublishedVersionFactory(name="住房公积金提取")
    ItemVersionFactory(name="草稿事项")
    retired = PublishedVersionFactory(name="停用事项")
    retired.status = ItemVersion.Status.RETIRED
    retired.save(update_fields=["status"])

    html = Client().get(LIST_URL).content.decode()

    assert _result_names(html) == ["住房公积金提取"]
    assert f'href="/services/{published.item.task_code}/"' in html
    assert "共 1 个事项" in html


def test_result_row_shows_department_type_time_limit_and_fully_online_marker():
    PublishedVersionFactory(
        name="社会保障卡申领",
        dept_name="六安市人力资源和社会保障局",
        project_type=ItemVersion.ProjectType.IMMEDIATE,
        promise_unit=TimeUnit.IMMEDIATE,
        promise_limit=None,
    )
    PublishedVersionFactory(name="建设工程规划许可", online_depth=ItemVersion.OnlineDepth.III)

    html = Client().get(LIST_URL).content.decode()

    assert '<p class="result-dept">六安市人力资源和社会保障局</p>' in html
    assert '<span class="badge type-badge">行政许可</span>' in html
    assert '<span class="badge limit-badge">即办</span>' in html
    assert '<span class="badge limit-badge">承诺 5 个工作日</span>' in html
    assert html.count('<span class="badge online-badge">可全程网办</span>') == 1
    assert "Ⅲ级：网上受理，最多跑一次" in html


def test_search_finds_by_name_and_keyword_and_hides_drafts():
    PublishedVersionFactory(name="住房公积金提取", keywords="公积金 提取")
    PublishedVersionFactory(name="住房公积金缴存登记")
    PublishedVersionFactory(name="居民身份证申领")
    ItemVersionFactory(name="公积金草稿")

    response = Client().get(LIST_URL, {"q": "公积金"})

    html = response.content.decode()
    assert response.status_code == 200
    assert sorted(_result_names(html)) == ["住房公积金提取", "住房公积金缴存登记"]
    assert "找到 2 个事项" in html
    assert 'value="公积金"' in html


def test_search_without_hits_says_so_and_offers_the_hotline():
    PublishedVersionFactory(name="居民身份证申领")

    html = Client().get(LIST_URL, {"q": "不存在的事"}).content.decode()

    assert _result_names(html) == []
    assert "没有找到与“不存在的事”相关的事项。" in html
    assert "12345" in html


def test_filters_by_department_and_audience_and_theme():
    housing = DepartmentFactory(name="六安市住房公积金管理中心")
    market = DepartmentFactory(name="六安市市场监督管理局")
    PublishedVersionFactory(name="公积金提取", item=ServiceItemFactory(department=housing))
    PublishedVersionFactory(
        name="营业执照办理",
        item=ServiceItemFactory(department=market),
        server_types=["企业法人"],
    )
    client = Client()

    by_department = client.get(LIST_URL, {"department": market.id}).content.decode()
    legal = client.get(LIST_URL, {"audience": "legal"}).content.decode()
    natural = client.get(LIST_URL, {"audience": "natural"}).content.decode()
    social = ThemeFactory(audience=Theme.Audience.NATURAL, name="社会保障")
    by_theme = client.get(LIST_URL, {"theme": social.id}).content.decode()

    assert _result_names(by_department) == ["营业执照办理"]
    assert (
        f'<option value="{market.id}" selected>六安市市场监督管理局（1）</option>' in by_department
    )
    assert _result_names(legal) == ["营业执照办理"]
    assert _result_names(natural) == ["公积金提取"]
    assert _result_names(by_theme) == ["公积金提取"]
    assert '<option value="">全部主题</option>' in natural


def test_bad_filter_values_are_ignored_not_errors():
    PublishedVersionFactory(name="公积金提取")

    response = Client().get(
        LIST_URL, {"department": "abc", "theme": "-1", "audience": "martian", "page": "x"}
    )

    assert response.status_code == 200
    assert _result_names(response.content.decode()) == ["公积金提取"]


def test_list_paginates_twenty_a_page():
    for i in range(23):
        PublishedVersionFactory(name=f"事项{i:02d}")
    client = Client()

    first = client.get(LIST_URL).content.decode()
    second = client.get(LIST_URL, {"page": 2}).content.decode()

    assert len(_result_names(first)) == 20
    assert _result_names(second) == ["事项20", "事项21", "事项22"]
    assert "第 2 页，共 2 页" in second
    assert 'rel="prev" href="?page=1"' in second


def test_list_query_count_does_not_grow_with_results(django_assert_num_queries):
    for i in range(5):
        PublishedVersionFactory(name=f"事项{i}")
    client = Client()
    client.get(LIST_URL)  # builds the search index

    with django_assert_num_queries(5):  # stamp, page's versions, departments, themes, count
        response = client.get(LIST_URL)

    assert len(_result_names(response.content.decode())) == 5
    for i in range(5, 15):
        PublishedVersionFactory(name=f"事项{i}")
    client.get(LIST_URL)
    with django_assert_num_queries(5):
        response = client.get(LIST_URL)
    assert len(_result_names(response.content.decode())) == 15


# --- the guide -----------------------------------------------------------------------------


def test_guide_shows_the_published_version():
    version = PublishedVersionFactory(
        name="住房公积金提取",
        dept_name="六安市住房公积金管理中心",
        accept_condition="缴存职工符合提取条件。",
        transact_addr="六安市政务服务中心三楼",
    )

    response = Client().get(_guide_url(version))

    html = response.content.decode()
    assert response.status_code == 200
    assert '<h1 id="guide-title">住房公积金提取</h1>' in html
    assert '<p class="guide-dept">六安市住房公积金管理中心</p>' in html
    assert "缴存职工符合提取条件。" in html
    assert "<dd>法定 20 个工作日，承诺 5 个工作日</dd>" in html
    assert "六安市政务服务中心三楼" in html
    assert "<p>不收费</p>" in html
    assert "办理需要多长时间？" in html
    assert _material_names(html) == ["居民身份证"]
    assert f'<a class="button" href="{version.online_url}" rel="noopener">在线办理</a>' in html
    assert "打印指南" in html


def test_guide_uses_the_published_version_not_a_newer_draft():
    published = PublishedVersionFactory(name="旧名称")
    ItemVersionFactory(item=published.item, number=2, name="新草稿名称")

    html = Client().get(_guide_url(published)).content.decode()

    assert '<h1 id="guide-title">旧名称</h1>' in html
    assert "新草稿名称" not in html


@pytest.mark.parametrize("status", [ItemVersion.Status.DRAFT, ItemVersion.Status.RETIRED])
def test_guide_of_an_unpublished_item_is_a_friendly_404(status: str):
    version = ItemVersionFactory(name="未发布事项", status=status)

    response = Client().get(_guide_url(version))

    html = response.content.decode()
    assert response.status_code == 404
    assert "<h1>没有找到这个事项</h1>" in html
    assert "未发布事项" not in html
    assert 'action="/services/"' in html


def test_guide_of_an_unknown_code_is_a_friendly_404():
    response = Client().get("/services/NO-SUCH-CODE/")

    assert response.status_code == 404
    assert "编码为“NO-SUCH-CODE”的事项不存在，或已停止办理。" in response.content.decode()


def test_situation_picker_filters_the_material_list():
    version = PublishedVersionFactory(name="住房公积金提取", children=False)
    buy = SituationFactory(version=version, code="buy", name="购买自住住房", sort_order=1)
    retire = SituationFactory(version=version, code="retire", name="离休、退休", sort_order=2)
    MaterialFactory(version=version, name="居民身份证", sort_order=1)
    MaterialFactory(version=version, name="购房合同", situations=[buy], sort_order=2)
    MaterialFactory(version=version, name="退休证明", situations=[retire], sort_order=3)
    client = Client()

    everything = client.get(_guide_url(version)).content.decode()
    buying = client.get(_guide_url(version), {"situation": "buy"}).content.decode()
    unknown = client.get(_guide_url(version), {"situation": "nope"}).content.decode()

    assert _material_names(everything) == ["居民身份证", "购房合同", "退休证明"]
    assert _material_names(buying) == ["居民身份证", "购房合同"]
    assert "<h3>购买自住住房还需提交</h3>" in buying
    assert "<h3>所有情形都需提交</h3>" in buying
    assert 'href="?situation=buy#materials"' in buying
    assert 'aria-current="true">购买自住住房</a>' in buying
    assert _material_names(unknown) == _material_names(everything)


def test_material_details_badges_shared_and_downloads():
    version = PublishedVersionFactory(children=False)
    MaterialFactory(
        version=version,
        name="户口簿",
        source=Material.Source.GOVERNMENT,
        certificate_type_code="11100000000013338W001",
        sort_order=1,
    )
    MaterialFactory(
        version=version,
        name="申请表",
        necessity=Material.Necessity.TOLERATED,
        kind=Material.Kind.COPY,
        form=Material.Form.PAPER,
        paper_count=2,
        blank_form="catalog/forms/apply.docx",
        sample_file="catalog/samples/apply-sample.pdf",
        sort_order=2,
    )
    MaterialFactory(
        version=version,
        name="结婚证",
        source=Material.Source.GOVERNMENT,
        necessity=Material.Necessity.OPTIONAL,
        sort_order=3,
    )

    html = Client().get(_guide_url(version)).content.decode()

    assert html.count("无需提交，由部门共享获取") == 1
    assert '<span class="badge necessity-tolerated">容缺</span>' in html
    assert '<span class="badge necessity-optional">非必要</span>' in html
    # The required 户口簿 is fetched by the department: "免提交" rather than "必要".
    assert re.search(r"户口簿</strong>\s*<span class=.badge necessity-shared.>免提交<", html)
    assert "necessity-required" not in html
    assert '<p class="material-meta">复印件 · 纸质 · 2 份</p>' in html
    assert "来源：政府部门核发" in html
    assert 'href="/media/catalog/forms/apply.docx" download>下载空白表格</a>' in html
    assert 'href="/media/catalog/samples/apply-sample.pdf" download>下载示例样表</a>' in html


def test_guide_immediate_item_fees_and_external_link_out():
    version = PublishedVersionFactory(
        name="交通违章处理",
        project_type=ItemVersion.ProjectType.IMMEDIATE,
        anticipate_limit=None,
        anticipate_unit="",
        promise_limit=None,
        promise_unit=TimeUnit.IMMEDIATE,
        external_system=True,
        online_url="https://ah.122.gov.cn/",
        is_fee=True,
        fee_basis="《道路交通安全法》",
    )
    FeeItemFactory(version=version, name="罚款", standard="按处罚决定书")

    html = Client().get(_guide_url(version)).content.decode()

    assert "<dd>即办</dd>" in html
    assert (
        '<a class="button" href="https://ah.122.gov.cn/" rel="noopener external">前往办理' in html
    )
    assert "点击后将离开本平台" in html
    assert "在线办理</a>" not in html
    assert "<strong>罚款</strong>：按处罚决定书" in html


def test_guide_lists_the_steps_when_the_process_cannot_be_drawn():
    # A custom process larger than the picture's limit: the page lists the steps instead.
    version = PublishedVersionFactory(
        children=False, bpmn_xml=chain(MAX_NODES - 1), bpmn_custom=True
    )
    ProcessStepFactory(version=version, name="受理", sort_order=1, time_limit=1)
    ProcessStepFactory(version=version, name="审查", sort_order=2, time_limit=3)

    html = Client().get(_guide_url(version)).content.decode()

    assert "process-figure" not in html
    assert "process-diagram" not in html
    assert '<ol id="process-steps" class="step-list">' in html
    assert "<li><strong>受理</strong>（1 个工作日）</li>" in html
    assert "<li><strong>审查</strong>（3 个工作日）</li>" in html


def test_guide_draws_the_process_when_it_can_be_drawn():
    version = PublishedVersionFactory()
    process_freeze(version)

    html = Client().get(_guide_url(version)).content.decode()

    assert '<figure class="process-figure" aria-describedby="process-steps"><svg ' in html
    assert 'role="img"' in html
    assert "从申请开始，进入受理（1个工作日）；受理之后，进入审查（1个工作日）；" in html
    assert '<ol id="process-steps" class="step-list visually-hidden">' in html


def test_guide_draws_a_custom_process_with_its_branch_loop_and_parallel_tasks():
    version = PublishedVersionFactory(children=False, bpmn_xml=REVIEW_LOOP, bpmn_custom=True)

    html = Client().get(_guide_url(version)).content.decode()

    figure = re.search(r'<figure class="process-figure">(<svg .*?</svg>)</figure>', html, re.S)
    assert figure is not None
    svg = etree.fromstring(figure.group(1).encode("utf-8"))
    ns = {"svg": "http://www.w3.org/2000/svg"}
    names = svg.xpath("//svg:g/svg:title/text()", namespaces=ns)
    assert names == [
        "提交申请",
        "受理",
        "审查",
        "通过？",
        "决定",
        "退回补正",
        "并行分支或汇合",
        "制证",
        "通知申请人领取证照",
        "并行分支或汇合",
        "办结",
    ]
    shown = svg.xpath("//svg:text/text()", namespaces=ns)
    for name in ("受理", "审查", "决定", "退回补正", "制证", "通过？", "是", "否"):
        assert name in shown
    assert svg.xpath("//svg:desc/text()", namespaces=ns)[0].startswith(
        "从提交申请开始，进入受理；受理之后，进入审查（3个工作日）；审查之后，判断“通过？”"
    )
    # no steps of its own: nothing visually hidden, nor the generic sentence
    assert "process-steps" not in html
    assert "提交申请 → 受理" not in html


def test_guide_query_count_does_not_grow_with_materials(django_assert_max_num_queries):
    version = PublishedVersionFactory(children=False)
    situation = SituationFactory(version=version)
    for i in range(3):
        MaterialFactory(version=version, situations=[situation], sort_order=i)
    client = Client()
    client.get(_guide_url(version))

    with django_assert_max_num_queries(12) as few:
        client.get(_guide_url(version))
    for i in range(3, 12):
        MaterialFactory(version=version, situations=[situation], sort_order=i)
    with django_assert_max_num_queries(12) as many:
        html = client.get(_guide_url(version)).content.decode()

    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(_material_names(html)) == 12


def test_staff_preview_a_draft_citizens_and_the_public_see_the_published_version():
    department = DepartmentFactory()
    item = ServiceItemFactory(department=department)
    PublishedVersionFactory(item=item, name="已发布名称")
    ItemVersionFactory(item=item, number=2, name="修订中名称")
    url = reverse("catalog:service_guide", args=[item.task_code])
    admin = Client()
    admin.force_login(staff_with_role(Role.CATALOG_ADMIN, department=department))
    citizen = Client()
    citizen.force_login(UserFactory())

    previewed = admin.get(url, {"version": 2}).content.decode()

    assert '<h1 id="guide-title">修订中名称</h1>' in previewed
    assert "预览：第 2 版（草稿），尚未对公众发布。" in previewed
    for client in (citizen, Client()):
        html = client.get(url, {"version": 2}).content.decode()
        assert '<h1 id="guide-title">已发布名称</h1>' in html
        assert "预览" not in html


def test_preview_of_a_missing_version_number_is_a_404():
    department = DepartmentFactory()
    version = PublishedVersionFactory(item=ServiceItemFactory(department=department))
    client = Client()
    client.force_login(staff_with_role(Role.CATALOG_ADMIN, department=department))

    response = client.get(_guide_url(version), {"version": 9})

    assert response.status_code == 404


def test_time_limit_words():
    assert guide.time_limit_words(20, TimeUnit.WORKING_DAY) == "20 个工作日"
    assert guide.time_limit_words(30, TimeUnit.NATURAL_DAY) == "30 个自然日"
    assert guide.time_limit_words(4, TimeUnit.WORKING_HOUR) == "4 个工作小时"
    assert guide.time_limit_words(None, TimeUnit.IMMEDIATE) == "即办"
    assert guide.time_limit_words(None, TimeUnit.WORKING_DAY) == ""


# --- bundles -------------------------------------------------------------------------------


def _company_bundle() -> Bundle:
    lead = DepartmentFactory(name="六安市市场监督管理局")
    bundle = BundleFactory(
        code="qiye-kaiban",
        name="企业开办",
        status=Bundle.Status.PUBLISHED,
        lead_department=lead,
        promise_limit=1,
    )
    licence = PublishedVersionFactory(name="营业执照办理", children=False)
    seal = PublishedVersionFactory(name="公章刻制备案", children=False)
    MaterialFactory(version=licence, name="法定代表人身份证", sort_order=1)
    MaterialFactory(version=licence, name="公司章程", sort_order=2)
    MaterialFactory(version=seal, name="法定代表人身份证", sort_order=1)
    BundleMemberFactory(bundle=bundle, item=licence.item, sort_order=1)
    BundleMemberFactory(bundle=bundle, item=seal.item, sort_order=2)
    return bundle


def test_bundle_pages_show_members_lead_time_limit_and_one_set_of_materials():
    _company_bundle()
    BundleFactory(name="草稿一件事")
    client = Client()

    listing = client.get("/services/bundles/").content.decode()
    detail = client.get("/services/bundles/qiye-kaiban/").content.decode()

    assert '<a href="/services/bundles/qiye-kaiban/">企业开办</a>' in listing
    assert "含 2 个事项" in listing
    assert "草稿一件事" not in listing
    assert '<h1 id="bundle-title">企业开办</h1>' in detail
    assert "<dd>六安市市场监督管理局</dd>" in detail
    assert "承诺 1 个工作日 内办结" in detail
    members = detail.split('<ol class="member-list">')[1].split("</ol>")[0]
    assert re.findall(r'<a href="/services/[^"]+/">([^<]+)</a>', members) == [
        "营业执照办理",
        "公章刻制备案",
    ]
    assert _material_names(detail) == ["法定代表人身份证", "公司章程"]


def test_bundle_page_says_which_situation_needs_a_material():
    bundle = _company_bundle()
    transfer = PublishedVersionFactory(name="不动产转移登记", children=False)
    gift = SituationFactory(version=transfer, name="赠与")
    MaterialFactory(version=transfer, name="赠与合同", situations=[gift])
    BundleMemberFactory(bundle=bundle, item=transfer.item, sort_order=3)

    detail = Client().get("/services/bundles/qiye-kaiban/").content.decode()

    entry = detail.split("<strong>赠与合同</strong>")[1].split("</li>")[0]
    assert '<span class="badge">非必要</span>' in entry
    assert "仅以下情形需要：赠与（不动产转移登记）" in entry


def test_unpublished_bundle_is_a_404():
    BundleFactory(code="draft-bundle")

    assert Client().get("/services/bundles/draft-bundle/").status_code == 404


# --- the way in ----------------------------------------------------------------------------


def test_home_search_and_the_apply_card_lead_to_the_catalog():
    html = Client().get("/").content.decode()

    assert 'action="/services/"' in html
    assert '<a class="card-link" href="/services/">办事</a>' in html
