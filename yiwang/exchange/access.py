"""Who may do what in the exchange.

* The catalogue: any staff member reads it (a citizen does not: it describes internal systems).
* Resources (publish, withdraw, edit), decisions on requests, revocations, anomalies and the
  owner's access log: the owner's data officers (数据专员), and administrators.
* Requests for a consumer department: that department's data officers.
* Queries through the gateway: any staff member of the consumer department (window clerks,
  approvers, supervisors, data officers), or an integration key (system user) of it.
* The data bureau (市数据资源局) sees the collaboration figures: its data officers,
  administrators and supervisors.
* A citizen sees who read their own data (selectors.access_log_of_subject) and nothing else.
Objects a user may not see are reported as not found (404), never as forbidden.
"""

from __future__ import annotations

import copy
import hashlib
import time
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.accounts.models import ApiToken, Department, Role, User
from yiwang.accounts.selectors import user_department_ids_for_role, user_is_admin, user_roles
from yiwang.accounts.services import TOKEN_TOUCH_INTERVAL, api_token_authenticate
from yiwang.applications.selectors import staff_department_ids
from yiwang.core.errors import NotFound, PermissionDenied
from yiwang.core.memo import request_memo
from yiwang.exchange.gatewaycache import cached_caller
from yiwang.exchange.models import AccessAnomaly, DataResource, Grant, SharingRequest

STAFF_KINDS = (User.Kind.STAFF, User.Kind.SYSTEM)


def data_officer_department_ids(user: Any) -> set[int]:
    return set(user_department_ids_for_role(user, Role.DATA_OFFICER))


def user_is_staff(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and (
        getattr(user, "kind", None) in STAFF_KINDS or user_is_admin(user)
    )


def user_may_manage_resource(user: Any, resource: DataResource) -> bool:
    return user_is_admin(user) or resource.owner_id in data_officer_department_ids(user)


def user_may_manage_for(user: Any, owner: Department) -> bool:
    return user_is_admin(user) or owner.pk in data_officer_department_ids(user)


def user_may_decide(user: Any, request: SharingRequest) -> bool:
    """The data officers of the resource's owner decide (and administrators)."""
    return user_may_manage_resource(user, request.resource)


def user_may_request_for(user: Any, consumer: Department) -> bool:
    return user_is_admin(user) or consumer.pk in data_officer_department_ids(user)


def query_department_ids(user: Any) -> set[int]:
    if not getattr(user, "is_authenticated", False):
        return set()
    ids = staff_department_ids(user) | data_officer_department_ids(user)
    if getattr(user, "kind", None) in STAFF_KINDS and user.department_id:
        ids.add(user.department_id)
    return ids


def user_may_query_for(user: Any, consumer: Department) -> bool:
    return consumer.pk in query_department_ids(user)


def user_is_data_bureau(user: Any) -> bool:
    if user_is_admin(user) or Role.SUPERVISOR.value in user_roles(user):
        return True
    bureau = Department.objects.filter(code=settings.YIWANG_DATA_BUREAU_CODE).first()
    return bureau is not None and bureau.pk in data_officer_department_ids(user)


# --- resolving objects for an actor --------------------------------------------------------


def _not_found(what: Any) -> NotFound:
    return NotFound("core.not_found", what)


def access_catalogue(user: Any) -> None:
    if not user_is_staff(user):
        raise PermissionDenied("core.forbidden", _("数据资源目录仅供政务工作人员查看。"))


def access_resource_view(user: Any, code: str) -> DataResource:
    """A published resource for any staff member; a draft or withdrawn one for its owner."""
    access_catalogue(user)
    resource = DataResource.objects.select_related("owner").filter(code=code).first()
    if resource is None or (
        resource.status != DataResource.Status.PUBLISHED
        and not user_may_manage_resource(user, resource)
    ):
        raise _not_found(_("找不到该数据资源。"))
    return resource


def access_request_decide(user: Any, request_id: int) -> SharingRequest:
    access_catalogue(user)
    request = (
        SharingRequest.objects.select_related("resource", "resource__owner", "consumer")
        .filter(pk=request_id)
        .first()
    )
    if request is None or not (
        user_may_decide(user, request) or user_may_request_for(user, request.consumer)
    ):
        raise _not_found(_("找不到该共享申请。"))
    if not user_may_decide(user, request):
        raise PermissionDenied("core.forbidden", _("只有提供部门的数据专员可以审核。"))
    return request


def access_request_own(user: Any, request_id: int) -> SharingRequest:
    request = (
        SharingRequest.objects.select_related("resource", "consumer").filter(pk=request_id).first()
    )
    if request is None or not user_may_request_for(user, request.consumer):
        raise _not_found(_("找不到该共享申请。"))
    return request


def access_grant_revoke(user: Any, grant_id: int) -> Grant:
    access_catalogue(user)
    grant = Grant.objects.select_related("resource", "consumer").filter(pk=grant_id).first()
    if grant is None or not user_may_manage_resource(user, grant.resource):
        raise _not_found(_("找不到该共享授权。"))
    return grant


def access_anomaly(user: Any, anomaly_id: int) -> AccessAnomaly:
    anomaly = AccessAnomaly.objects.select_related("resource").filter(pk=anomaly_id).first()
    if anomaly is None or not user_may_manage_resource(user, anomaly.resource):
        raise _not_found(_("找不到该异常调用记录。"))
    return anomaly


# --- the gateway's caller, remembered (gatewaycache.cached_caller) --------------------------

# Columns of a user that are not kept in the cache (Redis in the city topology): the instance
# comes back with them deferred, so code that reads one loads it from the database.
_USER_SECRETS = ("password", "id_number", "phone")


def _user_for_cache(user: User) -> User:
    kept = copy.copy(user)
    for name in _USER_SECRETS:
        kept.__dict__.pop(name, None)
    return kept


# When this process last stamped a token's ``last_used_at`` (monotonic seconds): the stamp
# costs no round trip to the cache on the other calls; each process stamps once a minute.
_touched: dict[str, float] = {}


def gateway_token_user(raw: str) -> User | None:
    """The active user behind a bearer token, as ``api_token_authenticate`` says, remembered
    under the gateway's cache version with the departments the user may query for (one cache
    read for both): revoking the token, deactivating the user or changing their roles
    replaces the version, so the very next call checks the database again. The token's expiry
    is checked at every call, and ``last_used_at`` is still stamped at most once a minute (by
    each process)."""
    raw = (raw or "").strip()
    digest = hashlib.sha256(raw.encode()).hexdigest()
    interval = TOKEN_TOUCH_INTERVAL.total_seconds()

    def load() -> tuple[User, Any, frozenset[int], Department | None] | None:
        user = api_token_authenticate(raw)  # stamps last_used_at itself
        if user is None:
            return None
        _touched[digest] = time.monotonic()
        expires_at = (
            ApiToken.objects.filter(token_hash=digest).values_list("expires_at", flat=True).first()
        )
        ids = frozenset(query_department_ids(user))
        only = Department.objects.filter(pk=next(iter(ids))).first() if len(ids) == 1 else None
        return _user_for_cache(user), expires_at, ids, only

    found = cached_caller(f"token:{digest}", load)
    if found is None:
        return None
    cached, expires_at, ids, only = found
    # The cached instance is shared by the process's calls: the request gets its own.
    user = copy.copy(cached)
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        return None
    if time.monotonic() - _touched.get(digest, -interval) >= interval:
        _touched[digest] = time.monotonic()
        # Conditional, as api_token_authenticate's stamp: many processes write once a minute.
        stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOKEN_TOUCH_INTERVAL)
        ApiToken.objects.filter(stale, token_hash=digest).update(last_used_at=now)
    # consumer_for_query reads these in the same request without another cache read
    request_memo(("exchange.query_departments", user.pk), lambda: ids)
    if only is not None:
        request_memo(("exchange.department", "pk", only.pk), lambda: only)
    return user


def _department(field: str, value: Any) -> Department | None:
    return request_memo(
        ("exchange.department", field, value),
        lambda: cached_caller(
            f"department:{field}:{value}",
            lambda: Department.objects.filter(**{field: value}).first(),
        ),
    )


def consumer_for_query(user: Any, code: str = "") -> Department:
    """The department a query is made for: ``code`` if given, else the user's only one.
    Remembered like the token (``gatewaycache.cached_caller``): no query on the common path."""
    ids: frozenset[int] = frozenset()
    if getattr(user, "is_authenticated", False):
        ids = request_memo(
            ("exchange.query_departments", user.pk),
            lambda: (
                cached_caller(
                    f"query-departments:{user.pk}", lambda: frozenset(query_department_ids(user))
                )
                or frozenset()
            ),
        )
    if code:
        department = _department("code", code)
        if department is None or department.pk not in ids:
            raise PermissionDenied(
                "core.forbidden", _("您不能以部门“%(c)s”的名义调用共享数据。") % {"c": code}
            )
        return department
    if len(ids) == 1:
        only = _department("pk", next(iter(ids)))
        if only is not None:
            return only
    if not ids:
        raise PermissionDenied("core.forbidden", _("只有政务部门工作人员可以调用共享数据。"))
    raise PermissionDenied(
        "exchange.consumer_required", _("您在多个部门任职，请用 consumer 指明以哪个部门调用。")
    )


def consumer_for_request(user: Any, code: str = "") -> Department:
    ids = data_officer_department_ids(user)
    if code:
        department = Department.objects.filter(code=code).first()
        if department is None or not user_may_request_for(user, department):
            raise PermissionDenied("core.forbidden", _("只有申请部门的数据专员可以提出共享申请。"))
        return department
    if len(ids) == 1:
        return Department.objects.get(pk=next(iter(ids)))
    raise PermissionDenied(
        "core.forbidden" if not ids else "exchange.consumer_required",
        _("只有申请部门的数据专员可以提出共享申请；在多个部门任职时请指明部门。"),
    )
