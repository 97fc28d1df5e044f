"""Background jobs on both topologies: the in-process runner and Celery with real Redis."""

from __future__ import annotations

import threading

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from yiwang.celery import app
from yiwang.core import jobs, tasks
from yiwang.core.jobs import jobs_current_runner, jobs_start_embedded
from yiwang.core.models import OutboxMessage
from yiwang.core.outbox import outbox_enqueue, outbox_handler

REDIS_URL = "redis://127.0.0.1:6379/13"
WAIT = 60  # seconds: a generous bound for a hang, not a timing assertion

handled = threading.Event()
release = threading.Event()
handled_payloads: list[dict[str, object]] = []


@outbox_handler("test.jobs")
def _deliver(message: OutboxMessage) -> None:
    # Waits for the test to say so: proves the caller had returned before the task ran.
    release.wait(WAIT)
    handled_payloads.append(message.payload)
    handled.set()


@pytest.fixture(autouse=True)
def _reset():
    handled.clear()
    release.clear()
    handled_payloads.clear()
    yield
    release.set()


@pytest.fixture
def runner_factory(tmp_path):
    started: list[jobs.EmbeddedRunner] = []

    def start(**kwargs):
        runner = jobs_start_embedded(lock_path=tmp_path / "jobs.lock", **kwargs)
        started.append(runner)
        return runner

    yield start
    release.set()
    for runner in started:
        runner.stop()


@pytest.mark.django_db(transaction=True)
def test_embedded_runner_runs_a_delayed_task_after_the_caller_returns(runner_factory):
    # given: a runner without beat
    runner = runner_factory(beat=False)
    assert jobs_current_runner() is runner
    assert runner is not None

    # when: a transaction enqueues a side effect and commits (on_commit -> .delay())
    with transaction.atomic():
        message = outbox_enqueue(topic="test.jobs", payload={"n": 1})

    # then: the caller got here while the handler was still waiting to be released
    assert not handled.is_set()
    release.set()
    assert handled.wait(WAIT)
    runner.stop()
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)
    assert handled_payloads == [{"n": 1}]


@pytest.mark.django_db(transaction=True)
def test_embedded_runner_runs_a_due_periodic_job(runner_factory):
    # given: a message written without the after-commit kick, and a schedule whose only
    # entry (the outbox sweep) falls due at once
    OutboxMessage.objects.create(topic="test.jobs", payload={"n": 2}, available_at=timezone.now())
    release.set()

    # when
    runner = runner_factory(
        schedule={"sweep": {"task": "yiwang.core.tasks.outbox_deliver", "schedule": 0.01}}
    )

    # then
    assert handled.wait(WAIT)
    runner.stop()
    assert runner.is_beat_leader
    assert OutboxMessage.objects.get().status == "sent"
    assert handled_payloads == [{"n": 2}]


@pytest.mark.django_db(transaction=True)
def test_only_one_runner_per_process_and_only_one_beat_leader(runner_factory, tmp_path):
    runner = runner_factory(schedule={})

    with pytest.raises(RuntimeError, match="already running in this process"):
        jobs_start_embedded(lock_path=tmp_path / "jobs.lock")

    # a second runner (as another process would) waits for the lock while the first holds it
    runner.stop()
    assert jobs_current_runner() is None
    other = jobs.EmbeddedRunner(schedule={}, beat=True, lock_path=tmp_path / "jobs.lock")
    assert other._take_beat_lock()
    blocked = jobs.EmbeddedRunner(schedule={}, beat=True, lock_path=tmp_path / "jobs.lock")
    assert not blocked._take_beat_lock()
    other.stop()
    blocked.stop()


def test_the_settings_schedule_names_registered_tasks():
    app.loader.import_default_modules()

    for name, entry in django_settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name


@pytest.mark.django_db
def test_calendar_next_year_check_task_uses_the_city_date():
    from yiwang.core.calendar import calendar_next_year_check

    expected = calendar_next_year_check(today=timezone.localdate(timezone=tasks.CITY_TIME_ZONE))

    result = tasks.calendar_next_year_check.apply()

    assert result.successful()
    assert result.result == expected


# --- the city topology: Celery worker against real Redis -----------------------------------


@pytest.fixture
def redis_broker(settings):
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    settings.YIWANG_JOBS_MODE = "celery"
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=REDIS_URL, task_always_eager=False)
    app.loader.import_default_modules()
    yield client
    app.conf.update(saved)
    client.flushdb()
    client.close()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_city_worker_delivers_the_outbox_through_redis(redis_broker):
    # given: a committed message (its after-commit kick also goes through Redis)
    release.set()
    with transaction.atomic():
        message = outbox_enqueue(topic="test.jobs", payload={"n": 3})
    # the kick went to the broker, not inline
    assert OutboxMessage.objects.get().status == "pending"
    assert redis_broker.llen("celery") == 1

    # when: a real worker consumes from Redis
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        tasks.outbox_deliver.delay()
        assert handled.wait(WAIT)

    # then
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)
    assert handled_payloads == [{"n": 3}]
