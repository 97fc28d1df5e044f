"""People and a real SMS gateway (a local HTTP server thread) for the notifications tests."""

from __future__ import annotations

import json
import socket
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import Client

from yiwang.accounts.models import Role, User
from yiwang.accounts.tests.factories import StaffFactory, UserFactory, staff_with_role

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
PHONE = "13812345678"
EMAIL = "zhangsan@example.com"


def signed_in(user: User, **client_kwargs: Any) -> Client:
    client = Client(**client_kwargs)
    client.force_login(user, backend=MODEL_BACKEND)
    return client


@pytest.fixture
def citizen(db: None) -> User:
    user: User = UserFactory.create(real_name="张三丰", phone=PHONE, email=EMAIL)
    return user


@pytest.fixture
def other_citizen(db: None) -> User:
    user: User = UserFactory.create(real_name="王五", phone="13900001111")
    return user


@pytest.fixture
def auditor(db: None) -> User:
    return staff_with_role(Role.AUDITOR, real_name="韩审计")


@pytest.fixture
def platform_admin(db: None) -> User:
    return staff_with_role(Role.ADMIN, real_name="系统管理员")


@pytest.fixture
def approver(db: None) -> User:
    return staff_with_role(Role.APPROVER, real_name="周审批")


@pytest.fixture
def plain_staff(db: None) -> User:
    user: User = StaffFactory.create(real_name="李四")
    return user


@dataclass
class Gateway:
    """What the SMS gateway received, and the status codes it answers next (200 when none
    are queued, or ``always`` when set)."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    answers: deque[int] = field(default_factory=deque)
    always: int | None = None


@pytest.fixture
def sms_gateway(settings: Any) -> Iterator[Gateway]:
    gateway = Gateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            gateway.received.append(
                {"path": self.path, "headers": dict(self.headers), "json": json.loads(raw)}
            )
            status = gateway.always or (gateway.answers.popleft() if gateway.answers else 200)
            phone = json.loads(raw)["phone"]
            answer = {"ok": True} if status < 300 else {"error": f"号码 {phone} 暂时无法送达"}
            body = json.dumps(answer, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="sms-gateway", daemon=True)
    thread.start()
    gateway.url = f"http://127.0.0.1:{server.server_address[1]}/sms/send"
    settings.YIWANG_SMS_PROVIDER = "http"
    settings.YIWANG_SMS_URL = gateway.url
    settings.YIWANG_SMS_TOKEN = "gateway-token-for-tests"
    yield gateway
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def closed_port() -> int:
    """A local port nobody listens on (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
