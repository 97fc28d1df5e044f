"""Reads of the hotline app: routing (dispatch catalogue, classifier, duplicates), who sees
which orders, and the queues of each desk."""

from __future__ import annotations

import functools
import operator
import re
import threading
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone

from yiwang.accounts.models import Department, Role
from yiwang.accounts.selectors import user_department_ids_for_role, user_roles
from yiwang.evaluation.selectors import supervised_department_ids
from yiwang.hotline.location import distance_m
from yiwang.hotline.models import (
    Assignment,
    Category,
    ClassifierModel,
    DispatchRule,
    Open311Key,
    WorkOrder,
)

Status = WorkOrder.Status


# --- categories and the dispatch catalogue -------------------------------------------------


def category_chain_ids(category: Category | None) -> list[int]:
    """The category's id and its ancestors', most specific first."""
    ids: list[int] = []
    node = category
    while node is not None:
        ids.append(node.pk)
        node = node.parent
    return ids


def category_tree() -> list[Category]:
    """Every active category, parents before children (for pickers and Open311)."""
    return list(Category.objects.filter(active=True).select_related("parent"))


def category_leaves() -> QuerySet[Category]:
    return Category.objects.filter(active=True).exclude(
        Exists(Category.objects.filter(parent=OuterRef("pk"), active=True))
    )


def dispatch_rule_for(category: Category, division_code: str) -> DispatchRule | None:
    """The catalogue's rule for ``category`` at ``division_code``: the most specific category
    first, then the longest matching division prefix ('' matches everywhere)."""
    chain = category_chain_ids(category)
    # Whether a rule names assisting units, in the same query: most name none, and then
    # ``dispatch_rule_assisting`` has nothing to read (intake throughput).
    assisting = DispatchRule.assisting_units.through.objects.filter(dispatchrule_id=OuterRef("pk"))
    rules = [
        rule
        for rule in DispatchRule.objects.filter(category_id__in=chain)
        .select_related("lead_unit")
        .annotate(has_assisting=Exists(assisting))
        .order_by()  # sorted below
        if division_code.startswith(rule.division_prefix)
    ]
    if not rules:
        return None
    rules.sort(key=lambda r: (chain.index(r.category_id), -len(r.division_prefix)))
    return rules[0]


def dispatch_rule_assisting(rule: DispatchRule) -> list[Department]:
    """The rule's assisting units (协办); no query when ``dispatch_rule_for`` saw none."""
    if getattr(rule, "has_assisting", True) is False:
        return []
    return list(rule.assisting_units.all())


# --- the classifier ------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    label: str
    confidence: float
    category: Category | None
    sure: bool  # at or above the model's auto-dispatch threshold, and a known category


_loaded: dict[str, Any] = {}
_load_lock = threading.Lock()


def _model_path(path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else Path(settings.DATA_DIR) / p


def classifier_active() -> tuple[ClassifierModel, Any] | None:
    """The active model row and its loaded classifier (cached per process and file). Read
    on every registration, so only with what finding and using the file needs: its labels
    and metrics (JSON to decode) load if asked for."""
    # At most one row is active (a constraint): no ordering to compile or sort by.
    rows = ClassifierModel.objects.filter(active=True).order_by()
    row = next(iter(rows.only("path", "updated_at", "auto_dispatch_threshold")[:1]), None)
    if row is None:
        return None
    from yiwang.hotline.classifier import classifier_load  # numpy and scikit-learn: only when used

    key = f"{row.pk}:{row.path}:{row.updated_at.isoformat()}"
    with _load_lock:
        if key not in _loaded:
            _loaded.clear()
            _loaded[key] = classifier_load(_model_path(row.path))
        return row, _loaded[key]


# What registration uses of a category and its ancestors (the rest loads when asked for).
_CATEGORY_FIELDS = ("code", "name", "level", "parent_id", "active")
_CHAIN_FIELDS = (
    *_CATEGORY_FIELDS,
    *(f"parent__{f}" for f in _CATEGORY_FIELDS),
    *(f"parent__parent__{f}" for f in _CATEGORY_FIELDS),
)


def classifier_predict(text: str) -> Suggestion | None:
    """What the active classifier says about ``text`` ("title\ncontent"; None without an
    active model). Labels are category codes (or names, for a model trained on names)."""
    active = classifier_active()
    if active is None:
        return None
    from yiwang.hotline.classifier import classifier_text

    row, model = active
    subject, _newline, body = text.partition("\n")  # "title\ncontent", as the services join them
    prediction = model.predict([classifier_text(subject=subject, body=body)])[0]
    label = str(prediction.label)
    # The deepest category of that code or name, with its whole chain (3 levels: dispatch
    # walks it). A handful of rows at most: chosen here rather than sorted by the database,
    # whose ORDER BY costs more to build than the rows to compare.
    category = max(
        Category.objects.filter(active=True)
        .filter(Q(code=label) | Q(name=label))
        .select_related("parent__parent")
        .order_by()
        .only(*_CHAIN_FIELDS),
        key=lambda c: (c.level, -c.pk),
        default=None,
    )
    return Suggestion(
        label=label,
        confidence=float(prediction.confidence),
        category=category,
        sure=category is not None and prediction.confidence >= row.auto_dispatch_threshold,
    )


# --- duplicates ----------------------------------------------------------------------------

_NOT_CJK_OR_WORD = re.compile(r"[\W_]+", re.UNICODE)


def _bigrams(text: str) -> set[str]:
    t = _NOT_CJK_OR_WORD.sub("", text.lower())
    return set(map(operator.add, t, t[1:])) or ({t} if t else set())


@functools.lru_cache(maxsize=1024)
def _candidate_bigrams(text: str) -> frozenset[str]:
    # Every registration compares itself with the same recent open orders of its category
    # (up to 200): their bigrams, a function of the text alone, are worth keeping.
    return frozenset(_bigrams(text))


def text_similarity(a: str, b: str) -> float:
    """Jaccard similarity of the character bigrams of two texts (0–1)."""
    return _jaccard(_bigrams(a), _bigrams(b))


def _jaccard(x: AbstractSet[str], y: AbstractSet[str]) -> float:
    if not x or not y:
        return 0.0
    shared = len(x & y)
    return shared / (len(x) + len(y) - shared)


# What the duplicate check reads of each open order, besides the head of its content.
_DUPLICATE_READ = ("id", "number", "title", "division_code", "lat", "long")


@dataclass(frozen=True)
class DuplicateCandidate:
    order: WorkOrder
    similarity: float
    distance_m: float | None


def duplicate_candidates(
    *,
    text: str,
    category: Category | None,
    division_code: str,
    lat: float | None,
    long: float | None,
    exclude_pk: int | None = None,
    limit: int = 3,
    whole_orders: bool = True,
) -> list[DuplicateCandidate]:
    """Open orders that the new one may repeat (并单): same matter (the category, or the area
    when there is none), recent (``YIWANG_HOTLINE_DUPLICATE_DAYS``), nearby
    (``YIWANG_HOTLINE_DUPLICATE_METRES`` when both have a point) and similar in wording.

    Without ``whole_orders`` the candidates' orders hold what the comparison read (number,
    title, place) and load any other field when it is first used: one query less for a
    registration, which only names them."""
    days = int(getattr(settings, "YIWANG_HOTLINE_DUPLICATE_DAYS", 7))
    metres = float(getattr(settings, "YIWANG_HOTLINE_DUPLICATE_METRES", 500))
    rows = WorkOrder.objects.filter(
        status__in=WorkOrder.OPEN_STATUSES,
        registered_at__gte=timezone.now() - timedelta(days=days),
    )
    if category is not None:
        rows = rows.filter(category=category)
    elif division_code:
        rows = rows.filter(division_code=division_code)
    else:
        return []
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    # Only the columns the comparison needs, and the head of each text: this runs on every
    # registration (intake throughput), over up to 200 recent orders of the category.
    scored: list[tuple[int, float, float | None]] = []
    subject, _newline, body = text.partition("\n")
    mine = _bigrams(f"{subject}\n{body[:400]}")  # the same head as the candidates' below
    recent = rows.order_by("-registered_at").values_list(
        "pk", "number", "title", Substr("content", 1, 400), "lat", "long", "division_code"
    )[:200]
    read: dict[int, dict[str, Any]] = {}
    for pk, number, title, head, o_lat, o_long, o_division in recent:
        distance = (
            distance_m(lat, long, o_lat, o_long)
            if lat is not None and long is not None and o_lat is not None and o_long is not None
            else None
        )
        if distance is not None and distance > metres:
            continue
        same_place = distance is not None or (bool(division_code) and o_division == division_code)
        similarity = _jaccard(mine, _candidate_bigrams(f"{title}\n{head}"))
        if similarity >= 0.5 or (same_place and similarity >= 0.25):
            scored.append((pk, round(similarity, 3), distance))
            read[pk] = {
                "id": pk,
                "number": number,
                "title": title,
                "division_code": o_division,
                "lat": o_lat,
                "long": o_long,
            }
    scored.sort(key=lambda c: -c[1])
    scored = scored[:limit]
    if not whole_orders:
        # as ``.only()`` builds them: the values read, in the model's field order
        columns = [
            f.attname for f in WorkOrder._meta.concrete_fields if f.attname in _DUPLICATE_READ
        ]
        return [
            DuplicateCandidate(
                WorkOrder.from_db(rows.db, columns, [read[pk][c] for c in columns]), sim, dist
            )
            for pk, sim, dist in scored
        ]
    # Shown to the dispatcher as links: no need to decrypt the callers' personal data.
    orders = WorkOrder.objects.defer("caller_name", "caller_phone").in_bulk(
        [pk for pk, _s, _d in scored]
    )
    return [DuplicateCandidate(orders[pk], sim, dist) for pk, sim, dist in scored if pk in orders]


# --- who sees which orders -----------------------------------------------------------------


def is_dispatcher(user: Any) -> bool:
    roles = user_roles(user)
    return Role.DISPATCHER.value in roles or Role.ADMIN.value in roles


def unit_ids(user: Any) -> frozenset[int]:
    return user_department_ids_for_role(user, Role.HANDLING_UNIT)


def orders_for_staff(user: Any) -> QuerySet[WorkOrder]:
    """Orders ``user`` may see as staff: every order for the 12345 centre; those led in their
    scope for a supervisor; those dispatched to their units (in any round) for a unit."""
    if is_dispatcher(user):
        return WorkOrder.objects.all()
    q = Q(pk__in=[])
    supervised = supervised_department_ids(user)
    if supervised:
        q |= Q(lead_unit_id__in=supervised)
    units = unit_ids(user)
    if units:
        q |= Q(Exists(Assignment.objects.filter(order=OuterRef("pk"), unit_id__in=units)))
    return WorkOrder.objects.filter(q)


def orders_of_citizen(user: Any) -> QuerySet[WorkOrder]:
    return WorkOrder.objects.filter(citizen_id=getattr(user, "pk", None))


def dispatch_queue() -> QuerySet[WorkOrder]:
    """Orders waiting for a dispatcher: new ones (emergencies first) and returns to review."""
    return (
        WorkOrder.objects.filter(status__in=[Status.REGISTERED, Status.RETURN_REQUESTED])
        .select_related("category", "suggested_category", "lead_unit")
        .order_by("-urgency", "registered_at")
    )


def visit_queue() -> QuerySet[WorkOrder]:
    """Replied orders waiting for the return visit, oldest reply first."""
    return (
        WorkOrder.objects.filter(status=Status.REPLIED)
        .select_related("category", "lead_unit")
        .order_by("replied_at")
    )


def unit_inbox(user: Any) -> QuerySet[WorkOrder]:
    """Open orders of the user's units (lead or assisting, current round), nearest due first."""
    units = unit_ids(user)
    current = Assignment.objects.filter(
        order=OuterRef("pk"),
        unit_id__in=units,
        status__in=["pending", "signed", "return_requested"],
    )
    return (
        WorkOrder.objects.filter(status__in=WorkOrder.OPEN_STATUSES)
        .filter(Exists(current))
        .select_related("category", "lead_unit")
        .order_by("handle_due", "registered_at")
    )


def supervision_queue(user: Any) -> QuerySet[WorkOrder]:
    """Orders of the supervisor's scope that need them: escalated or supervising."""
    scope = supervised_department_ids(user)
    return (
        WorkOrder.objects.filter(lead_unit_id__in=scope)
        .filter(
            Q(status=Status.SUPERVISING)
            | Q(
                escalated_at__isnull=False,
                status__in=[Status.DISPATCHED, Status.HANDLING, Status.RETURN_REQUESTED],
            )
        )
        .select_related("category", "lead_unit")
        .order_by("escalated_at")
    )


# --- centre (operator console, dispatch desk) ------------------------------------------------


def order_unit_takes_part(*, number: str, unit_id: int) -> bool | None:
    """Whether the unit handles work order ``number`` (its lead unit or an assigned unit), or
    None when there is no such order (the data exchange binds a read to a case this way)."""
    order = WorkOrder.objects.filter(number=number).values("id", "lead_unit_id").first()
    if order is None:
        return None
    return (
        order["lead_unit_id"] == unit_id
        or Assignment.objects.filter(order_id=order["id"], unit_id=unit_id).exists()
    )


def caller_order_count(phone: str) -> int:
    """How many orders a caller's number has made before (by its blind index: the number
    itself is never searched)."""
    from yiwang.accounts.selectors import phone_blind_index

    phone = re.sub(r"\s", "", phone or "")
    if not phone:
        return 0
    return WorkOrder.objects.filter(caller_phone_index=phone_blind_index(phone)).count()


def extension_queue() -> QuerySet[Any]:
    """Pending extension requests, oldest first, for the centre to decide."""
    from yiwang.hotline.models import Extension

    return (
        Extension.objects.filter(status=Extension.Status.PENDING)
        .select_related("order", "unit")
        .order_by("created_at", "id")
    )


# --- API (the citizen's view of an order, the staff list's filters) ---------------------------

# Timeline kinds a citizen sees of their own order: the steps of the loop, never the working
# notes of the centre and the units (classification, returns, assistance, extensions,
# warnings, escalation).
CITIZEN_EVENT_KINDS = (
    "registered",
    "dispatched",
    "signed",
    "replied",
    "visited",
    "reopened",
    "supervising",
    "merged",
    "transferred",
    "closed",
)


def order_citizen_events(order: WorkOrder) -> QuerySet[Any]:
    """The order's public timeline, oldest first (kinds in ``CITIZEN_EVENT_KINDS``)."""
    from yiwang.hotline.models import Event

    return (
        Event.objects.filter(order=order, kind__in=CITIZEN_EVENT_KINDS)
        .select_related("unit")
        .order_by("created_at", "id")
    )


def orders_for_staff_filtered(
    user: Any, *, status: str = "", category_code: str = "", unit_code: str = ""
) -> QuerySet[WorkOrder]:
    """``orders_for_staff`` narrowed by status, by a category (any level: its subtree) and by
    the lead unit's code; newest first."""
    rows = orders_for_staff(user)
    if status:
        rows = rows.filter(status=status)
    if category_code:
        rows = rows.filter(
            Q(category__code=category_code)
            | Q(category__parent__code=category_code)
            | Q(category__parent__parent__code=category_code)
        )
    if unit_code:
        rows = rows.filter(lead_unit__code=unit_code)
    return rows.select_related("category", "lead_unit").order_by("-registered_at", "-id")


# --- portal (citizen pages: mailboxes, published letters) -------------------------------------


def mailboxes_active() -> QuerySet[Any]:
    """The mailboxes a citizen may write to: the mayor's first, then the departments'."""
    from yiwang.hotline.models import Mailbox

    return (
        Mailbox.objects.filter(active=True)
        .select_related("department")
        .order_by("-kind", "code")  # "mayor" after "department" alphabetically
    )


def letters_published() -> QuerySet[WorkOrder]:
    """Mailbox letters published with their writer's consent, newest publication first. Pages
    show only the redacted ``public_*`` texts, the dates and the mailbox's name."""
    return (
        WorkOrder.objects.filter(
            channel=WorkOrder.Channel.MAILBOX, publish_consent=True, published_at__isnull=False
        )
        .select_related("mailbox")
        .order_by("-published_at", "-id")
    )


# --- Open311 keys (added by the Open311 helper o311) ----------------------------------------


def open311_keys() -> QuerySet[Open311Key]:
    """Every Open311 key, active ones first (the hashes are useless to a reader)."""
    return Open311Key.objects.order_by(F("revoked_at").asc(nulls_first=True), "name", "id")


# --- training data (lead) --------------------------------------------------------------------


def training_rows(*, since: Any = None) -> Iterator[tuple[str, str, str]]:
    """(title, content, category code) of every order whose category a person confirmed: the
    city's own history, dispatchers' corrections of the classifier included (the confirmed
    category is the label; the model's suggestion is kept beside it only for the record).
    Emergencies transferred at once and merged duplicates are left out."""
    rows = (
        WorkOrder.objects.filter(category__isnull=False)
        .exclude(status__in=[Status.TRANSFERRED, Status.MERGED, Status.REGISTERED])
        .order_by("pk")
    )
    if since is not None:
        rows = rows.filter(registered_at__gte=since)
    yield from rows.values_list("title", "content", "category__code").iterator(chunk_size=2000)
