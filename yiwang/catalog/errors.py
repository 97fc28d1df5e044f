"""Stable error codes of the catalog app (raised as yiwang.core.errors classes).

Other apps and API clients may rely on these strings; never rename one. Add new codes below
the existing ones, grouped by the part of the catalog that raises them.
"""

from __future__ import annotations

# versions and publication (services.version_*)
VERSION_IMMUTABLE = "catalog.version_immutable"  # only a draft may change
INVALID_TRANSITION = "catalog.invalid_transition"
QUALITY_FAILED = "catalog.quality_failed"
SAME_PERSON = "catalog.same_person"  # four eyes: the submitter may not publish their own version
REASON_REQUIRED = "catalog.reason_required"
DRAFT_EXISTS = "catalog.draft_exists"  # an item has at most one open draft/review version
TASK_CODE_TAKEN = "catalog.task_code_taken"
UNKNOWN_FIELD = "catalog.unknown_field"
FIELD_INVALID = "catalog.field_invalid"
CHILD_NOT_IN_VERSION = "catalog.child_not_in_version"

# access
NOT_CATALOG_ADMIN = "catalog.not_catalog_admin"

# processes and rules (process.py)
BPMN_INVALID = "catalog.bpmn_invalid"  # extra: reason, line (when known), limit (too_large)
DMN_INVALID = "catalog.dmn_invalid"  # extra: reason, line, row (when known)
DMN_MISSING = "catalog.dmn_missing"  # rules_evaluate on a version without a decision table
FACTS_INVALID = "catalog.facts_invalid"
RULES_FAILED = "catalog.rules_failed"  # the table could not be evaluated with these facts

# import and export (importers/, exporters/)
IMPORT_FILE_UNREADABLE = "catalog.import_file_unreadable"  # extra: path, reason
IMPORT_LAYOUT_INVALID = "catalog.import_layout_invalid"  # xlsx without the expected sheets
DEPARTMENT_MAP_INVALID = "catalog.department_map_invalid"  # extra: unknown (department codes)

# bundles (一件事一次办), yiwang.catalog.bundles
BUNDLE_CODE_TAKEN = "catalog.bundle_code_taken"
BUNDLE_NOT_DRAFT = "catalog.bundle_not_draft"
BUNDLE_NOT_PUBLISHED = "catalog.bundle_not_published"  # bundle_retire
BUNDLE_MEMBER_DUPLICATE = "catalog.bundle_member_duplicate"
BUNDLE_MEMBER_UNPUBLISHED = "catalog.bundle_member_unpublished"  # extra: task_codes
BUNDLE_TOO_FEW_MEMBERS = "catalog.bundle_too_few_members"
BUNDLE_FORM_INVALID = "catalog.bundle_form_invalid"  # extra: field / index / task_codes
BUNDLE_TIME_LIMIT_INVALID = "catalog.bundle_time_limit_invalid"
BUNDLE_NAME_REQUIRED = "catalog.bundle_name_required"

# search and the public catalog API (search.py, selectors.catalog_*)
ITEM_NOT_FOUND = "catalog.item_not_found"  # extra: task_code (no published version)
BUNDLE_NOT_FOUND = "catalog.bundle_not_found"  # extra: bundle_code (none published)
