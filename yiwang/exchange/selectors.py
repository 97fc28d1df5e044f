"""Reads of the exchange: the catalogue, requests and grants, the access log (for owners and
for data subjects), anomalies and the departments' collaboration figures."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet

from yiwang.accounts.models import Department, EnterpriseMember, User
from yiwang.accounts.selectors import user_is_admin
from yiwang.applications.models import ApplicationMaterial
from yiwang.core.crypto import blind_index
from yiwang.exchange.access import data_officer_department_ids
from yiwang.exchange.gateway import SUBJECT_PURPOSE
from yiwang.exchange.models import (
    AccessAnomaly,
    AccessLogEntry,
    DataResource,
    Grant,
    SharingClass,
    SharingRequest,
)


def resources_catalogue(
    *, q: str = "", owner_id: int | None = None, sharing_class: str | None = None
) -> QuerySet[DataResource]:
    """Published resources, by code; ``q`` searches code, name and description."""
    resources = DataResource.objects.filter(status=DataResource.Status.PUBLISHED).select_related(
        "owner"
    )
    text = (q or "").strip()
    if text:
        resources = resources.filter(
            Q(code__icontains=text) | Q(name__icontains=text) | Q(description__icontains=text)
        )
    if owner_id:
        resources = resources.filter(owner_id=owner_id)
    if sharing_class:
        resources = resources.filter(sharing_class=sharing_class)
    return resources.order_by("code")


def _requests() -> QuerySet[SharingRequest]:
    return SharingRequest.objects.select_related(
        "resource", "resource__owner", "consumer", "requested_by", "decided_by"
    )


def requests_to_decide(user: User) -> QuerySet[SharingRequest]:
    """Pending requests for the resources of the user's data-officer departments, oldest
    first (an administrator sees every pending request)."""
    pending = _requests().filter(status=SharingRequest.Status.PENDING)
    if not user_is_admin(user):
        pending = pending.filter(resource__owner_id__in=data_officer_department_ids(user))
    return pending.order_by("created_at", "id")


def requests_of_consumers(user: User) -> QuerySet[SharingRequest]:
    """The requests the user's data-officer departments made, newest first."""
    return (
        _requests()
        .filter(consumer_id__in=data_officer_department_ids(user))
        .order_by("-created_at", "-id")
    )


def grants_of_consumer(department_ids: Iterable[int]) -> QuerySet[Grant]:
    return (
        Grant.objects.filter(consumer_id__in=list(department_ids))
        .select_related("resource", "resource__owner", "consumer")
        .order_by("-valid_from", "-id")
    )


def grants_of_owner(department_ids: Iterable[int]) -> QuerySet[Grant]:
    return (
        Grant.objects.filter(resource__owner_id__in=list(department_ids))
        .select_related("resource", "consumer")
        .order_by("-valid_from", "-id")
    )


def access_log_of_owner(
    department_ids: Iterable[int],
    *,
    resource_code: str = "",
    consumer_id: int | None = None,
    outcome: str = "",
    case_number: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    **_ignored: Any,
) -> QuerySet[AccessLogEntry]:
    """Calls on the departments' resources, newest first, filtered."""
    entries = AccessLogEntry.objects.filter(owner_id__in=list(department_ids))
    if resource_code:
        entries = entries.filter(resource_code=resource_code)
    if consumer_id:
        entries = entries.filter(consumer_id=consumer_id)
    if outcome:
        entries = entries.filter(outcome=outcome)
    if case_number:
        entries = entries.filter(case_number=case_number)
    if since is not None:
        entries = entries.filter(created_at__gte=since)
    if until is not None:
        entries = entries.filter(created_at__lt=until)
    return entries.order_by("-seq")


def subject_indexes(user: User) -> list[str]:
    """The blind indexes under which the gateway logs the user's own data: their ID number
    and the USCC of every enterprise they act for."""
    keys: list[str] = []
    number = (getattr(user, "id_number", "") or "").strip().upper()
    if number:
        keys.append(number)
    keys += [
        uscc.strip().upper()
        for uscc in EnterpriseMember.objects.filter(user=user).values_list(
            "enterprise__uscc", flat=True
        )
    ]
    return [blind_index(key, purpose=SUBJECT_PURPOSE) for key in keys]


def access_log_of_subject(user: User) -> QuerySet[AccessLogEntry]:
    """Who read the user's data (answered calls), newest first."""
    indexes = subject_indexes(user)
    return AccessLogEntry.objects.filter(
        subject_index__in=indexes, outcome=AccessLogEntry.Outcome.ANSWERED
    ).order_by("-seq")


def anomalies_of_owner(department_ids: Iterable[int]) -> QuerySet[AccessAnomaly]:
    return (
        AccessAnomaly.objects.filter(resource__owner_id__in=list(department_ids))
        .select_related("resource", "consumer", "closed_by")
        .order_by("closed_at", "-window_end")
    )


def resource_names(codes: Iterable[str]) -> dict[str, str]:
    return dict(DataResource.objects.filter(code__in=set(codes)).values_list("code", "name"))


@dataclass(frozen=True)
class DepartmentFigures:
    department_id: int
    department: str
    resources_published: int
    requests_received: int
    requests_answered: int
    median_answer_hours: float | None
    calls_served: int
    calls_made: int
    refused_calls: int
    materials_saved: int


def collaboration_figures(*, since: datetime, until: datetime) -> list[DepartmentFigures]:
    """Per department, in [since, until): resources published (now), requests received and
    answered (decided by a person: the unconditional ones granted on request are not an
    answer), the median answer time, calls served and made (answered), calls refused on its
    resources, and application materials fetched from its resources instead of uploaded."""
    published = dict(
        DataResource.objects.filter(status=DataResource.Status.PUBLISHED)
        .values("owner_id")
        .annotate(n=Count("id"))
        .values_list("owner_id", "n")
    )
    received: dict[int, int] = defaultdict(int)
    answered: dict[int, int] = defaultdict(int)
    hours: dict[int, list[float]] = defaultdict(list)
    requests = SharingRequest.objects.filter(created_at__gte=since, created_at__lt=until).exclude(
        resource__sharing_class=SharingClass.UNCONDITIONAL
    )
    for owner_id, created, decided, status in requests.values_list(
        "resource__owner_id", "created_at", "decided_at", "status"
    ):
        received[owner_id] += 1
        if decided is not None and status in (
            SharingRequest.Status.APPROVED,
            SharingRequest.Status.REFUSED,
        ):
            answered[owner_id] += 1
            hours[owner_id].append((decided - created).total_seconds() / 3600)
    window = AccessLogEntry.objects.filter(created_at__gte=since, created_at__lt=until)
    served = dict(
        window.filter(outcome=AccessLogEntry.Outcome.ANSWERED)
        .values("owner_id")
        .annotate(n=Count("id"))
        .values_list("owner_id", "n")
    )
    made = dict(
        window.filter(outcome=AccessLogEntry.Outcome.ANSWERED)
        .values("consumer_id")
        .annotate(n=Count("id"))
        .values_list("consumer_id", "n")
    )
    refused = dict(
        window.filter(outcome=AccessLogEntry.Outcome.REFUSED)
        .values("owner_id")
        .annotate(n=Count("id"))
        .values_list("owner_id", "n")
    )
    owner_of = dict(DataResource.objects.values_list("code", "owner_id"))
    saved: dict[int, int] = defaultdict(int)
    for code, n in (
        ApplicationMaterial.objects.filter(
            source=ApplicationMaterial.Source.GOVERNMENT,
            created_at__gte=since,
            created_at__lt=until,
        )
        .exclude(material__data_resource_code="")
        .values("material__data_resource_code")
        .annotate(n=Count("id"))
        .values_list("material__data_resource_code", "n")
    ):
        if code in owner_of:
            saved[owner_of[code]] += n
    ids = set(published) | set(received) | set(served) | set(made) | set(refused) | set(saved)
    ids.discard(0)
    names = dict(Department.objects.filter(pk__in=ids).values_list("pk", "name"))
    figures = [
        DepartmentFigures(
            department_id=pk,
            department=names.get(pk, str(pk)),
            resources_published=published.get(pk, 0),
            requests_received=received[pk],
            requests_answered=answered[pk],
            median_answer_hours=round(statistics.median(hours[pk]), 1) if hours[pk] else None,
            calls_served=served.get(pk, 0),
            calls_made=made.get(pk, 0),
            refused_calls=refused.get(pk, 0),
            materials_saved=saved[pk],
        )
        for pk in ids
        if pk in names
    ]
    return sorted(figures, key=lambda f: (-f.calls_served, -f.resources_published, f.department))
