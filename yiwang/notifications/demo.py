"""Demo notifications (`yiwang demo`): what a citizen's "我的消息" and the staff outbox look
like, sent through ``notify`` with the configured providers (the embedded default records the
SMS on the outbox page and sends nothing). Idempotent: a second run adds nothing."""

from __future__ import annotations

from django.db import transaction

from yiwang.accounts.models import User
from yiwang.accounts.selectors import delegation_list
from yiwang.core.masking import mask_name
from yiwang.notifications.models import Notification
from yiwang.notifications.services import notify

DEMO_CITIZEN = "demo-citizen"
DEMO_ELDER = "demo-elder"


def notifications_demo_load() -> int:
    """Send the demo notifications once; returns how many were sent by this run."""
    citizen = User.objects.filter(username=DEMO_CITIZEN).first()
    if (
        citizen is None
        or Notification.objects.filter(recipient=citizen, event__startswith="demo.").exists()
    ):
        return 0
    elder = User.objects.filter(username=DEMO_ELDER).first()
    sent = 0
    with transaction.atomic():
        notify(
            recipient=citizen,
            event="demo.account_ready",
            title="欢迎使用六安市一网通办",
            body="您已完成实名注册。可在“办事服务”中查找事项、在线申请，并随时查看办理进度。",
            link="/services/",
            channels=("sms",),
        )
        sent += 1
        held = delegation_list(user=citizen, role="held", status="active")
        if elder is not None and held.filter(principal=elder).exists():
            notify(
                recipient=citizen,
                principal=elder,
                event="demo.delegation_granted",
                title="您已获得代办授权",
                body=f"{mask_name(elder.real_name)} 授权您代为申请办事、查询办件进度和代领结果，"
                "有效期一年。",
                link="/accounts/delegations/",
                channels=("sms",),
                actor=elder,
            )
            sent += 1
    return sent
