"""Quality rules (质量规则) for item versions: the implementers' value rules of standards.md
§1.5 (g) plus a few structural ones, as a registry of check functions.

Each rule is a function registered with ``@rule(code, severity)`` that takes a version (whose
children are prefetched, see ``QUALITY_PREFETCH``) and yields ``(message, field)`` pairs; the
registry turns them into ``Violation`` rows. Adding a rule is adding a function: nothing else
changes. ``version_publish`` refuses a version with any ``error``; ``warning`` rows are shown
but do not block.

Decisions (where §1.5 (g) leaves room):

* "Online" (for the 0-visit ⇒ 邮寄申请 rule) means 网上办理深度 Ⅲ or Ⅳ, or 网上办理 among the
  handling forms; Ⅰ (guide only) and Ⅱ (appointment, pre-check) do not take an application.
* "收费 ⇒ 网上支付" cannot mean "the flag is set" for every fee item (a window-only item has
  nowhere to pay online). We read it as: a fee item handled 全程网办（Ⅳ级） must support online
  payment; any other fee item is fine either way. Not charged ⇒ online payment must be off.
* "A 结果 requires a 结果样本": a result exists when 审批结果类型 is set; then the sample file
  and the result name are required. An item with no result type (a query, a linked-out
  service) needs no sample.
* The 许可 rule applies to the item type named 行政许可 (by name, because type codes are
  configuration and differ by province, §1.4). Its five steps are matched by step kind
  (受理/审查/决定/办结/送达), so "审核" and "审查", "审批" and "决定" count alike.
* Items handled by an external system (``external_system``: 医疗挂号, 交通违章处理 …) are
  links, not applications here: they need a link but no materials.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery, prefetch_related_objects
from django.utils.translation import gettext as _

from yiwang.catalog.models import ItemVersion, Material, ProcessStep, Theme, TimeUnit

Severity = Literal["error", "warning"]
ERROR: Severity = "error"
WARNING: Severity = "warning"

PERMIT_TYPE_NAME = "行政许可"
NATURAL_PERSON = "自然人"
MAIL_FORM = "邮寄申请"
ONLINE_FORM = "网上办理"
PERMIT_STEP_KINDS = (
    ProcessStep.Kind.ACCEPT,
    ProcessStep.Kind.REVIEW,
    ProcessStep.Kind.DECIDE,
    ProcessStep.Kind.CONCLUDE,
    ProcessStep.Kind.DELIVER,
)
PERMIT_MIN_STEPS = 5
RESULT_SUFFIXES: tuple[tuple[str, str], ...] = (
    # longest suffix first, so that 批复 is not read as something else
    ("批复", ItemVersion.ResultType.APPROVAL),
    ("证", ItemVersion.ResultType.CERTIFICATE),
    ("文", ItemVersion.ResultType.DOCUMENT),
)

# What every rule may read without another query.
QUALITY_PREFETCH: tuple[str | Prefetch[Any], ...] = (
    "materials",
    "faqs",
    "steps",
    "fee_items",
    "themes",
)


@dataclass(frozen=True)
class Violation:
    rule: str
    severity: Severity
    message: str
    field: str

    def as_dict(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "field": self.field,
        }


Finding = tuple[str, str]  # (message, field)
CheckFunction = Callable[[ItemVersion], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    check: CheckFunction


RULES: dict[str, Rule] = {}


def rule(code: str, severity: Severity = ERROR) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check function under a stable rule code."""

    def register(check: CheckFunction) -> CheckFunction:
        if code in RULES:
            raise ValueError(f"quality rule {code} is registered twice")
        RULES[code] = Rule(code=code, severity=severity, check=check)
        return check

    return register


# --- helpers -------------------------------------------------------------------------------


def _is_online(v: ItemVersion) -> bool:
    return v.online_depth in (ItemVersion.OnlineDepth.III, ItemVersion.OnlineDepth.IV) or (
        ONLINE_FORM in (v.handle_forms or [])
    )


def _is_permit(v: ItemVersion) -> bool:
    return v.item_type.name == PERMIT_TYPE_NAME


# --- structural rules ----------------------------------------------------------------------


@rule("basic.name")
def _name(v: ItemVersion) -> Iterator[Finding]:
    if not v.name.strip():
        yield _("事项名称不能为空。"), "name"


@rule("basic.department")
def _department(v: ItemVersion) -> Iterator[Finding]:
    if not v.dept_name.strip():
        yield _("实施主体名称不能为空。"), "dept_name"


@rule("basic.server_types")
def _server_types(v: ItemVersion) -> Iterator[Finding]:
    if not v.server_types:
        yield _("请至少选择一个服务对象（自然人、法人等）。"), "server_types"


@rule("basic.materials")
def _materials(v: ItemVersion) -> Iterator[Finding]:
    # An application to an administrative power (许可, 确认, 给付 …) always rests on
    # something the applicant hands in. A public service may need nothing (a library
    # catalogue lookup, an enquiry); there it is only worth a second look (next rule).
    if v.external_system or v.project_type == ItemVersion.ProjectType.IMMEDIATE:
        return
    if v.item_type.is_power and not list(v.materials.all()):
        yield _("行政权力类承诺件至少需要一项申请材料。"), "materials"


@rule("basic.materials_none", severity=WARNING)
def _no_materials(v: ItemVersion) -> Iterator[Finding]:
    if v.external_system or v.project_type == ItemVersion.ProjectType.IMMEDIATE:
        return
    if not v.item_type.is_power and not list(v.materials.all()):
        yield _("未列出申请材料：请确认本公共服务确实无需申请人提交任何材料。"), "materials"


@rule("external.link")
def _external_link(v: ItemVersion) -> Iterator[Finding]:
    if v.external_system and not (v.online_url or v.mobile_url):
        yield _("由外部系统办理的事项必须填写办理地址（计算机端或移动端）。"), "online_url"


@rule("time.promise_required")
def _promise_required(v: ItemVersion) -> Iterator[Finding]:
    if v.promise_unit == TimeUnit.IMMEDIATE:
        return
    if v.promise_limit is None or not v.promise_unit:
        yield _("请填写承诺办结时限及其单位（即办件选“即办”）。"), "promise_limit"


@rule("time.promise_within_statutory")
def _promise_within_statutory(v: ItemVersion) -> Iterator[Finding]:
    if (
        v.promise_limit is not None
        and v.anticipate_limit is not None
        and v.promise_unit
        and v.promise_unit == v.anticipate_unit
        and v.promise_limit > v.anticipate_limit
    ):
        yield (
            _("承诺办结时限（%(p)s）不能超过法定办结时限（%(a)s）。")
            % {"p": v.promise_limit, "a": v.anticipate_limit},
            "promise_limit",
        )


# --- the value rules of standards.md §1.5 (g) ----------------------------------------------


@rule("time.immediate_project_type")
def _immediate(v: ItemVersion) -> Iterator[Finding]:
    immediate_limit = v.promise_unit == TimeUnit.IMMEDIATE
    immediate_type = v.project_type == ItemVersion.ProjectType.IMMEDIATE
    if immediate_limit and not immediate_type:
        yield _("承诺时限为“即办”的事项，办件类型应为“即办件”。"), "project_type"
    elif immediate_type and not immediate_limit:
        yield _("即办件的承诺时限应为“即办”；否则办件类型应为“承诺件”。"), "project_type"


@rule("result.type_matches_name")
def _result_type_by_name(v: ItemVersion) -> Iterator[Finding]:
    name = v.result_name.strip()
    for suffix, expected in RESULT_SUFFIXES:
        if name.endswith(suffix):
            if v.result_type != expected:
                label = ItemVersion.ResultType(expected).label
                yield (
                    _("审批结果名称以“%(s)s”结尾，结果类型应为“%(t)s”。")
                    % {"s": suffix, "t": label},
                    "result_type",
                )
            return


@rule("result.sample")
def _result_sample(v: ItemVersion) -> Iterator[Finding]:
    if not v.result_type:
        return
    if not v.result_name.strip():
        yield _("已选择审批结果类型，请填写审批结果名称。"), "result_name"
    if not v.result_sample:
        yield _("已选择审批结果类型，请上传审批结果样本。"), "result_sample"


@rule("visit.reason")
def _visit_reason(v: ItemVersion) -> Iterator[Finding]:
    if v.visit_count and not v.visit_reason.strip():
        yield _("到办事现场次数不为0时，必须说明必须现场办理的原因。"), "visit_reason"


@rule("visit.mail_when_not_online")
def _mail(v: ItemVersion) -> Iterator[Finding]:
    if v.visit_count == 0 and not _is_online(v) and MAIL_FORM not in (v.handle_forms or []):
        yield (
            _("到现场次数为0且不支持网上办理的事项，办理形式必须包含“邮寄申请”。"),
            "handle_forms",
        )


@rule("online.level4_no_visit")
def _level4(v: ItemVersion) -> Iterator[Finding]:
    if v.online_depth == ItemVersion.OnlineDepth.IV and v.visit_count != 0:
        yield _("网上办理深度为“全程网办（Ⅳ级）”的事项，到办事现场次数必须为0。"), "visit_count"


@rule("fee.basis_and_items")
def _fee(v: ItemVersion) -> Iterator[Finding]:
    if not v.is_fee:
        return
    if not v.fee_basis.strip():
        yield _("收费事项必须填写收费依据。"), "fee_basis"
    if not list(v.fee_items.all()):
        yield _("收费事项至少需要一个收费项目。"), "fee_items"
    if v.online_depth == ItemVersion.OnlineDepth.IV and not v.online_payment:
        yield _("全程网办的收费事项必须支持网上支付。"), "online_payment"


@rule("fee.no_fee_no_payment")
def _no_fee(v: ItemVersion) -> Iterator[Finding]:
    if not v.is_fee and v.online_payment:
        yield _("不收费的事项不应标注“支持网上支付”。"), "online_payment"


@rule("theme.audience_matches_server_type")
def _theme_audience(v: ItemVersion) -> Iterator[Finding]:
    types = set(v.server_types or [])
    natural = NATURAL_PERSON in types
    legal = bool(types - {NATURAL_PERSON})
    for theme in v.themes.all():
        if theme.audience == Theme.Audience.NATURAL and not natural:
            yield (
                _("主题“%(t)s”面向自然人，但服务对象不含自然人。") % {"t": theme.name},
                "themes",
            )
        elif theme.audience == Theme.Audience.LEGAL and not legal:
            yield (
                _("主题“%(t)s”面向法人，但服务对象不含法人或其他组织。") % {"t": theme.name},
                "themes",
            )


@rule("permit.faq")
def _permit_faq(v: ItemVersion) -> Iterator[Finding]:
    if _is_permit(v) and not list(v.faqs.all()):
        yield _("行政许可事项至少需要一条常见问题。"), "faqs"


@rule("permit.steps")
def _permit_steps(v: ItemVersion) -> Iterator[Finding]:
    if not _is_permit(v):
        return
    steps = list(v.steps.all())
    kinds = {s.kind for s in steps}
    missing = [ProcessStep.Kind(k).label for k in PERMIT_STEP_KINDS if k not in kinds]
    if len(steps) < PERMIT_MIN_STEPS or missing:
        detail = _("，缺少：%(m)s") % {"m": "、".join(str(m) for m in missing)} if missing else ""
        yield (
            _("行政许可事项至少需要5个办理环节（受理、审查、决定、办结、送达）%(d)s。")
            % {"d": detail},
            "steps",
        )


@rule("material.government_replacement", severity=WARNING)
def _government_material(v: ItemVersion) -> Iterator[Finding]:
    for material in v.materials.all():
        if (
            material.source == Material.Source.GOVERNMENT
            and not material.certificate_type_code
            and not material.data_resource_code
        ):
            yield (
                _("材料“%(m)s”由政府部门核发，请注明可替代它的电子证照类型或共享数据资源。")
                % {"m": material.name},
                f"materials.{material.pk}",
            )


# --- running the rules ---------------------------------------------------------------------


def quality_check(version: ItemVersion) -> list[Violation]:
    """Every violation of ``version``, errors first, in rule registration order. Children are
    read through the prefetch cache when present (``quality_report`` fills it for many)."""
    prefetch_related_objects([version], *QUALITY_PREFETCH)
    found: list[Violation] = []
    for r in RULES.values():
        found.extend(
            Violation(rule=r.code, severity=r.severity, message=str(message), field=field)
            for message, field in r.check(version)
        )
    return sorted(found, key=lambda x: x.severity != ERROR)


def quality_errors(violations: Iterable[Violation]) -> list[Violation]:
    return [x for x in violations if x.severity == ERROR]


def latest_versions() -> QuerySet[ItemVersion]:
    """The newest version of every item, with what the rules read prefetched."""
    newest = (
        ItemVersion.objects.filter(item=OuterRef("item")).order_by("-number").values("number")[:1]
    )
    return (
        ItemVersion.objects.filter(number=Subquery(newest))
        .select_related("item", "item_type")
        .prefetch_related(*QUALITY_PREFETCH)
        .order_by("item__task_code")
    )


def quality_report(
    versions: QuerySet[ItemVersion] | None = None,
) -> list[tuple[ItemVersion, list[Violation]]]:
    """``(version, violations)`` for the latest version of every item (or for ``versions``),
    only those with at least one violation. A fixed number of queries whatever the size."""
    qs = (
        latest_versions()
        if versions is None
        else versions.select_related("item", "item_type").prefetch_related(*QUALITY_PREFETCH)
    )
    report = []
    for version in qs:
        violations = quality_check(version)
        if violations:
            report.append((version, violations))
    return report
