"""Reads for the exchange pages (views.py, views_staff.py) on top of ``selectors`` and
``access``: the rows of the data officer's home, the catalog items a
request may name, and the objects of a page fetched together with the access check (someone
who may not see an object gets the same 404 as for one that does not exist)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.accounts.models import Department
from yiwang.catalog.selectors import published_versions
from yiwang.core.errors import NotFound
from yiwang.exchange.access import (
    data_officer_department_ids,
    user_may_decide,
    user_may_manage_resource,
    user_may_request_for,
)
from yiwang.exchange.models import AccessLogEntry, DataResource, Grant, SharingRequest


def _not_found() -> NotFound:
    return NotFound("core.not_found", _("找不到该对象，或您无权查看。"))


def departments(ids: set[int] | frozenset[int]) -> list[Department]:
    return list(Department.objects.filter(pk__in=ids).order_by("sort_order", "code"))


def month_start() -> datetime:
    today = timezone.localdate()
    return timezone.make_aware(datetime.combine(today.replace(day=1), time.min))


def resources_of_departments(ids: set[int] | frozenset[int]) -> list[dict[str, Any]]:
    """The data officer's resources, with the count of active grants and of calls served
    this month."""
    now = timezone.now()
    active = Q(grants__revoked_at__isnull=True) & (
        Q(grants__valid_until__isnull=True) | Q(grants__valid_until__gt=now)
    )
    rows = list(
        DataResource.objects.filter(owner_id__in=ids)
        .select_related("owner")
        .annotate(active_grants=Count("grants", filter=active))
        .order_by("code")
    )
    calls = dict(
        AccessLogEntry.objects.filter(
            resource_code__in=[r.code for r in rows], created_at__gte=month_start()
        )
        .values_list("resource_code")
        .annotate(n=Count("id"))
        .values_list("resource_code", "n")
    )
    return [{"resource": r, "grants": r.active_grants, "calls": calls.get(r.code, 0)} for r in rows]


def item_choices() -> list[tuple[str, str]]:
    """Published catalog items as (task code, name), for a request's 用于事项."""
    seen: dict[str, str] = {}
    for code, name, dept in (
        published_versions().order_by("name").values_list("item__task_code", "name", "dept_name")
    ):
        seen.setdefault(str(code), f"{name}（{dept}）" if dept else str(name))
    return list(seen.items())


def item_labels(codes: list[str]) -> list[tuple[str, str]]:
    """(code, name) for the codes given, in their order; unknown codes keep the code."""
    names = dict(
        published_versions()
        .filter(item__task_code__in=codes)
        .values_list("item__task_code", "name")
    )
    return [(c, str(names.get(c, c))) for c in codes]


def access_resource_manage(user: Any, code: str) -> DataResource:
    resource = DataResource.objects.select_related("owner").filter(code=code).first()
    if resource is None or not user_may_manage_resource(user, resource):
        raise _not_found()
    return resource


def request_departments(user: Any, resource: DataResource) -> list[Department]:
    """The departments ``user`` may ask for ``resource`` for (never its owner)."""
    ids = data_officer_department_ids(user) - {resource.owner_id}
    return [d for d in departments(ids) if user_may_request_for(user, d)]


def access_request_view(user: Any, pk: int) -> tuple[SharingRequest, bool]:
    """A request and whether ``user`` decides it: the owner's and the consumer's data
    officers see it, nobody else."""
    found = (
        SharingRequest.objects.select_related("resource", "resource__owner", "consumer")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise _not_found()
    decides = bool(user_may_decide(user, found))
    if not decides and found.consumer_id not in data_officer_department_ids(user):
        raise _not_found()
    return found, decides


def grant_is_active(grant: Grant) -> bool:
    return grant.revoked_at is None and (
        grant.valid_until is None or grant.valid_until > timezone.now()
    )
