"""Configuration: embedded secrets are generated once with mode 0600; the production settings
refuse to start with missing or default secrets."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys

import pytest

from yiwang.settings.secrets import load_or_create

GOOD_ENV = {
    "YIWANG_SECRET_KEY": "s" * 10 + "Q9x-long-enough-random-looking-value-0123456789",
    "YIWANG_FIELD_KEYS": "k1:" + base64.b64encode(b"0123456789abcdef").decode(),
    "YIWANG_BLIND_INDEX_KEY": "b" * 40,
    "DATABASE_URL": "sqlite:////tmp/yiwang-settings-test.sqlite3",
}


def _import_production(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("YIWANG_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        env={**clean, **env, "DJANGO_SETTINGS_MODULE": "yiwang.settings.production"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_embedded_secrets_are_created_once_with_mode_0600(tmp_path):
    first = load_or_create(tmp_path)

    path = tmp_path / "secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert set(first) == {"YIWANG_SECRET_KEY", "YIWANG_FIELD_KEYS", "YIWANG_BLIND_INDEX_KEY"}
    assert load_or_create(tmp_path) == first


def test_embedded_secrets_gain_new_keys_and_keep_old_values(tmp_path):
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({"YIWANG_SECRET_KEY": "kept"}))
    path.chmod(0o600)

    stored = load_or_create(tmp_path)

    assert stored["YIWANG_SECRET_KEY"] == "kept"
    assert stored["YIWANG_FIELD_KEYS"].startswith("k1:")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_production_starts_with_every_secret_set():
    result = _import_production(GOOD_ENV)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "started"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("YIWANG_SECRET_KEY", "", "YIWANG_SECRET_KEY must be set"),
        ("YIWANG_SECRET_KEY", "changeme", "YIWANG_SECRET_KEY is too short or a known default"),
        ("YIWANG_SECRET_KEY", "django-insecure-" + "x" * 40, "is too short or a known default"),
        ("YIWANG_FIELD_KEYS", "", "YIWANG_FIELD_KEYS must be set"),
        ("YIWANG_BLIND_INDEX_KEY", "short", "YIWANG_BLIND_INDEX_KEY is too short"),
        ("DATABASE_URL", "", "DATABASE_URL must be set"),
    ],
)
def test_production_refuses_missing_or_default_secrets(name, value, message):
    env = {**GOOD_ENV, name: value}
    if not value:
        del env[name]

    result = _import_production(env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr
    assert "started" not in result.stdout


def test_office_hours_come_from_the_environment():
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("YIWANG_", "DATABASE_"))}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup();"
            "from yiwang.core.calendar import office_hours_from_settings as f; print(f())",
        ],
        env={
            **clean,
            **GOOD_ENV,
            "DJANGO_SETTINGS_MODULE": "yiwang.settings.production",
            "YIWANG_OFFICE_HOURS": "08:30-12:00, 14:00-17:00",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "((datetime.time(8, 30), datetime.time(12, 0)), "
        "(datetime.time(14, 0), datetime.time(17, 0)))"
    )
