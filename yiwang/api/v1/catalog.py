"""The public service catalog: search, item detail, 办事指南 and 一件事 bundles.

Public (``auth=None``): the city publishes its catalog, and only published versions and bundles
are ever answered; a draft, an item under review or a retired item is 404 like an unknown code.
The search is yiwang.catalog.search (jieba words, bigrams, pinyin and initials, synonyms,
BM25F ranking), the reads are yiwang.catalog.selectors.
"""

# No ``from __future__ import annotations``: ninja builds the query schema from the signature,
# where string annotations (Query[...], the Literal aliases) would not resolve.

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from yiwang.api.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from yiwang.catalog.bundles import bundle_materials, bundle_member_versions, bundle_time_limit
from yiwang.catalog.guide import (
    material_groups,
    time_limit_words,
    version_short_limit,
    version_time_limits,
)
from yiwang.catalog.models import Bundle, ItemVersion, Material
from yiwang.catalog.search import MAX_QUERY_LENGTH, Hit, catalog_search
from yiwang.catalog.selectors import (
    catalog_bundle_published,
    catalog_bundles_published,
    catalog_item_published_detail,
)

router = Router(tags=["catalog"])

AudienceParam = Literal["natural", "legal"]


# --- search ---------------------------------------------------------------------------------


class SearchParams(Schema):
    q: str = Field(
        "",
        max_length=MAX_QUERY_LENGTH,
        description="what the citizen calls it: Chinese words, colloquial words (驾照, 低保), "
        "pinyin or initials (gongjijin, gjj); empty lists every published item by name",
    )
    department: str | None = Field(None, max_length=100, description="department code")
    theme: int | None = Field(None, ge=1, description="theme id (主题分类)")
    audience: AudienceParam | None = Field(
        None, description="service object: `natural` (自然人) or `legal` (法人)"
    )
    item_type: str | None = Field(
        None, max_length=30, description="item type code or name (行政许可, 公共服务 …)"
    )
    page: int = Field(1, ge=1, description="1-based page number")
    page_size: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="items per page")


class ItemHitOut(Schema):
    task_code: str = Field(description="实施编码")
    public_id: UUID = Field(description="the item's stable public id")
    name: str
    department: str = Field(description="implementing body (实施主体) name")
    department_code: str | None
    item_type: str = Field(description="事项类型")
    server_types: list[str] = Field(description="服务对象")
    time_limit: str = Field(description="the promise in words: 即办, 承诺 5 个工作日 …")
    fully_online: bool = Field(description="全程网办 (level IV)")
    score: float = Field(description="relevance; 0 when browsing without a query")
    highlights: list[str] = Field(description="parts of the name that matched the query")


class ItemSearchOut(Schema):
    items: list[ItemHitOut]
    count: int = Field(description="total number of items across all pages")
    page: int
    page_size: int


def _hit_out(hit: Hit, version: ItemVersion) -> dict[str, Any]:
    department = version.item.department
    return {
        "task_code": version.item.task_code,
        "public_id": version.item.public_id,
        "name": version.name,
        "department": version.dept_name or (department.name if department else ""),
        "department_code": department.code if department else None,
        "item_type": version.item_type.name,
        "server_types": list(version.server_types or []),
        "time_limit": version_short_limit(version),
        "fully_online": version.online_depth == ItemVersion.OnlineDepth.IV,
        "score": hit.score,
        "highlights": hit.highlights,
    }


@router.get("/catalog/items", auth=None, response=ItemSearchOut)
def catalog_item_search(request: HttpRequest, params: Query[SearchParams]) -> dict[str, Any]:
    """Search the published catalog, best match first (an empty ``q`` lists every published
    item in pinyin order of its name). Filters combine with the query."""
    result = catalog_search(
        q=params.q,
        department=params.department or None,
        theme=params.theme,
        audience=params.audience,
        item_type=params.item_type or None,
        limit=params.page_size,
        offset=(params.page - 1) * params.page_size,
    )
    return {
        "items": [_hit_out(hit, hit.version) for hit in result.items if hit.version],
        "count": result.count,
        "page": params.page,
        "page_size": params.page_size,
    }


# --- item detail ----------------------------------------------------------------------------


class DepartmentRefOut(Schema):
    code: str
    name: str


class ThemeOut(Schema):
    id: int
    name: str
    audience: str


class LegalBasisOut(Schema):
    law_name: str
    doc_number: str
    article: str
    issuer: str
    effective_date: str | None
    content: str


class SituationOut(Schema):
    code: str
    name: str
    description: str


class MaterialOut(Schema):
    name: str
    necessity: str = Field(description="required | optional | tolerated (容缺)")
    kind: str = Field(description="original | copy | original_and_copy | electronic")
    form: str = Field(description="paper | electronic | both")
    source: str = Field(description="applicant | government | intermediary | other")
    source_explain: str
    certificate_type_code: str = Field(description="e-certificate type that replaces it")
    data_resource_code: str = Field(description="shared data resource that replaces it")
    paper_count: int
    spec: str
    blank_form: str = Field(description="URL of the blank form, or empty")
    sample_file: str = Field(description="URL of the filled-in sample, or empty")
    notes: str
    accept_standard: str
    legal_basis: str
    situations: list[str] = Field(description="codes of the situations it applies to; empty: all")


class FeeOut(Schema):
    name: str
    standard: str
    basis: str
    reducible: bool
    reduce_basis: str


class FaqOut(Schema):
    question: str
    answer: str


class StepOut(Schema):
    name: str
    kind: str
    stage: int
    department: str | None
    time_limit: int | None = Field(description="working days")
    description: str


class ItemDetailOut(Schema):
    task_code: str
    public_id: UUID
    version: int
    version_id: UUID
    published_at: datetime | None
    catalog_code: str
    handle_item_code: str
    local_task_code: str
    name: str
    short_name: str
    item_type: str
    item_type_code: str
    use_level: str
    power_source: str
    by_law: str
    department: DepartmentRefOut | None
    dept_name: str
    dept_uscc: str
    division_code: str
    dept_type: str
    entrust_name: str
    other_depts: str
    server_types: list[str]
    accept_condition: str
    limit_explain: str
    anticipate_limit: int | None
    anticipate_unit: str
    anticipate_explain: str
    promise_limit: int | None
    promise_unit: str
    promise_explain: str
    project_type: str
    handle_forms: list[str]
    visit_count: int
    visit_reason: str
    online_depth: str
    online_url: str
    mobile_url: str
    external_system: bool
    supports_appointment: bool
    supports_express: bool
    supports_terminal: bool
    in_service_hall: bool
    handle_area: str
    special_procedures: list[str]
    is_fee: bool
    fee_basis: str
    online_payment: bool
    transact_addr: str
    transact_time: str
    consult_way: str
    supervise_way: str
    result_type: str
    result_name: str
    result_sample: str
    keywords: str
    themes: list[ThemeOut]
    legal_bases: list[LegalBasisOut]
    situations: list[SituationOut]
    materials: list[MaterialOut]
    fee_items: list[FeeOut]
    faqs: list[FaqOut]
    steps: list[StepOut]


def _file_url(field: Any) -> str:
    return str(field.url) if field else ""


def _material_out(material: Material) -> dict[str, Any]:
    return {
        "name": material.name,
        "necessity": material.necessity,
        "kind": material.kind,
        "form": material.form,
        "source": material.source,
        "source_explain": material.source_explain,
        "certificate_type_code": material.certificate_type_code,
        "data_resource_code": material.data_resource_code,
        "paper_count": material.paper_count,
        "spec": material.spec,
        "blank_form": _file_url(material.blank_form),
        "sample_file": _file_url(material.sample_file),
        "notes": material.notes,
        "accept_standard": material.accept_standard,
        "legal_basis": material.legal_basis,
        "situations": [s.code for s in material.situations.all()],
    }


def _detail_out(v: ItemVersion) -> dict[str, Any]:
    department = v.item.department
    plain = {
        name: getattr(v, name)
        for name in (
            "handle_item_code",
            "local_task_code",
            "name",
            "short_name",
            "use_level",
            "power_source",
            "by_law",
            "dept_name",
            "dept_uscc",
            "division_code",
            "dept_type",
            "entrust_name",
            "other_depts",
            "accept_condition",
            "limit_explain",
            "anticipate_limit",
            "anticipate_unit",
            "anticipate_explain",
            "promise_limit",
            "promise_unit",
            "promise_explain",
            "project_type",
            "visit_count",
            "visit_reason",
            "online_depth",
            "online_url",
            "mobile_url",
            "external_system",
            "supports_appointment",
            "supports_express",
            "supports_terminal",
            "in_service_hall",
            "handle_area",
            "is_fee",
            "fee_basis",
            "online_payment",
            "transact_addr",
            "transact_time",
            "consult_way",
            "supervise_way",
            "result_type",
            "result_name",
            "keywords",
            "published_at",
        )
    }
    return {
        **plain,
        "task_code": v.item.task_code,
        "public_id": v.item.public_id,
        "version": v.number,
        "version_id": v.public_id,
        "catalog_code": v.item.catalog_code,
        "item_type": v.item_type.name,
        "item_type_code": v.item_type.code,
        "department": {"code": department.code, "name": department.name} if department else None,
        "server_types": list(v.server_types or []),
        "handle_forms": list(v.handle_forms or []),
        "special_procedures": list(v.special_procedures or []),
        "result_sample": _file_url(v.result_sample),
        "themes": [{"id": t.pk, "name": t.name, "audience": t.audience} for t in v.themes.all()],
        "legal_bases": [
            {
                "law_name": b.law_name,
                "doc_number": b.doc_number,
                "article": b.article,
                "issuer": b.issuer,
                "effective_date": b.effective_date.isoformat() if b.effective_date else None,
                "content": b.content,
            }
            for b in v.legal_bases.all()
        ],
        "situations": [
            {"code": s.code, "name": s.name, "description": s.description}
            for s in v.situations.all()
        ],
        "materials": [_material_out(m) for m in v.materials.all()],
        "fee_items": [
            {
                "name": f.name,
                "standard": f.standard,
                "basis": f.basis,
                "reducible": f.reducible,
                "reduce_basis": f.reduce_basis,
            }
            for f in v.fee_items.all()
        ],
        "faqs": [{"question": f.question, "answer": f.answer} for f in v.faqs.all()],
        "steps": [
            {
                "name": s.name,
                "kind": s.kind,
                "stage": s.stage,
                "department": s.department.name if s.department else None,
                "time_limit": s.time_limit,
                "description": s.description,
            }
            for s in v.steps.all()
        ],
    }


@router.get("/catalog/items/{task_code}", auth=None, response=ItemDetailOut)
def catalog_item_detail(request: HttpRequest, task_code: str) -> dict[str, Any]:
    """The published version of one item with every public element (national field names
    and enum values as stored; the guide endpoint gives the same in words)."""
    return _detail_out(catalog_item_published_detail(task_code=task_code))


# --- guide ----------------------------------------------------------------------------------


class GuideMaterialOut(Schema):
    name: str
    necessity: str = Field(description="必要 / 非必要 / 容缺")
    kind: str = Field(description="原件 / 复印件 …")
    form: str = Field(description="纸质 / 电子 …")
    source: str = Field(description="申请人自备 / 政府部门核发 …")
    paper_count: int
    fetched: bool = Field(
        description="issued by government and available as an e-certificate or shared data: "
        "the applicant submits nothing"
    )
    blank_form: str
    sample_file: str
    notes: str


class GuideMaterialGroupOut(Schema):
    situation: SituationOut | None = Field(description="null: the materials every case needs")
    materials: list[GuideMaterialOut]


class GuideTimeLimitsOut(Schema):
    statutory: str = Field(description="法定办结时限 in words")
    promised: str = Field(description="承诺办结时限 in words")
    summary: str
    explain: str


class GuideFeesOut(Schema):
    charged: bool
    summary: str
    basis: str
    items: list[FeeOut]


class GuideOnlineOut(Schema):
    depth: str = Field(description="网上办理深度 in words")
    url: str
    mobile_url: str
    external_system: bool = Field(description="handled by another system: follow the link")
    payment: bool
    appointment: bool
    express: bool


class ItemGuideOut(Schema):
    task_code: str
    name: str
    department: str
    item_type: str
    server_types: list[str]
    conditions: str
    limit_explain: str
    materials: list[GuideMaterialGroupOut]
    time_limits: GuideTimeLimitsOut
    visits: str = Field(description="到办事现场次数 in words")
    visit_reason: str
    handle_forms: list[str]
    fees: GuideFeesOut
    where: str
    when: str
    consult: str
    supervise: str
    online: GuideOnlineOut
    result: str
    steps: list[StepOut]
    faqs: list[FaqOut]
    legal_bases: list[LegalBasisOut]


def _guide_material(material: Material) -> dict[str, Any]:
    return {
        "name": material.name,
        "necessity": material.get_necessity_display(),
        "kind": material.get_kind_display(),
        "form": material.get_form_display(),
        "source": material.get_source_display(),
        "paper_count": material.paper_count,
        "fetched": material.fetched,
        "blank_form": _file_url(material.blank_form),
        "sample_file": _file_url(material.sample_file),
        "notes": material.notes,
    }


def _guide_out(v: ItemVersion) -> dict[str, Any]:
    detail = _detail_out(v)
    groups = [
        {
            "situation": None
            if group.situation is None
            else {
                "code": group.situation.code,
                "name": group.situation.name,
                "description": group.situation.description,
            },
            "materials": [_guide_material(m) for m in group.materials],
        }
        for group in material_groups(v, situation_code=None)
    ]
    statutory = time_limit_words(v.anticipate_limit, v.anticipate_unit)
    promised = version_short_limit(v)
    if v.visit_count == 0:
        visits = _("零跑动（不需要到现场）")
    else:
        visits = _("最多跑 %(n)s 次") % {"n": v.visit_count}
    return {
        "task_code": v.item.task_code,
        "name": v.name,
        "department": detail["dept_name"],
        "item_type": v.item_type.name,
        "server_types": detail["server_types"],
        "conditions": v.accept_condition,
        "limit_explain": v.limit_explain,
        "materials": groups,
        "time_limits": {
            "statutory": statutory,
            "promised": promised,
            "summary": version_time_limits(v),  # the guide page's sentence, word for word
            "explain": v.promise_explain or v.anticipate_explain,
        },
        "visits": visits,
        "visit_reason": v.visit_reason,
        "handle_forms": detail["handle_forms"],
        "fees": {
            "charged": v.is_fee,
            "summary": _("收费") if v.is_fee else _("不收费"),
            "basis": v.fee_basis,
            "items": detail["fee_items"],
        },
        "where": v.transact_addr,
        "when": v.transact_time,
        "consult": v.consult_way,
        "supervise": v.supervise_way,
        "online": {
            "depth": v.get_online_depth_display(),
            "url": v.online_url,
            "mobile_url": v.mobile_url,
            "external_system": v.external_system,
            "payment": v.online_payment,
            "appointment": v.supports_appointment,
            "express": v.supports_express,
        },
        "result": v.result_name,
        "steps": detail["steps"],
        "faqs": detail["faqs"],
        "legal_bases": detail["legal_bases"],
    }


@router.get("/catalog/items/{task_code}/guide", auth=None, response=ItemGuideOut)
def catalog_item_guide(request: HttpRequest, task_code: str) -> dict[str, Any]:
    """The 办事指南 of the published version: conditions, materials grouped by situation, time
    limits and visits in words, fees, where and when, the online entry."""
    return _guide_out(catalog_item_published_detail(task_code=task_code))


# --- bundles --------------------------------------------------------------------------------


class BundleOut(Schema):
    code: str
    public_id: UUID
    name: str
    description: str
    lead_department: DepartmentRefOut
    dispatch: str = Field(description="parallel | sequential")
    time_limit: str = Field(description="the bundle's promise in words")

    @staticmethod
    def resolve_lead_department(obj: Bundle) -> dict[str, str]:
        return _department_ref(obj.lead_department)

    @staticmethod
    def resolve_time_limit(obj: Bundle) -> str:
        return _bundle_promise(obj)


def _department_ref(department: Any) -> dict[str, str]:
    return {"code": department.code, "name": department.name}


def _bundle_promise(bundle: Bundle) -> str:
    words = time_limit_words(bundle.promise_limit, bundle.promise_unit)
    return _("承诺 %(limit)s") % {"limit": words} if words else ""


class BundleMemberOut(Schema):
    task_code: str
    name: str
    stage: int
    required: bool
    version: int | None


class BundleMaterialOut(Schema):
    name: str
    necessity: str
    kind: str
    source: str
    fetched: bool = Field(description="fetched via e-certificate or data sharing, not asked for")
    task_codes: list[str] = Field(description="the member items that need it")


class BundleDetailOut(Schema):
    code: str
    public_id: UUID
    name: str
    description: str
    lead_department: DepartmentRefOut
    cooperating_departments: list[DepartmentRefOut]
    dispatch: str = Field(description="parallel | sequential")
    time_limit: str = Field(description="the bundle's promise in words")
    members_time_limit: str = Field(description="what the members promise on their own")
    members: list[BundleMemberOut]
    materials: list[BundleMaterialOut]


@router.get("/catalog/bundles", auth=None, response=list[BundleOut])
@paginate
def catalog_bundle_list(request: HttpRequest) -> Any:
    """Published 一件事 bundles by name."""
    return catalog_bundles_published()


@router.get("/catalog/bundles/{code}", auth=None, response=BundleDetailOut)
def catalog_bundle_detail(request: HttpRequest, code: str) -> dict[str, Any]:
    """One published bundle: its member items, the one de-duplicated material list and the
    bundle's time limit."""
    bundle = catalog_bundle_published(code=code)
    members = [
        {
            "task_code": member.item.task_code,
            "name": version.name if version else member.item.task_code,
            "stage": member.stage,
            "required": member.required,
            "version": version.number
            if version and version.status == ItemVersion.Status.PUBLISHED
            else None,
        }
        for member, version in bundle_member_versions(bundle)
    ]
    materials = [
        {
            "name": m.name,
            "necessity": m.necessity,
            "kind": m.kind,
            "source": m.source,
            "fetched": m.fetched,
            "task_codes": m.task_codes,
        }
        for m in bundle_materials(bundle)
    ]
    limits = bundle_time_limit(bundle)
    return {
        "code": bundle.code,
        "public_id": bundle.public_id,
        "name": bundle.name,
        "description": bundle.description,
        "lead_department": _department_ref(bundle.lead_department),
        "cooperating_departments": [
            _department_ref(d) for d in bundle.cooperating_departments.all()
        ],
        "dispatch": bundle.dispatch,
        "time_limit": _bundle_promise(bundle),
        "members": members,
        "materials": materials,
        "members_time_limit": limits.members_label,
    }
