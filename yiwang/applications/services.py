"""Writes of the applications app: submission, acceptance, approval tasks, pauses, decision,
conclusion, issuance and withdrawal.

Every service runs in one transaction, locks the rows whose state it changes (the application
first, then its task: one order everywhere), checks the current state and raises a typed error
with a stable code (``errors.py``) when the transition is not allowed, writes its audit row and
its timeline event in the same transaction, and tells people through ``notify`` (delivered
after commit by the outbox). Validation of a submission reports every problem at once and
creates nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePosixPath
from typing import Any

import filetype
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import ForeignKey
from django.db.models.signals import post_save
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from yiwang.accounts.models import Delegation, Department, Role, RoleAssignment, User
from yiwang.accounts.selectors import (
    phone_blind_index,
    user_department_ids_for_role,
    user_roles,
)
from yiwang.accounts.services import delegation_require
from yiwang.applications import errors
from yiwang.applications.clock import Limit, limit_due
from yiwang.applications.hooks import hooks_run
from yiwang.applications.models import Application, ApplicationMaterial, Event, Pause, Task
from yiwang.applications.sources import FetchedMaterial, FetchRequest, material_lookup
from yiwang.applications.workflow import (
    WINDOW_KINDS,
    ReadyTask,
    ready_tasks,
    workflow_dump,
    workflow_for_bundle,
    workflow_for_version,
    workflow_load,
)
from yiwang.catalog.bundles import bundle_form, bundle_materials, bundle_member_versions
from yiwang.catalog.models import Bundle, ItemVersion, Material, ServiceItem
from yiwang.catalog.process import rules_evaluate
from yiwang.catalog.selectors import version_parts
from yiwang.core.audit import audit_record
from yiwang.core.calendar import SHANGHAI, work_calendar_load
from yiwang.core.calendar import Pause as ClockPause
from yiwang.core.db.known import rows_known
from yiwang.core.errors import Conflict, PermissionDenied, ValidationError
from yiwang.core.masking import mask_phone
from yiwang.evaluation.services import rating_invite
from yiwang.notifications.services import notify

SYSTEM_RULES = "system:rules"
SYSTEM_TIMER = "system:timer"
APPLICANT_KINDS = (User.Kind.CITIZEN, User.Kind.ENTERPRISE)
PHONE_RE = re.compile(r"1[3-9]\d{9}")
FACT_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024
DEFAULT_UPLOAD_TYPES = ("application/pdf", "image/jpeg", "image/png")
FORM_MAX_BYTES = 64 * 1024
AUTO_APPROVE_OUTPUTS = ("auto_approve", "eligible")

# Statuses from which the applicant may still withdraw (before a decision).
WITHDRAWABLE = (
    Application.Status.SUBMITTED,
    Application.Status.SUPPLEMENT_REQUESTED,
    Application.Status.ACCEPTED,
    Application.Status.IN_REVIEW,
)

Actor = User | str


# --- inputs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MaterialInput:
    """One material of a submission: an upload (``content`` + ``filename``), a reference the
    applicant got from a government source, or a promise to supply it later (容缺)."""

    material_id: int
    content: bytes | None = None
    filename: str = ""
    promised: bool = False
    reference: str = ""


@dataclass
class Problems:
    """Every problem found in a request, reported at once."""

    items: list[dict[str, str]] = field(default_factory=list)

    def add(self, field_name: str, code: str, message: Any) -> None:
        self.items.append({"field": field_name, "code": code, "message": str(message)})

    def raise_if_any(self) -> None:
        if self.items:
            raise ValidationError(
                errors.INVALID,
                _("申请有 %(n)d 处需要修改：%(list)s")
                % {"n": len(self.items), "list": "；".join(p["message"] for p in self.items)},
                problems=self.items,
            )


@dataclass(frozen=True)
class Requirement:
    """A material the application must carry (for a bundle: one entry of 一套材料)."""

    name: str
    necessity: str
    fetched: bool
    material_ids: tuple[int, ...]


# --- helpers ---------------------------------------------------------------------------------


def _max_upload_bytes() -> int:
    return int(getattr(settings, "YIWANG_APPLICATION_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


def _upload_types() -> tuple[str, ...]:
    return tuple(getattr(settings, "YIWANG_APPLICATION_UPLOAD_TYPES", DEFAULT_UPLOAD_TYPES))


def _label(actor: Actor) -> str:
    return actor if isinstance(actor, str) else str(actor)


def _user(actor: Actor) -> User | None:
    return None if isinstance(actor, str) else actor


def _snapshot(application: Application) -> dict[str, Any]:
    return {
        "number": application.number,
        "status": application.status,
        "decision": application.decision,
        "due_date": application.due_date.isoformat() if application.due_date else None,
    }


def _event(
    application: Application,
    kind: str,
    text: str = "",
    *,
    actor: Actor | None = None,
    department: Department | None = None,
    public: bool = True,
) -> Event:
    return Event.objects.create(
        application=application,
        kind=kind,
        created_at=timezone.now(),
        actor=_user(actor) if actor is not None else None,
        actor_label=_label(actor) if actor is not None else "",
        department=department,
        text=text,
        public=public,
    )


def _tell_applicant(
    application: Application, *, event: str, title: str, body: str, actor: Actor
) -> None:
    """The applicant (and, under 代办, the principal too) hears of the step."""
    link = f"/applications/{application.public_id}/"
    body = gettext("办件编号 %(n)s。%(b)s") % {"n": application.number, "b": body}
    notify(
        recipient=application.applicant,
        event=event,
        title=title,
        body=body,
        link=link,
        actor=actor,
    )
    if application.principal_id and application.principal_id != application.applicant_id:
        notify(
            recipient=application.principal,  # type: ignore[arg-type]
            event=event,
            title=title,
            body=body,
            link=link,
            actor=actor,
        )


def _transition_error(application: Application, wanted: str) -> Conflict:
    return Conflict(
        errors.INVALID_TRANSITION,
        _("办件 %(n)s 当前状态为“%(s)s”，不能%(w)s。")
        % {"n": application.number, "s": application.get_status_display(), "w": wanted},
        status=application.status,
    )


_LOCK_RELATED = tuple(
    relation
    for relation in (
        Application._meta.get_field(name)
        for name in ("version", "bundle", "applicant", "principal", "department", "item")
    )
    if isinstance(relation, ForeignKey)
)


def _lock(application: Application) -> Application:
    """The application's row read again under its lock (it may have moved since the caller
    read it), with its related rows. Those the caller has read already are taken from its
    object, not read again: the lock is about the application's own state, and the version
    (the widest row of all) never changes once published."""
    known = [relation for relation in _LOCK_RELATED if relation.is_cached(application)]
    locked = (
        Application.objects.select_for_update(of=("self",))
        .select_related(*(relation.name for relation in _LOCK_RELATED if relation not in known))
        .get(pk=application.pk)
    )
    for relation in known:
        if getattr(locked, relation.attname) == getattr(application, relation.attname):
            relation.set_cached_value(locked, relation.get_cached_value(application))
    return locked


def _require_role(actor: Actor, role: str, department_id: int, wanted: str) -> None:
    if isinstance(actor, str):
        return  # a named system actor (rules, timer) is trusted
    if department_id not in user_department_ids_for_role(actor, role):
        raise PermissionDenied(
            "core.forbidden",
            _("您没有在该部门%(w)s的权限（需要“%(r)s”角色）。")
            % {"w": wanted, "r": Role(role).label},
        )


def _closed_pauses(application: Application) -> list[ClockPause]:
    return [
        (p.started_at, p.ended_at)
        for p in application.pauses.filter(ended_at__isnull=False).order_by("started_at")
        if p.ended_at is not None
    ]


def _limit(application: Application) -> Limit:
    if application.bundle_id and application.bundle is not None:
        return Limit(application.bundle.promise_limit, application.bundle.promise_unit)
    return Limit(application.version.promise_limit, application.version.promise_unit)


def _recompute_due(application: Application) -> None:
    if application.accepted_at is None:
        return
    deadline = limit_due(
        work_calendar_load(),
        application.accepted_at,
        _limit(application),
        _closed_pauses(application),
    )
    if deadline is None:
        application.due_date, application.due_provisional = None, False
        return
    due = deadline.due
    application.due_date = due.astimezone(SHANGHAI).date() if isinstance(due, datetime) else due
    application.due_provisional = deadline.provisional


# --- requirements and validation ---------------------------------------------------------------


def _situation_codes(version: ItemVersion) -> frozenset[str]:
    return version_parts(version).situation_codes


def requirements_for(
    *, version: ItemVersion | None, bundle: Bundle | None, situation: str = ""
) -> list[Requirement]:
    """The materials an application must carry: the version's materials for ``situation``
    (a material without situations applies to all), or the bundle's de-duplicated list."""
    if bundle is not None:
        return [
            Requirement(
                name=m.name,
                necessity=m.necessity,
                fetched=m.fetched,
                material_ids=tuple(u.material_id for u in m.uses),
            )
            for m in bundle_materials(bundle)
        ]
    if version is None:
        raise ValueError("requirements_for needs a version or a bundle")
    found = []
    for material in _version_materials(version):
        codes = {s.code for s in material.situations.all()}
        if codes and situation not in codes:
            continue
        found.append(
            Requirement(
                name=material.name,
                necessity=material.necessity,
                fetched=material.fetched,
                material_ids=(material.pk,),
            )
        )
    return found


def _allowed_material_ids(
    version: ItemVersion | None, bundle: Bundle | None
) -> dict[int, Material]:
    if bundle is not None:
        versions = [v for _m, v in bundle_member_versions(bundle) if v is not None]
        return {m.pk: m for m in Material.objects.filter(version__in=versions)}
    if version is None:
        raise ValueError("a version or a bundle is needed")
    return {m.pk: m for m in _version_materials(version)}


def _version_materials(version: ItemVersion) -> tuple[Material, ...]:
    """The version's materials with their situations (kept per process for a published
    version: yiwang.catalog.selectors.version_parts)."""
    return version_parts(version).materials


def _sniff(content: bytes) -> str:
    kind = filetype.guess(content[:8192])
    return str(kind.mime) if kind is not None else ""


@dataclass
class _Checked:
    """Materials as validated: what to store for each."""

    uploads: list[tuple[MaterialInput, Material, str]] = field(default_factory=list)
    fetched: list[tuple[Material, FetchedMaterial]] = field(default_factory=list)
    promised: list[Material] = field(default_factory=list)


def _check_materials(
    problems: Problems,
    materials: Sequence[MaterialInput],
    *,
    allowed: dict[int, Material],
    requirements: Sequence[Requirement],
    applicant: User,
    require_complete: bool,
    request: FetchRequest | None = None,
) -> _Checked:
    checked = _Checked()
    provided: set[int] = set()
    attempted: set[int] = set()  # given, even if refused: not reported as missing too
    limit = _max_upload_bytes()
    types = _upload_types()
    for index, given in enumerate(materials):
        where = f"materials[{index}]"
        material = allowed.get(given.material_id)
        if material is None:
            problems.add(
                where,
                "unknown_material",
                _("第 %(i)d 项材料不属于该事项（材料编号 %(id)s）。")
                % {"i": index + 1, "id": given.material_id},
            )
            continue
        attempted.add(material.pk)
        if given.promised:
            if material.necessity != Material.Necessity.TOLERATED:
                problems.add(
                    where,
                    "not_tolerated",
                    _("“%(m)s”不是容缺材料，不能承诺后补。") % {"m": material.name},
                )
                continue
            checked.promised.append(material)
            provided.add(material.pk)
            continue
        if given.content is None:
            problems.add(where, "no_file", _("“%(m)s”没有上传文件。") % {"m": material.name})
            continue
        if not given.content:
            problems.add(where, "empty_file", _("“%(m)s”的文件是空的。") % {"m": material.name})
            continue
        if len(given.content) > limit:
            problems.add(
                where,
                "too_large",
                _("“%(m)s”的文件超过 %(mb)s MB。")
                % {"m": material.name, "mb": round(limit / 1024 / 1024, 1)},
            )
            continue
        mime = _sniff(given.content)
        if mime not in types:
            problems.add(
                where,
                "bad_type",
                _("“%(m)s”的文件类型不支持（只接受 PDF、JPG、PNG）。") % {"m": material.name},
            )
            continue
        checked.uploads.append((given, material, mime))
        provided.add(material.pk)
    if not require_complete:
        return checked
    for requirement in requirements:
        if any(mid in provided or mid in attempted for mid in requirement.material_ids):
            continue
        if requirement.fetched:
            reasons: list[str] = []
            for mid in requirement.material_ids:
                material = allowed.get(mid)
                if material is None:
                    continue
                outcome = material_lookup(material, request or FetchRequest(applicant=applicant))
                if outcome.found is not None:
                    checked.fetched.append((material, outcome.found))
                    break
                reasons += [r for r in outcome.reasons if r not in reasons]
            else:
                problems.add(
                    "materials",
                    "fetch_unavailable",
                    _("“%(m)s”暂时无法通过电子证照或数据共享获取（%(why)s），请上传。")
                    % {"m": requirement.name, "why": "；".join(reasons)}
                    if reasons
                    else _("“%(m)s”暂时无法通过电子证照或数据共享获取，请上传。")
                    % {"m": requirement.name},
                )
            continue
        if requirement.necessity == Material.Necessity.REQUIRED:
            problems.add(
                "materials", "missing", _("缺少必要材料“%(m)s”。") % {"m": requirement.name}
            )
    return checked


def _check_form(problems: Problems, form_data: dict[str, Any], bundle: Bundle | None) -> None:
    if not isinstance(form_data, dict):
        problems.add("form_data", "not_object", _("申请表须为键值对象。"))
        return
    if len(json.dumps(form_data, ensure_ascii=False).encode("utf-8")) > FORM_MAX_BYTES:
        problems.add("form_data", "too_large", _("申请表内容过长。"))
        return
    if bundle is None:
        return
    for merged in bundle_form(bundle):
        value = form_data.get(merged.name)
        empty = value is None or (isinstance(value, str) and not value.strip())
        if merged.required and empty:
            problems.add(
                f"form_data.{merged.name}", "required", _("请填写“%(f)s”。") % {"f": merged.label}
            )
            continue
        if not empty and merged.options and str(value) not in merged.options:
            problems.add(
                f"form_data.{merged.name}",
                "option",
                _("“%(f)s”须从给定选项中选择。") % {"f": merged.label},
            )


def _normalise_phone(phone: str) -> str:
    phone = re.sub(r"[\s-]", "", phone or "")
    return phone[3:] if phone.startswith("+86") else phone


def _request_hash(**parts: Any) -> str:
    text = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _store(content: bytes, mime: str) -> str:
    ext = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}.get(mime, "")
    today = timezone.localdate()
    name = f"applications/{today:%Y/%m}/{hashlib.sha256(content).hexdigest()[:16]}-" + (
        f"{timezone.now().timestamp():.0f}{ext}"
    )
    return str(default_storage.save(name, ContentFile(content)))


def _pinned_members(bundle: Bundle) -> list[dict[str, Any]]:
    members = []
    for member, version in bundle_member_versions(bundle):
        if version is None or version.status != ItemVersion.Status.PUBLISHED:
            continue
        department = member.item.department or bundle.lead_department
        members.append(
            {
                "task_code": member.item.task_code,
                "version_id": version.pk,
                "name": version.name,
                "stage": member.stage,
                "department_id": department.pk,
                "department_code": department.code,
                "department_name": department.name,
                "time_limit": version.promise_limit
                if version.promise_unit == "working_day"
                else None,
            }
        )
    return members


# --- submission ------------------------------------------------------------------------------


def _resolve_parties(
    *,
    actor: User,
    channel: str,
    applicant: User | None,
    principal: User | None,
) -> tuple[User, User | None, Delegation | None]:
    if channel == Application.Channel.WINDOW:
        if Role.WINDOW_CLERK.value not in user_roles(actor):
            raise PermissionDenied(
                errors.NOT_WINDOW_CLERK, _("只有窗口受理人员可以代群众录入窗口申请。")
            )
        if applicant is None or applicant.kind not in APPLICANT_KINDS:
            raise ValidationError(
                errors.INVALID, _("窗口申请须指明实名注册的申请人。"), field="applicant"
            )
    else:
        if actor.kind not in APPLICANT_KINDS:
            raise PermissionDenied(errors.NOT_APPLICANT, _("只有群众和企业用户可以提交申请。"))
        applicant = actor
    delegation = None
    if principal is not None:
        delegation = delegation_require(
            agent=applicant, principal=principal, scope=Delegation.Scope.APPLY
        )
    return applicant, principal, delegation


@dataclass
class _Valid:
    """A request that passed every check: what ``_create`` needs."""

    version: ItemVersion
    members: list[dict[str, Any]]
    department: Department
    checked: _Checked


def _validate_request(
    *,
    item: ServiceItem | None,
    bundle: Bundle | None,
    form_data: dict[str, Any],
    phone: str,
    materials: Sequence[MaterialInput],
    situation: str,
    applicant: User,
    key: str = "",
    principal: User | None = None,
    actor: User | None = None,
) -> _Valid:
    """Every check of a submission; raises one ``applications.invalid`` listing every problem
    (or the error that stops all checking, such as an item that cannot be applied for)."""
    problems = Problems()
    if len(key) > 100:
        problems.add("idempotency_key", "too_long", _("幂等键不能超过 100 个字符。"))
    version: ItemVersion | None = None
    members: list[dict[str, Any]] = []
    if (item is None) == (bundle is None):
        raise ValidationError(errors.INVALID, _("请选择一个事项或一件事。"))
    if bundle is not None:
        if bundle.status != Bundle.Status.PUBLISHED:
            raise ValidationError(errors.NOT_APPLICABLE, _("该一件事尚未发布，不能申请。"))
        members = _pinned_members(bundle)
        if not members:
            raise ValidationError(errors.NOT_APPLICABLE, _("该一件事没有可办理的事项。"))
        version = ItemVersion.objects.select_related("item").get(pk=members[0]["version_id"])
    else:
        # One published version per item (a constraint): no ORDER BY over the wide row.
        version = next(
            iter(
                ItemVersion.objects.select_related("item", "item__department")
                .filter(item=item, status=ItemVersion.Status.PUBLISHED)
                .order_by()[:1]
            ),
            None,
        )
        if version is None or version.external_system:
            raise ValidationError(errors.NOT_APPLICABLE, _("该事项目前不能在本平台申请。"))
        codes = _situation_codes(version)
        if codes and situation not in codes:
            problems.add("situation", "situation", _("请选择办理情形。"))
        elif not codes and situation:
            problems.add("situation", "situation", _("该事项没有办理情形可选。"))
    if not PHONE_RE.fullmatch(phone):
        problems.add(
            "contact_phone", "phone", _("联系电话格式不正确：应为以 1 开头的 11 位手机号码。")
        )
    _check_form(problems, form_data, bundle)
    checked = _check_materials(
        problems,
        materials,
        allowed=_allowed_material_ids(version, bundle),
        requirements=requirements_for(version=version, bundle=bundle, situation=situation),
        applicant=applicant,
        require_complete=True,
        request=FetchRequest(
            applicant=applicant,
            principal=principal,
            actor=actor,
            form_data=form_data if isinstance(form_data, dict) else {},
        ),
    )
    problems.raise_if_any()

    department = bundle.lead_department if bundle is not None else version.item.department
    if department is None:
        raise ValidationError(errors.NOT_APPLICABLE, _("该事项没有设置实施部门，不能申请。"))
    return _Valid(version=version, members=members, department=department, checked=checked)


def application_validate(
    *,
    actor: User,
    item: ServiceItem | None = None,
    bundle: Bundle | None = None,
    form_data: dict[str, Any],
    contact_phone: str,
    materials: Sequence[MaterialInput] = (),
    situation: str = "",
    channel: str = Application.Channel.ONLINE,
    applicant: User | None = None,
    principal: User | None = None,
) -> None:
    """Every check ``application_submit`` makes, creating nothing and storing no file: a page
    or a client shows all problems before the applicant sends the files for good. Returns
    quietly when the submission would be accepted for 预审. Materials a government source
    must provide are checked as far as that is possible without the case: a provider may
    need the case number to read anything (the exchange's ``bind``), so a record that is
    missing or an owner's system that is down is reported by ``application_submit`` only."""
    if channel not in Application.Channel.values:
        raise ValidationError(errors.INVALID, _("未知的申请渠道：%(c)s") % {"c": channel})
    applicant, principal, _delegation = _resolve_parties(
        actor=actor, channel=channel, applicant=applicant, principal=principal
    )
    _validate_request(
        item=item,
        bundle=bundle,
        form_data=form_data,
        phone=_normalise_phone(contact_phone),
        materials=materials,
        situation=situation,
        applicant=applicant,
        principal=principal,
        actor=actor,
    )


def application_submit(
    *,
    actor: User,
    item: ServiceItem | None = None,
    bundle: Bundle | None = None,
    form_data: dict[str, Any],
    contact_phone: str,
    materials: Sequence[MaterialInput] = (),
    situation: str = "",
    channel: str = Application.Channel.ONLINE,
    applicant: User | None = None,
    principal: User | None = None,
    idempotency_key: str = "",
) -> Application:
    """Submit an application (预审) for the published version of ``item`` or for ``bundle``.

    ``actor`` is the applicant online, through the API or at a terminal; at the window it is
    the clerk, and ``applicant`` names the walk-in citizen. ``principal`` files it under an
    active 代办 delegation with the ``apply`` scope. The same ``idempotency_key`` of the same
    applicant returns the first application; with a different payload it is a conflict.
    Every problem of the request is reported at once (``applications.invalid`` with
    ``problems``) and nothing is created."""
    if channel not in Application.Channel.values:
        raise ValidationError(errors.INVALID, _("未知的申请渠道：%(c)s") % {"c": channel})
    applicant, principal, delegation = _resolve_parties(
        actor=actor, channel=channel, applicant=applicant, principal=principal
    )
    phone = _normalise_phone(contact_phone)
    digest = _request_hash(
        item=item.task_code if item else None,
        bundle=bundle.code if bundle else None,
        form=form_data,
        situation=situation,
        phone=phone,
        channel=channel,
        principal=principal.pk if principal else None,
        materials=[
            (
                m.material_id,
                hashlib.sha256(m.content).hexdigest() if m.content is not None else None,
                m.promised,
                m.reference,
            )
            for m in materials
        ],
    )
    key = idempotency_key.strip()
    if key:
        existing = _idempotent(applicant, key, digest)
        if existing is not None:
            return existing

    valid = _validate_request(
        item=item,
        bundle=bundle,
        form_data=form_data,
        phone=phone,
        materials=materials,
        situation=situation,
        applicant=applicant,
        key=key,
        principal=principal,
        actor=actor,
    )
    stored: list[str] = []
    try:
        for given, _material, mime in valid.checked.uploads:
            stored.append(_store(given.content or b"", mime))
        with transaction.atomic():
            application = _create(
                actor=actor,
                version=valid.version,
                bundle=bundle,
                members=valid.members,
                department=valid.department,
                applicant=applicant,
                principal=principal,
                delegation=delegation,
                channel=channel,
                situation=situation,
                form_data=form_data,
                phone=phone,
                key=key,
                digest=digest,
                checked=valid.checked,
                stored=stored,
            )
    except IntegrityError:
        _delete_files(stored)
        if key:
            existing = _idempotent(applicant, key, digest)
            if existing is not None:
                return existing
        raise
    except BaseException:
        _delete_files(stored)
        raise
    return application


def _uploaded(
    application: Application, given: MaterialInput, material: Material, mime: str, name: str
) -> ApplicationMaterial:
    """The (unsaved) row of a file the applicant uploaded and ``_store`` stored as ``name``."""
    content = given.content or b""
    return ApplicationMaterial(
        application=application,
        material=material,
        name=material.name,
        source=ApplicationMaterial.Source.UPLOAD,
        file=name,
        original_name=PurePosixPath(given.filename or "upload").name[:200],
        content_type=mime,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )


def _delete_files(names: Iterable[str]) -> None:
    for name in names:
        default_storage.delete(name)


def _idempotent(applicant: User, key: str, digest: str) -> Application | None:
    existing = Application.objects.filter(applicant=applicant, idempotency_key=key).first()
    if existing is None:
        return None
    if existing.request_hash != digest:
        raise Conflict(
            errors.IDEMPOTENCY_CONFLICT,
            _("该幂等键已用于另一份内容不同的申请（办件编号 %(n)s）。") % {"n": existing.number},
            number=existing.number,
        )
    return existing


def _create(
    *,
    actor: User,
    version: ItemVersion,
    bundle: Bundle | None,
    members: list[dict[str, Any]],
    department: Department,
    applicant: User,
    principal: User | None,
    delegation: Delegation | None,
    channel: str,
    situation: str,
    form_data: dict[str, Any],
    phone: str,
    key: str,
    digest: str,
    checked: _Checked,
    stored: list[str],
) -> Application:
    now = timezone.now()
    application = Application.objects.create(
        number=f"tmp-{uuid.uuid4().hex[:24]}",  # replaced below, once the row has its id
        item=version.item,
        version=version,
        bundle=bundle,
        member_versions=members,
        department=department,
        applicant=applicant,
        principal=principal,
        delegation=delegation,
        submitted_by=actor,
        channel=channel,
        situation=situation,
        form_data=form_data,
        contact_phone=phone,
        contact_phone_index=phone_blind_index(phone),
        contact_phone_last4=phone[-4:],
        idempotency_key=key,
        request_hash=digest,
        submitted_at=now,
    )
    division = str(getattr(settings, "YIWANG_CITY_DIVISION_CODE", "341500"))
    application.number = f"{division}{now.astimezone(SHANGHAI):%Y%m%d}{application.pk:010d}"
    application.save(update_fields=["number"])
    rows: list[ApplicationMaterial] = []
    for (given, material, mime), name in zip(checked.uploads, stored, strict=True):
        rows.append(_uploaded(application, given, material, mime, name))
    for material, found in checked.fetched:
        # A provider binds what it found to the case now that the number exists (e.g. the
        # exchange's case-bound gateway call); its error rolls the submission back.
        reference = found.bind(application) if found.bind is not None else found.reference
        rows.append(
            ApplicationMaterial(
                application=application,
                material=material,
                name=material.name,
                source=ApplicationMaterial.Source.GOVERNMENT,
                reference=reference[:200],
            )
        )
    rows.extend(
        ApplicationMaterial(
            application=application,
            material=material,
            name=material.name,
            source=ApplicationMaterial.Source.PROMISED,
        )
        for material in checked.promised
    )
    ApplicationMaterial.objects.bulk_create(rows)  # one INSERT; ids come back, in this order
    for row in rows:
        # bulk_create sends no signals; other apps' hooks (certificates records the use of
        # an e-certificate) hear of each row as of any row saved.
        post_save.send(
            ApplicationMaterial,
            instance=row,
            created=True,
            update_fields=None,
            raw=False,
            using=row._state.db,
        )
    event = _event(application, "submitted", gettext("申请已提交，等待受理。"), actor=actor)
    # The new case's rows, handed on: the caller's detail page or answer reads none back.
    rows_known(application, "materials", rows)
    rows_known(application, "events", [event])
    rows_known(application, "tasks", [])
    rows_known(application, "pauses", [])
    audit_record(
        actor=actor,
        action="applications.submit",
        obj=application,
        on_behalf_of=principal,
        after={
            **_snapshot(application),
            "channel": channel,
            "applicant_id": applicant.pk,
            "task_code": version.item.task_code,
            "bundle": bundle.code if bundle else None,
            "contact_phone": mask_phone(phone),
            "materials": len(checked.uploads) + len(checked.fetched) + len(checked.promised),
        },
    )
    _tell_applicant(
        application,
        event="application.submitted",
        title=gettext("申请已提交"),
        body=gettext("您的“%(name)s”申请已提交，请等待受理。") % {"name": application.name},
        actor=actor,
    )
    return application


# --- acceptance ------------------------------------------------------------------------------


@transaction.atomic
def application_accept(
    *,
    application: Application,
    actor: User,
    note: str = "",
    tolerated: Sequence[int] = (),
    promised_due: date | None = None,
) -> Application:
    """受理: a window clerk of the application's department accepts it. ``tolerated`` names
    容缺 materials not yet supplied that the applicant promises to bring by ``promised_due``.
    Starts the approval process; DMN rules may approve at once (秒批)."""
    locked = _lock(application)
    _require_role(actor, Role.WINDOW_CLERK, locked.department_id, gettext("受理"))
    if locked.status != Application.Status.SUBMITTED:
        raise _transition_error(locked, gettext("受理"))
    problems = Problems()
    allowed: dict[int, Material] = {}
    have: set[int] = set()
    if tolerated:  # the common acceptance promises nothing: no need to read the materials
        allowed = _allowed_material_ids(
            locked.version if not locked.bundle_id else None, locked.bundle
        )
        have = set(locked.materials.values_list("material_id", flat=True))
    promised: list[Material] = []
    for material_id in tolerated:
        material = allowed.get(material_id)
        if material is None or material.necessity != Material.Necessity.TOLERATED:
            problems.add(
                "tolerated",
                "not_tolerated",
                _("材料 %(id)s 不是该事项的容缺材料。") % {"id": material_id},
            )
        elif material_id not in have:
            promised.append(material)
    if promised and promised_due is None:
        problems.add("promised_due", "required", _("容缺受理须约定补交日期。"))
    if promised_due is not None and promised_due < timezone.localdate():
        problems.add("promised_due", "past", _("补交日期不能早于今天。"))
    problems.raise_if_any()
    for material in promised:
        ApplicationMaterial.objects.create(
            application=locked,
            material=material,
            name=material.name,
            source=ApplicationMaterial.Source.PROMISED,
            promised_due=promised_due,
        )
    before = _snapshot(locked)
    now = timezone.now()
    locked.status = Application.Status.ACCEPTED
    locked.accepted_at, locked.accepted_by = now, actor
    _recompute_due(locked)
    _event(
        locked,
        "accepted",
        gettext("已受理，承诺办结日期 %(d)s。") % {"d": locked.due_date or "—"}
        + (gettext("（容缺受理）") if promised else ""),
        actor=actor,
        department=locked.department,
    )
    if locked.bundle_id and locked.bundle is not None:
        workflow = workflow_for_bundle(locked.bundle, locked.member_versions)
    else:
        workflow = workflow_for_version(locked.version)
    auto = _rules_auto_approve(locked)
    rows_known(locked, "tasks", [])  # the process starts now: no task exists before it
    _advance(locked, workflow, actor=actor, auto=auto)
    locked.save()
    audit_record(
        actor=actor,
        action="applications.accept",
        obj=locked,
        reason=note,
        on_behalf_of=locked.principal,
        before=before,
        after={**_snapshot(locked), "tolerated": [m.pk for m in promised], "auto": auto},
    )
    _tell_applicant(
        locked,
        event="application.accepted",
        title=gettext("申请已受理"),
        body=gettext("您的“%(name)s”申请已受理，承诺办结日期 %(d)s。")
        % {"name": locked.name, "d": locked.due_date or "—"},
        actor=actor,
    )
    if auto and locked.status == Application.Status.APPROVED:
        _conclude(
            locked, actor=SYSTEM_RULES, note=gettext("符合自动审批规则，系统自动办结（秒批）。")
        )
    return locked


def _rules_auto_approve(application: Application) -> bool:
    """Whether the version's DMN table approves the application outright (秒批)."""
    version = application.version
    if application.bundle_id or not version.dmn_xml.strip():
        return False
    facts: dict[str, Any] = {
        k: v
        for k, v in application.form_data.items()
        if isinstance(k, str)
        and FACT_NAME_RE.fullmatch(k)
        and isinstance(v, str | int | float | bool)
    }
    if application.situation:
        facts["situation"] = application.situation
    try:
        result = rules_evaluate(version, facts)
    except ValidationError as exc:
        _event(
            application,
            "rules_failed",
            gettext("自动审批规则未能计算，转人工审批：%(m)s") % {"m": exc.message},
            actor=SYSTEM_RULES,
            public=False,
        )
        return False
    for name in AUTO_APPROVE_OUTPUTS:
        if name in result:
            return result[name] is True
    return False


def _department_for(application: Application, code: str) -> Department:
    if code:
        found = Department.objects.filter(code=code).first()
        if found is not None:
            return found
    return application.department


def _task_due(application: Application, ready: ReadyTask, now: datetime) -> date | None:
    if ready.time_limit is None:
        return application.due_date
    deadline = limit_due(work_calendar_load(), now, Limit(ready.time_limit, "working_day"))
    due = deadline.due if deadline else None
    return due if isinstance(due, date) and not isinstance(due, datetime) else application.due_date


def _advance(
    application: Application, workflow: BpmnWorkflow, *, actor: Actor, auto: bool = False
) -> None:
    """Run the engine until it waits for people: window steps complete themselves, every
    other ready task gets its Task row (once); with ``auto`` (秒批) approval tasks are done by
    the rules. Sets the application's status from where the process stands."""
    now = timezone.now()
    # The case's tasks, read once (the caller holds the case's lock; at acceptance it knows
    # there are none). A ready task stays ready until it runs: its row is made the first time.
    tasks: dict[uuid.UUID, Task] = {t.spiff_task_id: t for t in application.tasks.all()}
    while True:
        workflow.do_engine_steps()
        progressed = False
        for ready, spiff_task in ready_tasks(workflow):
            if ready.kind in WINDOW_KINDS:
                spiff_task.run()
                progressed = True
                continue
            task = tasks.get(ready.spiff_id)
            if task is None:
                task = tasks[ready.spiff_id] = Task.objects.create(
                    application=application,
                    spiff_task_id=ready.spiff_id,
                    bpmn_id=ready.bpmn_id,
                    name=ready.name[:200],
                    department=_department_for(application, ready.department_code),
                    role=ready.role,
                    time_limit_days=ready.time_limit,
                    due_date=_task_due(application, ready, now),
                )
                _event(
                    application,
                    "task_opened",
                    gettext("分送%(d)s审批：%(t)s") % {"d": task.department.name, "t": task.name},
                    department=task.department,
                )
            if auto:
                task.status = Task.Status.DONE
                task.outcome = Task.Outcome.APPROVE
                task.opinion = gettext("符合自动审批规则（秒批）。")
                task.completed_at = now
                task.completed_by_label = SYSTEM_RULES
                task.lock_version += 1
                task.save()
                spiff_task.data["outcome"] = "approve"
                spiff_task.run()
                progressed = True
                _event(
                    application,
                    "auto_approved",
                    gettext("%(d)s：系统自动审批通过。") % {"d": task.department.name},
                    actor=SYSTEM_RULES,
                    department=task.department,
                )
        if not progressed:
            break
    in_order = sorted(tasks.values(), key=lambda t: (t.created_at, t.pk))
    rows_known(application, "tasks", in_order)
    application.workflow_state = workflow_dump(workflow)
    if workflow.completed:
        application.status = Application.Status.APPROVED
        application.decision = Application.Decision.APPROVED
        application.decided_at = now
        _event(application, "approved", gettext("审批通过。"), actor=actor)
    else:
        application.status = Application.Status.IN_REVIEW


@transaction.atomic
def application_refuse(
    *, application: Application, actor: User, reasons: Sequence[str]
) -> Application:
    """不予受理, with every reason (the applicant is told them all)."""
    locked = _lock(application)
    _require_role(actor, Role.WINDOW_CLERK, locked.department_id, gettext("作出不予受理决定"))
    if locked.status not in (
        Application.Status.SUBMITTED,
        Application.Status.SUPPLEMENT_REQUESTED,
    ):
        raise _transition_error(locked, gettext("不予受理"))
    clean = [r.strip() for r in reasons if r and r.strip()]
    if not clean:
        raise ValidationError(errors.REASON_REQUIRED, _("不予受理须说明理由。"))
    before = _snapshot(locked)
    _close_pause(locked, result=gettext("不予受理"))
    locked.status = Application.Status.REFUSED
    locked.refusal_reasons = clean
    locked.decided_at = timezone.now()
    locked.save()
    _event(
        locked,
        "refused",
        gettext("不予受理：%(r)s") % {"r": "；".join(clean)},
        actor=actor,
        department=locked.department,
    )
    audit_record(
        actor=actor,
        action="applications.refuse",
        obj=locked,
        reason="；".join(clean)[:2000],
        before=before,
        after=_snapshot(locked),
    )
    _tell_applicant(
        locked,
        event="application.refused",
        title=gettext("申请不予受理"),
        body=gettext("理由：%(r)s") % {"r": "；".join(clean)},
        actor=actor,
    )
    return locked


def _open_pause(
    application: Application,
    *,
    kind: str,
    reason: str,
    actor: User,
    task: Task | None = None,
) -> Pause:
    if application.pauses.filter(ended_at__isnull=True).exists():
        raise Conflict(errors.PAUSE_OPEN, _("该办件已在暂停计时中（补正或特别程序未结束）。"))
    return Pause.objects.create(
        application=application,
        task=task,
        kind=kind,
        reason=reason,
        started_at=timezone.now(),
        started_by=actor,
    )


def _close_pause(application: Application, *, result: str) -> Pause | None:
    pause = application.pauses.select_for_update().filter(ended_at__isnull=True).first()
    if pause is None:
        return None
    pause.ended_at = timezone.now()
    pause.result = result
    pause.save(update_fields=["ended_at", "result", "updated_at"])
    return pause


def _supplement_request(
    locked: Application, *, actor: User, items: Sequence[str], task: Task | None
) -> Application:
    clean = [i.strip() for i in items if i and i.strip()]
    if not clean:
        raise ValidationError(errors.REASON_REQUIRED, _("请一次性列明需要补正的全部内容。"))
    before = _snapshot(locked)
    _open_pause(locked, kind=Pause.Kind.SUPPLEMENT, reason="；".join(clean), actor=actor, task=task)
    locked.status = Application.Status.SUPPLEMENT_REQUESTED
    locked.supplement_items = clean
    locked.save()
    _event(
        locked,
        "supplement_requested",
        gettext("一次性告知补正：%(i)s") % {"i": "；".join(clean)},
        actor=actor,
        department=task.department if task else locked.department,
    )
    audit_record(
        actor=actor,
        action="applications.request_supplement",
        obj=locked,
        reason="；".join(clean)[:2000],
        before=before,
        after={**_snapshot(locked), "items": clean, "task": str(task.public_id) if task else None},
    )
    _tell_applicant(
        locked,
        event="application.supplement_requested",
        title=gettext("请补正申请材料"),
        body=gettext("需要补正：%(i)s。补正期间暂停计时。") % {"i": "；".join(clean)},
        actor=actor,
    )
    return locked


@transaction.atomic
def application_request_supplement(
    *, application: Application, actor: User, items: Sequence[str]
) -> Application:
    """一次性告知补正 before acceptance: every missing or faulty item at once; the clock (not
    yet started) waits until the applicant supplements."""
    locked = _lock(application)
    _require_role(actor, Role.WINDOW_CLERK, locked.department_id, gettext("告知补正"))
    if locked.status != Application.Status.SUBMITTED:
        raise _transition_error(locked, gettext("告知补正"))
    return _supplement_request(locked, actor=actor, items=items, task=None)


@transaction.atomic
def application_supplement(
    *,
    application: Application,
    actor: User,
    materials: Sequence[MaterialInput] = (),
    form_data: dict[str, Any] | None = None,
    note: str = "",
) -> Application:
    """The applicant supplies what was asked (or a promised 容缺 material): the clock restarts
    and the application returns to acceptance or to its review."""
    locked = _lock(application)
    if actor.pk not in (locked.applicant_id, locked.principal_id):
        raise PermissionDenied(errors.NOT_APPLICANT, _("只有申请人本人可以补正。"))
    pending_promises = locked.materials.filter(
        source=ApplicationMaterial.Source.PROMISED, fulfilled_at__isnull=True
    )
    if locked.status != Application.Status.SUPPLEMENT_REQUESTED and not (
        locked.status == Application.Status.IN_REVIEW and pending_promises.exists()
    ):
        raise _transition_error(locked, gettext("补正"))
    problems = Problems()
    if form_data is not None:
        _check_form(problems, form_data, locked.bundle)
    if not materials and form_data is None:
        problems.add("materials", "empty", _("请上传补正材料或修改申请表。"))
    checked = _check_materials(
        problems,
        materials,
        allowed=_allowed_material_ids(
            locked.version if not locked.bundle_id else None, locked.bundle
        ),
        requirements=(),
        applicant=locked.applicant,
        require_complete=False,
    )
    problems.raise_if_any()
    stored: list[str] = []
    try:
        before = _snapshot(locked)
        for given, material, mime in checked.uploads:
            content = given.content or b""
            name = _store(content, mime)
            stored.append(name)
            _uploaded(locked, given, material, mime, name).save(force_insert=True)
            pending_promises.filter(material=material).update(fulfilled_at=timezone.now())
        if form_data is not None:
            locked.form_data = form_data
        if locked.status == Application.Status.SUPPLEMENT_REQUESTED:
            _close_pause(locked, result=gettext("已补正"))
            locked.status = (
                Application.Status.IN_REVIEW
                if locked.accepted_at is not None
                else Application.Status.SUBMITTED
            )
            locked.supplement_items = []
            _recompute_due(locked)
        locked.save()
        _event(locked, "supplemented", gettext("申请人已补正。"), actor=actor)
        audit_record(
            actor=actor,
            action="applications.supplement",
            obj=locked,
            reason=note,
            before=before,
            after={**_snapshot(locked), "materials": [m.pk for _g, m, _t in checked.uploads]},
        )
    except BaseException:
        _delete_files(stored)
        raise
    return locked


# --- tasks -----------------------------------------------------------------------------------


def _lock_task(task: Task) -> tuple[Application, Task]:
    application = _lock(task.application)
    locked = Task.objects.select_for_update().select_related("department").get(pk=task.pk)
    return application, locked


@transaction.atomic
def task_claim(*, task: Task, actor: User) -> Task:
    """认领: one person of the task's department takes it. A second claimant gets a
    conflict naming who has it."""
    application, locked = _lock_task(task)
    _require_role(actor, locked.role, locked.department_id, gettext("办理该任务"))
    if locked.status == Task.Status.CLAIMED and locked.assignee_id == actor.pk:
        return locked
    if locked.status != Task.Status.OPEN:
        raise Conflict(
            errors.TASK_TAKEN,
            _("该任务已由%(who)s%(what)s，请刷新后查看。")
            % {
                "who": locked.assignee or locked.completed_by_label or gettext("他人"),
                "what": gettext("认领")
                if locked.status == Task.Status.CLAIMED
                else gettext("处理"),
            },
        )
    locked.status, locked.assignee, locked.claimed_at = Task.Status.CLAIMED, actor, timezone.now()
    locked.lock_version += 1
    locked.save()
    audit_record(
        actor=actor,
        action="applications.task_claim",
        obj=locked,
        after={"application": application.number, "status": locked.status},
    )
    return locked


@transaction.atomic
def task_complete(*, task: Task, actor: User, outcome: str, opinion: str) -> Task:
    """同意 or 不同意 with an opinion. The claimant completes it (an unclaimed task is claimed
    in the same step). 不同意 ends the process: the application is rejected and the other
    departments' open tasks are cancelled."""
    application, locked = _lock_task(task)
    _require_role(actor, locked.role, locked.department_id, gettext("办理该任务"))
    if outcome not in (Task.Outcome.APPROVE, Task.Outcome.REFUSE):
        raise ValidationError(errors.INVALID, _("办理结果只能是同意或不同意。"), field="outcome")
    if not opinion.strip():
        raise ValidationError(errors.REASON_REQUIRED, _("请填写办理意见。"), field="opinion")
    if locked.status in (Task.Status.DONE, Task.Status.CANCELLED):
        raise Conflict(errors.TASK_TAKEN, _("该任务已经办结或取消，请刷新后查看。"))
    if locked.status == Task.Status.CLAIMED and locked.assignee_id != actor.pk:
        raise Conflict(errors.TASK_TAKEN, _("该任务已由%(who)s认领。") % {"who": locked.assignee})
    if application.status != Application.Status.IN_REVIEW:
        raise _transition_error(application, gettext("审批"))
    if application.pauses.filter(ended_at__isnull=True).exists():
        raise Conflict(errors.PAUSE_OPEN, _("特别程序或补正尚未结束，暂不能作出决定。"))
    now = timezone.now()
    locked.status, locked.outcome, locked.opinion = Task.Status.DONE, outcome, opinion.strip()
    locked.assignee = locked.assignee or actor
    locked.claimed_at = locked.claimed_at or now
    locked.completed_at, locked.completed_by_label = now, str(actor)
    locked.lock_version += 1
    locked.save()
    before = _snapshot(application)
    workflow = workflow_load(application.workflow_state or {})
    if outcome == Task.Outcome.APPROVE:
        _event(
            application,
            "task_approved",
            gettext("%(d)s审批同意。") % {"d": locked.department.name},
            actor=actor,
            department=locked.department,
        )
        spiff_task = workflow.get_task_from_id(locked.spiff_task_id)
        spiff_task.data["outcome"] = "approve"
        spiff_task.run()
        _advance(application, workflow, actor=actor)
    else:
        _event(
            application,
            "task_refused",
            gettext("%(d)s审批不同意：%(o)s") % {"d": locked.department.name, "o": locked.opinion},
            actor=actor,
            department=locked.department,
        )
        workflow.cancel()
        application.workflow_state = workflow_dump(workflow)
        application.tasks.filter(status__in=[Task.Status.OPEN, Task.Status.CLAIMED]).exclude(
            pk=locked.pk
        ).update(status=Task.Status.CANCELLED, updated_at=now)
        application.status = Application.Status.REJECTED
        application.decision = Application.Decision.REJECTED
        application.decided_at = now
        application.result_note = locked.opinion
        _event(application, "rejected", gettext("审批不予通过。"), actor=actor)
    application.save()
    audit_record(
        actor=actor,
        action="applications.task_complete",
        obj=locked,
        reason=locked.opinion[:2000],
        before=before,
        after={
            **_snapshot(application),
            "task": str(locked.public_id),
            "outcome": outcome,
        },
    )
    if application.status in (Application.Status.APPROVED, Application.Status.REJECTED):
        _tell_applicant(
            application,
            event=f"application.{application.status}",
            title=gettext("审批结果已作出"),
            body=gettext("您的“%(name)s”申请%(r)s，等待办结。")
            % {"name": application.name, "r": application.get_status_display()},
            actor=actor,
        )
    return locked


@transaction.atomic
def task_return(*, task: Task, actor: User, items: Sequence[str]) -> Task:
    """退回补正: the department finds that the materials need correcting. The task goes back
    to the department's pool and the applicant is asked, all at once, for what is missing;
    the clock stops until the applicant supplements."""
    application, locked = _lock_task(task)
    _require_role(actor, locked.role, locked.department_id, gettext("办理该任务"))
    if locked.status in (Task.Status.DONE, Task.Status.CANCELLED):
        raise Conflict(errors.TASK_TAKEN, _("该任务已经办结或取消，请刷新后查看。"))
    if locked.status == Task.Status.CLAIMED and locked.assignee_id != actor.pk:
        raise Conflict(errors.TASK_TAKEN, _("该任务已由%(who)s认领。") % {"who": locked.assignee})
    if application.status != Application.Status.IN_REVIEW:
        raise _transition_error(application, gettext("退回补正"))
    locked.status, locked.assignee, locked.claimed_at = Task.Status.OPEN, None, None
    locked.lock_version += 1
    locked.save()
    _supplement_request(application, actor=actor, items=items, task=locked)
    return locked


@transaction.atomic
def special_procedure_start(*, task: Task, actor: User, kind: str, reason: str) -> Pause:
    """特别程序 (听证、专家评审、现场勘验 …): the clock stops until it ends."""
    application, locked = _lock_task(task)
    _require_role(actor, locked.role, locked.department_id, gettext("启动特别程序"))
    if kind not in Pause.Kind.values or kind == Pause.Kind.SUPPLEMENT:
        raise ValidationError(errors.INVALID, _("未知的特别程序种类：%(k)s") % {"k": kind})
    if not reason.strip():
        raise ValidationError(errors.REASON_REQUIRED, _("请填写启动特别程序的理由或依据。"))
    if application.status != Application.Status.IN_REVIEW or locked.status not in (
        Task.Status.OPEN,
        Task.Status.CLAIMED,
    ):
        raise _transition_error(application, gettext("启动特别程序"))
    pause = _open_pause(application, kind=kind, reason=reason.strip(), actor=actor, task=locked)
    _event(
        application,
        "special_started",
        gettext("%(d)s启动特别程序：%(k)s")
        % {"d": locked.department.name, "k": pause.get_kind_display()},
        actor=actor,
        department=locked.department,
    )
    audit_record(
        actor=actor,
        action="applications.special_procedure_start",
        obj=application,
        reason=reason.strip(),
        after={"kind": kind, "task": str(locked.public_id)},
    )
    _tell_applicant(
        application,
        event="application.special_procedure",
        title=gettext("办件进入特别程序"),
        body=gettext("“%(k)s”期间暂停计时。") % {"k": pause.get_kind_display()},
        actor=actor,
    )
    return pause


@transaction.atomic
def special_procedure_end(*, task: Task, actor: User, result: str) -> Pause:
    application, locked = _lock_task(task)
    _require_role(actor, locked.role, locked.department_id, gettext("结束特别程序"))
    open_pause = application.pauses.filter(ended_at__isnull=True).first()
    if open_pause is None or open_pause.kind == Pause.Kind.SUPPLEMENT:
        raise Conflict(errors.NO_PAUSE, _("该办件没有进行中的特别程序。"))
    if not result.strip():
        raise ValidationError(errors.REASON_REQUIRED, _("请填写特别程序的结果。"))
    pause = _close_pause(application, result=result.strip()) or open_pause
    before = _snapshot(application)
    _recompute_due(application)
    application.save()
    _event(
        application,
        "special_ended",
        gettext("特别程序结束，恢复计时。承诺办结日期 %(d)s。")
        % {"d": application.due_date or "—"},
        actor=actor,
        department=locked.department,
    )
    audit_record(
        actor=actor,
        action="applications.special_procedure_end",
        obj=application,
        reason=result.strip(),
        before=before,
        after=_snapshot(application),
    )
    return pause


# --- decision, conclusion, issuance, withdrawal -----------------------------------------------


# Where the service was delivered, in the evaluation app's vocabulary (an API client is online).
_RATING_CHANNELS: dict[str, str] = {
    Application.Channel.ONLINE: "online",
    Application.Channel.API: "online",
    Application.Channel.WINDOW: "window",
    Application.Channel.TERMINAL: "terminal",
}


def _conclude(application: Application, *, actor: Actor, note: str) -> None:
    before = _snapshot(application)
    application.status = Application.Status.CONCLUDED
    application.concluded_at = timezone.now()
    if note:
        application.result_note = application.result_note or note
    application.save()
    _event(
        application,
        "concluded",
        gettext("已办结：%(r)s。") % {"r": application.get_decision_display()},
        actor=actor,
        department=application.department,
    )
    audit_record(
        actor=actor,
        action="applications.conclude",
        obj=application,
        reason=note,
        before=before,
        after=_snapshot(application),
    )
    _tell_applicant(
        application,
        event="application.concluded",
        title=gettext("办件已办结"),
        body=gettext("您的“%(name)s”申请已办结（%(r)s）。欢迎对本次服务作出评价。")
        % {"name": application.name, "r": application.get_decision_display()},
        actor=actor,
    )
    # 好差评 (国办发〔2019〕51号): every concluded application is offered for rating, in this
    # transaction, so a failing invitation rolls the conclusion back.
    rating_invite(
        subject_kind="application",
        subject_id=str(application.public_id),
        rater=application.applicant,
        principal=application.principal,
        department=application.department,
        item=application.item,
        title=application.name[:100],
        channel=_RATING_CHANNELS[application.channel],
        actor=actor,
    )


@transaction.atomic
def application_conclude(*, application: Application, actor: User, note: str = "") -> Application:
    """办结: the window makes the result (准予 or 不予) final and tells the applicant."""
    locked = _lock(application)
    _require_role(actor, Role.WINDOW_CLERK, locked.department_id, gettext("办结"))
    if locked.status not in (Application.Status.APPROVED, Application.Status.REJECTED):
        raise _transition_error(locked, gettext("办结"))
    _conclude(locked, actor=actor, note=note)
    return locked


@transaction.atomic
def application_issue(
    *,
    application: Application,
    actor: User,
    delivery_method: str,
    tracking_number: str = "",
    address: str = "",
) -> Application:
    """统一出件: window pickup, post (with the tracking number) or electronic delivery. For an
    approved application the ``issuance`` hooks run (the certificates app issues the
    e-certificate there)."""
    locked = _lock(application)
    _require_role(actor, Role.WINDOW_CLERK, locked.department_id, gettext("出件"))
    if locked.status != Application.Status.CONCLUDED:
        raise _transition_error(locked, gettext("出件"))
    problems = Problems()
    if delivery_method not in (
        Application.Delivery.WINDOW,
        Application.Delivery.POST,
        Application.Delivery.ELECTRONIC,
    ):
        problems.add("delivery_method", "delivery", _("请选择送达方式：窗口领取、邮寄或电子送达。"))
    if delivery_method == Application.Delivery.POST:
        if not tracking_number.strip():
            problems.add("tracking_number", "required", _("邮寄送达须填写快递单号。"))
        if not address.strip():
            problems.add("address", "required", _("邮寄送达须填写邮寄地址。"))
    problems.raise_if_any()
    before = _snapshot(locked)
    locked.status = Application.Status.ISSUED
    locked.issued_at = timezone.now()
    locked.delivery_method = delivery_method
    locked.tracking_number = tracking_number.strip()[:40]
    locked.delivery_address = address.strip()
    locked.save()
    if locked.decision == Application.Decision.APPROVED:
        hooks_run("issuance", locked)
    text = {
        Application.Delivery.WINDOW: gettext("结果已在窗口出件。"),
        Application.Delivery.POST: gettext("结果已寄出，快递单号 %(t)s。")
        % {"t": locked.tracking_number},
        Application.Delivery.ELECTRONIC: gettext("结果已电子送达，可在线下载。"),
    }[Application.Delivery(delivery_method)]
    _event(locked, "issued", text, actor=actor, department=locked.department)
    audit_record(
        actor=actor,
        action="applications.issue",
        obj=locked,
        before=before,
        after={**_snapshot(locked), "delivery_method": delivery_method},
    )
    _tell_applicant(
        locked, event="application.issued", title=gettext("办理结果已送达"), body=text, actor=actor
    )
    return locked


@transaction.atomic
def application_withdraw(*, application: Application, actor: User, reason: str = "") -> Application:
    """The applicant (or the principal) withdraws before a decision."""
    locked = _lock(application)
    if actor.pk not in (locked.applicant_id, locked.principal_id):
        raise PermissionDenied(errors.NOT_APPLICANT, _("只有申请人本人可以撤回申请。"))
    if locked.status not in WITHDRAWABLE:
        raise _transition_error(locked, gettext("撤回"))
    before = _snapshot(locked)
    now = timezone.now()
    _close_pause(locked, result=gettext("申请人撤回"))
    locked.tasks.filter(status__in=[Task.Status.OPEN, Task.Status.CLAIMED]).update(
        status=Task.Status.CANCELLED, updated_at=now
    )
    if locked.workflow_state is not None:
        workflow = workflow_load(locked.workflow_state)
        workflow.cancel()
        locked.workflow_state = workflow_dump(workflow)
    locked.status = Application.Status.WITHDRAWN
    locked.withdrawn_at = now
    locked.save()
    _event(locked, "withdrawn", gettext("申请人已撤回申请。"), actor=actor)
    audit_record(
        actor=actor,
        action="applications.withdraw",
        obj=locked,
        reason=reason,
        before=before,
        after=_snapshot(locked),
    )
    _tell_applicant(
        locked,
        event="application.withdrawn",
        title=gettext("申请已撤回"),
        body=gettext("您已撤回“%(name)s”申请。") % {"name": locked.name},
        actor=actor,
    )
    return locked


# --- staff reads ------------------------------------------------------------------------------


@transaction.atomic
def application_read_log(*, actor: User, application: Application, purpose: str) -> None:
    """Staff opened an applicant's personal data (form, contact): one audit row with the
    purpose (DESIGN: every read of another person's data by staff is logged)."""
    audit_record(
        actor=actor,
        action="applications.staff_read",
        obj=application,
        reason=purpose,
        after={"number": application.number, "applicant_id": application.applicant_id},
    )


@transaction.atomic
def case_records_export_log(*, actor: User | str, filters: dict[str, Any], count: int) -> None:
    """The national case export (``yiwang export-cases``) wrote ``count`` records, each with
    the applicant's ID number: one audit row naming the filters, none per application."""
    audit_record(
        actor=actor,
        action="applications.case_export",
        object_type="applications.application",
        reason="国家办件数据上报",
        after={**filters, "count": count},
    )


# --- supervision -----------------------------------------------------------------------------


def _supervisors(department: Department) -> list[User]:
    found = []
    for assignment in RoleAssignment.objects.filter(role=Role.SUPERVISOR).select_related("user"):
        user = assignment.user
        in_scope = department.pk in user_department_ids_for_role(user, Role.SUPERVISOR)
        if user.is_active and user not in found and in_scope:
            found.append(user)
    return found


def tasks_escalate_overdue(*, now: datetime | None = None) -> int:
    """督办: every open or claimed task past its due date is escalated to the supervisors of
    its department, once (``escalated_at``). Tasks of a paused application wait. Returns how
    many were escalated."""
    now = now or timezone.now()
    today = now.astimezone(SHANGHAI).date()
    candidates = list(
        Task.objects.filter(
            status__in=[Task.Status.OPEN, Task.Status.CLAIMED],
            due_date__lt=today,
            escalated_at__isnull=True,
            application__status=Application.Status.IN_REVIEW,
        ).values_list("pk", flat=True)
    )
    escalated = 0
    for pk in candidates:
        with transaction.atomic():
            task = (
                Task.objects.select_for_update()
                .select_related("application", "department")
                .filter(pk=pk, escalated_at__isnull=True)
                .first()
            )
            if task is None:
                continue
            task.escalated_at = now
            task.save(update_fields=["escalated_at", "updated_at"])
            _event(
                task.application,
                "escalated",
                gettext("%(t)s已超期，已提交督办。") % {"t": task.name},
                actor=SYSTEM_TIMER,
                department=task.department,
                public=False,
            )
            for supervisor in _supervisors(task.department):
                notify(
                    recipient=supervisor,
                    event="application.task_overdue",
                    title=gettext("审批任务超期督办"),
                    body=gettext("办件 %(n)s 的“%(t)s”已超过办理期限（%(d)s）。")
                    % {"n": task.application.number, "t": task.name, "d": task.due_date},
                    link=f"/console/tasks/{task.public_id}/",
                    channels=(),
                    actor=SYSTEM_TIMER,
                )
            audit_record(
                actor=SYSTEM_TIMER,
                action="applications.task_escalate",
                obj=task,
                after={"application": task.application.number, "due_date": task.due_date},
            )
            escalated += 1
    return escalated
