"""One submission from a page, for every channel that has one: the citizen portal
(``views``), the self-service terminal (``views_terminal``) and the window's 前台综合受理
(``views_staff``). The page binds an ``ApplyForm`` (or ``WalkInForm``); this module reads the
materials the page sent, calls ``services.application_submit`` once and puts each problem the
service reports next to the field or the material it is about.

When the form itself is invalid the service's checks run all the same
(``services.application_validate``, which creates nothing), so that one round shows every
problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from yiwang.accounts.models import User
from yiwang.applications import services
from yiwang.applications.forms import FORM_PREFIX, ApplyForm, MaterialRow
from yiwang.applications.models import Application
from yiwang.catalog.models import Bundle, ItemVersion, ServiceItem
from yiwang.core.errors import DomainError, ValidationError


@dataclass
class Submission:
    """What a POST came to: the application, or the problems not tied to a field (and the
    response status: 422 for invalid input, the error's own status otherwise)."""

    application: Application | None = None
    general: list[str] = field(default_factory=list)
    status: int = 200


def materials_from_post(
    request: HttpRequest, rows: list[MaterialRow]
) -> tuple[list[services.MaterialInput], dict[int, int]]:
    """The materials the page sent (an upload or a 容缺 promise for each row) and, per input
    index, the row's material id (the service reports problems as ``materials[i]``)."""
    given: list[services.MaterialInput] = []
    index_to_id: dict[int, int] = {}
    for row in rows:
        upload = request.FILES.get(f"material_{row.pk}")
        promised = row.tolerated and request.POST.get(f"promise_{row.pk}") == "on"
        row.promised = promised
        if upload is not None:
            index_to_id[len(given)] = row.pk
            given.append(
                services.MaterialInput(
                    material_id=row.pk, content=upload.read(), filename=upload.name or ""
                )
            )
        elif promised:
            index_to_id[len(given)] = row.pk
            given.append(services.MaterialInput(material_id=row.pk, promised=True))
    return given, index_to_id


def place_problems(
    form: ApplyForm,
    rows: list[MaterialRow],
    problems: list[dict[str, str]],
    index_to_id: dict[int, int],
) -> list[str]:
    """Put each problem next to its field or material; the others are returned."""
    by_id = {row.pk: row for row in rows}
    general: list[str] = []
    for problem in problems:
        where, message = problem.get("field", ""), problem.get("message", "")
        target = form.field_for_problem(where)
        if target is not None:
            if message not in form.errors.get(target, []):
                form.add_error(target, message)
            continue
        row = None
        if where.startswith("materials[") and where.endswith("]"):
            index = where[len("materials[") : -1]
            row = by_id.get(index_to_id.get(int(index), -1)) if index.isdigit() else None
        elif where == "materials":
            row = next((r for r in rows if f"“{r.name}”" in message), None)
        if row is not None:
            row.errors.append(message)
        else:
            general.append(message)
    return general


def problems_of(exc: ValidationError) -> list[dict[str, str]]:
    return exc.extra.get("problems") or [
        {"field": exc.extra.get("field", ""), "message": str(exc.message)}
    ]


def submit_from_post(
    request: HttpRequest,
    *,
    form: ApplyForm,
    rows: list[MaterialRow],
    actor: User,
    item: ServiceItem | None,
    bundle: Bundle | None,
    channel: str,
    applicant: User | None = None,
    principal: User | None = None,
) -> Submission:
    """Validate ``form`` (bound to the POST) and submit through the service."""
    materials, index_to_id = materials_from_post(request, rows)
    valid = form.is_valid()  # the form checks the shape of the facts; the service the rest
    data = form.cleaned_data
    facts: dict[str, Any] = {
        "actor": actor,
        "item": item,
        "bundle": bundle,
        "form_data": form.form_data() if valid else form.raw_form_data(),
        "contact_phone": str(data.get("contact_phone") or form.data.get("contact_phone", "")),
        "materials": materials,
        "situation": str(data.get("situation") or form.data.get("situation", "")),
        "channel": channel,
        "applicant": applicant,
        "principal": principal,
    }
    try:
        if not valid:
            services.application_validate(**facts)
            return Submission(status=422)
        application = services.application_submit(
            **facts, idempotency_key=str(data.get("idempotency_key") or "")
        )
    except ValidationError as exc:
        return Submission(
            general=place_problems(form, rows, problems_of(exc), index_to_id), status=422
        )
    except DomainError as exc:
        return Submission(general=[str(exc.message)], status=exc.status if valid else 422)
    return Submission(application=application)


def error_count(form: ApplyForm, rows: list[MaterialRow], general: list[str]) -> int:
    return (
        len(general) + sum(len(e) for e in form.errors.values()) + sum(len(r.errors) for r in rows)
    )


def situation_hints(form: ApplyForm) -> dict[str, Any]:
    return dict(getattr(form, "situation_hints", {}))


def form_context(
    *,
    form: ApplyForm,
    rows: list[MaterialRow],
    outcome: Submission,
    posted: bool,
    title: str,
    item: ServiceItem | None,
    bundle: Bundle | None,
    version: ItemVersion | None,
) -> dict[str, Any]:
    """What every channel's apply template is rendered with."""
    return {
        "title": title,
        "item": item,
        "bundle": bundle,
        "version": version,
        "form": form,
        "rows": rows,
        "general_errors": outcome.general,
        "situation_hints": situation_hints(form),
        "situation": str(form.data.get("situation", "")) if posted else "",
        "fact_fields": [form[n] for n in form.fields if n.startswith(FORM_PREFIX)],
        "error_count": error_count(form, rows, outcome.general),
    }
