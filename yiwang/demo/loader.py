"""Demo data, loaded by `yiwang demo`. Each app contributes its own part."""

from __future__ import annotations

DEMO_PASSWORD = "yiwang-demo-2026"  # noqa: S105 (published demo password)


def demo_load() -> list[tuple[str, str]]:
    """Load every app's demo data; return (username, description) of the demo accounts."""
    from yiwang.accounts.demo import accounts_demo_load

    return accounts_demo_load(password=DEMO_PASSWORD)
