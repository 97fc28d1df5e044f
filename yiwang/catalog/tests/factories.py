"""factory_boy factories for the catalog (other apps and the catalog's own tests import these).

Factories write rows directly, without the services' checks and audit rows: use them to set
up a test's world, and call the services for the behaviour under test.

``ItemVersionFactory`` builds a *complete* draft that passes every quality rule
(yiwang.catalog.quality): a 行政许可 for natural persons with one required material, one FAQ,
the five standard steps, a matching theme, a certificate result with its sample, a promise limit
within the statutory one. ``ItemVersionFactory(children=False)`` skips the child rows (the
version then fails the 许可 FAQ/steps rule; use it when a test adds its own).
"""

from __future__ import annotations

from typing import Any

import factory
from django.utils import timezone

from yiwang.accounts.tests.factories import DepartmentFactory
from yiwang.catalog.models import (
    Bundle,
    BundleMember,
    Faq,
    FeeItem,
    ItemType,
    ItemVersion,
    LegalBasis,
    Material,
    ProcessStep,
    ServiceItem,
    Situation,
    Theme,
    TimeUnit,
)

# The five steps a 行政许可 needs (standards.md §1.5 (g)): 受理、审核、审批、办结、送达.
STANDARD_STEPS: tuple[tuple[str, str], ...] = (
    ("受理", ProcessStep.Kind.ACCEPT),
    ("审查", ProcessStep.Kind.REVIEW),
    ("决定", ProcessStep.Kind.DECIDE),
    ("办结", ProcessStep.Kind.CONCLUDE),
    ("送达", ProcessStep.Kind.DELIVER),
)


class ItemTypeFactory(factory.django.DjangoModelFactory[ItemType]):  # type: ignore[misc]
    """Defaults to 行政许可 (code 01, seeded by migration); get-or-create by code."""

    class Meta:
        model = ItemType
        django_get_or_create = ("code",)

    code = "01"
    name = "行政许可"
    is_power = True


def public_service_type() -> ItemType:
    """The 公共服务 type (not an administrative power)."""
    return ItemTypeFactory(code="14", name="公共服务", is_power=False)


class ThemeFactory(factory.django.DjangoModelFactory[Theme]):  # type: ignore[misc]
    class Meta:
        model = Theme
        django_get_or_create = ("audience", "name")

    audience = Theme.Audience.NATURAL
    name = "社会保障"


class ServiceItemFactory(factory.django.DjangoModelFactory[ServiceItem]):  # type: ignore[misc]
    class Meta:
        model = ServiceItem

    task_code = factory.Sequence(lambda n: f"11341500MB0000000X4000117{n:06d}")
    catalog_code = factory.Sequence(lambda n: f"XK{n:010d}")
    department = factory.SubFactory(DepartmentFactory)


class ItemVersionFactory(factory.django.DjangoModelFactory[ItemVersion]):  # type: ignore[misc]
    """A complete draft 行政许可 that passes every quality rule (see the module docstring)."""

    class Meta:
        model = ItemVersion
        skip_postgeneration_save = True

    item = factory.SubFactory(ServiceItemFactory)
    number = 1
    status = ItemVersion.Status.DRAFT
    name = factory.Sequence(lambda n: f"测试许可事项{n}")
    item_type = factory.SubFactory(ItemTypeFactory)
    use_level = ItemVersion.UseLevel.MUNICIPAL
    power_source = "法定本级行使"
    by_law = "《中华人民共和国行政许可法》"
    dept_name = factory.LazyAttribute(
        lambda v: v.item.department.name if v.item.department else "六安市测试局"
    )
    dept_uscc = "11341500003045221Y"
    division_code = "341500"
    server_types = factory.LazyFunction(lambda: ["自然人"])
    accept_condition = "申请人符合法定条件。"
    anticipate_limit = 20
    anticipate_unit = TimeUnit.WORKING_DAY
    promise_limit = 5
    promise_unit = TimeUnit.WORKING_DAY
    project_type = ItemVersion.ProjectType.PROMISED
    handle_forms = factory.LazyFunction(lambda: ["窗口办理", "网上办理", "邮寄申请"])
    visit_count = 0
    online_depth = ItemVersion.OnlineDepth.IV
    online_url = "https://www.ahzwfw.gov.cn/"
    is_fee = False
    online_payment = False
    transact_addr = "六安市政务服务中心一楼综合窗口"
    transact_time = "工作日 9:00-12:00，13:00-17:00"
    consult_way = "0564-12345"
    supervise_way = "0564-12345"
    result_type = ItemVersion.ResultType.CERTIFICATE
    result_name = "测试许可证"
    result_sample = factory.django.FileField(filename="sample.pdf", data=b"%PDF-1.4 sample")
    keywords = "测试"
    source = "test"

    @factory.post_generation
    def children(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        # ItemVersionFactory(children=False) leaves the child rows out.
        if not create or extracted is False:
            return
        MaterialFactory(version=self, name="居民身份证", sort_order=1)
        FaqFactory(version=self)
        for i, (name, kind) in enumerate(STANDARD_STEPS):
            ProcessStepFactory(version=self, name=name, kind=kind, stage=i, sort_order=i)
        if any("法人" in t or "组织" in t for t in self.server_types):
            self.themes.add(ThemeFactory(audience=Theme.Audience.LEGAL, name="准营准办"))
        else:
            self.themes.add(ThemeFactory(audience=Theme.Audience.NATURAL, name="社会保障"))


class PublishedVersionFactory(ItemVersionFactory):
    """A published version (written directly; the services' checks are not run)."""

    status = ItemVersion.Status.PUBLISHED
    published_at = factory.LazyFunction(timezone.now)


class LegalBasisFactory(factory.django.DjangoModelFactory[LegalBasis]):  # type: ignore[misc]
    class Meta:
        model = LegalBasis

    version = factory.SubFactory(ItemVersionFactory)
    law_name = "《中华人民共和国行政许可法》"
    doc_number = "主席令第七号"
    article = "第二十九条"
    issuer = "全国人民代表大会常务委员会"
    content = "公民、法人或者其他组织从事特定活动，依法需要取得行政许可的，应当向行政机关提出申请。"


class SituationFactory(factory.django.DjangoModelFactory[Situation]):  # type: ignore[misc]
    class Meta:
        model = Situation

    version = factory.SubFactory(ItemVersionFactory)
    code = factory.Sequence(lambda n: f"case-{n}")
    name = factory.Sequence(lambda n: f"情形{n}")


class MaterialFactory(factory.django.DjangoModelFactory[Material]):  # type: ignore[misc]
    class Meta:
        model = Material
        skip_postgeneration_save = True

    version = factory.SubFactory(ItemVersionFactory)
    name = factory.Sequence(lambda n: f"申请材料{n}")
    necessity = Material.Necessity.REQUIRED
    kind = Material.Kind.ORIGINAL
    form = Material.Form.BOTH
    source = Material.Source.APPLICANT
    paper_count = 1

    @factory.post_generation
    def situations(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            self.situations.set(extracted)


class FeeItemFactory(factory.django.DjangoModelFactory[FeeItem]):  # type: ignore[misc]
    class Meta:
        model = FeeItem

    version = factory.SubFactory(ItemVersionFactory)
    name = "工本费"
    standard = "每证10元"
    basis = "《关于证照工本费的通知》"


class FaqFactory(factory.django.DjangoModelFactory[Faq]):  # type: ignore[misc]
    class Meta:
        model = Faq

    version = factory.SubFactory(ItemVersionFactory)
    question = "办理需要多长时间？"
    answer = "材料齐全、符合法定形式的，承诺5个工作日内办结。"


class ProcessStepFactory(factory.django.DjangoModelFactory[ProcessStep]):  # type: ignore[misc]
    class Meta:
        model = ProcessStep

    version = factory.SubFactory(ItemVersionFactory)
    name = "受理"
    kind = ProcessStep.Kind.ACCEPT
    time_limit = 1


class BundleFactory(factory.django.DjangoModelFactory[Bundle]):  # type: ignore[misc]
    class Meta:
        model = Bundle

    code = factory.Sequence(lambda n: f"bundle-{n}")
    name = factory.Sequence(lambda n: f"测试一件事{n}")
    lead_department = factory.SubFactory(DepartmentFactory)
    dispatch = Bundle.Dispatch.PARALLEL
    promise_limit = 3
    promise_unit = TimeUnit.WORKING_DAY


class BundleMemberFactory(factory.django.DjangoModelFactory[BundleMember]):  # type: ignore[misc]
    class Meta:
        model = BundleMember

    bundle = factory.SubFactory(BundleFactory)
    item = factory.SubFactory(ServiceItemFactory)
