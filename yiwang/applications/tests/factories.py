"""Rows for tests of the applications app and of the API access matrix (written directly,
without the services; call the services for the behaviour under test)."""

from __future__ import annotations

import uuid

import factory
from django.utils import timezone

from yiwang.accounts.selectors import phone_blind_index
from yiwang.accounts.tests.factories import DepartmentFactory, UserFactory
from yiwang.applications.models import Application, Task
from yiwang.catalog.tests.factories import PublishedVersionFactory

# A PNG header: enough for the content sniffer (filetype) to say image/png.
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class ApplicationFactory(factory.django.DjangoModelFactory[Application]):  # type: ignore[misc]
    class Meta:
        model = Application

    number = factory.Sequence(lambda n: f"34150020261127{n:010d}")
    version = factory.SubFactory(PublishedVersionFactory)
    item = factory.LazyAttribute(lambda a: a.version.item)
    department = factory.LazyAttribute(lambda a: a.version.item.department)
    applicant = factory.SubFactory(UserFactory)
    submitted_by = factory.LazyAttribute(lambda a: a.applicant)
    channel = Application.Channel.ONLINE
    status = Application.Status.SUBMITTED
    contact_phone = "13912345678"
    contact_phone_index = factory.LazyAttribute(lambda a: phone_blind_index(a.contact_phone))
    contact_phone_last4 = factory.LazyAttribute(lambda a: a.contact_phone[-4:])
    submitted_at = factory.LazyFunction(timezone.now)


class TaskFactory(factory.django.DjangoModelFactory[Task]):  # type: ignore[misc]
    class Meta:
        model = Task

    application = factory.SubFactory(ApplicationFactory, status=Application.Status.IN_REVIEW)
    spiff_task_id = factory.LazyFunction(uuid.uuid4)
    bpmn_id = "Task_1"
    name = "审查"
    department = factory.SubFactory(DepartmentFactory)
    role = "approver"
