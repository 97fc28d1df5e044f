"""Chinese search over the published catalog: words, pinyin, initials, synonyms, ranking,
filters and the in-process index's refresh."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from yiwang.accounts.models import Role
from yiwang.accounts.tests.factories import DepartmentFactory, staff_with_role
from yiwang.catalog import services
from yiwang.catalog.models import Bundle, Faq, ItemVersion, Theme
from yiwang.catalog.search import (
    _score_or_mend,
    catalog_search,
    life_events,
    mend_typos,
    parse_query,
    search_index,
    search_index_reset,
    synonyms,
)
from yiwang.catalog.tests.factories import (
    BundleFactory,
    BundleMemberFactory,
    ItemVersionFactory,
    PublishedVersionFactory,
    SituationFactory,
    ThemeFactory,
    public_service_type,
)


@pytest.fixture(autouse=True)
def fresh_index() -> Iterator[None]:
    # The index lives per process; each test starts from its own database.
    search_index_reset()
    yield
    search_index_reset()


def names(q: str, **filters: object) -> list[str]:
    result = catalog_search(q=q, **filters)  # type: ignore[arg-type]
    return [hit.version.name for hit in result.items if hit.version is not None]


@pytest.fixture
def catalog(db: None) -> dict[str, ItemVersion]:
    """A small city catalog with the everyday items and a few near misses."""
    police = DepartmentFactory(code="lasgaj", name="六安市公安局")
    fund = DepartmentFactory(code="lasgjj", name="六安市住房公积金管理中心")
    civil = DepartmentFactory(code="lasmzj", name="六安市民政局")
    market = DepartmentFactory(code="lasscjgj", name="六安市市场监督管理局")
    env = DepartmentFactory(code="lassthjj", name="六安市生态环境局")
    service = public_service_type()

    def item(name: str, dept: object, **kwargs: object) -> ItemVersion:
        kwargs.setdefault("keywords", "")
        version: ItemVersion = PublishedVersionFactory(name=name, item__department=dept, **kwargs)
        return version

    return {
        "license_renew": item("机动车驾驶证换证", police, keywords="期满换证"),
        "license_lost": item("机动车驾驶证补领", police, keywords="遗失补证"),
        "id_card": item("居民身份证申领", police),
        "fund_withdraw": item("住房公积金提取", fund, item_type=service),
        "fund_loan": item("住房公积金个人住房贷款", fund, item_type=service),
        "dibao": item(
            "最低生活保障审核确认",
            civil,
            item_type=service,
            server_types=["自然人"],
        ),
        "food": item(
            "食品经营许可",
            market,
            server_types=["企业法人", "个体工商户"],
            result_name="食品经营许可证",
        ),
        "eia": item("建设项目环境影响评价文件审批", env, server_types=["企业法人"]),
    }


def test_a_plain_chinese_query_finds_the_item_by_name(catalog: dict[str, ItemVersion]):
    assert names("公积金提取")[0] == "住房公积金提取"
    assert names("身份证")[0] == "居民身份证申领"


def test_initials_and_full_pinyin_find_the_item(catalog: dict[str, ItemVersion]):
    assert set(names("gjj")[:2]) == {"住房公积金个人住房贷款", "住房公积金提取"}
    assert names("gongjijin")[0].startswith("住房公积金")
    assert names("gjj提取")[0] == "住房公积金提取"
    assert names("gongjijintiqu")[0] == "住房公积金提取"
    assert names("GJJ")[0].startswith("住房公积金")  # case and width do not matter
    assert names("ｇｊｊ")[0].startswith("住房公积金")


def test_colloquial_words_find_the_official_item(catalog: dict[str, ItemVersion]):
    assert names("驾照过期了怎么换")[0] == "机动车驾驶证换证"
    assert names("驾照丢了")[0] == "机动车驾驶证补领"
    assert names("低保")[0] == "最低生活保障审核确认"
    assert names("环评")[0] == "建设项目环境影响评价文件审批"
    assert names("我想开个饭店")[0] == "食品经营许可"


def test_the_synonym_table_is_ours_and_large_enough():
    table = synonyms()
    assert len(table) >= 60
    assert table["驾照"] == ("驾驶证", "机动车驾驶证")
    assert table["低保"] == ("最低生活保障",)
    assert table["环评"] == ("环境影响评价", "环境影响报告")
    assert table["户口本"] == ("户口簿", "户籍")


def test_stop_words_do_not_count_and_synonyms_add_official_words():
    query = parse_query("我想办低保")
    assert "w:最低生活保障" in query.terms
    assert "w:低保" in query.terms
    assert not any(t.endswith(":我想") or t == "w:办" for t in query.terms)


def test_a_name_match_beats_a_material_match(db: None):
    # every factory version asks for 居民身份证 as a material; only one is named after it
    other = PublishedVersionFactory(name="城乡居民养老保险参保登记", keywords="")
    named = PublishedVersionFactory(name="居民身份证换领", keywords="")
    result = catalog_search(q="居民身份证")
    assert [h.version.pk for h in result.items if h.version] == [named.pk, other.pk]
    assert result.items[0].score > result.items[1].score
    assert result.items[0].highlights == ["居民身份证"]


def test_a_situation_or_keyword_leads_to_the_item(db: None):
    fund = PublishedVersionFactory(name="住房公积金提取", keywords="")
    SituationFactory(version=fund, code="retire", name="离休、退休提取")
    PublishedVersionFactory(name="住房公积金缴存登记", keywords="")
    assert names("退休了取公积金")[0] == "住房公积金提取"


def test_filters_by_department_theme_audience_and_type(catalog: dict[str, ItemVersion]):
    police = catalog["id_card"].item.department
    assert police is not None
    assert set(names("证", department="lasgaj")) == {
        "机动车驾驶证换证",
        "机动车驾驶证补领",
        "居民身份证申领",
    }
    assert names("", department=police.pk) == names("", department="六安市公安局")
    assert set(names("", audience="legal")) == {"食品经营许可", "建设项目环境影响评价文件审批"}
    assert names("许可", audience="法人")[0] == "食品经营许可"
    assert "食品经营许可" not in names("", audience="natural")
    assert set(names("", item_type="14")) == {
        "住房公积金提取",
        "住房公积金个人住房贷款",
        "最低生活保障审核确认",
    }
    theme = ThemeFactory(audience=Theme.Audience.NATURAL, name="住房保障")
    catalog["fund_loan"].themes.add(theme)
    search_index_reset()  # themes of a published version do not change in production
    assert names("公积金", theme=theme.pk) == ["住房公积金个人住房贷款"]


def test_an_empty_query_browses_everything_in_pinyin_order(catalog: dict[str, ItemVersion]):
    result = catalog_search(q="  ", limit=3, offset=0)
    assert result.count == 8
    assert [h.version.name for h in result.items if h.version] == [
        "机动车驾驶证补领",
        "机动车驾驶证换证",
        "建设项目环境影响评价文件审批",
    ]
    assert {h.score for h in result.items} == {0.0}
    rest = catalog_search(q="", limit=10, offset=3)
    assert len(rest.items) == 5


def test_no_match_is_an_empty_result(catalog: dict[str, ItemVersion]):
    result = catalog_search(q="火星移民")
    assert (result.items, result.count) == ([], 0)


def test_drafts_and_retired_versions_are_not_found(db: None):
    ItemVersionFactory(name="城市道路挖掘许可")
    retired = PublishedVersionFactory(name="城市道路占用许可")
    retired.status = ItemVersion.Status.RETIRED
    retired.save(update_fields=["status"])
    assert names("城市道路") == []


def test_the_index_follows_publication_and_retirement(db: None):
    editor = staff_with_role(Role.CATALOG_ADMIN)
    first = PublishedVersionFactory(name="城市道路挖掘许可")
    assert names("挖掘") == ["城市道路挖掘许可"]
    # a new version is published: the old name is gone, the new one found, no reset needed
    draft = services.version_new_draft(actor=editor, item=first.item)
    services.version_update(actor=editor, version=draft, name="占道施工审批")
    services.version_submit(actor=editor, version=draft)
    services.version_publish(actor=staff_with_role(Role.CATALOG_ADMIN), version=draft)
    assert names("占道施工") == ["占道施工审批"]
    assert names("挖掘") == []
    # the item is retired: nothing is left
    services.version_retire(actor=editor, version=draft, reason="职能调整")
    assert names("占道施工") == []


def test_bundles_are_searched_on_request_only(db: None):
    member = PublishedVersionFactory(name="企业设立登记")
    bundle = BundleFactory(name="企业开办", status=Bundle.Status.PUBLISHED, keywords="开公司")
    BundleMemberFactory(bundle=bundle, item=member.item)
    BundleFactory(name="企业注销", status=Bundle.Status.DRAFT)
    assert names("开公司") == ["企业设立登记"]
    result = catalog_search(q="开公司", kind="bundle")
    assert [(h.kind, h.code, h.bundle) for h in result.items] == [("bundle", bundle.code, bundle)]
    everything = catalog_search(q="开公司", kind="all")
    assert {h.kind for h in everything.items} == {"item", "bundle"}


def test_a_page_costs_the_stamp_and_one_query_once_the_index_is_built(
    catalog: dict[str, ItemVersion], django_assert_num_queries
):
    catalog_search(q="证")  # builds the index
    with django_assert_num_queries(3):  # two stamp aggregates, the page's versions
        result = catalog_search(q="证", limit=5)
    assert len(result.items) == 5
    assert result.items[0].version is not None
    assert result.items[0].version.item.task_code  # loaded with the page, no extra query


def test_filler_phrases_are_dropped_but_never_empty_the_query():
    query = parse_query("请问我家需要什么材料去哪里办理低保")
    assert "w:最低生活保障" in query.terms
    for filler in ("需要", "什么", "哪里", "办理", "我家", "材料"):
        assert not any(t.endswith(":" + filler) for t in query.terms), filler
    # a query of filler only is taken as typed rather than reduced to nothing
    assert parse_query("怎么办").concepts
    assert parse_query("需要什么").concepts


def test_a_measure_word_inside_a_synonym_phrase_does_not_hide_it():
    # 注册个公司 is 注册公司 (a key) with 个 inside: the key applies as if typed without it
    assert "w:企业设立登记" in parse_query("想注册个公司").terms
    assert "w:企业设立登记" in parse_query("注册一家公司").terms
    # a measure word that splits no key stays: 个体户 is not 开体户
    assert "w:个体户" in parse_query("开个体户").terms or any(
        "个体" in t for t in parse_query("开个体户").terms
    )
    assert "w:企业设立登记" not in parse_query("注册个人信息").terms


def test_a_filler_heavy_query_still_finds_the_item(catalog: dict[str, ItemVersion]):
    assert names("请问我想开一个小吃店需要去哪里办什么手续呀")[0] == "食品经营许可"
    assert names("住房公积金怎么取出来")[0] == "住房公积金提取"


def test_a_lone_character_of_a_longer_query_does_not_make_a_hit(db: None):
    wanted = PublishedVersionFactory(name="住房公积金提取", keywords="")
    PublishedVersionFactory(name="开奖公证指引", keywords="")
    PublishedVersionFactory(name="延期签证", keywords="")
    query = parse_query("开公积金证")
    assert query.weak.count(True) == 2  # 开 and 证 beside 公积金
    found = catalog_search(q="开公积金证")
    assert [h.version.pk for h in found.items if h.version] == [wanted.pk]
    # alone, a character is the whole query and still finds what contains it
    assert "开奖公证指引" in names("开")


def test_acceptance_conditions_and_faq_questions_are_searched(db: None):
    PublishedVersionFactory(
        name="临时救助审批", keywords="", accept_condition="遭遇火灾等意外事件导致生活困难的家庭"
    )
    grant = PublishedVersionFactory(name="高龄津贴发放", keywords="")
    Faq.objects.create(version=grant, question="年满八十周岁的老年人能领多少", answer="按月发放")
    PublishedVersionFactory(name="建设工程消防验收", keywords="")
    assert names("家里遭遇火灾了")[0] == "临时救助审批"
    assert names("八十周岁")[0] == "高龄津贴发放"


def test_the_general_vocabulary_reaches_official_words():
    table = synonyms()
    assert len(table) >= 300
    for colloquial, official in (
        ("宝宝", "出生"),
        ("闯红灯", "交通违法"),
        ("房本", "不动产权证书"),
        ("奶茶店", "食品经营许可"),
        ("排污", "排污许可"),
        ("老人", "高龄"),
        ("欠薪", "劳动保障监察"),
        ("公租房", "公共租赁住房"),
    ):
        assert official in table[colloquial], colloquial


def test_this_citys_item_ranks_before_the_same_item_of_another_province(db: None):
    # given the same service twice: imported from another province (no department of ours,
    # Guangdong's division code) and implemented by one of our departments under a slightly
    # longer name, which alone would rank it second
    PublishedVersionFactory(
        name="企业设立登记", item__department=None, division_code="440000", keywords=""
    )
    PublishedVersionFactory(
        name="企业设立登记（六安）",
        item__department=DepartmentFactory(name="六安市市场监督管理局"),
        division_code="341500",
        keywords="",
    )

    assert names("企业设立登记") == ["企业设立登记（六安）", "企业设立登记"]


# --------------------------------------------------------------------------------------------
# Life events, typo mending, narrow groups


@pytest.fixture
def life(db: None) -> dict[str, ItemVersion]:
    """Items a citizen reaches by describing what happened, not by their names."""

    def item(name: str) -> ItemVersion:
        version: ItemVersion = PublishedVersionFactory(name=name, keywords="")
        return version

    return {
        "unemployment": item("失业保险金申领"),
        "injury": item("工伤认定申请"),
        "record": item("无犯罪记录证明开具"),
        "id_lost": item("居民身份证补领"),
        "fund": item("住房公积金提取"),
        "dibao": item("最低生活保障审核确认"),
        "card": item("社会保障卡申领"),
        "waste": item("城市建筑垃圾处置核准"),
        "decoration": item("住宅室内装饰装修备案"),
    }


def test_the_life_event_lexicon_is_ours_and_well_formed():
    events = life_events()
    assert len(events) >= 60
    by_name = {e.name: e for e in events}
    assert "失业保险金" in by_name["失业"].officials
    assert "工伤认定" in by_name["工伤"].officials
    # a cue of two parts: one wording of each, in any order
    assert any(len(cue) == 2 and "丢了" in cue[1] for cue in by_name["失业"].cues)
    # longest wording first inside a part, so 没有了 wins over 没了
    for event in events:
        for cue in event.cues:
            for part in cue:
                assert list(part) == sorted(part, key=len, reverse=True)


def test_a_life_event_finds_the_item_that_shares_no_word_with_it(life: dict[str, ItemVersion]):
    assert names("丢了工作")[0] == "失业保险金申领"
    assert names("工作没了怎么办")[0] == "失业保险金申领"
    assert names("被公司裁员了")[0] == "失业保险金申领"
    assert names("上班的时候摔伤了")[0] == "工伤认定申请"
    assert names("在工地干活被砸伤")[0] == "工伤认定申请"
    assert names("证明我没有案底")[0] == "无犯罪记录证明开具"


def test_a_life_event_does_not_take_what_another_query_means(life: dict[str, ItemVersion]):
    # 丢了 alone is still a lost card, not a lost job
    assert names("身份证丢了")[0] == "居民身份证补领"
    assert "w:失业保险金" not in parse_query("身份证丢了").terms
    # the cue's own words are weak: 丢了 of 丢了工作 does not bring the lost-card item
    assert "居民身份证补领" not in names("丢了工作")


def test_a_cue_never_cuts_a_word_or_a_synonym_key():
    # 装修 is a cue of 装修 (decoration), but inside the key 装修垃圾 it is not
    query = parse_query("装修垃圾清运")
    assert "w:垃圾处置" in query.terms
    assert "w:装饰装修" not in query.terms
    # 拿房 is not in 拿房本 (jieba cuts 拿/房本): no house purchase
    assert "w:转移登记" not in parse_query("拿房本去银行").terms
    # a lone character of a cue is context only: 伤 of 干活伤了 stays for the query
    assert "w:工伤认定" in parse_query("干活伤了手").terms
    assert "w:工伤认定" not in parse_query("伤了手").terms


def test_a_typo_is_mended_to_a_word_that_sounds_the_same(life: dict[str, ItemVersion]):
    index = search_index()
    assert mend_typos("公基金提取", index) == "公积金提取"
    assert mend_typos("低报", index) == "低保"
    assert mend_typos("社宝卡", index) == "社保卡"
    assert names("公基金提取")[0] == "住房公积金提取"
    assert names("低报")[0] == "最低生活保障审核确认"
    assert names("社宝卡怎么办")[0] == "社会保障卡申领"


def test_words_spelt_right_are_never_mended(life: dict[str, ItemVersion]):
    index = search_index()
    for q in ("开公司", "二手房过户", "员工开户", "签证延期", "公积金提取", "两年兵"):
        assert mend_typos(q, index) == q, q
    # nothing to mend in what is not Chinese, or in a lone character
    assert mend_typos("gjj!!", index) == "gjj!!"
    assert mend_typos("报", index) == "报"


def test_the_mending_is_a_fallback_for_poor_results_only(life: dict[str, ItemVersion]):
    index = search_index()
    # a query that finds what it says is kept as parsed
    right = parse_query("公积金提取")
    assert _score_or_mend(index, "公积金提取", right)[0] is right
    # a query with a typo that finds the item all the same is kept too: nothing to gain
    typed = parse_query("最底生活保障")
    found, _ = _score_or_mend(index, "最底生活保障", typed)
    assert found is typed or "w:最低生活保障" in found.terms
    # a poor one is replaced by its mended form
    poor = parse_query("公基金提取")
    mended, scores = _score_or_mend(index, "公基金提取", poor)
    assert mended is not poor
    assert "w:公积金" in mended.terms
    assert scores


def test_an_item_for_a_narrow_group_follows_the_general_item(db: None):
    general = PublishedVersionFactory(name="城镇职工基本养老保险关系转移接续申请", keywords="")
    narrow = PublishedVersionFactory(name="退役军人养老保险关系转移接续申请", keywords="")
    found = catalog_search(q="养老保险关系转移接续")
    assert [h.version.pk for h in found.items if h.version][:2] == [general.pk, narrow.pk]
    # who names the group gets its item first
    found = catalog_search(q="退役军人养老保险转移")
    assert found.items[0].version is not None
    assert found.items[0].version.pk == narrow.pk
