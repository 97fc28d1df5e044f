"""The catalog admin: editors change drafts through the services; versions that are not
drafts are read-only (children included); workflow actions show quality violations."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from yiwang.accounts import services as account_services
from yiwang.accounts.models import Role, User
from yiwang.accounts.tests.factories import DepartmentFactory, StaffFactory, admin_user
from yiwang.catalog.models import Bundle, ItemType, ItemVersion, Theme
from yiwang.catalog.tests.factories import (
    BundleFactory,
    ItemVersionFactory,
    PublishedVersionFactory,
)
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db
Status = ItemVersion.Status


def _grant(role: str) -> User:
    department = None if role in (Role.ADMIN, Role.AUDITOR) else DepartmentFactory()
    user = StaffFactory(department=department or DepartmentFactory())
    account_services.role_grant(actor=admin_user(), user=user, role=role, department=department)
    user.refresh_from_db()
    return user


@pytest.fixture
def editor_client(client: Client) -> Client:
    client.force_login(_grant(Role.CATALOG_ADMIN))
    return client


def _change_url(version: ItemVersion) -> str:
    return reverse("admin:catalog_itemversion_change", args=[version.pk])


def _form_data(form: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        if isinstance(field, forms.FileField):
            continue
        value = form[name].value()  # JSON fields come back already encoded
        if value is None or value is False:
            continue
        data[form[name].html_name] = "on" if value is True else value
    return data


def _post_data(response: Any) -> dict[str, Any]:
    """What the browser would send back for the change page as rendered."""
    data = _form_data(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(_form_data(formset.management_form))
        for form in formset.forms:
            data.update(_form_data(form))
    return data


# --- access --------------------------------------------------------------------------------


def test_catalog_admin_gets_the_catalog_in_the_admin(editor_client: Client) -> None:
    version = ItemVersionFactory()

    assert editor_client.get(reverse("admin:catalog_itemversion_changelist")).status_code == 200
    page = editor_client.get(_change_url(version))
    assert page.status_code == 200
    assert page.context["has_change_permission"] is True
    assert "符合全部质量规则。" in page.content.decode()


def test_other_admin_users_only_read(client: Client) -> None:
    auditor = _grant(Role.AUDITOR)  # may sign in to the admin, is not a catalog editor
    client.force_login(auditor)
    version = ItemVersionFactory(name="原名称")

    page = client.get(_change_url(version))
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    response = client.post(_change_url(version), {"name": "新名称"})

    assert response.status_code == 403
    version.refresh_from_db()
    assert version.name == "原名称"


def test_staff_without_admin_access_are_sent_to_the_login(client: Client) -> None:
    client.force_login(_grant(Role.APPROVER))

    response = client.get(reverse("admin:catalog_itemversion_changelist"))

    assert response.status_code == 302


# --- editing -------------------------------------------------------------------------------


def test_editing_a_draft_goes_through_the_service_and_is_audited(editor_client: Client) -> None:
    version = ItemVersionFactory(name="原名称")
    page = editor_client.get(_change_url(version))
    data = _post_data(page)
    data["name"] = "新名称"
    data["faqs-0-answer"] = "新的答案"

    response = editor_client.post(_change_url(version), data)

    assert response.status_code == 302
    version.refresh_from_db()
    assert version.name == "新名称"
    assert version.faqs.get().answer == "新的答案"
    [update] = AuditEntry.objects.filter(action="catalog.version_update")
    assert update.after == {"name": "新名称"}
    [children] = AuditEntry.objects.filter(action="catalog.version_admin_children")
    assert children.after is not None
    assert children.after["children"] == {
        "faq": {"added": [], "changed": ["办理需要多长时间？"], "deleted": []}
    }


@pytest.mark.parametrize("status", [Status.REVIEW, Status.PUBLISHED, Status.RETIRED])
def test_a_version_that_is_not_a_draft_is_read_only_in_the_admin(
    editor_client: Client, status: str
) -> None:
    version = ItemVersionFactory(status=status, name="原名称")
    page = editor_client.get(_change_url(version))
    draft_page = editor_client.get(_change_url(ItemVersionFactory()))

    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    for inline in page.context["inline_admin_formsets"]:
        assert inline.has_add_permission is False
        assert inline.has_change_permission is False
        assert inline.has_delete_permission is False
    assert 'name="_save"' not in page.content.decode()
    assert 'name="_save"' in draft_page.content.decode()

    response = editor_client.post(
        _change_url(version), {**_post_data(draft_page), "name": "新名称"}
    )

    assert response.status_code == 403
    version.refresh_from_db()
    assert version.name == "原名称"
    assert version.faqs.count() == 1
    assert not AuditEntry.objects.filter(action__startswith="catalog.version_").exists()


def test_a_json_element_that_is_not_a_list_of_text_is_a_form_error(
    editor_client: Client,
) -> None:
    version = ItemVersionFactory()
    data = _post_data(editor_client.get(_change_url(version)))

    response = editor_client.post(_change_url(version), {**data, "server_types": '"自然人"'})

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"server_types": ["应为文字列表。"]}
    version.refresh_from_db()
    assert version.server_types == ["自然人"]


def test_a_version_published_while_the_form_was_open_is_not_changed(
    editor_client: Client,
) -> None:
    version = ItemVersionFactory(name="原名称")
    data = _post_data(editor_client.get(_change_url(version)))
    ItemVersion.objects.filter(pk=version.pk).update(status=Status.PUBLISHED)

    response = editor_client.post(_change_url(version), {**data, "name": "新名称"})

    assert response.status_code == 403
    version.refresh_from_db()
    assert version.name == "原名称"


def test_versions_are_never_added_or_deleted_in_the_admin(editor_client: Client) -> None:
    version = ItemVersionFactory()

    assert editor_client.get(reverse("admin:catalog_itemversion_add")).status_code == 403
    delete = reverse("admin:catalog_itemversion_delete", args=[version.pk])
    assert editor_client.post(delete, {"post": "yes"}).status_code == 403
    assert ItemVersion.objects.filter(pk=version.pk).exists()


# --- workflow actions ----------------------------------------------------------------------


def _action(client: Client, action: str, *versions: ItemVersion) -> list[tuple[str, str]]:
    response = client.post(
        reverse("admin:catalog_itemversion_changelist"),
        {"action": action, "_selected_action": [v.pk for v in versions]},
        follow=True,
    )
    assert response.status_code == 200
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def test_submit_and_publish_actions_call_the_services(editor_client: Client) -> None:
    version = ItemVersionFactory()

    assert _action(editor_client, "action_submit", version) == [("success", "已处理 1 个版本。")]
    # four eyes: the submitter's own publish is refused, a second editor's goes through
    assert _action(editor_client, "action_publish", version) == [
        ("error", f"{version}: 提交审核的人不能发布自己提交的版本，请由另一位审核人发布。")
    ]
    editor_client.force_login(_grant(Role.CATALOG_ADMIN))
    assert _action(editor_client, "action_publish", version) == [("success", "已处理 1 个版本。")]

    version.refresh_from_db()
    assert version.status == Status.PUBLISHED
    assert AuditEntry.objects.filter(action="catalog.version_publish").count() == 1


def test_publish_action_lists_each_violation_and_changes_nothing(editor_client: Client) -> None:
    version = ItemVersionFactory(status=Status.REVIEW, dept_name="", visit_count=1)

    messages = _action(editor_client, "action_publish", version)

    assert messages == [
        (
            "error",
            f"{version}: 事项不符合质量规则，不能发布：实施主体名称不能为空。；"
            "到办事现场次数不为0时，必须说明必须现场办理的原因。；"
            "网上办理深度为“全程网办（Ⅳ级）”的事项，到办事现场次数必须为0。",
        ),
        ("error", f"{version} · 实施主体名称不能为空。"),
        ("error", f"{version} · 到办事现场次数不为0时，必须说明必须现场办理的原因。"),
        ("error", f"{version} · 网上办理深度为“全程网办（Ⅳ级）”的事项，到办事现场次数必须为0。"),
    ]
    version.refresh_from_db()
    assert version.status == Status.REVIEW


def test_invalid_transition_action_says_why(editor_client: Client) -> None:
    version = ItemVersionFactory()

    messages = _action(editor_client, "action_retire", version)

    assert messages == [("error", f"{version}: 版本状态为“草稿”，不能执行“停用”。")]


def test_new_draft_and_retire_actions(editor_client: Client) -> None:
    published = PublishedVersionFactory()

    assert _action(editor_client, "action_new_draft", published) == [
        ("success", "已处理 1 个版本。")
    ]
    assert published.item.versions.get(number=2).status == Status.DRAFT
    assert _action(editor_client, "action_retire", published) == [("success", "已处理 1 个版本。")]
    published.refresh_from_db()
    assert published.status == Status.RETIRED


def test_a_reader_gets_no_workflow_actions(client: Client) -> None:
    client.force_login(_grant(Role.AUDITOR))
    version = ItemVersionFactory()

    page = client.get(reverse("admin:catalog_itemversion_changelist"))
    response = client.post(
        reverse("admin:catalog_itemversion_changelist"),
        {"action": "action_submit", "_selected_action": [version.pk]},
    )

    assert "action_submit" not in page.content.decode()
    assert response.status_code in (200, 302)
    version.refresh_from_db()
    assert version.status == Status.DRAFT


# --- configuration lists and bundles -------------------------------------------------------


def test_item_types_and_themes_are_seeded() -> None:
    assert ItemType.objects.get(code="01").name == "行政许可"
    assert ItemType.objects.get(name="公共服务").is_power is False
    assert Theme.objects.filter(audience=Theme.Audience.NATURAL, name="生育收养").exists()
    assert Theme.objects.filter(audience=Theme.Audience.LEGAL, name="注销退出").exists()


def test_item_type_change_is_audited(editor_client: Client) -> None:
    item_type = ItemType.objects.get(code="14")

    response = editor_client.post(
        reverse("admin:catalog_itemtype_change", args=[item_type.pk]),
        {"code": "14", "name": "公共服务事项", "is_power": "", "sort_order": 99, "active": "on"},
    )

    assert response.status_code == 302
    [entry] = AuditEntry.objects.filter(action="catalog.itemtype_change")
    assert entry.before == {"name": "公共服务", "sort_order": 10}
    assert entry.after is not None
    assert entry.after["name"] == "公共服务事项"


def test_published_bundle_is_read_only(editor_client: Client) -> None:
    bundle = BundleFactory(status=Bundle.Status.PUBLISHED, name="企业开办")
    url = reverse("admin:catalog_bundle_change", args=[bundle.pk])

    page = editor_client.get(url)
    response = editor_client.post(url, {"name": "改名"})

    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert response.status_code == 403
    bundle.refresh_from_db()
    assert bundle.name == "企业开办"


def test_changelists_render_for_an_administrator(client: Client) -> None:
    client.force_login(_grant(Role.ADMIN))
    ItemVersionFactory()
    BundleFactory()

    for model in ("itemversion", "serviceitem", "itemtype", "theme", "bundle"):
        assert client.get(reverse(f"admin:catalog_{model}_changelist")).status_code == 200


# --- process and rules uploads ---------------------------------------------------------------


def test_a_valid_bpmn_upload_becomes_the_custom_process(editor_client: Client) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from yiwang.catalog.process import process_generate

    version = ItemVersionFactory()
    data = _post_data(editor_client.get(_change_url(version)))
    xml = process_generate(version)
    data["bpmn_upload"] = SimpleUploadedFile("flow.bpmn", xml.encode(), "application/xml")

    response = editor_client.post(_change_url(version), data)

    assert response.status_code == 302
    version.refresh_from_db()
    assert version.bpmn_custom is True
    assert version.bpmn_xml == xml
    assert AuditEntry.objects.filter(action="catalog.process_set_custom").count() == 1


@pytest.mark.parametrize(
    ("field", "content", "reason"),
    [
        ("bpmn_upload", b"<definitions><unclosed></definitions>", "XML"),
        ("bpmn_upload", b"<html><body>not a process</body></html>", "BPMN"),
        ("dmn_upload", b"<definitions xmlns='http://www.omg.org/spec/DMN/20191111/MODEL/'/>", ""),
    ],
)
def test_an_invalid_upload_is_refused_with_the_parsers_reason_and_changes_nothing(
    editor_client: Client, field: str, content: bytes, reason: str
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    version = ItemVersionFactory(name="原名称")
    data = _post_data(editor_client.get(_change_url(version)))
    data["name"] = "新名称"
    data[field] = SimpleUploadedFile("upload.xml", content, "application/xml")

    response = editor_client.post(_change_url(version), data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors[field]
    assert len(errors) == 1
    assert reason in errors[0]
    version.refresh_from_db()
    assert version.name == "原名称"
    assert version.bpmn_custom is False
    assert version.dmn_xml == ""
    assert not AuditEntry.objects.filter(action__startswith="catalog.").exists()
