"""Writes to the service catalog: items, their versions and the versions' child rows.

Versions move draft → review → published → retired (``TRANSITIONS``); review may go back to
draft (rejected, with a reason). Only a draft changes: every write below locks the version row
and refuses any other status with ``catalog.version_immutable``, so a published version (which
applications reference) never changes. A change to a published item is a new draft
(``version_new_draft``), a deep copy of the version it starts from.

Publishing locks the item row first (one publisher per item at a time), runs every quality rule
(yiwang.catalog.quality) and retires the previously published version in the same transaction,
before setting the new one published, so that the database's one-published-per-item constraint
holds at every statement. Four eyes: whoever submitted a version for review cannot publish it.

Actors: a ``User`` must be allowed to edit the catalog (yiwang.catalog.access: catalog_admin or
admin); a ``str`` names a trusted system actor (an import run from the command line) and is
recorded as such in the audit trail.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.accounts.models import Department, User
from yiwang.catalog import errors
from yiwang.catalog.access import catalog_require_editor
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
from yiwang.catalog.process import process_freeze
from yiwang.catalog.quality import QUALITY_PREFETCH, Violation, quality_check, quality_errors
from yiwang.core.audit import audit_record
from yiwang.core.errors import Conflict, ValidationError

Actor = User | str
Status = ItemVersion.Status

# transition name → (from status, to status)
TRANSITIONS: dict[str, tuple[str, str]] = {
    "submit": (Status.DRAFT, Status.REVIEW),
    "publish": (Status.REVIEW, Status.PUBLISHED),
    # A record published by an upstream catalog (the provincial list) is published here without
    # our own review step; the quality rules still decide (versions_publish_upstream).
    "publish_upstream": (Status.DRAFT, Status.PUBLISHED),
    "reject": (Status.REVIEW, Status.DRAFT),
    "retire": (Status.PUBLISHED, Status.RETIRED),
}

# Fields a caller may not set: identity, workflow state and bookkeeping.
_VERSION_SYSTEM_FIELDS = frozenset(
    {
        "id",
        "public_id",
        "item",
        "number",
        "status",
        "submitted_at",
        "published_at",
        "published_by",
        "retired_at",
        "created_at",
        "updated_at",
    }
)
# Many-to-many elements set through the same keyword arguments.
_VERSION_M2M = frozenset({"themes"})


def _version_element_fields() -> frozenset[str]:
    names = {f.name for f in ItemVersion._meta.concrete_fields} - _VERSION_SYSTEM_FIELDS
    # item_type may be given as the object (item_type=) or its id (item_type_id=)
    return frozenset(names | {"item_type_id"})


# --- helpers -------------------------------------------------------------------------------


def _check_actor(actor: Actor) -> None:
    if not isinstance(actor, str):
        catalog_require_editor(actor)


def _split_elements(elements: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    allowed = _version_element_fields()
    unknown = sorted(set(elements) - allowed - _VERSION_M2M)
    if unknown:
        raise ValidationError(
            errors.UNKNOWN_FIELD,
            _("不能设置这些字段：%(f)s") % {"f": "、".join(unknown)},
            fields=unknown,
        )
    plain = {k: v for k, v in elements.items() if k in allowed}
    m2m = {k: v for k, v in elements.items() if k in _VERSION_M2M}
    return plain, m2m


def _full_clean(obj: models.Model, *, exclude: Iterable[str] = ()) -> None:
    """Django's field checks (choices, lengths, blank) as one domain error naming each field.
    JSON list elements (服务对象, 办理形式, 特别程序) may be empty but must be lists of text;
    Django would call an empty list "blank", so they are checked here instead."""
    json_fields = [f.name for f in obj._meta.concrete_fields if isinstance(f, models.JSONField)]
    fields: dict[str, list[str]] = {}
    for name in json_fields:
        value = getattr(obj, name)
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            fields[name] = [str(_("应为文字列表。"))]
    try:
        obj.full_clean(
            exclude=[*exclude, *json_fields], validate_unique=False, validate_constraints=False
        )
    except DjangoValidationError as exc:
        fields.update({name: [str(m) for m in msgs] for name, msgs in exc.message_dict.items()})
    if fields:
        detail = "；".join(f"{name}: {'，'.join(msgs)}" for name, msgs in fields.items())
        raise ValidationError(
            errors.FIELD_INVALID, _("字段有误：%(d)s") % {"d": detail}, fields=fields
        )


def _snapshot(obj: models.Model, names: Iterable[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        value = getattr(obj, name)
        if isinstance(value, models.Model):
            value = value.pk
        elif isinstance(value, models.fields.files.FieldFile):
            value = value.name or ""
        out[name] = value
    return out


def _lock_version(version: ItemVersion) -> ItemVersion:
    """The version's current row, locked for the rest of the transaction."""
    return ItemVersion.objects.select_for_update().select_related("item_type").get(pk=version.pk)


def _lock_draft(version: ItemVersion) -> ItemVersion:
    locked = _lock_version(version)
    if locked.status != Status.DRAFT:
        raise Conflict(
            errors.VERSION_IMMUTABLE,
            _("只有草稿可以修改；该版本状态为“%(s)s”，请新建草稿版本。")
            % {"s": locked.get_status_display()},
            status=locked.status,
        )
    return locked


def version_require_draft(*, version: ItemVersion) -> ItemVersion:
    """The version's row, locked for the caller's transaction, if it is still a draft
    (``catalog.version_immutable`` otherwise). For writers outside this module that save
    rows themselves, such as the admin's inline forms."""
    return _lock_draft(version)


def _set_themes(version: ItemVersion, themes: Iterable[Theme | int]) -> list[int]:
    ids = sorted(t.pk if isinstance(t, Theme) else int(t) for t in themes)
    found = set(Theme.objects.filter(pk__in=ids).values_list("pk", flat=True))
    if missing := [i for i in ids if i not in found]:
        raise ValidationError(
            errors.FIELD_INVALID, _("主题分类不存在：%(m)s") % {"m": missing}, fields=["themes"]
        )
    version.themes.set(ids)
    return ids


def _theme_ids(version: ItemVersion) -> list[int]:
    return sorted(version.themes.values_list("pk", flat=True))


# --- items and versions --------------------------------------------------------------------


@transaction.atomic
def item_create(
    *,
    actor: Actor,
    task_code: str,
    department: Department | None,
    catalog_code: str = "",
    **elements: Any,
) -> ItemVersion:
    """A new item (its 实施编码 ``task_code``) and its draft version 1 with ``elements``
    (ItemVersion fields; ``themes`` as Theme objects or ids). The implementing body's name and
    division default to the department's."""
    _check_actor(actor)
    task_code = task_code.strip()
    if not task_code:
        raise ValidationError(
            errors.FIELD_INVALID, _("请填写实施编码。"), fields={"task_code": ["required"]}
        )
    plain, m2m = _split_elements(elements)
    if department is not None:
        plain.setdefault("dept_name", department.name)
        plain.setdefault("division_code", department.division_code)
    if ServiceItem.objects.filter(task_code=task_code).exists():
        raise Conflict(
            errors.TASK_CODE_TAKEN,
            _("实施编码已存在：%(c)s") % {"c": task_code},
            task_code=task_code,
        )
    item = ServiceItem(task_code=task_code, catalog_code=catalog_code, department=department)
    version = ItemVersion(item=item, number=1, status=Status.DRAFT, **plain)
    _full_clean(item, exclude=["public_id"])
    _full_clean(version, exclude=["item", "public_id"])
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError as exc:  # a concurrent create of the same code
        raise Conflict(
            errors.TASK_CODE_TAKEN,
            _("实施编码已存在：%(c)s") % {"c": task_code},
            task_code=task_code,
        ) from exc
    version.item = item
    version.save()
    themes = _set_themes(version, m2m["themes"]) if "themes" in m2m else []
    audit_record(
        actor=actor,
        action="catalog.item_create",
        obj=version,
        after={
            "task_code": task_code,
            "catalog_code": catalog_code,
            "department_id": department.pk if department else None,
            "number": 1,
            "status": Status.DRAFT,
            "name": version.name,
            "themes": themes,
        },
    )
    return version


@transaction.atomic
def version_update(*, actor: Actor, version: ItemVersion, **changes: Any) -> ItemVersion:
    """Change elements of a draft. Any other status: ``catalog.version_immutable``."""
    _check_actor(actor)
    locked = _lock_draft(version)
    plain, m2m = _split_elements(changes)
    before = _snapshot(locked, plain)
    for name, value in plain.items():
        setattr(locked, name, value)
    _full_clean(locked, exclude=["item", "public_id"])
    locked.save()
    after = _snapshot(locked, plain)
    if "themes" in m2m:
        before["themes"] = _theme_ids(locked)
        after["themes"] = _set_themes(locked, m2m["themes"])
    audit_record(
        actor=actor, action="catalog.version_update", obj=locked, before=before, after=after
    )
    return locked


def _copy_file(field: models.fields.files.FieldFile) -> str:
    # The new version points at the same stored file: stored files are never rewritten in
    # place (a new upload gets a new name), so sharing is safe and copies nothing.
    return field.name or ""


@transaction.atomic
def version_new_draft(
    *, actor: Actor, item: ServiceItem, from_version: ItemVersion | None = None
) -> ItemVersion:
    """Version n+1 of ``item`` as a draft: a deep copy of ``from_version`` (default: the
    newest version) with every element and child row. An item has at most one open version
    (draft or review) at a time: ``catalog.draft_exists`` otherwise."""
    _check_actor(actor)
    item = ServiceItem.objects.select_for_update().get(pk=item.pk)
    versions = ItemVersion.objects.filter(item=item)
    open_version = versions.filter(status__in=[Status.DRAFT, Status.REVIEW]).first()
    if open_version is not None:
        raise Conflict(
            errors.DRAFT_EXISTS,
            _("该事项已有未发布的版本 v%(n)s（%(s)s），请在该版本上修改。")
            % {"n": open_version.number, "s": open_version.get_status_display()},
            number=open_version.number,
        )
    source = (
        versions.order_by("-number").first()
        if from_version is None
        else versions.filter(pk=from_version.pk).first()
    )
    if source is None:
        raise ValidationError(
            errors.CHILD_NOT_IN_VERSION, _("起始版本不属于该事项。"), item=item.task_code
        )
    number = (versions.aggregate(n=Max("number"))["n"] or 0) + 1
    draft = _copy_version(source, number=number)
    audit_record(
        actor=actor,
        action="catalog.version_new_draft",
        obj=draft,
        after={"item": item.task_code, "number": number, "from_number": source.number},
    )
    return draft


def _copy_version(source: ItemVersion, *, number: int) -> ItemVersion:
    skip = _VERSION_SYSTEM_FIELDS | {"change_note"}
    values: dict[str, Any] = {}
    for f in ItemVersion._meta.concrete_fields:
        if f.name in skip:
            continue
        value = getattr(source, f.attname)
        if isinstance(f, models.FileField):
            value = _copy_file(getattr(source, f.name))
        values[f.attname] = value
    draft = ItemVersion.objects.create(
        item_id=source.item_id, number=number, status=Status.DRAFT, **values
    )
    draft.themes.set(source.themes.all())

    def copy_rows(model: type[models.Model], **extra: Any) -> dict[int, models.Model]:
        mapping: dict[int, models.Model] = {}
        for row in model._default_manager.filter(version=source).order_by("pk"):
            old_pk = row.pk
            row.pk = None
            row._state.adding = True
            row.version = draft  # type: ignore[attr-defined]
            for name, value in extra.items():
                setattr(row, name, value)
            row.save()
            mapping[old_pk] = row
        return mapping

    copy_rows(LegalBasis)
    situations = copy_rows(Situation)
    copy_rows(FeeItem)
    copy_rows(Faq)
    copy_rows(ProcessStep)
    old_links = {
        m.pk: [s.pk for s in m.situations.all()]
        for m in Material.objects.filter(version=source).prefetch_related("situations")
    }
    materials = copy_rows(Material)
    for old_pk, new in materials.items():
        if old_links[old_pk]:
            new.situations.set([situations[s].pk for s in old_links[old_pk]])  # type: ignore[attr-defined]
    return draft


def _require_state(locked: ItemVersion, name: str) -> str:
    source, target = TRANSITIONS[name]
    if locked.status != source:
        raise Conflict(
            errors.INVALID_TRANSITION,
            _("版本状态为“%(s)s”，不能执行“%(t)s”。")
            % {"s": locked.get_status_display(), "t": _TRANSITION_LABELS[name]},
            status=locked.status,
            transition=name,
        )
    return target


_TRANSITION_LABELS = {
    "submit": _("提交审核"),
    "publish": _("发布"),
    "publish_upstream": _("按上级清单发布"),
    "reject": _("退回修改"),
    "retire": _("停用"),
}


def _audit_transition(
    *, actor: Actor, version: ItemVersion, name: str, before: str, reason: str = ""
) -> None:
    audit_record(
        actor=actor,
        action=f"catalog.version_{name}",
        obj=version,
        reason=reason,
        before={"status": before},
        after={"status": version.status, "number": version.number},
    )


@transaction.atomic
def version_submit(*, actor: Actor, version: ItemVersion) -> ItemVersion:
    """Draft → review."""
    _check_actor(actor)
    locked = _lock_version(version)
    target = _require_state(locked, "submit")
    locked.status = target
    locked.submitted_at = timezone.now()
    locked.submitted_by = actor if isinstance(actor, User) else None
    locked.save(update_fields=["status", "submitted_at", "submitted_by", "updated_at"])
    _audit_transition(actor=actor, version=locked, name="submit", before=Status.DRAFT)
    return locked


@transaction.atomic
def version_reject(*, actor: Actor, version: ItemVersion, reason: str) -> ItemVersion:
    """Review → draft, with the reviewer's reason."""
    _check_actor(actor)
    if not reason.strip():
        raise ValidationError(errors.REASON_REQUIRED, _("请填写退回修改的原因。"))
    locked = _lock_version(version)
    target = _require_state(locked, "reject")
    locked.status = target
    locked.submitted_at = None
    locked.save(update_fields=["status", "submitted_at", "updated_at"])
    _audit_transition(
        actor=actor, version=locked, name="reject", before=Status.REVIEW, reason=reason.strip()
    )
    return locked


@transaction.atomic
def version_publish(*, actor: Actor, version: ItemVersion) -> ItemVersion:
    """Review → published, if no quality rule reports an error (``catalog.quality_failed``
    lists every violation otherwise, and nothing changes). The item's previously published
    version is retired in the same transaction.

    Four eyes: the person who submitted the version for review may not publish it
    (``catalog.same_person``); a system actor (a script) is not a person and is exempt."""
    _check_actor(actor)
    # Lock order: item, then version (as everywhere in this module), so that two publishers
    # of the same item queue up instead of deadlocking.
    ServiceItem.objects.select_for_update().get(pk=version.item_id)
    locked = _lock_version(version)
    _require_state(locked, "publish")
    if isinstance(actor, User) and locked.submitted_by_id == actor.pk:
        raise Conflict(
            errors.SAME_PERSON,
            _("提交审核的人不能发布自己提交的版本，请由另一位审核人发布。"),
        )
    return _publish(locked, actor=actor)


@transaction.atomic
def versions_publish_upstream(
    *, actor: Actor, versions: Sequence[ItemVersion], source: str
) -> dict[int, list[Violation]]:
    """Draft → published for records that an upstream catalog has already published (the
    provincial list; ``source`` names the file and lines): no review step here, but the same
    quality rules and process freeze as ``version_publish``. A record that breaks a rule stays
    a draft for an editor to complete; the result maps each such version's pk to its
    violations. Made for importers: one pass over the batch and one audit row for it (the
    import's own row names what was created), instead of one transaction per item."""
    _check_actor(actor)
    if not versions:
        return {}
    ServiceItem.objects.select_for_update().filter(
        pk__in=sorted({v.item_id for v in versions})
    ).order_by("pk").exists()
    locked = list(
        ItemVersion.objects.select_for_update(of=("self",))
        .filter(pk__in=[v.pk for v in versions])
        .select_related("item", "item_type")
        .prefetch_related(*QUALITY_PREFETCH)
        .order_by("pk")
    )
    held: dict[int, list[Violation]] = {}
    passing: list[ItemVersion] = []
    for version in locked:
        _require_state(version, "publish_upstream")
        violations = quality_check(version)
        if quality_errors(violations):
            held[version.pk] = violations
        else:
            passing.append(version)
    for version in passing:
        process_freeze(version)
    now = timezone.now()
    previous = list(
        ItemVersion.objects.select_for_update(of=("self",))
        .filter(item_id__in=[v.item_id for v in passing], status=Status.PUBLISHED)
        .exclude(pk__in=[v.pk for v in passing])
        .select_related("item")
    )
    for version in previous:
        version.status, version.retired_at, version.updated_at = Status.RETIRED, now, now
    ItemVersion.objects.bulk_update(previous, ["status", "retired_at", "updated_at"])
    for version in passing:
        version.status, version.published_at, version.updated_at = Status.PUBLISHED, now, now
        version.published_by = actor if isinstance(actor, User) else None
    ItemVersion.objects.bulk_update(
        passing, ["status", "published_at", "published_by", "updated_at"]
    )
    audit_record(
        actor=actor,
        action="catalog.versions_publish_upstream",
        object_type="catalog.itemversion",
        reason=source,
        after={
            "published": [f"{v.item.task_code} v{v.number}" for v in passing],
            "retired": [f"{v.item.task_code} v{v.number}" for v in previous],
            "held": {
                f"{v.item.task_code} v{v.number}": [x.rule for x in quality_errors(held[v.pk])]
                for v in locked
                if v.pk in held
            },
        },
    )
    return held


def _publish(locked: ItemVersion, *, actor: Actor) -> ItemVersion:
    """Quality gate, process freeze, retirement of the previous version; the caller holds the
    item and version locks."""
    before, target = TRANSITIONS["publish"]
    violations = quality_check(locked)
    failing = quality_errors(violations)
    if failing:
        raise ValidationError(
            errors.QUALITY_FAILED,
            _("事项不符合质量规则，不能发布：%(v)s") % {"v": "；".join(v.message for v in failing)},
            violations=[v.as_dict() for v in violations],
        )
    # The process the item will run under is fixed now: a generated one is rebuilt from the
    # final steps, a custom one re-validated (catalog.bpmn_invalid refuses the publication).
    process_freeze(locked)
    now = timezone.now()
    previous = (
        ItemVersion.objects.select_for_update()
        .filter(item_id=locked.item_id, status=Status.PUBLISHED)
        .exclude(pk=locked.pk)
        .first()
    )
    if previous is not None:
        previous.status = Status.RETIRED
        previous.retired_at = now
        previous.save(update_fields=["status", "retired_at", "updated_at"])
        _audit_transition(
            actor=actor,
            version=previous,
            name="retire",
            before=Status.PUBLISHED,
            reason=f"superseded by v{locked.number}",
        )
    locked.status = target
    locked.published_at = now
    locked.published_by = actor if isinstance(actor, User) else None
    locked.save(update_fields=["status", "published_at", "published_by", "updated_at"])
    _audit_transition(actor=actor, version=locked, name="publish", before=before)
    return locked


@transaction.atomic
def version_retire(*, actor: Actor, version: ItemVersion, reason: str = "") -> ItemVersion:
    """Published → retired: the item is no longer offered (applications already made keep
    their version)."""
    _check_actor(actor)
    ServiceItem.objects.select_for_update().get(pk=version.item_id)
    locked = _lock_version(version)
    target = _require_state(locked, "retire")
    locked.status = target
    locked.retired_at = timezone.now()
    locked.save(update_fields=["status", "retired_at", "updated_at"])
    _audit_transition(
        actor=actor, version=locked, name="retire", before=Status.PUBLISHED, reason=reason.strip()
    )
    return locked


# --- child rows (draft only) ---------------------------------------------------------------

Child = TypeVar("Child", bound=models.Model)

_CHILD_FORBIDDEN = frozenset({"id", "pk", "version", "version_id"})


def _child_fields(model: type[models.Model]) -> frozenset[str]:
    names = {f.name for f in model._meta.concrete_fields} | {
        f.attname for f in model._meta.concrete_fields
    }
    return frozenset(names - _CHILD_FORBIDDEN)


def _child_check_fields(model: type[models.Model], fields: dict[str, Any]) -> None:
    unknown = sorted(set(fields) - _child_fields(model))
    if unknown:
        raise ValidationError(
            errors.UNKNOWN_FIELD,
            _("不能设置这些字段：%(f)s") % {"f": "、".join(unknown)},
            fields=unknown,
        )


def _child_audit_name(model: type[models.Model]) -> str:
    return {
        Material: "material",
        Situation: "situation",
        LegalBasis: "legal_basis",
        FeeItem: "fee_item",
        Faq: "faq",
        ProcessStep: "step",
    }[model]


def _child_add(
    model: type[Child], *, actor: Actor, version: ItemVersion, fields: dict[str, Any]
) -> Child:
    _check_actor(actor)
    _child_check_fields(model, fields)
    locked = _lock_draft(version)
    row = model(version=locked, **fields)
    _full_clean(row, exclude=["version"])
    row.save()
    audit_record(
        actor=actor,
        action=f"catalog.{_child_audit_name(model)}_add",
        obj=row,
        after={"version": locked.pk, **_snapshot(row, fields)},
    )
    return row


def _child_locked(model: type[Child], *, row: Child) -> tuple[Child, ItemVersion]:
    version_id = row.version_id  # type: ignore[attr-defined]
    locked_version = _lock_draft(ItemVersion(pk=version_id))
    locked_row = model._default_manager.select_for_update().get(pk=row.pk)
    if locked_row.version_id != locked_version.pk:  # type: ignore[attr-defined]
        raise Conflict(errors.CHILD_NOT_IN_VERSION, _("该记录已不属于此版本。"))
    return locked_row, locked_version


def _child_update(model: type[Child], *, actor: Actor, row: Child, fields: dict[str, Any]) -> Child:
    _check_actor(actor)
    _child_check_fields(model, fields)
    locked, _version = _child_locked(model, row=row)
    before = _snapshot(locked, fields)
    for name, value in fields.items():
        setattr(locked, name, value)
    _full_clean(locked, exclude=["version"])
    locked.save()
    audit_record(
        actor=actor,
        action=f"catalog.{_child_audit_name(model)}_update",
        obj=locked,
        before=before,
        after=_snapshot(locked, fields),
    )
    return locked


def _child_remove(model: type[Child], *, actor: Actor, row: Child) -> None:
    _check_actor(actor)
    locked, version = _child_locked(model, row=row)
    object_id = str(locked.pk)
    before = {"version": version.pk, "str": str(locked)}
    locked.delete()
    audit_record(
        actor=actor,
        action=f"catalog.{_child_audit_name(model)}_remove",
        object_type=model._meta.label_lower,
        object_id=object_id,
        before=before,
    )


def _situations_for(version_id: int, situations: Iterable[Situation | int]) -> list[int]:
    ids = sorted({s.pk if isinstance(s, Situation) else int(s) for s in situations})
    found = set(
        Situation.objects.filter(version_id=version_id, pk__in=ids).values_list("pk", flat=True)
    )
    if missing := [i for i in ids if i not in found]:
        raise ValidationError(
            errors.CHILD_NOT_IN_VERSION,
            _("办理情形不属于该版本：%(m)s") % {"m": missing},
            fields=["situations"],
        )
    return ids


@transaction.atomic
def material_add(
    *,
    actor: Actor,
    version: ItemVersion,
    situations: Iterable[Situation | int] = (),
    **fields: Any,
) -> Material:
    """A material on a draft; ``situations`` (of the same version) limit where it applies
    (none: every situation)."""
    material = _child_add(Material, actor=actor, version=version, fields=fields)
    ids = _situations_for(version.pk, situations)
    if ids:
        material.situations.set(ids)
    return material


@transaction.atomic
def material_update(
    *,
    actor: Actor,
    material: Material,
    situations: Iterable[Situation | int] | None = None,
    **fields: Any,
) -> Material:
    locked = _child_update(Material, actor=actor, row=material, fields=fields)
    if situations is not None:
        before = sorted(locked.situations.values_list("pk", flat=True))
        ids = _situations_for(locked.version_id, situations)
        locked.situations.set(ids)
        audit_record(
            actor=actor,
            action="catalog.material_situations",
            obj=locked,
            before={"situations": before},
            after={"situations": ids},
        )
    return locked


@transaction.atomic
def material_remove(*, actor: Actor, material: Material) -> None:
    _child_remove(Material, actor=actor, row=material)


@transaction.atomic
def situation_add(*, actor: Actor, version: ItemVersion, **fields: Any) -> Situation:
    return _child_add(Situation, actor=actor, version=version, fields=fields)


@transaction.atomic
def situation_update(*, actor: Actor, situation: Situation, **fields: Any) -> Situation:
    return _child_update(Situation, actor=actor, row=situation, fields=fields)


@transaction.atomic
def situation_remove(*, actor: Actor, situation: Situation) -> None:
    _child_remove(Situation, actor=actor, row=situation)


@transaction.atomic
def legal_basis_add(*, actor: Actor, version: ItemVersion, **fields: Any) -> LegalBasis:
    return _child_add(LegalBasis, actor=actor, version=version, fields=fields)


@transaction.atomic
def legal_basis_update(*, actor: Actor, legal_basis: LegalBasis, **fields: Any) -> LegalBasis:
    return _child_update(LegalBasis, actor=actor, row=legal_basis, fields=fields)


@transaction.atomic
def legal_basis_remove(*, actor: Actor, legal_basis: LegalBasis) -> None:
    _child_remove(LegalBasis, actor=actor, row=legal_basis)


@transaction.atomic
def fee_item_add(*, actor: Actor, version: ItemVersion, **fields: Any) -> FeeItem:
    return _child_add(FeeItem, actor=actor, version=version, fields=fields)


@transaction.atomic
def fee_item_update(*, actor: Actor, fee_item: FeeItem, **fields: Any) -> FeeItem:
    return _child_update(FeeItem, actor=actor, row=fee_item, fields=fields)


@transaction.atomic
def fee_item_remove(*, actor: Actor, fee_item: FeeItem) -> None:
    _child_remove(FeeItem, actor=actor, row=fee_item)


@transaction.atomic
def faq_add(*, actor: Actor, version: ItemVersion, **fields: Any) -> Faq:
    return _child_add(Faq, actor=actor, version=version, fields=fields)


@transaction.atomic
def faq_update(*, actor: Actor, faq: Faq, **fields: Any) -> Faq:
    return _child_update(Faq, actor=actor, row=faq, fields=fields)


@transaction.atomic
def faq_remove(*, actor: Actor, faq: Faq) -> None:
    _child_remove(Faq, actor=actor, row=faq)


@transaction.atomic
def step_add(*, actor: Actor, version: ItemVersion, **fields: Any) -> ProcessStep:
    return _child_add(ProcessStep, actor=actor, version=version, fields=fields)


@transaction.atomic
def step_update(*, actor: Actor, step: ProcessStep, **fields: Any) -> ProcessStep:
    return _child_update(ProcessStep, actor=actor, row=step, fields=fields)


@transaction.atomic
def step_remove(*, actor: Actor, step: ProcessStep) -> None:
    _child_remove(ProcessStep, actor=actor, row=step)
