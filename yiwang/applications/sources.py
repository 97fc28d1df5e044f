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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from yiwang.accounts.models import User
from yiwang.catalog.models import Material


@dataclass(frozen=True)
class FetchedMaterial:
    """What a provider found: a reference that lets staff open it (e-certificate identifier
    per GB/T 36904, or a data-sharing call id) and the provider's name."""

    reference: str
    provider: str
    title: str = ""


MaterialProvider = Callable[[Material, User], "FetchedMaterial | None"]

_providers: list[MaterialProvider] = []


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
    if not material.fetched:
        return None
    for provider in _providers:
        found = provider(material, applicant)
        if found is not None:
            return found
    return None
