"""Reads of the applications app: a person's own applications, a department's task inbox,
the window's acceptance queue, the timeline, the clock and the public progress query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from yiwang.accounts.models import Delegation, Role, User
from yiwang.accounts.selectors import user_departments_for_role
from yiwang.applications.clock import traffic_light
from yiwang.applications.models import Application, Event, Task
from yiwang.core.calendar import Pause as ClockPause
from yiwang.core.calendar import work_calendar_load

STAFF_ROLES = (Role.WINDOW_CLERK, Role.APPROVER, Role.SUPERVISOR)


def delegators_of(user: User, *, at: datetime | None = None) -> QuerySet[Delegation]:
    """Active delegations held by ``user`` that let them follow a principal's affairs."""
    at = at or timezone.now()
    return Delegation.objects.filter(agent=user, starts_at__lte=at, expires_at__gt=at).filter(
        Q(revoked_at__isnull=True) | Q(revoked_at__gt=at)
    )


def applications_of(user: User) -> QuerySet[Application]:
    """The applications ``user`` filed or that were filed for them (代办), plus those of a
    principal who delegated ``apply`` or ``query`` to them; newest first."""
    principals = [d.principal_id for d in delegators_of(user) if {"apply", "query"} & set(d.scopes)]
    where = Q(applicant=user) | Q(principal=user)
    if principals:
        where |= Q(principal_id__in=principals) | Q(applicant_id__in=principals)
    return (
        Application.objects.filter(where)
        .select_related("version", "bundle", "department")
        .order_by("-submitted_at", "-id")
    )


def staff_department_ids(user: User) -> set[int]:
    ids: set[int] = set()
    for role in STAFF_ROLES:
        ids |= set(user_departments_for_role(user, role))
    return ids


def applications_for_staff(user: User) -> QuerySet[Application]:
    """Applications of the departments where ``user`` works (as accepting department or
    through one of their tasks)."""
    ids = staff_department_ids(user)
    return (
        Application.objects.filter(Q(department_id__in=ids) | Q(tasks__department_id__in=ids))
        .distinct()
        .select_related("version", "bundle", "department")
        .order_by("-submitted_at", "-id")
    )


def acceptance_queue(user: User) -> QuerySet[Application]:
    """What the window clerk has to accept, refuse or ask to supplement, oldest first."""
    ids = user_departments_for_role(user, Role.WINDOW_CLERK)
    return (
        Application.objects.filter(department_id__in=ids, status=Application.Status.SUBMITTED)
        .select_related("version", "bundle", "department")
        .order_by("submitted_at", "id")
    )


def task_inbox(user: User, *, status: str | None = None) -> QuerySet[Task]:
    """The open and claimed tasks of the departments where ``user`` may do them, by due
    date."""
    ids = set(user_departments_for_role(user, Role.APPROVER))
    rows = Task.objects.filter(department_id__in=ids).select_related(
        "application", "application__version", "department", "assignee"
    )
    if status:
        rows = rows.filter(status=status)
    else:
        rows = rows.filter(status__in=[Task.Status.OPEN, Task.Status.CLAIMED])
    return rows.order_by("due_date", "created_at", "id")


def application_pauses(application: Application) -> list[ClockPause]:
    now = timezone.now()
    return [(p.started_at, p.ended_at or now) for p in application.pauses.all()]


def application_light(application: Application, *, now: datetime | None = None) -> str:
    """green / yellow / red / none for the application's promised limit."""
    return traffic_light(
        work_calendar_load(),
        start=application.accepted_at,
        due=application.due_date,
        now=now or timezone.now(),
        pauses=application_pauses(application),
    )


def task_light(task: Task, *, now: datetime | None = None) -> str:
    if task.status not in (Task.Status.OPEN, Task.Status.CLAIMED):
        return "none"
    return traffic_light(
        work_calendar_load(),
        start=task.created_at,
        due=task.due_date,
        now=now or timezone.now(),
        pauses=application_pauses(task.application),
    )


def application_timeline(application: Application, *, public_only: bool) -> QuerySet[Event]:
    rows = application.events.select_related("department").order_by("created_at", "id")
    return rows.filter(public=True) if public_only else rows


@dataclass(frozen=True)
class ProgressEvent:
    kind: str
    at: datetime
    department: str


@dataclass(frozen=True)
class Progress:
    """What the public progress query shows: nothing personal."""

    number: str
    item_name: str
    status: str
    status_label: str
    submitted_at: datetime
    expected_date: date | None
    departments: list[str]
    events: list[ProgressEvent]


def progress_lookup(*, number: str, phone_last4: str) -> Progress | None:
    """The progress of application ``number`` when the last four digits of its contact
    phone match; None otherwise (the caller says the same thing for both cases)."""
    application = (
        Application.objects.select_related("version", "bundle", "department")
        .filter(number=number.strip(), contact_phone_last4=phone_last4.strip())
        .first()
    )
    if application is None:
        return None
    events = list(application_timeline(application, public_only=True))
    departments = [application.department.name]
    for task in application.tasks.select_related("department").order_by("created_at", "id"):
        if task.department.name not in departments:
            departments.append(task.department.name)
    return Progress(
        number=application.number,
        item_name=application.name,
        status=application.status,
        status_label=str(application.get_status_display()),
        submitted_at=application.submitted_at,
        expected_date=application.due_date,
        departments=departments,
        events=[
            ProgressEvent(
                kind=e.kind, at=e.created_at, department=e.department.name if e.department else ""
            )
            for e in events
        ],
    )
