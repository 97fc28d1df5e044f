"""Reads of the applications app: a person's own applications, a department's task inbox,
the window's acceptance queue, the timeline, the clock, the public progress query and the
case notices (the documents.py values filled from an application, and their PDFs)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from yiwang.accounts.models import Delegation, Department, Role, User
from yiwang.accounts.selectors import user_department_ids_for_role, user_departments_for_role
from yiwang.applications.clock import traffic_light
from yiwang.applications.documents import (
    MAX_LONG,
    MAX_SHORT,
    AcceptanceNotice,
    CaseInfo,
    CorrectionNotice,
    DecisionNotice,
    DefectKind,
    Delivery,
    DeliveryMethod,
    Issuer,
    MaterialDefect,
    MaterialForm,
    Notice,
    Outcome,
    ReceivedMaterial,
    RefusalNotice,
    Remedy,
    acceptance_notice_render,
    correction_notice_render,
    decision_notice_render,
    refusal_notice_render,
)
from yiwang.applications.models import Application, Event, Pause, Task
from yiwang.catalog.models import Bundle, ItemVersion
from yiwang.core.calendar import SHANGHAI, work_calendar_load
from yiwang.core.calendar import Pause as ClockPause
from yiwang.core.db.prepared import fetch_all_prepared

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
        ids |= user_department_ids_for_role(user, role)
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


# What the window hands out (统一窗口出件): decided, then concluded, not yet issued.
ISSUANCE_STATUSES = (
    Application.Status.APPROVED,
    Application.Status.REJECTED,
    Application.Status.CONCLUDED,
)


def issuance_queue(user: User) -> QuerySet[Application]:
    """Applications of the clerk's window departments waiting for 办结 or 出件, oldest
    decision first."""
    ids = user_departments_for_role(user, Role.WINDOW_CLERK)
    return (
        Application.objects.filter(department_id__in=ids, status__in=ISSUANCE_STATUSES)
        .select_related("version", "bundle", "department")
        .order_by("decided_at", "id")
    )


POPULAR_DAYS = 90


def recent_uses(
    item_ids: list[int], bundle_ids: list[int]
) -> tuple[dict[str, int], dict[str, int]]:
    """Applications per item task code and per bundle code in the last POPULAR_DAYS (the
    terminal's most-used tiles)."""
    recent = Application.objects.filter(
        submitted_at__gte=timezone.now() - timedelta(days=POPULAR_DAYS)
    )
    items = recent.filter(item_id__in=item_ids, bundle__isnull=True)
    bundles = recent.filter(bundle_id__in=bundle_ids)
    return (
        dict(
            items.values("item__task_code")
            .annotate(n=Count("id"))
            .values_list("item__task_code", "n")
        ),
        dict(
            bundles.values("bundle__code").annotate(n=Count("id")).values_list("bundle__code", "n")
        ),
    )


def task_inbox(user: User, *, status: str | None = None) -> QuerySet[Task]:
    """The open and claimed tasks of the departments where ``user`` may do them, by due
    date."""
    ids = set(user_department_ids_for_role(user, Role.APPROVER))
    rows = Task.objects.filter(department_id__in=ids).select_related(
        "application", "application__version", "department", "assignee"
    )
    if status:
        rows = rows.filter(status=status)
    else:
        rows = rows.filter(status__in=[Task.Status.OPEN, Task.Status.CLAIMED])
    return rows.order_by("due_date", "created_at", "id")


def application_pauses(
    application: Application, *, rows: Sequence[Pause] | None = None, now: datetime | None = None
) -> list[ClockPause]:
    """The clock's pauses (an open one runs until ``now``), from ``rows`` when the caller has
    read them already."""
    now = now or timezone.now()
    found = application.pauses.all() if rows is None else rows
    return [(p.started_at, p.ended_at or now) for p in found]


# The promised limit no longer matters to anyone: the case was refused or rejected (nothing more
# comes to the applicant), concluded, issued or withdrawn. Its light is ``none`` on every page
# and in the API ("已办结 · 正常" says nothing). An approved case keeps its light: the applicant
# still waits for the window's 办结 and the result.
LIGHT_OFF = frozenset(
    {
        Application.Status.REFUSED,
        Application.Status.REJECTED,
        Application.Status.CONCLUDED,
        Application.Status.ISSUED,
        Application.Status.WITHDRAWN,
    }
)


def application_light(
    application: Application,
    *,
    now: datetime | None = None,
    pauses: Sequence[ClockPause] | None = None,
) -> str:
    """green / yellow / red / none for the application's promised limit: ``none`` before
    acceptance and once the case is over (``LIGHT_OFF``). ``pauses`` spares the query when
    the caller has them (``application_pauses``)."""
    if (
        application.accepted_at is None
        or application.due_date is None
        or application.status in LIGHT_OFF
    ):
        return "none"
    return traffic_light(
        work_calendar_load(),
        start=application.accepted_at,
        due=application.due_date,
        now=now or timezone.now(),
        pauses=application_pauses(application) if pauses is None else pauses,
    )


def task_light(
    task: Task, *, now: datetime | None = None, pauses: Sequence[ClockPause] | None = None
) -> str:
    if task.status not in (Task.Status.OPEN, Task.Status.CLAIMED) or task.due_date is None:
        return "none"
    return traffic_light(
        work_calendar_load(),
        start=task.created_at,
        due=task.due_date,
        now=now or timezone.now(),
        pauses=application_pauses(task.application) if pauses is None else pauses,
    )


def application_situation_name(application: Application) -> str:
    """The 办理情形 chosen at submission as its pinned version names it (离休、退休, not
    ``retire``); the code itself when the version has no such situation; "" when none was
    chosen (a 一件事 has no situations of its own)."""
    if not application.situation:
        return ""
    if application.bundle_id is not None:
        return application.situation  # the version is only the first member's
    found = (
        application.version.situations.filter(code=application.situation)
        .values_list("name", flat=True)
        .first()
    )
    return found or application.situation


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


# Per number, on top of the per-address rate limit of the page and the API: many addresses
# guessing the 10,000 endings of one number get nowhere. Page and API share the counter.
PROGRESS_FAILURES_PER_NUMBER = 10
PROGRESS_FAILURE_WINDOW = 3600  # seconds


def _progress_failures_key(number: str) -> str:
    digest = hashlib.sha256(number.strip().encode("utf-8")).hexdigest()
    return "applications:progress_failures:" + digest


def progress_locked(*, number: str) -> bool:
    """Has ``number`` been asked with wrong digits too often in the last hour?"""
    return bool(cache.get(_progress_failures_key(number), 0) >= PROGRESS_FAILURES_PER_NUMBER)


PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def progress_rate_window() -> tuple[int, int]:
    """``settings.YIWANG_PROGRESS_QUERY_RATE`` ("30/m") as (queries, seconds); read per call,
    so that an operator's change needs no restart of the code that reads it."""
    rate = str(getattr(settings, "YIWANG_PROGRESS_QUERY_RATE", "30/m"))
    count_text, _sep, period = rate.partition("/")
    return int(count_text or 30), PERIODS.get(period[:1] or "m", 60)


def _progress_rate_key(address: str) -> str:
    return "applications:progress_rate:" + hashlib.sha256(address.encode("utf-8")).hexdigest()


def progress_admission(*, address: str, number: str) -> tuple[bool, bool]:
    """(is ``address`` within its budget, is ``number`` locked): what the page and the API
    ask before every progress query. On Redis (the city) one round trip: a script that
    creates the window's counter if absent, counts this query and reads the number's misses
    (atomic, as every Redis script; a third of the time of the same in a MULTI pipeline);
    elsewhere ``progress_rate_allows`` and ``progress_locked``."""
    script = _admission_script()
    if script is None:
        return progress_rate_allows(address), progress_locked(number=number)
    allowed, seconds = progress_rate_window()
    rate_key = cache.make_key(_progress_rate_key(address))  # fixed prefix + hex: valid
    lock_key = cache.make_key(_progress_failures_key(number))
    used, misses = script(keys=[rate_key, lock_key], args=[seconds])
    return int(used) <= allowed, int(misses or 0) >= PROGRESS_FAILURES_PER_NUMBER


_ADMISSION = """
redis.call('SET', KEYS[1], 0, 'EX', ARGV[1], 'NX')
return {redis.call('INCR', KEYS[1]), redis.call('GET', KEYS[2])}
"""


def _admission_script() -> Any:
    # Django's Redis backend offers no scripts; its client object is the documented way in
    # (one primary server: the write client). None for any other cache backend. redis-py's
    # Script sends EVALSHA and loads the script itself when the server does not know it.
    backend = caches["default"]  # one backend object per thread
    if not isinstance(backend, RedisCache):
        return None
    script = getattr(backend, "_yiwang_admission_script", None)
    if script is None:  # a client object per call costs as much as the round trip
        script = backend._cache.get_client(write=True).register_script(_ADMISSION)
        backend._yiwang_admission_script = script  # type: ignore[attr-defined]
    return script


def progress_rate_allows(address: str) -> bool:
    """One budget per client address for the progress page and the API together: a fixed
    window counter (one ``add`` and one ``incr`` on the cache, whatever the rate)."""
    allowed, seconds = progress_rate_window()
    key = _progress_rate_key(address)
    cache.add(key, 0, seconds)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, seconds)
        used = 1
    return used <= allowed


def progress_find(*, number: str, phone_last4: str) -> Progress | None:
    """``progress_lookup`` that counts a miss against the number (see ``progress_locked``)."""
    found = progress_lookup(number=number, phone_last4=phone_last4)
    if found is None:
        key = _progress_failures_key(number)
        cache.add(key, 0, PROGRESS_FAILURE_WINDOW)
        cache.incr(key)
    return found


def progress_lookup(*, number: str, phone_last4: str) -> Progress | None:
    """The progress of application ``number`` when the last four digits of its contact
    phone match; None otherwise (the caller says the same thing for both cases).

    The public query runs on every refresh of a citizen's page and of the hotline's screens,
    against millions of applications: one statement in plain SQL, reading by indexed keys (the
    ORM's query building costs several times the reads themselves here, and on PostgreSQL
    every further statement is another round trip; see bench/applications.py), prepared
    once per connection on PostgreSQL (its planning costs more than its execution).
    """
    rows = fetch_all_prepared(_PROGRESS, [number.strip(), phone_last4.strip(), True])
    if not rows or rows[0][0] != _APPLICATION:
        return None
    _part, status, submitted_at, _pk, department, found_number, due_date, bundle, item = rows[0]
    departments = [department]
    events = []
    for part, kind, at, _id, name, *_rest in rows[1:]:
        if part == _TASK:  # a department task, in the order the tasks were opened
            if name not in departments:
                departments.append(name)
        else:
            events.append((kind, at, name))
    return Progress(
        number=found_number,
        item_name=bundle or item,
        status=status,
        status_label=str(Application.Status(status).label),
        submitted_at=_aware(submitted_at),
        expected_date=_date(due_date),
        departments=departments,
        events=[
            ProgressEvent(kind=kind, at=_aware(at), department=name or "")
            for kind, at, name in events
        ],
    )


# The parts of the progress statement's rows, in the order it returns them.
_APPLICATION, _TASK, _EVENT = -1, 0, 1


def _progress_sql() -> str:
    # Only table names (from the models, quoted) are formatted in; every value is a parameter.
    # The application (part -1: status, submitted, id, department, number, due date, bundle,
    # item), the departments of its tasks (part 0) and its public timeline (part 1: kind, time,
    # department) as the rows of one read.
    q = connection.ops.quote_name
    application, department = q(Application._meta.db_table), q(Department._meta.db_table)
    bundle, version = q(Bundle._meta.db_table), q(ItemVersion._meta.db_table)
    task, event = q(Task._meta.db_table), q(Event._meta.db_table)
    return (
        "WITH a AS (SELECT a.id, a.number, a.status, a.submitted_at, a.due_date, "  # noqa: S608
        "a.department_id, a.bundle_id, a.version_id "
        f"FROM {application} a WHERE a.number = %s AND a.contact_phone_last4 = %s) "
        f"SELECT {_APPLICATION} AS part, a.status AS kind, a.submitted_at AS at, a.id, d.name, "
        "a.number, a.due_date, b.name, v.name "
        f"FROM a JOIN {department} d ON d.id = a.department_id "
        f"JOIN {version} v ON v.id = a.version_id LEFT JOIN {bundle} b ON b.id = a.bundle_id "
        "UNION ALL "
        f"SELECT {_TASK}, NULL, t.created_at, t.id, d.name, NULL, NULL, NULL, NULL "
        f"FROM a JOIN {task} t ON t.application_id = a.id "
        f"JOIN {department} d ON d.id = t.department_id "
        "UNION ALL "
        f"SELECT {_EVENT}, e.kind, e.created_at, e.id, d.name, NULL, NULL, NULL, NULL "
        f"FROM a JOIN {event} e ON e.application_id = a.id "
        f"LEFT JOIN {department} d ON d.id = e.department_id WHERE e.public = %s "
        "ORDER BY 1, 3, 4"
    )


_PROGRESS = _progress_sql()


def _aware(value: Any) -> datetime:
    # Raw reads come back as the backend gives them: SQLite as text or naive UTC, PostgreSQL
    # aware. Stored instants are always UTC (USE_TZ).
    moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


# --- notices (documents.py) --------------------------------------------------------------------

NOTICE_KINDS = ("acceptance", "refusal", "correction", "decision")
# 补正: the applicant is told to supply everything at once; the clock stays paused meanwhile.
# The printed "supply by" day is this many natural days after the request (no national figure).
CORRECTION_SUPPLY_DAYS = 30
_DOCUMENT_CODES = {"acceptance": "SL", "refusal": "BSL", "correction": "BZ", "decision": "BJ"}


def notice_document_number(*, number: str, kind: str) -> str:
    """The number printed on notice ``kind`` of application ``number`` (e.g. the 受理通知书
    of 3415…0001 is 3415…0001-SL); the national case export reports it as 受理文书编号."""
    return f"{number}-{_DOCUMENT_CODES[kind]}"


def _review_body(department: Department) -> str:
    """行政复议机关: since the 2023 revision, the people's government above the department."""
    seen = department
    while seen.parent_id is not None:
        seen = seen.parent  # type: ignore[assignment]
        if seen.kind == Department.Kind.GOVERNMENT:
            return seen.name
    return gettext("%(d)s所属的本级人民政府") % {"d": department.name}


def _remedy(department: Department) -> Remedy:
    return Remedy(review_body=_review_body(department), court=gettext("有管辖权的人民法院"))


def _case(application: Application) -> CaseInfo:
    person = application.principal or application.applicant
    return CaseInfo(
        number=application.number,
        item_name=application.name,
        item_code=application.item.task_code,
        applicant_name=person.real_name or person.username,
        applicant_id_number=person.id_number,
        applicant_phone=application.contact_phone,
        submitted_at=application.submitted_at,
    )


def _common(application: Application, kind: str, issued_at: datetime) -> dict[str, Any]:
    version = application.version
    return {
        "document_number": notice_document_number(number=application.number, kind=kind),
        "issued_at": issued_at,
        "issuer": Issuer(
            department=application.department.name,
            window=version.transact_addr[:100],
            phone=version.consult_way[:100],
        ),
        "case": _case(application),
    }


def _acceptance(application: Application, progress_url: str) -> AcceptanceNotice | None:
    accepted_at = application.accepted_at
    if accepted_at is None:
        return None
    materials = tuple(
        ReceivedMaterial(
            name=m.name[:MAX_SHORT],
            form=MaterialForm.ELECTRONIC,
            count=0 if m.source == "promised" and m.fulfilled_at is None else 1,
            deferred_until=m.promised_due if m.source == "promised" else None,
        )
        for m in application.materials.all()
    )
    limit = application.bundle.promise_limit if application.bundle else None
    limit = limit if limit is not None else application.version.promise_limit
    return AcceptanceNotice(
        **_common(application, "acceptance", accepted_at),
        accepted_at=accepted_at,
        time_limit_days=limit or 0,
        expected_completion=application.due_date or accepted_at.astimezone(SHANGHAI).date(),
        materials=materials,
        progress_url=progress_url,
    )


def _refusal(application: Application) -> RefusalNotice | None:
    if application.status != Application.Status.REFUSED or not application.refusal_reasons:
        return None
    event = application.events.filter(kind="refused").order_by("-created_at", "-id").first()
    return RefusalNotice(
        **_common(application, "refusal", event.created_at if event else application.updated_at),
        reasons=tuple(r[:MAX_LONG] for r in application.refusal_reasons),
        remedy=_remedy(application.department),
    )


def _correction(application: Application) -> CorrectionNotice | None:
    pause = application.pauses.filter(kind="supplement").order_by("-started_at", "-id").first()
    if pause is None:
        return None
    items = [i for i in pause.reason.split("；") if i.strip()] or [pause.reason]
    started = pause.started_at.astimezone(SHANGHAI).date()
    return CorrectionNotice(
        **_common(application, "correction", pause.started_at),
        defects=tuple(
            MaterialDefect(name=i[:100], kind=DefectKind.DEFICIENT, problem=i[:MAX_LONG])
            for i in items
        ),
        supply_by=started + timedelta(days=CORRECTION_SUPPLY_DAYS),
    )


def _delivery(application: Application) -> Delivery:
    method = application.delivery_method
    if method == Application.Delivery.POST and application.tracking_number:
        return Delivery(
            method=DeliveryMethod.POST,
            carrier=gettext("邮政寄递"),
            tracking_number=application.tracking_number,
        )
    window = application.version.transact_addr or application.department.name
    return Delivery(method=DeliveryMethod.PICKUP, pickup_address=window[:100])


def _decision(application: Application) -> DecisionNotice | None:
    concluded_at = application.concluded_at
    if concluded_at is None:
        return None
    approved = application.decision == Application.Decision.APPROVED
    version = application.version
    reasons: tuple[str, ...] = ()
    if not approved:
        opinions = application.tasks.filter(outcome="refuse").values_list("opinion", flat=True)
        reasons = tuple(o[:MAX_LONG] for o in opinions if o.strip()) or (
            application.result_note[:MAX_LONG] or gettext("经审查，不符合办理条件。"),
        )
    return DecisionNotice(
        **_common(application, "decision", concluded_at),
        outcome=Outcome.APPROVED if approved else Outcome.REJECTED,
        decided_at=application.decided_at or concluded_at,
        result_document=(version.result_name or gettext("审批结果"))
        if approved
        else gettext("不予行政许可决定书"),
        delivery=_delivery(application),
        reasons=reasons,
        remedy=None if approved else _remedy(application.department),
    )


def application_notice(*, application: Application, kind: str, progress_url: str) -> Notice | None:
    """The notice ``kind`` of ``application`` as documents.py prints it, or None when the case
    has not reached it (no acceptance, refusal, supplement request or conclusion yet).
    ``progress_url`` is the absolute address of the public progress query (acceptance only)."""
    if kind == "acceptance":
        return _acceptance(application, progress_url)
    if kind == "refusal":
        return _refusal(application)
    if kind == "correction":
        return _correction(application)
    if kind == "decision":
        return _decision(application)
    return None


def application_notice_pdf(
    *, application: Application, kind: str, progress_url: str
) -> bytes | None:
    """The PDF of ``application_notice``, or None when there is no such notice yet."""
    notice = application_notice(application=application, kind=kind, progress_url=progress_url)
    if notice is None:
        return None
    renderers: dict[type, Callable[..., bytes]] = {
        AcceptanceNotice: acceptance_notice_render,
        RefusalNotice: refusal_notice_render,
        CorrectionNotice: correction_notice_render,
        DecisionNotice: decision_notice_render,
    }
    return renderers[type(notice)](notice=notice)
