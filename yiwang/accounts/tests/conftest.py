from __future__ import annotations

import pytest

from yiwang.accounts.tests.factories import admin_user


@pytest.fixture
def admin(db):
    return admin_user(username="admin-test")
