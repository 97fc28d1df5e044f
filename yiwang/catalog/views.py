"""The public catalog as a citizen uses it: browse and search (/services/), the 办事指南 of
one item's published version (/services/<task_code>/), and the 一件事 pages
(/services/bundles/). Pages work without JavaScript; htmx, when loaded, swaps only the part
that a filter changes (hx-select on the full page, so there is one template per page).

Views parse the request, fetch through the catalog's read functions and render; the rules
(what is published, which materials a situation needs) live in the functions below and in
the catalog's search, diagram and bundle modules."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from yiwang.accounts.models import Department
from yiwang.catalog.access import catalog_can_view_drafts
from yiwang.catalog.bundles import bundle_materials, bundle_member_versions
from yiwang.catalog.diagram import process_svg
from yiwang.catalog.guide import (
    material_groups,
    time_limit_words,
    version_is_immediate,
    version_short_limit,
    version_time_limits,
)
from yiwang.catalog.models import (
    Bundle,
    ItemVersion,
    Material,
    ServiceItem,
    Theme,
)
from yiwang.catalog.search import catalog_search
from yiwang.core.access import public

PAGE_SIZE = 20
QUERY_MAX_LENGTH = 100

# --- /services/ --------------------------------------------------------------------------


@dataclass(frozen=True)
class ResultRow:
    """One search hit: an item's published version, or a 一件事 bundle."""

    version: ItemVersion | None
    bundle: Bundle | None
    highlights: Sequence[str]

    @property
    def short_limit(self) -> str:
        if self.version is not None:
            return version_short_limit(self.version)
        if self.bundle is not None:
            words = time_limit_words(self.bundle.promise_limit, self.bundle.promise_unit)
            return _("承诺 %(limit)s") % {"limit": words} if words else ""
        return ""

    @property
    def fully_online(self) -> bool:
        return self.version is not None and self.version.online_depth == ItemVersion.OnlineDepth.IV


@dataclass(frozen=True)
class ResultPage:
    rows: list[ResultRow]
    count: int
    number: int
    num_pages: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages


def _int_param(request: HttpRequest, name: str) -> int | None:
    raw = request.GET.get(name, "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


@public
@require_GET
def service_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:QUERY_MAX_LENGTH]
    audience = request.GET.get("audience", "")
    if audience not in Theme.Audience.values:
        audience = ""
    department = _int_param(request, "department")
    theme = _int_param(request, "theme")
    number = _int_param(request, "page") or 1

    # An empty query browses (in pinyin order); one search function, so browsing and
    # searching filter by department, theme and audience in exactly the same way.
    search = functools.partial(
        catalog_search,
        q=q,
        department=department,
        theme=theme,
        audience=audience or None,
        kind="all",
        limit=PAGE_SIZE,
    )
    result = search(offset=(number - 1) * PAGE_SIZE)
    num_pages = max((result.count + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    if number > num_pages:  # a stale link past the end shows the last page
        number = num_pages
        result = search(offset=(number - 1) * PAGE_SIZE)
    results = ResultPage(
        [ResultRow(hit.version, hit.bundle, tuple(hit.highlights)) for hit in result.items],
        result.count,
        number,
        num_pages,
    )

    departments = (
        Department.objects.filter(service_items__versions__status=ItemVersion.Status.PUBLISHED)
        .annotate(item_count=Count("service_items", distinct=True))
        .order_by("sort_order", "code")
    )
    themes = Theme.objects.filter(audience=audience) if audience else Theme.objects.all()
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "q": q,
        "audience": audience,
        "audiences": Theme.Audience.choices,
        "department": department,
        "departments": departments,
        "theme": theme,
        "themes": themes,
        "results": results,
        "query_string": params.urlencode(),
    }
    return render(request, "catalog/service_list.html", context)


# --- /services/<task_code>/ --------------------------------------------------------------


def _guide_versions() -> QuerySet[ItemVersion]:
    return ItemVersion.objects.select_related(
        "item_type", "item", "item__department"
    ).prefetch_related(
        "legal_bases",
        "situations",
        Prefetch("materials", queryset=Material.objects.prefetch_related("situations")),
        "fee_items",
        "faqs",
        "steps",
        "themes",
    )


def process_picture(version: ItemVersion) -> SafeString | None:
    """The version's BPMN process as an inline SVG (yiwang.catalog.diagram), or None when it
    cannot be drawn: the template then lists the steps (and otherwise lists them visually
    hidden for screen readers)."""
    svg = process_svg(version)
    # process_svg escapes every text it takes from the document (names of steps and flows).
    return mark_safe(svg) if svg else None  # noqa: S308


def _not_found(request: HttpRequest, task_code: str) -> HttpResponse:
    return render(request, "catalog/not_found.html", {"task_code": task_code[:60]}, status=404)


@public
@require_GET
def service_guide(request: HttpRequest, task_code: str) -> HttpResponse:
    item = ServiceItem.objects.filter(task_code=task_code).first()
    if item is None:
        return _not_found(request, task_code)
    preview_number = _int_param(request, "version")
    # Staff read unpublished versions (yiwang.catalog.access); for anyone else ?version= is
    # ignored rather than refused, so a shared preview link still shows the public guide.
    if not catalog_can_view_drafts(request.user):
        preview_number = None
    versions = _guide_versions().filter(item=item)
    if preview_number is not None:
        version = versions.filter(number=preview_number).first()
    else:
        version = versions.filter(status=ItemVersion.Status.PUBLISHED).first()
    if version is None:
        return _not_found(request, task_code)
    version.item = item

    situations = list(version.situations.all())
    situation_code = request.GET.get("situation", "").strip()
    chosen = next((s for s in situations if s.code == situation_code), None)
    groups = material_groups(version, situation_code=chosen.code if chosen else None)

    context = {
        "item": item,
        "version": version,
        "preview": version.status != ItemVersion.Status.PUBLISHED,
        "situations": situations,
        "situation": chosen,
        "groups": groups,
        "time_limits": version_time_limits(version),
        "immediate": version_is_immediate(version),
        "fully_online": version.online_depth == ItemVersion.OnlineDepth.IV,
        "process_svg": process_picture(version),
        "steps": list(version.steps.all()),
        "fee_items": list(version.fee_items.all()),
        "faqs": list(version.faqs.all()),
        "legal_bases": list(version.legal_bases.all()),
    }
    return render(request, "catalog/service_guide.html", context)


# --- /services/bundles/ ------------------------------------------------------------------


@dataclass(frozen=True)
class BundleMaterialRow:
    name: str
    necessity: str
    necessity_label: str
    items: list[str]
    fetched: bool
    note: str = ""


def _bundle_material_rows(bundle: Bundle) -> list[BundleMaterialRow]:
    return [
        BundleMaterialRow(
            name=m.name,
            necessity=m.necessity,
            necessity_label=str(Material.Necessity(m.necessity).label),
            items=[use.item_name for use in m.uses],
            fetched=m.fetched,
            note=m.note,
        )
        for m in bundle_materials(bundle)
    ]


@public
@require_GET
def bundle_list(request: HttpRequest) -> HttpResponse:
    bundles = (
        Bundle.objects.filter(status=Bundle.Status.PUBLISHED)
        .select_related("lead_department")
        .annotate(member_count=Count("members"))
        .order_by("name")
    )
    return render(request, "catalog/bundle_list.html", {"bundles": bundles})


@public
@require_GET
def bundle_detail(request: HttpRequest, code: str) -> HttpResponse:
    bundle = (
        Bundle.objects.filter(code=code, status=Bundle.Status.PUBLISHED)
        .select_related("lead_department")
        .prefetch_related("cooperating_departments")
        .first()
    )
    if bundle is None:
        raise Http404(code)
    rows = [
        (member, version if version and version.status == ItemVersion.Status.PUBLISHED else None)
        for member, version in bundle_member_versions(bundle)
    ]
    context = {
        "bundle": bundle,
        "rows": rows,
        "materials": _bundle_material_rows(bundle),
        "time_limit": time_limit_words(bundle.promise_limit, bundle.promise_unit),
    }
    return render(request, "catalog/bundle_detail.html", context)
