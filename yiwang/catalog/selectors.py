"""Reads of the service catalog. Versions and publication first; other parts of the catalog
(search, guides, bundles) add their read functions below."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _

from yiwang.catalog import errors
from yiwang.catalog.models import Bundle, ItemVersion, Material, ProcessStep, ServiceItem
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
