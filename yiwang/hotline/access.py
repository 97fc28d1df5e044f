"""Who may see a work order: fetch and check in one call (Zulip style), so that no view, API
endpoint or Open311 handler forgets the check. Someone who may not see an order learns
nothing about it, not even that it exists (404); what a person who sees it may *do* is
checked again by the services (yiwang.hotline.services).

* staff: the 12345 centre sees every order, a supervisor those led by units in their scope,
  a handling unit those dispatched to it in any round (``selectors.orders_for_staff``);
* citizens: the orders they filed with their account (``selectors.orders_of_citizen``).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.utils.translation import gettext_lazy as _

from yiwang.core.errors import NotFound
from yiwang.hotline.models import WorkOrder
from yiwang.hotline.selectors import orders_for_staff, orders_of_citizen


def _not_found() -> NotFound:
    return NotFound("core.not_found", _("找不到该工单，或您无权查看。"))


def _as_uuid(public_id: uuid.UUID | str) -> uuid.UUID:
    # A malformed id from an API path or a query string is just an order that is not there.
    if isinstance(public_id, uuid.UUID):
        return public_id
    try:
        return uuid.UUID(str(public_id))
    except ValueError:
        raise _not_found() from None


def access_order_for_staff(actor: Any, public_id: uuid.UUID | str) -> WorkOrder:
    """The order, if ``actor`` may see it as staff (centre, supervisor in scope, or a unit it
    was dispatched to); otherwise NotFound (404)."""
    if not getattr(actor, "is_authenticated", False):
        raise _not_found()
    found = (
        orders_for_staff(actor)
        .select_related("category", "lead_unit", "merged_into", "mailbox")
        .filter(public_id=_as_uuid(public_id))
        .first()
    )
    if found is None:
        raise _not_found()
    return found


def access_own_order(actor: Any, public_id: uuid.UUID | str) -> WorkOrder:
    """The order, if ``actor`` filed it with their account; otherwise NotFound (404)."""
    if not getattr(actor, "is_authenticated", False):
        raise _not_found()
    found = (
        orders_of_citizen(actor)
        .select_related("category", "lead_unit")
        .filter(public_id=_as_uuid(public_id))
        .first()
    )
    if found is None:
        raise _not_found()
    return found
