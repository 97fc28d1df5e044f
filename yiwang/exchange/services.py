"""State changes of the exchange: the catalogue, requests, grants and anomalies.

Every function is atomic, checks that the actor may do it, locks the row it changes
(``select_for_update``) so that of two concurrent decisions one wins and the other gets a
``Conflict``, and writes its audit row in the same transaction. The gateway itself lives in
``gateway.py`` and its log in ``accesslog.py``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from yiwang.accounts.models import Department, Role, User
from yiwang.core.audit import audit_record
from yiwang.exchange.access import (
    user_may_decide,
    user_may_manage_for,
    user_may_manage_resource,
    user_may_request_for,
)
from yiwang.exchange.adapters import SourceUnavailable, file_refresh
from yiwang.exchange.errors import ExchangeConflict, ExchangeInvalid, ExchangeRefused
from yiwang.exchange.models import (
    AccessAnomaly,
    AccessLogEntry,
    AdapterKind,
    DataResource,
    Grant,
    MaskKind,
    SharingClass,
    SharingRequest,
    SubjectType,
    UpdateFrequency,
    fields_spec_validate,
)
from yiwang.notifications.services import notify

CODE_RE = re.compile(r"[A-Z0-9][A-Z0-9-]{2,49}")
TEXT_MAX = 2000
UNCONDITIONAL_REASON = "无条件共享"


def _invalid(message: Any, field: str) -> ExchangeInvalid:
    return ExchangeInvalid("exchange.invalid", message, field=field)


def _forbidden() -> ExchangeRefused:
    return ExchangeRefused("core.forbidden", _("您没有办理此项操作的权限。"))


def _text(value: str, field: str, message: Any, *, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise _invalid(message, field)
    if len(text) > TEXT_MAX:
        raise _invalid(_("内容不超过%(n)s字。") % {"n": TEXT_MAX}, field)
    return text


def resource_snapshot(resource: DataResource) -> dict[str, Any]:
    return {
        "code": resource.code,
        "name": resource.name,
        "owner_id": resource.owner_id,
        "status": resource.status,
        "sharing_class": resource.sharing_class,
        "fields": [f["key"] for f in resource.fields],
        "adapter_kind": resource.adapter_kind,
    }


def grant_snapshot(grant: Grant) -> dict[str, Any]:
    return {
        "resource": grant.resource.code,
        "consumer_id": grant.consumer_id,
        "fields": list(grant.fields),
        "masks": dict(grant.masks),
        "item_codes": list(grant.item_codes),
        "valid_until": grant.valid_until.isoformat() if grant.valid_until else None,
        "rate_limit_per_minute": grant.rate_limit_per_minute,
        "revoked": grant.revoked_at is not None,
    }


def _adapter_config_check(kind: str, config: Any) -> dict[str, Any]:
    if kind not in AdapterKind.values:
        raise _invalid(_("接入方式无效。"), "adapter_kind")
    if not isinstance(config, dict):
        raise _invalid(_("接入配置应为对象。"), "adapter_config")
    needed = {"sql": ("url", "table", "key"), "file": ("path", "key"), "http": ("url",)}[kind]
    missing = [k for k in needed if not str(config.get(k, "")).strip()]
    if missing:
        raise _invalid(_("接入配置缺少：%(keys)s") % {"keys": "、".join(missing)}, "adapter_config")
    return dict(config)


# --- the catalogue -------------------------------------------------------------------------


@transaction.atomic
def resource_save(
    *,
    actor: User,
    owner: Department,
    code: str,
    name: str,
    description: str,
    fields: list[dict[str, Any]],
    subject_type: str,
    update_frequency: str,
    legal_basis: str,
    sharing_class: str,
    sharing_condition: str,
    adapter_kind: str,
    adapter_config: dict[str, Any],
    rate_limit_per_minute: int = 600,
    resource: DataResource | None = None,
) -> DataResource:
    """Create a draft resource of ``owner``, or update ``resource``. A published resource
    keeps its code and owner (consumers' grants and the log refer to them)."""
    if not user_may_manage_for(actor, owner):
        raise _forbidden()
    code = (code or "").strip().upper()
    if not CODE_RE.fullmatch(code):
        raise _invalid(_("资源代码由大写字母、数字和连字符组成，3至50位。"), "code")
    name = _text(name, "name", _("请填写资源名称。"))[:200]
    try:
        fields_spec_validate(fields)
    except DjangoValidationError as exc:
        raise _invalid(exc.messages[0], "fields") from exc
    if subject_type not in SubjectType.values:
        raise _invalid(_("查询主体类型无效。"), "subject_type")
    if update_frequency not in UpdateFrequency.values:
        raise _invalid(_("更新周期无效。"), "update_frequency")
    if sharing_class not in SharingClass.values:
        raise _invalid(_("共享类型无效。"), "sharing_class")
    legal_basis = _text(legal_basis, "legal_basis", _("请填写共享依据。"))
    condition = _text(
        sharing_condition,
        "sharing_condition",
        _("有条件共享须写明共享条件，不予共享须写明依据。"),
        required=sharing_class != SharingClass.UNCONDITIONAL,
    )
    config = _adapter_config_check(adapter_kind, adapter_config)
    if not 1 <= int(rate_limit_per_minute) <= 100_000:
        raise _invalid(_("每分钟调用上限应在1至100000之间。"), "rate_limit_per_minute")
    duplicate = DataResource.objects.filter(code=code)
    if resource is not None:
        duplicate = duplicate.exclude(pk=resource.pk)
    if duplicate.exists():
        raise ExchangeConflict("exchange.duplicate", _("资源代码%(c)s已被使用。") % {"c": code})
    values = {
        "code": code,
        "name": name,
        "owner": owner,
        "description": (description or "").strip()[:TEXT_MAX],
        "fields": fields,
        "subject_type": subject_type,
        "update_frequency": update_frequency,
        "legal_basis": legal_basis,
        "sharing_class": sharing_class,
        "sharing_condition": condition,
        "adapter_kind": adapter_kind,
        "adapter_config": config,
        "rate_limit_per_minute": int(rate_limit_per_minute),
    }
    if resource is None:
        created = DataResource.objects.create(**values)
        audit_record(
            actor=actor,
            action="exchange.resource_create",
            obj=created,
            after=resource_snapshot(created),
        )
        return created
    locked = DataResource.objects.select_for_update().get(pk=resource.pk)
    if not user_may_manage_resource(actor, locked):
        raise _forbidden()
    if locked.status != DataResource.Status.DRAFT and (
        code != locked.code or owner.pk != locked.owner_id
    ):
        raise ExchangeConflict("exchange.state", _("已发布过的资源不能更改资源代码或提供部门。"))
    before = resource_snapshot(locked)
    for name_, value in values.items():
        setattr(locked, name_, value)
    locked.save()
    audit_record(
        actor=actor,
        action="exchange.resource_update",
        obj=locked,
        before=before,
        after=resource_snapshot(locked),
    )
    return locked


def _lock_resource(actor: User, resource: DataResource) -> DataResource:
    locked = DataResource.objects.select_for_update().select_related("owner").get(pk=resource.pk)
    if not user_may_manage_resource(actor, locked):
        raise _forbidden()
    return locked


@transaction.atomic
def resource_publish(*, actor: User, resource: DataResource) -> DataResource:
    locked = _lock_resource(actor, resource)
    if locked.status == DataResource.Status.PUBLISHED:
        raise ExchangeConflict("exchange.state", _("该数据资源已发布。"))
    before = resource_snapshot(locked)
    locked.status = DataResource.Status.PUBLISHED
    locked.published_at = timezone.now()
    locked.save(update_fields=["status", "published_at", "updated_at"])
    audit_record(
        actor=actor,
        action="exchange.resource_publish",
        obj=locked,
        before=before,
        after=resource_snapshot(locked),
    )
    return locked


@transaction.atomic
def resource_withdraw(*, actor: User, resource: DataResource, reason: str) -> DataResource:
    """下架: the gateway stops answering; grants stay (they come back if it is republished)."""
    text = _text(reason, "reason", _("请填写下架原因。"))
    locked = _lock_resource(actor, resource)
    if locked.status != DataResource.Status.PUBLISHED:
        raise ExchangeConflict("exchange.state", _("只有已发布的数据资源可以下架。"))
    before = resource_snapshot(locked)
    locked.status = DataResource.Status.WITHDRAWN
    locked.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action="exchange.resource_withdraw",
        obj=locked,
        reason=text,
        before=before,
        after=resource_snapshot(locked),
    )
    return locked


# --- requests and grants -------------------------------------------------------------------


def _fields_check(
    resource: DataResource, fields: Sequence[str], field: str = "fields"
) -> list[str]:
    wanted = list(dict.fromkeys(str(f) for f in fields or []))
    if not wanted:
        raise _invalid(_("请至少选择一个信息项。"), field)
    unknown = sorted(set(wanted) - set(resource.field_keys()))
    if unknown:
        raise _invalid(_("数据资源没有这些信息项：%(f)s") % {"f": "、".join(unknown)}, field)
    return [k for k in resource.field_keys() if k in set(wanted)]


def _codes(item_codes: Sequence[str]) -> list[str]:
    codes = [str(c).strip() for c in item_codes or [] if str(c).strip()]
    if any(len(c) > 50 for c in codes) or len(codes) > 200:
        raise _invalid(_("事项编码无效。"), "item_codes")
    return list(dict.fromkeys(codes))


def _grant_create(
    *,
    actor: User,
    request: SharingRequest,
    fields: list[str],
    masks: dict[str, str],
    item_codes: list[str],
    valid_until: dt.datetime | None,
    rate_limit_per_minute: int,
) -> Grant:
    return Grant.objects.create(
        resource=request.resource,
        consumer=request.consumer,
        request=request,
        fields=fields,
        masks=masks,
        item_codes=item_codes,
        purpose=request.purpose,
        valid_from=timezone.now(),
        valid_until=valid_until,
        rate_limit_per_minute=rate_limit_per_minute,
        granted_by=actor,
    )


def _end_of_day(day: dt.date | None) -> dt.datetime | None:
    if day is None:
        return None
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


@transaction.atomic
def request_create(
    *,
    actor: User,
    consumer: Department,
    resource: DataResource,
    fields: Sequence[str],
    item_codes: Sequence[str],
    purpose: str,
    valid_until: dt.date | None = None,
) -> SharingRequest:
    """A consumer's data officer asks for a resource. An unconditional resource is granted at
    once (granted_by the requester, reason 无条件共享), with no masks: its owner classed it as
    shareable as it is."""
    if not user_may_request_for(actor, consumer):
        raise _forbidden()
    resource = DataResource.objects.select_for_update().get(pk=resource.pk)
    if resource.status != DataResource.Status.PUBLISHED:
        raise ExchangeConflict("exchange.state", _("该数据资源未发布，不能申请。"))
    if resource.sharing_class == SharingClass.NONE:
        raise ExchangeConflict("exchange.not_shared", _("该数据资源属于不予共享类，不能申请。"))
    if resource.owner_id == consumer.pk:
        raise ExchangeConflict("exchange.own_resource", _("本部门的数据资源无需申请。"))
    keys = _fields_check(resource, fields)
    codes = _codes(item_codes)
    text = _text(purpose, "purpose", _("请填写使用用途。"))
    if valid_until is not None and valid_until < timezone.localdate():
        raise _invalid(_("申请使用期限不能早于今天。"), "valid_until")
    if SharingRequest.objects.filter(
        resource=resource, consumer=consumer, status=SharingRequest.Status.PENDING
    ).exists():
        raise ExchangeConflict("exchange.duplicate", _("本部门已有一份待审核的该资源共享申请。"))
    request = SharingRequest.objects.create(
        resource=resource,
        consumer=consumer,
        requested_by=actor,
        fields=keys,
        item_codes=codes,
        purpose=text,
        valid_until=valid_until,
    )
    audit_record(
        actor=actor,
        action="exchange.request_create",
        obj=request,
        after={
            "resource": resource.code,
            "consumer_id": consumer.pk,
            "fields": keys,
            "item_codes": codes,
        },
    )
    if resource.sharing_class == SharingClass.UNCONDITIONAL:
        request.status = SharingRequest.Status.APPROVED
        request.decided_by = actor
        request.decided_at = timezone.now()
        request.decision_reason = UNCONDITIONAL_REASON
        request.save(
            update_fields=["status", "decided_by", "decided_at", "decision_reason", "updated_at"]
        )
        grant = _grant_create(
            actor=actor,
            request=request,
            fields=keys,
            masks={},
            item_codes=codes,
            valid_until=_end_of_day(valid_until),
            rate_limit_per_minute=resource.rate_limit_per_minute,
        )
        audit_record(
            actor=actor,
            action="exchange.grant_create",
            obj=grant,
            reason=UNCONDITIONAL_REASON,
            after=grant_snapshot(grant),
        )
    return request


def _lock_pending(request: SharingRequest) -> SharingRequest:
    locked = (
        SharingRequest.objects.select_for_update()
        .select_related("resource", "consumer")
        .get(pk=request.pk)
    )
    if locked.status != SharingRequest.Status.PENDING:
        raise ExchangeConflict(
            "exchange.state",
            _("该申请已是“%(s)s”状态，不能再处理。")
            % {"s": SharingRequest.Status(locked.status).label},
        )
    return locked


@transaction.atomic
def request_withdraw(*, actor: User, request: SharingRequest) -> SharingRequest:
    if not user_may_request_for(actor, request.consumer):
        raise _forbidden()
    locked = _lock_pending(request)
    locked.status = SharingRequest.Status.WITHDRAWN
    locked.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="exchange.request_withdraw", obj=locked)
    return locked


@transaction.atomic
def request_approve(
    *,
    actor: User,
    request: SharingRequest,
    fields: Sequence[str],
    masks: dict[str, str],
    item_codes: Sequence[str],
    valid_until: dt.datetime | None,
    rate_limit_per_minute: int | None = None,
    reason: str = "",
) -> Grant:
    """The owner's data officer approves: which fields, with which masks, for which items,
    until when. Of two concurrent decisions one wins; the other gets exchange.state (409)."""
    if not user_may_decide(actor, request):
        raise _forbidden()
    locked = _lock_pending(request)
    keys = _fields_check(locked.resource, fields)
    beyond = [k for k in keys if k not in set(locked.fields)]
    if beyond:
        # The owner may narrow a request, never widen it: the consumer justified only these.
        raise _invalid(
            _("只能授权申请范围内的信息项，以下信息项未申请：%(f)s") % {"f": "、".join(beyond)},
            "fields",
        )
    masks = dict(masks or {})
    if not set(masks) <= set(keys):
        raise _invalid(_("脱敏规则只能针对授权的信息项。"), "masks")
    if any(kind not in MaskKind.values for kind in masks.values()):
        raise _invalid(_("脱敏方式无效。"), "masks")
    if valid_until is not None and valid_until <= timezone.now():
        raise _invalid(_("有效期须晚于现在。"), "valid_until")
    limit = int(rate_limit_per_minute or locked.resource.rate_limit_per_minute)
    if not 1 <= limit <= 100_000:
        raise _invalid(_("每分钟调用上限应在1至100000之间。"), "rate_limit_per_minute")
    locked.status = SharingRequest.Status.APPROVED
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.decision_reason = (reason or "").strip()[:TEXT_MAX]
    locked.save(
        update_fields=["status", "decided_by", "decided_at", "decision_reason", "updated_at"]
    )
    grant = _grant_create(
        actor=actor,
        request=locked,
        fields=keys,
        masks=masks,
        item_codes=_codes(item_codes),
        valid_until=valid_until,
        rate_limit_per_minute=limit,
    )
    audit_record(
        actor=actor,
        action="exchange.request_approve",
        obj=locked,
        reason=locked.decision_reason,
        after=grant_snapshot(grant),
    )
    return grant


@transaction.atomic
def request_refuse(*, actor: User, request: SharingRequest, reason: str) -> SharingRequest:
    if not user_may_decide(actor, request):
        raise _forbidden()
    text = _text(reason, "reason", _("拒绝共享申请须说明理由。"))
    locked = _lock_pending(request)
    locked.status = SharingRequest.Status.REFUSED
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.decision_reason = text
    locked.save(
        update_fields=["status", "decided_by", "decided_at", "decision_reason", "updated_at"]
    )
    audit_record(actor=actor, action="exchange.request_refuse", obj=locked, reason=text)
    return locked


@transaction.atomic
def grant_revoke(*, actor: User, grant: Grant, reason: str) -> Grant:
    if not user_may_manage_resource(actor, grant.resource):
        raise _forbidden()
    text = _text(reason, "reason", _("撤销共享授权须说明原因。"))
    locked = Grant.objects.select_for_update().select_related("resource").get(pk=grant.pk)
    if locked.revoked_at is not None:
        raise ExchangeConflict("exchange.state", _("该共享授权已被撤销。"))
    before = grant_snapshot(locked)
    locked.revoked_at = timezone.now()
    locked.revoked_by = actor
    locked.revoke_reason = text
    locked.save(update_fields=["revoked_at", "revoked_by", "revoke_reason", "updated_at"])
    audit_record(
        actor=actor,
        action="exchange.grant_revoke",
        obj=locked,
        reason=text,
        before=before,
        after=grant_snapshot(locked),
    )
    return locked


@transaction.atomic
def anomaly_close(*, actor: User, anomaly: AccessAnomaly, note: str) -> AccessAnomaly:
    if not user_may_manage_resource(actor, anomaly.resource):
        raise _forbidden()
    text = _text(note, "note", _("请填写处理说明。"))
    locked = AccessAnomaly.objects.select_for_update().get(pk=anomaly.pk)
    if locked.closed_at is not None:
        raise ExchangeConflict("exchange.state", _("该异常已处理。"))
    locked.closed_at = timezone.now()
    locked.closed_by = actor
    locked.close_note = text
    locked.save(update_fields=["closed_at", "closed_by", "close_note", "updated_at"])
    audit_record(actor=actor, action="exchange.anomaly_close", obj=locked, reason=text)
    return locked


# --- scheduled work ------------------------------------------------------------------------

ANOMALY_WINDOW = dt.timedelta(hours=24)
ANOMALY_MIN_CALLS = 20
ANOMALY_CASE_FACTOR = 3
ANOMALY_SUBJECTS_WITHOUT_CASE = 20
ANOMALY_ACTOR = "system:exchange-anomaly"


def _data_officers(department_id: int) -> list[User]:
    return list(
        User.objects.filter(
            role_assignments__role=Role.DATA_OFFICER,
            role_assignments__department_id=department_id,
            is_active=True,
        ).distinct()
    )


def anomalies_detect(*, now: dt.datetime | None = None) -> list[AccessAnomaly]:
    """Flag, per resource and consumer, the last 24 hours' reading out of proportion to its
    cases: more calls than max(20, 3 × distinct case numbers), or more than 20 distinct
    subjects read without a case number. Each flag is an AccessAnomaly and an in-app notice
    to the owner's data officers; an open flag for the same pair in the window is not repeated."""
    end = now or timezone.now()
    start = end - ANOMALY_WINDOW
    window = AccessLogEntry.objects.filter(created_at__gte=start, created_at__lt=end)
    pairs = (
        window.values("resource_code", "consumer_id")
        .annotate(
            calls=Count("id"),
            subjects=Count("subject_index", distinct=True),
            cases=Count("case_number", distinct=True, filter=~Q(case_number="")),
            caseless=Count("subject_index", distinct=True, filter=Q(case_number="")),
        )
        .order_by("resource_code", "consumer_id")
    )
    flagged: list[AccessAnomaly] = []
    for pair in pairs:
        over_calls = pair["calls"] > max(ANOMALY_MIN_CALLS, ANOMALY_CASE_FACTOR * pair["cases"])
        over_subjects = pair["caseless"] > ANOMALY_SUBJECTS_WITHOUT_CASE
        if not (over_calls or over_subjects):
            continue
        resource = DataResource.objects.filter(code=pair["resource_code"]).first()
        consumer = Department.objects.filter(pk=pair["consumer_id"]).first()
        if resource is None or consumer is None:
            continue
        with transaction.atomic():
            if AccessAnomaly.objects.filter(
                resource=resource,
                consumer=consumer,
                closed_at__isnull=True,
                window_end__gt=start,
            ).exists():
                continue
            reasons = []
            if over_calls:
                reasons.append(
                    gettext("24小时内调用%(calls)s次，而关联办件仅%(cases)s件")
                    % {"calls": pair["calls"], "cases": pair["cases"]}
                )
            if over_subjects:
                reasons.append(
                    gettext("未提供办件编号读取了%(n)s个不同主体的数据") % {"n": pair["caseless"]}
                )
            detail = "；".join(reasons) + "。"
            anomaly = AccessAnomaly.objects.create(
                resource=resource,
                consumer=consumer,
                window_start=start,
                window_end=end,
                calls=pair["calls"],
                subjects=pair["subjects"],
                cases=pair["cases"],
                detail=detail,
            )
            audit_record(
                actor=ANOMALY_ACTOR,
                action="exchange.anomaly_flag",
                obj=anomaly,
                after={
                    "resource": resource.code,
                    "consumer_id": consumer.pk,
                    "calls": anomaly.calls,
                    "cases": anomaly.cases,
                },
            )
            for officer in _data_officers(resource.owner_id):
                notify(
                    recipient=officer,
                    event="exchange.anomaly",
                    title=gettext("共享数据异常调用：%(c)s") % {"c": consumer.name},
                    body=gettext("%(consumer)s 对“%(resource)s”：%(detail)s请核查。")
                    % {"consumer": consumer.name, "resource": resource.name, "detail": detail},
                    link="/console/exchange/",
                    channels=(),
                    actor=ANOMALY_ACTOR,
                )
            flagged.append(anomaly)
    return flagged


def file_drops_refresh() -> dict[str, int | str]:
    """Reload every published file-drop resource; a drop that cannot be read keeps its old
    snapshot and is reported (the gateway answers from the last good one)."""
    results: dict[str, int | str] = {}
    for resource in DataResource.objects.filter(
        adapter_kind=AdapterKind.FILE, status=DataResource.Status.PUBLISHED
    ).order_by("code"):
        try:
            results[resource.code] = file_refresh(resource)
        except SourceUnavailable as exc:
            results[resource.code] = str(exc.extra.get("cause", exc.code))
    return results
