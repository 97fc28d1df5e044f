"""The exchange gateway: answer a consumer's query only inside an active grant.

Every call (answered, refused or failed) writes exactly one access-log row before it returns
or raises, committed whatever the caller's transaction does (``accesslog``). The order of the
checks: the resource exists and is shared → the key is well-formed → an active grant → the
fields are granted → a case and a purpose for a conditional resource, the consumer's case, the
granted items (a citizen reading their own record with a purpose needs no case: 本人数据)
→ the rate limit → the owner's adapter. The answer carries only the granted
fields, masked as the grant says.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.accounts.models import Department, EnterpriseMember, User
from yiwang.applications.models import Application, Task
from yiwang.core import masking
from yiwang.core.crypto import blind_index
from yiwang.core.db.prepared import fetch_all_prepared
from yiwang.core.errors import DomainError
from yiwang.core.errors import ValidationError as CoreValidationError
from yiwang.core.identifiers import resident_id_parse, uscc_validate
from yiwang.exchange.accesslog import log_append
from yiwang.exchange.adapters import SourceUnavailable, adapter_for
from yiwang.exchange.errors import ExchangeInvalid, ExchangeNotFound, ExchangeRefused, RateLimited
from yiwang.exchange.gatewaycache import cache_version, cached_resource_and_grants
from yiwang.exchange.models import (
    AccessLogEntry,
    DataResource,
    Grant,
    MaskKind,
    SharingClass,
    SubjectType,
)
from yiwang.hotline.selectors import order_unit_takes_part

SUBJECT_PURPOSE = "exchange.subject"
KEY_MAX = 64
PURPOSE_MAX = 500
CASE_MAX = 40
RATE_WINDOW_S = 60


@dataclass(frozen=True)
class QueryResult:
    log_seq: int  # AccessLogEntry.seq of this call
    resource_code: str
    resource_name: str
    owner_label: str
    fields: list[str]  # granted fields returned, in resource order
    records: list[dict[str, Any]]  # only those fields, masked per grant
    fetched_at: datetime

    def answer(self) -> dict[str, Any]:
        """What the caller is told (the API's QueryOut, the command's JSON)."""
        return {
            "log_seq": self.log_seq,
            "resource": self.resource_code,
            "resource_name": self.resource_name,
            "owner": self.owner_label,
            "fields": self.fields,
            "records": self.records,
            "fetched_at": self.fetched_at,
        }


# --- masks ---------------------------------------------------------------------------------

_DISTRICT = re.compile(r"^.*?(?:自治县|自治旗|区|县|旗)")
_CITY = re.compile(r"^.*?市")


def mask_address(value: str | None) -> str:
    """Keep the address up to its district or county (else its city), star the rest:
    ``安徽省六安市金安区三里桥街道12号`` → ``安徽省六安市金安区*********``."""
    text = value or ""
    match = _DISTRICT.match(text) or _CITY.match(text)
    keep = len(match.group(0)) if match and len(match.group(0)) < len(text) else len(text) // 2
    return text[:keep] + masking.MASK * (len(text) - keep)


_MASKS: dict[str, Callable[[str], str]] = {
    MaskKind.ID_NUMBER: masking.mask_id_number,
    MaskKind.PHONE: masking.mask_phone,
    MaskKind.NAME: masking.mask_name,
    MaskKind.USCC: masking.mask_uscc,
    MaskKind.ADDRESS: mask_address,
    MaskKind.HIDE: lambda _value: "***",
}


def mask_value(kind: str, value: Any) -> Any:
    if not kind or value is None or value == "":
        return value
    return _MASKS[kind](str(value))


# --- checks --------------------------------------------------------------------------------


def _refused(code: str, message: Any, **extra: Any) -> ExchangeRefused:
    return ExchangeRefused(f"exchange.{code}", message, **extra)


def key_normalise(subject_type: str, key: str) -> str:
    """The key as the owner stores it, or ExchangeInvalid (422) with the identifier's message."""
    text = (key or "").strip()
    if not text or len(text) > KEY_MAX:
        raise ExchangeInvalid(
            "exchange.invalid_key",
            _("查询主体标识不能为空，且不超过%(n)s个字符。") % {"n": KEY_MAX},
        )
    try:
        if subject_type == SubjectType.PERSON:
            return resident_id_parse(text).number
        if subject_type == SubjectType.ENTERPRISE:
            return uscc_validate(text)
    except CoreValidationError as exc:
        raise ExchangeInvalid("exchange.invalid_key", exc.message) from exc
    return text


def _grants_load(resource: DataResource, consumer_pk: int) -> list[Grant]:
    if resource.status != DataResource.Status.PUBLISHED or (
        resource.sharing_class == SharingClass.NONE
    ):
        return []  # refused before the grants are looked at
    return list(
        Grant.objects.filter(resource=resource, consumer_id=consumer_pk).order_by(
            "-valid_from", "-id"
        )
    )


def _grant_active(grants: list[Grant], now: datetime) -> Grant:
    """The active one of ``grants`` (newest first) at ``now``, or the refusal saying why."""
    for grant in grants:
        if (
            grant.revoked_at is None
            and grant.valid_from <= now
            and (grant.valid_until is None or now < grant.valid_until)
        ):
            return grant
    if not grants:
        raise _refused("no_grant", _("本部门未获得该数据资源的共享授权，请先提出共享申请。"))
    latest = grants[0]
    if latest.revoked_at is not None:
        raise _refused(
            "grant_revoked",
            _("该数据资源的共享授权已被提供部门撤销：%(reason)s")
            % {"reason": latest.revoke_reason},
        )
    if latest.valid_until is not None and latest.valid_until <= now:
        raise _refused(
            "grant_expired",
            _("该数据资源的共享授权已于%(date)s到期，请重新申请。")
            % {"date": timezone.localtime(latest.valid_until).strftime("%Y-%m-%d %H:%M")},
        )
    raise _refused("no_grant", _("该数据资源的共享授权尚未生效。"))


def _fields_check(resource: DataResource, grant: Grant, wanted: Sequence[str] | None) -> list[str]:
    order = resource.field_keys()
    granted = [f for f in order if f in set(grant.fields)]
    if wanted is None or len(wanted) == 0:
        return granted
    unknown = sorted(set(wanted) - set(order))
    if unknown:
        raise ExchangeInvalid(
            "exchange.unknown_field",
            _("数据资源没有这些信息项：%(fields)s") % {"fields": "、".join(unknown)},
            fields=unknown,
        )
    outside = sorted(set(wanted) - set(granted))
    if outside:
        raise _refused(
            "field_not_granted",
            _("这些信息项不在本部门的共享授权范围内：%(fields)s") % {"fields": "、".join(outside)},
            fields=outside,
        )
    return [f for f in order if f in set(wanted)]


@functools.cache
def _case_sql() -> str:
    """One statement for the case check: the application, its item's codes and whether one
    of its tasks is the consumer's (two ORM queries before; table names from the models)."""
    q = connection.ops.quote_name
    app, task = Application._meta, Task._meta
    item = app.get_field("item").related_model._meta
    return (
        f"SELECT a.{q('id')}, a.{q('department_id')}, a.{q('member_versions')},"  # noqa: S608
        f" i.{q('task_code')}, i.{q('catalog_code')},"
        f" EXISTS (SELECT 1 FROM {q(task.db_table)} t WHERE t.{q('application_id')} = a.{q('id')}"
        f" AND t.{q('department_id')} = %s)"
        f" FROM {q(app.db_table)} a INNER JOIN {q(item.db_table)} i"
        f" ON i.{q('id')} = a.{q('item_id')} WHERE a.{q('number')} = %s"
    )


def _case_item_codes(case_number: str, consumer: Department) -> set[str] | None:
    """The item codes of the case if ``consumer`` takes part in it, else None. A case is an
    application (accepting department, a task's department or a bundle member's department)
    or a hotline work order (lead unit or an assigned unit)."""
    # Only the columns the check needs: the whole row would decrypt the applicant's fields.
    rows = fetch_all_prepared(_case_sql(), [consumer.pk, case_number])
    if rows:
        row = rows[0]
        _id, department_id, members_raw, task_code, catalog_code, has_task = row
        members = (json.loads(members_raw) if isinstance(members_raw, str) else members_raw) or []
        takes_part = (
            department_id == consumer.pk
            or bool(has_task)
            or any(m.get("department_id") == consumer.pk for m in members)
        )
        if not takes_part:
            return None
        codes = {task_code, catalog_code}
        codes |= {str(m.get("task_code", "")) for m in members}
        return {c for c in codes if c}
    return set() if order_unit_takes_part(number=case_number, unit_id=consumer.pk) else None


def _own_data(actor: User | None, subject_type: str, key: str) -> bool:
    """本人数据: a resident (or an enterprise's representative) reading their own record, e.g.
    to pre-fill an application form, needs no case: the subject is the one asking."""
    if actor is None or actor.kind not in (User.Kind.CITIZEN, User.Kind.ENTERPRISE):
        return False
    if subject_type == SubjectType.PERSON:
        return (actor.id_number or "").strip().upper() == key
    if subject_type == SubjectType.ENTERPRISE:
        return EnterpriseMember.objects.filter(user=actor, enterprise__uscc=key).exists()
    return False


def _case_check(grant: Grant, consumer: Department, case_number: str, purpose: str) -> None:
    if not case_number or not purpose:
        raise _refused("case_required", _("有条件共享的数据资源须提供办件编号和使用用途。"))
    codes = _case_item_codes(case_number, consumer)
    if codes is None:
        raise _refused(
            "case_not_of_consumer",
            _("办件编号%(n)s不存在，或本部门未参与办理该办件。") % {"n": case_number},
        )
    if grant.item_codes and not codes & set(grant.item_codes):
        raise _refused(
            "item_not_granted",
            _("办件%(n)s所属事项不在本部门的共享授权事项范围内。") % {"n": case_number},
        )


def _rate_count(key: str) -> int:
    """Count this call in the window's counter and return the count."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        # One round trip: INCR creates the counter at 1, EXPIRE bounds it (the cache stores
        # ints as plain Redis integers, so cache.get reads it too).
        full = backend.make_and_validate_key(key)
        client = backend._cache.get_client(full, write=True)
        pipe = client.pipeline()
        pipe.incr(full)
        pipe.expire(full, RATE_WINDOW_S * 2)
        return int(pipe.execute()[0])
    # The counter exists on every call but the window's first: count first, create after.
    try:
        return int(cache.incr(key))
    except ValueError:
        pass
    if cache.add(key, 1, timeout=RATE_WINDOW_S * 2):
        return 1
    try:
        return int(cache.incr(key))  # another thread created it meanwhile
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=RATE_WINDOW_S * 2)
        return 1


def _rate_check(consumer: Department, resource: DataResource, limit: int) -> None:
    # A fixed one-minute window in the shared cache: Redis in the city topology (INCR is
    # atomic across workers); the embedded topology's single process uses its local memory
    # cache, whose incr holds a lock, so the count is exact there too.
    window = int(time.time()) // RATE_WINDOW_S
    count = _rate_count(f"exchange:rate:{consumer.pk}:{resource.pk}:{window}")
    if count > limit:
        raise RateLimited(
            "exchange.rate_limited",
            _("本部门对该数据资源的调用已超过每分钟%(n)s次的上限，请稍后再试。") % {"n": limit},
            limit=limit,
        )


# When this process last marked a resource's refreshed_at (monotonic seconds), under the
# cache version (a resource saved again, or a test's new one with the same id, starts over):
# between two marks no call asks the shared cache whether another process did.
_refreshed_here: dict[tuple[str, int], float] = {}


# --- the call ------------------------------------------------------------------------------


def exchange_query(
    *,
    consumer: Department,
    actor: User | None,
    resource_code: str,
    key: str,
    fields: Sequence[str] | None = None,
    case_number: str = "",
    purpose: str = "",
) -> QueryResult:
    """Answer ``consumer``'s query for ``key`` in ``resource_code`` (see the module docstring).
    Raises refusals (403/404/422/429) or SourceUnavailable (503), each logged first."""
    started = time.monotonic()
    case_number = (case_number or "").strip()[:CASE_MAX]
    purpose = (purpose or "").strip()[:PURPOSE_MAX]
    log: dict[str, Any] = {
        "created_at": timezone.now(),
        "consumer_id": consumer.pk,
        "consumer_label": consumer.name,
        "owner_id": 0,
        "owner_label": "",
        "resource_code": (resource_code or "")[:50],
        "grant_id": None,
        "actor_id": actor.pk if actor is not None else None,
        "actor_label": str(actor) if actor is not None else "",
        "fields": [],
        "case_number": case_number,
        "purpose": purpose,
        "subject_index": "",
        "subject_type": "",
        "result_size": 0,
    }

    def write(outcome: str, code: str = "") -> int:
        log["duration_ms"] = int((time.monotonic() - started) * 1000)
        return log_append({**log, "outcome": outcome, "code": code})

    try:
        resource, grants = cached_resource_and_grants(
            resource_code,
            consumer.pk,
            lambda: DataResource.objects.select_related("owner").filter(code=resource_code).first(),
            lambda found: _grants_load(found, consumer.pk),
        )
        if resource is None:
            raise ExchangeNotFound(
                "exchange.resource_not_found",
                _("数据资源%(code)s不存在。") % {"code": resource_code},
            )
        log.update(
            owner_id=resource.owner_id,
            owner_label=resource.owner.name,
            subject_type=resource.subject_type,
        )
        if resource.status != DataResource.Status.PUBLISHED:
            raise _refused("resource_unavailable", _("该数据资源未发布或已下架，不提供共享。"))
        if resource.sharing_class == SharingClass.NONE:
            raise _refused(
                "not_shared",
                _("该数据资源属于不予共享类：%(why)s") % {"why": resource.sharing_condition},
            )
        normalised = key_normalise(resource.subject_type, key)
        log["subject_index"] = blind_index(normalised, purpose=SUBJECT_PURPOSE)
        if fields:
            log["fields"] = list(fields)
        now = timezone.now()
        grant = _grant_active(grants or [], now)
        log["grant_id"] = grant.pk
        selected = _fields_check(resource, grant, fields)
        log["fields"] = selected
        if resource.sharing_class == SharingClass.CONDITIONAL and not (
            not case_number and purpose and _own_data(actor, resource.subject_type, normalised)
        ):
            _case_check(grant, consumer, case_number, purpose)
        _rate_check(consumer, resource, grant.rate_limit_per_minute)
        raw = adapter_for(resource).lookup(normalised)
    except SourceUnavailable as exc:
        write(AccessLogEntry.Outcome.FAILED, exc.code)
        raise
    except DomainError as exc:
        write(AccessLogEntry.Outcome.REFUSED, exc.code)
        raise
    masks = grant.masks or {}
    records = [{f: mask_value(masks.get(f, ""), row.get(f)) for f in selected} for row in raw]
    log["result_size"] = len(records)
    seq = write(AccessLogEntry.Outcome.ANSWERED)
    # The cached resource keeps its old refreshed_at: a cache key marks the minute's write.
    if (
        resource.adapter_kind != "file"
        and (resource.refreshed_at is None or (now - resource.refreshed_at).total_seconds() > 60)
        and time.monotonic() - _refreshed_here.get((cache_version(), resource.pk), -60.0) >= 60
    ):
        if len(_refreshed_here) > 1000:  # entries of old versions
            _refreshed_here.clear()
        _refreshed_here[(cache_version(), resource.pk)] = time.monotonic()
        if cache.add(f"exchange:refreshed:{resource.pk}", 1, timeout=60):
            DataResource.objects.filter(pk=resource.pk).update(refreshed_at=now)
    return QueryResult(
        log_seq=seq,
        resource_code=resource.code,
        resource_name=resource.name,
        owner_label=resource.owner.name,
        fields=selected,
        records=records,
        fetched_at=now,
    )


__all__ = ["QueryResult", "SourceUnavailable", "exchange_query", "mask_address"]
