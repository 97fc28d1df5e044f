"""The staff console home: the person's department and one panel per role they hold."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from yiwang.accounts.access import role_required, staff_required
from yiwang.accounts.forms import DelegationRecordForm
from yiwang.accounts.models import Role, User
from yiwang.accounts.selectors import user_roles
from yiwang.accounts.services import delegation_grant
from yiwang.core.errors import DomainError
from yiwang.core.masking import mask_name


@dataclass(frozen=True)
class ConsoleLink:
    label: str | Promise
    url: str


@dataclass(frozen=True)
class RolePanel:
    role: str
    title: str | Promise
    duties: tuple[str | Promise, ...]
    links: list[ConsoleLink] = field(default_factory=list)
    # Work queues arrive with the later issues (applications, hotline, community ...).
    queue_pending: bool = True


# In the order a person would read them: front line first, oversight and administration last.
ROLE_DUTIES: dict[str, tuple[str | Promise, tuple[str | Promise, ...]]] = {
    "window_clerk": (
        _("窗口受理"),
        (
            _("受理现场申请，核验原件，一次性告知需补正的材料"),
            _("统一出件：发放办理结果和电子证照"),
        ),
    ),
    "approver": (
        _("部门审批"),
        (_("审查本部门的并联审批任务，作出决定"), _("在办理时限内完成，超时前会收到提醒")),
    ),
    "dispatcher": (
        _("12345 话务派单"),
        (_("登记来电诉求，确认分类和承办单位后派单"), _("审核承办单位的退单和延期申请")),
    ),
    "handling_unit": (
        _("承办单位"),
        (_("办理派给本单位的工单并答复群众"), _("派错的工单可退回，确需延期的可申请延期")),
    ),
    "supervisor": (
        _("督查督办"),
        (_("跟踪办件和工单的时限，督办催办"), _("发布各单位办理情况排行")),
    ),
    "community_worker": (
        _("网格服务"),
        (_("管理网格内居民信息、报修和事件"), _("走访独居老人，记录关爱服务")),
    ),
    "data_officer": (
        _("数据共享"),
        (_("发布本单位的数据资源目录"), _("审批其他部门的数据共享申请")),
    ),
    "catalog_admin": (
        _("事项管理"),
        (
            _("维护办事事项、申请材料、办理流程和规则"),
            _("维护工作日历：法定节假日和调休上班日"),
        ),
    ),
    "auditor": (
        _("审计"),
        (_("查阅全平台的审计日志"), _("核验审计链和账本是否被篡改（命令：yiwang audit verify）")),
    ),
    "admin": (
        _("系统管理"),
        (_("管理用户、机构和角色授权"), _("维护系统配置和工作日历")),
    ),
}


# Roles whose work queue is built (their panel links to it); the others still say "coming".
READY_QUEUES = frozenset(
    {
        "auditor",
        "admin",
        "catalog_admin",
        "window_clerk",
        "approver",
        "dispatcher",
        "handling_unit",
        "supervisor",
        "data_officer",
    }
)


def _admin_link(label: str | Promise, url_name: str) -> ConsoleLink | None:
    """A link into the Django admin, or None while that model is not registered there."""
    try:
        return ConsoleLink(label, reverse(url_name))
    except NoReverseMatch:
        return None


def _role_links(role: str) -> list[ConsoleLink]:
    wanted: list[tuple[str | Promise, str]] = []
    if role == "auditor":
        wanted = [(_("审计日志"), "admin:core_auditentry_changelist")]
    elif role in ("admin", "catalog_admin"):
        wanted = [
            (_("管理后台"), "admin:index"),
            (_("工作日历"), "admin:core_calendarday_changelist"),
        ]
    # 办件 (yiwang.applications): the window's 受理台 and 出件, the approvers' task inbox.
    if role == "window_clerk":
        wanted += [
            (_("受理台"), "applications_staff:queue"),
            (_("出件"), "applications_staff:issuance"),
        ]
    elif role == "approver":
        wanted.append((_("待办任务"), "applications_staff:tasks"))
    # 电子证照 (yiwang.certificates): the issuing department's certificates and 用证.
    if role in ("window_clerk", "approver", "supervisor"):
        wanted.append((_("电子证照"), "certificates_staff:home"))
    # 数据共享 (yiwang.exchange): the data officer's catalogue, requests and access log; the
    # departments that handle cases query what other departments granted them.
    if role == "data_officer":
        wanted += [
            (_("数据共享"), "exchange_staff:home"),
            (_("共享申请"), "exchange_staff:requests"),
            (_("调用日志"), "exchange_staff:log"),
        ]
    elif role in ("window_clerk", "approver", "supervisor"):
        wanted.append((_("共享查询"), "exchange_staff:query"))
    # 好差评 (yiwang.evaluation): the desk of bad reviews, and the statistics for supervisors.
    if role in ("window_clerk", "approver", "handling_unit"):
        wanted.append((_("差评整改"), "evaluation:rectifications"))
    elif role == "supervisor":
        wanted += [
            (_("好差评统计"), "evaluation:stats"),
            (_("差评整改"), "evaluation:rectifications"),
        ]
    return [link for label, name in wanted if (link := _admin_link(label, name)) is not None]


def role_panels(roles: set[str]) -> list[RolePanel]:
    """One panel per staff role held, in a fixed order. Unknown role values are skipped."""
    return [
        RolePanel(
            role=role,
            title=title,
            duties=duties,
            links=_role_links(role),
            queue_pending=role not in READY_QUEUES,
        )
        for role, (title, duties) in ROLE_DUTIES.items()
        if role in roles
    ]


@staff_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    panels = role_panels(user_roles(request.user))
    department = getattr(request.user, "department", None)
    return render(request, "console/home.html", {"panels": panels, "department": department})


# --- delegations recorded at the window ----------------------------------------------------


@role_required(Role.WINDOW_CLERK)
@require_http_methods(["GET", "POST"])
def delegation_new(request: HttpRequest) -> HttpResponse:
    """A window clerk records a signed paper authorisation (纸质授权书) for a citizen who does
    not use the portal: the clerk is the actor, the principal is who it is on behalf of."""
    form = DelegationRecordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        principal = form.find_citizen(name_field="principal_name", id_field="principal_id_number")
        agent = form.find_citizen(name_field="agent_name", id_field="agent_id_number")
        if principal is not None and agent is not None:
            try:
                delegation_grant(
                    principal=principal,
                    agent=agent,
                    scopes=form.cleaned_data["scopes"],
                    expires_at=form.expires_at,
                    actor=cast(User, request.user),
                    note=form.cleaned_data["note"],
                )
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                messages.success(
                    request,
                    _("已登记：%(principal)s 授权 %(agent)s 代办，有效期至 %(day)s。")
                    % {
                        "principal": mask_name(principal.real_name),
                        "agent": mask_name(agent.real_name),
                        "day": form.cleaned_data["expires_on"].isoformat(),
                    },
                )
                return redirect("console:delegation_new")
    return render(request, "console/delegation_new.html", {"form": form})
