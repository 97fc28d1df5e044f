"""Reads of the service catalog. Versions and publication first; other parts of the catalog
(search, guides, bundles) add their read functions below."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db.models import Prefetch, QuerySet
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.translation import gettext_lazy as _

from yiwang.catalog import errors
from yiwang.catalog.models import (
    Bundle,
    ItemVersion,
    Material,
    ProcessStep,
    ServiceItem,
    Situation,
)
from yiwang.core.errors import NotFound

# --- versions and publication --------------------------------------------------------------


def item_version_published(*, item: ServiceItem) -> ItemVersion | None:
    """The version citizens see and new applications are made under (at most one)."""
    return ItemVersion.objects.filter(item=item, status=ItemVersion.Status.PUBLISHED).first()


def item_version_latest(*, item: ServiceItem) -> ItemVersion | None:
    """The newest version, whatever its status (what a catalog administrator works on)."""
    return ItemVersion.objects.filter(item=item).order_by("-number").first()


def item_version_open(*, item: ServiceItem) -> ItemVersion | None:
    """The item's draft or in-review version, if any (there is at most one)."""
    return (
        ItemVersion.objects.filter(
            item=item, status__in=[ItemVersion.Status.DRAFT, ItemVersion.Status.REVIEW]
        )
        .order_by("-number")
        .first()
    )


def item_versions(*, item: ServiceItem) -> QuerySet[ItemVersion]:
    """Every version of ``item``, newest first."""
    return ItemVersion.objects.filter(item=item).order_by("-number")


def published_versions() -> QuerySet[ItemVersion]:
    """The live catalog: one published version per item."""
    return ItemVersion.objects.filter(status=ItemVersion.Status.PUBLISHED).select_related(
        "item", "item_type"
    )


# --- a version's materials and situations, kept per process ---------------------------------


@dataclass(frozen=True)
class VersionParts:
    """What every submission of a version is checked against."""

    materials: tuple[Material, ...]  # in their order, each with its situations prefetched
    situation_codes: frozenset[str]


# A published or retired version never changes: the catalogue's services refuse to edit it
# (catalog.version_immutable) and an importer writes drafts only. So its parts are read once
# per process and kept, the most recently used first. They are kept by the version's public_id,
# not its id: a new row has a new one, where a database may give a deleted row's id again.
_FROZEN = frozenset({ItemVersion.Status.PUBLISHED, ItemVersion.Status.RETIRED})
PARTS_KEPT = 512
_parts: OrderedDict[UUID, VersionParts] = OrderedDict()
_parts_lock = threading.Lock()


def version_parts(version: ItemVersion) -> VersionParts:
    """The materials and situation codes of ``version``: three queries for a draft, none for
    a published or retired version read before in this process. The material objects are
    shared between requests: read them, never change them."""
    if version.status not in _FROZEN:
        return _parts_read(version)
    with _parts_lock:
        found = _parts.get(version.public_id)
        if found is not None:
            _parts.move_to_end(version.public_id)
            return found
    found = _parts_read(version)
    with _parts_lock:
        _parts[version.public_id] = found
        while len(_parts) > PARTS_KEPT:
            _parts.popitem(last=False)
    return found


def _parts_read(version: ItemVersion) -> VersionParts:
    return VersionParts(
        materials=tuple(version.materials.prefetch_related("situations")),
        situation_codes=frozenset(version.situations.values_list("code", flat=True)),
    )


def version_parts_forget(*_args: Any, **_kwargs: Any) -> None:
    """Forget every kept version's parts. A material or situation saved or deleted through
    the ORM in this process calls it (a test or a repair that goes round the services); the
    services never change a published version's parts, in any process."""
    with _parts_lock:
        _parts.clear()


for _model in (Material, Situation):
    _uid = f"yiwang.catalog.version_parts:{_model._meta.label}"
    post_save.connect(version_parts_forget, sender=_model, weak=False, dispatch_uid=_uid + ":save")
    post_delete.connect(
        version_parts_forget, sender=_model, weak=False, dispatch_uid=_uid + ":delete"
    )
m2m_changed.connect(
    version_parts_forget,
    sender=Material.situations.through,
    weak=False,
    dispatch_uid="yiwang.catalog.version_parts:situations",
)


# --- the public catalog (search API, guides) ------------------------------------------------


def catalog_item_published_detail(*, task_code: str) -> ItemVersion:
    """The published version of the item ``task_code`` with every child list prefetched (a
    fixed number of queries however many materials, situations, fees, FAQ and steps).

    Raises NotFound (catalog.item_not_found) when the item is unknown or has no published
    version: a draft or a retired item is not public."""
    version = (
        ItemVersion.objects.filter(item__task_code=task_code, status=ItemVersion.Status.PUBLISHED)
        .select_related("item", "item__department", "item_type")
        .prefetch_related(
            "legal_bases",
            "situations",
            Prefetch("materials", queryset=Material.objects.prefetch_related("situations")),
            "fee_items",
            "faqs",
            Prefetch("steps", queryset=ProcessStep.objects.select_related("department")),
            "themes",
        )
        .first()
    )
    if version is None:
        raise NotFound(
            errors.ITEM_NOT_FOUND, _("没有找到该事项，或该事项尚未发布。"), task_code=task_code
        )
    return version


def catalog_bundle_published(*, code: str) -> Bundle:
    """The published bundle ``code`` with its departments; NotFound (catalog.bundle_not_found)
    for an unknown, draft or retired one."""
    bundle = (
        Bundle.objects.filter(code=code, status=Bundle.Status.PUBLISHED)
        .select_related("lead_department")
        .prefetch_related("cooperating_departments")
        .first()
    )
    if bundle is None:
        raise NotFound(
            errors.BUNDLE_NOT_FOUND, _("没有找到该“一件事”，或它尚未发布。"), bundle_code=code
        )
    return bundle


def catalog_bundles_published() -> QuerySet[Bundle]:
    """Published bundles by name, with the lead department."""
    return (
        Bundle.objects.filter(status=Bundle.Status.PUBLISHED)
        .select_related("lead_department")
        .order_by("name", "id")
    )
