"""Secrets for the embedded topology: generated once into the data folder with mode 0600.

The production settings never call this: there every secret must come from the environment.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path

SECRETS_FILE = "secrets.json"


def _new_secrets() -> dict[str, str]:
    return {
        "YIWANG_SECRET_KEY": secrets.token_urlsafe(50),
        # Field encryption keys as "id:base64(16 bytes)" separated by commas; the first is the
        # active one, the others stay readable so that keys can rotate.
        "YIWANG_FIELD_KEYS": "k1:" + base64.b64encode(secrets.token_bytes(16)).decode(),
        "YIWANG_BLIND_INDEX_KEY": secrets.token_urlsafe(32),
    }


def load_or_create(data_dir: Path) -> dict[str, str]:
    """Return the embedded secrets, creating ``secrets.json`` (mode 0600) on first use."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SECRETS_FILE
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(_new_secrets(), fh, indent=2)
    with path.open() as fh:
        stored: dict[str, str] = json.load(fh)
    missing = {k: v for k, v in _new_secrets().items() if k not in stored}
    if missing:  # a newer release added a secret: extend the file, keep the old values
        stored.update(missing)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(stored, fh, indent=2)
        tmp.replace(path)
    return stored
