"""A version's materials and situations: read once per process for a published version."""

from __future__ import annotations

from typing import Any

import pytest

from yiwang.catalog import selectors
from yiwang.catalog.models import ItemVersion
from yiwang.catalog.selectors import version_parts
from yiwang.catalog.tests.factories import (
    ItemVersionFactory,
    MaterialFactory,
    PublishedVersionFactory,
    SituationFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _nothing_kept() -> None:
    selectors.version_parts_forget()


def _names(version: ItemVersion) -> list[str]:
    """The version's material names as the database orders them (the factory adds one)."""
    return list(version.materials.values_list("name", flat=True))


def _published() -> ItemVersion:
    version = PublishedVersionFactory()
    buying = SituationFactory(version=version, code="buy")
    MaterialFactory(version=version, name="申请书")
    MaterialFactory(version=version, name="购房合同", situations=[buying])
    return version


def test_a_published_versions_parts_are_read_once(django_assert_num_queries: Any):
    version = _published()
    with django_assert_num_queries(3):  # the materials, their situations, the codes
        first = version_parts(version)

    again = ItemVersion.objects.get(pk=version.pk)  # another request's object
    with django_assert_num_queries(0):
        second = version_parts(again)

    assert second is first
    assert [m.name for m in second.materials] == _names(version)
    assert {m.name: [s.code for s in m.situations.all()] for m in second.materials}["购房合同"] == [
        "buy"
    ]
    assert second.situation_codes == frozenset({"buy"})


def test_a_drafts_parts_are_read_every_time(django_assert_num_queries: Any):
    draft = ItemVersionFactory(status=ItemVersion.Status.DRAFT)
    MaterialFactory(version=draft, name="申请书")
    version_parts(draft)

    # an edit that sends no signal (a draft may change in any process)
    draft.materials.filter(name="申请书").update(name="申请表")
    with django_assert_num_queries(3):
        parts = version_parts(draft)

    assert "申请表" in [m.name for m in parts.materials]
    assert [m.name for m in parts.materials] == _names(draft)


def test_a_material_or_situation_written_in_this_process_forgets_what_was_kept():
    version = _published()
    version_parts(version)

    MaterialFactory(version=version, name="补充说明")  # round the services, as a repair would
    assert [m.name for m in version_parts(version).materials] == _names(version)
    assert "补充说明" in _names(version)
    SituationFactory(version=version, code="gift")
    assert version_parts(version).situation_codes == frozenset({"buy", "gift"})
    version.materials.get(name="购房合同").situations.clear()
    assert all(not m.situations.all() for m in version_parts(version).materials)


def test_the_least_recently_used_version_is_dropped(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(selectors, "PARTS_KEPT", 2)
    first, second, third = _published(), _published(), _published()
    kept = version_parts(first)
    version_parts(second)
    version_parts(first)  # used again: now the second is the oldest

    version_parts(third)

    assert version_parts(first) is kept
    assert list(selectors._parts) == [third.public_id, first.public_id]
