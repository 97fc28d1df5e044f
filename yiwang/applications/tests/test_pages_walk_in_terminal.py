"""The window's 前台综合受理 (a clerk submits for a walk-in applicant), the self-service
terminal pages and the labels of form fields, with the Django test client: who may open
them, what a submission creates (channel, applicant, submitter), and bad input (every problem
shown, nothing created)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from yiwang.accounts.models import Department, Role, User
from yiwang.accounts.tests.factories import staff_with_role
from yiwang.applications.forms import ApplyForm, field_label, form_field_labels
from yiwang.applications.models import Application
from yiwang.applications.tests.conftest import material, signed_in, submit
from yiwang.applications.tests.factories import PNG
from yiwang.catalog.models import Bundle, ItemVersion, Theme
from yiwang.catalog.tests.factories import (
    BundleFactory,
    BundleMemberFactory,
    MaterialFactory,
    PublishedVersionFactory,
    SituationFactory,
    ThemeFactory,
)

pytestmark = pytest.mark.django_db

WALK_IN = "/console/applications/walk-in/"
TERMINAL = "/terminal/"


def text(response: Any) -> str:
    return str(response.content.decode())


def walk_in_url(version: ItemVersion) -> str:
    return f"{WALK_IN}{version.item.task_code}/"


def walk_in_post(client: Client, version: ItemVersion, applicant: User, **extra: Any) -> Any:
    data: dict[str, Any] = {
        "idempotency_key": "w-1",
        "applicant_name": applicant.real_name,
        "applicant_id_number": applicant.id_number,
        "contact_phone": "13800001111",
        f"material_{material(version, '申请书').pk}": SimpleUploadedFile(
            "scan.png", PNG, content_type="image/png"
        ),
    }
    data.update(extra)
    return client.post(walk_in_url(version), data)


@pytest.fixture
def other_version(dept_b: Department) -> ItemVersion:
    version = PublishedVersionFactory(
        item__department=dept_b, children=False, name="别家许可", promise_limit=5
    )
    MaterialFactory(version=version, name="申请书", sort_order=1)
    return version


# --- 前台综合受理: access -------------------------------------------------------------------------


def test_walk_in_is_for_window_clerks_only(version, citizen, approver_a, clerk):
    for url in (WALK_IN, walk_in_url(version)):
        anonymous = Client().get(url)
        assert anonymous.status_code == 302
        assert anonymous["Location"].startswith("/accounts/login/")
        assert signed_in(citizen).get(url).status_code == 403
        assert signed_in(approver_a).get(url).status_code == 403  # same department, no window
        assert signed_in(clerk).get(url).status_code == 200
    response = walk_in_post(signed_in(citizen), version, citizen)
    assert response.status_code == 403
    assert not Application.objects.exists()


def test_another_departments_item_is_404_for_the_clerk(version, other_version, clerk, citizen):
    client = signed_in(clerk)

    listing = text(client.get(WALK_IN))
    assert version.name in listing
    assert other_version.name not in listing
    assert client.get(walk_in_url(other_version)).status_code == 404
    assert walk_in_post(client, other_version, citizen).status_code == 404
    assert not Application.objects.exists()


def test_the_item_list_searches_and_the_queue_links_to_it(version, clerk):
    client = signed_in(clerk)

    assert version.name in text(client.get(WALK_IN, {"q": "测试许可"}))
    assert version.name not in text(client.get(WALK_IN, {"q": "结婚登记"}))
    assert f'href="{WALK_IN}"' in text(client.get("/console/applications/"))


# --- 前台综合受理: submission ---------------------------------------------------------------------


def test_walk_in_submits_for_the_applicant_and_offers_acceptance(version, clerk, citizen):
    client = signed_in(clerk)
    page = client.get(walk_in_url(version))
    assert "申请人身份证号码" in text(page)
    assert f'name="promise_{material(version, "场地证明").pk}"' in text(page)

    response = walk_in_post(client, version, citizen)

    application = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/console/applications/{application.public_id}/"
    assert (application.channel, application.applicant, application.submitted_by) == (
        Application.Channel.WINDOW,
        citizen,
        clerk,
    )
    assert application.status == Application.Status.SUBMITTED
    case = client.get(response["Location"])
    body = text(case)
    assert f"已为申请人 张* 提交申请，办件编号 {application.number}" in body
    assert f"/console/applications/{application.public_id}/accept/" in body  # 受理 at once
    assert "窗口申请" in body


def test_a_repeated_post_is_one_application(version, clerk, citizen):
    client = signed_in(clerk)
    first = walk_in_post(client, version, citizen, idempotency_key="same")
    second = walk_in_post(client, version, citizen, idempotency_key="same")
    assert first["Location"] == second["Location"]
    assert Application.objects.count() == 1


def test_an_unknown_applicant_is_a_clear_message_and_nothing_is_created(version, clerk, citizen):
    client = signed_in(clerk)

    wrong_name = walk_in_post(client, version, citizen, applicant_name="王五")
    malformed = walk_in_post(client, version, citizen, applicant_id_number="34150219900101")
    empty = walk_in_post(client, version, citizen, applicant_name="", applicant_id_number="")

    assert wrong_name.status_code == malformed.status_code == empty.status_code == 422
    assert "找不到姓名和身份证号码相符的实名注册用户" in text(wrong_name)
    assert wrong_name.context["form"].errors["applicant_id_number"]
    assert malformed.context["form"].errors["applicant_id_number"]
    assert "找不到姓名和身份证号码相符" not in text(malformed)  # its own message instead
    errors = empty.context["form"].errors
    assert errors["applicant_name"] == ["请填写申请人姓名。"]
    assert errors["applicant_id_number"] == ["请填写申请人身份证号码。"]
    assert not Application.objects.exists()


def test_invalid_walk_in_shows_every_problem_and_creates_nothing(version, clerk, citizen):
    tolerated = material(version, "场地证明").pk
    response = signed_in(clerk).post(
        walk_in_url(version),
        {
            "idempotency_key": "w-bad",
            "applicant_name": citizen.real_name,
            "applicant_id_number": citizen.id_number,
            "contact_phone": "12345",
            f"material_{tolerated}": SimpleUploadedFile("x.txt", b"hello", "text/plain"),
        },
    )

    assert response.status_code == 422
    assert not Application.objects.exists()
    body = text(response)
    assert "联系电话格式不正确" in body
    assert "缺少必要材料“申请书”" in body
    assert "“场地证明”的文件类型不支持" in body
    assert response.context["error_count"] == 3
    assert f'value="{citizen.real_name}"' in body  # what was typed is kept
    assert 'value="w-bad"' in body


def test_walk_in_for_a_bundle_of_the_clerks_department(version, clerk, citizen, dept_a, dept_b):
    bundle = BundleFactory(
        lead_department=dept_a,
        status=Bundle.Status.PUBLISHED,
        form_schema=[
            {
                "name": "company",
                "label": "企业名称",
                "type": "text",
                "required": True,
                "maps_to": {version.item.task_code: "company"},
            }
        ],
    )
    BundleMemberFactory(bundle=bundle, item=version.item)
    foreign = BundleFactory(lead_department=dept_b, status=Bundle.Status.PUBLISHED)
    client = signed_in(clerk)
    url = f"{WALK_IN}bundle/{bundle.code}/"

    assert "企业名称" in text(client.get(url))
    assert client.get(f"{WALK_IN}bundle/{foreign.code}/").status_code == 404
    done = client.post(
        url,
        {
            "applicant_name": citizen.real_name,
            "applicant_id_number": citizen.id_number,
            "contact_phone": "13800001111",
            "f_company": "六安测试有限公司",
            f"material_{material(version, '申请书').pk}": SimpleUploadedFile("a.png", PNG),
        },
    )
    assert done.status_code == 302
    application = Application.objects.get()
    assert (application.bundle, application.channel) == (bundle, Application.Channel.WINDOW)


# --- labels of form fields ------------------------------------------------------------------------

UNLABELLED_DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d"
  namespace="https://yiwang.example/rules">
  <decision id="x" name="x">
    <decisionTable id="t" hitPolicy="UNIQUE">
      <input id="in_shop">
        <inputExpression id="e1" typeRef="string"><text>shop_name</text></inputExpression>
      </input>
      <input id="in_odd">
        <inputExpression id="e2" typeRef="string"><text>zz_odd_fact</text></inputExpression>
      </input>
      <input id="in_qy">
        <inputExpression id="e3" typeRef="string"><text>qymc</text></inputExpression>
      </input>
      <output id="o" name="auto_approve" typeRef="boolean"/>
    </decisionTable>
  </decision>
</definitions>"""


def test_unlabelled_fields_get_the_catalogs_label_or_a_readable_one(version, dept_a):
    ItemVersion.objects.filter(pk=version.pk).update(dmn_xml=UNLABELLED_DMN)
    version.refresh_from_db()
    bundle = BundleFactory(
        lead_department=dept_a,
        status=Bundle.Status.PUBLISHED,
        form_schema=[
            {
                "name": "enterprise_name",
                "label": "企业名称（一件事）",
                "type": "text",
                "maps_to": {version.item.task_code: "qymc"},
            }
        ],
    )
    BundleMemberFactory(bundle=bundle, item=version.item)

    form = ApplyForm(version=version, bundle=None, principals=[])

    assert form.fields["f_shop_name"].label == "店铺名称"  # a common name
    assert form.fields["f_qymc"].label == "企业名称（一件事）"  # from the 一件事 that fills it
    assert form.fields["f_zz_odd_fact"].label == "zz odd fact"  # never the bare key
    labels = form_field_labels(version, None)
    assert field_label("age", labels) == "年龄"


def test_the_case_page_shows_labels_not_keys(version, citizen, clerk):
    application = submit(version, citizen, form_data={"shop_name": "皋城小卖部", "purpose": "测试"})

    body = text(signed_in(clerk).get(f"/console/applications/{application.public_id}/"))

    assert "<dt>店铺名称</dt><dd>皋城小卖部</dd>" in body
    assert "<dt>申请事由</dt><dd>测试</dd>" in body
    assert "shop_name" not in body


# --- self-service terminal ------------------------------------------------------------------------


def test_terminal_home_offers_the_most_used_items_first(version, other_version, citizen):
    popular = other_version
    submit(popular, citizen, idempotency_key="p1")
    theme = ThemeFactory(audience=Theme.Audience.NATURAL, name="户籍办理")
    version.themes.add(theme)

    home = Client().get(TERMINAL)  # anyone may look; applying needs sign-in

    body = text(home)
    assert home.status_code == 200
    assert body.index(popular.name) < body.index(version.name)
    assert f"/terminal/apply/{version.item.task_code}/" in body
    assert "登录" in body
    themed = text(Client().get(TERMINAL, {"theme": theme.pk}))
    assert version.name in themed
    assert popular.name not in themed
    assert Client().get(TERMINAL, {"theme": "999999"}).status_code == 404


def test_terminal_lists_only_flagged_items_once_the_catalog_flags_some(version, other_version):
    ItemVersion.objects.filter(pk=version.pk).update(supports_terminal=True)

    body = text(Client().get(TERMINAL))

    assert version.name in body
    assert other_version.name not in body


def test_terminal_apply_needs_a_signed_in_applicant(version, clerk):
    url = f"/terminal/apply/{version.item.task_code}/"
    anonymous = Client().get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")
    assert signed_in(clerk).get(url).status_code == 403
    assert signed_in(clerk).post(url, {}).status_code == 403
    assert not Application.objects.exists()


def test_terminal_submits_with_the_account_phone_and_finishes(version, citizen, other_citizen):
    client = signed_in(citizen)
    url = f"/terminal/apply/{version.item.task_code}/"
    page = text(client.get(url))
    assert "使用账号手机号 138****1111" in page
    assert "13800001111" not in page  # the kiosk never shows the whole number

    response = client.post(
        url,
        {
            "idempotency_key": "t-1",
            "phone_choice": "account",
            "contact_phone": "",
            f"material_{material(version, '申请书').pk}": SimpleUploadedFile("a.png", PNG),
        },
    )

    application = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/terminal/done/{application.public_id}/"
    assert application.channel == Application.Channel.TERMINAL
    assert application.contact_phone == citizen.phone
    done = text(client.get(response["Location"]))
    assert application.number in done
    assert "打印受理回执" in done
    assert 'form="terminal-logout"' in done
    assert "秒无操作将自动退出登录" in done
    assert signed_in(other_citizen).get(response["Location"]).status_code == 404


def test_terminal_bad_input_shows_every_problem_and_creates_nothing(version, citizen):
    response = signed_in(citizen).post(
        f"/terminal/apply/{version.item.task_code}/",
        {"idempotency_key": "t-bad", "phone_choice": "other", "contact_phone": "139"},
    )

    assert response.status_code == 422
    assert not Application.objects.exists()
    body = text(response)
    assert "联系电话格式不正确" in body
    assert "缺少必要材料“申请书”" in body
    assert 'value="139"' in body


def test_terminal_is_not_for_staff_of_a_department(version, dept_a):
    staff = staff_with_role(Role.WINDOW_CLERK, dept_a)
    assert signed_in(staff).get(f"/terminal/apply/{version.item.task_code}/").status_code == 403


def test_terminal_offers_a_bundle_and_refuses_unknown_ones(version, citizen, dept_a):
    bundle = BundleFactory(
        lead_department=dept_a, status=Bundle.Status.PUBLISHED, name="测试一件事"
    )
    BundleMemberFactory(bundle=bundle, item=version.item)
    draft = BundleFactory(lead_department=dept_a, status=Bundle.Status.DRAFT)
    client = signed_in(citizen)

    assert f"/terminal/apply/bundle/{bundle.code}/" in text(Client().get(TERMINAL))
    page = client.get(f"/terminal/apply/bundle/{bundle.code}/")
    assert page.status_code == 200
    assert "测试一件事" in text(page)
    assert client.get(f"/terminal/apply/bundle/{draft.code}/").status_code == 404
    assert client.get("/terminal/apply/no-such-item/").status_code == 404


def test_the_case_page_names_the_situation(version, citizen, clerk):
    SituationFactory(version=version, code="retire", name="离休、退休")
    application = submit(version, citizen, situation="retire")

    body = text(signed_in(clerk).get(f"/console/applications/{application.public_id}/"))

    assert "<dd>离休、退休</dd>" in body
