"""Writes of the hotline app: one service per transition of a work order (models.py has the
state machine).

Every write runs in ``transaction.atomic``, locks the order (``select_for_update``; then its
assignment: always this order), checks the state and the actor, and writes its audit row and
timeline ``Event`` in the same transaction; notifications go through ``notify`` /
``notify_phone`` inside it, so they are sent only after the commit (the outbox). Bad input
raises one ``hotline.invalid`` whose ``problems`` list every problem, and changes nothing.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import filetype
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from yiwang.accounts.models import Department, Role, User
from yiwang.accounts.selectors import phone_blind_index, user_roles
from yiwang.core.audit import audit_record
from yiwang.core.calendar import SHANGHAI, work_calendar_load
from yiwang.core.errors import Conflict, DomainError, PermissionDenied, ValidationError
from yiwang.core.masking import mask_name, mask_phone
from yiwang.evaluation.selectors import (
    department_people_with_roles,
    rating_levels_of,
    supervised_department_ids,
)
from yiwang.evaluation.services import COMMENT_MAX as RATING_COMMENT_MAX
from yiwang.evaluation.services import rating_invite, rating_record
from yiwang.hotline import clock, errors
from yiwang.hotline.emergency import Emergency, emergency_detect
from yiwang.hotline.location import location_resolve
from yiwang.hotline.models import (
    Assignment,
    Attachment,
    Category,
    ClassifierModel,
    Event,
    Extension,
    Mailbox,
    Open311Key,
    Reply,
    ReturnVisit,
    Urgency,
    WorkOrder,
)
from yiwang.hotline.reply_check import reply_check
from yiwang.hotline.selectors import (
    DuplicateCandidate,
    classifier_predict,
    dispatch_rule_assisting,
    dispatch_rule_for,
    duplicate_candidates,
    is_dispatcher,
    unit_ids,
)
from yiwang.notifications.services import notify, notify_many, notify_phone

SYSTEM = "system:hotline"
Status = WorkOrder.Status

PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")
MAX_PHOTOS = 6
MAX_PHOTO_BYTES = 10 * 1024 * 1024
CONTENT_MAX = 4000


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def designate_after() -> int:
    """Dispatches after which the centre designates the unit (no more returns)."""
    return int(_setting("YIWANG_HOTLINE_DESIGNATE_AFTER", 3))


def reopen_limit() -> int:
    return int(_setting("YIWANG_HOTLINE_REOPEN_LIMIT", 1))


def unreachable_close_after() -> int:
    return int(_setting("YIWANG_HOTLINE_UNREACHABLE_CLOSE_AFTER", 3))


# --- input ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Photo:
    name: str
    content: bytes


@dataclass
class _Problems:
    items: list[dict[str, str]] = field(default_factory=list)

    def add(self, field_name: str, code: str, message: Any) -> None:
        self.items.append({"field": field_name, "code": code, "message": str(message)})

    def raise_if_any(self) -> None:
        if self.items:
            raise ValidationError(
                errors.INVALID,
                "；".join(p["message"] for p in self.items),
                problems=self.items,
            )


@dataclass(frozen=True)
class Intake:
    """What registration did: the order, the emergency it may be, the open orders it may
    repeat, and whether it went straight to a unit."""

    order: WorkOrder
    emergency: Emergency | None
    duplicates: list[DuplicateCandidate]
    dispatched: bool
    created: bool = True
    # What a new registration wrote besides the order, in order (the timeline and the photos):
    # an answer lists them without reading them back. Empty for an idempotent repeat.
    events: tuple[Event, ...] = ()
    attachments: tuple[Attachment, ...] = ()


def _clean(text: str | None) -> str:
    return (text or "").replace("\x00", "").strip()


def _category_of(value: Category | str | None, problems: _Problems) -> Category | None:
    if value is None or value == "":
        return None
    if isinstance(value, Category):
        return value
    # with its whole chain (3 levels): the catalogue and the time limits walk it
    category = (
        Category.objects.filter(code=value, active=True).select_related("parent__parent").first()
    )
    if category is None:
        problems.add("category", errors.CATEGORY_UNKNOWN, _("诉求分类不存在或已停用。"))
    return category


def _check_photos(photos: Sequence[Photo], problems: _Problems) -> list[tuple[Photo, str]]:
    checked: list[tuple[Photo, str]] = []
    if len(photos) > MAX_PHOTOS:
        problems.add("photos", "hotline.too_many_photos", _("照片最多 6 张。"))
        return checked
    for photo in photos:
        if not photo.content:
            problems.add("photos", "hotline.photo_empty", _("照片“%s”是空文件。") % photo.name)
            continue
        if len(photo.content) > MAX_PHOTO_BYTES:
            problems.add("photos", "hotline.photo_too_big", _("照片“%s”超过 10MB。") % photo.name)
            continue
        kind = filetype.guess(photo.content)
        if kind is None or kind.mime not in PHOTO_TYPES:
            problems.add(
                "photos",
                "hotline.photo_type",
                _("“%s”不是 JPEG、PNG 或 WebP 图片。") % photo.name,
            )
            continue
        checked.append((photo, kind.mime))
    return checked


def _request_digest(**fields: Any) -> str:
    text = "\x1f".join(f"{k}={fields[k]}" for k in sorted(fields))
    return hashlib.sha256(text.encode()).hexdigest()


# --- registration (受理) -------------------------------------------------------------------


def work_order_register(
    *,
    actor: Any,
    channel: str,
    content: str,
    title: str = "",
    kind: str = WorkOrder.Kind.COMPLAINT,
    citizen: User | None = None,
    caller_name: str = "",
    caller_phone: str = "",
    callback_requested: bool = True,
    confidential: bool = False,
    lat: float | None = None,
    long: float | None = None,
    address: str = "",
    division_code: str = "",
    category: Category | str | None = None,
    urgency: str = "",
    mailbox: Mailbox | None = None,
    publish_consent: bool = False,
    photos: Sequence[Photo] = (),
    idempotency_key: str = "",
    auto_dispatch: bool = True,
) -> Intake:
    """Record one request from any channel as a work order (受理), then route it.

    The order is classified (the operator's category wins over the classifier's), checked for
    an emergency (flagged with the number to transfer to; never routed automatically) and for
    open orders it may repeat (proposed for merging; never routed automatically), and
    dispatched at once by the dispatch catalogue when its category is sure enough. Otherwise
    it waits for a dispatcher (``registered``)."""
    problems = _Problems()
    content = _clean(content)
    title = _clean(title)
    caller_name = _clean(caller_name)
    caller_phone = re.sub(r"[\s]", "", caller_phone or "")
    address = _clean(address)
    key = _clean(idempotency_key)
    if channel not in WorkOrder.Channel.values:
        problems.add("channel", "hotline.channel_invalid", _("渠道无效。"))
    if kind not in WorkOrder.Kind.values:
        problems.add("kind", "hotline.kind_invalid", _("诉求类型无效。"))
    if not content:
        problems.add("content", "hotline.content_required", _("请填写诉求内容。"))
    elif len(content) > CONTENT_MAX:
        problems.add("content", "hotline.content_too_long", _("诉求内容不能超过 4000 字。"))
    if not title:
        title = re.sub(r"\s+", " ", content)[:30]
    elif len(title) > 100:
        problems.add("title", "hotline.title_too_long", _("标题不能超过 100 字。"))
    if len(caller_name) > 50:
        problems.add("caller_name", "hotline.name_too_long", _("姓名不能超过 50 字。"))
    if caller_phone and not PHONE_RE.match(caller_phone):
        problems.add("caller_phone", "hotline.phone_invalid", _("联系电话格式不正确。"))
    if citizen is None and not caller_phone and channel != WorkOrder.Channel.OPEN311:
        problems.add("caller_phone", "hotline.phone_required", _("请留下联系电话，以便答复。"))
    if len(key) > 64:
        problems.add("idempotency_key", "hotline.key_too_long", _("幂等键不能超过 64 个字符。"))
    if urgency and urgency not in Urgency.values:
        problems.add("urgency", "hotline.urgency_invalid", _("紧急程度无效。"))
    if channel == WorkOrder.Channel.MAILBOX:
        if mailbox is None or not mailbox.active:
            problems.add("mailbox", errors.MAILBOX_UNKNOWN, _("请选择有效的信箱。"))
    elif mailbox is not None:
        problems.add("mailbox", errors.MAILBOX_UNKNOWN, _("只有信箱来信可以指定信箱。"))
    chosen = _category_of(category, problems)
    location = None
    if lat is not None or long is not None or address or division_code:
        try:
            location = location_resolve(
                lat=lat, long=long, address=address, division_code=division_code
            )
        except DomainError as error:
            problems.add("location", error.code, error.message)
    checked_photos = _check_photos(photos, problems)
    problems.raise_if_any()

    if citizen is not None and key:
        digest = _request_digest(channel=channel, content=content, title=title, kind=kind)
        existing = WorkOrder.objects.filter(citizen=citizen, idempotency_key=key).first()
        if existing is not None:
            return _idempotent(existing, digest)

    text = f"{title}\n{content}"
    emergency = emergency_detect(text)
    suggestion = None if chosen is not None else classifier_predict(text)
    suggested = suggestion.category if suggestion else None
    effective = chosen or (suggested if suggestion and suggestion.sure else None)
    division = location.division_code if location else ""
    duplicates = duplicate_candidates(
        text=text,
        category=effective or suggested,
        division_code=division,
        lat=location.lat if location else lat,
        long=location.long if location else long,
        whole_orders=False,  # the audit row names them; Intake.duplicates loads the rest lazily
    )
    stored: list[str] = []
    try:
        with transaction.atomic():
            now = timezone.now()
            prefix = f"GD{now.astimezone(SHANGHAI):%Y%m%d}"
            order = WorkOrder.objects.create(
                number=_number_at_insert(prefix),
                channel=channel,
                kind=kind,
                title=title,
                content=content,
                citizen=citizen,
                caller_name=caller_name or (citizen.real_name if citizen else ""),
                caller_phone=caller_phone or (citizen.phone if citizen else "") or "",
                caller_phone_index=phone_blind_index(caller_phone) if caller_phone else "",
                callback_requested=callback_requested,
                confidential=confidential,
                division_code=division,
                address=(location.address if location and location.address else address)[:200],
                lat=location.lat if location and location.lat is not None else lat,
                long=location.long if location and location.long is not None else long,
                category=effective,
                suggested_category=suggested,
                suggested_confidence=suggestion.confidence if suggestion else None,
                urgency=Urgency.URGENT if emergency else (urgency or Urgency.NORMAL),
                emergency_number=emergency.number if emergency else "",
                mailbox=mailbox,
                publish_consent=publish_consent,
                registered_by=actor if isinstance(actor, User) else None,
                idempotency_key=key if citizen is not None else "",
                registered_at=now,
            )
            # The INSERT wrote the number when the database could tell the row's id (SQLite);
            # otherwise it goes with the dispatch's update below, or on its own at the end.
            number_written = not isinstance(order.number, str)
            order.number = f"{prefix}{order.pk:08d}"
            attachments: list[Attachment] = []
            for photo, mime in checked_photos:
                attachment = Attachment(
                    order=order, name=photo.name[:200], content_type=mime, size=len(photo.content)
                )
                attachment.file.save(
                    f"{uuid.uuid4().hex}.{mime.split('/')[1]}", ContentFile(photo.content), False
                )
                stored.append(str(attachment.file.name))
                attachment.save()
                attachments.append(attachment)
            events = [
                _event_row(order, "registered", actor, note=str(WorkOrder.Channel(channel).label))
            ]
            if emergency:
                events.append(
                    _event_row(
                        order,
                        "emergency_flagged",
                        actor,
                        note=f"{emergency.label} {emergency.number}",
                    )
                )
            if suggestion:
                events.append(
                    _event_row(
                        order,
                        "classified",
                        SYSTEM,
                        note=f"{suggestion.category} {suggestion.confidence:.2f}"
                        if suggestion.category
                        else f"? {suggestion.label}",
                    )
                )
            audit_record(
                actor=actor,
                action="hotline.register",
                obj=order,
                after={
                    "number": order.number,
                    "channel": channel,
                    "category": effective.code if effective else "",
                    "emergency": emergency.number if emergency else "",
                    "duplicates": [d.order.number for d in duplicates],
                },
            )
            _tell_citizen(
                order,
                "hotline.registered",
                gettext("您的诉求已受理"),
                gettext("工单编号 %(n)s，我们将尽快办理并答复您。") % {"n": order.number},
                actor=actor,
                savepoint=False,  # a failed notice fails the registration: nothing to keep
            )
            dispatched = False
            if (
                auto_dispatch
                and effective is not None
                and emergency is None
                and not duplicates
                and mailbox_department(mailbox) is None
            ):
                rule = dispatch_rule_for(effective, division)
                if rule is not None:
                    _dispatch(
                        order,
                        actor=SYSTEM,
                        lead=rule.lead_unit,
                        assisting=dispatch_rule_assisting(rule),
                        now=now,
                        fresh=events,
                        number=not number_written,
                    )
                    dispatched = True
            elif (department := mailbox_department(mailbox)) is not None and auto_dispatch:
                _dispatch(
                    order,
                    actor=SYSTEM,
                    lead=department,
                    assisting=[],
                    now=now,
                    fresh=events,
                    number=not number_written,
                )
                dispatched = True
            if not dispatched and not number_written:
                order.save(update_fields=["number"])
            # The whole timeline in one INSERT: registered, flagged, classified (dispatched).
            Event.objects.bulk_create(events)
    except IntegrityError:
        for name in stored:
            Attachment.file.field.storage.delete(name)
        if citizen is not None and key:
            existing = WorkOrder.objects.filter(citizen=citizen, idempotency_key=key).first()
            if existing is not None:
                return _idempotent(
                    existing,
                    _request_digest(channel=channel, content=content, title=title, kind=kind),
                )
        raise
    except BaseException:
        for name in stored:
            Attachment.file.field.storage.delete(name)
        raise
    return Intake(
        order=order,
        emergency=emergency,
        duplicates=duplicates,
        dispatched=dispatched,
        events=tuple(events),
        attachments=tuple(attachments),
    )


def _number_at_insert(prefix: str) -> Any:
    """The new order's number (``prefix`` and its id in at least 8 digits) for the INSERT to
    write, or a placeholder that the caller replaces once the row has its id. SQLite gives a
    row of an AUTOINCREMENT table the id one past the larger of its ``sqlite_sequence``
    entry and the largest id in it: the INSERT reads both itself, under the write lock, so
    no other writer can take that id in between. PostgreSQL's sequence cannot be read so in
    the same statement without relying on the order in which it evaluates the row."""
    if connection.vendor != "sqlite":
        return f"tmp-{uuid.uuid4().hex[:24]}"
    table = WorkOrder._meta.db_table  # a name from the model; the values are parameters
    sql = (
        "%s || printf('%%08d', max("  # noqa: S608
        "COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "
        f'COALESCE((SELECT MAX(id) FROM "{table}"), 0)) + 1)'
    )
    return RawSQL(sql, (prefix, table))  # noqa: S611


def mailbox_department(mailbox: Mailbox | None) -> Department | None:
    """A department mailbox's letters go straight to its department."""
    if mailbox is None or mailbox.kind != Mailbox.Kind.DEPARTMENT:
        return None
    return mailbox.department


def _idempotent(existing: WorkOrder, digest: str) -> Intake:
    mine = _request_digest(
        channel=existing.channel, content=existing.content, title=existing.title, kind=existing.kind
    )
    if mine != digest:
        raise Conflict(
            errors.IDEMPOTENCY_CONFLICT,
            _("该幂等键已用于另一份内容不同的诉求（工单编号 %(n)s）。") % {"n": existing.number},
            number=existing.number,
        )
    return Intake(order=existing, emergency=None, duplicates=[], dispatched=False, created=False)


# --- helpers -------------------------------------------------------------------------------


def _event(
    order: WorkOrder, kind: str, actor: Any, *, note: str = "", unit: Department | None = None
) -> None:
    _event_row(order, kind, actor, note=note, unit=unit).save(force_insert=True)


def _event_row(
    order: WorkOrder, kind: str, actor: Any, *, note: str = "", unit: Department | None = None
) -> Event:
    return Event(
        order=order,
        kind=kind,
        actor=actor if isinstance(actor, User) else None,
        unit=unit,
        note=str(note)[:2000],
    )


def _locked(order: WorkOrder, *allowed: str) -> WorkOrder:
    locked = WorkOrder.objects.select_for_update().get(pk=order.pk)
    if allowed and locked.status not in allowed:
        raise Conflict(
            errors.INVALID_TRANSITION,
            _("工单 %(n)s 当前状态为“%(s)s”，不能进行此操作。")
            % {"n": locked.number, "s": locked.get_status_display()},
            status=locked.status,
        )
    return locked


_is_dispatcher = is_dispatcher  # the selectors' definition: DISPATCHER or ADMIN


def _require_dispatcher(actor: Any) -> None:
    if not _is_dispatcher(actor):
        raise PermissionDenied("core.forbidden", _("只有12345话务派单人员可以进行此操作。"))


_unit_ids = unit_ids  # the departments where the actor holds HANDLING_UNIT


def _require_lead(order: WorkOrder, actor: Any) -> None:
    if order.lead_unit_id is None or order.lead_unit_id not in _unit_ids(actor):
        raise PermissionDenied(errors.NOT_YOUR_ORDER, _("只有主办单位的承办人员可以进行此操作。"))


def _require_supervisor(order: WorkOrder, actor: Any) -> None:
    scope = supervised_department_ids(actor)
    if order.lead_unit_id is None or order.lead_unit_id not in scope:
        raise PermissionDenied("core.forbidden", _("只有该单位的督办人员可以进行此操作。"))


def _tell_citizen(
    order: WorkOrder, event: str, title: str, body: str, *, actor: Any, savepoint: bool = True
) -> None:
    """In-app and SMS to the citizen's account, or an SMS to the caller's mobile number.
    ``savepoint=False`` where any failure ends the whole transaction (registration)."""
    link = f"/hotline/my/{order.public_id}/"
    if order.citizen is not None:
        notify(
            recipient=order.citizen,
            event=event,
            title=title,
            body=body,
            link=link,
            actor=actor,
            savepoint=savepoint,
        )
    elif order.caller_phone and MOBILE_RE.match(order.caller_phone):
        notify_phone(
            phone=order.caller_phone,
            event=event,
            body=f"{title}：{body}",
            actor=actor,
            savepoint=savepoint,
        )


def _tell_unit(
    unit: Department,
    order: WorkOrder,
    event: str,
    title: str,
    *,
    actor: Any,
    role: str = Role.HANDLING_UNIT,
    savepoint: bool = True,
) -> None:
    """In-app notice to the people holding ``role`` at ``unit`` (its handlers by default)."""
    notify_many(
        recipients=department_people_with_roles(unit, [role]),
        event=event,
        title=title,
        body=gettext("工单 %(n)s：%(t)s") % {"n": order.number, "t": order.title},
        link=f"/console/hotline/orders/{order.public_id}/",
        channels=(),
        actor=actor,
        savepoint=savepoint,
    )


def _tell_supervisors(order: WorkOrder, event: str, title: str, *, actor: Any) -> None:
    if order.lead_unit is not None:
        _tell_unit(order.lead_unit, order, event, title, actor=actor, role=Role.SUPERVISOR)


# --- dispatch (派单) -------------------------------------------------------------------------


def _check_units(lead: Department, assisting: Sequence[Department]) -> list[Department]:
    if not lead.active:
        raise ValidationError(errors.UNIT_INVALID, _("主办单位已停用。"))
    seen = {lead.pk}
    clean: list[Department] = []
    for unit in assisting:
        if unit.pk in seen:
            continue
        if not unit.active:
            raise ValidationError(errors.UNIT_INVALID, _("协办单位“%s”已停用。") % unit.name)
        seen.add(unit.pk)
        clean.append(unit)
    return clean


def _dispatch(
    order: WorkOrder,
    *,
    actor: Any,
    lead: Department,
    assisting: Sequence[Department],
    now: datetime,
    note: str = "",
    fresh: list[Event] | None = None,
    number: bool = False,
) -> None:
    """One dispatch round on a locked order, or on one ``fresh``ly created in this
    transaction: then it has no assignments to cancel, and its ``dispatched`` event joins the
    timeline rows ``fresh`` that the registration inserts. ``number``: the order's number is
    still to write (the INSERT could not)."""
    assisting = _check_units(lead, assisting)
    if fresh is None:
        order.assignments.filter(status__in=["pending", "signed", "return_requested"]).update(
            status=Assignment.Status.CANCELLED
        )
    round_number = order.dispatch_count + 1
    by = actor if isinstance(actor, User) else None
    Assignment.objects.bulk_create(
        [
            Assignment(
                order=order,
                round=round_number,
                unit=lead,
                role=Assignment.Role.LEAD,
                dispatched_by=by,
            )
        ]
        + [
            Assignment(
                order=order,
                round=round_number,
                unit=unit,
                role=Assignment.Role.ASSIST,
                dispatched_by=by,
            )
            for unit in assisting
        ]
    )
    limits = clock.limits_for(order.category, order.urgency)
    deadlines = clock.deadlines_from(work_calendar_load(), now, limits)
    order.status = Status.DISPATCHED
    order.lead_unit = lead
    order.dispatch_count = round_number
    order.designated = round_number >= designate_after()
    order.dispatched_at = now
    order.signed_at = None
    order.sign_due = deadlines.sign_due
    order.handle_due = deadlines.handle_due
    order.return_due = deadlines.return_due
    order.warn_due = clock.warn_at(now, deadlines.handle_due, limits.warn_ratio)
    order.warned_at = None
    order.save(
        update_fields=[
            "status",
            "lead_unit",
            "dispatch_count",
            "designated",
            "dispatched_at",
            "signed_at",
            "sign_due",
            "handle_due",
            "return_due",
            "warn_due",
            "warned_at",
            "updated_at",
            *(["number"] if number else []),
        ]
    )
    names = "、".join(u.short_name or u.name for u in assisting)
    event = _event_row(
        order,
        "dispatched",
        actor,
        unit=lead,
        note=(gettext("主办：%(l)s") % {"l": lead.short_name or lead.name})
        + (gettext("；协办：%(a)s") % {"a": names} if names else "")
        + (gettext("（指定承办）") if order.designated else "")
        + (f"；{note}" if note else ""),
    )
    if fresh is None:
        event.save(force_insert=True)
    else:
        fresh.append(event)
    audit_record(
        actor=actor,
        action="hotline.dispatch",
        obj=order,
        reason=note,
        after={
            "round": round_number,
            "lead": lead.code,
            "assisting": [u.code for u in assisting],
            "designated": order.designated,
            "sign_due": order.sign_due,
            "handle_due": order.handle_due,
        },
    )
    # A registration lets any failure end its transaction: its notices need no savepoint.
    savepoint = fresh is None
    _tell_unit(
        lead, order, "hotline.dispatched", gettext("新工单待签收"), actor=actor, savepoint=savepoint
    )
    for unit in assisting:
        _tell_unit(
            unit, order, "hotline.assist", gettext("新协办工单"), actor=actor, savepoint=savepoint
        )


@transaction.atomic
def work_order_dispatch(
    *,
    order: WorkOrder,
    actor: User,
    lead_unit: Department | None = None,
    assisting_units: Sequence[Department] = (),
    category: Category | None = None,
    note: str = "",
) -> WorkOrder:
    """A dispatcher routes a waiting order: the category they confirm (a correction of the
    classifier becomes training data) and the units, by default those of the catalogue."""
    _require_dispatcher(actor)
    locked = _locked(order, Status.REGISTERED)
    if category is not None and category.pk != locked.category_id:
        if locked.suggested_category_id and locked.suggested_category_id != category.pk:
            _event(
                locked,
                "category_corrected",
                actor,
                note=f"{locked.suggested_category} → {category}",
            )
        locked.category = category
        locked.save(update_fields=["category", "updated_at"])
    if locked.category is None:
        raise ValidationError(
            errors.INVALID,
            _("请先确定诉求分类。"),
            problems=[
                {
                    "field": "category",
                    "code": errors.CATEGORY_UNKNOWN,
                    "message": str(_("请先确定诉求分类。")),
                }
            ],
        )
    if lead_unit is None:
        rule = dispatch_rule_for(locked.category, locked.division_code)
        if rule is None:
            raise ValidationError(
                errors.NO_DISPATCH_RULE,
                _("派单目录中没有该分类和区域的承办单位，请手动选择主办单位。"),
            )
        lead_unit = rule.lead_unit
        assisting_units = dispatch_rule_assisting(rule)
    _dispatch(
        locked,
        actor=actor,
        lead=lead_unit,
        assisting=assisting_units,
        now=timezone.now(),
        note=note,
    )
    return locked


@transaction.atomic
def work_order_sign(*, order: WorkOrder, actor: User) -> WorkOrder:
    """签收: the lead unit takes the order (assisting units sign their own part)."""
    locked = _locked(order, Status.DISPATCHED, Status.HANDLING)
    units = _unit_ids(actor)
    assignment = (
        Assignment.objects.select_for_update()
        .filter(order=locked, round=locked.dispatch_count, unit_id__in=units, status="pending")
        .order_by("role")
        .first()
    )
    if assignment is None:
        if locked.assignments.filter(round=locked.dispatch_count, unit_id__in=units).exists():
            raise Conflict(errors.INVALID_TRANSITION, _("该工单已签收。"))
        raise PermissionDenied(errors.NOT_YOUR_ORDER, _("该工单不是派给您单位的。"))
    now = timezone.now()
    assignment.status = Assignment.Status.SIGNED
    assignment.signed_at = now
    assignment.signed_by = actor
    assignment.save(update_fields=["status", "signed_at", "signed_by", "updated_at"])
    if assignment.role == Assignment.Role.LEAD:
        locked.status = Status.HANDLING
        locked.signed_at = now
        locked.save(update_fields=["status", "signed_at", "updated_at"])
    _event(locked, "signed", actor, unit=assignment.unit)
    audit_record(
        actor=actor,
        action="hotline.sign",
        obj=locked,
        after={
            "unit": assignment.unit.code,
            "role": assignment.role,
            "on_time": bool(locked.sign_due and now <= locked.sign_due),
        },
    )
    return locked


@transaction.atomic
def work_order_return_request(*, order: WorkOrder, actor: User, reason: str) -> WorkOrder:
    """退单: the lead unit says the order is not theirs, with the reason, within the return
    time and before the centre designated them."""
    locked = _locked(order, Status.DISPATCHED, Status.HANDLING)
    _require_lead(locked, actor)
    reason = _clean(reason)
    if len(reason) < 5:
        raise ValidationError(
            errors.REASON_REQUIRED, _("请写明退单理由（至少 5 个字），如职责依据。")
        )
    if locked.designated:
        raise Conflict(errors.DESIGNATED, _("该工单已由热线中心指定承办，不能退回。"))
    now = timezone.now()
    if locked.return_due is not None and now > locked.return_due:
        raise Conflict(errors.RETURN_TOO_LATE, _("已超过退单时限，请按期办理。"))
    assignment = Assignment.objects.select_for_update().get(
        order=locked, round=locked.dispatch_count, role=Assignment.Role.LEAD
    )
    assignment.status = Assignment.Status.RETURN_REQUESTED
    assignment.return_reason = reason
    assignment.return_requested_at = now
    assignment.save(update_fields=["status", "return_reason", "return_requested_at", "updated_at"])
    before = locked.status
    locked.status = Status.RETURN_REQUESTED
    locked.save(update_fields=["status", "updated_at"])
    _event(locked, "return_requested", actor, unit=assignment.unit, note=reason)
    audit_record(
        actor=actor,
        action="hotline.return_request",
        obj=locked,
        reason=reason,
        before={"status": before},
    )
    return locked


@transaction.atomic
def work_order_return_review(
    *,
    order: WorkOrder,
    actor: User,
    accept: bool,
    note: str = "",
    lead_unit: Department | None = None,
    assisting_units: Sequence[Department] = (),
) -> WorkOrder:
    """The dispatcher reviews a return: accepted → re-dispatched to ``lead_unit`` (another
    unit); refused → the unit keeps it, with the dispatcher's note."""
    _require_dispatcher(actor)
    locked = _locked(order, Status.RETURN_REQUESTED)
    assignment = Assignment.objects.select_for_update().get(
        order=locked, round=locked.dispatch_count, role=Assignment.Role.LEAD
    )
    note = _clean(note)
    if accept:
        if lead_unit is None:
            raise ValidationError(errors.UNIT_INVALID, _("同意退单时须选择新的主办单位。"))
        if lead_unit.pk == assignment.unit_id:
            raise ValidationError(errors.UNIT_INVALID, _("新的主办单位不能是退单单位。"))
        assignment.status = Assignment.Status.RETURNED
        assignment.note = note
        assignment.save(update_fields=["status", "note", "updated_at"])
        _event(locked, "return_accepted", actor, unit=assignment.unit, note=note)
        audit_record(actor=actor, action="hotline.return_accept", obj=locked, reason=note)
        _dispatch(
            locked,
            actor=actor,
            lead=lead_unit,
            assisting=assisting_units,
            now=timezone.now(),
            note=note,
        )
        return locked
    if len(note) < 2:
        raise ValidationError(errors.REASON_REQUIRED, _("不同意退单时请写明理由。"))
    signed = assignment.signed_at is not None
    assignment.status = Assignment.Status.SIGNED if signed else Assignment.Status.PENDING
    assignment.note = note
    assignment.save(update_fields=["status", "note", "updated_at"])
    locked.status = Status.HANDLING if signed else Status.DISPATCHED
    locked.save(update_fields=["status", "updated_at"])
    _event(locked, "return_refused", actor, unit=assignment.unit, note=note)
    audit_record(actor=actor, action="hotline.return_refuse", obj=locked, reason=note)
    _tell_unit(
        assignment.unit,
        locked,
        "hotline.return_refused",
        gettext("退单未通过，请继续办理"),
        actor=actor,
    )
    return locked


# --- handling (办理, 答复) --------------------------------------------------------------------


@transaction.atomic
def work_order_assist(*, order: WorkOrder, actor: User, note: str) -> WorkOrder:
    """An assisting unit records its part of the work (协办意见)."""
    locked = _locked(order, Status.DISPATCHED, Status.HANDLING, Status.RETURN_REQUESTED)
    note = _clean(note)
    if len(note) < 5:
        raise ValidationError(errors.REASON_REQUIRED, _("请填写协办意见（至少 5 个字）。"))
    assignment = (
        Assignment.objects.select_for_update()
        .filter(
            order=locked,
            round=locked.dispatch_count,
            role=Assignment.Role.ASSIST,
            unit_id__in=_unit_ids(actor),
            status__in=["pending", "signed"],
        )
        .first()
    )
    if assignment is None:
        raise PermissionDenied(errors.NOT_YOUR_ORDER, _("您的单位不是该工单的协办单位。"))
    now = timezone.now()
    assignment.status = Assignment.Status.DONE
    assignment.note = note
    assignment.signed_at = assignment.signed_at or now
    assignment.done_at = now
    assignment.save(update_fields=["status", "note", "signed_at", "done_at", "updated_at"])
    _event(locked, "assisted", actor, unit=assignment.unit, note=note)
    audit_record(
        actor=actor, action="hotline.assist", obj=locked, after={"unit": assignment.unit.code}
    )
    return locked


@transaction.atomic
def work_order_reply(
    *, order: WorkOrder, actor: User, action: str, text: str, outcome: str
) -> Reply:
    """答复: the lead unit says what it did and answers the citizen. The reply check refuses an
    empty, boilerplate or unrelated reply, one with no action and time, and a "no" without an
    explanation, before anything reaches the citizen."""
    locked = _locked(order, Status.HANDLING)
    _require_lead(locked, actor)
    action, text = _clean(action), _clean(text)
    problems = _Problems()
    if outcome not in ("resolved", "explained", "not_resolvable"):
        problems.add("outcome", errors.OUTCOME_INVALID, _("请选择办理结果。"))
    if len(action) < 5:
        problems.add("action", "hotline.action_required", _("请填写办理情况（至少 5 个字）。"))
    if len(text) > 4000 or len(action) > 4000:
        problems.add("text", "hotline.reply_too_long", _("答复不能超过 4000 字。"))
    problems.raise_if_any()
    found = reply_check(
        request_text=f"{locked.title}\n{locked.content}", reply_text=text, outcome=outcome
    )
    if found:
        raise ValidationError(
            errors.REPLY_REFUSED,
            "；".join(str(p.message) for p in found),
            problems=[{"field": "text", "code": p.code, "message": str(p.message)} for p in found],
        )
    now = timezone.now()
    lead = locked.lead_unit
    if lead is None:  # pragma: no cover - _require_lead refused already
        raise PermissionDenied(errors.NOT_YOUR_ORDER, _("只有主办单位的承办人员可以进行此操作。"))
    reply = Reply.objects.create(
        order=locked, unit=lead, author=actor, action=action, text=text, outcome=outcome
    )
    Assignment.objects.filter(
        order=locked, round=locked.dispatch_count, role=Assignment.Role.LEAD
    ).update(status=Assignment.Status.DONE, done_at=now)
    locked.status = Status.REPLIED
    locked.replied_at = now
    locked.reply_on_time = bool(locked.handle_due is None or now <= locked.handle_due)
    locked.outcome = outcome
    locked.save(update_fields=["status", "replied_at", "reply_on_time", "outcome", "updated_at"])
    _event(locked, "replied", actor, unit=locked.lead_unit, note=text)
    audit_record(
        actor=actor,
        action="hotline.reply",
        obj=locked,
        after={"outcome": outcome, "on_time": locked.reply_on_time, "reply": reply.pk},
    )
    body = gettext("工单 %(n)s 的答复：%(t)s") % {"n": locked.number, "t": text[:300]}
    for told in [locked, *locked.merged_orders.all()]:
        _tell_citizen(
            told, "hotline.replied", gettext("您的诉求已答复"), body + _survey(told), actor=actor
        )
        if _survey(told):
            _event(told, "survey_sent", SYSTEM)
    return reply


# --- the SMS survey (短信回访) ----------------------------------------------------------------

# The answer digit of the survey → the national level (5 非常满意 … 1 非常不满意).
SURVEY_LEVELS = {"1": 5, "2": 4, "3": 3, "4": 2, "5": 1}


def _survey(order: WorkOrder) -> str:
    """The survey line appended to the reply SMS of a caller reached by mobile phone."""
    if order.caller_phone and MOBILE_RE.match(order.caller_phone):
        return gettext(
            "请回复数字评价：1非常满意 2满意 3基本满意 4不满意 5非常不满意（不满意请附原因）"
        )
    return ""


def work_order_survey_answer(*, phone: str, text: str, actor: Any) -> ReturnVisit | None:
    """An SMS answer to the survey (from the SMS gateway's callback): the caller's latest
    replied order that was surveyed gets the visit; the words after the digit are the
    comment. None when the text is no answer or no surveyed order waits (the gateway is told
    nothing else: the caller may have written anything)."""
    phone = re.sub(r"\s", "", phone or "")
    text = _clean(text)
    match = re.match(r"^([1-5])\s*[，,、.。:：]?\s*(.*)$", text, re.S)
    if not phone or match is None:
        return None
    order = (
        WorkOrder.objects.filter(
            caller_phone_index=phone_blind_index(phone),
            status=Status.REPLIED,
            events__kind="survey_sent",
        )
        .order_by("-replied_at")
        .first()
    )
    if order is None:
        return None
    level = SURVEY_LEVELS[match.group(1)]
    comment = match.group(2).strip() or (gettext("短信回访：不满意") if level <= 2 else "")
    return work_order_visit(
        order=order,
        actor=actor,
        method=ReturnVisit.Method.SMS,
        satisfaction=level,
        comment=comment,
    )


@transaction.atomic
def work_order_extension_request(*, order: WorkOrder, actor: User, reason: str) -> Extension:
    """The lead unit asks once for more time, before the limit ends."""
    locked = _locked(order, Status.HANDLING, Status.DISPATCHED)
    _require_lead(locked, actor)
    reason = _clean(reason)
    if len(reason) < 5:
        raise ValidationError(errors.REASON_REQUIRED, _("请写明延期理由（至少 5 个字）。"))
    if locked.extended or locked.extensions.filter(status="pending").exists():
        raise Conflict(errors.EXTENSION_USED, _("每个工单只能申请延期一次。"))
    if locked.handle_due is not None and timezone.now() > locked.handle_due:
        raise Conflict(errors.EXTENSION_USED, _("已超过办结时限，不能再申请延期。"))
    lead = locked.lead_unit
    if lead is None:  # pragma: no cover - _require_lead refused already
        raise PermissionDenied(errors.NOT_YOUR_ORDER, _("只有主办单位的承办人员可以进行此操作。"))
    extension = Extension.objects.create(order=locked, unit=lead, requested_by=actor, reason=reason)
    _event(locked, "extension_requested", actor, unit=locked.lead_unit, note=reason)
    audit_record(actor=actor, action="hotline.extension_request", obj=locked, reason=reason)
    return extension


@transaction.atomic
def work_order_extension_decide(
    *, extension: Extension, actor: User, approve: bool, note: str = ""
) -> Extension:
    """The centre (a dispatcher) or the unit's supervisor approves or refuses an extension."""
    locked = _locked(extension.order)
    if not _is_dispatcher(actor):
        _require_supervisor(locked, actor)
    extension = Extension.objects.select_for_update().get(pk=extension.pk)
    if extension.status != Extension.Status.PENDING:
        raise Conflict(errors.INVALID_TRANSITION, _("该延期申请已处理。"))
    now = timezone.now()
    extension.status = Extension.Status.APPROVED if approve else Extension.Status.REFUSED
    extension.decided_by = actor
    extension.decided_at = now
    extension.decision_note = _clean(note)
    if approve and locked.handle_due is not None:
        limits = clock.limits_for(locked.category, locked.urgency)
        extension.new_due = clock.span_end(
            work_calendar_load(), locked.handle_due, limits.extension
        )
        locked.handle_due = extension.new_due
        locked.extended = True
        locked.escalated_at = None
        locked.save(update_fields=["handle_due", "extended", "escalated_at", "updated_at"])
    extension.save()
    _event(
        locked,
        "extension_approved" if approve else "extension_refused",
        actor,
        note=extension.decision_note,
    )
    audit_record(
        actor=actor,
        action="hotline.extension_decide",
        obj=locked,
        after={"approved": approve, "new_due": extension.new_due},
    )
    if locked.lead_unit is not None:
        _tell_unit(
            locked.lead_unit,
            locked,
            "hotline.extension_decided",
            gettext("延期申请已批准") if approve else gettext("延期申请未批准"),
            actor=actor,
        )
    return extension


# --- return visit (回访), closing (办结) ------------------------------------------------------


def _close(order: WorkOrder, *, actor: Any, outcome: str, note: str, now: datetime) -> None:
    order.status = Status.CLOSED
    order.closed_at = now
    order.outcome = outcome
    order.save(update_fields=["status", "closed_at", "outcome", "satisfaction", "updated_at"])
    _event(order, "closed", actor, note=note or str(WorkOrder.Outcome(outcome).label))
    audit_record(
        actor=actor, action="hotline.close", obj=order, reason=note, after={"outcome": outcome}
    )
    for merged in order.merged_orders.select_for_update():
        merged.closed_at = now
        merged.outcome = outcome
        merged.save(update_fields=["closed_at", "outcome", "updated_at"])
        _event(merged, "closed", actor, note=gettext("随主工单 %(n)s 办结") % {"n": order.number})
    # The final return visit already gave the order its one rating (一事一评); otherwise (a
    # supervisor's close, unreachable visits) a citizen with an account may rate it online.
    if (
        order.citizen is not None
        and order.lead_unit is not None
        and not rating_levels_of(subject_kind="work_order", subject_ids=[str(order.public_id)])
    ):
        rating_invite(
            subject_kind="work_order",
            subject_id=str(order.public_id),
            rater=order.citizen,
            department=order.lead_unit,
            title=order.title[:100],
            channel="hotline" if order.channel == WorkOrder.Channel.PHONE else "online",
            actor=actor,
        )


# The return visit's method → the 好差评 channel where the rating was given.
RATING_CHANNELS = {
    ReturnVisit.Method.PHONE: "hotline",
    ReturnVisit.Method.SMS: "sms",
    ReturnVisit.Method.ONLINE: "online",
}


def caller_is_identified(order: WorkOrder) -> bool:
    """实名 for 好差评: the citizen's account, or a caller who gave a name and a phone number
    and did not ask for confidentiality (要求保密), so that a bad review can be followed up."""
    if order.citizen_id is not None:
        return True
    return bool(order.caller_name and order.caller_phone and not order.confidential)


def _rating_record(
    order: WorkOrder, *, actor: Any, method: str, satisfaction: int, comment: str
) -> None:
    """The order's one rating in 好差评 (一事一评): the level of the final visit, the one that
    closes the order or sends it to the supervisor (a first 不满意 that reopens it is not a
    rating). A 差评 opens a rectification for the lead unit there. The visit keeps the whole
    comment; the rating takes what fits."""
    if order.lead_unit is None:
        return
    rating_record(
        subject_kind="work_order",
        subject_id=str(order.public_id),
        department=order.lead_unit,
        title=order.title[:100],
        channel=RATING_CHANNELS[ReturnVisit.Method(method)],
        level=satisfaction,
        comment=comment[:RATING_COMMENT_MAX],
        rater=order.citizen,
        recorded_by=actor,
        real_name=caller_is_identified(order),
    )


@transaction.atomic
def work_order_visit(
    *,
    order: WorkOrder,
    actor: Any,
    method: str,
    reached: bool = True,
    satisfaction: int | None = None,
    resolved: bool | None = None,
    comment: str = "",
) -> ReturnVisit:
    """回访: satisfied (the national levels 5–3) closes the order with the reply's outcome;
    unsatisfied (2–1) reopens it for handling once, then sends it to the supervisor; a caller
    who cannot be reached is tried again, and after the configured attempts it closes. The
    visit that closes the order or sends it to the supervisor is the order's rating in
    好差评 (``_rating_record``)."""
    # A person records a visit as the centre (phone, SMS survey) or rates their own order
    # online; a unit must never rate (and so close) its own work.
    if isinstance(actor, User):
        if method == ReturnVisit.Method.ONLINE:
            if order.citizen_id is None or order.citizen_id != actor.pk:
                raise PermissionDenied(errors.NOT_YOUR_ORDER, _("只能评价您本人提交的工单。"))
        else:
            _require_dispatcher(actor)
    locked = _locked(order, Status.REPLIED)
    comment = _clean(comment)
    if method not in ReturnVisit.Method.values:
        raise ValidationError(errors.SATISFACTION_INVALID, _("回访方式无效。"))
    if reached and (satisfaction is None or not 1 <= satisfaction <= 5):
        raise ValidationError(
            errors.SATISFACTION_INVALID, _("请选择满意度（非常满意至非常不满意）。")
        )
    if reached and satisfaction is not None and satisfaction <= 2 and len(comment) < 2:
        raise ValidationError(errors.SATISFACTION_INVALID, _("不满意时请记录群众的意见。"))
    now = timezone.now()
    visit = ReturnVisit.objects.create(
        order=locked,
        method=method,
        result=ReturnVisit.Result.ANSWERED if reached else ReturnVisit.Result.UNREACHABLE,
        satisfaction=satisfaction if reached else None,
        resolved=resolved if reached else None,
        comment=comment,
        visitor=actor if isinstance(actor, User) else None,
    )
    audit_record(
        actor=actor,
        action="hotline.visit",
        obj=locked,
        after={"method": method, "reached": reached, "satisfaction": satisfaction},
    )
    if not reached:
        _event(locked, "visit_unreachable", actor)
        if locked.visits.filter(result="unreachable").count() >= unreachable_close_after():
            _close(
                locked,
                actor=actor,
                outcome=locked.outcome or "explained",
                note=gettext("多次回访未能联系上"),
                now=now,
            )
        return visit
    if satisfaction is None:  # pragma: no cover - checked above
        raise ValidationError(errors.SATISFACTION_INVALID, _("请选择满意度。"))
    locked.satisfaction = satisfaction
    _event(locked, "visited", actor, note=f"{satisfaction} {comment}".strip())
    if satisfaction >= 3:
        _rating_record(
            locked, actor=actor, method=method, satisfaction=satisfaction, comment=comment
        )
        _close(locked, actor=actor, outcome=locked.outcome or "resolved", note="", now=now)
        return visit
    if locked.reopen_count < reopen_limit():
        limits = clock.limits_for(locked.category, locked.urgency)
        locked.status = Status.HANDLING
        locked.reopen_count += 1
        locked.handle_due = clock.span_end(work_calendar_load(), now, limits.handle)
        locked.warn_due = clock.warn_at(now, locked.handle_due, limits.warn_ratio)
        locked.warned_at = None
        locked.escalated_at = None
        locked.replied_at = None
        locked.save(
            update_fields=[
                "status",
                "reopen_count",
                "handle_due",
                "warn_due",
                "warned_at",
                "escalated_at",
                "replied_at",
                "satisfaction",
                "updated_at",
            ]
        )
        Assignment.objects.filter(
            order=locked, round=locked.dispatch_count, role=Assignment.Role.LEAD
        ).update(status=Assignment.Status.SIGNED)
        _event(locked, "reopened", actor, note=comment)
        if locked.lead_unit is not None:
            _tell_unit(
                locked.lead_unit,
                locked,
                "hotline.reopened",
                gettext("群众不满意，工单重新办理"),
                actor=actor,
            )
        return visit
    locked.status = Status.SUPERVISING
    locked.escalated_at = locked.escalated_at or now
    locked.save(update_fields=["status", "escalated_at", "satisfaction", "updated_at"])
    _event(locked, "supervising", actor, note=comment)
    _rating_record(locked, actor=actor, method=method, satisfaction=satisfaction, comment=comment)
    _tell_supervisors(locked, "hotline.supervising", gettext("群众再次不满意，请督办"), actor=actor)
    return visit


@transaction.atomic
def work_order_close(*, order: WorkOrder, actor: User, outcome: str, note: str) -> WorkOrder:
    """办结 by a person: the supervisor ends a supervised order with its outcome; a dispatcher
    closes a consultation answered on the phone (直接答复) or an order replied to and visited
    without reaching the caller."""
    locked = _locked(order, Status.SUPERVISING, Status.REGISTERED, Status.REPLIED)
    note = _clean(note)
    if outcome not in ("resolved", "explained", "not_resolvable"):
        raise ValidationError(errors.OUTCOME_INVALID, _("请选择办结结果。"))
    if len(note) < 5:
        raise ValidationError(errors.REASON_REQUIRED, _("请写明办结说明（至少 5 个字）。"))
    if locked.status == Status.SUPERVISING:
        _require_supervisor(locked, actor)
    else:
        _require_dispatcher(actor)
    if locked.status == Status.REGISTERED:
        # 直接答复: the centre answered; the answer is the reply the citizen gets.
        locked.replied_at = timezone.now()
        locked.reply_on_time = True
        locked.save(update_fields=["replied_at", "reply_on_time", "updated_at"])
        _tell_citizen(
            locked,
            "hotline.replied",
            gettext("您的诉求已答复"),
            gettext("工单 %(n)s 的答复：%(t)s") % {"n": locked.number, "t": note[:300]},
            actor=actor,
        )
    _close(locked, actor=actor, outcome=outcome, note=note, now=timezone.now())
    return locked


# --- duplicates (并单), emergencies ------------------------------------------------------------


@transaction.atomic
def work_order_merge(*, order: WorkOrder, into: WorkOrder, actor: User) -> WorkOrder:
    """并单: ``order`` repeats ``into`` (open); it is handled once, and its caller gets the
    reply of ``into`` too."""
    _require_dispatcher(actor)
    # Lock both rows in one statement, in id order (a COUNT would take no lock at all), so that
    # two merges of the same pair in opposite directions cannot deadlock.
    list(
        WorkOrder.objects.select_for_update()
        .filter(pk__in=[order.pk, into.pk])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    locked = _locked(order, Status.REGISTERED, Status.DISPATCHED)
    target = _locked(into)
    if target.pk == locked.pk or target.merged_into_id is not None or not target.is_open:
        raise Conflict(errors.MERGE_INVALID, _("只能并入另一张未办结的工单。"))
    locked.status = Status.MERGED
    locked.merged_into = target
    locked.save(update_fields=["status", "merged_into", "updated_at"])
    locked.assignments.filter(status__in=["pending", "signed"]).update(
        status=Assignment.Status.CANCELLED
    )
    _event(locked, "merged", actor, note=target.number)
    _event(target, "merged_in", actor, note=locked.number)
    audit_record(actor=actor, action="hotline.merge", obj=locked, after={"into": target.number})
    _tell_citizen(
        locked,
        "hotline.merged",
        gettext("您的诉求已合并办理"),
        gettext("工单 %(n)s 与相同诉求的工单 %(m)s 合并办理，答复将同时告知您。")
        % {"n": locked.number, "m": target.number},
        actor=actor,
    )
    return locked


@transaction.atomic
def work_order_transfer(*, order: WorkOrder, actor: User, number: str = "") -> WorkOrder:
    """An emergency is transferred at once to 110/119/120/122 (三方通话) and closed here."""
    _require_dispatcher(actor)
    locked = _locked(order, Status.REGISTERED)
    number = number or locked.emergency_number
    if number not in ("110", "119", "120", "122"):
        raise ValidationError(errors.NOT_EMERGENCY, _("只能转接 110、119、120、122。"))
    now = timezone.now()
    locked.status = Status.TRANSFERRED
    locked.emergency_number = number
    locked.outcome = WorkOrder.Outcome.TRANSFERRED
    locked.closed_at = now
    locked.save(update_fields=["status", "emergency_number", "outcome", "closed_at", "updated_at"])
    _event(locked, "transferred", actor, note=number)
    audit_record(actor=actor, action="hotline.transfer", obj=locked, after={"number": number})
    return locked


# --- time limits: warnings and 督办 --------------------------------------------------------


def work_orders_check_deadlines(*, now: datetime | None = None) -> tuple[int, int]:
    """Warn units whose orders near their handling limit and escalate (督办) those past the
    sign or the handling limit: each order is warned once per dispatch round and escalated once
    (an approved extension or a reopening clears the escalation). Returns (warned, escalated).
    Run by the periodic task every minute."""
    now = now or timezone.now()
    warned = escalated = 0
    running = (Status.DISPATCHED, Status.HANDLING, Status.RETURN_REQUESTED)
    for pk in WorkOrder.objects.filter(
        status__in=running, warned_at__isnull=True, warn_due__lte=now, handle_due__gt=now
    ).values_list("pk", flat=True)[:1000]:
        with transaction.atomic():
            order = (
                WorkOrder.objects.select_for_update(of=("self",))
                .select_related("lead_unit")
                .get(pk=pk)
            )
            if order.warned_at is not None or order.status not in running:
                continue
            order.warned_at = now
            order.save(update_fields=["warned_at", "updated_at"])
            _event(order, "warned", SYSTEM)
            audit_record(actor=SYSTEM, action="hotline.warn", obj=order)
            if order.lead_unit is not None:
                _tell_unit(
                    order.lead_unit, order, "hotline.warning", gettext("工单即将超时"), actor=SYSTEM
                )
            warned += 1
    late = WorkOrder.objects.filter(status__in=running, escalated_at__isnull=True).filter(
        _overdue_q(now)
    )
    for pk in late.values_list("pk", flat=True)[:1000]:
        with transaction.atomic():
            order = (
                WorkOrder.objects.select_for_update(of=("self",))
                .select_related("lead_unit")
                .get(pk=pk)
            )
            if order.escalated_at is not None or order.status not in running:
                continue
            order.escalated_at = now
            order.save(update_fields=["escalated_at", "updated_at"])
            what = (
                gettext("超时未签收")
                if order.signed_at is None and order.sign_due and order.sign_due < now
                else gettext("超时未办结")
            )
            _event(order, "escalated", SYSTEM, note=what)
            audit_record(actor=SYSTEM, action="hotline.escalate", obj=order, reason=what)
            _tell_supervisors(
                order, "hotline.escalated", gettext("工单%(w)s，请督办") % {"w": what}, actor=SYSTEM
            )
            if order.lead_unit is not None:
                _tell_unit(
                    order.lead_unit,
                    order,
                    "hotline.escalated",
                    gettext("工单已超时，已督办"),
                    actor=SYSTEM,
                )
            escalated += 1
    return warned, escalated


def _overdue_q(now: datetime) -> Q:
    return Q(signed_at__isnull=True, sign_due__lt=now) | Q(handle_due__lt=now)


# --- mailbox publication ---------------------------------------------------------------------

_PERSONAL = re.compile(r"(?<!\d)(1[3-9]\d{9}|\d{17}[\dXx]|\d{15}|0\d{2,3}-?\d{7,8})(?!\d)")


def redact(text: str, names: Iterable[str] = ()) -> str:
    """The text with phone and ID numbers and the given names masked (公开前去除个人信息)."""
    out = _PERSONAL.sub(lambda m: "*" * len(m.group(0)), text)
    for name in names:
        if name and len(name) >= 2:
            out = out.replace(name, mask_name(name))
    return out


@transaction.atomic
def work_order_publish(
    *, order: WorkOrder, actor: User, public_title: str, public_content: str, public_reply: str
) -> WorkOrder:
    """Publish a mailbox letter and its reply, with the writer's consent and without personal
    data (the texts are refused if a phone or ID number is left in them)."""
    locked = _locked(order, Status.CLOSED)
    if locked.channel != WorkOrder.Channel.MAILBOX or not locked.publish_consent:
        raise Conflict(errors.PUBLISH_INVALID, _("只有来信人同意公开的信箱来信可以公开。"))
    if not _is_dispatcher(actor):
        _require_lead(locked, actor)
    texts = {
        "public_title": _clean(public_title),
        "public_content": _clean(public_content),
        "public_reply": _clean(public_reply),
    }
    problems = _Problems()
    for name, value in texts.items():
        if not value:
            problems.add(name, errors.PUBLISH_INVALID, _("公开的标题、内容和答复都不能为空。"))
        elif _PERSONAL.search(value) or (
            locked.caller_name and len(locked.caller_name) >= 2 and locked.caller_name in value
        ):
            problems.add(
                name, errors.PUBLISH_INVALID, _("公开内容中仍有电话、身份证号或姓名，请先去除。")
            )
    if len(texts["public_title"]) > 100:
        problems.add("public_title", errors.PUBLISH_INVALID, _("标题不能超过 100 字。"))
    problems.raise_if_any()
    locked.public_title = texts["public_title"]
    locked.public_content = texts["public_content"]
    locked.public_reply = texts["public_reply"]
    locked.published_at = timezone.now()
    locked.save(
        update_fields=[
            "public_title",
            "public_content",
            "public_reply",
            "published_at",
            "updated_at",
        ]
    )
    _event(locked, "published", actor)
    audit_record(actor=actor, action="hotline.publish", obj=locked)
    return locked


# --- configuration: classifier models, Open311 keys -------------------------------------------


@transaction.atomic
def classifier_register(
    *,
    name: str,
    path: str,
    actor: Any,
    threshold: float = 0.8,
    metrics: dict[str, Any] | None = None,
) -> ClassifierModel:
    """Record a trained model file (``yiwang hotline train-classifier --out``) so that an
    administrator can switch to it. The file is loaded once here: a broken or foreign file is
    refused before anyone can activate it."""
    from yiwang.hotline.classifier import ClassifierError, classifier_load

    name = _clean(name)
    if not name or len(name) > 100:
        raise ValidationError(errors.INVALID, _("请填写模型名称（不超过 100 字）。"))
    if not 0.0 < threshold <= 1.0:
        raise ValidationError(errors.INVALID, _("自动派单置信度须在 0 到 1 之间。"))
    if ClassifierModel.objects.filter(name=name).exists():
        raise Conflict(errors.INVALID, _("已有同名的分类模型。"))
    try:
        model = classifier_load(path)
    except (ClassifierError, OSError) as error:
        raise ValidationError(errors.INVALID, _("模型文件无法读取：%s") % error) from error
    row = ClassifierModel.objects.create(
        name=name,
        path=str(path),
        labels=list(model.labels),
        metrics=metrics or {},
        auto_dispatch_threshold=threshold,
    )
    audit_record(
        actor=actor,
        action="hotline.classifier_register",
        obj=row,
        after={"name": name, "path": str(path), "labels": len(row.labels)},
    )
    return row


@transaction.atomic
def classifier_activate(*, model: ClassifierModel, actor: Any) -> ClassifierModel:
    """Switch the active classifier (one at a time)."""
    if isinstance(actor, User) and not (
        Role.ADMIN.value in user_roles(actor) or actor.is_superuser
    ):
        raise PermissionDenied("core.forbidden", _("只有系统管理员可以切换分类模型。"))
    before = ClassifierModel.objects.filter(active=True).values_list("name", flat=True).first()
    ClassifierModel.objects.filter(active=True).update(active=False)
    model = ClassifierModel.objects.select_for_update().get(pk=model.pk)
    model.active = True
    model.save(update_fields=["active", "updated_at"])
    audit_record(
        actor=actor,
        action="hotline.classifier_activate",
        obj=model,
        before={"active": before},
        after={"active": model.name},
    )
    return model


@transaction.atomic
def open311_key_create(*, name: str, actor: Any) -> tuple[Open311Key, str]:
    """A new Open311 API key: returns the row and the key, shown once (only its hash stays)."""
    name = _clean(name)
    if not name or len(name) > 100:
        raise ValidationError(errors.INVALID, _("请填写密钥名称（不超过 100 字）。"))
    key = "o311_" + secrets.token_urlsafe(24)
    row = Open311Key.objects.create(
        name=name, key_hash=hashlib.sha256(key.encode()).hexdigest(), prefix=key[:9]
    )
    audit_record(
        actor=actor,
        action="hotline.open311_key_create",
        obj=row,
        after={"name": name, "prefix": row.prefix},
    )
    return row, key


def open311_key_check(key: str) -> Open311Key | None:
    """The active key row for ``key``, or None (the caller answers 403)."""
    if not key:
        return None
    row = Open311Key.objects.filter(
        key_hash=hashlib.sha256(key.encode()).hexdigest(), revoked_at__isnull=True
    ).first()
    if row is not None:
        Open311Key.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    return row


def masked_caller(order: WorkOrder) -> tuple[str, str]:
    return mask_name(order.caller_name), mask_phone(order.caller_phone)


# --- Open311 keys: revocation (added by the Open311 helper o311) ---------------------------


@transaction.atomic
def open311_key_revoke(*, prefix: str, actor: Any) -> Open311Key:
    """Revoke the one active key whose printed prefix is ``prefix``; its client gets 403."""
    rows = list(
        Open311Key.objects.select_for_update().filter(
            prefix=_clean(prefix), revoked_at__isnull=True
        )
    )
    if len(rows) != 1:
        raise ValidationError(
            errors.INVALID,
            _("没有该前缀的有效密钥。") if not rows else _("该前缀对应多个密钥，请联系管理员。"),
        )
    row = rows[0]
    row.revoked_at = timezone.now()
    row.save(update_fields=["revoked_at", "updated_at"])
    audit_record(
        actor=actor, action="hotline.open311_key_revoke", obj=row, before={"prefix": row.prefix}
    )
    return row
