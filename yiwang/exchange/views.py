"""用数记录 (/exchange/): "谁查看了我的数据". The signed-in person sees every exchange call
whose subject was their ID number (or the USCC of an enterprise they act for): when, which
department, which resource, for what purpose and which case. Nothing of other people: the
rows come from ``selectors.access_log_of_subject``, which matches on the blind index only."""

from __future__ import annotations

from typing import cast

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from yiwang.accounts.access import citizen_required
from yiwang.accounts.models import User
from yiwang.exchange import selectors

PAGE_SIZE = 30


@citizen_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    rows = selectors.access_log_of_subject(cast(User, request.user))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    names = selectors.resource_names({entry.resource_code for entry in page})
    return render(
        request,
        "exchange/mine.html",
        {"page": page, "entries": [(e, names.get(e.resource_code, "")) for e in page]},
    )
