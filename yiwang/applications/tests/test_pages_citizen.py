"""Citizen pages of 办件: apply, 我的办件, detail (withdraw, supplement) and the public progress
query; access (another citizen gets 404, anonymous is sent to sign in), bad input (every
problem shown, nothing created) and the idempotent double post."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse

from yiwang.accounts.models import User
from yiwang.accounts.tests.factories import DelegationFactory, UserFactory
from yiwang.applications import services
from yiwang.applications.forms import dmn_facts
from yiwang.applications.models import Application
from yiwang.applications.tests.conftest import material, signed_in, submit
from yiwang.applications.tests.factories import PNG
from yiwang.catalog.demo import GJJTQ_DMN
from yiwang.catalog.models import Bundle, ItemVersion
from yiwang.catalog.tests.factories import BundleFactory, BundleMemberFactory, SituationFactory

pytestmark = pytest.mark.django_db

HOST = "zwfw.example.cn"  # a full host name: the notice's progress address must be one


def _apply_url(version: ItemVersion) -> str:
    return reverse("applications:apply", args=[version.item.task_code])


def _key(client: Client, version: ItemVersion) -> str:
    page = client.get(_apply_url(version))
    assert page.status_code == 200
    form = page.context["form"]
    return str(form.initial["idempotency_key"])


def _post(client: Client, version: ItemVersion, **extra: Any) -> Any:
    data: dict[str, Any] = {
        "idempotency_key": "k-1",
        "contact_phone": "13800001111",
        f"material_{material(version, '申请书').pk}": SimpleUploadedFile(
            "sqs.png", PNG, content_type="image/png"
        ),
    }
    data.update(extra)
    return client.post(_apply_url(version), data)


# --- apply ------------------------------------------------------------------------------------


def test_apply_page_shows_materials_and_a_fresh_key_per_render(
    version: ItemVersion, citizen: User
) -> None:
    client = signed_in(citizen)
    page = client.get(_apply_url(version))
    body = page.content.decode()
    assert "申请书" in body
    assert "场地证明" in body
    assert f'name="promise_{material(version, "场地证明").pk}"' in body  # 容缺 may be promised
    assert f'name="promise_{material(version, "申请书").pk}"' not in body
    assert _key(client, version) != _key(client, version)


def test_apply_creates_one_application_and_redirects_to_it(
    version: ItemVersion, citizen: User
) -> None:
    response = _post(signed_in(citizen), version)
    application = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("applications:detail", args=[application.public_id])
    assert application.applicant == citizen
    assert application.channel == Application.Channel.ONLINE
    assert application.materials.count() == 1


def test_double_post_with_the_same_key_is_one_application(
    version: ItemVersion, citizen: User
) -> None:
    client = signed_in(citizen)
    first = _post(client, version, idempotency_key="same-key")
    second = _post(client, version, idempotency_key="same-key")
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Application.objects.count() == 1


def test_every_problem_is_shown_and_nothing_is_created(version: ItemVersion, citizen: User) -> None:
    tolerated = material(version, "场地证明").pk
    response = signed_in(citizen).post(
        _apply_url(version),
        {
            "idempotency_key": "k-bad",
            "contact_phone": "12345",
            # wrong type for the tolerated material; the required one is missing
            f"material_{tolerated}": SimpleUploadedFile("x.txt", b"hello", "text/plain"),
        },
    )
    assert response.status_code == 422
    assert Application.objects.count() == 0
    body = response.content.decode()
    assert "联系电话格式不正确" in body
    assert "缺少必要材料“申请书”" in body
    assert "“场地证明”的文件类型不支持" in body
    rows = {row.name: row for row in response.context["rows"]}
    assert rows["申请书"].errors
    assert rows["场地证明"].errors
    assert response.context["form"].errors["contact_phone"]
    assert 'value="12345"' in body  # what was typed is kept
    assert 'value="k-bad"' in body  # the same key: the corrected form is still one application


def test_situation_and_dmn_fact_problems_come_together(version: ItemVersion, citizen: User) -> None:
    SituationFactory(version=version, code="retire", name="退休提取")
    SituationFactory(version=version, code="buy", name="购房提取")
    ItemVersion.objects.filter(pk=version.pk).update(dmn_xml=GJJTQ_DMN)
    client = signed_in(citizen)
    page = client.get(_apply_url(version))
    assert "退休提取" in page.content.decode()
    assert "f_age" in page.context["form"].fields
    response = _post(client, version, f_age="sixty")  # no situation, age not a number
    assert response.status_code == 422
    assert Application.objects.count() == 0
    errors = response.context["form"].errors
    assert "请选择办理情形。" in errors["situation"]
    assert errors["f_age"]
    ok = _post(client, version, f_age="62", situation="retire", idempotency_key="k-2")
    assert ok.status_code == 302
    application = Application.objects.get()
    assert application.situation == "retire"
    assert application.form_data == {"age": 62}


def test_dmn_facts_leave_out_the_situation() -> None:
    assert [f.name for f in dmn_facts(GJJTQ_DMN)] == ["age"]
    assert dmn_facts("") == []
    assert dmn_facts("<not xml") == []


def test_apply_on_behalf_of_a_principal(version: ItemVersion, citizen: User) -> None:
    principal = UserFactory(real_name="王五")
    DelegationFactory(principal=principal, agent=citizen)
    client = signed_in(citizen)
    page = client.get(_apply_url(version))
    assert "代 王五 办理" in page.content.decode()
    response = _post(client, version, principal=str(principal.public_id))
    assert response.status_code == 302
    assert Application.objects.get().principal == principal


def test_a_principal_who_did_not_delegate_is_never_used(
    version: ItemVersion, citizen: User
) -> None:
    stranger = UserFactory()
    client = signed_in(citizen)
    # without any delegation there is no choice: the application is the user's own
    response = _post(client, version, principal=str(stranger.public_id))
    assert response.status_code == 302
    assert Application.objects.get().principal is None
    # with a delegation from someone else, a stranger is not one of the choices
    DelegationFactory(agent=citizen)
    refused = _post(client, version, principal=str(stranger.public_id), idempotency_key="k-3")
    assert refused.status_code == 422
    assert refused.context["form"].errors["principal"]
    assert Application.objects.count() == 1


def test_apply_needs_sign_in_and_an_applicant(version: ItemVersion, clerk: User) -> None:
    anonymous = Client().get(_apply_url(version))
    assert anonymous.status_code == 302
    assert reverse("accounts:login") in anonymous["Location"]
    assert signed_in(clerk).get(_apply_url(version)).status_code == 403


def test_unknown_item_is_404(citizen: User) -> None:
    url = reverse("applications:apply", args=["no-such-item"])
    assert signed_in(citizen).get(url).status_code == 404


# --- my applications and detail ---------------------------------------------------------------


def test_my_applications_lists_only_mine(
    version: ItemVersion, citizen: User, other_citizen: User
) -> None:
    mine = submit(version, citizen)
    theirs = submit(version, other_citizen, contact_phone="13900002222")
    page = signed_in(citizen).get(reverse("applications:mine"))
    body = page.content.decode()
    assert mine.number in body
    assert theirs.number not in body
    assert "已提交（预审）" in body


def test_detail_of_another_citizen_is_404_and_anonymous_signs_in(
    version: ItemVersion, citizen: User, other_citizen: User
) -> None:
    application = submit(version, citizen)
    url = reverse("applications:detail", args=[application.public_id])
    assert signed_in(other_citizen).get(url).status_code == 404
    assert (
        signed_in(other_citizen)
        .post(reverse("applications:withdraw", args=[application.public_id]))
        .status_code
        == 404
    )
    anonymous = Client().get(url)
    assert anonymous.status_code == 302
    assert reverse("accounts:login") in anonymous["Location"]
    page = signed_in(citizen).get(url)
    assert page.status_code == 200
    assert application.number in page.content.decode()
    assert "提交申请" in page.content.decode()  # the timeline


def test_withdraw_asks_then_withdraws(version: ItemVersion, citizen: User) -> None:
    application = submit(version, citizen)
    client = signed_in(citizen)
    url = reverse("applications:withdraw", args=[application.public_id])
    confirm = client.get(url)
    assert "确认撤回" in confirm.content.decode()
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED  # GET changes nothing
    done = client.post(url, {"reason": "不办了"})
    assert done.status_code == 302
    application.refresh_from_db()
    assert application.status == Application.Status.WITHDRAWN
    again = client.post(url, {})
    assert again.status_code == 302
    follow = client.get(again["Location"])
    assert follow.context["can_withdraw"] is False
    assert url not in follow.content.decode()


def test_supplement_when_asked_and_notices_after_acceptance(
    version: ItemVersion, citizen: User, clerk: User, settings: Any
) -> None:
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, HOST]
    application = submit(version, citizen)
    services.application_request_supplement(
        application=application, actor=clerk, items=["申请书需签字"]
    )
    client = signed_in(citizen)
    url = reverse("applications:detail", args=[application.public_id])
    page = client.get(url).content.decode()
    assert "申请书需签字" in page
    assert "提交补正材料" in page
    assert "补正材料一次性告知书" in page
    supplement = reverse("applications:supplement", args=[application.public_id])
    empty = client.post(supplement, {"note": ""})
    assert empty.status_code == 422
    assert "请至少上传一份材料" in empty.content.decode()
    bad = client.post(
        supplement,
        {f"material_{material(version, '申请书').pk}": SimpleUploadedFile("a.txt", b"hi")},
    )
    assert bad.status_code == 422
    assert "文件类型不支持" in bad.content.decode()
    application.refresh_from_db()
    assert application.status == Application.Status.SUPPLEMENT_REQUESTED
    ok = client.post(
        supplement,
        {f"material_{material(version, '申请书').pk}": SimpleUploadedFile("a.png", PNG)},
    )
    assert ok.status_code == 302
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED
    services.application_accept(application=application, actor=clerk)
    page = client.get(url).content.decode()
    notice = reverse("api:application_notice", args=[application.public_id, "acceptance"])
    assert notice in page
    pdf = client.get(notice, HTTP_HOST=HOST)  # the notice prints the progress address
    assert pdf.status_code == 200, pdf.content.decode()
    assert pdf["Content-Type"] == "application/pdf"


# --- public progress --------------------------------------------------------------------------


def test_progress_shows_status_without_personal_data(version: ItemVersion, citizen: User) -> None:
    application = submit(version, citizen)
    url = reverse("applications:progress")
    page = Client().get(url, {"number": application.number, "phone_last4": "1111"})
    body = page.content.decode()
    assert page.status_code == 200
    assert application.number in body
    assert "已提交（预审）" in body
    assert citizen.real_name not in body
    assert "13800001111" not in body
    wrong = Client().get(url, {"number": application.number, "phone_last4": "9999"})
    unknown = Client().get(url, {"number": "nope", "phone_last4": "1111"})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.context["problem"] == unknown.context["problem"]
    bad = Client().get(url, {"number": "", "phone_last4": "12"})
    assert bad.status_code == 422
    assert "请填写办件编号。" in bad.content.decode()
    assert "请填写 4 位数字。" in bad.content.decode()


@override_settings(YIWANG_PROGRESS_QUERY_RATE="2/m")
def test_progress_rate_limit_is_a_clear_message(version: ItemVersion, citizen: User) -> None:
    cache.clear()
    application = submit(version, citizen)
    url = reverse("applications:progress")
    query = {"number": application.number, "phone_last4": "1111"}
    assert Client().get(url, query).status_code == 200
    assert Client().get(url, query).status_code == 200
    limited = Client().get(url, query)
    assert limited.status_code == 429
    assert "查询太频繁" in limited.content.decode()
    assert limited.context["progress"] is None


def test_progress_number_locks_after_wrong_endings(version: ItemVersion, citizen: User) -> None:
    application = submit(version, citizen)
    url = reverse("applications:progress")
    for _ in range(10):
        assert (
            Client().get(url, {"number": application.number, "phone_last4": "0000"}).status_code
            == 404
        )
    right = Client().get(url, {"number": application.number, "phone_last4": "1111"})
    assert right.status_code == 429


def test_apply_for_a_bundle_with_its_merged_form(
    version: ItemVersion, citizen: User, dept_a: Any
) -> None:
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
    url = reverse("applications:apply_bundle", args=[bundle.code])
    client = signed_in(citizen)
    page = client.get(url)
    assert page.status_code == 200
    assert "企业名称" in page.content.decode()
    upload = {
        f"material_{material(version, '申请书').pk}": SimpleUploadedFile("a.png", PNG),
        "contact_phone": "13800001111",
        "idempotency_key": "b-1",
    }
    missing = client.post(url, upload)
    assert missing.status_code == 422
    assert "请填写“企业名称”。" in missing.context["form"].errors["f_company"]
    assert Application.objects.count() == 0
    done = client.post(
        url,
        {**upload, "f_company": "六安测试有限公司"}
        | {f"material_{material(version, '申请书').pk}": SimpleUploadedFile("a.png", PNG)},
    )
    assert done.status_code == 302
    application = Application.objects.get()
    assert application.bundle == bundle
    assert application.form_data == {"company": "六安测试有限公司"}
