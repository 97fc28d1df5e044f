"""一件事一次办 (bundles): the services that build and publish a bundle, and the reads that merge
its members into one form, one de-duplicated material list and one time limit
(standards.md §1.7: “一次告知、一表申请、一套材料、一窗（端）受理、一网办理”).

A bundle is edited as a draft; publishing checks that every member item has a published
version, so that an application made under the bundle can pin each member's exact version.
Materials are listed once; those that a government body issues and whose e-certificate type or
shared data resource is named are marked as fetched, not asked for (国务院令第716号 Art. 7;
the rule is ``yiwang.catalog.models.fetched_from_government``, the guide's too).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from yiwang.accounts.models import Department, User
from yiwang.catalog import errors
from yiwang.catalog.access import catalog_require_editor
from yiwang.catalog.models import (
    Bundle,
    BundleMember,
    ItemVersion,
    Material,
    ServiceItem,
    TimeUnit,
    fetched_from_government,
)
from yiwang.core.audit import audit_record
from yiwang.core.errors import Conflict, ValidationError

# Field types the merged form may use (rendered by the application form builder).
FORM_FIELD_TYPES = frozenset(
    {
        "text",
        "textarea",
        "number",
        "money",
        "date",
        "select",
        "boolean",
        "phone",
        "email",
        "id_number",
        "uscc",
        "address",
        "file",
    }
)
_FIELD_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

Actor = User | str  # a str names a trusted system actor (as in yiwang.catalog.services)

FETCHED_NOTE = _("无需提交，通过电子证照/数据共享获取")

_NECESSITY_RANK: dict[str, int] = {
    Material.Necessity.REQUIRED: 3,
    Material.Necessity.TOLERATED: 2,
    Material.Necessity.OPTIONAL: 1,
}


# --- snapshots ------------------------------------------------------------------------------


def bundle_snapshot(bundle: Bundle) -> dict[str, Any]:
    """What the audit trail keeps of a bundle."""
    return {
        "code": bundle.code,
        "name": bundle.name,
        "status": bundle.status,
        "lead_department_id": bundle.lead_department_id,
        "cooperating_department_ids": sorted(
            bundle.cooperating_departments.values_list("id", flat=True)
        )
        if bundle.pk
        else [],
        "dispatch": bundle.dispatch,
        "promise_limit": bundle.promise_limit,
        "promise_unit": bundle.promise_unit,
        "form_fields": [f.get("name") for f in bundle.form_schema if isinstance(f, dict)],
        "members": [
            {"task_code": m.item.task_code, "stage": m.stage, "required": m.required}
            for m in bundle.members.select_related("item")
        ]
        if bundle.pk
        else [],
    }


# --- validation helpers ---------------------------------------------------------------------


def _check_time_limit(limit: int | None, unit: str) -> None:
    if unit not in TimeUnit.values:
        raise ValidationError(
            errors.BUNDLE_TIME_LIMIT_INVALID,
            _("一件事须设定承诺办结时限的单位（工作日、自然日、工作小时或即办）。"),
        )
    if unit == TimeUnit.IMMEDIATE:
        if limit not in (None, 0):
            raise ValidationError(
                errors.BUNDLE_TIME_LIMIT_INVALID, _("即办的一件事不应填写时限数值。")
            )
        return
    if limit is None or limit <= 0:
        raise ValidationError(
            errors.BUNDLE_TIME_LIMIT_INVALID, _("一件事的承诺办结时限须为正整数。")
        )


def _form_error(message: Any, **extra: Any) -> ValidationError:
    return ValidationError(errors.BUNDLE_FORM_INVALID, message, **extra)


def _clean_form_schema(
    form_schema: Sequence[Any], member_codes: Iterable[str]
) -> list[dict[str, Any]]:
    """Check the merged form's shape and that every mapping points at a member of the bundle."""
    members = set(member_codes)
    cleaned: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, raw in enumerate(form_schema, start=1):
        if not isinstance(raw, dict):
            raise _form_error(format_lazy(_("合并表单第{n}项不是字段定义。"), n=index), index=index)
        name = raw.get("name")
        if not isinstance(name, str) or not _FIELD_NAME_RE.fullmatch(name):
            raise _form_error(
                format_lazy(
                    _("合并表单第{n}项的字段名须为小写字母开头的字母、数字或下划线。"), n=index
                ),
                index=index,
            )
        if name in seen:
            raise _form_error(format_lazy(_("合并表单字段名“{name}”重复。"), name=name), field=name)
        seen.add(name)
        label = raw.get("label")
        if not isinstance(label, str) or not label.strip():
            raise _form_error(
                format_lazy(_("合并表单字段“{name}”缺少中文标签。"), name=name), field=name
            )
        kind = raw.get("type", "text")
        if kind not in FORM_FIELD_TYPES:
            raise _form_error(
                format_lazy(
                    _("合并表单字段“{name}”的类型“{kind}”不受支持。"), name=name, kind=kind
                ),
                field=name,
            )
        if kind == "select" and not (isinstance(raw.get("options"), list) and raw["options"]):
            raise _form_error(
                format_lazy(_("合并表单字段“{name}”为选择项，须列出选项。"), name=name),
                field=name,
            )
        maps_to = raw.get("maps_to", {})
        if not isinstance(maps_to, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v for k, v in maps_to.items()
        ):
            raise _form_error(
                format_lazy(
                    _("合并表单字段“{name}”的映射须为“实施编码 → 成员事项字段名”。"), name=name
                ),
                field=name,
            )
        strangers = sorted(set(maps_to) - members)
        if strangers:
            raise _form_error(
                format_lazy(
                    _("合并表单字段“{name}”映射到了不属于本一件事的事项：{codes}。"),
                    name=name,
                    codes="、".join(strangers),
                ),
                field=name,
                task_codes=strangers,
            )
        field_def: dict[str, Any] = {
            "name": name,
            "label": label.strip(),
            "type": kind,
            "required": bool(raw.get("required", False)),
            "maps_to": dict(maps_to),
        }
        for optional in ("options", "help", "group"):
            if optional in raw:
                field_def[optional] = raw[optional]
        cleaned.append(field_def)
    return cleaned


def _check_actor(actor: Actor) -> None:
    if not isinstance(actor, str):
        catalog_require_editor(actor)


def _lock_draft(bundle: Bundle) -> Bundle:
    locked = Bundle.objects.select_for_update().get(pk=bundle.pk)
    if locked.status != Bundle.Status.DRAFT:
        raise Conflict(
            errors.BUNDLE_NOT_DRAFT,
            format_lazy(
                _("一件事“{name}”当前为“{status}”，只有草稿可以修改。"),
                name=locked.name,
                status=locked.get_status_display(),
            ),
        )
    return locked


# --- services -------------------------------------------------------------------------------


@transaction.atomic
def bundle_create(
    *,
    actor: Actor,
    code: str,
    name: str,
    lead_department: Department,
    dispatch: str = Bundle.Dispatch.PARALLEL,
    promise_limit: int | None,
    promise_unit: str,
    description: str = "",
    keywords: str = "",
    cooperating_departments: Iterable[Department] = (),
) -> Bundle:
    """Create a draft bundle (一件事). Members and the merged form are added afterwards."""
    _check_actor(actor)
    if not name.strip():
        raise ValidationError(errors.BUNDLE_NAME_REQUIRED, _("请填写一件事的名称。"))
    if dispatch not in Bundle.Dispatch.values:
        raise ValidationError(
            errors.BUNDLE_FORM_INVALID, _("办理方式须为并联办理或按阶段顺序办理。")
        )
    _check_time_limit(promise_limit, promise_unit)
    if Bundle.objects.filter(code=code).exists():
        raise Conflict(
            errors.BUNDLE_CODE_TAKEN, format_lazy(_("一件事代码“{code}”已被使用。"), code=code)
        )
    bundle = Bundle.objects.create(
        code=code,
        name=name.strip(),
        description=description,
        keywords=keywords,
        lead_department=lead_department,
        dispatch=dispatch,
        promise_limit=None if promise_unit == TimeUnit.IMMEDIATE else promise_limit,
        promise_unit=promise_unit,
    )
    cooperating = [d for d in cooperating_departments if d.pk != lead_department.pk]
    if cooperating:
        bundle.cooperating_departments.add(*cooperating)
    audit_record(
        actor=actor, action="catalog.bundle_create", obj=bundle, after=bundle_snapshot(bundle)
    )
    return bundle


@transaction.atomic
def bundle_add_member(
    *,
    actor: Actor,
    bundle: Bundle,
    item: ServiceItem,
    stage: int = 0,
    required: bool = True,
) -> BundleMember:
    """Add a member item to a draft bundle. The item's department becomes a cooperating
    department (unless it leads), because it will receive its part of every application."""
    _check_actor(actor)
    locked = _lock_draft(bundle)
    if locked.members.filter(item=item).exists():
        raise Conflict(
            errors.BUNDLE_MEMBER_DUPLICATE,
            format_lazy(
                _("事项“{code}”已是一件事“{name}”的成员。"), code=item.task_code, name=locked.name
            ),
        )
    before = bundle_snapshot(locked)
    member = BundleMember.objects.create(
        bundle=locked, item=item, stage=stage, required=required, sort_order=locked.members.count()
    )
    if item.department_id is not None and item.department_id != locked.lead_department_id:
        locked.cooperating_departments.add(item.department_id)
    audit_record(
        actor=actor,
        action="catalog.bundle_add_member",
        obj=locked,
        before=before,
        after=bundle_snapshot(locked),
    )
    return member


@transaction.atomic
def bundle_form_set(
    *, actor: Actor, bundle: Bundle, form_schema: Sequence[dict[str, Any]]
) -> Bundle:
    """Replace the merged form of a draft bundle; each field maps to fields of member items
    (``maps_to``: {实施编码: 成员事项字段名})."""
    _check_actor(actor)
    locked = _lock_draft(bundle)
    codes = locked.members.values_list("item__task_code", flat=True)
    cleaned = _clean_form_schema(form_schema, codes)
    before = bundle_snapshot(locked)
    locked.form_schema = cleaned
    locked.save(update_fields=["form_schema", "updated_at"])
    audit_record(
        actor=actor,
        action="catalog.bundle_form_set",
        obj=locked,
        before=before,
        after=bundle_snapshot(locked),
    )
    return locked


@transaction.atomic
def bundle_publish(*, actor: Actor, bundle: Bundle) -> Bundle:
    """Publish a draft bundle. Refused (nothing changed) unless it has at least two members,
    each with a published version, a valid merged form and a bundle time limit."""
    _check_actor(actor)
    locked = _lock_draft(bundle)
    members = list(locked.members.select_related("item"))
    if len(members) < 2:
        raise ValidationError(errors.BUNDLE_TOO_FEW_MEMBERS, _("一件事至少应包含两个成员事项。"))
    published = set(
        ItemVersion.objects.filter(
            item__in=[m.item for m in members], status=ItemVersion.Status.PUBLISHED
        ).values_list("item_id", flat=True)
    )
    unpublished = [m.item for m in members if m.item.pk not in published]
    if unpublished:
        codes = [i.task_code for i in unpublished]
        raise ValidationError(
            errors.BUNDLE_MEMBER_UNPUBLISHED,
            format_lazy(
                _("以下成员事项尚无已发布版本，一件事不能发布：{codes}。"), codes="、".join(codes)
            ),
            task_codes=codes,
        )
    _check_time_limit(locked.promise_limit, locked.promise_unit)
    if not locked.form_schema:
        raise _form_error(_("一件事须有一张合并申请表（一表申请）。"))
    _clean_form_schema(locked.form_schema, [m.item.task_code for m in members])
    before = bundle_snapshot(locked)
    locked.status = Bundle.Status.PUBLISHED
    locked.published_at = timezone.now()
    locked.save(update_fields=["status", "published_at", "updated_at"])
    audit_record(
        actor=actor,
        action="catalog.bundle_publish",
        obj=locked,
        before=before,
        after=bundle_snapshot(locked),
    )
    return locked


@transaction.atomic
def bundle_retire(*, actor: Actor, bundle: Bundle, reason: str) -> Bundle:
    """Withdraw a published bundle from the portal (its members stay as they are)."""
    _check_actor(actor)
    locked = Bundle.objects.select_for_update().get(pk=bundle.pk)
    if locked.status != Bundle.Status.PUBLISHED:
        raise Conflict(
            errors.BUNDLE_NOT_PUBLISHED,
            format_lazy(_("一件事“{name}”未发布，不能停用。"), name=locked.name),
        )
    before = bundle_snapshot(locked)
    locked.status = Bundle.Status.RETIRED
    locked.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action="catalog.bundle_retire",
        obj=locked,
        reason=reason,
        before=before,
        after=bundle_snapshot(locked),
    )
    return locked


# --- selectors ------------------------------------------------------------------------------


def bundle_member_versions(bundle: Bundle) -> list[tuple[BundleMember, ItemVersion | None]]:
    """Each member with the version that applies: the published one, else (while the bundle
    is a draft being prepared) the newest version, else ``None``."""
    members = list(bundle.members.select_related("item"))
    versions: dict[int, ItemVersion] = {}
    for version in ItemVersion.objects.filter(item__in=[m.item_id for m in members]).order_by(
        "item_id", "-number"
    ):
        current = versions.get(version.item_id)
        if current is None or (
            version.status == ItemVersion.Status.PUBLISHED
            and current.status != ItemVersion.Status.PUBLISHED
        ):
            versions[version.item_id] = version
    return [(m, versions.get(m.item_id)) for m in members]


@dataclass(frozen=True)
class MaterialUse:
    """One member item's requirement of a merged material."""

    task_code: str
    item_name: str
    material_id: int
    material_name: str
    necessity: str
    situations: tuple[str, ...] = ()


@dataclass
class MergedMaterial:
    """One entry of the bundle's single material list (一套材料). ``note`` says when the
    entry is needed only in some members' situations (a bundle has no situation choice, so
    such an entry is 非必要 in the bundle)."""

    name: str
    normalised_name: str
    necessity: str
    kind: str
    source: str
    certificate_type_code: str = ""
    data_resource_code: str = ""
    uses: list[MaterialUse] = field(default_factory=list)
    note: str = ""

    @property
    def task_codes(self) -> list[str]:
        return [u.task_code for u in self.uses]

    @property
    def fetched(self) -> bool:
        """Fetched via 电子证照 or data sharing, never asked for (the catalog's one rule)."""
        return fetched_from_government(
            source=self.source,
            certificate_type_code=self.certificate_type_code,
            data_resource_code=self.data_resource_code,
        )

    @property
    def submit_note(self) -> str:
        return str(FETCHED_NOTE) if self.fetched else ""


_BRACKETS_RE = re.compile(r"[（(【\[][^）)】\]]*[）)】\]]")
_SUFFIX_RE = re.compile(r"(原件及复印件|原件和复印件|原件或复印件|复印件|原件|扫描件|电子件)$")


def material_name_normalise(name: str) -> str:
    """The comparable form of a material name: full-width folded, bracketed remarks and
    original/copy suffixes dropped, spaces and punctuation removed (“营业执照（副本）复印件” and
    “营业执照” are one material)."""
    text = _BRACKETS_RE.sub("", unicodedata.normalize("NFKC", name))
    text = "".join(ch for ch in text if not (ch.isspace() or unicodedata.category(ch)[0] == "P"))
    text = _SUFFIX_RE.sub("", text)
    return text.lower()


@dataclass(frozen=True)
class _Result:
    """What a member item produces (its 审批结果名称, normalised), and when."""

    task_code: str
    stage: int
    name: str
    asks_for_it: bool  # the member also asks for it: it renews or transfers an existing one


def _produced_inside(results: Sequence[_Result], *, name: str, task_code: str, stage: int) -> bool:
    """Does another member produce the material ``name`` before the member ``task_code`` (at
    ``stage``) needs it? A member of an earlier stage does; one of the same stage (并联) does
    unless it asks for that material itself: then what it produces replaces one that exists
    before the bundle (不动产转移登记 asks for the seller's 不动产权证书 and issues the
    buyer's), and the one asked for is the older one."""
    return any(
        r.name == name
        and r.task_code != task_code
        and (r.stage < stage or (r.stage == stage and not r.asks_for_it))
        for r in results
    )


def _situations_note(uses: Sequence[MaterialUse]) -> str:
    parts = [f"{'、'.join(u.situations)}（{u.item_name}）" for u in uses if u.situations]
    return gettext("仅以下情形需要：%(s)s") % {"s": "；".join(parts)}


def bundle_materials(bundle: Bundle) -> list[MergedMaterial]:
    """The de-duplicated material list of a bundle, in member order.

    Two materials are the same when they share a certificate type code or a normalised name;
    each merged entry keeps which members need it (with their situations). Two rules make it
    the list of what the applicant brings:

    * a material that another member produces (its 审批结果名称) before this member needs it
      is not asked for (企业开办 issues the 营业执照 that 公章刻制 needs; 二手房's tax task
      issues the 契税完税凭证): see ``_produced_inside``;
    * a bundle has no 办理情形 to choose, so a material that every member asks for only in
      some situations (二手房: 赠与合同 for a gift, 继承权公证书 for an inheritance) is
      非必要 in the bundle and its ``note`` names the situations; otherwise its necessity is
      the strongest among the members that ask for it in every situation.
    """
    parallel = bundle.dispatch == Bundle.Dispatch.PARALLEL
    members: list[tuple[BundleMember, ItemVersion, int, list[Material]]] = []
    for member, version in bundle_member_versions(bundle):
        if version is not None:
            stage = 0 if parallel else member.stage
            materials = list(version.materials.prefetch_related("situations"))
            members.append((member, version, stage, materials))
    results = []
    for member, version, stage, materials in members:
        if version.result_name.strip():
            name = material_name_normalise(version.result_name)
            asked = {material_name_normalise(m.name) for m in materials}
            results.append(_Result(member.item.task_code, stage, name, name in asked))

    merged: list[MergedMaterial] = []
    by_code: dict[str, MergedMaterial] = {}
    by_name: dict[str, MergedMaterial] = {}
    for member, version, stage, materials in members:
        task_code = member.item.task_code
        for material in materials:
            key_name = material_name_normalise(material.name)
            if _produced_inside(results, name=key_name, task_code=task_code, stage=stage):
                continue
            code = material.certificate_type_code
            entry = (by_code.get(code) if code else None) or by_name.get(key_name)
            if entry is None:
                entry = MergedMaterial(
                    name=material.name,
                    normalised_name=key_name,
                    necessity=material.necessity,
                    kind=material.kind,
                    source=material.source,
                )
                merged.append(entry)
            if material.source == Material.Source.GOVERNMENT:
                entry.source = material.source
            entry.certificate_type_code = entry.certificate_type_code or code
            entry.data_resource_code = entry.data_resource_code or material.data_resource_code
            if code:
                by_code.setdefault(code, entry)
            by_name.setdefault(key_name, entry)
            use = MaterialUse(
                task_code=task_code,
                item_name=version.name,
                material_id=material.pk,
                material_name=material.name,
                necessity=material.necessity,
                situations=tuple(s.name for s in material.situations.all()),
            )
            earlier = next((i for i, u in enumerate(entry.uses) if u.task_code == task_code), None)
            if earlier is None:
                entry.uses.append(use)
            elif entry.uses[earlier].situations and not use.situations:
                entry.uses[earlier] = use  # the member asks for it in every situation after all
    for entry in merged:
        everywhere = [u.necessity for u in entry.uses if not u.situations]
        if everywhere:
            entry.necessity = max(everywhere, key=lambda n: _NECESSITY_RANK.get(n, 0))
        else:
            entry.necessity = Material.Necessity.OPTIONAL
            entry.note = _situations_note(entry.uses)
    return merged


@dataclass(frozen=True)
class FieldMapping:
    task_code: str
    item_name: str
    member_field: str


@dataclass(frozen=True)
class MergedField:
    """One field of the bundle's single application form (一表申请)."""

    name: str
    label: str
    type: str
    required: bool
    mappings: tuple[FieldMapping, ...]
    options: tuple[str, ...] = ()
    group: str = ""


def bundle_form(bundle: Bundle) -> list[MergedField]:
    """The merged form with, for every field, the member fields it fills."""
    names = {
        m.item.task_code: (v.name if v else m.item.task_code)
        for m, v in bundle_member_versions(bundle)
    }
    fields: list[MergedField] = []
    for raw in bundle.form_schema:
        maps_to: dict[str, str] = raw.get("maps_to", {})
        fields.append(
            MergedField(
                name=raw["name"],
                label=raw["label"],
                type=raw.get("type", "text"),
                required=bool(raw.get("required", False)),
                mappings=tuple(
                    FieldMapping(task_code=code, item_name=names.get(code, code), member_field=f)
                    for code, f in maps_to.items()
                ),
                options=tuple(str(o) for o in raw.get("options", ())),
                group=str(raw.get("group", "")),
            )
        )
    return fields


@dataclass(frozen=True)
class BundleTimeLimit:
    """The bundle's promise (一个承诺时限) beside what its members promise on their own."""

    limit: int | None
    unit: str
    label: str
    members_limit: int | None  # parallel: the slowest member; sequential: sum of stage maxima
    members_unit: str
    members_label: str


def _limit_label(limit: int | None, unit: str) -> str:
    if unit == TimeUnit.IMMEDIATE:
        return str(_("即办"))
    if limit is None or not unit:
        return ""
    return f"{limit}个{TimeUnit(unit).label}"


def bundle_time_limit(bundle: Bundle) -> BundleTimeLimit:
    """The bundle's time limit and, for comparison, the members' own combined limit (``None``
    when members use different units or one has none)."""
    stages: dict[int, int] = {}
    units: set[str] = set()
    complete = True
    for member, version in bundle_member_versions(bundle):
        if version is None or not version.promise_unit:
            complete = False
            continue
        days = 0 if version.promise_unit == TimeUnit.IMMEDIATE else version.promise_limit
        if days is None:
            complete = False
            continue
        if version.promise_unit != TimeUnit.IMMEDIATE:
            units.add(version.promise_unit)
        stage = member.stage if bundle.dispatch == Bundle.Dispatch.SEQUENTIAL else 0
        stages[stage] = max(stages.get(stage, 0), days)
    members_limit: int | None = None
    members_unit = ""
    if complete and stages and len(units) <= 1:
        members_limit = sum(stages.values())
        members_unit = units.pop() if units else TimeUnit.IMMEDIATE
    return BundleTimeLimit(
        limit=bundle.promise_limit,
        unit=bundle.promise_unit,
        label=_limit_label(bundle.promise_limit, bundle.promise_unit),
        members_limit=members_limit,
        members_unit=members_unit,
        members_label=_limit_label(members_limit, members_unit) if members_unit else "",
    )
