"""Stable error codes of the hotline app (raised as yiwang.core.errors classes).

Other apps, API clients and Open311 clients may rely on these strings; never rename one.
"""

from __future__ import annotations

# registration
INVALID = "hotline.invalid"  # one error listing every problem of the input
IDEMPOTENCY_CONFLICT = "hotline.idempotency_conflict"
CATEGORY_UNKNOWN = "hotline.category_unknown"
MAILBOX_UNKNOWN = "hotline.mailbox_unknown"

# transitions
INVALID_TRANSITION = "hotline.invalid_transition"
NOT_YOUR_ORDER = "hotline.not_your_order"
NO_DISPATCH_RULE = "hotline.no_dispatch_rule"
UNIT_INVALID = "hotline.unit_invalid"
RETURN_TOO_LATE = "hotline.return_too_late"
DESIGNATED = "hotline.designated"
REASON_REQUIRED = "hotline.reason_required"
REPLY_REFUSED = "hotline.reply_refused"
EXTENSION_USED = "hotline.extension_used"
MERGE_INVALID = "hotline.merge_invalid"
SATISFACTION_INVALID = "hotline.satisfaction_invalid"
OUTCOME_INVALID = "hotline.outcome_invalid"
PUBLISH_INVALID = "hotline.publish_invalid"
NOT_EMERGENCY = "hotline.not_emergency"
