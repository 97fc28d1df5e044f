"""What the case pages (the citizen's /applications/<id>/, the staff /console/applications/<id>/
and the task page) show about a case: the traffic light only while the limit matters, the
办理情形 by its name, the application form masked like the applicant's own data, and each
bundle task's department once."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse

from yiwang.accounts.models import Department, User
from yiwang.applications import services
from yiwang.applications.models import Application
from yiwang.applications.selectors import LIGHT_OFF, application_light
from yiwang.applications.tests.conftest import material, signed_in, submit
from yiwang.applications.tests.factories import PNG
from yiwang.applications.workflow import bundle_tasks, ready_tasks, workflow_load
from yiwang.catalog.models import Bundle, ItemVersion
from yiwang.catalog.tests.factories import (
    BundleFactory,
    BundleMemberFactory,
    MaterialFactory,
    PublishedVersionFactory,
    SituationFactory,
)

pytestmark = pytest.mark.django_db

FINISHED = ["refused", "rejected", "concluded", "issued", "withdrawn"]


def citizen_page(application: Application, user: User) -> str:
    response = signed_in(user).get(reverse("applications:detail", args=[application.public_id]))
    assert response.status_code == 200
    return str(response.content.decode())


def staff_page(application: Application, user: User) -> str:
    response = signed_in(user).get(f"/console/applications/{application.public_id}/")
    assert response.status_code == 200
    return str(response.content.decode())


def status_line(body: str) -> str:
    """The staff page's line of badges under the title."""
    return body.split("</h1>", 1)[1].split("</p>", 1)[0]


# --- the traffic light -------------------------------------------------------------------------


def test_light_is_none_once_the_case_is_over(version, citizen, clerk):
    application = services.application_accept(application=submit(version, citizen), actor=clerk)
    assert application_light(application) == "green"

    assert sorted(LIGHT_OFF) == sorted(FINISHED)
    for status in FINISHED:
        application.status = status
        assert application_light(application) == "none", status
    application.status = Application.Status.APPROVED  # still waits for 办结
    assert application_light(application) == "green"


@pytest.mark.parametrize("status", FINISHED)
def test_finished_cases_show_no_light_to_the_citizen_or_the_window(version, citizen, clerk, status):
    application = services.application_accept(application=submit(version, citizen), actor=clerk)
    assert 'class="light light-green"' in citizen_page(application, citizen)  # while running
    Application.objects.filter(pk=application.pk).update(status=status)

    body = citizen_page(application, citizen)
    assert 'class="light' not in body
    assert "正常" not in body
    staff = status_line(staff_page(application, clerk))
    assert "light-" not in staff
    assert "未计时" not in staff


def test_the_window_sees_an_unstarted_clock_and_a_running_one(version, citizen, clerk):
    application = submit(version, citizen)
    assert "未计时" in status_line(staff_page(application, clerk))

    services.application_accept(application=application, actor=clerk)
    assert 'class="badge light-green">正常' in status_line(staff_page(application, clerk))


def test_the_issuance_list_shows_no_light_on_concluded_cases(version, citizen, clerk):
    application = services.application_accept(application=submit(version, citizen), actor=clerk)
    Application.objects.filter(pk=application.pk).update(status=Application.Status.CONCLUDED)

    response = signed_in(clerk).get("/console/applications/issuance/")

    entry = response.content.decode().split(application.number)[0].rsplit("<li", 1)[1]
    assert "已办结" in entry
    assert "light-" not in entry


# --- the situation -----------------------------------------------------------------------------


def test_both_pages_name_the_situation(version, citizen, clerk):
    SituationFactory(version=version, code="retire", name="离休、退休")
    SituationFactory(version=version, code="buy", name="购买自住住房")
    application = submit(version, citizen, situation="retire")

    for body in (citizen_page(application, citizen), staff_page(application, clerk)):
        assert "<dt>办理情形</dt><dd>离休、退休</dd>" in body
        assert ">retire<" not in body


def test_no_situation_row_without_a_situation(version, citizen):
    assert "办理情形" not in citizen_page(submit(version, citizen), citizen)


# --- masking of the form ----------------------------------------------------------------------


def test_the_form_shows_id_numbers_and_phones_masked_like_the_applicant(
    version, citizen, clerk, approver_b, dept_b
):
    application = submit(
        version,
        citizen,
        form_data={
            "seller_id_number": "34150219800101001X",
            "buyer_phone": "139 0000 2222",
            "price": "800000",
            "note": "付款后交房",
        },
    )
    services.application_accept(application=application, actor=clerk)
    task = application.tasks.get(department=dept_b)

    case = staff_page(application, clerk)
    assert "138****1111" in case  # the contact phone, masked as before
    for body in (
        case,
        str(
            signed_in(approver_b)
            .get(f"/console/applications/tasks/{task.public_id}/")
            .content.decode()
        ),
    ):
        form = body.split('id="form-title"', 1)[1].split("</section>", 1)[0]
        assert "3415**********001X" in form
        assert "139****2222" in form
        assert "34150219800101001X" not in body
        assert "2222" not in form.replace("139****2222", "")
        assert "800000" in form  # a price is no identifier
        assert "付款后交房" in form


# --- bundle task names -----------------------------------------------------------------------


@pytest.fixture
def bundle(version: ItemVersion, dept_a: Department, dept_b: Department) -> Bundle:
    tax = PublishedVersionFactory(item__department=dept_b, children=False, name="契税申报")
    MaterialFactory(version=tax, name="完税申报表")
    bundle = BundleFactory(lead_department=dept_a, status=Bundle.Status.PUBLISHED)
    BundleMemberFactory(bundle=bundle, item=version.item, sort_order=1)
    BundleMemberFactory(bundle=bundle, item=tax.item, sort_order=2)
    return bundle


def _submit_bundle(bundle: Bundle, version: ItemVersion, citizen: User) -> Application:
    tax = ItemVersion.objects.get(name="契税申报")
    return services.application_submit(
        actor=citizen,
        bundle=bundle,
        form_data={},
        contact_phone="13800001111",
        materials=[
            services.MaterialInput(material_id=m.pk, content=PNG, filename="a.png")
            for m in (material(version, "申请书"), material(tax, "完税申报表"))
        ],
    )


def test_bundle_tasks_name_the_department_once(bundle, version, citizen, clerk, dept_b):
    application = services.application_accept(
        application=_submit_bundle(bundle, version, citizen), actor=clerk
    )

    assert sorted(application.tasks.values_list("name", flat=True)) == ["契税申报", "测试许可"]
    body = staff_page(application, clerk)
    tasks = body.split('id="tasks-title"', 1)[1].split("</section>", 1)[0]
    assert f"<strong>{dept_b.name}</strong> 契税申报 " in tasks
    assert tasks.count(dept_b.name) == 1
    assert f"分送{dept_b.name}审批：契税申报" in body  # the timeline
    reviews = citizen_page(application, citizen).split("各部门审查")[1]
    assert f"<li>{dept_b.name}：契税申报（待认领）</li>" in reviews


def test_a_stored_process_with_the_old_names_gives_names_without_the_department(
    bundle, version, citizen, clerk, dept_a, dept_b
):
    """Cases started before the change keep their process (spec included): their next tasks
    still come without the department in the name."""
    members: list[dict[str, Any]] = [
        {"stage": 0, "department_code": dept_b.code, "department_name": dept_b.name}
        | {"name": "契税申报", "time_limit": None}
    ]
    assert [t.name for t in bundle_tasks(bundle, members)] == ["契税申报"]
    application = services.application_accept(
        application=_submit_bundle(bundle, version, citizen), actor=clerk
    )
    stored = json.dumps(application.workflow_state, ensure_ascii=False)
    old_style = stored.replace(
        '"契税申报"', json.dumps(f"{dept_b.name}：契税申报", ensure_ascii=False)
    )
    assert old_style != stored  # the stored spec carries the task's name

    names = {
        t.department_code: t.name for t, _spiff in ready_tasks(workflow_load(json.loads(old_style)))
    }

    assert names[dept_b.code] == "契税申报"


def test_the_bundle_apply_form_says_which_situation_needs_an_optional_material():
    from yiwang.applications.forms import material_rows
    from yiwang.catalog.models import Bundle
    from yiwang.catalog.tests.factories import (
        BundleFactory,
        BundleMemberFactory,
        MaterialFactory,
        PublishedVersionFactory,
        SituationFactory,
    )

    bundle = BundleFactory(code="ershoufang", status=Bundle.Status.PUBLISHED)
    transfer = PublishedVersionFactory(name="不动产转移登记", children=False)
    gift = SituationFactory(version=transfer, name="赠与")
    MaterialFactory(version=transfer, name="赠与合同", situations=[gift])
    MaterialFactory(version=transfer, name="不动产登记申请书")
    BundleMemberFactory(bundle=bundle, item=transfer.item, sort_order=1)

    rows = {row.name: row for row in material_rows(None, bundle)}

    assert rows["赠与合同"].necessity == "optional"
    assert "仅以下情形需要：赠与（不动产转移登记）" in rows["赠与合同"].notes
    assert rows["不动产登记申请书"].notes == ""
