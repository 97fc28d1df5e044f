"""What other apps lend to the applications pages without this app importing them (the
data-sharing exchange sits above applications in the import layers and registers here from
``yiwang.exchange.hooks``):

* **Prefill** (``prefill_register``): the apply form's initial values for the signed-in
  applicant, e.g. name, address and phone from the population resource, each source named so
  that the page can say where the values came from (申请表预填).
* **Task data** (``task_data_register``): the records a department's task reads for its case
  (共享数据 on the staff task page), each a case-bound, logged read made when staff ask.
* **Material data** (``material_data_register``): what a material fetched through data
  sharing says, read again (and logged) when staff open it.

Every function here answers "nothing" when no app registered: the pages then look as before.
A registered function must not raise for an ordinary refusal; it reports it in ``error``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from yiwang.accounts.models import User

if TYPE_CHECKING:
    from yiwang.applications.models import ApplicationMaterial, Task
    from yiwang.catalog.models import Bundle, ItemVersion


@dataclass(frozen=True)
class SharedRecords:
    """One read of shared data as a page shows it: whose data, from which resource of which
    department, the records as (label, value) rows (masked as the grant says), or the error."""

    resource: str
    owner: str
    subject: str = ""
    records: list[list[tuple[str, str]]] = field(default_factory=list)
    error: str = ""
    log_seq: int | None = None


@dataclass(frozen=True)
class Prefill:
    """Initial values of the apply form (keys: the form's fact names, plus ``contact_phone``)
    and the departments they came from."""

    values: dict[str, Any]
    sources: list[str]


PrefillProvider = Callable[
    [User, "ItemVersion | None", "Bundle | None", Sequence[str]], Prefill | None
]
TaskDataProvider = Callable[["Task", User], list[SharedRecords]]
MaterialDataProvider = Callable[["ApplicationMaterial", User], "list[SharedRecords] | None"]

_prefill: list[PrefillProvider] = []
_task_data: list[TaskDataProvider] = []
_material_data: list[MaterialDataProvider] = []


def _add(registry: list[Any], fn: Any) -> Any:
    if fn not in registry:
        registry.append(fn)
    return fn


def prefill_register(fn: PrefillProvider) -> PrefillProvider:
    return _add(_prefill, fn)  # type: ignore[no-any-return]


def task_data_register(fn: TaskDataProvider) -> TaskDataProvider:
    return _add(_task_data, fn)  # type: ignore[no-any-return]


def material_data_register(fn: MaterialDataProvider) -> MaterialDataProvider:
    return _add(_material_data, fn)  # type: ignore[no-any-return]


def prefill_for(
    user: User, version: ItemVersion | None, bundle: Bundle | None, names: Sequence[str]
) -> Prefill | None:
    """The first registered prefill's values for the form fields ``names`` (the first
    provider's value wins per field), or None."""
    values: dict[str, Any] = {}
    sources: list[str] = []
    for fn in _prefill:
        found = fn(user, version, bundle, names)
        if found is None:
            continue
        fresh = {k: v for k, v in found.values.items() if k not in values}
        if fresh:
            values.update(fresh)
            sources += [s for s in found.sources if s not in sources]
    return Prefill(values=values, sources=sources) if values else None


def task_data(task: Task, user: User) -> list[SharedRecords]:
    return [records for fn in _task_data for records in fn(task, user)]


def material_data(material: ApplicationMaterial, user: User) -> list[SharedRecords] | None:
    """The records behind a fetched material, read again for ``user``; None when no
    registered app knows the material's reference."""
    for fn in _material_data:
        found = fn(material, user)
        if found is not None:
            return found
    return None
