"""Stable error codes of the applications app (raised as yiwang.core.errors classes).

API clients rely on these strings; never rename one, add new ones below."""

from __future__ import annotations

INVALID = "applications.invalid"  # extra: problems = [{"field", "code", "message"}, ...]
NOT_APPLICABLE = "applications.not_applicable"  # the item or bundle takes no applications
IDEMPOTENCY_CONFLICT = "applications.idempotency_conflict"
INVALID_TRANSITION = "applications.invalid_transition"
TASK_TAKEN = "applications.task_taken"  # another person claimed or finished the task
TASK_NOT_ASSIGNEE = "applications.task_not_assignee"
TASK_CLOSED = "applications.task_closed"
PAUSE_OPEN = "applications.pause_open"
NO_PAUSE = "applications.no_pause"
REASON_REQUIRED = "applications.reason_required"
DELIVERY_INVALID = "applications.delivery_invalid"
NOT_WINDOW_CLERK = "applications.not_window_clerk"
NOT_APPLICANT = "applications.not_applicant"
TOO_MANY_QUERIES = "applications.too_many_queries"
