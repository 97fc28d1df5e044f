"""The one pagination of the whole API: ``?page=N&page_size=M`` answered by
``{"items": [...], "count": total, "page": N, "page_size": M}``.

Selected for every ``@paginate`` through ``NINJA_PAGINATION_CLASS``. A page size above the
maximum is refused (422) rather than silently clamped, so that a client that asks for 1000 rows
learns at once that it gets at most ``NINJA_MAX_PER_PAGE_SIZE``; a page past the end is an empty
page with the true ``count``, not an error.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.conf import settings as ninja_settings
from ninja.pagination import PaginationBase

DEFAULT_PAGE_SIZE: int = ninja_settings.PAGINATION_PER_PAGE
MAX_PAGE_SIZE: int = ninja_settings.PAGINATION_MAX_PER_PAGE_SIZE


class PagePagination(PaginationBase):
    class Input(Schema):
        page: int = Field(1, ge=1, description="1-based page number")
        page_size: int = Field(
            DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="items per page"
        )

    class Output(Schema):
        items: list[Any]
        count: int = Field(description="total number of items across all pages")
        page: int
        page_size: int

    def paginate_queryset(
        self,
        queryset: QuerySet[Any],
        pagination: Input,
        request: HttpRequest,
        **params: Any,
    ) -> dict[str, Any]:
        offset = (pagination.page - 1) * pagination.page_size
        return {
            "items": queryset[offset : offset + pagination.page_size],
            "count": self._items_count(queryset),
            "page": pagination.page,
            "page_size": pagination.page_size,
        }
