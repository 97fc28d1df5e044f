"""The pages through Django's test client: the rating page, the desk and the statistics."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.urls import reverse

from yiwang.accounts.models import Department, User
from yiwang.accounts.tests.factories import DelegationFactory, UserFactory
from yiwang.core.models import AuditEntry
from yiwang.evaluation.models import Invitation, Rating, Rectification
from yiwang.evaluation.selectors import city_today
from yiwang.evaluation.services import rating_invite, rating_submit, rectification_reply
from yiwang.evaluation.tests.conftest import invite, signed_in
from yiwang.evaluation.tests.factories import InvitationFactory, RectificationFactory

pytestmark = pytest.mark.django_db


def _rate_url(invitation: Invitation) -> str:
    return reverse("evaluation:rate", kwargs={"public_id": invitation.public_id})


def _desk_url(rectification: Rectification, suffix: str = "") -> str:
    name = "evaluation:rectification" + (f"_{suffix}" if suffix else "")
    return reverse(name, kwargs={"public_id": rectification.public_id})


# --- the rating page -------------------------------------------------------------------------


def test_the_rating_page_offers_five_choices_best_first(invitation: Invitation, rater: User):
    response = signed_in(rater).get(_rate_url(invitation))

    html = response.content.decode()
    assert response.status_code == 200
    assert "个体工商户设立登记" in html
    assert "六安市市场监督管理局" in html
    labels = ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    radios = [html.index(f'value="{lv}"') for lv in (5, 4, 3, 2, 1)]
    assert radios == sorted(radios)
    for n, label in enumerate(labels):
        assert f'<span class="level-name" id="id_level_{n}_name">{label}</span>' in html
        assert f'aria-labelledby="id_level_{n}_name" aria-describedby="id_level_{n}_hint"' in html
    assert 'name="comment"' in html


def test_elder_mode_marks_the_page(invitation: Invitation, rater: User):
    client = signed_in(rater)
    client.cookies["elder"] = "1"
    html = client.get(_rate_url(invitation)).content.decode()
    assert '<body class="elder' in html


def test_a_bad_rating_without_a_comment_is_explained_and_changes_nothing(
    invitation: Invitation, rater: User
):
    client = signed_in(rater)
    before = AuditEntry.objects.count()

    response = client.post(_rate_url(invitation), {"level": "1", "comment": " "})

    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_comment_error"' in html
    assert "请写下不满意的原因" in html
    assert 'value="1"' in html
    assert html.count(" checked") == 1  # the choice is kept
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING
    assert AuditEntry.objects.count() == before


def test_no_level_chosen_is_explained(invitation: Invitation, rater: User):
    response = signed_in(rater).post(_rate_url(invitation), {"comment": "很好"})
    assert response.status_code == 422
    assert "请选择一个评价等级。" in response.content.decode()
    assert not Rating.objects.exists()


def test_a_good_rating_thanks_and_then_shows_the_rating(invitation: Invitation, rater: User):
    client = signed_in(rater)

    response = client.post(
        _rate_url(invitation), {"level": "5", "comment": "窗口很耐心"}, follow=True
    )

    html = response.content.decode()
    assert response.redirect_chain == [(_rate_url(invitation), 302)]
    assert "感谢您的评价！" in html
    assert "您的评价" in html
    assert "窗口很耐心" in html
    assert 'name="level"' not in html  # no second form
    assert Rating.objects.get().level == 5


def test_a_bad_rating_says_where_it_went_and_the_reply_shows_later(
    invitation: Invitation, rater: User, clerk: User
):
    client = signed_in(rater)
    response = client.post(
        _rate_url(invitation), {"level": "2", "comment": "材料要求前后不一致"}, follow=True
    )
    html = response.content.decode()
    assert "已转交六安市市场监督管理局整改" in html
    due = Rectification.objects.get().due_on
    assert f"{due.year}年{due.month}月{due.day}日" in html

    rectification_reply(
        actor=clerk,
        rectification=Rectification.objects.get(),
        disposition="fixed",
        reply="已统一材料清单，向您致歉。",
    )
    html = client.get(_rate_url(invitation)).content.decode()
    assert "已统一材料清单，向您致歉。" in html
    assert "立行立改" in html


def test_posting_a_second_rating_changes_nothing(invitation: Invitation, rater: User):
    client = signed_in(rater)
    client.post(_rate_url(invitation), {"level": "4"})

    response = client.post(_rate_url(invitation), {"level": "1", "comment": "改"}, follow=True)

    assert "您已经评价过这次服务" in response.content.decode()
    assert Rating.objects.get().level == 4


def test_my_ratings_lists_waiting_ones_with_a_button(rater: User, bureau: Department):
    waiting = invite(rater=rater, department=bureau)
    response = signed_in(rater).get(reverse("evaluation:mine"))
    html = response.content.decode()
    assert "去评价" in html
    assert _rate_url(waiting) in html


def test_my_ratings_query_count_does_not_grow_with_rows(
    rater: User, bureau: Department, django_assert_max_num_queries: Any
):
    client = signed_in(rater)
    for _ in range(3):
        InvitationFactory(rater=rater, department=bureau)
    client.get(reverse("evaluation:mine"))  # warm the session
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("evaluation:mine"))
    for _ in range(10):
        InvitationFactory(rater=rater, department=bureau)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("evaluation:mine"))


# --- the desk --------------------------------------------------------------------------------


@pytest.fixture
def rectification(invitation: Invitation, rater: User) -> Rectification:
    rating_submit(actor=rater, invitation=invitation, level=1, comment="窗口让我跑了三趟。")
    return Rectification.objects.get()


def test_the_desk_lists_the_bureaus_rectifications_and_flags_overdue(
    bureau: Department, clerk: User, rectification: Rectification
):
    RectificationFactory(
        rating__invitation__department=bureau,
        rating__invitation__title="食品经营许可",
        due_on=city_today() - timedelta(days=1),
    )

    html = signed_in(clerk).get(reverse("evaluation:rectifications")).content.decode()

    assert "窗口让我跑了三趟。" in html
    assert html.count("已超期</span>") == 1
    assert html.index("食品经营许可") < html.index("个体工商户设立登记")  # overdue first
    assert "张**" in html  # the rater's name is masked
    overdue = signed_in(clerk).get(reverse("evaluation:rectifications") + "?status=overdue")
    assert overdue.context["page"].paginator.count == 1


def test_the_clerk_replies_through_the_form(rectification: Rectification, clerk: User):
    client = signed_in(clerk)
    page = client.get(_desk_url(rectification)).content.decode()
    assert "答复评价人" in page
    assert "登记回访" not in page

    short = client.post(_desk_url(rectification, "reply"), {"disposition": "fixed", "reply": "好"})
    assert short.status_code == 422
    assert "答复内容应为 5 到 2000 个字" in short.content.decode()
    assert Rectification.objects.get().status == "open"

    done = client.post(
        _desk_url(rectification, "reply"),
        {"disposition": "explained", "reply": "经核实，该材料为法定要件，已向群众解释。"},
        follow=True,
    )
    html = done.content.decode()
    assert "已答复评价人，等待督办人员回访。" in html
    assert "解释说明" in html
    assert Rectification.objects.get().status == "replied"

    again = client.post(
        _desk_url(rectification, "reply"),
        {"disposition": "fixed", "reply": "再答复一次。"},
        follow=True,
    )
    assert "不能再次答复" in again.content.decode()
    assert Rectification.objects.get().disposition == "explained"


def test_the_supervisor_records_the_follow_up(
    rectification: Rectification, clerk: User, supervisor: User
):
    rectification_reply(
        actor=clerk, rectification=rectification, disposition="fixed", reply="已整改完毕。"
    )
    client = signed_in(supervisor)
    page = client.get(_desk_url(rectification)).content.decode()
    assert "登记回访" in page
    assert "答复评价人" not in page

    missing = client.post(_desk_url(rectification, "follow_up"), {"result": "satisfied"})
    assert missing.status_code == 422
    assert "请填写回访记录。" in missing.content.decode()

    done = client.post(
        _desk_url(rectification, "follow_up"),
        {"result": "basic", "note": "电话回访，群众基本满意。"},
        follow=True,
    )
    assert "回访已登记，整改办结。" in done.content.decode()
    assert Rectification.objects.get().status == "closed"


# --- statistics ------------------------------------------------------------------------------


def test_the_stats_page_shows_departments_and_items(
    invitation: Invitation, rater: User, bureau: Department, supervisor: User
):
    rating_submit(actor=rater, invitation=invitation, level=5)
    second = invite(rater=rater, department=bureau)
    rating_submit(actor=rater, invitation=second, level=2, comment="太慢")

    response = signed_in(supervisor).get(reverse("evaluation:stats"))

    html = response.content.decode()
    assert response.status_code == 200
    (row,) = response.context["by_department"]
    assert (row.label, row.total, row.bad) == ("六安市市场监督管理局", 2, 1)
    assert "50.0%" in html  # satisfaction and good rate
    (item_row,) = response.context["by_item"]
    assert item_row.label == "个体工商户设立登记"
    assert item_row.total == 1


def test_the_stats_filter_explains_a_reversed_period(supervisor: User):
    response = signed_in(supervisor).get(
        reverse("evaluation:stats") + "?since=2026-11-10&until=2026-11-01"
    )
    assert response.status_code == 200
    assert "结束日期不能早于开始日期。" in response.content.decode()


def test_the_console_links_to_the_desk_and_the_statistics(clerk: User, supervisor: User):
    desk = reverse("evaluation:rectifications")
    stats = reverse("evaluation:stats")

    clerks_home = signed_in(clerk).get("/console/").content.decode()
    supervisors_home = signed_in(supervisor).get("/console/").content.decode()

    assert f'href="{desk}"' in clerks_home
    assert f'href="{stats}"' not in clerks_home
    assert f'href="{desk}"' in supervisors_home
    assert f'href="{stats}"' in supervisors_home


def test_an_agent_sees_whose_matter_they_rate(bureau: Department):
    elder = UserFactory(real_name="李秀英")
    agent = UserFactory(real_name="李小明")
    DelegationFactory(principal=elder, agent=agent)
    with transaction.atomic():
        invitation = rating_invite(
            subject_kind="application",
            subject_id="elder-1",
            rater=agent,
            principal=elder,
            department=bureau,
            title="居民身份证换领",
            channel="window",
        )
    client = signed_in(agent)

    assert "代办：李** 的事项" in client.get(reverse("evaluation:mine")).content.decode()
    assert "李** 的事项" in client.get(_rate_url(invitation)).content.decode()
    assert signed_in(elder).get(_rate_url(invitation)).status_code == 404


def test_the_desk_and_stats_query_counts_do_not_grow_with_rows(
    bureau: Department, clerk: User, supervisor: User, django_assert_max_num_queries: Any
):
    desk, stats = signed_in(clerk), signed_in(supervisor)
    RectificationFactory(rating__invitation__department=bureau)
    desk.get(reverse("evaluation:rectifications"))
    stats.get(reverse("evaluation:stats"))
    with django_assert_max_num_queries(30) as desk_few:
        desk.get(reverse("evaluation:rectifications"))
    with django_assert_max_num_queries(30) as stats_few:
        stats.get(reverse("evaluation:stats"))
    for _ in range(8):
        RectificationFactory(rating__invitation__department=bureau)

    with django_assert_max_num_queries(len(desk_few.captured_queries)):
        desk.get(reverse("evaluation:rectifications"))
    with django_assert_max_num_queries(len(stats_few.captured_queries)):
        stats.get(reverse("evaluation:stats"))
