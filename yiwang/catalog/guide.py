"""How the catalog reads to a citizen: time limits in words and materials grouped by 办理情形.
Shared by the guide pages (views) and the API's guide documents, so both say the same thing."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from yiwang.catalog.models import ItemVersion, Material, Situation, TimeUnit

# --- time limits ---------------------------------------------------------------


def time_limit_words(limit: int | None, unit: str) -> str:
    """The words for one limit: "5 个工作日", "即办", or "" when the element is empty."""
    if unit == TimeUnit.IMMEDIATE:
        return _("即办")
    if limit is None:
        return ""
    if unit == TimeUnit.WORKING_DAY:
        return _("%(n)s 个工作日") % {"n": limit}
    if unit == TimeUnit.NATURAL_DAY:
        return _("%(n)s 个自然日") % {"n": limit}
    if unit == TimeUnit.WORKING_HOUR:
        return _("%(n)s 个工作小时") % {"n": limit}
    return ""


def version_is_immediate(version: ItemVersion) -> bool:
    return (
        version.project_type == ItemVersion.ProjectType.IMMEDIATE
        or version.promise_unit == TimeUnit.IMMEDIATE
    )


def version_time_limits(version: ItemVersion) -> str:
    """The guide's sentence: "法定 20 个工作日，承诺 5 个工作日", or "即办"."""
    parts: list[str] = []
    statutory = time_limit_words(version.anticipate_limit, version.anticipate_unit)
    if statutory and statutory != _("即办"):
        parts.append(_("法定 %(limit)s") % {"limit": statutory})
    if version_is_immediate(version):
        parts.append(_("即办"))
    else:
        promised = time_limit_words(version.promise_limit, version.promise_unit)
        if promised:
            parts.append(_("承诺 %(limit)s") % {"limit": promised})
    return _("，").join(parts)


def version_short_limit(version: ItemVersion) -> str:
    """The result list's short form: "即办" or "承诺 5 个工作日"."""
    if version_is_immediate(version):
        return _("即办")
    promised = time_limit_words(version.promise_limit, version.promise_unit)
    return _("承诺 %(limit)s") % {"limit": promised} if promised else ""


# --- materials --------------------------------------------------------------------------


@dataclass(frozen=True)
class MaterialGroup:
    """Materials that apply to every situation (``situation`` None) or to one of them."""

    situation: Situation | None
    materials: list[Material]


def material_groups(version: ItemVersion, *, situation_code: str | None) -> list[MaterialGroup]:
    """The materials of ``version`` grouped by 办理情形 (prefetched: no queries). With a
    situation chosen, only the common group and that situation's group remain."""
    materials = list(version.materials.all())
    common = [m for m in materials if not m.situations.all()]
    groups = [MaterialGroup(None, common)] if common else []
    for situation in version.situations.all():
        if situation_code and situation.code != situation_code:
            continue
        own = [m for m in materials if situation in m.situations.all()]
        groups.append(MaterialGroup(situation, own))
    return groups
