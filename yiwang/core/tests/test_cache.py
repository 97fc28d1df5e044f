"""The city topology's Redis cache backend: one client per pool, shared by threads, against
the real Redis server."""

from __future__ import annotations

import threading
import uuid

import redis

from yiwang.core.cache import RedisCache

REDIS_URL = "redis://127.0.0.1:6379/12"


def _backend() -> RedisCache:
    return RedisCache(REDIS_URL, {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"})


def test_every_operation_uses_the_one_client_of_the_pool() -> None:
    backend = _backend()
    client = backend._cache.get_client(write=True)
    assert isinstance(client, redis.Redis)
    assert backend._cache.get_client("any key") is client
    assert backend._cache.get_client(write=True) is client
    backend.set("k", {"a": 1}, timeout=30)
    assert backend.get("k") == {"a": 1}
    assert backend.add("k", "other", timeout=30) is False
    assert backend.add("n", 1, timeout=30) is True
    assert backend.incr("n") == 2
    backend.delete("k")
    assert backend.get("k", "gone") == "gone"
    assert backend._cache.get_client() is client


def test_threads_share_the_client_and_every_increment_counts() -> None:
    backend = _backend()
    backend.set("count", 0, timeout=60)
    clients: set[int] = set()

    def work() -> None:
        for _ in range(200):
            backend.incr("count")
        clients.add(id(backend._cache.get_client(write=True)))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert backend.get("count") == 1600
    assert len(clients) == 1
    backend.delete("count")
