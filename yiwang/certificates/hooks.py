"""Where the certificates app plugs into applications (registered in CertificatesConfig.ready).

* Issuance hook: when an approved application is issued (出件), every result certificate type
  of its item version (``version.result_certificate_type``; for a 一件事, of each member's) is
  issued to the applicant (or the principal of a 代办) in the same transaction, by the
  member's department, linked to the application.
  A type code the city has not defined issues nothing (the result goes out on paper only).
* Material provider: a material whose ``certificate_type_code`` names a type is satisfied by
  the applicant's currently valid certificate of that type (国务院令第716号 Art. 7).
* The provider runs while the request is validated, before the application exists, so it
  cannot know the case number; the use (用证) is recorded when the submission stores the
  material (``post_save`` of ``ApplicationMaterial`` with the identifier as its reference), in
  the submission's transaction: reason “办理<事项名称>”, the application number, the accepting
  department.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models.signals import post_save
from django.utils.translation import gettext

from yiwang.accounts.models import Department, Enterprise, User
from yiwang.applications.hooks import hook_register
from yiwang.applications.models import Application, ApplicationMaterial
from yiwang.applications.sources import FetchedMaterial, material_provider_register
from yiwang.catalog.models import ItemVersion, Material
from yiwang.certificates import services
from yiwang.certificates.models import Certificate, CertificateType, HolderType
from yiwang.certificates.selectors import valid_certificate_of

logger = logging.getLogger("yiwang.certificates")

PROVIDER = "certificates"
# Keys of the application form that name the enterprise holder of a USCC certificate.
USCC_KEYS = ("uscc", "credit_code", "统一社会信用代码")
ENTERPRISE_NAME_KEYS = ("enterprise_name", "company_name", "企业名称", "名称")


def _enterprise_of(user: User) -> Enterprise | None:
    enterprises = list(Enterprise.objects.filter(members=user).order_by("id")[:2])
    return enterprises[0] if len(enterprises) == 1 else None


def _holder(
    application: Application, type_: CertificateType
) -> tuple[str, str, User | None] | None:
    """(name, ID number or USCC, account) of the person or enterprise the case is for, or None
    when the case does not say (e.g. 企业开办 before the USCC exists)."""
    person = application.principal or application.applicant
    form = application.form_data if isinstance(application.form_data, dict) else {}
    if type_.holder_type == HolderType.USCC:
        code = next((str(form[k]) for k in USCC_KEYS if form.get(k)), "")
        name = next((str(form[k]) for k in ENTERPRISE_NAME_KEYS if form.get(k)), "")
        if not code:
            enterprise = _enterprise_of(person)
            if enterprise is not None:
                code, name = enterprise.uscc, name or enterprise.name
        if not code or not name:
            return None
        return name, code, person
    if not person.real_name or not person.id_number:
        return None
    return person.real_name, person.id_number, person


def _face(application: Application, type_: CertificateType, holder_name: str) -> dict[str, Any]:
    form = application.form_data if isinstance(application.form_data, dict) else {}
    defaults: dict[str, Any] = {
        "holder_name": holder_name,
        "name": holder_name,
        "application_number": application.number,
        "issue_date": (application.issued_at or application.updated_at).date().isoformat(),
        "item_name": application.name,
    }
    face: dict[str, Any] = {}
    for spec in type_.face_fields:
        key = spec["key"]
        value = form.get(key)
        if value in (None, "") or isinstance(value, (dict, list, bool, float)):
            value = defaults.get(key)
        if value not in (None, ""):
            face[key] = value if isinstance(value, int) else str(value)
    return face


def _results(application: Application) -> list[tuple[ItemVersion, Department]]:
    """The item versions whose results this case issues, each with the department that issues
    it: the item itself, or for a 一件事 every member (不动产权证书 comes from the
    natural-resources member of 二手房过户, not from the bundle's first member)."""
    if not application.bundle_id or not application.member_versions:
        return [(application.version, application.department)]
    members = [m for m in application.member_versions if isinstance(m, dict)]
    versions = ItemVersion.objects.in_bulk([m.get("version_id") for m in members])
    departments = Department.objects.in_bulk([m.get("department_id") for m in members])
    results = []
    for member in members:
        version = versions.get(member.get("version_id"))
        if version is not None and version.result_certificate_type:
            department = departments.get(member.get("department_id")) or application.department
            results.append((version, department))
    return results


def issue_for_application(application: Application) -> list[Certificate]:
    """The issuance hook: one certificate per result certificate type the city has defined.
    Idempotent: issuing again returns the certificates already issued."""
    issued = []
    for version, department in _results(application):
        code = version.result_certificate_type
        type_ = CertificateType.objects.filter(code=code, active=True).first() if code else None
        if type_ is None:
            continue
        existing = Certificate.objects.filter(source_application=application, type=type_).first()
        if existing is not None:
            issued.append(existing)
            continue
        holder = _holder(application, type_)
        if holder is None:
            # Not blocking 出件: the paper result still goes out; the holder is not known yet.
            logger.warning(
                "no e-certificate holder for application %s (type %s)", application.number, code
            )
            continue
        name, number, account = holder
        issued.append(
            services.certificate_issue(
                actor=services.SYSTEM_ACTOR,
                type=type_,
                department=department,
                holder_name=name,
                holder_number=number,
                holder_user=account if type_.holder_type == HolderType.ID_NUMBER else None,
                issuer_uscc=department.uscc or version.dept_uscc,
                face=_face(application, type_, name),
                application=application,
            )
        )
    return issued


def _issuance_hook(application: Application) -> None:
    issue_for_application(application)


def certificate_material(material: Material, applicant: User) -> FetchedMaterial | None:
    """The material provider: the applicant's valid certificate of the material's type."""
    code = material.certificate_type_code
    if not code:
        return None
    type_ = CertificateType.objects.filter(code=code).first()
    if type_ is None:
        return None
    if type_.holder_type == HolderType.USCC:
        numbers = list(Enterprise.objects.filter(members=applicant).values_list("uscc", flat=True))
    else:
        numbers = [applicant.id_number] if applicant.id_number else []
    for number in numbers:
        found = valid_certificate_of(type_code=code, holder_number=number)
        if found is not None:
            return FetchedMaterial(
                reference=found.identifier,
                provider=PROVIDER,
                title=gettext("电子证照：%(t)s") % {"t": type_.name},
            )
    return None


def _record_use(sender: Any, instance: ApplicationMaterial, created: bool, **kwargs: Any) -> None:
    if not created or instance.source != ApplicationMaterial.Source.GOVERNMENT:
        return
    if not instance.reference.startswith("1.2.156.3005.2."):
        return
    certificate = Certificate.objects.filter(identifier=instance.reference).first()
    if certificate is None:
        return
    application = instance.application
    services.certificate_use(
        actor=services.SYSTEM_ACTOR,
        certificate=certificate,
        department=application.department,
        reason=(gettext("办理%(n)s") % {"n": application.name})[: services.REASON_MAX],
        case_number=application.number,
        application=application,
    )


def register() -> None:
    hook_register("issuance", _issuance_hook)
    material_provider_register(certificate_material)
    post_save.connect(
        _record_use, sender=ApplicationMaterial, dispatch_uid="certificates.record_use"
    )


# --- public wrappers for the staff console's 签发电子证照 page (prefill from a case) -----------


def holder_for(
    application: Application, type_: CertificateType
) -> tuple[str, str, User | None] | None:
    """(name, number, account) of the holder the case names, or None (see ``_holder``)."""
    return _holder(application, type_)


def face_for(application: Application, type_: CertificateType, name: str) -> dict[str, Any]:
    """The face data the issuance hook would give the certificate (see ``_face``)."""
    return _face(application, type_, name)
