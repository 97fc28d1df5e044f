"""Self-service terminal mode (自助终端), under ``/terminal/``: the portal's application for a
touch screen in the service hall (a 1080×1920 portrait kiosk) or a phone.

* ``/terminal/``: large tiles of the most-used items (applications in the last
  ``selectors.POPULAR_DAYS`` days) and of the themes;
  ``?theme=<id>`` lists a theme's items. Nothing to type. Items flagged 支持自助终端办理
  are the terminal's list; while the catalog flags none,
  every item this platform handles is offered.
* ``/terminal/apply/<task_code>/`` (and ``…/bundle/<code>/``): the portal's apply form
  (``views._apply``: the same ``ApplyForm``, the same service, channel ``terminal``), one
  step per screen (terminal.js; without JavaScript the steps stand one below the other). The
  phone is the account's unless the applicant chooses to type another.
* ``/terminal/done/<id>/``: the application number in large type, 打印回执 and 退出.

The terminal is a shared machine: every page signs the user out after ``IDLE_SECONDS``
without a touch (terminal.js posts the sign-out form) and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from yiwang.accounts.models import User
from yiwang.applications.access import access_own_application, require_applicant
from yiwang.applications.models import Application
from yiwang.applications.selectors import recent_uses
from yiwang.applications.views import apply_page
from yiwang.catalog.models import Bundle, ItemVersion, ServiceItem, Theme
from yiwang.catalog.search import catalog_search
from yiwang.core.access import authenticated, public
from yiwang.core.errors import NotFound
from yiwang.core.masking import mask_name, mask_phone

IDLE_SECONDS = 120  # sign-out after this long without a touch (the finish screen: DONE_IDLE)
DONE_IDLE_SECONDS = 60
POPULAR_COUNT = 8
LIST_LIMIT = 500  # catalog hits looked at for a list


@dataclass(frozen=True)
class Tile:
    """One large choice of the terminal's home: an item or a 一件事."""

    name: str
    url_name: str
    code: str
    department: str
    bundle: bool
    uses: int = 0


def _audience(user: Any) -> str:
    return "legal" if getattr(user, "kind", "") == User.Kind.ENTERPRISE else "natural"


def _terminal_flagged() -> set[int]:
    return set(
        ItemVersion.objects.filter(
            status=ItemVersion.Status.PUBLISHED, supports_terminal=True
        ).values_list("pk", flat=True)
    )


def _tiles(*, audience: str, theme: int | None) -> list[Tile]:
    """The items (that this platform handles) and 一件事 for ``audience``, most used first."""
    found = catalog_search(q="", audience=audience, theme=theme, kind="all", limit=LIST_LIMIT)
    flagged = _terminal_flagged()
    tiles: list[Tile] = []
    item_ids: list[int] = []
    bundle_ids: list[int] = []
    for hit in found.items:
        if hit.version is not None:
            version = hit.version
            if version.external_system or (flagged and version.pk not in flagged):
                continue
            item_ids.append(version.item_id)
            tiles.append(
                Tile(
                    version.name, "applications:terminal_apply", hit.code, version.dept_name, False
                )
            )
        elif hit.bundle is not None:
            bundle_ids.append(hit.bundle.pk)
            tiles.append(
                Tile(
                    hit.bundle.name,
                    "applications:terminal_apply_bundle",
                    hit.code,
                    hit.bundle.lead_department.name,
                    True,
                )
            )
    item_uses, bundle_uses = recent_uses(item_ids, bundle_ids)
    counted = [
        Tile(
            t.name,
            t.url_name,
            t.code,
            t.department,
            t.bundle,
            (bundle_uses if t.bundle else item_uses).get(t.code, 0),
        )
        for t in tiles
    ]
    # stable: equal use keeps the catalog's (pinyin) order
    return sorted(counted, key=lambda t: -t.uses)


def _themes(audience: str) -> list[Theme]:
    return list(
        Theme.objects.filter(
            audience=audience,
            itemversion__status=ItemVersion.Status.PUBLISHED,
            itemversion__external_system=False,
        )
        .annotate(n=Count("itemversion", distinct=True))
        .order_by("sort_order", "name")
    )


def _chrome(idle: int = IDLE_SECONDS) -> dict[str, Any]:
    return {"idle_seconds": idle}


@public
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    audience = _audience(request.user)
    theme = None
    theme_text = request.GET.get("theme", "")
    if theme_text:
        theme = Theme.objects.filter(
            pk=int(theme_text) if theme_text.isdigit() else 0, audience=audience
        ).first()
        if theme is None:
            raise NotFound("core.not_found", _("找不到该主题。"))
    tiles = _tiles(audience=audience, theme=theme.pk if theme else None)
    return render(
        request,
        "applications/terminal/home.html",
        {
            "theme": theme,
            "tiles": tiles if theme else tiles[:POPULAR_COUNT],
            "themes": [] if theme else _themes(audience),
            **_chrome(),
        },
    )


def _terminal_apply(
    request: HttpRequest,
    *,
    item: ServiceItem | None,
    bundle: Bundle | None,
    version: ItemVersion | None,
    title: str,
) -> HttpResponse:
    user = require_applicant(request.user)
    data = None
    use_account_phone = bool(user.phone)
    if request.method == "POST":
        use_account_phone = bool(user.phone) and request.POST.get("phone_choice") != "other"
        if use_account_phone:
            data = request.POST.copy()
            data["contact_phone"] = user.phone

    def done(application: Application) -> HttpResponse:
        return redirect("applications:terminal_done", public_id=application.public_id)

    return apply_page(
        request,
        item=item,
        bundle=bundle,
        version=version,
        title=title,
        channel=Application.Channel.TERMINAL,
        template="applications/terminal/apply.html",
        data=data,
        done=done,
        extra={
            "account_phone": mask_phone(user.phone) if user.phone else "",
            "use_account_phone": use_account_phone,
            **_chrome(),
        },
    )


@authenticated
@require_http_methods(["GET", "POST"])
def apply_item(request: HttpRequest, task_code: str) -> HttpResponse:
    version = (
        ItemVersion.objects.filter(
            item__task_code=task_code, status=ItemVersion.Status.PUBLISHED, external_system=False
        )
        .select_related("item")
        .first()
    )
    if version is None:
        raise NotFound("core.not_found", _("找不到该事项，或该事项不能在本平台申请。"))
    return _terminal_apply(
        request, item=version.item, bundle=None, version=version, title=version.name
    )


@authenticated
@require_http_methods(["GET", "POST"])
def apply_bundle(request: HttpRequest, code: str) -> HttpResponse:
    bundle = Bundle.objects.filter(code=code, status=Bundle.Status.PUBLISHED).first()
    if bundle is None:
        raise NotFound("core.not_found", _("找不到该一件事，或它尚未发布。"))
    return _terminal_apply(request, item=None, bundle=bundle, version=None, title=bundle.name)


@authenticated
@require_GET
def done(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The finish screen (and the receipt it prints)."""
    user = require_applicant(request.user)
    application = access_own_application(user, public_id)
    return render(
        request,
        "applications/terminal/done.html",
        {
            "application": application,
            "applicant": mask_name(application.applicant.real_name),
            "contact_phone": mask_phone(application.contact_phone),
            **_chrome(DONE_IDLE_SECONDS),
        },
    )
