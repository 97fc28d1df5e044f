"""Writes of the accounts app. Every function is atomic and writes its audit row in the same
transaction, so a refused request changes nothing and leaves no audit row."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.accounts import errors
from yiwang.accounts.models import (
    ApiToken,
    Delegation,
    Department,
    Enterprise,
    EnterpriseMember,
    Role,
    RoleAssignment,
    User,
)
from yiwang.accounts.selectors import (
    id_number_blind_index,
    phone_blind_index,
    user_is_admin,
    user_roles,
)
from yiwang.core.audit import audit_record
from yiwang.core.errors import Conflict, PermissionDenied, ValidationError
from yiwang.core.identifiers import resident_id_parse, uscc_validate
from yiwang.core.masking import mask_id_number, mask_name, mask_phone

PHONE_RE = re.compile(r"1[3-9]\d{9}")

# Roles that belong to a department's work; the others are city-wide.
CITY_WIDE_ROLES = frozenset({Role.AUDITOR.value, Role.ADMIN.value})
# A citizen's role comes from the account kind, never from a grant.
UNGRANTABLE_ROLES = frozenset({Role.CITIZEN.value})

_CALENDAR_EDIT = (
    "core.view_calendarday",
    "core.add_calendarday",
    "core.change_calendarday",
    "core.delete_calendarday",
    "core.view_calendaryear",
    "core.add_calendaryear",
    "core.change_calendaryear",
)
_TRAIL_READ = ("core.view_auditentry", "core.view_outboxmessage")
_ACCOUNTS_MODELS = ("department", "user", "enterprise", "roleassignment", "delegation", "apitoken")
# What each role may do in the Django admin. The admin is where these roles work until their own
# consoles exist; the admin's own ModelAdmin rules (read-only audit rows, services for role
# changes) still apply on top.
ROLE_ADMIN_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Role.AUDITOR.value: (
        *_TRAIL_READ,
        "accounts.view_roleassignment",
        "accounts.view_delegation",
    ),
    Role.CATALOG_ADMIN.value: _CALENDAR_EDIT,
    Role.ADMIN.value: (
        *_CALENDAR_EDIT,
        *_TRAIL_READ,
        *(f"accounts.{verb}_{model}" for model in _ACCOUNTS_MODELS for verb in ("view", "change")),
        "accounts.add_department",
        "accounts.add_roleassignment",
        "accounts.delete_roleassignment",
    ),
}

TOKEN_PREFIX = "yw_"  # noqa: S105 (a public marker, not a secret)
# Shown in lists so that a person can tell their tokens apart; too short to help a guesser.
TOKEN_DISPLAY_CHARS = 10
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


# --- helpers -------------------------------------------------------------------------------


def _require_admin(actor: Any) -> None:
    if not user_is_admin(actor):
        raise PermissionDenied(errors.NOT_ADMIN, _("只有系统管理员可以执行此操作。"))


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationError(
            errors.PASSWORD_WEAK,
            _("密码不符合要求：%(problems)s") % {"problems": "；".join(exc.messages)},
        ) from exc


def _check_username_free(username: str) -> None:
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(errors.USERNAME_TAKEN, _("用户名“%(u)s”已被使用。") % {"u": username})


def _normalise_phone(phone: str) -> str:
    phone = re.sub(r"[\s-]", "", phone or "")
    if phone.startswith("+86"):
        phone = phone[3:]
    if not PHONE_RE.fullmatch(phone):
        raise ValidationError(
            errors.PHONE_INVALID, _("手机号码格式不正确：应为以 1 开头的 11 位数字。")
        )
    return phone


def user_snapshot(user: User) -> dict[str, Any]:
    """What the audit trail keeps of a user: never a full ID number or phone number."""
    return {
        "username": user.username,
        "kind": user.kind,
        "real_name": mask_name(user.real_name) if user.real_name else "",
        "id_number": mask_id_number(user.id_number) if user.id_number else "",
        "phone": mask_phone(user.phone) if user.phone else "",
        "department_id": user.department_id,
        "is_active": user.is_active,
    }


def _delegation_snapshot(d: Delegation) -> dict[str, Any]:
    return {
        "principal_id": d.principal_id,
        "agent_id": d.agent_id,
        "scopes": list(d.scopes),
        "starts_at": d.starts_at.isoformat(),
        "expires_at": d.expires_at.isoformat(),
        "revoked_at": d.revoked_at.isoformat() if d.revoked_at else None,
        "note": d.note,
    }


def _role_snapshot(a: RoleAssignment) -> dict[str, Any]:
    return {
        "user_id": a.user_id,
        "role": a.role,
        "department_id": a.department_id,
        "include_subtree": a.include_subtree,
    }


# --- citizens, enterprises, staff ----------------------------------------------------------


@transaction.atomic
def citizen_register(
    *, username: str, password: str, real_name: str, id_number: str, phone: str
) -> User:
    """A citizen signs up with their real name, resident ID number and mobile number. The ID
    number is checked (GB 11643 check digit, birth date) but not yet verified against the
    population register, so ``real_name_verified_at`` stays empty."""
    real_name = real_name.strip()
    if not real_name:
        raise ValidationError(errors.REAL_NAME_REQUIRED, _("请填写真实姓名。"))
    resident = resident_id_parse(id_number)
    phone = _normalise_phone(phone)
    _check_username_free(username)
    index = id_number_blind_index(resident.number)
    if User.objects.filter(id_number_index=index).exists():
        raise Conflict(
            errors.ID_NUMBER_TAKEN,
            _("该身份证号码已经注册过账号，请直接登录或找回密码。"),
        )
    user = User(
        username=username,
        kind=User.Kind.CITIZEN,
        real_name=real_name,
        id_number=resident.number,
        id_number_index=index,
        phone=phone,
        phone_index=phone_blind_index(phone),
    )
    _check_password(password, user)
    user.set_password(password)
    user.save()
    audit_record(
        actor=user, action="accounts.citizen_register", obj=user, after=user_snapshot(user)
    )
    return user


@transaction.atomic
def enterprise_register(
    *,
    actor: User,
    uscc: str,
    name: str,
    legal_representative: str,
    legal_representative_id_number: str,
) -> Enterprise:
    """A signed-in citizen registers an enterprise. If the citizen's own ID number is the
    legal representative's, they become its legal representative; otherwise its agent."""
    if actor.kind != User.Kind.CITIZEN or not actor.id_number_index:
        raise PermissionDenied(
            errors.ENTERPRISE_ACTOR, _("请先以实名认证的个人账号登录，再登记企业。")
        )
    code = uscc_validate(uscc)
    name, legal_representative = name.strip(), legal_representative.strip()
    if not name or not legal_representative:
        raise ValidationError(
            errors.ENTERPRISE_NAME_REQUIRED, _("请填写企业名称和法定代表人姓名。")
        )
    representative = resident_id_parse(legal_representative_id_number)
    if Enterprise.objects.filter(uscc=code).exists():
        raise Conflict(
            errors.ENTERPRISE_EXISTS,
            _("统一社会信用代码为 %(code)s 的企业已经登记。") % {"code": code},
        )
    enterprise = Enterprise.objects.create(
        uscc=code,
        name=name,
        legal_representative=legal_representative,
        legal_representative_id_number=representative.number,
        division_code=code[2:8],
    )
    is_representative = actor.id_number_index == id_number_blind_index(representative.number)
    capacity = (
        EnterpriseMember.Capacity.LEGAL_REPRESENTATIVE
        if is_representative
        else EnterpriseMember.Capacity.AGENT
    )
    EnterpriseMember.objects.create(enterprise=enterprise, user=actor, capacity=capacity)
    audit_record(
        actor=actor,
        action="accounts.enterprise_register",
        obj=enterprise,
        after={
            "uscc": code,
            "name": name,
            "legal_representative": mask_name(legal_representative),
            "legal_representative_id_number": mask_id_number(representative.number),
            "actor_capacity": capacity.value,
        },
    )
    return enterprise


@transaction.atomic
def department_create(
    *,
    actor: User,
    code: str,
    name: str,
    kind: str,
    division_code: str,
    parent: Department | None = None,
    short_name: str = "",
    uscc: str = "",
    sort_order: int = 0,
) -> Department:
    _require_admin(actor)
    if Department.objects.filter(code=code).exists():
        raise Conflict(errors.DEPARTMENT_EXISTS, _("机构代码“%(c)s”已存在。") % {"c": code})
    department = Department(
        code=code,
        name=name,
        short_name=short_name,
        kind=kind,
        division_code=division_code,
        parent=parent,
        uscc=uscc_validate(uscc) if uscc else "",
        sort_order=sort_order,
    )
    department.full_clean()
    department.save()
    audit_record(
        actor=actor,
        action="accounts.department_create",
        obj=department,
        after={"code": code, "name": name, "kind": kind, "parent_id": department.parent_id},
    )
    return department


@transaction.atomic
def staff_create(
    *, actor: User, username: str, real_name: str, department: Department, password: str
) -> User:
    """An administrator opens an account for a member of staff of ``department``. Roles are
    granted separately (``role_grant``)."""
    _require_admin(actor)
    real_name = real_name.strip()
    if not real_name:
        raise ValidationError(errors.REAL_NAME_REQUIRED, _("请填写真实姓名。"))
    _check_username_free(username)
    user = User(username=username, kind=User.Kind.STAFF, real_name=real_name, department=department)
    _check_password(password, user)
    user.set_password(password)
    user.save()
    audit_record(actor=actor, action="accounts.staff_create", obj=user, after=user_snapshot(user))
    return user


# --- roles ---------------------------------------------------------------------------------


@transaction.atomic
def role_grant(
    *,
    actor: User,
    user: User,
    role: str,
    department: Department | None = None,
    include_subtree: bool = False,
) -> RoleAssignment:
    _require_admin(actor)
    if role not in Role.values or role in UNGRANTABLE_ROLES:
        raise ValidationError(errors.ROLE_NOT_GRANTABLE, _("该角色不能授予：%(r)s") % {"r": role})
    if user.kind not in (User.Kind.STAFF, User.Kind.SYSTEM):
        raise ValidationError(errors.ROLE_NEEDS_STAFF, _("只能向工作人员账号授予工作角色。"))
    if role in CITY_WIDE_ROLES:
        if department is not None:
            raise ValidationError(
                errors.ROLE_CITY_WIDE, _("审计员和系统管理员是全市角色，不应指定机构。")
            )
    elif department is None:
        raise ValidationError(
            errors.ROLE_NEEDS_DEPARTMENT,
            _("“%(r)s”角色必须指定所属机构。") % {"r": Role(role).label},
        )
    if RoleAssignment.objects.filter(user=user, role=role, department=department).exists():
        raise Conflict(errors.ROLE_EXISTS, _("该用户已在此机构拥有这个角色。"))
    assignment = RoleAssignment.objects.create(
        user=user, role=role, department=department, include_subtree=include_subtree
    )
    _admin_access_sync(user)
    audit_record(
        actor=actor, action="accounts.role_grant", obj=assignment, after=_role_snapshot(assignment)
    )
    return assignment


def _admin_access_sync(user: User) -> None:
    """Derive the user's Django-admin access from the roles they hold now: the permissions of
    ROLE_ADMIN_PERMISSIONS, and ``is_staff`` (may sign in to the admin) when there are any.
    Derived, never edited by hand, so revoking the role takes the access away with it."""
    roles = set(RoleAssignment.objects.filter(user=user).values_list("role", flat=True))
    wanted = {perm for role in roles for perm in ROLE_ADMIN_PERMISSIONS.get(role, ())}
    q = Q()
    for perm in wanted:
        app_label, codename = perm.split(".", 1)
        q |= Q(content_type__app_label=app_label, codename=codename)
    permissions = list(Permission.objects.filter(q)) if wanted else []
    if len(permissions) != len(wanted):  # a renamed model would silently drop access
        raise RuntimeError(f"unknown permissions in ROLE_ADMIN_PERMISSIONS: {sorted(wanted)}")
    user.user_permissions.set(permissions)
    is_staff = bool(wanted) or user.is_superuser
    if user.is_staff != is_staff:
        user.is_staff = is_staff
        user.save(update_fields=["is_staff"])


@transaction.atomic
def role_revoke(*, actor: User, assignment: RoleAssignment, reason: str) -> None:
    _require_admin(actor)
    if not reason.strip():
        raise ValidationError(errors.REASON_REQUIRED, _("请填写撤销角色的原因。"))
    before = _role_snapshot(assignment)
    object_id = str(assignment.pk)
    assignment.delete()
    _admin_access_sync(assignment.user)
    audit_record(
        actor=actor,
        action="accounts.role_revoke",
        object_type=RoleAssignment._meta.label_lower,
        object_id=object_id,
        reason=reason.strip(),
        before=before,
    )


# --- delegation (代办) ----------------------------------------------------------------------


def _delegation_max_duration() -> timedelta:
    return timedelta(days=int(getattr(settings, "YIWANG_DELEGATION_MAX_DAYS", 366)))


@transaction.atomic
def delegation_grant(
    *,
    principal: User,
    agent: User,
    scopes: list[str],
    expires_at: datetime,
    actor: User,
    note: str = "",
) -> Delegation:
    """``principal`` authorises ``agent`` to act for them. Either the principal does it
    themself online, or a window clerk records a signed paper authorisation for them."""
    if actor.pk != principal.pk and Role.WINDOW_CLERK.value not in user_roles(actor):
        raise PermissionDenied(
            errors.DELEGATION_ACTOR,
            _("只有委托人本人或窗口工作人员（凭书面授权书）可以登记代办授权。"),
        )
    if principal.pk == agent.pk:
        raise ValidationError(errors.DELEGATION_SELF, _("不能委托自己为代办人。"))
    if principal.kind != User.Kind.CITIZEN or agent.kind != User.Kind.CITIZEN:
        raise ValidationError(
            errors.DELEGATION_PARTIES, _("委托人和代办人都必须是实名注册的个人用户。")
        )
    if not agent.id_number_index:
        raise ValidationError(errors.DELEGATION_PARTIES, _("代办人尚未完成实名登记。"))
    unknown = sorted(set(scopes) - set(Delegation.Scope.values))
    if not scopes or unknown:
        raise ValidationError(
            errors.DELEGATION_SCOPE,
            _("授权范围无效：%(s)s。可选：%(ok)s")
            % {"s": "、".join(unknown) or "（空）", "ok": "、".join(Delegation.Scope.values)},
        )
    now = timezone.now()
    if expires_at <= now:
        raise ValidationError(errors.DELEGATION_EXPIRY, _("授权到期时间必须晚于当前时间。"))
    if expires_at - now > _delegation_max_duration():
        raise ValidationError(
            errors.DELEGATION_EXPIRY,
            _("授权期限不能超过 %(d)s 天。") % {"d": _delegation_max_duration().days},
        )
    delegation = Delegation.objects.create(
        principal=principal,
        agent=agent,
        scopes=[s for s in Delegation.Scope.values if s in scopes],
        starts_at=now,
        expires_at=expires_at,
        note=note.strip(),
        recorded_by=actor,
    )
    audit_record(
        actor=actor,
        action="accounts.delegation_grant",
        obj=delegation,
        on_behalf_of=principal,
        after=_delegation_snapshot(delegation),
    )
    return delegation


@transaction.atomic
def delegation_revoke(*, delegation: Delegation, actor: User) -> Delegation:
    """The principal withdraws the authorisation, the agent renounces it, or a window clerk
    records a withdrawal made on paper."""
    allowed = actor.pk in (delegation.principal_id, delegation.agent_id) or (
        Role.WINDOW_CLERK.value in user_roles(actor)
    )
    if not allowed:
        raise PermissionDenied(errors.DELEGATION_ACTOR, _("您无权撤销这项代办授权。"))
    locked = Delegation.objects.select_for_update().get(pk=delegation.pk)
    if locked.revoked_at is not None:
        raise Conflict(errors.DELEGATION_REVOKED, _("这项代办授权已经撤销。"))
    before = _delegation_snapshot(locked)
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["revoked_at", "updated_at"])
    audit_record(
        actor=actor,
        action="accounts.delegation_revoke",
        obj=locked,
        on_behalf_of=locked.principal,
        before=before,
        after=_delegation_snapshot(locked),
    )
    delegation.revoked_at = locked.revoked_at
    return locked


def delegation_require(
    *, agent: User, principal: User, scope: str, at: datetime | None = None
) -> Delegation:
    """The delegation that lets ``agent`` act for ``principal`` within ``scope`` at ``at``
    (now by default), or the reason why there is none. Callers pass the result's principal
    as ``on_behalf_of`` to ``audit_record`` so that the act is attributed to both."""
    at = at or timezone.now()
    if scope not in Delegation.Scope.values:
        raise ValidationError(errors.DELEGATION_SCOPE, _("未知的授权范围：%(s)s") % {"s": scope})
    candidates = list(
        Delegation.objects.filter(agent=agent, principal=principal, starts_at__lte=at).order_by(
            "-starts_at", "-pk"
        )
    )
    if not candidates:
        raise PermissionDenied(errors.NO_DELEGATION, _("您没有获得该群众的代办授权。"))
    current = [
        d for d in candidates if (d.revoked_at is None or d.revoked_at > at) and d.expires_at > at
    ]
    for d in current:
        if scope in d.scopes:
            return d
    if current:
        raise ValidationError(
            errors.DELEGATION_SCOPE,
            _("代办授权不包含“%(s)s”。") % {"s": Delegation.Scope(scope).label},
        )
    latest = candidates[0]
    if latest.revoked_at is not None and latest.revoked_at <= at:
        raise ValidationError(errors.DELEGATION_REVOKED, _("代办授权已被撤销。"))
    raise ValidationError(
        errors.DELEGATION_EXPIRED,
        _("代办授权已于 %(t)s 到期。")
        % {"t": timezone.localtime(latest.expires_at).strftime("%Y-%m-%d %H:%M")},
    )


# --- preferences ---------------------------------------------------------------------------


@transaction.atomic
def user_preferences_set(
    *, user: User, elder_mode: bool | None = None, language: str | None = None
) -> User:
    """A signed-in person switches elder-friendly mode or the interface language; it stays
    with the account on every device."""
    before = {"elder_mode": user.elder_mode, "language": user.preferred_language}
    changed: list[str] = []
    if language is not None:
        if language and language not in {code for code, _name in settings.LANGUAGES}:
            raise ValidationError(
                errors.LANGUAGE_UNKNOWN, _("不支持的界面语言：%(l)s") % {"l": language}
            )
        if language != user.preferred_language:
            user.preferred_language = language
            changed.append("preferred_language")
    if elder_mode is not None and elder_mode != user.elder_mode:
        user.elder_mode = elder_mode
        changed.append("elder_mode")
    if not changed:
        return user
    user.save(update_fields=changed)
    audit_record(
        actor=user,
        action="accounts.preferences_set",
        obj=user,
        before=before,
        after={"elder_mode": user.elder_mode, "language": user.preferred_language},
    )
    return user


# --- API tokens ----------------------------------------------------------------------------


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


_TOKEN_KIND_FOR_USER = {
    ApiToken.Kind.PERSONAL.value: User.Kind.STAFF.value,
    ApiToken.Kind.INTEGRATION.value: User.Kind.SYSTEM.value,
}


@transaction.atomic
def api_token_create(
    *, actor: User, user: User, kind: str, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A bearer token for ``user``; returns the token row and the raw token, which is shown
    once and never stored (only its SHA-256 is). Personal tokens are for staff (created by
    themselves or an administrator); integration keys are for system users (administrators
    only)."""
    if kind not in _TOKEN_KIND_FOR_USER:
        raise ValidationError(errors.TOKEN_KIND, _("未知的令牌类型：%(k)s") % {"k": kind})
    if user.kind != _TOKEN_KIND_FOR_USER[kind]:
        raise ValidationError(
            errors.TOKEN_KIND,
            _("个人令牌只发给工作人员，系统集成密钥只发给系统集成账号。"),
        )
    may_create = user_is_admin(actor) or (kind == ApiToken.Kind.PERSONAL and actor.pk == user.pk)
    if not may_create:
        raise PermissionDenied(errors.TOKEN_FORBIDDEN, _("您无权为该账号创建令牌。"))
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError(errors.TOKEN_EXPIRY, _("令牌到期时间必须晚于当前时间。"))
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        kind=kind,
        name=name.strip() or kind,
        prefix=raw[:TOKEN_DISPLAY_CHARS],
        token_hash=_token_hash(raw),
        expires_at=expires_at,
    )
    audit_record(
        actor=actor,
        action="accounts.api_token_create",
        obj=token,
        after={
            "user_id": user.pk,
            "kind": kind,
            "name": token.name,
            "prefix": token.prefix,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    if actor.pk != token.user_id and not user_is_admin(actor):
        raise PermissionDenied(errors.TOKEN_FORBIDDEN, _("您无权撤销该令牌。"))
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is not None:
        raise Conflict(errors.TOKEN_REVOKED, _("该令牌已经撤销。"))
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["revoked_at", "updated_at"])
    audit_record(
        actor=actor,
        action="accounts.api_token_revoke",
        obj=locked,
        before={"revoked_at": None},
        after={"revoked_at": locked.revoked_at.isoformat()},
    )
    token.revoked_at = locked.revoked_at
    return locked


def api_token_authenticate(raw: str) -> User | None:
    """The active user behind a bearer token, or None for an unknown, revoked or expired
    token. Not audited: it is a read; the API layer logs requests."""
    if not raw or not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user").filter(token_hash=_token_hash(raw.strip())).first()
    )
    now = timezone.now()
    if (
        token is None
        or token.revoked_at is not None
        or (token.expires_at is not None and token.expires_at <= now)
        or not token.user.is_active
        or token.user.kind != _TOKEN_KIND_FOR_USER.get(token.kind)
    ):
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_TOUCH_INTERVAL:
        # At most one write a minute per token: a busy integration would otherwise turn every
        # read request into a write. The filter makes concurrent requests update it once.
        ApiToken.objects.filter(pk=token.pk, last_used_at=token.last_used_at).update(
            last_used_at=now
        )
    return token.user


# --- single sign-on ------------------------------------------------------------------------


@dataclass(frozen=True)
class SsoIdentity:
    """What the city's identity provider vouches for (mapped from its claims by
    yiwang.accounts.oidc)."""

    subject: str
    real_name: str
    id_number: str
    phone: str = ""


def _sso_username(subject: str) -> str:
    # The subject may be long or contain characters usernames do not allow; a digest is stable.
    return "sso-" + hashlib.sha256(subject.encode()).hexdigest()[:20]


@transaction.atomic
def citizen_sso_sign_in(*, identity: SsoIdentity) -> User:
    """The citizen the identity provider vouches for, matched by the blind index of their ID
    number: created at first sign-in, name and phone refreshed afterwards. The provider has
    verified the real name, so ``real_name_verified_at`` is set."""
    number = resident_id_parse(identity.id_number).number
    index = id_number_blind_index(number)
    phone = _normalise_phone(identity.phone) if identity.phone else ""
    user = User.objects.select_for_update().filter(id_number_index=index).first()
    now = timezone.now()
    if user is None:
        user = User(
            username=_sso_username(identity.subject),
            kind=User.Kind.CITIZEN,
            real_name=identity.real_name,
            id_number=number,
            id_number_index=index,
            phone=phone,
            phone_index=phone_blind_index(phone) if phone else "",
            real_name_verified_at=now,
        )
        user.set_unusable_password()
        user.save()
        audit_record(
            actor=user,
            action="accounts.citizen_sso_register",
            obj=user,
            after=user_snapshot(user),
        )
        return user
    if user.kind != User.Kind.CITIZEN:
        raise PermissionDenied(errors.SSO_CLAIMS, _("该身份证号码对应的不是个人用户账号。"))
    before = user_snapshot(user)
    changed: list[str] = []
    if identity.real_name and identity.real_name != user.real_name:
        user.real_name = identity.real_name
        changed.append("real_name")
    if phone and phone != user.phone:
        user.phone, user.phone_index = phone, phone_blind_index(phone)
        changed += ["phone", "phone_index"]
    if user.real_name_verified_at is None:
        user.real_name_verified_at = now
        changed.append("real_name_verified_at")
    if changed:
        user.save(update_fields=changed)
        audit_record(
            actor=user,
            action="accounts.citizen_sso_update",
            obj=user,
            before=before,
            after=user_snapshot(user),
        )
    return user
