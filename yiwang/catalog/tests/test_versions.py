"""Versions and publication: draft → review → published → retired, immutability, deep copy of
a version into a new draft, audit rows, one published version per item."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import IntegrityError, connection, connections, transaction

from yiwang.accounts.models import Role, User
from yiwang.accounts.tests.factories import DepartmentFactory, staff_with_role
from yiwang.catalog import errors, services
from yiwang.catalog.models import (
    Faq,
    FeeItem,
    ItemVersion,
    LegalBasis,
    Material,
    ProcessStep,
    ServiceItem,
    Situation,
    Theme,
)
from yiwang.catalog.tests.factories import (
    FeeItemFactory,
    ItemTypeFactory,
    ItemVersionFactory,
    LegalBasisFactory,
    MaterialFactory,
    PublishedVersionFactory,
    ServiceItemFactory,
    SituationFactory,
    ThemeFactory,
)
from yiwang.core.errors import Conflict, PermissionDenied, ValidationError
from yiwang.core.models import AuditEntry

Status = ItemVersion.Status
ALL_STATUSES = [Status.DRAFT, Status.REVIEW, Status.PUBLISHED, Status.RETIRED]


@pytest.fixture
def editor(db: Any) -> User:
    return staff_with_role(Role.CATALOG_ADMIN)


@pytest.fixture
def reviewer(db: Any) -> User:
    return staff_with_role(Role.CATALOG_ADMIN)


@pytest.fixture
def clerk(db: Any) -> User:
    return staff_with_role(Role.WINDOW_CLERK)


def _audit(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("seq"))


# --- item_create ---------------------------------------------------------------------------


def test_item_create_makes_the_item_and_its_draft_v1_with_an_audit_row(editor: User) -> None:
    department = DepartmentFactory(name="六安市公安局", division_code="341500")
    theme = ThemeFactory(audience=Theme.Audience.NATURAL, name="户籍办理")

    version = services.item_create(
        actor=editor,
        task_code="11341500MB1234567X4000117001",
        department=department,
        catalog_code="000117001000",
        name="户口迁移",
        item_type=ItemTypeFactory(code="08", name="行政确认"),
        use_level=ItemVersion.UseLevel.MUNICIPAL,
        server_types=["自然人"],
        themes=[theme],
    )

    assert version.number == 1
    assert version.status == Status.DRAFT
    assert version.dept_name == "六安市公安局"
    assert version.division_code == "341500"
    assert version.item.task_code == "11341500MB1234567X4000117001"
    assert version.item.catalog_code == "000117001000"
    assert list(version.themes.all()) == [theme]
    [entry] = _audit("catalog.item_create")
    assert entry.actor_id == editor.pk
    assert entry.object_id == str(version.pk)
    assert entry.after is not None
    assert entry.after["status"] == "draft"
    assert entry.after["themes"] == [theme.pk]


def test_item_create_refuses_a_taken_task_code_and_changes_nothing(editor: User) -> None:
    existing = ServiceItemFactory(task_code="TASK-1")

    with pytest.raises(Conflict) as exc:
        services.item_create(
            actor=editor,
            task_code="TASK-1",
            department=None,
            name="重复",
            dept_name="某局",
            item_type=ItemTypeFactory(),
            use_level="municipal",
        )

    assert exc.value.code == errors.TASK_CODE_TAKEN
    assert list(ServiceItem.objects.all()) == [existing]
    assert ItemVersion.objects.count() == 0
    assert _audit("catalog.item_create") == []


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"status": "published"}, errors.UNKNOWN_FIELD, None),
        ({"number": 7}, errors.UNKNOWN_FIELD, None),
        ({"use_level": "galactic"}, errors.FIELD_INVALID, "use_level"),
        ({"server_types": "自然人"}, errors.FIELD_INVALID, "server_types"),
        ({"name": ""}, errors.FIELD_INVALID, "name"),
    ],
)
def test_item_create_refuses_bad_elements_and_changes_nothing(
    editor: User, changes: dict[str, Any], code: str, field: str | None
) -> None:
    elements: dict[str, Any] = {
        "name": "事项",
        "dept_name": "某局",
        "item_type": ItemTypeFactory(),
        "use_level": "municipal",
        **changes,
    }
    with pytest.raises(ValidationError) as exc:
        services.item_create(actor=editor, task_code="T-BAD", department=None, **elements)

    assert exc.value.code == code
    if field:
        assert field in exc.value.extra["fields"]
    assert ServiceItem.objects.count() == 0
    assert ItemVersion.objects.count() == 0


def test_only_catalog_editors_may_write(clerk: User) -> None:
    version = ItemVersionFactory()

    with pytest.raises(PermissionDenied) as exc:
        services.version_update(actor=clerk, version=version, name="改名")
    with pytest.raises(PermissionDenied):
        services.version_submit(actor=clerk, version=version)

    assert exc.value.code == errors.NOT_CATALOG_ADMIN
    version.refresh_from_db()
    assert version.name.startswith("测试许可事项")
    assert version.status == Status.DRAFT


def test_a_system_actor_string_may_write_and_is_audited(db: Any) -> None:
    version = ItemVersionFactory()

    services.version_update(actor="system:import", version=version, keywords="户口")

    [entry] = _audit("catalog.version_update")
    assert entry.actor_label == "system:import"
    assert entry.after == {"keywords": "户口"}


def test_an_administrator_may_write(db: Any) -> None:
    admin = staff_with_role(Role.ADMIN)
    version = ItemVersionFactory()

    services.version_submit(actor=admin, version=version)

    version.refresh_from_db()
    assert version.status == Status.REVIEW


# --- transitions ---------------------------------------------------------------------------

VALID: dict[tuple[str, str], str] = {
    ("submit", Status.DRAFT): Status.REVIEW,
    ("publish", Status.REVIEW): Status.PUBLISHED,
    ("reject", Status.REVIEW): Status.DRAFT,
    ("retire", Status.PUBLISHED): Status.RETIRED,
}


def _do(name: str, actor: User, version: ItemVersion) -> ItemVersion:
    if name == "submit":
        return services.version_submit(actor=actor, version=version)
    if name == "publish":
        return services.version_publish(actor=actor, version=version)
    if name == "reject":
        return services.version_reject(actor=actor, version=version, reason="材料目录不完整")
    return services.version_retire(actor=actor, version=version, reason="事项取消")


@pytest.mark.parametrize("status", ALL_STATUSES)
@pytest.mark.parametrize("name", ["submit", "publish", "reject", "retire"])
def test_every_transition_from_every_status(editor: User, name: str, status: str) -> None:
    version = ItemVersionFactory(status=status)
    before_audit = AuditEntry.objects.count()

    if (name, status) in VALID:
        result = _do(name, editor, version)
        version.refresh_from_db()
        assert result.status == version.status == VALID[(name, status)]
        [entry] = AuditEntry.objects.filter(action=f"catalog.version_{name}")
        assert entry.before == {"status": status}
        assert entry.after == {"status": VALID[(name, status)], "number": 1}
        assert entry.object_id == str(version.pk)
        assert entry.actor_id == editor.pk
    else:
        with pytest.raises(Conflict) as exc:
            _do(name, editor, version)
        assert exc.value.code == errors.INVALID_TRANSITION
        assert exc.value.extra == {"status": status, "transition": name}
        version.refresh_from_db()
        assert version.status == status
        assert AuditEntry.objects.count() == before_audit


def test_transition_timestamps_submitter_and_publisher(editor: User, reviewer: User) -> None:
    version = ItemVersionFactory()

    services.version_submit(actor=editor, version=version)
    version.refresh_from_db()
    assert version.submitted_at is not None
    assert version.submitted_by == editor
    services.version_publish(actor=reviewer, version=version)
    version.refresh_from_db()
    assert version.published_at is not None
    assert version.published_by == reviewer
    services.version_retire(actor=editor, version=version, reason="事项取消")
    version.refresh_from_db()
    assert version.retired_at is not None


def test_reject_needs_a_reason_and_records_it(editor: User) -> None:
    version = ItemVersionFactory(status=Status.REVIEW)

    with pytest.raises(ValidationError) as exc:
        services.version_reject(actor=editor, version=version, reason="  ")
    assert exc.value.code == errors.REASON_REQUIRED
    version.refresh_from_db()
    assert version.status == Status.REVIEW

    services.version_reject(actor=editor, version=version, reason="请补充常见问题")
    [entry] = _audit("catalog.version_reject")
    assert entry.reason == "请补充常见问题"


# --- publication ---------------------------------------------------------------------------


def test_four_eyes_the_submitter_cannot_publish(editor: User, reviewer: User) -> None:
    version = ItemVersionFactory()
    services.version_submit(actor=editor, version=version)

    with pytest.raises(Conflict) as exc:
        services.version_publish(actor=editor, version=version)

    assert exc.value.code == errors.SAME_PERSON
    version.refresh_from_db()
    assert version.status == Status.REVIEW
    assert _audit("catalog.version_publish") == []
    services.version_publish(actor=reviewer, version=version)
    assert ItemVersion.objects.get(pk=version.pk).status == Status.PUBLISHED


def test_upstream_publication_runs_the_quality_gate(editor: User) -> None:
    passing = ItemVersionFactory()
    failing = ItemVersionFactory()
    failing.faqs.all().delete()
    old = PublishedVersionFactory()
    newer = ItemVersionFactory(item=old.item, number=2)

    held = services.versions_publish_upstream(
        actor=editor, versions=[passing, failing, newer], source="省级清单第 1–3 行"
    )

    assert {pk: [v.rule for v in found] for pk, found in held.items()} == {
        failing.pk: ["permit.faq"]
    }
    for version in (passing, failing, newer, old):
        version.refresh_from_db()
    assert [v.status for v in (passing, failing, newer, old)] == [
        Status.PUBLISHED,
        Status.DRAFT,
        Status.PUBLISHED,
        Status.RETIRED,
    ]
    assert passing.published_by == editor
    assert passing.bpmn_xml  # the process is frozen as on any publication
    [entry] = _audit("catalog.versions_publish_upstream")
    assert entry.reason == "省级清单第 1–3 行"
    assert entry.after == {
        "published": [f"{passing.item.task_code} v1", f"{newer.item.task_code} v2"],
        "retired": [f"{old.item.task_code} v1"],
        "held": {f"{failing.item.task_code} v1": ["permit.faq"]},
    }


def test_upstream_publication_only_takes_drafts(editor: User) -> None:
    version = ItemVersionFactory(status=Status.REVIEW)

    with pytest.raises(Conflict) as exc:
        services.versions_publish_upstream(actor=editor, versions=[version], source="x")

    assert exc.value.code == errors.INVALID_TRANSITION
    assert _audit("catalog.versions_publish_upstream") == []


def test_publish_retires_the_previous_published_version_in_the_same_transaction(
    editor: User,
) -> None:
    old = PublishedVersionFactory()
    new = ItemVersionFactory(item=old.item, number=2, status=Status.REVIEW)

    services.version_publish(actor=editor, version=new)

    old.refresh_from_db()
    new.refresh_from_db()
    assert old.status == Status.RETIRED
    assert old.retired_at == new.published_at
    assert new.status == Status.PUBLISHED
    [retire] = _audit("catalog.version_retire")
    assert retire.object_id == str(old.pk)
    assert retire.before == {"status": "published"}
    assert retire.reason == "superseded by v2"
    [publish] = _audit("catalog.version_publish")
    assert publish.seq > retire.seq


def test_publish_is_refused_with_every_violation_listed_and_nothing_changes(
    editor: User,
) -> None:
    old = PublishedVersionFactory()
    new = ItemVersionFactory(
        item=old.item, number=2, status=Status.REVIEW, children=False, visit_count=2
    )
    MaterialFactory(version=new, source=Material.Source.GOVERNMENT)  # warning only

    with pytest.raises(ValidationError) as exc:
        services.version_publish(actor=editor, version=new)

    assert exc.value.code == errors.QUALITY_FAILED
    rules = [(v["rule"], v["severity"], v["field"]) for v in exc.value.extra["violations"]]
    assert rules[:4] == [
        ("visit.reason", "error", "visit_reason"),
        ("online.level4_no_visit", "error", "visit_count"),
        ("permit.faq", "error", "faqs"),
        ("permit.steps", "error", "steps"),
    ]
    assert [r[0] for r in rules[4:]] == ["material.government_replacement"]
    assert "行政许可事项至少需要一条常见问题" in str(exc.value.message)
    new.refresh_from_db()
    old.refresh_from_db()
    assert new.status == Status.REVIEW
    assert new.published_at is None
    assert old.status == Status.PUBLISHED
    assert _audit("catalog.version_publish") == []
    assert _audit("catalog.version_retire") == []


def test_publish_allows_warnings(editor: User) -> None:
    version = ItemVersionFactory(status=Status.REVIEW)
    MaterialFactory(version=version, source=Material.Source.GOVERNMENT)

    services.version_publish(actor=editor, version=version)

    version.refresh_from_db()
    assert version.status == Status.PUBLISHED


def test_the_database_allows_one_published_version_per_item(db: Any) -> None:
    first = PublishedVersionFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        PublishedVersionFactory(item=first.item, number=2)

    assert ItemVersion.objects.filter(item=first.item).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_publishers_of_one_item_leave_one_published_version() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite serialises whole transactions)")
    editor = staff_with_role(Role.CATALOG_ADMIN)
    old = PublishedVersionFactory()
    candidates = [ItemVersionFactory(item=old.item, number=n, status=Status.REVIEW) for n in (2, 3)]
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def publish(version: ItemVersion) -> None:
        try:
            barrier.wait()
            services.version_publish(actor=editor, version=version)
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=publish, args=(v,)) for v in candidates]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert failures == []
    statuses = sorted(ItemVersion.objects.filter(item=old.item).values_list("status", flat=True))
    assert statuses == ["published", "retired", "retired"]
    assert AuditEntry.objects.filter(action="catalog.version_publish").count() == 2


# --- immutability --------------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.REVIEW, Status.PUBLISHED, Status.RETIRED])
def test_only_a_draft_changes(editor: User, status: str) -> None:
    version = ItemVersionFactory(status=status, name="原名称")
    material = version.materials.get()
    before_audit = AuditEntry.objects.count()

    calls = [
        lambda: services.version_update(actor=editor, version=version, name="新名称"),
        lambda: services.material_add(actor=editor, version=version, name="新材料"),
        lambda: services.material_update(actor=editor, material=material, name="改材料"),
        lambda: services.material_remove(actor=editor, material=material),
        lambda: services.faq_add(actor=editor, version=version, question="问", answer="答"),
        lambda: services.step_remove(actor=editor, step=version.steps.first()),
        lambda: services.fee_item_add(actor=editor, version=version, name="费", standard="1元"),
        lambda: services.situation_add(actor=editor, version=version, code="a", name="情形"),
        lambda: services.legal_basis_add(actor=editor, version=version, law_name="某法"),
    ]
    for call in calls:
        with pytest.raises(Conflict) as exc:
            call()
        assert exc.value.code == errors.VERSION_IMMUTABLE
        assert exc.value.extra == {"status": status}

    version.refresh_from_db()
    material.refresh_from_db()
    assert version.name == "原名称"
    assert material.name == "居民身份证"
    assert version.materials.count() == 1
    assert version.faqs.count() == 1
    assert version.steps.count() == 5
    assert AuditEntry.objects.count() == before_audit


def test_version_update_audits_before_and_after(editor: User) -> None:
    version = ItemVersionFactory(name="原名称", promise_limit=5)
    theme = ThemeFactory(audience=Theme.Audience.NATURAL, name="婚姻登记")

    services.version_update(actor=editor, version=version, name="新名称", themes=[theme.pk])

    version.refresh_from_db()
    assert version.name == "新名称"
    assert list(version.themes.all()) == [theme]
    [entry] = _audit("catalog.version_update")
    assert entry.before is not None
    assert entry.before["name"] == "原名称"
    assert entry.after == {"name": "新名称", "themes": [theme.pk]}


def test_version_update_refuses_invalid_values_and_changes_nothing(editor: User) -> None:
    version = ItemVersionFactory(promise_unit="working_day")

    with pytest.raises(ValidationError) as exc:
        services.version_update(actor=editor, version=version, promise_unit="fortnight", name="x")

    assert exc.value.code == errors.FIELD_INVALID
    assert list(exc.value.extra["fields"]) == ["promise_unit"]
    version.refresh_from_db()
    assert version.promise_unit == "working_day"
    assert version.name != "x"


# --- child rows ----------------------------------------------------------------------------


def test_child_row_services_on_a_draft(editor: User) -> None:
    version = ItemVersionFactory()
    situation = services.situation_add(actor=editor, version=version, code="buy", name="购房")

    material = services.material_add(
        actor=editor, version=version, name="购房合同", situations=[situation]
    )
    services.material_update(actor=editor, material=material, necessity="tolerated")
    faq = services.faq_add(actor=editor, version=version, question="问", answer="答")
    services.faq_update(actor=editor, faq=faq, answer="新答")
    services.faq_remove(actor=editor, faq=faq)

    material.refresh_from_db()
    assert material.necessity == Material.Necessity.TOLERATED
    assert list(material.situations.all()) == [situation]
    assert not Faq.objects.filter(pk=faq.pk).exists()
    actions = list(
        AuditEntry.objects.filter(action__startswith="catalog.")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "catalog.situation_add",
        "catalog.material_add",
        "catalog.material_update",
        "catalog.faq_add",
        "catalog.faq_update",
        "catalog.faq_remove",
    ]


def test_a_material_only_takes_situations_of_its_own_version(editor: User) -> None:
    version = ItemVersionFactory()
    foreign = SituationFactory()

    with pytest.raises(ValidationError) as exc:
        services.material_add(actor=editor, version=version, name="合同", situations=[foreign])

    assert exc.value.code == errors.CHILD_NOT_IN_VERSION
    assert version.materials.count() == 1  # the factory's one, nothing added


def test_child_services_refuse_unknown_fields(editor: User) -> None:
    version = ItemVersionFactory()

    with pytest.raises(ValidationError) as exc:
        services.faq_add(actor=editor, version=version, question="q", answer="a", version_id=9)

    assert exc.value.code == errors.UNKNOWN_FIELD
    assert version.faqs.count() == 1


# --- new drafts ----------------------------------------------------------------------------


def _deep(version: ItemVersion) -> dict[str, Any]:
    """Everything a version carries, without row identities."""
    skip = {"id", "public_id", "number", "status", "created_at", "updated_at"} | {
        "submitted_at",
        "published_at",
        "published_by",
        "retired_at",
        "change_note",
    }
    data: dict[str, Any] = {
        f.name: (
            getattr(version, f.name).name
            if f.name == "result_sample"
            else f.value_from_object(version)
        )
        for f in ItemVersion._meta.concrete_fields
        if f.name not in skip
    }
    data["themes"] = sorted(t.pk for t in version.themes.all())

    def rows(model: Any, exclude: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        return [
            {
                f.name: f.value_from_object(row)
                for f in model._meta.concrete_fields
                if f.name not in ("id", "version", *exclude)
            }
            for row in model.objects.filter(version=version).order_by("sort_order", "id")
        ]

    data["legal_bases"] = rows(LegalBasis)
    data["situations"] = rows(Situation)
    data["fees"] = rows(FeeItem)
    data["faqs"] = rows(Faq)
    data["steps"] = rows(ProcessStep)
    data["materials"] = [
        {
            **{
                f.name: (
                    getattr(m, f.name).name
                    if f.name in ("blank_form", "sample_file")
                    else f.value_from_object(m)
                )
                for f in Material._meta.concrete_fields
                if f.name not in ("id", "version")
            },
            "situations": sorted(s.code for s in m.situations.all()),
        }
        for m in version.materials.order_by("sort_order", "id")
    ]
    return data


def test_new_draft_copies_every_element_and_child_row(editor: User) -> None:
    department = DepartmentFactory()
    source = PublishedVersionFactory(
        is_fee=True, fee_basis="皖价费〔2020〕1号", online_payment=True, keywords="公积金 提取"
    )
    source.themes.add(ThemeFactory(audience=Theme.Audience.NATURAL, name="住房保障"))
    LegalBasisFactory(version=source, sort_order=1)
    LegalBasisFactory(version=source, law_name="《住房公积金管理条例》", sort_order=2)
    buy = SituationFactory(version=source, code="buy", name="购房", sort_order=1)
    retire = SituationFactory(version=source, code="retire", name="退休", sort_order=2)
    MaterialFactory(
        version=source,
        name="购房合同",
        situations=[buy],
        source=Material.Source.GOVERNMENT,
        certificate_type_code="11100000000013338W001",
        blank_form="catalog/forms/contract.docx",
        sort_order=2,
    )
    MaterialFactory(version=source, name="退休证", situations=[buy, retire], sort_order=3)
    FeeItemFactory(version=source)
    source.steps.filter(kind=ProcessStep.Kind.REVIEW).update(department=department)

    draft = services.version_new_draft(actor=editor, item=source.item)

    assert draft.number == 2
    assert draft.status == Status.DRAFT
    assert draft.pk != source.pk
    assert _deep(draft) == _deep(source)
    assert _deep(draft)["materials"][1]["situations"] == ["buy"]
    # the copies are new rows: the source keeps its own
    assert source.materials.count() == draft.materials.count() == 3
    assert Situation.objects.filter(version=source).count() == 2
    new_situation_ids = set(Situation.objects.filter(version=draft).values_list("pk", flat=True))
    linked = set(
        Material.situations.through.objects.filter(material__version=draft).values_list(
            "situation_id", flat=True
        )
    )
    assert linked == new_situation_ids
    [entry] = _audit("catalog.version_new_draft")
    assert entry.after == {"item": source.item.task_code, "number": 2, "from_number": 1}


def test_new_draft_from_an_older_version(editor: User) -> None:
    v1 = ItemVersionFactory(status=Status.RETIRED, name="旧名称")
    PublishedVersionFactory(item=v1.item, number=2, name="现名称")

    draft = services.version_new_draft(actor=editor, item=v1.item, from_version=v1)

    assert draft.number == 3
    assert draft.name == "旧名称"


def test_new_draft_refused_while_a_draft_or_review_is_open(editor: User) -> None:
    v1 = PublishedVersionFactory()
    ItemVersionFactory(item=v1.item, number=2, status=Status.REVIEW)

    with pytest.raises(Conflict) as exc:
        services.version_new_draft(actor=editor, item=v1.item)

    assert exc.value.code == errors.DRAFT_EXISTS
    assert exc.value.extra == {"number": 2}
    assert v1.item.versions.count() == 2


def test_new_draft_from_another_items_version_is_refused(editor: User) -> None:
    v1 = PublishedVersionFactory()
    other = PublishedVersionFactory()

    with pytest.raises(ValidationError) as exc:
        services.version_new_draft(actor=editor, item=v1.item, from_version=other)

    assert exc.value.code == errors.CHILD_NOT_IN_VERSION
    assert v1.item.versions.count() == 1


def test_the_full_life_of_an_item(editor: User, reviewer: User) -> None:
    v1 = ItemVersionFactory()
    services.version_submit(actor=editor, version=v1)
    services.version_publish(actor=reviewer, version=v1)
    v2 = services.version_new_draft(actor=editor, item=v1.item)
    services.version_update(actor=editor, version=v2, name="改名后的事项")
    services.version_submit(actor=editor, version=v2)
    services.version_publish(actor=reviewer, version=v2)

    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.status, v2.status) == (Status.RETIRED, Status.PUBLISHED)
    assert v1.name != "改名后的事项"
