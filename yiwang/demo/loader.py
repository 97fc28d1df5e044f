"""Demo data, loaded by `yiwang demo`. Each app contributes its own part."""

from __future__ import annotations

DEMO_PASSWORD = "yiwang-demo-2026"  # noqa: S105 (published demo password)


def demo_load() -> list[tuple[str, str]]:
    """Load every app's demo data; return (username, description) of the demo accounts."""
    from yiwang.accounts.demo import accounts_demo_load
    from yiwang.accounts.models import User
    from yiwang.catalog.demo import catalog_demo_load
    from yiwang.notifications.demo import notifications_demo_load

    accounts = accounts_demo_load(password=DEMO_PASSWORD)
    # The catalog demo is entered by the demo catalog administrator and published by a second
    # one, as real ones would (four eyes).
    catalog_demo_load(
        actor=User.objects.get(username="demo-catalog"),
        reviewer=User.objects.get(username="demo-reviewer"),
    )
    # A few notifications for demo-citizen's 我的消息 and the staff outbox page.
    notifications_demo_load()
    # 好差评: a waiting invitation, ratings at every level, rectifications open and closed.
    from yiwang.evaluation.demo import evaluation_demo_load

    evaluation_demo_load()
    # 12345: the category tree, the dispatch catalogue, time limits and mailboxes.
    from yiwang.hotline.demo import hotline_demo_load

    hotline_demo_load()
    # 电子证照: the types the catalog names, and certificates of the demo citizen and enterprise.
    from yiwang.certificates.demo import certificates_demo_load

    certificates_demo_load()
    # 数据共享交换: the departments' data officers, resources and grants; the owners' stores
    # (outside the platform's database) are generated first when missing.
    from yiwang.exchange.demo import OFFICERS, exchange_demo_load

    exchange_demo_load(password=DEMO_PASSWORD)
    accounts.extend((o.username, f"数据专员 · {o.label}") for o in OFFICERS)
    return accounts
