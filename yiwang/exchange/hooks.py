"""Where the exchange app plugs into applications (registered in ExchangeConfig.ready):
"once only" (国务院令第716号 第七条: what a department can obtain through sharing it must not
ask the applicant for again).

Material provider (``exchange_material``, a request-aware source of
``yiwang.applications.sources``)
    A catalog material whose ``data_resource_code`` names a published resource is fetched
    through the gateway instead of uploaded. The consumer is the department of the material's
    item (for a 一件事: the member's department, e.g. 住建局 for 网签备案's 不动产权证书); it
    must hold an active grant covering the item. Whose data (the subject key):

    * a property owner's records (the resource has ``certificate_no``, e.g. 不动产登记信息): the
      seller the form names (``seller_id_number``), else the applicant (or principal); when the
      form names the 不动产权证书号 a record must carry that number;
    * a transaction's records (``unit_no`` without ``certificate_no``, e.g. 完税证明): the buyer
      the form names (``buyer_id_number``), else the applicant (or principal);
    * anything else about people (e.g. 人口基本信息 for 买卖双方居民身份证): the applicant (or
      principal) and every party whose ID number the form names; each must have a record;
    * enterprises: the USCC the form names, else the applicant's enterprise.

Binding to the case: no data is read before the case exists. While the request is validated
(no case number yet) the provider only checks, locally, that the resource is published, that
the consumer holds a grant for the item and that the form names whom to look up: nothing of a
person is read, so nothing needs a case number or a 本人数据 exception. The provider answers
with a ``bind``: once the application row exists (its number known, inside the submission's
transaction) the gateway is called bound to the case (consumer, case number, purpose
``申请受理前核验：<材料名>``), and the material is stored with the reference
``exchange:<resource code>:<log seq>[+<log seq>…]``. The log rows are committed whatever the
submission does (``accesslog``); a rolled-back submission leaves honest "answered" rows for a
number that was never issued. On SQLite a rolled-back row id (and so its number) can be given
to the next application, so the purpose also carries the first 8 characters of the
submission's ``public_id`` (a fresh UUID per attempt): a log row belongs to the case whose
``public_id`` starts with them, and to no other case that later got the same number.

Faults are never a silent gap: if the owner's system is down the bind raises
``MaterialSourceUnavailable`` (503, "…暂时没有响应，申请尚未提交，请稍后重试"): the whole
submission is rolled back and the page keeps what was typed. We chose this over accepting the
case with the material "待获取": a citizen learns at once, at the counter or on the phone,
that nothing was filed, instead of a case that stalls at a department without their knowing;
and nothing of a half-complete case needs a retry job to finish it. A refusal (grant revoked
meanwhile) or a missing record is a 422 problem on the material: the applicant may upload it.
A consumer without a grant is said on the material at validation ("…尚未获得…的共享授权").

Staff opening the material (``material_records``) see the data through a fresh, logged,
case-bound call by their own department (purpose ``查看申请材料：<名称>``).

Department tasks (``task_records``): the staff task page's 共享数据 panel reads, when asked,
every resource the task's department holds a grant for on the task's item, for the case's
parties (consumer = the task's department, the case number, purpose = the task's name).
A department's own resources are not read through the exchange (it has its own system).

Prefill (``prefill``): the apply form's name, ID number, address and phone (and an
enterprise's name, address …) from 人口基本信息 and 法人登记信息 of the signed-in applicant,
through the gateway by the accepting department, purpose ``申请表预填``, no case number (the
gateway's 本人数据 rule: the subject is the caller's own ID number or enterprise). Masked
values are left out.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from yiwang.accounts.models import Department, Enterprise, User
from yiwang.applications import shared, sources
from yiwang.applications.errors import INVALID
from yiwang.applications.models import Application, ApplicationMaterial, Task
from yiwang.catalog.models import Bundle, ItemVersion, Material
from yiwang.core.errors import DomainError, ValidationError
from yiwang.core.identifiers import resident_id_parse, uscc_validate
from yiwang.exchange.adapters import SourceUnavailable
from yiwang.exchange.gateway import QueryResult, exchange_query
from yiwang.exchange.models import DataResource, Grant, SharingClass, SubjectType

logger = logging.getLogger("yiwang.exchange")

PROVIDER = "exchange"
REFERENCE_PREFIX = "exchange:"
POPULATION = "LA-DR-GA-001"  # = yiwang.exchange.demo.POPULATION (prefill)
LEGAL_ENTITIES = "LA-DR-SC-001"  # = yiwang.exchange.demo.LEGAL_ENTITIES (prefill)
PURPOSE_CHECK = "申请受理前核验：%(m)s（提交 %(s)s）"
PURPOSE_VIEW = "查看申请材料：%(m)s"
PURPOSE_PREFILL = "申请表预填"
CERTIFICATE_KEYS = ("property_certificate_no", "bdcqzh", "certificate_no")
USCC_KEYS = ("uscc", "credit_code")
PARTY_LABELS: dict[str, Any] = {
    "seller_id_number": _("出卖人"),
    "buyer_id_number": _("买受人"),
    "legal_rep_id_number": _("法定代表人"),
}

# The apply form's field → the population resource's column (and the legal-entity one's).
PERSON_PREFILL = {
    "name": "name",
    "real_name": "name",
    "applicant_name": "name",
    "buyer_name": "name",
    "legal_rep_name": "name",
    "id_number": "id_number",
    "buyer_id_number": "id_number",
    "legal_rep_id_number": "id_number",
    "sex": "sex",
    "gender": "sex",
    "birth_date": "birth_date",
    "nation": "nation",
    "address": "household_address",
    "household_address": "household_address",
    "phone": "phone",
    "mobile": "phone",
    "buyer_phone": "phone",
    "contact_phone": "phone",
}
ENTERPRISE_PREFILL = {
    "uscc": "uscc",
    "enterprise_name": "name",
    "company_name": "name",
    "company": "name",
    "legal_representative": "legal_rep_name",
    "registered_address": "address",
    "registered_capital": "registered_capital_wan",
    "industry": "industry",
}


class MaterialSourceUnavailable(DomainError):
    """The owner's system did not answer while a material was fetched for a submission: 503,
    nothing was filed, retry later."""

    status = 503
    code = "exchange.source_unavailable"


@dataclass(frozen=True)
class Subject:
    key: str
    label: str  # whose: 申请人, 出卖人, 买受人, 企业 …


# --- whose data --------------------------------------------------------------------------------


def _id_number(value: Any) -> str:
    try:
        return resident_id_parse(str(value or "")).number
    except ValidationError:
        return ""


def _form_text(form: dict[str, Any], keys: Sequence[str]) -> str:
    return next((str(form[k]).strip() for k in keys if str(form.get(k) or "").strip()), "")


def _person_subject(person: User) -> list[Subject]:
    number = _id_number(person.id_number)
    return [Subject(number, str(_("申请人")))] if number else []


def _form_parties(form: dict[str, Any], prefix: str = "") -> list[Subject]:
    found = []
    for name, value in form.items():
        if not name.endswith("id_number") or not name.startswith(prefix):
            continue
        number = _id_number(value)
        if number:
            found.append(Subject(number, str(PARTY_LABELS.get(name, _("相关人")))))
    return found


def _unique(subjects: list[Subject]) -> list[Subject]:
    seen: set[str] = set()
    return [s for s in subjects if not (s.key in seen or seen.add(s.key))]  # type: ignore[func-returns-value]


def owner_records(resource: DataResource) -> bool:
    """A property owner's records (不动产登记信息): looked up for the property's owner."""
    return "certificate_no" in resource.field_keys()


def subjects_for(resource: DataResource, person: User, form: dict[str, Any]) -> list[Subject]:
    """Whose records ``resource`` is asked for in a case of ``person`` with ``form``."""
    if resource.subject_type == SubjectType.PERSON:
        own = _person_subject(person)
        if owner_records(resource):
            return _form_parties(form, "seller") or own
        if "unit_no" in resource.field_keys():
            return _form_parties(form, "buyer") or own
        return _unique(own + _form_parties(form))
    if resource.subject_type == SubjectType.ENTERPRISE:
        code = _form_text(form, USCC_KEYS)
        if code:
            try:
                return [Subject(uscc_validate(code), str(_("企业")))]
            except ValidationError:
                return []
        enterprises = list(Enterprise.objects.filter(members=person).order_by("id")[:2])
        if len(enterprises) == 1:
            return [Subject(enterprises[0].uscc, enterprises[0].name)]
    return []


# --- grants ------------------------------------------------------------------------------------


def grant_for(resource: DataResource, consumer: Department, item_codes: set[str]) -> Grant | None:
    """The consumer's active grant on ``resource`` that covers one of ``item_codes`` (or is not
    limited to items). Checked locally, before the case exists; the gateway checks again."""
    now = timezone.now()
    grants = Grant.objects.filter(
        resource=resource, consumer=consumer, revoked_at__isnull=True, valid_from__lte=now
    ).filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
    for grant in grants.order_by("-valid_from", "-id"):
        if not grant.item_codes or set(grant.item_codes) & item_codes:
            return grant
    return None


def _item_codes(version: ItemVersion) -> set[str]:
    return {c for c in (version.item.task_code, version.item.catalog_code) if c}


def _check_fields(resource: DataResource, grant: Grant) -> list[str] | None:
    """The fewest granted fields that show a record is the one (PIPL 最小必要): the property's
    certificate and unit numbers, else the subject's number and name; None = all granted."""
    wanted = ["certificate_no", "unit_no"] if owner_records(resource) else ["id_number", "name"]
    wanted += ["uscc"] if resource.subject_type == SubjectType.ENTERPRISE else []
    chosen = [f for f in wanted if f in grant.fields]
    return chosen or None


# --- the material provider ---------------------------------------------------------------------


def _resource(code: str) -> DataResource | None:
    return (
        DataResource.objects.select_related("owner")
        .filter(code=code, status=DataResource.Status.PUBLISHED)
        .exclude(sharing_class=SharingClass.NONE)
        .first()
    )


def origin_label(resource: DataResource) -> str:
    return gettext("由%(owner)s通过数据共享提供：%(name)s") % {
        "owner": resource.owner.name,
        "name": resource.name,
    }


def exchange_material(
    material: Material, request: sources.FetchRequest
) -> sources.FetchedMaterial | None:
    """The request-aware material provider (see the module docstring)."""
    code = material.data_resource_code
    if not code:
        return None
    resource = _resource(code)
    if resource is None:
        return None  # not (or no longer) shared: another provider, or an upload
    version = ItemVersion.objects.select_related("item", "item__department").get(
        pk=material.version_id
    )
    consumer = version.item.department
    if consumer is None or consumer.pk == resource.owner_id:
        return None  # the owner reads its own system, not the exchange
    grant = grant_for(resource, consumer, _item_codes(version))
    if grant is None:
        raise sources.NotFetched(
            gettext("%(d)s尚未获得“%(r)s”的共享授权") % {"d": consumer.name, "r": resource.name}
        )
    form = request.form_data if isinstance(request.form_data, dict) else {}
    subjects = subjects_for(resource, request.person, form)
    if not subjects:
        raise sources.NotFetched(gettext("申请表未写明查询所需的身份证号码或统一社会信用代码"))
    fields = _check_fields(resource, grant)
    actor = request.actor or request.applicant

    def bind(application: Application) -> str:
        return _bind(
            application,
            material=material,
            resource=resource,
            consumer=consumer,
            actor=actor,
            subjects=subjects,
            fields=fields,
            certificate_no=_form_text(form, CERTIFICATE_KEYS),
        )

    return sources.FetchedMaterial(
        reference=f"{REFERENCE_PREFIX}{resource.code}",
        provider=PROVIDER,
        title=origin_label(resource),
        bind=bind,
    )


def _problem(material: Material, message: str) -> ValidationError:
    text = gettext("“%(m)s”无法通过数据共享获取：%(why)s，请核对申请表或上传该材料。") % {
        "m": material.name,
        "why": message.rstrip("。"),
    }
    return ValidationError(
        INVALID,
        text,
        problems=[{"field": "materials", "code": "fetch_refused", "message": text}],
    )


def _bind(
    application: Application,
    *,
    material: Material,
    resource: DataResource,
    consumer: Department,
    actor: User,
    subjects: list[Subject],
    fields: list[str] | None,
    certificate_no: str,
) -> str:
    """The case-bound reads of a material at submission; returns its reference."""
    seqs: list[int] = []
    matched = False
    for subject in subjects:
        try:
            result = exchange_query(
                consumer=consumer,
                actor=actor,
                resource_code=resource.code,
                key=subject.key,
                fields=fields,
                case_number=application.number,
                purpose=gettext(PURPOSE_CHECK)
                % {"m": material.name, "s": str(application.public_id)[:8]},
            )
        except SourceUnavailable as exc:
            raise MaterialSourceUnavailable(
                message=gettext(
                    "“%(m)s”需由%(o)s通过数据共享提供，但其系统暂时没有响应，申请尚未提交，"
                    "请稍后重试。"
                )
                % {"m": material.name, "o": resource.owner.name},
                resource=resource.code,
                retry=True,
            ) from exc
        except DomainError as exc:
            raise _problem(material, str(exc.message)) from exc
        seqs.append(result.log_seq)
        if owner_records(resource):
            if any(
                not certificate_no or str(r.get("certificate_no", "")) == certificate_no
                for r in result.records
            ):
                matched = True
                break
            continue
        if not result.records:
            raise _problem(
                material,
                gettext("%(o)s没有%(who)s的记录")
                % {"o": resource.owner.name, "who": subject.label},
            )
        matched = True
    if not matched:
        raise _problem(
            material,
            gettext("%(o)s没有证书号为%(n)s的不动产记录")
            % {"o": resource.owner.name, "n": certificate_no or "—"},
        )
    return f"{REFERENCE_PREFIX}{resource.code}:{'+'.join(str(s) for s in seqs)}"


def reference_resource(reference: str) -> str:
    """The resource code of an ``exchange:<code>:<seqs>`` reference, or ""."""
    if not reference.startswith(REFERENCE_PREFIX):
        return ""
    return reference[len(REFERENCE_PREFIX) :].split(":", 1)[0]


def describe_material(material: ApplicationMaterial) -> str | None:
    code = reference_resource(material.reference)
    if not code:
        return None
    resource = DataResource.objects.select_related("owner").filter(code=code).first()
    return origin_label(resource) if resource is not None else None


def origin_of(certificate_type_code: str, data_resource_code: str) -> str | None:
    resource = _resource(data_resource_code) if data_resource_code else None
    return origin_label(resource) if resource is not None else None


# --- reading for staff -------------------------------------------------------------------------


def _shown(label: str, value: Any) -> str:
    text = "" if value is None else str(value)
    if label.startswith("是否") and text in ("0", "1"):
        # owners store yes/no questions (是否查封 …) as 0/1
        return gettext("是") if text == "1" else gettext("否")
    return text


def _records(resource: DataResource, result: QueryResult) -> list[list[tuple[str, str]]]:
    labels = {str(f["key"]): str(f["label"]) for f in resource.fields}
    return [
        [(labels.get(f, f), _shown(labels.get(f, f), r.get(f))) for f in result.fields]
        for r in result.records
    ]


def read_for_case(
    *,
    resource: DataResource,
    consumer: Department,
    actor: User,
    application: Application,
    purpose: str,
    subjects: Sequence[Subject] | None = None,
) -> list[shared.SharedRecords]:
    """Case-bound reads of ``resource`` for the case's parties, each as a page shows it; a
    refusal or a fault is reported in ``error`` (the call is logged either way)."""
    form = application.form_data if isinstance(application.form_data, dict) else {}
    person = application.principal or application.applicant
    found = []
    for subject in subjects if subjects is not None else subjects_for(resource, person, form):
        try:
            result = exchange_query(
                consumer=consumer,
                actor=actor,
                resource_code=resource.code,
                key=subject.key,
                case_number=application.number,
                purpose=purpose,
            )
        except DomainError as exc:
            found.append(
                shared.SharedRecords(
                    resource=resource.name,
                    owner=resource.owner.name,
                    subject=subject.label,
                    error=str(exc.message),
                )
            )
            continue
        found.append(
            shared.SharedRecords(
                resource=resource.name,
                owner=resource.owner.name,
                subject=subject.label,
                records=_records(resource, result),
                log_seq=result.log_seq,
            )
        )
    return found


def _case_department_ids(application: Application) -> set[int]:
    ids = {application.department_id}
    ids |= set(application.tasks.values_list("department_id", flat=True))
    ids |= {
        int(m["department_id"])
        for m in application.member_versions or []
        if isinstance(m, dict) and m.get("department_id")
    }
    return ids


def material_records(
    material: ApplicationMaterial, user: User
) -> list[shared.SharedRecords] | None:
    """A fetched material read again for staff: by the material's own department when the
    user works there, else by the user's department (which needs a grant of its own)."""
    code = reference_resource(material.reference)
    if not code:
        return None
    resource = DataResource.objects.select_related("owner").filter(code=code).first()
    if resource is None:
        return None
    application = material.application
    item_department = material.material.version.item.department_id
    consumer_id = (
        item_department
        if item_department is not None and user.department_id == item_department
        else user.department_id
    )
    consumer = Department.objects.filter(pk=consumer_id).first() if consumer_id else None
    if consumer is None or consumer.pk not in _case_department_ids(application):
        return [
            shared.SharedRecords(
                resource=resource.name,
                owner=resource.owner.name,
                error=gettext("您所在部门未参与办理该办件，不能调取共享数据。"),
            )
        ]
    return read_for_case(
        resource=resource,
        consumer=consumer,
        actor=user,
        application=application,
        purpose=gettext(PURPOSE_VIEW) % {"m": material.name},
    )


def task_item_codes(task: Task) -> set[str]:
    """The item codes a task works on: its department's members of a 一件事, else the item."""
    application = task.application
    members = [
        m
        for m in application.member_versions or []
        if isinstance(m, dict) and m.get("department_id") == task.department_id
    ]
    if members:
        return {str(m.get("task_code", "")) for m in members if m.get("task_code")}
    return {c for c in (application.item.task_code, application.item.catalog_code) if c}


def task_records(task: Task, user: User) -> list[shared.SharedRecords]:
    """共享数据 of a task: every resource the task's department holds a grant for on the
    task's item, read for the case's parties (purpose = the task's name)."""
    codes = task_item_codes(task)
    now = timezone.now()
    grants = (
        Grant.objects.filter(
            consumer_id=task.department_id, revoked_at__isnull=True, valid_from__lte=now
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .filter(resource__status=DataResource.Status.PUBLISHED)
        .select_related("resource", "resource__owner")
        .order_by("resource__code", "-valid_from")
    )
    seen: set[int] = set()
    found: list[shared.SharedRecords] = []
    for grant in grants:
        if grant.resource_id in seen or (grant.item_codes and not set(grant.item_codes) & codes):
            continue
        seen.add(grant.resource_id)
        found += read_for_case(
            resource=grant.resource,
            consumer=task.department,
            actor=user,
            application=task.application,
            purpose=task.name,
        )
    return found


# --- prefill -----------------------------------------------------------------------------------


def _prefill_read(
    consumer: Department, user: User, code: str, key: str, item_codes: set[str]
) -> tuple[dict[str, Any], str] | None:
    resource = _resource(code)
    if resource is None or grant_for(resource, consumer, item_codes) is None:
        return None  # no call the gateway would refuse: nothing to log for a page view
    try:
        result = exchange_query(
            consumer=consumer,
            actor=user,
            resource_code=code,
            key=key,
            purpose=gettext(PURPOSE_PREFILL),
        )
    except DomainError as exc:
        logger.info("prefill %s for user %s: %s", code, user.pk, exc.code)
        return None
    if len(result.records) != 1:
        return None
    # a masked value is not the applicant's data: leave the field for them to type
    record = {
        k: v for k, v in result.records[0].items() if v not in (None, "") and "*" not in str(v)
    }
    return record, result.owner_label


def _form_item_codes(version: ItemVersion | None, bundle: Bundle | None) -> set[str]:
    """The items a form is for: the version's, or the lead department's members of a 一件事."""
    if bundle is not None:
        return {
            code
            for code, department in bundle.members.values_list(
                "item__task_code", "item__department_id"
            )
            if department == bundle.lead_department_id
        }
    return _item_codes(version) if version is not None else set()


def prefill(
    user: User, version: ItemVersion | None, bundle: Bundle | None, names: Sequence[str]
) -> shared.Prefill | None:
    """The apply form's values from the applicant's own records (see the module docstring)."""
    consumer = (
        bundle.lead_department
        if bundle is not None
        else (version.item.department if version is not None else None)
    )
    if consumer is None or user.kind not in (User.Kind.CITIZEN, User.Kind.ENTERPRISE):
        return None
    wanted = set(names) | {"contact_phone"}
    values: dict[str, Any] = {}
    owners: list[str] = []
    reads: list[tuple[str, str, dict[str, str]]] = []
    number = _id_number(user.id_number)
    if number and wanted & set(PERSON_PREFILL):
        reads.append((POPULATION, number, PERSON_PREFILL))
    enterprises = list(Enterprise.objects.filter(members=user).order_by("id")[:2])
    if len(enterprises) == 1 and wanted & set(ENTERPRISE_PREFILL):
        reads.append((LEGAL_ENTITIES, enterprises[0].uscc, ENTERPRISE_PREFILL))
    codes = _form_item_codes(version, bundle)
    for code, key, mapping in reads:
        found = _prefill_read(consumer, user, code, key, codes)
        if found is None:
            continue
        record, owner = found
        filled = {
            name: record[column]
            for name, column in mapping.items()
            if name in wanted and column in record and name not in values
        }
        if filled:
            values.update(filled)
            owners.append(owner)
    return shared.Prefill(values=values, sources=owners) if values else None


def register() -> None:
    """Register the material provider and the form prefill (see the module docstring)."""
    sources.material_source_register(exchange_material)
    sources.material_describer_register(describe_material)
    sources.material_origin_register(origin_of)
    shared.prefill_register(prefill)
    shared.task_data_register(task_records)
    shared.material_data_register(material_records)


__all__ = [
    "MaterialSourceUnavailable",
    "exchange_material",
    "material_records",
    "prefill",
    "register",
    "subjects_for",
    "task_records",
]
