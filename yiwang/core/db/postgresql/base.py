"""PostgreSQL for the city topology, with a health check that costs no round trip.

Connections persist between requests (CONN_MAX_AGE), and Django checks a reused connection
before each request that touches the database (CONN_HEALTH_CHECKS) by running ``SELECT 1``:
one more round trip on every such request, a third of the public progress query's
(bench/applications.py). Without the check, the first request of every server thread after a
database restart or failover would fail with a 500.

The server says when it drops a connection: a backend that is terminated (restart, failover,
``pg_terminate_backend``, idle timeouts) sends its FATAL message and closes the socket. An idle
connection has nothing else to read (the platform does not LISTEN), so when the socket has
nothing to read, nothing has happened since the last query: the connection is reused without
asking. When it has something, Django's own check decides (``SELECT 1``). A connection that a
silent network failure cut off is caught by neither check until a timeout, as before.

Prepared statements: Django turns psycopg's off (``prepare_threshold`` None), which also
refuses a statement that asks for one. Here the threshold is out of reach instead: nothing is
prepared automatically (Django's own cursors bind on the client and never prepare), and a hot
read that asks with ``prepare=True`` is (yiwang/core/db/prepared.py).

Used automatically for ``postgres:`` database URLs (yiwang.settings.base).
"""

from __future__ import annotations

import select
from typing import Any

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus

from yiwang.core.db.precommit import PrecommitMixin

# psycopg counts executions of a statement up to its threshold before preparing it itself.
_ONLY_ON_REQUEST = 2**62


class DatabaseWrapper(PrecommitMixin, base.DatabaseWrapper):
    def get_connection_params(self) -> dict[str, Any]:
        params: dict[str, Any] = super().get_connection_params()
        if params.get("prepare_threshold") is None:
            params["prepare_threshold"] = _ONLY_ON_REQUEST
        return params

    def is_usable(self) -> bool:
        raw = self.connection
        if raw is None or raw.closed:
            return False
        if raw.info.transaction_status == TransactionStatus.IDLE and not _readable(raw.fileno()):
            return True
        return bool(super().is_usable())


def _readable(fd: int) -> bool:
    poller = select.poll()  # not select.select: descriptors above 1023 are fine here
    poller.register(fd, select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))
