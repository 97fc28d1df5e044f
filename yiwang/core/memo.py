"""Request-scoped memo: a read computed at most once per request.

A request that accepts an application asks "where does this clerk work?" and "what is the
work calendar?" several times (access check, the service's role check, the due date, the
response). Each answer is a few queries; the answer cannot change in the middle of the request
unless the request itself changes the rows it came from. So:

- ``request_memo(key, compute)`` returns ``compute()`` once per request and the same value for
  the rest of it. Outside a request (a job, a command, a test calling a service directly) it
  simply calls ``compute()``: no value ever outlives the request that computed it, so no other
  process, thread or later request can see a stale one.
- ``memo_invalidated_by(*models)`` forgets every memo of the current request when a row of one
  of those models is saved or deleted through the ORM in that request (a request that adds a
  role assignment and then checks it sees the new one). Bulk ``update()``/``delete()`` send no
  signals: code that uses them on these models must call ``memo_forget()``.

Keys are tuples beginning with the owning app's label, e.g. ``("accounts.roles", user_pk)``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from contextvars import ContextVar
from typing import Any, TypeVar

from django.core.signals import request_finished, request_started
from django.db.models import Model
from django.db.models.signals import post_delete, post_save

T = TypeVar("T")

_memo: ContextVar[dict[Hashable, Any] | None] = ContextVar("yiwang_request_memo", default=None)


def request_memo(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, computed once per request under ``key``."""
    memo = _memo.get()
    if memo is None:
        return compute()
    if key in memo:
        return memo[key]  # type: ignore[no-any-return]
    value = memo[key] = compute()
    return value


def memo_forget(*_args: Any, **_kwargs: Any) -> None:
    """Forget every memo of the current request (signal receivers call this too)."""
    memo = _memo.get()
    if memo is not None:
        memo.clear()


def memo_invalidated_by(*models: type[Model]) -> None:
    """Forget the request's memos whenever a row of one of ``models`` is saved or deleted."""
    for model in models:
        uid = f"yiwang.core.memo:{model._meta.label}"
        post_save.connect(memo_forget, sender=model, weak=False, dispatch_uid=uid + ":save")
        post_delete.connect(memo_forget, sender=model, weak=False, dispatch_uid=uid + ":delete")


def _request_started(**_kwargs: Any) -> None:
    _memo.set({})


def _request_finished(**_kwargs: Any) -> None:
    _memo.set(None)


request_started.connect(_request_started, weak=False, dispatch_uid="yiwang.core.memo:start")
request_finished.connect(_request_finished, weak=False, dispatch_uid="yiwang.core.memo:finish")
