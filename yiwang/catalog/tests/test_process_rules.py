"""DMN decision tables: validation, storage and evaluation (yiwang.catalog.process)."""

from __future__ import annotations

import pytest

from yiwang.accounts.models import Role
from yiwang.accounts.tests.factories import staff_with_role
from yiwang.catalog import errors
from yiwang.catalog.models import ItemVersion
from yiwang.catalog.process import process_validate, rules_evaluate, rules_set_dmn
from yiwang.catalog.tests.factories import ItemVersionFactory
from yiwang.core.errors import Conflict, ValidationError
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db

DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def rule(rid: str, age: str, reason: str, eligible: str, situation: str) -> str:
    return (
        f'<rule id="{rid}">'
        f'<inputEntry id="{rid}_a"><text>{age}</text></inputEntry>'
        f'<inputEntry id="{rid}_r"><text>{reason}</text></inputEntry>'
        f'<outputEntry id="{rid}_e"><text>{eligible}</text></outputEntry>'
        f'<outputEntry id="{rid}_s"><text>{situation}</text></outputEntry>'
        "</rule>"
    )


def gjj_table(hit_policy: str = "UNIQUE", rules: str | None = None) -> str:
    """公积金提取: who may withdraw, and under which situation."""
    if rules is None:
        rules = (
            rule("R1", "&gt;= 60", "-", "True", "'退休提取'")
            + rule("R2", "&lt; 60", "'购房'", "True", "'购房提取'")
            + rule("R3", "&lt; 60", "'离职'", "True", "'离职提取'")
            + rule("R4", "&lt; 60", "not in ['购房', '离职']", "False", "''")
        )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="{DMN13}" id="gjj" name="公积金提取" namespace="https://yiwang.example">
  <decision id="gjj_withdrawal" name="公积金提取资格">
    <decisionTable id="table1" hitPolicy="{hit_policy}">
      <input id="in_age" label="年龄">
        <inputExpression id="ie_age" typeRef="integer"><text>age</text></inputExpression>
      </input>
      <input id="in_reason" label="提取原因">
        <inputExpression id="ie_reason" typeRef="string"><text>reason</text></inputExpression>
      </input>
      <output id="out_eligible" label="可以提取" name="eligible" typeRef="boolean"/>
      <output id="out_situation" label="办理情形" name="situation" typeRef="string"/>
      {rules}
    </decisionTable>
  </decision>
</definitions>
"""


@pytest.fixture
def catalog_admin():
    return staff_with_role(Role.CATALOG_ADMIN)


@pytest.fixture
def gjj_version(catalog_admin):
    version = ItemVersionFactory(children=False, name="住房公积金提取")
    rules_set_dmn(actor=catalog_admin, version=version, dmn_xml=gjj_table())
    return version


def test_table_validates_and_describes_itself():
    parsed = process_validate(gjj_table(), kind="dmn")

    assert (parsed.kind, parsed.id, parsed.name) == ("dmn", "gjj_withdrawal", "公积金提取资格")
    assert parsed.inputs == ("age", "reason")
    assert parsed.outputs == ("eligible", "situation")
    assert (parsed.rule_count, parsed.hit_policy) == (4, "UNIQUE")


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({"age": 60, "reason": "退休"}, {"eligible": True, "situation": "退休提取"}),
        ({"age": 72, "reason": ""}, {"eligible": True, "situation": "退休提取"}),
        ({"age": 35, "reason": "购房"}, {"eligible": True, "situation": "购房提取"}),
        ({"age": 40, "reason": "离职"}, {"eligible": True, "situation": "离职提取"}),
        ({"age": 59, "reason": "旅游"}, {"eligible": False, "situation": ""}),
    ],
)
def test_gjj_eligibility(gjj_version, facts, expected):
    assert rules_evaluate(gjj_version, facts) == expected


def test_no_matching_rule_gives_empty_result(catalog_admin):
    version = ItemVersionFactory(children=False)
    rules_set_dmn(
        actor=catalog_admin,
        version=version,
        dmn_xml=gjj_table(rules=rule("R1", "&gt;= 60", "-", "True", "'退休提取'")),
    )

    assert rules_evaluate(version, {"age": 30, "reason": "购房"}) == {}


def test_unique_refuses_two_matching_rules_first_takes_the_first(catalog_admin):
    overlapping = rule("R1", "&gt;= 60", "-", "True", "'退休提取'") + rule(
        "R2", "-", "'购房'", "True", "'购房提取'"
    )
    unique = ItemVersionFactory(children=False)
    rules_set_dmn(actor=catalog_admin, version=unique, dmn_xml=gjj_table("UNIQUE", overlapping))
    first = ItemVersionFactory(children=False)
    rules_set_dmn(actor=catalog_admin, version=first, dmn_xml=gjj_table("FIRST", overlapping))

    with pytest.raises(ValidationError) as caught:
        rules_evaluate(unique, {"age": 65, "reason": "购房"})

    assert caught.value.code == errors.RULES_FAILED
    assert str(caught.value.message) == "命中策略为 UNIQUE，但第 1、2 条规则同时匹配。"
    assert rules_evaluate(first, {"age": 65, "reason": "购房"}) == {
        "eligible": True,
        "situation": "退休提取",
    }


def test_collect_returns_lists(catalog_admin):
    version = ItemVersionFactory(children=False)
    both = rule("R1", "&gt;= 60", "-", "True", "'退休提取'") + rule(
        "R2", "-", "'购房'", "True", "'购房提取'"
    )
    rules_set_dmn(actor=catalog_admin, version=version, dmn_xml=gjj_table("COLLECT", both))

    assert rules_evaluate(version, {"age": 65, "reason": "购房"}) == {
        "eligible": [True, True],
        "situation": ["退休提取", "购房提取"],
    }


def test_missing_fact_is_named(gjj_version):
    with pytest.raises(ValidationError) as caught:
        rules_evaluate(gjj_version, {"age": 30})

    assert caught.value.code == errors.RULES_FAILED
    assert str(caught.value.message) == "缺少事实：name 'reason' is not defined"


@pytest.mark.parametrize(
    ("facts", "message"),
    [
        ({"__class__": 1}, "事实名称“__class__”无效：须以字母开头，只含字母、数字和下划线。"),
        ({"len": 1}, "事实名称“len”无效：须以字母开头，只含字母、数字和下划线。"),
        ({"age": object()}, "事实“age”的值类型不受支持。"),
    ],
)
def test_bad_facts_are_refused(gjj_version, facts, message):
    with pytest.raises(ValidationError) as caught:
        rules_evaluate(gjj_version, facts)

    assert caught.value.code == errors.FACTS_INVALID
    assert str(caught.value.message) == message


def test_version_without_table():
    with pytest.raises(ValidationError) as caught:
        rules_evaluate(ItemVersionFactory(children=False), {"age": 60})

    assert caught.value.code == errors.DMN_MISSING
    assert str(caught.value.message) == "该事项版本没有配置 DMN 决策表。"


# --- invalid tables -----------------------------------------------------------------------


def invalid(xml: str) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        process_validate(xml, kind="dmn")
    assert caught.value.code == errors.DMN_INVALID
    return caught.value


def test_bpmn_is_not_dmn():
    err = invalid('<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"/>')

    assert err.extra["reason"] == "not_dmn"


def test_syntax_error_in_dmn_names_the_line():
    err = invalid(gjj_table().replace("</decision>", "</decisions>"))

    assert err.extra["reason"] == "syntax"
    assert err.extra["line"] == 15


def test_schema_violation_in_dmn():
    err = invalid(gjj_table().replace('<input id="in_age"', '<input bogus="x" id="in_age"'))

    assert err.extra["reason"] == "spiff"
    assert "bogus" in str(err.message)


def test_unsupported_hit_policy():
    err = invalid(gjj_table("ANY"))

    assert err.extra["reason"] == "hit_policy"
    assert str(err.message) == "不支持的命中策略 ANY，可用：UNIQUE、FIRST、COLLECT。"


@pytest.mark.parametrize(
    "cell",
    [
        "__import__('os').system('id')",
        "().__class__.__bases__[0].__subclasses__()",
        "open('/etc/passwd').read()",
        "[x for x in range(10**9)]",
    ],
)
def test_code_in_a_cell_is_refused(cell):
    err = invalid(gjj_table(rules=rule("R1", "&gt;= 60", "-", cell.replace("'", "&apos;"), "''")))

    assert err.extra["reason"] == "expression"
    assert str(err.message).startswith("第 1 条规则的表达式")


def test_code_in_an_input_cell_is_refused():
    err = invalid(gjj_table(rules=rule("R1", "in dir()", "-", "True", "''")))

    assert err.extra["reason"] == "expression"


# --- storage ------------------------------------------------------------------------------


def test_set_dmn_audits_and_empty_clears(catalog_admin, gjj_version):
    entry = AuditEntry.objects.get(action="catalog.rules_set_dmn")
    assert entry.after is not None
    assert (entry.after["decision"], entry.after["rules"]) == ("gjj_withdrawal", 4)

    rules_set_dmn(actor=catalog_admin, version=gjj_version, dmn_xml="")

    gjj_version.refresh_from_db()
    assert gjj_version.dmn_xml == ""
    assert AuditEntry.objects.filter(action="catalog.rules_cleared").count() == 1


def test_set_dmn_refuses_invalid_and_non_drafts(catalog_admin, gjj_version):
    stored = gjj_version.dmn_xml
    with pytest.raises(ValidationError):
        rules_set_dmn(actor=catalog_admin, version=gjj_version, dmn_xml="<nope/>")
    ItemVersion.objects.filter(pk=gjj_version.pk).update(status=ItemVersion.Status.PUBLISHED)
    with pytest.raises(Conflict) as caught:
        rules_set_dmn(actor=catalog_admin, version=gjj_version, dmn_xml=gjj_table("FIRST"))

    assert caught.value.code == errors.VERSION_IMMUTABLE
    gjj_version.refresh_from_db()
    assert gjj_version.dmn_xml == stored
    assert AuditEntry.objects.filter(action__startswith="catalog.rules").count() == 1
