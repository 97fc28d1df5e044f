"""Audit rows for sign-in, sign-out, failed sign-in and lockout.

These hook Django's and django-axes' authentication signals. That is the one place where we
use signals: the events are raised by the framework's login machinery, not by our domain code,
and there is no service of ours to put the audit call in.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest

from yiwang.accounts.models import User
from yiwang.core.audit import audit_record

USER_TYPE = "accounts.user"
MAX_USERNAME = 150


def _client(request: HttpRequest | None) -> dict[str, Any]:
    if request is None:
        return {}
    return {
        "ip": request.META.get("REMOTE_ADDR", ""),
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:200],
    }


def _user_by_username(username: str) -> User | None:
    return User.objects.filter(username=username).first() if username else None


@receiver(user_logged_in, dispatch_uid="yiwang.accounts.audit_login")
def audit_login(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    with transaction.atomic():
        audit_record(actor=user, action="accounts.login", obj=user, after=_client(request))


@receiver(user_logged_out, dispatch_uid="yiwang.accounts.audit_logout")
def audit_logout(
    sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any
) -> None:
    if user is None:  # the session had already expired: nobody to record
        return
    with transaction.atomic():
        audit_record(actor=user, action="accounts.logout", obj=user, after=_client(request))


@receiver(user_login_failed, dispatch_uid="yiwang.accounts.audit_login_failed")
def audit_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Django has already replaced the password in ``credentials`` with asterisks.
    username = str(credentials.get("username", ""))[:MAX_USERNAME]
    user = _user_by_username(username)
    with transaction.atomic():
        audit_record(
            actor=None,
            action="accounts.login_failed",
            object_type=USER_TYPE if user else "",
            object_id=str(user.pk) if user else "",
            reason=username,
            after=_client(request),
        )


def audit_locked_out(
    sender: Any, request: HttpRequest | None, username: str | None = None, **kwargs: Any
) -> None:
    user = _user_by_username(username or "")
    with transaction.atomic():
        audit_record(
            actor=None,
            action="accounts.login_locked_out",
            object_type=USER_TYPE if user else "",
            object_id=str(user.pk) if user else "",
            reason=(username or "")[:MAX_USERNAME],
            after=_client(request),
        )


def connect_axes_signals() -> None:
    from axes.signals import user_locked_out

    user_locked_out.connect(audit_locked_out, dispatch_uid="yiwang.accounts.audit_locked_out")
