"""Who may open which evaluation page: the matrix of people × pages, and nothing is changed by
a refused request."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import URLPattern, get_resolver, reverse

from yiwang.accounts.models import User
from yiwang.core.access import access_rule
from yiwang.core.models import AuditEntry
from yiwang.evaluation import urls as evaluation_urls
from yiwang.evaluation.models import Invitation, Rating, Rectification
from yiwang.evaluation.services import rating_submit, rectification_reply
from yiwang.evaluation.tests.conftest import signed_in

pytestmark = pytest.mark.django_db

PEOPLE = [
    "anonymous",
    "rater",
    "other_citizen",
    "roleless_staff",
    "clerk",
    "other_clerk",
    "supervisor",
    "other_supervisor",
]
LOGIN = 302
PAGES: dict[str, tuple[str, str]] = {
    "mine": ("GET", "evaluation:mine"),
    "rate": ("GET", "evaluation:rate"),
    "rate_post": ("POST", "evaluation:rate"),
    "rectifications": ("GET", "evaluation:rectifications"),
    "rectification": ("GET", "evaluation:rectification"),
    "reply": ("POST", "evaluation:rectification_reply"),
    "follow_up": ("POST", "evaluation:rectification_follow_up"),
    "stats": ("GET", "evaluation:stats"),
}
DESK = {"clerk": 200, "other_clerk": 200, "supervisor": 200, "other_supervisor": 200}
NO_DESK = {"anonymous": LOGIN, "rater": 403, "other_citizen": 403, "roleless_staff": 403}
MATRIX: dict[str, dict[str, int]] = {
    "mine": {**dict.fromkeys(PEOPLE, 200), "anonymous": LOGIN},
    # another person's invitation is a 404 for everyone, staff included
    "rate": {**dict.fromkeys(PEOPLE, 404), "anonymous": LOGIN, "rater": 200},
    "rate_post": {**dict.fromkeys(PEOPLE, 404), "anonymous": LOGIN, "rater": 302},
    "rectifications": {**NO_DESK, **DESK},
    # another department's rectification is a 404
    "rectification": {**NO_DESK, **DESK, "other_clerk": 404, "other_supervisor": 404},
    # a supervisor sees the bureau's rectification but does not answer it (403)
    "reply": {
        **NO_DESK,
        "clerk": 302,
        "other_clerk": 404,
        "supervisor": 403,
        "other_supervisor": 404,
    },
    # the bureau's clerk answers but does not close it (403)
    "follow_up": {
        **NO_DESK,
        "clerk": 403,
        "other_clerk": 404,
        "supervisor": 302,
        "other_supervisor": 404,
    },
    "stats": {
        **dict.fromkeys(PEOPLE, 403),
        "anonymous": LOGIN,
        "supervisor": 200,
        "other_supervisor": 200,
    },
}
BODIES = {
    "rate_post": {"level": "4", "comment": ""},
    "reply": {"disposition": "fixed", "reply": "已核实并整改完毕。"},
    "follow_up": {"result": "satisfied", "note": "电话回访，群众满意。"},
}


def test_the_matrix_covers_every_evaluation_page():
    names = {
        f"evaluation:{p.name}" for p in evaluation_urls.urlpatterns if isinstance(p, URLPattern)
    }
    assert names == {name for _method, name in PAGES.values()}
    assert set(MATRIX) == set(PAGES)
    assert all(set(row) == set(PEOPLE) for row in MATRIX.values())


def test_every_evaluation_page_declares_its_rule():
    rules = {p.name: access_rule(p.callback) for p in evaluation_urls.urlpatterns}
    assert rules == {
        "mine": "authenticated",
        "rate": "authenticated",
        "rectifications": "role:window_clerk,approver,handling_unit,supervisor",
        "rectification": "role:window_clerk,approver,handling_unit,supervisor",
        "rectification_reply": "role:window_clerk,approver,handling_unit,supervisor",
        "rectification_follow_up": "role:window_clerk,approver,handling_unit,supervisor",
        "stats": "role:supervisor",
    }
    assert get_resolver().resolve("/evaluation/stats/").url_name == "stats"


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("page", list(PAGES))
def test_page_access_matrix(
    request: Any, invitation: Invitation, rater: User, clerk: User, page: str, person: str
):
    # given a rated invitation with its rectification (for the rectification pages: answered
    # already when the follow-up is tried) and a second, pending invitation for the rate pages
    from yiwang.evaluation.tests.conftest import invite

    pending = invite(rater=rater, department=invitation.department)
    rating_submit(actor=rater, invitation=invitation, level=1, comment="窗口让我跑了三趟。")
    rectification = Rectification.objects.get()
    if page == "follow_up":
        rectification_reply(
            actor=clerk, rectification=rectification, disposition="fixed", reply="已整改完毕。"
        )
    for name in PEOPLE[1:]:
        request.getfixturevalue(name)  # everyone exists, whoever asks
    user = None if person == "anonymous" else request.getfixturevalue(person)
    client = signed_in(user)
    method, name = PAGES[page]
    kwargs: dict[str, Any] = {}
    if name == "evaluation:rate":
        kwargs = {"public_id": pending.public_id}
    elif "rectification_" in name or name == "evaluation:rectification":
        kwargs = {"public_id": rectification.public_id}
    url = reverse(name, kwargs=kwargs)
    audit_before = AuditEntry.objects.count()
    state_before = rectification.status
    # when
    response = client.get(url) if method == "GET" else client.post(url, BODIES[page])
    # then
    expected = MATRIX[page][person]
    assert response.status_code == expected, (page, person, response.content[:300])
    if expected == LOGIN and person == "anonymous":
        assert response["Location"].startswith("/accounts/login/")
    succeeded = method == "POST" and expected == 302 and person != "anonymous"
    if not succeeded:
        # nothing was changed by a refused request
        assert AuditEntry.objects.count() == audit_before
        assert Rectification.objects.get().status == state_before
        assert Rating.objects.count() == 1


def test_a_supervisor_sees_only_the_departments_they_supervise(
    invitation: Invitation, rater: User, supervisor: User, other_supervisor: User
):
    rating_submit(actor=rater, invitation=invitation, level=2, comment="等太久。")

    mine = signed_in(supervisor).get(reverse("evaluation:stats"))
    theirs = signed_in(other_supervisor).get(reverse("evaluation:stats"))
    desk = signed_in(other_supervisor).get(reverse("evaluation:rectifications"))

    assert "六安市市场监督管理局" in mine.content.decode()
    assert "六安市市场监督管理局" not in theirs.content.decode()
    assert "等太久" not in desk.content.decode()
    assert desk.context["page"].paginator.count == 0


def test_the_rater_list_shows_only_ones_own(
    invitation: Invitation, rater: User, other_citizen: User
):
    from yiwang.evaluation.tests.conftest import invite

    theirs = invite(rater=other_citizen, department=invitation.department)

    page = signed_in(rater).get(reverse("evaluation:mine"))

    assert list(page.context["page"].object_list) == [invitation]
    assert str(theirs.public_id) not in page.content.decode()
