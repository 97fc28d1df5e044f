"""Background jobs without a broker: the embedded topology.

The city topology runs Celery workers and beat against Redis (``yiwang worker``). The embedded
topology runs the *same* Celery task objects and the *same* ``CELERY_BEAT_SCHEDULE`` inside the
web server process, with two daemon threads:

* the **worker** thread takes tasks from an in-process queue (a heap ordered by due time, so
  ``countdown``/``eta`` are honoured) and runs each with ``task.apply()``;
* the **beat** thread evaluates every schedule entry with Celery's own ``ScheduleEntry.is_due``
  and puts due tasks on that queue, so jobs run one at a time (kind to SQLite).

Why a queue and not ``CELERY_TASK_ALWAYS_EAGER``: eager mode runs the task inside the request
that called ``.delay()``, so a slow side effect would hold up the response. Here ``.delay()``
(see ``yiwang.celery.YiwangTask``) only appends to the queue; the task runs after the response
on the worker thread. A process with no runner (a management command, the test suite) runs
the task inline instead, as eager mode would. Queued tasks live in memory: a crash loses
them, which is acceptable because side effects go through the outbox, whose periodic sweep
delivers whatever was not delivered.

Exactly one beat: with several gunicorn workers each process has its own worker thread for
the tasks it queues, but only the process holding an exclusive ``flock`` on
``<data dir>/jobs.lock`` runs the schedule. The others retry the lock, so if the leader dies
another process takes over. Starting a second runner in one process is refused.
"""

from __future__ import annotations

import fcntl
import heapq
import itertools
import logging
import os
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from celery import Task
from celery.beat import ScheduleEntry
from celery.result import AsyncResult
from django.conf import settings
from django.db import close_old_connections, connections

logger = logging.getLogger(__name__)

LOCK_RETRY_SECONDS = 5.0
MAX_BEAT_SLEEP_SECONDS = 30.0

_runner: EmbeddedRunner | None = None
_runner_lock = threading.Lock()


@dataclass(order=True)
class _Job:
    due: float
    order: int
    task: Task = field(compare=False)  # type: ignore[type-arg]
    args: tuple[Any, ...] = field(compare=False)
    kwargs: dict[str, Any] = field(compare=False)
    task_id: str = field(compare=False)


class EmbeddedRunner:
    """The in-process worker and beat. Create it with ``jobs_start_embedded``."""

    def __init__(
        self, *, schedule: Mapping[str, Mapping[str, Any]], beat: bool, lock_path: Path
    ) -> None:
        self.pid = os.getpid()
        self.schedule = dict(schedule)
        self.lock_path = lock_path
        self.is_beat_leader = False
        self._jobs: list[_Job] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._lock_file: IO[bytes] | None = None
        self._worker = threading.Thread(target=self._work, name="yiwang-jobs-worker", daemon=True)
        self._beat = (
            threading.Thread(target=self._beat_loop, name="yiwang-jobs-beat", daemon=True)
            if beat
            else None
        )

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        from yiwang.celery import app

        app.loader.import_default_modules()  # registers every app's tasks
        self._worker.start()
        if self._beat is not None:
            self._beat.start()
        logger.info("embedded jobs runner started in process %d", self.pid)

    @property
    def running(self) -> bool:
        return self._worker.is_alive() and not self._stopping.is_set()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the task in hand, drop the queued ones (the outbox sweep recovers side
        effects at the next start), release the beat lock and join both threads."""
        global _runner
        self._stopping.set()
        with self._cond:
            dropped = len(self._jobs)
            self._jobs.clear()
            self._cond.notify_all()
        if self._beat is not None and self._beat.is_alive():
            self._beat.join(timeout)
        if self._worker.is_alive():
            self._worker.join(timeout)
        if self._lock_file is not None:
            self._lock_file.close()  # closing releases the flock
            self._lock_file = None
        with _runner_lock:
            if _runner is self:
                _runner = None
        logger.info("embedded jobs runner stopped (%d queued tasks dropped)", dropped)

    # -- the queue ----------------------------------------------------------------------------

    def submit(
        self,
        task: Task,  # type: ignore[type-arg]
        *,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        countdown: float | None = None,
        task_id: str | None = None,
    ) -> str:
        job = _Job(
            due=time.monotonic() + max(countdown or 0.0, 0.0),
            order=next(self._order),
            task=task,
            args=args,
            kwargs=kwargs or {},
            task_id=task_id or str(uuid.uuid4()),
        )
        with self._cond:
            heapq.heappush(self._jobs, job)
            self._cond.notify_all()
        return job.task_id

    def _next_job(self) -> _Job | None:
        with self._cond:
            while not self._stopping.is_set():
                if self._jobs and self._jobs[0].due <= time.monotonic():
                    return heapq.heappop(self._jobs)
                timeout = self._jobs[0].due - time.monotonic() if self._jobs else None
                self._cond.wait(timeout)
            return None

    def _work(self) -> None:
        try:
            while (job := self._next_job()) is not None:
                self._run(job)
        finally:
            connections.close_all()  # this thread's connections only

    def _run(self, job: _Job) -> None:
        close_old_connections()
        try:
            result = job.task.apply(
                args=job.args, kwargs=job.kwargs, task_id=job.task_id, throw=False
            )
            if result.failed():
                logger.error("job %s[%s] failed:\n%s", job.task.name, job.task_id, result.traceback)
        except Exception:
            logger.exception("job %s[%s] could not run", job.task.name, job.task_id)
        finally:
            close_old_connections()

    # -- beat ---------------------------------------------------------------------------------

    def _take_beat_lock(self) -> bool:
        if self._lock_file is None:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            self._lock_file = self.lock_path.open("ab")
        try:
            fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _entries(self) -> dict[str, ScheduleEntry]:
        from yiwang.celery import app

        return {
            name: ScheduleEntry(
                name=name,
                task=spec["task"],
                schedule=spec["schedule"],
                args=tuple(spec.get("args", ())),
                kwargs=dict(spec.get("kwargs", {})),
                options=dict(spec.get("options", {})),
                app=app,
            )
            for name, spec in self.schedule.items()
        }

    def _beat_loop(self) -> None:
        from yiwang.celery import app

        while not self.is_beat_leader:
            if self._stopping.is_set():
                return
            if self._take_beat_lock():
                self.is_beat_leader = True
                logger.info("embedded beat: process %d runs the schedule", self.pid)
            else:
                self._stopping.wait(LOCK_RETRY_SECONDS)
        entries = self._entries()
        while not self._stopping.is_set():
            sleep = MAX_BEAT_SLEEP_SECONDS
            for name, entry in list(entries.items()):
                due, next_in = entry.is_due()
                if due:
                    task = app.tasks.get(entry.task or "")
                    if task is None:
                        logger.error("embedded beat: %s names unknown task %s", name, entry.task)
                    else:
                        self.submit(task, args=tuple(entry.args or ()), kwargs=entry.kwargs)
                    entries[name] = next(entry)
                sleep = min(sleep, next_in)
            self._stopping.wait(max(sleep, 0.01))


def jobs_start_embedded(
    *,
    schedule: Mapping[str, Mapping[str, Any]] | None = None,
    beat: bool = True,
    lock_path: Path | None = None,
) -> EmbeddedRunner:
    """Start the in-process worker (and beat, unless ``beat=False``) in this process.

    ``schedule`` defaults to ``settings.CELERY_BEAT_SCHEDULE`` and ``lock_path`` to
    ``<data dir>/jobs.lock``. Refuses if a runner is already running in this process.
    """
    global _runner
    with _runner_lock:
        if _runner is not None and _runner.pid == os.getpid() and _runner.running:
            raise RuntimeError("the embedded jobs runner is already running in this process")
        runner = EmbeddedRunner(
            schedule=settings.CELERY_BEAT_SCHEDULE if schedule is None else schedule,
            beat=beat,
            lock_path=lock_path or Path(settings.DATA_DIR) / "jobs.lock",
        )
        runner.start()
        _runner = runner
    return runner


def jobs_current_runner() -> EmbeddedRunner | None:
    """The runner of this process, if one is running (a forked child does not inherit it)."""
    runner = _runner
    if runner is not None and runner.pid == os.getpid() and runner.running:
        return runner
    return None


def jobs_submit(
    task: Task,  # type: ignore[type-arg]
    *,
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
    countdown: float | None = None,
    task_id: str | None = None,
    **options: Any,
) -> AsyncResult:  # type: ignore[type-arg]
    """Embedded ``apply_async``: queue on this process's runner, or run inline if none."""
    runner = jobs_current_runner()
    if runner is None:
        return task.apply(args=args, kwargs=kwargs, task_id=task_id)
    if "eta" in options and options["eta"] is not None:
        countdown = max(options["eta"].timestamp() - time.time(), 0.0)
    queued_id = runner.submit(task, args=args, kwargs=kwargs, countdown=countdown, task_id=task_id)
    return AsyncResult(queued_id, app=task.app)
