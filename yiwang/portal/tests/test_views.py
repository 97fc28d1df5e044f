from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation

from yiwang.accounts.models import User
from yiwang.accounts.tests.factories import TEST_PASSWORD, StaffFactory, UserFactory
from yiwang.portal import views
from yiwang.portal.context_processors import ELDER_COOKIE
from yiwang.portal.display import user_display_name

pytestmark = pytest.mark.django_db

ELDER_URL = "/preferences/elder/"


def _body_class(html: str) -> str:
    match = re.search(r'<body class="([^"]*)"', html)
    assert match is not None
    return match.group(1)


# --- home, search, accessibility -------------------------------------------------------------


def test_home_renders_the_shell_in_simplified_chinese(client: Client):
    response = client.get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-Hans">' in html
    assert '<a class="skip-link" href="#main">跳到主要内容</a>' in html
    assert '<main id="main" tabindex="-1">' in html
    assert "六安市一网通办" in html
    assert '<label for="service-q">搜索办事事项</label>' in html
    assert f'action="{reverse("catalog:service_list")}"' in html
    assert "/static/htmx/htmx.min.js" in html
    assert "cdn" not in html.lower()
    assert _body_class(html) == ""


def test_every_home_card_links_to_a_real_page_or_says_it_is_coming_soon(client: Client):
    response = client.get("/")

    cards = response.context["cards"]
    html = response.content.decode()
    assert [c.key for c in cards] == ["apply", "my", "complaint", "certificates", "rating"]
    for card in cards:
        if card.url is not None:
            assert client.get(card.url).status_code in (200, 302)
    assert html.count('<span class="badge">即将上线</span>') == sum(1 for c in cards if not c.url)
    assert 'href="#"' not in html


def test_signed_in_citizen_is_greeted_by_masked_name(client: Client):
    citizen = UserFactory(real_name="张三丰")
    client.force_login(citizen)

    html = client.get("/").content.decode()

    assert "张**，您好！" in html
    assert "张三丰" not in html


def test_name_masking():
    assert user_display_name(User(username="x", real_name="张三丰")) == "张**"
    assert user_display_name(User(username="x", real_name="欧阳娜娜")) == "欧阳**"
    assert user_display_name(User(username="13812345678", real_name="")) == "13***8"
    assert user_display_name(User(username="abc", real_name="")) == "a***"


def test_accessibility_statement(client: Client):
    response = client.get(reverse("portal:accessibility"))

    assert response.status_code == 200
    assert "WCAG 2.1 AA" in response.content.decode()


# --- elder-friendly mode -----------------------------------------------------------------------


def test_elder_mode_for_anonymous_visitor_persists_through_a_cookie(client: Client):
    response = client.post(ELDER_URL, {"elder_mode": "on", "next": "/accessibility/"})

    assert response.status_code == 302
    assert response["Location"] == "/accessibility/"
    cookie = response.cookies[ELDER_COOKIE]
    assert cookie.value == "1"
    assert cookie["max-age"] == views.ELDER_COOKIE_MAX_AGE
    assert cookie["httponly"] is True
    html = client.get("/").content.decode()
    assert _body_class(html) == "elder"
    assert "长辈版：已开启" in html
    assert 'aria-pressed="true"' in html


def test_elder_mode_off_clears_the_cookie_value(client: Client):
    client.post(ELDER_URL, {"elder_mode": "on", "next": "/"})

    response = client.post(ELDER_URL, {"elder_mode": "off", "next": "/"})

    assert response.cookies[ELDER_COOKIE].value == "0"
    assert _body_class(client.get("/").content.decode()) == ""


def test_elder_mode_for_signed_in_person_is_kept_on_the_account(client: Client):
    citizen = UserFactory(elder_mode=False)
    client.force_login(citizen)

    client.post(ELDER_URL, {"elder_mode": "on", "next": "/"})

    citizen.refresh_from_db()
    assert citizen.elder_mode is True
    other_device = Client()
    other_device.force_login(citizen)
    assert _body_class(other_device.get("/").content.decode()) == "elder"


def test_elder_mode_off_while_signed_in_clears_the_account_flag(client: Client):
    citizen = UserFactory(elder_mode=True)
    client.force_login(citizen)

    client.post(ELDER_URL, {"elder_mode": "off", "next": "/"})

    citizen.refresh_from_db()
    assert citizen.elder_mode is False
    assert _body_class(client.get("/").content.decode()) == ""


@pytest.mark.parametrize(
    "bad_next",
    ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", "http://testserver.evil/"],
)
def test_elder_toggle_ignores_a_next_url_off_this_site(client: Client, bad_next: str):
    response = client.post(ELDER_URL, {"elder_mode": "on", "next": bad_next})

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_elder_toggle_rejects_an_unknown_value_and_changes_nothing(client: Client):
    citizen = UserFactory(elder_mode=False)
    client.force_login(citizen)

    response = client.post(ELDER_URL, {"elder_mode": "maybe", "next": "/"})

    assert response.status_code == 422
    html = response.content.decode()
    assert "长辈版开关的取值只能是 on 或 off。" in html
    assert "portal.elder_mode_invalid" in html
    assert ELDER_COOKIE not in response.cookies
    citizen.refresh_from_db()
    assert citizen.elder_mode is False


def test_elder_toggle_refuses_get(client: Client):
    response = client.get(ELDER_URL)

    assert response.status_code == 405
    assert ELDER_COOKIE not in response.cookies


def test_elder_toggle_with_htmx_answers_with_a_redirect_header(client: Client):
    response = client.post(
        ELDER_URL, {"elder_mode": "on", "next": "/accessibility/"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 204
    assert response["HX-Redirect"] == "/accessibility/"
    assert response.cookies[ELDER_COOKIE].value == "1"


def test_elder_toggle_enforces_csrf():
    client = Client(enforce_csrf_checks=True)

    response = client.post(ELDER_URL, {"elder_mode": "on", "next": "/"})

    assert response.status_code == 403
    assert ELDER_COOKIE not in response.cookies


# --- language -------------------------------------------------------------------------------------


def test_language_switch_renders_english(client: Client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accessibility/"})
    assert response.status_code == 302
    assert response["Location"] == "/accessibility/"

    html = client.get("/").content.decode()

    assert '<html lang="en">' in html
    assert "Skip to main content" in html
    assert "Search services" in html
    assert "Coming soon" in html
    assert "跳到主要内容" not in html
    assert 'lang="zh-Hans">中文</button>' in html


def test_language_switch_back_to_chinese(client: Client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})

    assert "跳到主要内容" in client.get("/").content.decode()


# --- sign in, lockout, error pages ---------------------------------------------------------------


def test_login_page_labels_every_input(client: Client):
    html = client.get(reverse("accounts:login")).content.decode()

    for input_id in re.findall(r'<input type="(?:text|password)" name="\w+" id="(\w+)"', html):
        assert f'<label for="{input_id}">' in html
    assert 'id="id_username"' in html
    assert "六安市一网通办</a>" in html
    assert 'id="id_password"' in html


def test_login_as_staff_reaches_the_console(client: Client):
    staff = StaffFactory()

    response = client.post(
        reverse("accounts:login"),
        {"username": staff.username, "password": TEST_PASSWORD, "next": "/console/"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/console/"


def test_repeated_failed_logins_show_the_lockout_page(client: Client):
    citizen = UserFactory()
    responses = [
        client.post(reverse("accounts:login"), {"username": citizen.username, "password": "wrong"})
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]

    locked = responses[-1]
    assert [r.status_code for r in responses[:-1]] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert locked.status_code == 429
    html = locked.content.decode()
    assert "该账号已被锁定 30 分钟" in html
    assert "12345" in html
    assert "政务服务大厅窗口" in html
    assert f'href="{reverse("portal:home")}"' in html


def test_not_found_page_is_friendly_and_leads_home(client: Client):
    response = client.get("/no-such-page/")

    html = response.content.decode()
    assert response.status_code == 404
    assert "<h1>页面不存在</h1>" in html
    assert '<a class="button" href="/">返回首页</a>' in html


def test_not_found_page_in_english(client: Client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    html = client.get("/no-such-page/").content.decode()

    assert "<h1>Page not found</h1>" in html
    assert "Back to home" in html


def test_server_error_page(rf: RequestFactory):
    request = rf.get("/")

    with translation.override("zh-hans"):
        response = views.error_500(request)

    assert response.status_code == 500
    assert "系统出现故障" in response.content.decode()
    assert "返回首页" in response.content.decode()


def test_bad_request_page(rf: RequestFactory):
    with translation.override("zh-hans"):
        response = views.error_400(rf.get("/"))

    assert response.status_code == 400
    assert "请求有误" in response.content.decode()
