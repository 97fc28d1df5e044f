"""一件事 bundles (yiwang.catalog.bundles): services with their refusals and audit rows, and
the merged material list, form and time limit."""

from __future__ import annotations

from typing import Any

import pytest

from yiwang.accounts.models import Role
from yiwang.accounts.tests.factories import DepartmentFactory, StaffFactory, staff_with_role
from yiwang.catalog import bundles
from yiwang.catalog.models import Bundle, BundleMember, ItemVersion, Material, TimeUnit
from yiwang.catalog.tests.factories import (
    BundleFactory,
    BundleMemberFactory,
    ItemVersionFactory,
    MaterialFactory,
    PublishedVersionFactory,
    ServiceItemFactory,
    SituationFactory,
)
from yiwang.core.errors import Conflict, PermissionDenied, ValidationError
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db

ID_CARD_TYPE = "11100000MBDEM0015F001"


@pytest.fixture
def editor() -> Any:
    return staff_with_role(Role.CATALOG_ADMIN)


def _published_item(name: str, *, promise: int = 5, unit: str = TimeUnit.WORKING_DAY) -> Any:
    return PublishedVersionFactory(
        name=name, children=False, promise_limit=promise, promise_unit=unit
    )


def _json(value: Any) -> dict[str, Any]:
    assert isinstance(value, dict)
    return value


def _field(name: str, maps_to: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {"name": name, "label": "企业名称", "type": "text", "maps_to": maps_to, **extra}


# --- bundle_create ------------------------------------------------------------------------


def test_create_records_an_audit_row(editor: Any) -> None:
    lead = DepartmentFactory()
    other = DepartmentFactory()

    bundle = bundles.bundle_create(
        actor=editor,
        code="qykb-test",
        name=" 企业开办 ",
        lead_department=lead,
        promise_limit=1,
        promise_unit=TimeUnit.WORKING_DAY,
        cooperating_departments=[other, lead],
    )

    assert bundle.status == Bundle.Status.DRAFT
    assert bundle.name == "企业开办"
    assert list(bundle.cooperating_departments.all()) == [other]
    entry = AuditEntry.objects.get(action="catalog.bundle_create")
    assert entry.object_id == str(bundle.pk)
    assert entry.actor_id == editor.pk
    assert _json(entry.after)["code"] == "qykb-test"
    assert _json(entry.after)["promise_limit"] == 1
    assert _json(entry.after)["cooperating_department_ids"] == [other.pk]


def test_create_refuses_a_taken_code(editor: Any) -> None:
    existing = BundleFactory(code="taken")

    with pytest.raises(Conflict) as exc:
        bundles.bundle_create(
            actor=editor,
            code="taken",
            name="另一件事",
            lead_department=existing.lead_department,
            promise_limit=1,
            promise_unit=TimeUnit.WORKING_DAY,
        )

    assert exc.value.code == "catalog.bundle_code_taken"
    assert str(exc.value.message) == "一件事代码“taken”已被使用。"
    assert Bundle.objects.count() == 1
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    ("limit", "unit", "message"),
    [
        (None, TimeUnit.WORKING_DAY, "一件事的承诺办结时限须为正整数。"),
        (0, TimeUnit.WORKING_DAY, "一件事的承诺办结时限须为正整数。"),
        (3, "", "一件事须设定承诺办结时限的单位（工作日、自然日、工作小时或即办）。"),
        (3, TimeUnit.IMMEDIATE, "即办的一件事不应填写时限数值。"),
    ],
)
def test_create_refuses_a_bad_time_limit(editor: Any, limit: Any, unit: str, message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        bundles.bundle_create(
            actor=editor,
            code="x",
            name="一件事",
            lead_department=DepartmentFactory(),
            promise_limit=limit,
            promise_unit=unit,
        )

    assert exc.value.code == "catalog.bundle_time_limit_invalid"
    assert str(exc.value.message) == message
    assert not Bundle.objects.exists()


def test_create_refuses_a_non_editor() -> None:
    clerk = StaffFactory()

    with pytest.raises(PermissionDenied) as exc:
        bundles.bundle_create(
            actor=clerk,
            code="x",
            name="一件事",
            lead_department=DepartmentFactory(),
            promise_limit=1,
            promise_unit=TimeUnit.WORKING_DAY,
        )

    assert exc.value.code == "catalog.not_catalog_admin"
    assert not Bundle.objects.exists()
    assert not AuditEntry.objects.exists()


# --- members and form ---------------------------------------------------------------------


def test_add_member_makes_its_department_cooperate(editor: Any) -> None:
    bundle = BundleFactory()
    item = ServiceItemFactory()

    member = bundles.bundle_add_member(actor=editor, bundle=bundle, item=item, stage=1)

    assert (member.item, member.stage, member.required) == (item, 1, True)
    assert list(bundle.cooperating_departments.all()) == [item.department]
    entry = AuditEntry.objects.get(action="catalog.bundle_add_member")
    assert _json(entry.before)["members"] == []
    assert _json(entry.after)["members"] == [
        {"task_code": item.task_code, "stage": 1, "required": True}
    ]


def test_add_member_twice_is_refused(editor: Any) -> None:
    member = BundleMemberFactory()

    with pytest.raises(Conflict) as exc:
        bundles.bundle_add_member(actor=editor, bundle=member.bundle, item=member.item)

    assert exc.value.code == "catalog.bundle_member_duplicate"
    assert BundleMember.objects.count() == 1
    assert not AuditEntry.objects.exists()


def test_published_bundle_cannot_change(editor: Any) -> None:
    bundle = BundleFactory(status=Bundle.Status.PUBLISHED)

    with pytest.raises(Conflict) as exc:
        bundles.bundle_add_member(actor=editor, bundle=bundle, item=ServiceItemFactory())

    assert exc.value.code == "catalog.bundle_not_draft"
    assert str(exc.value.message) == f"一件事“{bundle.name}”当前为“已发布”，只有草稿可以修改。"
    assert not bundle.members.exists()


def test_form_set_keeps_a_clean_schema(editor: Any) -> None:
    member = BundleMemberFactory()
    code = member.item.task_code

    bundle = bundles.bundle_form_set(
        actor=editor,
        bundle=member.bundle,
        form_schema=[
            _field("enterprise_name", {code: "qymc"}, required=True, extra="dropped"),
            {
                "name": "seal",
                "label": "刻制印章",
                "type": "select",
                "options": ["公章"],
                "maps_to": {code: "yz"},
            },
        ],
    )

    assert bundle.form_schema == [
        {
            "name": "enterprise_name",
            "label": "企业名称",
            "type": "text",
            "required": True,
            "maps_to": {code: "qymc"},
        },
        {
            "name": "seal",
            "label": "刻制印章",
            "type": "select",
            "required": False,
            "maps_to": {code: "yz"},
            "options": ["公章"],
        },
    ]
    entry = AuditEntry.objects.get(action="catalog.bundle_form_set")
    assert _json(entry.after)["form_fields"] == ["enterprise_name", "seal"]


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ([_field("Bad-Name", {})], "合并表单第1项的字段名须为小写字母开头的字母、数字或下划线。"),
        ([_field("a", {}), _field("a", {})], "合并表单字段名“a”重复。"),
        ([_field("a", {}, label=" ")], "合并表单字段“a”缺少中文标签。"),
        ([_field("a", {}, type="colour")], "合并表单字段“a”的类型“colour”不受支持。"),
        ([_field("a", {}, type="select")], "合并表单字段“a”为选择项，须列出选项。"),
        ([_field("a", {"X-1": ""})], "合并表单字段“a”的映射须为“实施编码 → 成员事项字段名”。"),
        (
            [_field("a", {"NOT-A-MEMBER": "f"})],
            "合并表单字段“a”映射到了不属于本一件事的事项：NOT-A-MEMBER。",
        ),
        (["text"], "合并表单第1项不是字段定义。"),
    ],
)
def test_form_set_refuses_a_bad_schema(editor: Any, schema: list[Any], message: str) -> None:
    member = BundleMemberFactory()

    with pytest.raises(ValidationError) as exc:
        bundles.bundle_form_set(actor=editor, bundle=member.bundle, form_schema=schema)

    assert exc.value.code == "catalog.bundle_form_invalid"
    assert str(exc.value.message) == message
    member.bundle.refresh_from_db()
    assert member.bundle.form_schema == []
    assert not AuditEntry.objects.exists()


# --- publish ------------------------------------------------------------------------------


def _ready_bundle(*versions: ItemVersion) -> Bundle:
    bundle = BundleFactory()
    for version in versions:
        BundleMemberFactory(bundle=bundle, item=version.item)
    bundle.form_schema = [
        _field("enterprise_name", {v.item.task_code: "mc" for v in versions}, required=True)
    ]
    bundle.save()
    return bundle


def test_publish_refuses_an_unpublished_member(editor: Any) -> None:
    published = _published_item("企业设立登记")
    draft = ItemVersionFactory(name="公章刻制备案", children=False)
    bundle = _ready_bundle(published, draft)

    with pytest.raises(ValidationError) as exc:
        bundles.bundle_publish(actor=editor, bundle=bundle)

    assert exc.value.code == "catalog.bundle_member_unpublished"
    assert str(exc.value.message) == (
        f"以下成员事项尚无已发布版本，一件事不能发布：{draft.item.task_code}。"
    )
    assert exc.value.extra == {"task_codes": [draft.item.task_code]}
    bundle.refresh_from_db()
    assert bundle.status == Bundle.Status.DRAFT
    assert bundle.published_at is None
    assert not AuditEntry.objects.exists()


def test_publish_refuses_a_single_member(editor: Any) -> None:
    bundle = _ready_bundle(_published_item("企业设立登记"))

    with pytest.raises(ValidationError) as exc:
        bundles.bundle_publish(actor=editor, bundle=bundle)

    assert exc.value.code == "catalog.bundle_too_few_members"
    assert str(exc.value.message) == "一件事至少应包含两个成员事项。"
    bundle.refresh_from_db()
    assert bundle.status == Bundle.Status.DRAFT


def test_publish_refuses_a_bundle_without_a_form(editor: Any) -> None:
    bundle = _ready_bundle(_published_item("甲"), _published_item("乙"))
    bundle.form_schema = []
    bundle.save()

    with pytest.raises(ValidationError) as exc:
        bundles.bundle_publish(actor=editor, bundle=bundle)

    assert str(exc.value.message) == "一件事须有一张合并申请表（一表申请）。"
    bundle.refresh_from_db()
    assert bundle.status == Bundle.Status.DRAFT


def test_publish_and_retire_are_audited(editor: Any) -> None:
    bundle = _ready_bundle(_published_item("甲"), _published_item("乙"))

    published = bundles.bundle_publish(actor=editor, bundle=bundle)

    assert published.status == Bundle.Status.PUBLISHED
    assert published.published_at is not None
    entry = AuditEntry.objects.get(action="catalog.bundle_publish")
    assert (_json(entry.before)["status"], _json(entry.after)["status"]) == ("draft", "published")
    assert entry.actor_id == editor.pk

    with pytest.raises(Conflict):
        bundles.bundle_publish(actor=editor, bundle=bundle)

    retired = bundles.bundle_retire(actor=editor, bundle=bundle, reason="政策调整")
    assert retired.status == Bundle.Status.RETIRED
    entry = AuditEntry.objects.get(action="catalog.bundle_retire")
    assert entry.reason == "政策调整"
    assert AuditEntry.objects.count() == 2

    with pytest.raises(Conflict) as exc:
        bundles.bundle_retire(actor=editor, bundle=bundle, reason="再次停用")
    assert exc.value.code == "catalog.bundle_not_published"
    assert AuditEntry.objects.count() == 2


# --- merged materials, form, time limit ---------------------------------------------------


def test_material_needed_by_three_members_appears_once_with_three_members() -> None:
    a, b, c = (_published_item(n) for n in ("企业设立登记", "公章刻制备案", "发票领用"))
    MaterialFactory(
        version=a.item.versions.get(),
        name="法定代表人居民身份证",
        source=Material.Source.GOVERNMENT,
        certificate_type_code=ID_CARD_TYPE,
        sort_order=1,
    )
    MaterialFactory(
        version=b,
        name="居民身份证",
        necessity=Material.Necessity.OPTIONAL,
        source=Material.Source.GOVERNMENT,
        certificate_type_code=ID_CARD_TYPE,
        sort_order=1,
    )
    MaterialFactory(
        version=c,
        name="经办人身份证件",
        necessity=Material.Necessity.TOLERATED,
        source=Material.Source.GOVERNMENT,
        certificate_type_code=ID_CARD_TYPE,
        sort_order=1,
    )
    MaterialFactory(version=a, name="公司章程", sort_order=2)
    MaterialFactory(version=b, name="公司章程（复印件）", kind=Material.Kind.COPY, sort_order=2)
    bundle = _ready_bundle(a, b, c)

    merged = bundles.bundle_materials(bundle)

    assert [(m.name, m.task_codes) for m in merged] == [
        ("法定代表人居民身份证", [a.item.task_code, b.item.task_code, c.item.task_code]),
        ("公司章程", [a.item.task_code, b.item.task_code]),
    ]
    id_card, charter = merged
    assert id_card.necessity == Material.Necessity.REQUIRED  # the strongest member's need
    assert [u.necessity for u in id_card.uses] == ["required", "optional", "tolerated"]
    assert [u.material_name for u in id_card.uses] == [
        "法定代表人居民身份证",
        "居民身份证",
        "经办人身份证件",
    ]
    assert id_card.fetched
    assert id_card.submit_note == "无需提交，通过电子证照/数据共享获取"
    assert id_card.certificate_type_code == ID_CARD_TYPE
    assert not charter.fetched
    assert charter.submit_note == ""


def test_material_merge_by_name_keeps_situations_and_a_later_code() -> None:
    a, b = _published_item("甲"), _published_item("乙")
    situation = SituationFactory(version=a, name="购房")
    MaterialFactory(version=a, name="营业执照（副本）复印件", situations=[situation])
    MaterialFactory(
        version=b,
        name="营业执照",
        source=Material.Source.GOVERNMENT,
        certificate_type_code="11100000MBDEM0023A001",
    )
    bundle = _ready_bundle(a, b)

    (licence,) = bundles.bundle_materials(bundle)

    assert licence.normalised_name == "营业执照"
    assert licence.uses[0].situations == ("购房",)
    assert licence.certificate_type_code == "11100000MBDEM0023A001"
    assert licence.fetched


def _producing(name: str, result: str) -> ItemVersion:
    version: ItemVersion = _published_item(name)
    version.result_name = result
    version.save(update_fields=["result_name"])
    return version


def _staged_bundle(*staged: tuple[ItemVersion, int]) -> Bundle:
    bundle = _ready_bundle(*(v for v, _stage in staged))
    bundle.dispatch = Bundle.Dispatch.SEQUENTIAL
    bundle.save(update_fields=["dispatch"])
    for version, stage in staged:
        BundleMember.objects.filter(bundle=bundle, item=version.item).update(stage=stage)
    return bundle


def test_a_material_another_member_produces_is_not_asked_for() -> None:
    licence = _producing("企业设立登记", "营业执照（个体工商户）")
    seal = _producing("公章刻制备案", "印章备案信息")
    MaterialFactory(version=licence, name="公司章程")
    MaterialFactory(
        version=seal,
        name="营业执照（副本）复印件",
        source=Material.Source.GOVERNMENT,
        certificate_type_code="11100000MBDEM0023A001",
    )
    MaterialFactory(version=seal, name="印章刻制申请表")

    merged = bundles.bundle_materials(_ready_bundle(licence, seal))  # parallel: one stage

    assert [m.name for m in merged] == ["公司章程", "印章刻制申请表"]


def test_a_later_stage_cannot_supply_an_earlier_one() -> None:
    first = _published_item("网签备案")
    transfer = _producing("转移登记", "完税凭证")
    last = _published_item("过户")
    MaterialFactory(version=first, name="完税凭证")
    MaterialFactory(version=last, name="完税凭证")

    merged = bundles.bundle_materials(_staged_bundle((first, 0), (transfer, 1), (last, 2)))

    (receipt,) = merged
    assert receipt.task_codes == [first.item.task_code]  # the last stage gets it inside
    assert receipt.necessity == Material.Necessity.REQUIRED


def test_a_member_renewing_what_it_asks_for_does_not_supply_its_own_stage() -> None:
    contract = _published_item("网签备案")
    transfer = _producing("转移登记", "不动产权证书")
    utilities = _published_item("供水过户")
    for version in (contract, transfer, utilities):
        MaterialFactory(version=version, name="不动产权证书")

    merged = bundles.bundle_materials(_staged_bundle((contract, 0), (transfer, 0), (utilities, 1)))

    (certificate,) = merged  # the seller's, asked for by the contract and the transfer
    assert certificate.task_codes == [contract.item.task_code, transfer.item.task_code]
    assert certificate.necessity == Material.Necessity.REQUIRED


def test_a_material_only_some_situations_need_is_optional_with_a_note() -> None:
    transfer = _published_item("不动产转移登记")
    gift = SituationFactory(version=transfer, name="赠与")
    sale = SituationFactory(version=transfer, name="买卖")
    other = _published_item("网签备案")
    MaterialFactory(version=transfer, name="赠与合同", situations=[gift])
    MaterialFactory(version=transfer, name="买卖合同", situations=[sale])
    MaterialFactory(version=other, name="买卖合同", necessity=Material.Necessity.TOLERATED)

    gift_contract, sale_contract = bundles.bundle_materials(_ready_bundle(transfer, other))

    assert gift_contract.name == "赠与合同"
    assert gift_contract.necessity == Material.Necessity.OPTIONAL
    assert gift_contract.note == "仅以下情形需要：赠与（不动产转移登记）"
    assert gift_contract.uses[0].necessity == Material.Necessity.REQUIRED  # kept per member
    # another member asks for it in every situation: its necessity counts, no note
    assert sale_contract.necessity == Material.Necessity.TOLERATED
    assert sale_contract.note == ""


def test_material_name_normalise() -> None:
    assert bundles.material_name_normalise("营业执照（副本）复印件") == "营业执照"
    assert bundles.material_name_normalise(" 公司 章程 (原件及复印件)") == "公司章程"
    assert bundles.material_name_normalise("ＩＤ　Card、") == "idcard"


def test_bundle_materials_prefer_the_published_version() -> None:
    published = _published_item("甲")
    MaterialFactory(version=published, name="已发布版本的材料")
    newer = ItemVersionFactory(item=published.item, number=published.number + 1, children=False)
    MaterialFactory(version=newer, name="草稿中的材料")
    bundle = _ready_bundle(published, _published_item("乙"))

    assert [m.name for m in bundles.bundle_materials(bundle)] == ["已发布版本的材料"]


def test_bundle_form_maps_each_field_to_members() -> None:
    a, b = _published_item("企业设立登记"), _published_item("单位社会保险登记")
    bundle = _ready_bundle(a, b)
    bundle.form_schema = [
        _field("enterprise_name", {a.item.task_code: "qymc", b.item.task_code: "dwmc"}),
        _field("seal", {}, type="select", options=["公章"], group="印章"),
    ]
    bundle.save()

    name, seal = bundles.bundle_form(bundle)

    assert name.mappings == (
        bundles.FieldMapping(a.item.task_code, "企业设立登记", "qymc"),
        bundles.FieldMapping(b.item.task_code, "单位社会保险登记", "dwmc"),
    )
    assert (seal.type, seal.options, seal.group, seal.mappings) == ("select", ("公章",), "印章", ())


def test_bundle_time_limit_parallel_and_sequential() -> None:
    a = _published_item("甲", promise=3)
    b = _published_item("乙", promise=2)
    c = _published_item("丙", promise=0, unit=TimeUnit.IMMEDIATE)
    bundle = _ready_bundle(a, b, c)
    bundle.promise_limit, bundle.promise_unit = 1, TimeUnit.WORKING_DAY
    bundle.save()

    parallel = bundles.bundle_time_limit(bundle)
    assert (parallel.limit, parallel.unit, parallel.label) == (1, "working_day", "1个工作日")
    assert (parallel.members_limit, parallel.members_label) == (3, "3个工作日")

    bundle.dispatch = Bundle.Dispatch.SEQUENTIAL
    bundle.save()
    BundleMember.objects.filter(bundle=bundle, item=b.item).update(stage=1)
    sequential = bundles.bundle_time_limit(bundle)
    assert (sequential.members_limit, sequential.members_label) == (5, "5个工作日")


def test_bundle_time_limit_with_mixed_units_has_no_member_total() -> None:
    a = _published_item("甲", promise=3)
    b = _published_item("乙", promise=10, unit=TimeUnit.NATURAL_DAY)
    bundle = _ready_bundle(a, b)

    limit = bundles.bundle_time_limit(bundle)

    assert (limit.members_limit, limit.members_label) == (None, "")
    assert limit.label == "3个工作日"
