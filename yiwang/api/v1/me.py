"""The signed-in user: their profile, and (staff) their personal API tokens."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema, Status
from pydantic import AwareDatetime

from yiwang.accounts.access import access_api_token_by_id
from yiwang.accounts.models import ApiToken, User
from yiwang.accounts.selectors import api_token_list, user_roles
from yiwang.accounts.services import api_token_create, api_token_revoke
from yiwang.api.auth import SESSION_ONLY, request_user
from yiwang.core.errors import NotFound, PermissionDenied
from yiwang.core.masking import mask_id_number, mask_name, mask_phone

router = Router(tags=["me"])


class DepartmentRef(Schema):
    code: str
    name: str


class ProfileOut(Schema):
    id: UUID
    username: str
    kind: str
    name: str = Field(description="real name, masked")
    id_number: str = Field(description="resident ID number, masked")
    phone: str = Field(description="mobile number, masked")
    real_name_verified: bool
    department: DepartmentRef | None
    roles: list[str]
    language: str
    elder_mode: bool


class TokenOut(Schema):
    id: int
    name: str
    kind: str
    prefix: str = Field(description="first characters of the token, to tell tokens apart")
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreatedOut(TokenOut):
    token: str = Field(description="the token itself: shown this once, never again")


class TokenIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    # Aware only: a naive time cannot be compared with now (it was a 500) and is ambiguous.
    expires_at: AwareDatetime | None = Field(
        None, description="with its time zone (e.g. +08:00); omit for a token that never expires"
    )


@router.get("/me", response=ProfileOut)
def me(request: HttpRequest) -> ProfileOut:
    user = request_user(request)
    department = user.department
    return ProfileOut(
        id=user.public_id,
        username=user.username,
        kind=user.kind,
        name=mask_name(user.real_name),
        id_number=mask_id_number(user.id_number),
        phone=mask_phone(user.phone),
        real_name_verified=user.real_name_verified_at is not None,
        department=(
            DepartmentRef(code=department.code, name=department.name) if department else None
        ),
        roles=sorted(user_roles(user)),
        language=user.preferred_language,
        elder_mode=user.elder_mode,
    )


def _staff(request: HttpRequest) -> User:
    """Personal tokens are for staff; citizens and enterprises sign in with a password."""
    user = request_user(request)
    if user.kind != User.Kind.STAFF:
        raise PermissionDenied("core.forbidden", _("只有工作人员可以管理个人访问令牌。"))
    return user


@router.get("/me/tokens", auth=SESSION_ONLY, response=list[TokenOut])
def token_list(request: HttpRequest) -> list[ApiToken]:
    return list(api_token_list(user=_staff(request)))


@router.post("/me/tokens", auth=SESSION_ONLY, response={201: TokenCreatedOut})
def token_create(request: HttpRequest, payload: TokenIn) -> Status[TokenCreatedOut]:
    user = _staff(request)
    token, raw = api_token_create(
        actor=user,
        user=user,
        kind=ApiToken.Kind.PERSONAL,
        name=payload.name,
        expires_at=payload.expires_at,
    )
    return Status(201, TokenCreatedOut(**TokenOut.model_validate(token).model_dump(), token=raw))


@router.delete("/me/tokens/{token_id}", auth=SESSION_ONLY, response={204: None})
def token_revoke(request: HttpRequest, token_id: int) -> Status[None]:
    user = _staff(request)
    token = access_api_token_by_id(user, token_id)
    if token.user_id != user.pk:
        # An administrator revokes another person's token elsewhere, not through /me/.
        raise NotFound("core.not_found", _("找不到该令牌。"))
    api_token_revoke(actor=user, token=token)
    return Status(204, None)
