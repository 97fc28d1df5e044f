"""Stable error codes of the accounts app (raised as yiwang.core.errors classes).

Other apps and API clients may rely on these strings; never rename one.
"""

# ruff: noqa: S105 (error codes that mention passwords and tokens are not secrets)
from __future__ import annotations

# citizen_register / enterprise_register / staff_create
USERNAME_TAKEN = "accounts.username_taken"
ID_NUMBER_TAKEN = "accounts.id_number_taken"
PHONE_INVALID = "accounts.phone_invalid"
PASSWORD_WEAK = "accounts.password_weak"
REAL_NAME_REQUIRED = "accounts.real_name_required"
ENTERPRISE_EXISTS = "accounts.enterprise_exists"
ENTERPRISE_ACTOR = "accounts.enterprise_actor"
ENTERPRISE_NAME_REQUIRED = "accounts.enterprise_name_required"

# departments and roles
NOT_ADMIN = "accounts.not_admin"
DEPARTMENT_EXISTS = "accounts.department_exists"
ROLE_NEEDS_DEPARTMENT = "accounts.role_needs_department"
ROLE_CITY_WIDE = "accounts.role_city_wide"
ROLE_NOT_GRANTABLE = "accounts.role_not_grantable"
ROLE_NEEDS_STAFF = "accounts.role_needs_staff"
ROLE_EXISTS = "accounts.role_exists"
REASON_REQUIRED = "accounts.reason_required"

# delegation (代办)
DELEGATION_ACTOR = "accounts.delegation_actor"
DELEGATION_SELF = "accounts.delegation_self"
DELEGATION_PARTIES = "accounts.delegation_parties"
DELEGATION_SCOPE = "accounts.delegation_scope"
DELEGATION_EXPIRY = "accounts.delegation_expiry"
DELEGATION_EXPIRED = "accounts.delegation_expired"
DELEGATION_REVOKED = "accounts.delegation_revoked"
NO_DELEGATION = "accounts.no_delegation"
# the agent named by real name + ID number is not a registered citizen (one code whether the
# number is unknown or the name does not match, so that it reveals neither)
DELEGATION_AGENT_UNKNOWN = "accounts.delegation_agent_unknown"

# preferences
LANGUAGE_UNKNOWN = "accounts.language_unknown"

# API tokens
TOKEN_KIND = "accounts.token_kind"
TOKEN_EXPIRY = "accounts.token_expiry"
TOKEN_FORBIDDEN = "accounts.token_forbidden"
TOKEN_REVOKED = "accounts.token_revoked"

# single sign-on
SSO_CLAIMS = "accounts.sso_claims"
