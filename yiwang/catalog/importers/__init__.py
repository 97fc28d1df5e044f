"""Catalog importers: the Guangdong provincial JSON-lines export and our own Excel template.

Both follow the same rules (importers.common): one transaction per batch, a savepoint per
item, every bad row reported with its line and reason, one audit row per batch.
"""

from __future__ import annotations

from yiwang.catalog.importers.common import ImportReport
from yiwang.catalog.importers.gd_jsonl import catalog_import_gd_jsonl
from yiwang.catalog.importers.xlsx import catalog_import_xlsx

__all__ = ["ImportReport", "catalog_import_gd_jsonl", "catalog_import_xlsx"]
