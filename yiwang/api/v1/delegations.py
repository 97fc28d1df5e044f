"""The signed-in citizen's delegations (代办): the ones they gave and the ones they hold.

For the city's mobile app. Citizens and enterprise accounts only: staff record paper
authorisations at the window (console), not through /me/. The agent is named by real name and
resident ID number; a wrong name and an unknown number get the same answer, so that the endpoint
cannot be used to learn whether someone is registered. ID numbers and names of the parties are
masked in every response.
"""

# No ``from __future__ import annotations`` here: ninja's @paginate rebuilds the operation's
# signature outside this module, where string annotations (Query[...], the Literal aliases)
# would not resolve.

from datetime import datetime
from typing import Literal
from uuid import UUID

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import AwareDatetime

from yiwang.accounts import errors as accounts_errors
from yiwang.accounts.access import APPLICANT_KINDS, access_delegation_given_by_public_id
from yiwang.accounts.models import Delegation, User
from yiwang.accounts.selectors import citizen_find_by_identity, delegation_list
from yiwang.accounts.services import delegation_grant, delegation_revoke
from yiwang.api.auth import request_user
from yiwang.core.errors import PermissionDenied, ValidationError
from yiwang.core.identifiers import ID_NUMBER_INVALID
from yiwang.core.masking import mask_id_number, mask_name

router = Router(tags=["delegations"])

RoleParam = Literal["given", "held"]
StatusParam = Literal["active", "expired", "revoked"]


class PartyOut(Schema):
    name: str = Field(description="real name, masked")
    id_number: str = Field(description="resident ID number, masked")


class DelegationOut(Schema):
    id: UUID = Field(description="the delegation's public id (use it to revoke)")
    role: RoleParam = Field(description="`given`: you are the principal; `held`: you are the agent")
    status: StatusParam
    principal: PartyOut = Field(description="who authorised (委托人)")
    agent: PartyOut = Field(description="who may act for them (代办人)")
    scopes: list[Delegation.Scope]
    starts_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    note: str
    created_at: datetime

    @staticmethod
    def resolve_id(obj: Delegation) -> UUID:
        return obj.public_id

    @staticmethod
    def resolve_principal(obj: Delegation) -> PartyOut:
        return _party(obj.principal)

    @staticmethod
    def resolve_agent(obj: Delegation) -> PartyOut:
        return _party(obj.agent)


class DelegationFilters(Schema):
    role: RoleParam | None = Field(None, description="`given` or `held`; both when omitted")
    status: StatusParam | None = Field(None, description="`active`, `expired` or `revoked`")


class AgentIn(Schema):
    real_name: str = Field(min_length=1, max_length=50, description="the agent's real name")
    id_number: str = Field(
        min_length=1, max_length=30, description="the agent's resident ID number (18 characters)"
    )


class DelegationIn(Schema):
    agent: AgentIn
    scopes: list[Delegation.Scope] = Field(min_length=1)
    expires_at: AwareDatetime = Field(
        description="when the authorisation ends, with its time zone (e.g. +08:00)"
    )
    note: str = Field("", max_length=200)


def _party(user: User) -> PartyOut:
    return PartyOut(name=mask_name(user.real_name), id_number=mask_id_number(user.id_number))


def _applicant(request: HttpRequest) -> User:
    """Delegation is between residents; a staff member or a system account acting through
    /me/ would be acting as nobody's principal."""
    user = request_user(request)
    if user.kind not in APPLICANT_KINDS:
        raise PermissionDenied("core.forbidden", _("只有群众和企业用户可以管理代办授权。"))
    return user


def _find_agent(agent: AgentIn) -> User:
    try:
        found = citizen_find_by_identity(real_name=agent.real_name, id_number=agent.id_number)
    except ValidationError as exc:
        if exc.code != ID_NUMBER_INVALID:
            raise
        # The number's own shape (length, check digit) says nothing about anyone: name it.
        raise ValidationError(exc.code, exc.message, **exc.extra, field="agent.id_number") from exc
    if found is None:
        raise ValidationError(
            accounts_errors.DELEGATION_AGENT_UNKNOWN,
            _("找不到姓名和身份证号码相符的实名注册用户，请核对后重试。"),
            field="agent",
        )
    return found


@router.get("/me/delegations", response=list[DelegationOut])
@paginate
def my_delegation_list(
    request: HttpRequest, filters: Query[DelegationFilters]
) -> QuerySet[Delegation]:
    """The delegations you gave (`role=given`) and hold (`role=held`), newest first;
    `status` filters on `active`, `expired` or `revoked`."""
    return delegation_list(user=_applicant(request), role=filters.role, status=filters.status)


@router.post("/me/delegations", response={201: DelegationOut})
def my_delegation_create(request: HttpRequest, payload: DelegationIn) -> Status[Delegation]:
    """Authorise another registered citizen to act for you within `scopes` until
    `expires_at`."""
    user = _applicant(request)
    agent = _find_agent(payload.agent)
    delegation = delegation_grant(
        principal=user,
        agent=agent,
        scopes=[scope.value for scope in payload.scopes],
        expires_at=payload.expires_at,
        actor=user,
        note=payload.note,
    )
    # Read back through the selector so that role and status come from one definition.
    return Status(201, delegation_list(user=user).get(pk=delegation.pk))


@router.delete("/me/delegations/{public_id}", response={204: None})
def my_delegation_revoke(request: HttpRequest, public_id: UUID) -> Status[None]:
    """Withdraw a delegation you gave. Its agent and everyone else get 404."""
    user = _applicant(request)
    delegation = access_delegation_given_by_public_id(user, public_id)
    delegation_revoke(delegation=delegation, actor=user)
    return Status(204, None)
