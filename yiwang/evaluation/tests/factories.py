"""factory_boy factories for evaluation (other apps' tests may import these).

They write rows directly, without the services' checks, audit rows and notifications: use them
to set up a test's world, and call the services for the behaviour under test."""

from __future__ import annotations

import uuid
from datetime import timedelta

import factory
from django.utils import timezone

from yiwang.accounts.tests.factories import DepartmentFactory, UserFactory
from yiwang.evaluation.models import Channel, Invitation, Rating, Rectification


class InvitationFactory(factory.django.DjangoModelFactory[Invitation]):  # type: ignore[misc]
    class Meta:
        model = Invitation

    subject_kind = "application"
    subject_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    rater = factory.SubFactory(UserFactory)
    department = factory.SubFactory(DepartmentFactory)
    title = factory.Sequence(lambda n: f"个体工商户设立登记（{n}）")
    channel = Channel.ONLINE


class RatingFactory(factory.django.DjangoModelFactory[Rating]):  # type: ignore[misc]
    class Meta:
        model = Rating

    invitation = factory.SubFactory(InvitationFactory, status=Invitation.Status.RATED)
    level = 5
    comment = ""
    channel = Channel.ONLINE
    rated_by = factory.LazyAttribute(lambda r: r.invitation.rater)
    real_name = True


class RectificationFactory(factory.django.DjangoModelFactory[Rectification]):  # type: ignore[misc]
    class Meta:
        model = Rectification

    rating = factory.SubFactory(RatingFactory, level=1, comment="窗口让我跑了三趟。")
    department = factory.LazyAttribute(lambda r: r.rating.invitation.department)
    due_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=7))
