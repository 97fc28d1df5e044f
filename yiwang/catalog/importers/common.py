"""What every catalog importer shares: the report, the row failure, and the batch runner.

The rules for a file with bad rows (issue #3): one transaction per batch, a savepoint per item
inside it, so that a bad row is reported with its line and reason, never leaves half an item,
and does not stop the good rows of the same batch. One audit row per batch that changed
something, with the counts and the codes it touched: a row per item would drown the trail.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from django.db import transaction

from yiwang.catalog.models import ItemType

Outcome = Literal["created", "updated", "unchanged"]
RowT = TypeVar("RowT")

SYSTEM_ACTOR = "system:catalog-import"

# The names of the national list (standards.md §1.4) with the codes used when an import meets
# one that the configurable list does not hold yet. Codes differ between provinces, so these
# only seed; the list itself stays configuration (admin-editable).
STANDARD_ITEM_TYPES: dict[str, tuple[str, bool]] = {
    "行政许可": ("01", True),
    "行政处罚": ("03", True),
    "行政强制": ("04", True),
    "行政征收": ("05", True),
    "行政给付": ("06", True),
    "行政裁决": ("07", True),
    "行政确认": ("08", True),
    "行政奖励": ("09", True),
    "其他行政权力": ("10", True),
    "行政检查": ("11", True),
    "公共服务": ("14", False),
}


class RowFailed(Exception):
    """This row cannot be imported; ``reason`` is shown to the operator next to its line."""

    def __init__(self, reason: str, *, unmapped: str = "", line: int | None = None) -> None:
        self.reason = reason
        self.unmapped = unmapped  # also counted among the unmapped values, when set
        self.line = line  # when the failing line is not the item's own (a child row)
        super().__init__(reason)


@dataclass
class ImportReport:
    """What an import did. ``failed`` holds (line, reason); ``unmapped`` counts the values
    that were imported without being mapped to a catalog field, keyed by field and reason."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)
    unmapped: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    # Rows kept as drafts because they break a quality rule: (line, task code, rule codes),
    # and the same counted by rule code.
    held: list[tuple[int, str, tuple[str, ...]]] = field(default_factory=list)
    quality: Counter[str] = field(default_factory=Counter)
    touched: list[str] = field(default_factory=list, repr=False)  # task codes written
    files: int = 0  # files saved into the storage (xlsx: from the folder beside the workbook)

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged + len(self.failed)

    def summary_lines(self) -> list[str]:
        lines = [
            f"新建 created {self.created}，更新 updated {self.updated}，"
            f"未变 unchanged {self.unchanged}，失败 failed {len(self.failed)}，"
            f"用时 {self.seconds:.2f} s"
        ]
        if self.files:
            lines.append(f"已存入文件 files saved {self.files}")
        if self.failed:
            lines.append("失败的行 / failed rows:")
            lines.extend(f"  第 {line} 行: {reason}" for line, reason in self.failed)
        if self.unmapped:
            lines.append("未能映射的值 / unmapped values:")
            lines.extend(f"  {count:>6} × {what}" for what, count in self.unmapped.most_common())
        if self.held:
            lines.append(
                f"以草稿保存、待补全后发布 / kept as drafts until completed: {len(self.held)}"
                "（`yiwang catalog check` 列出每一条 / lists each）"
            )
            lines.extend(f"  {count:>6} × {rule}" for rule, count in self.quality.most_common())
        return lines


@dataclass(frozen=True)
class RowResult:
    outcome: Outcome
    code: str  # the task_code (or bundle code) the row touched, for the audit row


def run_batch(
    rows: Sequence[RowT],
    *,
    line_of: Callable[[RowT], int],
    apply: Callable[[RowT], RowResult],
    report: ImportReport,
    audit: Callable[[dict[str, Any]], None],
    finish: Callable[[], list[tuple[int, str, tuple[str, ...]]]] | None = None,
) -> None:
    """Apply ``rows`` in one transaction, each inside its own savepoint.

    A row that raises is rolled back to its savepoint and reported: ``RowFailed`` with its
    reason, anything else with the exception's type and message. Catching everything is on
    purpose here: an unexpected error in row 1,500 of a provincial file must not throw away
    the other 199 rows of the batch, and the operator needs to see which line to look at.

    ``finish`` runs after the rows, in the same transaction (an importer publishes the batch's
    drafts there); it returns the (line, code, quality rules) of the rows it kept as drafts.
    """
    with transaction.atomic():
        counts: Counter[str] = Counter()
        touched: dict[str, list[str]] = {"created": [], "updated": []}
        failed: list[tuple[int, str]] = []
        held: list[tuple[int, str, tuple[str, ...]]] = []
        for row in rows:
            try:
                with transaction.atomic():
                    result = apply(row)
            except RowFailed as exc:
                failed.append((exc.line or line_of(row), exc.reason))
                continue
            except Exception as exc:  # see the docstring
                failed.append((line_of(row), f"{type(exc).__name__}: {exc}"))
                continue
            counts[result.outcome] += 1
            if result.outcome in touched:
                touched[result.outcome].append(result.code)
        if finish is not None:
            held = finish()
        if counts["created"] or counts["updated"]:
            audit(
                {
                    "created": counts["created"],
                    "updated": counts["updated"],
                    "unchanged": counts["unchanged"],
                    "failed": len(failed),
                    "first_line": min(line_of(r) for r in rows),
                    "last_line": max(line_of(r) for r in rows),
                    "created_codes": touched["created"],
                    "updated_codes": touched["updated"],
                    "held_codes": [code for _line, code, _rules in held],
                }
            )
    report.touched.extend(touched["created"] + touched["updated"])
    report.created += counts["created"]
    report.updated += counts["updated"]
    report.unchanged += counts["unchanged"]
    report.failed.extend(failed)
    report.held.extend(held)
    for _line, _code, rules in held:
        report.quality.update(rules)


def chunked(items: Iterable[RowT], size: int) -> Iterable[list[RowT]]:
    batch: list[RowT] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class ItemTypes:
    """ItemType by name, creating a standard one the list does not hold yet.

    Importers resolve types while mapping, before the batch transaction opens: a type created
    here is configuration and must not vanish with the savepoint of a row that failed later.
    """

    def __init__(self) -> None:
        self._by_name = {t.name: t for t in ItemType.objects.all()}

    def get(self, name: str) -> ItemType:
        found = self._by_name.get(name)
        if found is not None:
            return found
        if name not in STANDARD_ITEM_TYPES:
            raise RowFailed(f"未知的事项类型「{name}」")
        code, is_power = STANDARD_ITEM_TYPES[name]
        if ItemType.objects.filter(code=code).exists():
            # The configured list uses this code for another name: take a free one.
            taken = set(ItemType.objects.values_list("code", flat=True))
            code = next(f"X{i:02d}" for i in range(1, 100) if f"X{i:02d}" not in taken)
        created = ItemType.objects.create(code=code, name=name, is_power=is_power)
        self._by_name[name] = created
        return created


class Timer:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    def seconds(self) -> float:
        return round(time.perf_counter() - self.start, 3)
