"""Where other apps plug into the end of an application, without this app importing them.

* **Issuance** (统一出件): when an approved application is issued, every registered
  ``issuance`` hook is called inside the issuing transaction with the application. The
  certificates app registers one (``yiwang.certificates.hooks``) that issues the e-certificate
  of type ``version.result_certificate_type`` to the applicant, with its ledger entry.
The 好差评 invitation at conclusion (办结) is not a hook: evaluation sits below this app in
the import layers, so ``services._conclude`` calls ``evaluation.services.rating_invite``
directly.

Hooks run in the caller's transaction: an exception rolls the whole step back. They must write
only through their own app's services and send side effects through the outbox/notify.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from yiwang.applications.models import Application

ApplicationHook = Callable[["Application"], None]

_hooks: dict[str, list[ApplicationHook]] = {"issuance": []}


def hook_register(kind: str, hook: ApplicationHook) -> ApplicationHook:
    """Register ``hook`` for ``kind`` (only ``"issuance"`` today); twice is a no-op."""
    if kind not in _hooks:
        raise ValueError(f"unknown hook kind {kind!r}; known: {sorted(_hooks)}")
    if hook not in _hooks[kind]:
        _hooks[kind].append(hook)
    return hook


def hook_unregister(kind: str, hook: ApplicationHook) -> None:
    if hook in _hooks.get(kind, []):
        _hooks[kind].remove(hook)


def hooks_run(kind: str, application: Application) -> None:
    for hook in list(_hooks[kind]):
        hook(application)
