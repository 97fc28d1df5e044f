"""Rows and owner stores for exchange tests (other exchange tests import these).

``owner_sqlite`` writes a real SQLite file with a table, as an owner's database view would be;
``make_resource`` and ``make_grant`` write rows directly (no services, no audit): use them to
set up a world, and call the services or the gateway for the behaviour under test.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.utils import timezone

from yiwang.accounts.models import Department, Role, User
from yiwang.accounts.tests.factories import (
    DepartmentFactory,
    UserFactory,
    make_id_number,
    staff_with_role,
)
from yiwang.exchange.models import (
    AdapterKind,
    DataResource,
    Grant,
    SharingClass,
    SharingRequest,
    SubjectType,
    UpdateFrequency,
)

PERSON_FIELDS: list[dict[str, Any]] = [
    {"key": "id_number", "label": "公民身份号码", "personal": True, "mask": "id_number"},
    {"key": "name", "label": "姓名", "personal": True, "mask": "name"},
    {"key": "address", "label": "户籍地址", "personal": True, "mask": "address"},
    {"key": "phone", "label": "联系电话", "personal": True, "mask": "phone"},
    {"key": "marital", "label": "婚姻状况", "personal": True, "mask": ""},
]


def person_rows(count: int, *, start: int = 1) -> list[dict[str, Any]]:
    return [
        {
            "id_number": make_id_number(n, birth="19900101"),
            "name": f"王{n}",
            "address": f"安徽省六安市金安区三里桥街道{n}号",
            "phone": f"139{n:08d}",
            "marital": "已婚" if n % 2 else "未婚",
        }
        for n in range(start, start + count)
    ]


def owner_sqlite(
    path: Path, rows: Sequence[Mapping[str, Any]], *, table: str = "people", key: str = "id_number"
) -> dict[str, str]:
    """Create the owner's SQLite database at ``path``; returns the sql adapter config."""
    columns = list(rows[0]) if rows else [key]
    conn = sqlite3.connect(path)
    try:
        conn.execute(f"CREATE TABLE {table} ({', '.join(f'{c} TEXT' for c in columns)})")
        conn.execute(f"CREATE INDEX {table}_{key} ON {table} ({key})")
        conn.executemany(
            f"INSERT INTO {table} VALUES ({', '.join('?' * len(columns))})",  # noqa: S608
            [tuple(r[c] for c in columns) for r in rows],
        )
        conn.commit()
    finally:
        conn.close()
    return {"url": f"sqlite:///{path}", "table": table, "key": key}


def make_resource(
    owner: Department,
    *,
    code: str = "LA-DR-GA-001",
    name: str = "人口基础信息",
    fields: list[dict[str, Any]] | None = None,
    subject_type: str = SubjectType.PERSON,
    sharing_class: str = SharingClass.CONDITIONAL,
    adapter_kind: str = AdapterKind.SQL,
    adapter_config: dict[str, Any] | None = None,
    status: str = DataResource.Status.PUBLISHED,
    rate_limit_per_minute: int = 600,
) -> DataResource:
    return DataResource.objects.create(
        code=code,
        name=name,
        owner=owner,
        description="测试资源",
        fields=fields or PERSON_FIELDS,
        subject_type=subject_type,
        update_frequency=UpdateFrequency.REALTIME,
        legal_basis="《政务信息资源共享管理暂行办法》",
        sharing_class=sharing_class,
        sharing_condition="限办理行政审批事项使用" if sharing_class != "unconditional" else "",
        adapter_kind=adapter_kind,
        adapter_config=adapter_config or {},
        status=status,
        published_at=timezone.now() if status == DataResource.Status.PUBLISHED else None,
        rate_limit_per_minute=rate_limit_per_minute,
    )


def make_grant(
    resource: DataResource,
    consumer: Department,
    *,
    fields: Iterable[str] | None = None,
    masks: dict[str, str] | None = None,
    item_codes: Sequence[str] = (),
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    rate_limit_per_minute: int = 600,
    granted_by: User | None = None,
    purpose: str = "办理行政审批",
) -> Grant:
    officer = (
        granted_by
        or User.objects.filter(
            role_assignments__role=Role.DATA_OFFICER,
            role_assignments__department=resource.owner,
        ).first()
        or staff_with_role(Role.DATA_OFFICER, resource.owner)
    )
    keys = list(fields) if fields is not None else resource.field_keys()
    request = SharingRequest.objects.create(
        resource=resource,
        consumer=consumer,
        requested_by=officer,
        fields=keys,
        item_codes=list(item_codes),
        purpose=purpose,
        status=SharingRequest.Status.APPROVED,
        decided_by=officer,
        decided_at=timezone.now(),
    )
    return Grant.objects.create(
        resource=resource,
        consumer=consumer,
        request=request,
        fields=keys,
        masks=masks or {},
        item_codes=list(item_codes),
        purpose=purpose,
        valid_from=valid_from or timezone.now() - timedelta(minutes=1),
        valid_until=valid_until,
        rate_limit_per_minute=rate_limit_per_minute,
        granted_by=officer,
    )


@dataclass
class World:
    owner: Department
    consumer: Department
    other: Department
    owner_officer: User
    consumer_officer: User
    consumer_clerk: User
    other_clerk: User
    citizen: User
    admin: User
    resource: DataResource
    rows: list[dict[str, Any]]


def make_world(tmp_path: Path, *, rows: int = 3, **resource_kwargs: Any) -> World:
    """An owner (公安局) with a population resource on a real SQLite file, a consumer (不动产)
    and another department, their staff, a citizen whose ID number is the first row's."""
    owner = DepartmentFactory(code="t-gaj", name="测试公安局")
    consumer = DepartmentFactory(code="t-zrzy", name="测试自然资源局")
    other = DepartmentFactory(code="t-other", name="测试其他局")
    data = person_rows(rows)
    config = owner_sqlite(tmp_path / "owner.sqlite3", data)
    resource = make_resource(owner, adapter_config=config, **resource_kwargs)
    citizen = UserFactory(id_number=data[0]["id_number"], real_name=data[0]["name"])
    return World(
        owner=owner,
        consumer=consumer,
        other=other,
        owner_officer=staff_with_role(Role.DATA_OFFICER, owner),
        consumer_officer=staff_with_role(Role.DATA_OFFICER, consumer),
        consumer_clerk=staff_with_role(Role.WINDOW_CLERK, consumer),
        other_clerk=staff_with_role(Role.WINDOW_CLERK, other),
        citizen=citizen,
        admin=staff_with_role(Role.ADMIN),
        resource=resource,
        rows=data,
    )
