"""Reads of the evaluation app: a rater's invitations, a department's rectifications, the
statistics supervisors read, and who works where (the scope rules that access.py and the
services share)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import BooleanField, Case, Count, Q, QuerySet, Value, When
from django.utils import timezone

from yiwang.accounts.models import Department, Role, RoleAssignment, User
from yiwang.accounts.selectors import user_department_ids_for_role
from yiwang.catalog.models import ServiceItem
from yiwang.catalog.selectors import published_versions
from yiwang.evaluation.models import BAD_LEVELS, Invitation, Level, Rating, Rectification

CITY_TIME_ZONE = ZoneInfo("Asia/Shanghai")

# Department staff who answer bad reviews of their department's services: the people who
# served the citizen (window, approval, a hotline handling unit).
RECTIFIER_ROLES: tuple[str, ...] = (
    Role.WINDOW_CLERK.value,
    Role.APPROVER.value,
    Role.HANDLING_UNIT.value,
)
SUPERVISOR_ROLE = Role.SUPERVISOR.value


def city_today(now: datetime | None = None) -> date:
    """Today in the city (Asia/Shanghai): a rectification is due at the end of its day there."""
    return timezone.localtime(now or timezone.now(), CITY_TIME_ZONE).date()


# --- scope ---------------------------------------------------------------------------------


def rectifier_department_ids(user: Any) -> set[int]:
    """Departments whose rectifications ``user`` answers (any of RECTIFIER_ROLES there,
    subtree assignments expanded)."""
    ids: set[int] = set()
    for role in RECTIFIER_ROLES:
        ids |= user_department_ids_for_role(user, role)
    return ids


def supervised_department_ids(user: Any) -> set[int]:
    """Departments whose ratings and rectifications ``user`` supervises (督办)."""
    return set(user_department_ids_for_role(user, SUPERVISOR_ROLE))


def _ancestor_ids(department: Department) -> list[int]:
    ids: list[int] = []
    parent_id = department.parent_id
    seen = {department.pk}
    while parent_id is not None and parent_id not in seen:
        ids.append(parent_id)
        seen.add(parent_id)
        parent_id = Department.objects.filter(pk=parent_id).values_list("parent_id", flat=True)[0]
    return ids


def department_people_with_roles(department: Department, roles: Iterable[str]) -> list[User]:
    """Active users holding one of ``roles`` at ``department``, directly or through a subtree
    assignment at one of its ancestors (the reverse of ``user_departments_for_role``)."""
    ancestors = _ancestor_ids(department)
    assignments = RoleAssignment.objects.filter(role__in=list(roles)).filter(
        Q(department=department) | Q(department_id__in=ancestors, include_subtree=True)
    )
    return list(
        User.objects.filter(is_active=True, pk__in=assignments.values("user_id"))
        .distinct()
        .order_by("pk")
    )


# --- a rater's invitations -----------------------------------------------------------------


def invitation_list(*, rater: User, status: str | None = None) -> QuerySet[Invitation]:
    """``rater``'s invitations, those still waiting for a rating first, newest first."""
    # rater__isnull: never the invitations of callers without an account, whatever is passed
    rows = Invitation.objects.filter(rater__isnull=False, rater=rater)
    if status:
        rows = rows.filter(status=status)
    return (
        rows.select_related("department", "principal", "rating", "rating__rectification")
        .annotate(
            waiting=Case(
                When(status=Invitation.Status.PENDING, then=Value(0)),
                default=Value(1),
            )
        )
        .order_by("waiting", "-created_at", "-id")
    )


def invitation_pending_count(*, rater: User) -> int:
    return Invitation.objects.filter(
        rater__isnull=False, rater=rater, status=Invitation.Status.PENDING
    ).count()


def rating_levels_of(*, subject_kind: str, subject_ids: Collection[str]) -> dict[str, Level]:
    """The level rated for each of ``subject_ids`` that has a rating (one query); subjects
    not rated (yet) are absent. Used by the national case export (满意度)."""
    rows = Rating.objects.filter(
        invitation__subject_kind=subject_kind, invitation__subject_id__in=list(subject_ids)
    ).values_list("invitation__subject_id", "level")
    return {subject_id: Level(level) for subject_id, level in rows}


# --- rectifications ------------------------------------------------------------------------


def rectification_is_overdue(rectification: Rectification, *, today: date | None = None) -> bool:
    """Open after the end of its due day (a reply is what stops the clock)."""
    return (
        rectification.status == Rectification.Status.OPEN
        and (today or city_today()) > rectification.due_on
    )


def rectification_list(
    *,
    department_ids: Collection[int],
    status: str | None = None,
    overdue_only: bool = False,
    today: date | None = None,
) -> QuerySet[Rectification]:
    """Rectifications of ``department_ids``, the open ones first by due date, each annotated
    with ``overdue`` (open past its due day)."""
    today = today or city_today()
    rows = Rectification.objects.filter(department_id__in=list(department_ids))
    if status:
        rows = rows.filter(status=status)
    if overdue_only:
        rows = rows.filter(status=Rectification.Status.OPEN, due_on__lt=today)
    return (
        rows.select_related(
            "department", "rating", "rating__invitation", "rating__invitation__rater"
        )
        .annotate(
            overdue=Case(
                When(status=Rectification.Status.OPEN, due_on__lt=today, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
            status_order=Case(
                When(status=Rectification.Status.OPEN, then=Value(0)),
                When(status=Rectification.Status.REPLIED, then=Value(1)),
                default=Value(2),
            ),
        )
        .order_by("status_order", "due_on", "id")
    )


# --- statistics ----------------------------------------------------------------------------

LEVELS_HIGH_TO_LOW: tuple[int, ...] = tuple(sorted(Level.values, reverse=True))


def _rate(numerator: int, denominator: int) -> Decimal | None:
    """A percentage with one decimal, or None when there is nothing to divide by."""
    if not denominator:
        return None
    return (Decimal(100 * numerator) / Decimal(denominator)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


@dataclass
class RatingStats:
    """Ratings of one department or one item.

    * ``satisfaction_rate`` (满意率): the share of ratings that are not bad reviews
      (非常满意 + 满意 + 基本满意); ``good_rate`` (好评率): 非常满意 + 满意 only.
    * ``on_time_rate`` (整改按期率): rectifications answered by their due day among those
      answered or already overdue (an open one still within its time counts for neither).
    * ``real_name_follow_up_rate`` (实名差评回访整改率): real-name bad reviews whose
      rectification is closed (answered and followed up) among all real-name bad reviews
      (the 51号 target "实名差评回访整改率 100%", as quoted by local rules such as 德州).
    """

    key: int
    label: str
    code: str = ""
    counts: dict[int, int] = field(default_factory=dict)
    rectifications: int = 0
    replied_on_time: int = 0
    replied_late: int = 0
    open_overdue: int = 0
    open_in_time: int = 0
    real_name_bad: int = 0
    real_name_bad_followed_up: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def levels(self) -> list[tuple[int, str, int]]:
        """(level, label, count) from 非常满意 down to 非常不满意."""
        return [(lv, str(Level(lv).label), self.counts.get(lv, 0)) for lv in LEVELS_HIGH_TO_LOW]

    @property
    def bad(self) -> int:
        return self.counts.get(Level.DISSATISFIED, 0) + self.counts.get(Level.VERY_DISSATISFIED, 0)

    @property
    def good(self) -> int:
        return self.counts.get(Level.VERY_SATISFIED, 0) + self.counts.get(Level.SATISFIED, 0)

    @property
    def satisfaction_rate(self) -> Decimal | None:
        return _rate(self.total - self.bad, self.total)

    @property
    def good_rate(self) -> Decimal | None:
        return _rate(self.good, self.total)

    @property
    def on_time_rate(self) -> Decimal | None:
        due = self.replied_on_time + self.replied_late + self.open_overdue
        return _rate(self.replied_on_time, due)

    @property
    def real_name_follow_up_rate(self) -> Decimal | None:
        return _rate(self.real_name_bad_followed_up, self.real_name_bad)


def _period(
    rows: QuerySet[Any], field_name: str, since: date | None, until: date | None
) -> QuerySet[Any]:
    """Rows whose ``field_name`` falls on ``since``..``until`` (inclusive, city days)."""
    if since is not None:
        start = datetime.combine(since, time.min, tzinfo=CITY_TIME_ZONE)
        rows = rows.filter(**{f"{field_name}__gte": start})
    if until is not None:
        end = datetime.combine(until, time.max, tzinfo=CITY_TIME_ZONE)
        rows = rows.filter(**{f"{field_name}__lte": end})
    return rows


def _rating_counts() -> dict[str, Any]:
    real_name_bad = Q(real_name=True, level__in=sorted(BAD_LEVELS))
    return {
        **{f"l{lv}": Count("id", filter=Q(level=lv)) for lv in Level.values},
        "rn_bad": Count("id", filter=real_name_bad),
        "rn_bad_closed": Count(
            "id", filter=real_name_bad & Q(rectification__status=Rectification.Status.CLOSED)
        ),
    }


def _rectification_counts(today: date) -> dict[str, Any]:
    return {
        "n": Count("id"),
        "on_time": Count("id", filter=Q(replied_on_time=True)),
        "late": Count("id", filter=Q(replied_on_time=False)),
        "overdue": Count("id", filter=Q(status=Rectification.Status.OPEN, due_on__lt=today)),
        "in_time": Count("id", filter=Q(status=Rectification.Status.OPEN, due_on__gte=today)),
    }


def _stats(
    *,
    group: str,
    ratings: QuerySet[Rating],
    rectification_group: str,
    rectifications: QuerySet[Rectification],
    today: date,
) -> dict[int, RatingStats]:
    stats: dict[int, RatingStats] = {}
    for row in ratings.values(group).annotate(**_rating_counts()).order_by():
        key = row[group]
        stats[key] = RatingStats(
            key=key,
            label="",
            counts={lv: row[f"l{lv}"] for lv in Level.values},
            real_name_bad=row["rn_bad"],
            real_name_bad_followed_up=row["rn_bad_closed"],
        )
    for row in (
        rectifications.values(rectification_group)
        .annotate(**_rectification_counts(today))
        .order_by()
    ):
        entry = stats.setdefault(
            row[rectification_group], RatingStats(key=row[rectification_group], label="")
        )
        entry.rectifications = row["n"]
        entry.replied_on_time = row["on_time"]
        entry.replied_late = row["late"]
        entry.open_overdue = row["overdue"]
        entry.open_in_time = row["in_time"]
    return stats


def _sorted(stats: Iterable[RatingStats]) -> list[RatingStats]:
    return sorted(stats, key=lambda s: (-s.total, s.code, s.key))


def rating_stats_by_department(
    *,
    department_ids: Collection[int],
    since: date | None = None,
    until: date | None = None,
    today: date | None = None,
) -> list[RatingStats]:
    """One row per department of ``department_ids`` that has ratings or rectifications in
    the period (by the day of the rating), most rated first. Three queries."""
    today = today or city_today()
    ids = list(department_ids)
    ratings = _period(
        Rating.objects.filter(invitation__department_id__in=ids), "created_at", since, until
    )
    rectifications = _period(
        Rectification.objects.filter(department_id__in=ids), "rating__created_at", since, until
    )
    stats = _stats(
        group="invitation__department_id",
        ratings=ratings,
        rectification_group="department_id",
        rectifications=rectifications,
        today=today,
    )
    for pk, code, name in Department.objects.filter(pk__in=list(stats)).values_list(
        "pk", "code", "name"
    ):
        stats[pk].label, stats[pk].code = name, code
    return _sorted(stats.values())


def rating_stats_by_item(
    *,
    department_ids: Collection[int],
    since: date | None = None,
    until: date | None = None,
    today: date | None = None,
) -> list[RatingStats]:
    """One row per service item rated in ``department_ids`` (ratings without an item are
    left out), most rated first, labelled with the item's published name. Four queries."""
    today = today or city_today()
    ids = list(department_ids)
    ratings = _period(
        Rating.objects.filter(invitation__department_id__in=ids, invitation__item__isnull=False),
        "created_at",
        since,
        until,
    )
    rectifications = _period(
        Rectification.objects.filter(department_id__in=ids, rating__invitation__item__isnull=False),
        "rating__created_at",
        since,
        until,
    )
    stats = _stats(
        group="invitation__item_id",
        ratings=ratings,
        rectification_group="rating__invitation__item_id",
        rectifications=rectifications,
        today=today,
    )
    names = dict(
        published_versions()
        .filter(item_id__in=list(stats))
        .values_list("item_id", "name")
        .order_by()
    )
    codes = dict(ServiceItem.objects.filter(pk__in=list(stats)).values_list("pk", "task_code"))
    for pk, entry in stats.items():
        entry.code = codes.get(pk, "")
        entry.label = names.get(pk) or entry.code
    return _sorted(stats.values())


def rating_stats_total(rows: Iterable[RatingStats]) -> RatingStats:
    """The sum of ``rows`` (the table's last line)."""
    total = RatingStats(key=0, label="")
    for row in rows:
        for lv, n in row.counts.items():
            total.counts[lv] = total.counts.get(lv, 0) + n
        total.rectifications += row.rectifications
        total.replied_on_time += row.replied_on_time
        total.replied_late += row.replied_late
        total.open_overdue += row.open_overdue
        total.open_in_time += row.open_in_time
        total.real_name_bad += row.real_name_bad
        total.real_name_bad_followed_up += row.real_name_bad_followed_up
    return total
