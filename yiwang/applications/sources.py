"""Materials the government already holds (国务院令第716号 Art. 7: 不得要求申请人提交能够通过
电子证照或数据共享获取的材料).

A catalog material whose ``fetched`` is true (issued by government, with a named e-certificate
type or shared data resource) should not be uploaded: at submission the applications service
asks the registered providers for it with ``material_fetch(material, applicant)``. The first
provider that answers with a ``FetchedMaterial`` satisfies the material (stored with source
``government`` and the provider's reference); when every provider answers ``None`` the
applicant must upload it after all, and validation says so.

Who registers here: the e-certificate app (证照库: the applicant's valid certificate of type
``material.certificate_type_code``; ``yiwang.certificates.hooks``) and, later, the exchange app
(数据共享: a gateway call bound to the case's purpose for ``material.data_resource_code``).

A provider is a callable ``(material, applicant) -> FetchedMaterial | None``. It runs inside
the submission's transaction: it must not write elsewhere and must be quick (a slow gateway
should answer ``None`` and let the applicant upload).

A provider that needs the rest of the request (whose data: the principal, the parties the
form names, the property's certificate number) registers with
``material_source_register(provider)`` instead: ``(material, request) -> FetchedMaterial |
None``, asked before the plain providers. It may raise ``NotFetched(reason)``: the next
provider is asked, and if none answers the reason is said to the applicant instead of a bare
"please upload". A ``FetchedMaterial`` may carry ``bind``: called once the application row
exists (its number known, in the submission's transaction) and returning the reference to
store; it may raise a ``DomainError`` (e.g. 503 when the owner's system is down), which rolls
the whole submission back.

``material_describe`` (registered with ``material_describer_register``) says where a stored
material came from, for the applicant's and staff's pages; ``material_origin`` says the same of
a catalog material before submission.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from yiwang.accounts.models import User
from yiwang.catalog.models import Material

if TYPE_CHECKING:
    from yiwang.applications.models import Application, ApplicationMaterial


@dataclass(frozen=True)
class FetchedMaterial:
    """What a provider found: a reference that lets staff open it (e-certificate identifier
    per GB/T 36904, or a data-sharing call id) and the provider's name."""

    reference: str
    provider: str
    title: str = ""
    # Called with the new application (number known) in the submission's transaction; returns
    # the reference to store instead of ``reference``.
    bind: Callable[[Application], str] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class FetchRequest:
    """The submission a material is fetched for: the applicant (who files), the principal of
    a 代办 (whose case it is), the clerk or applicant who enters it, and the form."""

    applicant: User
    principal: User | None = None
    actor: User | None = None
    form_data: dict[str, Any] = field(default_factory=dict)

    @property
    def person(self) -> User:
        """Whose case it is: the principal of a 代办, else the applicant."""
        return self.principal or self.applicant


class NotFetched(Exception):
    """A provider could not provide the material, and says why (shown to the applicant)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class FetchOutcome:
    found: FetchedMaterial | None
    reasons: tuple[str, ...] = ()


MaterialProvider = Callable[[Material, User], "FetchedMaterial | None"]
MaterialSource = Callable[[Material, FetchRequest], "FetchedMaterial | None"]
MaterialDescriber = Callable[["ApplicationMaterial"], "str | None"]
MaterialOrigin = Callable[[str, str], "str | None"]

_providers: list[MaterialProvider] = []
_sources: list[MaterialSource] = []
_describers: list[MaterialDescriber] = []
_origins: list[MaterialOrigin] = []


def material_source_register(source: MaterialSource) -> MaterialSource:
    """Register a provider that reads the whole request (asked first); twice is a no-op."""
    if source not in _sources:
        _sources.append(source)
    return source


def material_source_unregister(source: MaterialSource) -> None:
    if source in _sources:
        _sources.remove(source)


def material_describer_register(describer: MaterialDescriber) -> MaterialDescriber:
    if describer not in _describers:
        _describers.append(describer)
    return describer


def material_origin_register(origin: MaterialOrigin) -> MaterialOrigin:
    if origin not in _origins:
        _origins.append(origin)
    return origin


def material_describe(material: ApplicationMaterial) -> str:
    """Where a stored material came from (e.g. 由六安市公安局通过数据共享提供：人口基本信息),
    or "" when no describer knows it."""
    for describer in _describers:
        text = describer(material)
        if text:
            return text
    return ""


def material_origin(certificate_type_code: str, data_resource_code: str) -> str:
    """Where a catalog material will be fetched from, before submission, or ""."""
    for origin in _origins:
        text = origin(certificate_type_code, data_resource_code)
        if text:
            return text
    return ""


def material_lookup(material: Material, request: FetchRequest) -> FetchOutcome:
    """The material from the first provider that has it (the request-aware ones first), with
    the reasons the others gave when none has it."""
    if not material.fetched:
        return FetchOutcome(None)
    reasons: list[str] = []
    for source in _sources:
        try:
            found = source(material, request)
        except NotFetched as exc:
            reasons.append(exc.reason)
            continue
        if found is not None:
            return FetchOutcome(found)
    for provider in _providers:
        found = provider(material, request.applicant)
        if found is not None:
            return FetchOutcome(found)
    return FetchOutcome(None, tuple(reasons))


def material_provider_register(provider: MaterialProvider) -> MaterialProvider:
    """Register ``provider`` (usable as a decorator). Registering twice is a no-op."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def material_provider_unregister(provider: MaterialProvider) -> None:
    if provider in _providers:
        _providers.remove(provider)


def material_fetch(material: Material, applicant: User) -> FetchedMaterial | None:
    """The material from the first provider that has it, or None (then it must be uploaded).
    Materials the catalog does not mark as fetched are never asked for."""
    return material_lookup(material, FetchRequest(applicant=applicant)).found
