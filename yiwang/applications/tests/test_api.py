"""The applications API: submission (JSON and multipart, idempotency), the applicant's and the
staff's views, the access matrix beyond the generic one, and the public progress query."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from django.test import Client

from yiwang.accounts.models import Role
from yiwang.accounts.tests.factories import staff_with_role
from yiwang.applications import services
from yiwang.applications.models import Application, ApplicationMaterial
from yiwang.applications.tests.conftest import material, signed_in, submit
from yiwang.applications.tests.factories import PNG

pytestmark = pytest.mark.django_db


def body(version, **extra):
    return {
        "task_code": version.item.task_code,
        "form_data": {"purpose": "测试"},
        "contact_phone": "13800001111",
        "materials": [
            {
                "material_id": material(version, "申请书").pk,
                "content_base64": base64.b64encode(PNG).decode(),
                "filename": "sqs.png",
            }
        ],
        **extra,
    }


def post(client: Client, url: str, data: dict[str, object], **headers: str):
    return client.post(url, json.dumps(data), content_type="application/json", headers=headers)


def test_submit_by_json_then_repeat_with_the_same_key(version, citizen):
    client = signed_in(citizen)

    first = post(client, "/api/v1/applications", body(version), **{"Idempotency-Key": "k1"})
    again = post(client, "/api/v1/applications", body(version), **{"Idempotency-Key": "k1"})
    other = post(
        client,
        "/api/v1/applications",
        body(version, form_data={"purpose": "别的"}),
        **{"Idempotency-Key": "k1"},
    )

    assert first.status_code == 201, first.content
    assert first.json()["status"] == "submitted"
    assert first.json()["channel"] == "online"
    assert again.status_code == 200
    assert again.json()["number"] == first.json()["number"]
    assert other.status_code == 409
    assert other.json()["code"] == "applications.idempotency_conflict"
    assert Application.objects.count() == 1


def test_submit_by_multipart(version, citizen):
    client = signed_in(citizen)
    payload = body(version, materials=[])
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        "/api/v1/applications",
        {
            "payload": json.dumps(payload),
            f"material_{material(version, '申请书').pk}": SimpleUploadedFile(
                "sqs.png", PNG, content_type="application/octet-stream"
            ),
        },
    )

    assert response.status_code == 201, response.content
    row = ApplicationMaterial.objects.get()
    assert (row.content_type, row.size) == ("image/png", len(PNG))


def test_invalid_submission_lists_every_problem_and_creates_nothing(version, citizen):
    response = post(
        signed_in(citizen),
        "/api/v1/applications",
        body(version, contact_phone="123", materials=[]),
    )

    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "applications.invalid"
    assert sorted(p["code"] for p in problem["problems"]) == ["missing", "phone"]
    assert Application.objects.count() == 0


def test_a_malformed_body_is_a_422_problem(version, citizen):
    response = signed_in(citizen).post(
        "/api/v1/applications", "{not json", content_type="application/json"
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"


def test_mine_lists_and_shows_only_my_applications(version, citizen, other_citizen):
    mine = submit(version, citizen)
    theirs = submit(version, other_citizen)
    client = signed_in(citizen)

    listed = client.get("/api/v1/applications").json()
    assert [row["number"] for row in listed["items"]] == [mine.number]
    assert client.get(f"/api/v1/applications/{mine.public_id}").status_code == 200
    assert client.get(f"/api/v1/applications/{theirs.public_id}").status_code == 404
    response = post(client, f"/api/v1/applications/{theirs.public_id}/withdraw", {})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Application.Status.SUBMITTED


def test_the_applicant_withdraws(version, citizen):
    application = submit(version, citizen)

    response = post(
        signed_in(citizen), f"/api/v1/applications/{application.public_id}/withdraw", {}
    )

    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"


def test_window_work_through_the_api(version, citizen, clerk, approver_b, approver_c):
    application = submit(version, citizen)
    window = signed_in(clerk)

    queue = window.get("/api/v1/staff/applications/queue").json()
    assert [row["number"] for row in queue["items"]] == [application.number]
    accepted = post(window, f"/api/v1/staff/applications/{application.public_id}/accept", {})
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "in_review"
    assert accepted.json()["due_date"]

    inbox_b = signed_in(approver_b).get("/api/v1/staff/tasks").json()["items"]
    inbox_c = signed_in(approver_c).get("/api/v1/staff/tasks").json()["items"]
    assert [t["name"] for t in inbox_b] == ["税务审查"]
    assert [t["name"] for t in inbox_c] == ["住建审查"]
    # a task of department B is unknown to department C
    task_b = inbox_b[0]["id"]
    assert post(signed_in(approver_c), f"/api/v1/staff/tasks/{task_b}/claim", {}).status_code == 404
    claimed = post(signed_in(approver_b), f"/api/v1/staff/tasks/{task_b}/claim", {})
    assert claimed.status_code == 200
    assert claimed.json()["assignee"] == "吴税务"


def test_a_second_claimant_gets_a_clear_conflict(version, citizen, clerk, approver_b, approver_b2):
    application = services.application_accept(application=submit(version, citizen), actor=clerk)
    task = application.tasks.get(name="税务审查")
    post(signed_in(approver_b), f"/api/v1/staff/tasks/{task.public_id}/claim", {})

    response = post(signed_in(approver_b2), f"/api/v1/staff/tasks/{task.public_id}/claim", {})

    assert response.status_code == 409
    assert response.json()["code"] == "applications.task_taken"
    assert "吴税务" in response.json()["detail"]


def test_staff_of_another_department_see_nothing(version, citizen):
    application = submit(version, citizen)
    elsewhere = staff_with_role(Role.WINDOW_CLERK)
    client = signed_in(elsewhere)

    assert client.get(f"/api/v1/staff/applications/{application.public_id}").status_code == 404
    response = post(client, f"/api/v1/staff/applications/{application.public_id}/accept", {})
    assert response.status_code == 404
    assert client.get("/api/v1/staff/applications/queue").json()["count"] == 0


def test_citizens_cannot_use_staff_operations(version, citizen):
    application = submit(version, citizen)
    client = signed_in(citizen)

    assert client.get("/api/v1/staff/tasks").status_code == 403
    response = post(client, f"/api/v1/staff/applications/{application.public_id}/accept", {})
    assert response.status_code == 403


def test_progress_query_shows_nothing_personal(version, citizen, clerk):
    application = services.application_accept(application=submit(version, citizen), actor=clerk)
    client = Client()

    found = client.get(f"/api/v1/progress?number={application.number}&phone_last4=1111")
    wrong = client.get(f"/api/v1/progress?number={application.number}&phone_last4=2222")

    assert found.status_code == 200
    data = found.json()
    assert data["status"] == "in_review"
    assert application.due_date is not None
    assert data["expected_date"] == application.due_date.isoformat()
    assert data["departments"] == ["六安市测试审批局", "六安市测试税务局", "六安市测试住建局"]
    assert [e["kind"] for e in data["events"]][:2] == ["submitted", "accepted"]
    text = found.content.decode()
    for personal in ("张三", "13800001111", "陈受理", "申请书"):
        assert personal not in text
    assert wrong.status_code == 404
    # The endpoint renders its answer itself: it must still be exactly the documented schema.
    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    documented = schemas["ProgressOut"]
    assert set(data) == set(documented["properties"])
    assert set(documented["required"]) <= set(data)
    assert set(data["events"][0]) == set(schemas["ProgressEventOut"]["properties"])
    assert data["submitted_at"].endswith(("Z", "+00:00"))  # an aware ISO instant
    assert found["Content-Type"] == "application/json"


def test_progress_query_is_rate_limited(version, citizen, settings):
    settings.YIWANG_PROGRESS_QUERY_RATE = "3/m"
    application = submit(version, citizen)
    client = Client()
    url = f"/api/v1/progress?number={application.number}&phone_last4="

    codes = [client.get(url + f"{n:04d}").status_code for n in range(5)]

    assert codes == [404, 404, 404, 429, 429]
    assert client.get(url + "1111").status_code == 429


def test_progress_page_and_api_share_one_budget_per_address(version, citizen, settings):
    settings.YIWANG_PROGRESS_QUERY_RATE = "4/m"
    application = submit(version, citizen)
    query = f"number={application.number}&phone_last4=1111"
    client = Client(REMOTE_ADDR="10.9.0.1")

    codes = [
        client.get(f"/api/v1/progress?{query}").status_code,
        client.get(f"/progress/?{query}").status_code,
        client.get(f"/api/v1/progress?{query}").status_code,
        client.get(f"/progress/?{query}").status_code,
        client.get(f"/progress/?{query}").status_code,
        client.get(f"/api/v1/progress?{query}").status_code,
    ]

    assert codes == [200, 200, 200, 200, 429, 429]
    assert Client(REMOTE_ADDR="10.9.0.2").get(f"/api/v1/progress?{query}").status_code == 200


def test_a_forwarded_for_header_counts_only_behind_trusted_proxies(version, citizen, settings):
    settings.YIWANG_PROGRESS_QUERY_RATE = "1/m"
    application = submit(version, citizen)
    url = f"/api/v1/progress?number={application.number}&phone_last4=1111"

    def ask(forwarded: str) -> int:
        return Client(REMOTE_ADDR="10.8.0.1", HTTP_X_FORWARDED_FOR=forwarded).get(url).status_code

    # no trusted proxy: a client that writes its own header is still one address
    assert [ask("1.1.1.1"), ask("2.2.2.2")] == [200, 429]
    # one trusted proxy: the address it saw (rightmost) counts, whatever the client wrote before
    settings.YIWANG_TRUSTED_PROXIES = 1
    assert [ask("9.9.9.9, 3.3.3.3"), ask("8.8.8.8, 3.3.3.3"), ask("4.4.4.4")] == [200, 429, 200]


def test_bearer_token_of_staff_reaches_the_inbox(approver_b):
    from yiwang.accounts.models import ApiToken
    from yiwang.accounts.services import api_token_create

    _token, raw = api_token_create(
        actor=approver_b, user=approver_b, kind=ApiToken.Kind.PERSONAL, name="ci"
    )
    client = Client(headers={"Authorization": f"Bearer {raw}"})

    assert client.get("/api/v1/staff/tasks").status_code == 200


def test_progress_query_locks_a_number_after_ten_wrong_endings(version, citizen, settings):
    settings.YIWANG_PROGRESS_QUERY_RATE = "1000/m"
    application = submit(version, citizen)
    url = f"/api/v1/progress?number={application.number}&phone_last4="

    # ten different clients (addresses) guess once each
    codes = [Client(REMOTE_ADDR=f"10.0.0.{n}").get(url + f"{n:04d}").status_code for n in range(10)]

    assert codes == [404] * 10
    assert Client(REMOTE_ADDR="10.0.1.1").get(url + "1111").status_code == 429


def test_staff_see_the_form_masked_contact_and_their_read_is_audited(version, citizen, clerk):
    from yiwang.core.models import AuditEntry

    application = submit(version, citizen)

    data = signed_in(clerk).get(f"/api/v1/staff/applications/{application.public_id}").json()

    assert data["form_data"] == {"purpose": "测试"}
    assert data["contact_phone"] == "138****1111"
    assert data["applicant"] != "张三"
    read = AuditEntry.objects.get(action="applications.staff_read")
    assert (read.actor_id, read.object_id, read.reason) == (
        clerk.pk,
        str(application.pk),
        "办件受理审查",
    )


def test_validate_answers_200_and_creates_nothing(version, citizen):
    client = signed_in(citizen)

    response = post(client, "/api/v1/applications/validate", body(version))

    assert response.status_code == 200, response.content
    assert response.json() == {"valid": True}
    assert not Application.objects.exists()
    assert not ApplicationMaterial.objects.exists()


def test_validate_lists_every_problem_like_the_submission_and_creates_nothing(version, citizen):
    client = signed_in(citizen)
    bad = body(version, contact_phone="12345", materials=[])

    checked = post(client, "/api/v1/applications/validate", bad)
    submitted = post(client, "/api/v1/applications", bad)

    assert checked.status_code == 422
    assert checked.json()["problems"] == submitted.json()["problems"]
    assert sorted(p["code"] for p in checked.json()["problems"]) == ["missing", "phone"]
    assert not Application.objects.exists()


def test_validate_refuses_what_the_submission_refuses(version, citizen, clerk):
    window = post(
        signed_in(citizen), "/api/v1/applications/validate", body(version, channel="window")
    )
    staff_online = post(signed_in(clerk), "/api/v1/applications/validate", body(version))

    assert window.status_code == 403
    assert staff_online.status_code == 403


@pytest.mark.redis
def test_progress_budget_and_lock_on_redis_in_one_round_trip(version, citizen, settings):
    from django.conf import settings as django_settings
    from django.core.cache import caches

    from yiwang.applications.selectors import progress_admission

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": django_settings.TEST_REDIS_URL,
            "KEY_PREFIX": "yiwang-test-progress",
        }
    }
    caches["default"].clear()
    try:
        settings.YIWANG_PROGRESS_QUERY_RATE = "3/m"
        application = submit(version, citizen)
        url = f"/api/v1/progress?number={application.number}&phone_last4="
        client = Client(REMOTE_ADDR="10.7.0.1")

        codes = [client.get(url + "1111").status_code for _ in range(4)]
        page = client.get(f"/progress/?number={application.number}&phone_last4=1111")

        assert codes == [200, 200, 200, 429]
        assert page.status_code == 429  # the page shares the budget
        # the window's counter expires with the window
        key = caches["default"].make_and_validate_key(
            "applications:progress_rate:" + hashlib.sha256(b"10.7.0.1").hexdigest()
        )
        ttl = caches["default"]._cache.get_client(write=True).ttl(key)  # type: ignore[attr-defined]
        assert 0 < ttl <= 60

        # ten misses from many addresses lock the number for everyone
        settings.YIWANG_PROGRESS_QUERY_RATE = "1000/m"
        for n in range(10):
            Client(REMOTE_ADDR=f"10.7.1.{n}").get(url + f"{n:04d}")
        assert progress_admission(address="10.7.2.1", number=application.number) == (True, True)
        assert Client(REMOTE_ADDR="10.7.2.2").get(url + "1111").status_code == 429
        # a Redis that forgot its scripts (restart, SCRIPT FLUSH) is sent the script again
        caches["default"]._cache.get_client(write=True).script_flush()  # type: ignore[attr-defined]
        assert progress_admission(address="10.7.2.3", number=application.number) == (True, True)
        assert progress_admission(address="10.7.2.3", number="341500") == (True, False)
    finally:
        caches["default"].clear()


def _tables_read(queries) -> set[str]:
    return {
        table
        for q in queries
        if q["sql"].startswith("SELECT")
        for table in ("applications_applicationmaterial", "applications_event", "applications_task")
        if f'FROM "{table}"' in q["sql"]
    }


def test_the_answers_to_submit_and_accept_read_back_none_of_the_rows_just_written(
    version, citizen, clerk
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client, window = signed_in(citizen), signed_in(clerk)

    # (the captured queries are read at once: the next request clears the connection's log)
    with CaptureQueriesContext(connection) as queries:
        submitted = post(client, "/api/v1/applications", body(version))
    submit_read = _tables_read(queries.captured_queries)
    number = submitted.json()["id"]
    submitted_later = client.get(f"/api/v1/applications/{number}").json()
    with CaptureQueriesContext(connection) as queries:
        accepted = post(window, f"/api/v1/staff/applications/{number}/accept", {})
    accept_read = _tables_read(queries.captured_queries)

    # the answers are what a later read shows (the detail of the applicant and of the staff)
    assert submitted.status_code == 201, submitted.content
    assert [m["name"] for m in submitted.json()["materials"]] == ["申请书"]
    assert [e["kind"] for e in submitted.json()["events"]] == ["submitted"]
    assert submitted.json()["tasks"] == []
    assert {**submitted.json(), "light": None} == {**submitted_later, "light": None}
    assert accepted.status_code == 200, accepted.content
    accepted_later = window.get(f"/api/v1/staff/applications/{number}").json()
    assert sorted(t["name"] for t in accepted.json()["tasks"]) == ["住建审查", "税务审查"]
    assert accepted.json()["tasks"] == accepted_later["tasks"]
    assert accepted.json()["events"] == accepted_later["events"]
    # and neither read back the rows its own request had just written
    assert submit_read == set()
    assert accept_read == {
        "applications_applicationmaterial",  # written by the submission, not by the acceptance
        "applications_event",  # the submission's event is listed too
    }


def test_an_acceptance_reads_the_version_once_and_locks_the_application(version, citizen, clerk):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    number = submit(version, citizen).public_id
    window = signed_in(clerk)

    with CaptureQueriesContext(connection) as queries:
        accepted = post(window, f"/api/v1/staff/applications/{number}/accept", {})
    statements = [q["sql"] for q in queries.captured_queries]

    assert accepted.status_code == 200, accepted.content
    # the access check reads the case with its version; the service's lock takes it from there
    assert sum('"catalog_itemversion"' in sql for sql in statements) == 1
    if connection.features.has_select_for_update:
        locks = [
            sql for sql in statements if "FOR UPDATE" in sql and "applications_application" in sql
        ]
        assert len(locks) == 1
