"""Catalog exporters: the Excel template (``catalog_export_xlsx``)."""

from __future__ import annotations

from yiwang.catalog.exporters.xlsx import ExportReport, catalog_export_xlsx

__all__ = ["ExportReport", "catalog_export_xlsx"]
