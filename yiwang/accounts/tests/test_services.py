from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from yiwang.accounts import services
from yiwang.accounts.models import (
    Delegation,
    Department,
    Enterprise,
    EnterpriseMember,
    Role,
    RoleAssignment,
    User,
)
from yiwang.accounts.selectors import id_number_blind_index
from yiwang.accounts.tests.factories import (
    TEST_PASSWORD,
    DelegationFactory,
    DepartmentFactory,
    StaffFactory,
    SystemUserFactory,
    UserFactory,
    make_id_number,
    make_uscc,
    staff_with_role,
)
from yiwang.core.errors import Conflict, PermissionDenied, ValidationError
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db

GOOD_ID = make_id_number(7, region="341503", birth="19900315")


def _register(**overrides):
    kwargs = {
        "username": "wangxiaoming",
        "password": TEST_PASSWORD,
        "real_name": "王小明",
        "id_number": GOOD_ID,
        "phone": "13955551234",
    }
    return services.citizen_register(**{**kwargs, **overrides})


def _wrong_check_digit(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


# --- citizen_register ----------------------------------------------------------------------


def test_citizen_register_stores_identity_encrypted_with_blind_indexes():
    user = _register(id_number=GOOD_ID.lower(), phone="139-5555-1234")

    fresh = User.objects.get(pk=user.pk)
    assert fresh.kind == User.Kind.CITIZEN
    assert fresh.real_name == "王小明"
    assert fresh.id_number == GOOD_ID
    assert fresh.phone == "13955551234"
    assert fresh.id_number_index == id_number_blind_index(GOOD_ID)
    assert fresh.check_password(TEST_PASSWORD)
    assert fresh.real_name_verified_at is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM accounts_user WHERE id = %s", [user.pk])
        raw = cursor.fetchone()
    assert GOOD_ID not in raw[0]
    assert "13955551234" not in raw[1]


def test_citizen_register_writes_one_masked_audit_row():
    user = _register()

    entry = AuditEntry.objects.get()
    assert entry.action == "accounts.citizen_register"
    assert entry.actor_id == user.pk
    assert entry.object_id == str(user.pk)
    assert entry.after is not None
    assert entry.after["id_number"] == GOOD_ID[:4] + "*" * 10 + GOOD_ID[-4:]
    assert entry.after["phone"] == "139****1234"
    assert GOOD_ID not in str(entry.after)


@pytest.mark.parametrize(
    ("overrides", "code", "message_part"),
    [
        ({"id_number": _wrong_check_digit(GOOD_ID)}, "core.id_number_invalid", "校验位"),
        ({"id_number": GOOD_ID[:17]}, "core.id_number_invalid", "18位"),
        ({"phone": "12955551234"}, "accounts.phone_invalid", "手机号码"),
        ({"phone": "1395555123"}, "accounts.phone_invalid", "手机号码"),
        ({"real_name": "  "}, "accounts.real_name_required", "真实姓名"),
        ({"password": "123"}, "accounts.password_weak", "密码"),
    ],
)
def test_citizen_register_refuses_bad_input_and_changes_nothing(overrides, code, message_part):
    with pytest.raises(ValidationError) as caught:
        _register(**overrides)

    assert caught.value.code == code
    assert message_part in str(caught.value.message)
    assert User.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_citizen_register_refuses_a_duplicate_id_number_clearly():
    _register()

    with pytest.raises(Conflict) as caught:
        _register(username="someone-else", phone="13800000000")

    assert caught.value.code == "accounts.id_number_taken"
    assert "已经注册" in str(caught.value.message)
    assert User.objects.count() == 1
    assert AuditEntry.objects.count() == 1


def test_citizen_register_refuses_a_taken_username():
    _register()

    with pytest.raises(Conflict) as caught:
        _register(username="WangXiaoMing", id_number=make_id_number(8))

    assert caught.value.code == "accounts.username_taken"
    assert User.objects.count() == 1


# --- enterprise_register -------------------------------------------------------------------


def test_enterprise_register_makes_the_representative_a_member():
    citizen = UserFactory()
    code = make_uscc(42)

    enterprise = services.enterprise_register(
        actor=citizen,
        uscc=code.lower(),
        name="六安示例有限公司",
        legal_representative=citizen.real_name,
        legal_representative_id_number=citizen.id_number,
    )

    assert enterprise.uscc == code
    assert enterprise.division_code == "341502"
    member = EnterpriseMember.objects.get()
    assert (member.user, member.capacity) == (citizen, "legal_representative")
    assert AuditEntry.objects.get().action == "accounts.enterprise_register"


def test_enterprise_register_by_someone_else_makes_them_an_agent():
    citizen = UserFactory()

    services.enterprise_register(
        actor=citizen,
        uscc=make_uscc(43),
        name="六安示例有限公司",
        legal_representative="赵六",
        legal_representative_id_number=make_id_number(99, birth="19600101"),
    )

    assert EnterpriseMember.objects.get().capacity == "agent"


def test_enterprise_register_refuses_a_wrong_check_character_and_changes_nothing():
    citizen = UserFactory()
    code = make_uscc(44)
    wrong = code[:17] + ("0" if code[17] != "0" else "1")

    with pytest.raises(ValidationError) as caught:
        services.enterprise_register(
            actor=citizen,
            uscc=wrong,
            name="六安示例有限公司",
            legal_representative="赵六",
            legal_representative_id_number=make_id_number(99),
        )

    assert caught.value.code == "core.uscc_invalid"
    assert "校验位" in str(caught.value.message)
    assert Enterprise.objects.count() == 0
    assert EnterpriseMember.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_enterprise_register_refuses_a_duplicate_uscc():
    citizen = UserFactory()
    kwargs: dict[str, Any] = {
        "actor": citizen,
        "uscc": make_uscc(45),
        "name": "六安示例有限公司",
        "legal_representative": "赵六",
        "legal_representative_id_number": make_id_number(99),
    }
    services.enterprise_register(**kwargs)

    with pytest.raises(Conflict) as caught:
        services.enterprise_register(**kwargs)

    assert caught.value.code == "accounts.enterprise_exists"
    assert Enterprise.objects.count() == 1
    assert AuditEntry.objects.count() == 1


def test_enterprise_register_refuses_staff_actor():
    with pytest.raises(PermissionDenied) as caught:
        services.enterprise_register(
            actor=StaffFactory(),
            uscc=make_uscc(46),
            name="六安示例有限公司",
            legal_representative="赵六",
            legal_representative_id_number=make_id_number(99),
        )

    assert caught.value.code == "accounts.enterprise_actor"
    assert Enterprise.objects.count() == 0


# --- staff and departments -----------------------------------------------------------------


def test_staff_create_by_admin(admin):
    department = DepartmentFactory()

    user = services.staff_create(
        actor=admin,
        username="clerk1",
        real_name="陈窗口",
        department=department,
        password=TEST_PASSWORD,
    )

    assert (user.kind, user.department, user.real_name) == ("staff", department, "陈窗口")
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor_id) == ("accounts.staff_create", admin.pk)


def test_staff_create_refused_for_non_admin():
    clerk = staff_with_role(Role.WINDOW_CLERK)

    with pytest.raises(PermissionDenied) as caught:
        services.staff_create(
            actor=clerk,
            username="clerk2",
            real_name="陈窗口",
            department=DepartmentFactory(),
            password=TEST_PASSWORD,
        )

    assert caught.value.code == "accounts.not_admin"
    assert not User.objects.filter(username="clerk2").exists()
    assert AuditEntry.objects.count() == 0


def test_department_create_and_duplicate(admin):
    city = services.department_create(
        actor=admin, code="la-test", name="测试局", kind="bureau", division_code="341500"
    )

    with pytest.raises(Conflict):
        services.department_create(
            actor=admin, code="la-test", name="另一个", kind="bureau", division_code="341500"
        )

    assert list(Department.objects.filter(code="la-test")) == [city]
    assert AuditEntry.objects.filter(action="accounts.department_create").count() == 1


# --- roles ---------------------------------------------------------------------------------


def test_role_grant_scoped_to_a_department(admin):
    staff = StaffFactory()

    assignment = services.role_grant(
        actor=admin, user=staff, role=Role.APPROVER, department=staff.department
    )

    assert (assignment.role, assignment.department) == ("approver", staff.department)
    entry = AuditEntry.objects.get()
    assert entry.action == "accounts.role_grant"
    assert entry.after == {
        "user_id": staff.pk,
        "role": "approver",
        "department_id": staff.department_id,
        "include_subtree": False,
    }


def test_superuser_may_grant_without_an_admin_role():
    root = StaffFactory(is_superuser=True)
    staff = StaffFactory()

    services.role_grant(actor=root, user=staff, role=Role.AUDITOR)

    assert RoleAssignment.objects.get().role == "auditor"


def test_role_grant_refused_for_non_admin():
    supervisor = staff_with_role(Role.SUPERVISOR)
    staff = StaffFactory()

    with pytest.raises(PermissionDenied) as caught:
        services.role_grant(
            actor=supervisor, user=staff, role=Role.APPROVER, department=staff.department
        )

    assert caught.value.code == "accounts.not_admin"
    assert "系统管理员" in str(caught.value.message)
    assert RoleAssignment.objects.filter(user=staff).count() == 0
    assert AuditEntry.objects.count() == 0


@pytest.mark.parametrize(
    ("role", "with_department", "code"),
    [
        (Role.APPROVER, False, "accounts.role_needs_department"),
        (Role.AUDITOR, True, "accounts.role_city_wide"),
        (Role.CITIZEN, False, "accounts.role_not_grantable"),
        ("pope", False, "accounts.role_not_grantable"),
    ],
)
def test_role_grant_refuses_bad_scope(admin, role, with_department, code):
    staff = StaffFactory()

    with pytest.raises(ValidationError) as caught:
        services.role_grant(
            actor=admin,
            user=staff,
            role=role,
            department=staff.department if with_department else None,
        )

    assert caught.value.code == code
    assert RoleAssignment.objects.filter(user=staff).count() == 0
    assert AuditEntry.objects.count() == 0


def test_role_grant_refuses_a_citizen_and_a_duplicate(admin):
    citizen = UserFactory()
    staff = StaffFactory()
    services.role_grant(actor=admin, user=staff, role=Role.APPROVER, department=staff.department)

    with pytest.raises(ValidationError) as not_staff:
        services.role_grant(
            actor=admin, user=citizen, role=Role.APPROVER, department=staff.department
        )
    with pytest.raises(Conflict) as duplicate:
        services.role_grant(
            actor=admin, user=staff, role=Role.APPROVER, department=staff.department
        )

    assert not_staff.value.code == "accounts.role_needs_staff"
    assert duplicate.value.code == "accounts.role_exists"
    assert RoleAssignment.objects.filter(role=Role.APPROVER).count() == 1


def test_role_revoke_needs_admin_and_reason(admin):
    staff = StaffFactory()
    assignment = services.role_grant(
        actor=admin, user=staff, role=Role.APPROVER, department=staff.department
    )

    with pytest.raises(PermissionDenied):
        services.role_revoke(actor=staff, assignment=assignment, reason="调岗")
    with pytest.raises(ValidationError) as no_reason:
        services.role_revoke(actor=admin, assignment=assignment, reason=" ")
    assert no_reason.value.code == "accounts.reason_required"
    assert RoleAssignment.objects.filter(pk=assignment.pk).exists()

    services.role_revoke(actor=admin, assignment=assignment, reason="调岗")

    assert not RoleAssignment.objects.filter(user=staff).exists()
    entry = AuditEntry.objects.order_by("-seq")[0]
    assert (entry.action, entry.reason, entry.after) == ("accounts.role_revoke", "调岗", None)
    assert entry.before == {
        "user_id": staff.pk,
        "role": "approver",
        "department_id": staff.department_id,
        "include_subtree": False,
    }


# --- delegation ----------------------------------------------------------------------------


def _in(days: int):
    return timezone.now() + timedelta(days=days)


def test_delegation_grant_by_the_principal():
    elder, son = UserFactory(), UserFactory()

    delegation = services.delegation_grant(
        principal=elder,
        agent=son,
        scopes=["query", "apply", "query"],
        expires_at=_in(90),
        actor=elder,
        note="儿子代办",
    )

    assert delegation.scopes == ["apply", "query"]
    assert delegation.recorded_by == elder
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor_id, entry.on_behalf_of_id) == (
        "accounts.delegation_grant",
        elder.pk,
        elder.pk,
    )


def test_delegation_grant_recorded_by_a_window_clerk_from_paper():
    elder, son = UserFactory(), UserFactory()
    clerk = staff_with_role(Role.WINDOW_CLERK)

    delegation = services.delegation_grant(
        principal=elder, agent=son, scopes=["apply"], expires_at=_in(30), actor=clerk
    )

    assert delegation.recorded_by == clerk
    entry = AuditEntry.objects.get()
    assert (entry.actor_id, entry.on_behalf_of_id) == (clerk.pk, elder.pk)


def test_delegation_grant_refuses_a_stranger_and_staff_without_clerk_role():
    elder, son = UserFactory(), UserFactory()

    for actor in (son, staff_with_role(Role.APPROVER)):
        with pytest.raises(PermissionDenied) as caught:
            services.delegation_grant(
                principal=elder, agent=son, scopes=["apply"], expires_at=_in(30), actor=actor
            )
        assert caught.value.code == "accounts.delegation_actor"

    assert Delegation.objects.count() == 0
    assert AuditEntry.objects.count() == 0


@pytest.mark.parametrize(
    ("scopes", "days", "code"),
    [
        (["fly"], 30, "accounts.delegation_scope"),
        ([], 30, "accounts.delegation_scope"),
        (["apply"], -1, "accounts.delegation_expiry"),
        (["apply"], 400, "accounts.delegation_expiry"),
    ],
)
def test_delegation_grant_refuses_bad_scope_or_expiry(scopes, days, code):
    elder, son = UserFactory(), UserFactory()

    with pytest.raises(ValidationError) as caught:
        services.delegation_grant(
            principal=elder, agent=son, scopes=scopes, expires_at=_in(days), actor=elder
        )

    assert caught.value.code == code
    assert Delegation.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_delegation_max_duration_is_configurable(settings):
    settings.YIWANG_DELEGATION_MAX_DAYS = 10
    elder, son = UserFactory(), UserFactory()

    with pytest.raises(ValidationError) as caught:
        services.delegation_grant(
            principal=elder, agent=son, scopes=["apply"], expires_at=_in(11), actor=elder
        )

    assert "10 天" in str(caught.value.message)


def test_delegation_grant_refuses_self_and_staff_agent():
    elder = UserFactory()

    with pytest.raises(ValidationError) as to_self:
        services.delegation_grant(
            principal=elder, agent=elder, scopes=["apply"], expires_at=_in(3), actor=elder
        )
    with pytest.raises(ValidationError) as to_staff:
        services.delegation_grant(
            principal=elder, agent=StaffFactory(), scopes=["apply"], expires_at=_in(3), actor=elder
        )

    assert to_self.value.code == "accounts.delegation_self"
    assert to_staff.value.code == "accounts.delegation_parties"
    assert Delegation.objects.count() == 0


def test_delegation_require_returns_the_valid_delegation():
    delegation = DelegationFactory(scopes=["apply", "query"])

    found = services.delegation_require(
        agent=delegation.agent, principal=delegation.principal, scope="query"
    )

    assert found == delegation


def test_delegation_require_refuses_an_expired_delegation():
    delegation = DelegationFactory(
        starts_at=_in(-30), expires_at=timezone.now() - timedelta(minutes=1)
    )

    with pytest.raises(ValidationError) as caught:
        services.delegation_require(
            agent=delegation.agent, principal=delegation.principal, scope="apply"
        )

    assert caught.value.code == "accounts.delegation_expired"
    assert "到期" in str(caught.value.message)


def test_delegation_require_at_a_past_instant_sees_it_valid():
    delegation = DelegationFactory(starts_at=_in(-30), expires_at=_in(-1))

    found = services.delegation_require(
        agent=delegation.agent, principal=delegation.principal, scope="apply", at=_in(-2)
    )

    assert found == delegation


def test_delegation_require_refuses_a_revoked_delegation():
    delegation = DelegationFactory()
    services.delegation_revoke(delegation=delegation, actor=delegation.principal)

    with pytest.raises(ValidationError) as caught:
        services.delegation_require(
            agent=delegation.agent, principal=delegation.principal, scope="apply"
        )

    assert caught.value.code == "accounts.delegation_revoked"
    assert "撤销" in str(caught.value.message)


def test_delegation_require_refuses_the_wrong_scope():
    delegation = DelegationFactory(scopes=["query"])

    with pytest.raises(ValidationError) as caught:
        services.delegation_require(
            agent=delegation.agent, principal=delegation.principal, scope="apply"
        )

    assert caught.value.code == "accounts.delegation_scope"
    assert "代为申请办事" in str(caught.value.message)


def test_delegation_require_refuses_without_any_delegation():
    delegation = DelegationFactory()

    with pytest.raises(PermissionDenied) as caught:
        services.delegation_require(
            agent=delegation.principal, principal=delegation.agent, scope="apply"
        )

    assert caught.value.code == "accounts.no_delegation"
    assert "代办授权" in str(caught.value.message)


def test_delegation_require_prefers_a_current_one_over_an_old_revoked_one():
    old = DelegationFactory(revoked_at=_in(-1))
    current = DelegationFactory(principal=old.principal, agent=old.agent)

    found = services.delegation_require(agent=old.agent, principal=old.principal, scope="apply")

    assert found == current


def test_delegation_revoke_by_principal_agent_or_clerk_only():
    delegation = DelegationFactory()
    stranger = UserFactory()

    with pytest.raises(PermissionDenied):
        services.delegation_revoke(delegation=delegation, actor=stranger)
    delegation.refresh_from_db()
    assert delegation.revoked_at is None
    assert AuditEntry.objects.count() == 0

    services.delegation_revoke(delegation=delegation, actor=delegation.agent)

    delegation.refresh_from_db()
    assert delegation.revoked_at is not None
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.on_behalf_of_id) == (
        "accounts.delegation_revoke",
        delegation.principal_id,
    )
    with pytest.raises(Conflict):
        services.delegation_revoke(delegation=delegation, actor=staff_with_role(Role.WINDOW_CLERK))
    assert AuditEntry.objects.count() == 1


# --- preferences ---------------------------------------------------------------------------


def test_user_preferences_set_switches_elder_mode_and_language():
    user = UserFactory()

    services.user_preferences_set(user=user, elder_mode=True, language="en")

    user.refresh_from_db()
    assert (user.elder_mode, user.preferred_language) == (True, "en")
    entry = AuditEntry.objects.get()
    assert entry.before == {"elder_mode": False, "language": ""}
    assert entry.after == {"elder_mode": True, "language": "en"}


def test_user_preferences_set_without_change_writes_nothing():
    user = UserFactory()

    services.user_preferences_set(user=user, elder_mode=False)

    assert AuditEntry.objects.count() == 0


def test_user_preferences_set_refuses_an_unknown_language():
    user = UserFactory()

    with pytest.raises(ValidationError) as caught:
        services.user_preferences_set(user=user, elder_mode=True, language="xx")

    assert caught.value.code == "accounts.language_unknown"
    user.refresh_from_db()
    assert user.elder_mode is False
    assert AuditEntry.objects.count() == 0


# --- API tokens (creation; authentication in test_tokens.py) --------------------------------


def test_api_token_create_returns_the_raw_token_once_and_stores_its_hash():
    staff = StaffFactory()

    token, raw = services.api_token_create(actor=staff, user=staff, kind="personal", name="脚本")

    assert raw.startswith("yw_")
    assert len(raw) > 40
    assert token.prefix == raw[:10]
    assert raw not in token.token_hash
    assert len(token.token_hash) == 64
    entry = AuditEntry.objects.get()
    assert entry.action == "accounts.api_token_create"
    assert raw not in str(entry.after)


def test_api_token_create_enforces_kind_and_actor(admin):
    staff, citizen, system = StaffFactory(), UserFactory(), SystemUserFactory()

    with pytest.raises(ValidationError):
        services.api_token_create(actor=admin, user=citizen, kind="personal", name="x")
    with pytest.raises(ValidationError):
        services.api_token_create(actor=admin, user=staff, kind="integration", name="x")
    with pytest.raises(PermissionDenied):
        services.api_token_create(actor=staff, user=system, kind="integration", name="x")
    with pytest.raises(PermissionDenied):
        services.api_token_create(actor=StaffFactory(), user=staff, kind="personal", name="x")
    with pytest.raises(ValidationError):
        services.api_token_create(
            actor=staff, user=staff, kind="personal", name="x", expires_at=_in(-1)
        )
    assert AuditEntry.objects.count() == 0

    token, _raw = services.api_token_create(actor=admin, user=system, kind="integration", name="x")

    assert token.user == system
