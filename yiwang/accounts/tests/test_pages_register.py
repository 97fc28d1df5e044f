"""Citizen real-name registration at /accounts/register/: the form calls citizen_register,
every refusal comes back on the right field with the service's message and saves nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from yiwang.accounts.models import User
from yiwang.accounts.tests.factories import TEST_PASSWORD, UserFactory, make_id_number
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db

REGISTER = "/accounts/register/"
GOOD_ID = make_id_number(901, birth="19900101")


def _form(**overrides: str) -> dict[str, str]:
    data = {
        "username": "zhangsan",
        "real_name": "张三",
        "id_number": GOOD_ID,
        "phone": "13912345678",
        "password1": TEST_PASSWORD,
        "password2": TEST_PASSWORD,
    }
    data.update(overrides)
    return data


def _field_errors(response, field: str) -> list[str]:
    return list(response.context["form"].errors.get(field, []))


def test_the_form_is_public_and_linked_from_the_login_page(client: Client):
    response = client.get(REGISTER)

    assert response.status_code == 200
    assert "<h1>实名注册</h1>" in response.content.decode()
    login_page = client.get("/accounts/login/").content.decode()
    assert '没有账号？<a href="/accounts/register/">实名注册</a>' in login_page


def test_registering_signs_the_citizen_in_and_shows_my_account(client: Client):
    response = client.post(REGISTER, _form(id_number=GOOD_ID[:6] + " " + GOOD_ID[6:]))

    assert response.status_code == 302
    assert response["Location"] == "/accounts/me/"
    user = User.objects.get()
    assert (user.username, user.kind, user.real_name, user.id_number, user.phone) == (
        "zhangsan",
        User.Kind.CITIZEN,
        "张三",
        GOOD_ID,
        "13912345678",
    )
    assert user.check_password(TEST_PASSWORD)
    assert client.session["_auth_user_id"] == str(user.pk)
    assert list(AuditEntry.objects.order_by("id").values_list("action", "actor_id")) == [
        ("accounts.citizen_register", user.pk),
        ("accounts.login", user.pk),
    ]
    page = client.get("/accounts/me/").content.decode()
    assert "注册成功，您已登录。" in page


def test_a_signed_in_person_is_sent_to_their_account(client: Client):
    client.force_login(UserFactory())

    response = client.get(REGISTER)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/me/"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"id_number": GOOD_ID[:17] + ("0" if GOOD_ID[17] != "0" else "1")},
            "id_number",
            "身份证号码校验位错误：最后一位应为",
        ),
        ({"id_number": "34150219900101"}, "id_number", "身份证号码应为18位，实际为14位。"),
        ({"phone": "12345"}, "phone", "手机号码格式不正确：应为以 1 开头的 11 位数字。"),
        ({"real_name": "   "}, "real_name", "这个字段是必填项。"),
        ({"password2": TEST_PASSWORD + "x"}, "password2", "两次输入的密码不一致。"),
        ({"password1": "12345678", "password2": "12345678"}, "password1", "密码不符合要求："),
        ({"username": "bad name!"}, "username", "请输入合法的用户名。"),
    ],
    ids=["check-digit", "id-length", "phone", "name", "passwords-differ", "weak", "username"],
)
def test_bad_input_is_shown_on_its_field_and_nothing_is_saved(
    client: Client, overrides: dict[str, str], field: str, message: str
):
    response = client.post(REGISTER, _form(**overrides))

    assert response.status_code == 200
    errors = _field_errors(response, field)
    assert len(errors) == 1
    assert errors[0].startswith(message)
    assert message in response.content.decode()
    assert User.objects.count() == 0
    assert AuditEntry.objects.count() == 0
    assert "_auth_user_id" not in client.session


def test_a_registered_id_number_is_refused_on_the_id_field(client: Client):
    UserFactory(id_number=GOOD_ID)

    response = client.post(REGISTER, _form())

    assert _field_errors(response, "id_number") == [
        "该身份证号码已经注册过账号，请直接登录或找回密码。"
    ]
    assert User.objects.count() == 1
    assert AuditEntry.objects.count() == 0
    assert "_auth_user_id" not in client.session


def test_a_taken_username_is_refused_on_the_username_field(client: Client):
    UserFactory(username="ZhangSan")

    response = client.post(REGISTER, _form())

    assert _field_errors(response, "username") == ["用户名“zhangsan”已被使用。"]
    assert User.objects.count() == 1
    assert AuditEntry.objects.count() == 0


def test_the_error_summary_links_to_the_field_and_the_input_is_marked_invalid(client: Client):
    response = client.post(REGISTER, _form(phone="12345"))

    html = response.content.decode()
    assert '<li><a href="#id_phone">手机号码</a>：手机号码格式不正确' in html
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_phone_error"' in html
    # Passwords are never sent back to the browser.
    assert TEST_PASSWORD not in html


def test_the_page_and_its_errors_are_translated_to_english(client: Client):
    client.cookies["django_language"] = "en"

    response = client.post(REGISTER, _form(password2="something-else-1"))

    html = response.content.decode()
    assert "<h1>Register with your real name</h1>" in html
    assert "The two passwords do not match." in html
    assert User.objects.count() == 0
