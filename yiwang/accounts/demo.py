from __future__ import annotations


def accounts_demo_load(*, password: str) -> list[tuple[str, str]]:
    return []
