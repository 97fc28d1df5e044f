"""Demo 好差评 (`yiwang demo`): invitations, ratings and rectifications in every state, made
through the services (so the audit trail and the notifications are real).

* demo-citizen has one invitation waiting (rate it at /evaluation/), a 非常满意 and a 不满意
  whose rectification is open for 市场监督管理局 (demo-approver answers it at
  /evaluation/rectifications/);
* demo-legal has a 满意 and a 非常不满意 (a self-service terminal, 供电过户) that the
  数据资源局 window (demo-clerk) answered and demo-supervisor followed up and closed;
* demo-citizen rated one service for demo-elder under their delegation (代办);
* demo-supervisor reads all of it at /evaluation/stats/.

Needs the accounts demo; uses the catalog demo's items where they are loaded. Idempotent: a
second run adds nothing."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from yiwang.accounts.models import Department, User
from yiwang.catalog.models import ServiceItem
from yiwang.catalog.selectors import published_versions
from yiwang.evaluation.models import Channel, Invitation, Rectification
from yiwang.evaluation.services import (
    rating_invite,
    rating_submit,
    rectification_follow_up,
    rectification_reply,
)

SUBJECT_PREFIX = "demo-eval-"


@dataclass(frozen=True)
class DemoRating:
    key: str
    rater: str
    department: str
    fallback_title: str
    channel: str
    level: int | None = None  # None: still waiting for a rating
    comment: str = ""
    principal: str | None = None
    reply_by: str | None = None
    reply: str = ""
    follow_up_by: str | None = None


DEMO_RATINGS: list[DemoRating] = [
    DemoRating("01", "demo-citizen", "la-scjgj", "个体工商户设立登记", Channel.ONLINE),
    DemoRating(
        "02",
        "demo-citizen",
        "la-gaj",
        "机动车驾驶证期满换证",
        Channel.WINDOW,
        level=5,
        comment="窗口一次就办好了，工作人员很耐心。",
    ),
    DemoRating(
        "03",
        "demo-citizen",
        "la-scjgj",
        "食品经营许可",
        Channel.ONLINE,
        level=2,
        comment="网上申请后还要到现场再交一次材料，没有做到“最多跑一次”。",
    ),
    DemoRating("04", "demo-legal", "la-scjgj", "企业设立登记", Channel.ONLINE, level=4),
    DemoRating(
        "05",
        "demo-legal",
        "la-sjzyj",
        "供电过户",
        Channel.TERMINAL,
        level=1,
        comment="自助终端打印失败，大厅里找不到工作人员。",
        reply_by="demo-clerk",
        reply="已核实：该终端打印机卡纸。已维修，并安排专人每小时巡检自助区。向您致歉。",
        follow_up_by="demo-supervisor",
    ),
    DemoRating(
        "06",
        "demo-citizen",
        "la-gaj",
        "居民身份证申领、换领、补领",
        Channel.WINDOW,
        level=3,
        principal="demo-elder",
    ),
]


def _item(department: Department, name: str) -> tuple[ServiceItem | None, str]:
    """The published catalog-demo item of ``department`` called ``name`` and its name, or no
    item (when the catalog demo is not loaded) and ``name`` as the title."""
    version = (
        published_versions()
        .filter(item__department=department, name=name)
        .order_by("item__task_code")
        .first()
    )
    if version is None:
        return None, name
    return version.item, version.name[:100]


def evaluation_demo_load() -> int:
    """Make the demo ratings once; returns how many invitations this run created."""
    if Invitation.objects.filter(subject_id__startswith=SUBJECT_PREFIX).exists():
        return 0
    users = {u.username: u for u in User.objects.filter(username__startswith="demo-")}
    codes = {spec.department for spec in DEMO_RATINGS}
    departments = {d.code: d for d in Department.objects.filter(code__in=codes)}
    if "demo-citizen" not in users or len(departments) < len(codes):
        return 0  # the accounts demo is not loaded
    created = 0
    with transaction.atomic():
        for spec in DEMO_RATINGS:
            if spec.rater not in users:
                continue
            rater = users[spec.rater]
            department = departments[spec.department]
            item, title = _item(department, spec.fallback_title)
            invitation = rating_invite(
                subject_kind="application",
                subject_id=SUBJECT_PREFIX + spec.key,
                rater=rater,
                principal=users.get(spec.principal) if spec.principal else None,
                department=department,
                item=item,
                title=title,
                channel=spec.channel,
            )
            created += 1
            if spec.level is None:
                continue
            rating = rating_submit(
                actor=rater,
                invitation=invitation,
                level=spec.level,
                comment=spec.comment,
                channel=Channel.MOBILE,
            )
            if spec.reply_by and spec.reply_by in users:
                rectification = Rectification.objects.get(rating=rating)
                rectification_reply(
                    actor=users[spec.reply_by],
                    rectification=rectification,
                    disposition=Rectification.Disposition.FIXED,
                    reply=spec.reply,
                )
                if spec.follow_up_by and spec.follow_up_by in users:
                    rectification_follow_up(
                        actor=users[spec.follow_up_by],
                        rectification=rectification,
                        result=Rectification.FollowUpResult.SATISFIED,
                        note="电话回访：终端已恢复，群众对整改表示满意。",
                    )
    return created
