"""The organisation tree (public: the city publishes its departments)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.pagination import paginate

from yiwang.accounts.selectors import department_tree

router = Router(tags=["departments"])


class DepartmentOut(Schema):
    code: str
    name: str
    short_name: str
    kind: str
    division_code: str
    parent: str | None
    depth: int


@router.get("/departments", auth=None, response=list[DepartmentOut])
@paginate
def department_list(request: HttpRequest) -> list[dict[str, Any]]:
    """Active departments in tree order (each parent before its children); ``parent`` is the
    parent's code, ``depth`` 0 for the city government."""
    nodes = department_tree(active_only=True)
    code_by_id: dict[int | None, str] = {n.department.pk: n.department.code for n in nodes}
    return [
        {
            "code": node.department.code,
            "name": node.department.name,
            "short_name": node.department.short_name,
            "kind": node.department.kind,
            "division_code": node.department.division_code,
            "parent": code_by_id.get(node.department.parent_id),
            "depth": node.depth,
        }
        for node in nodes
    ]
