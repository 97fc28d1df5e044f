"""Checkpoint bodies: the tlog-checkpoint example, round trip and strict parsing."""

from __future__ import annotations

import base64

import pytest

from yiwang.ledger.checkpoint import (
    MAX_SIZE,
    Checkpoint,
    CheckpointError,
    checkpoint_format,
    checkpoint_parse,
)

ROOT_B64 = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
EXAMPLE = f"example.com/behind-the-sofa\n20852163\n{ROOT_B64}\n"


def test_spec_example_parses_and_formats_back() -> None:
    cp = checkpoint_parse(EXAMPLE)

    assert cp == Checkpoint("example.com/behind-the-sofa", 20852163, base64.b64decode(ROOT_B64))
    assert checkpoint_format(cp) == EXAMPLE


def test_extension_lines_kept() -> None:
    text = EXAMPLE + "ext one\next two\n"

    cp = checkpoint_parse(text)

    assert cp.extensions == ("ext one", "ext two")
    assert checkpoint_format(cp) == text


def test_size_zero_and_max() -> None:
    assert checkpoint_parse(f"o\n0\n{ROOT_B64}\n").size == 0
    assert checkpoint_parse(f"o\n{MAX_SIZE}\n{ROOT_B64}\n").size == MAX_SIZE


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (f"o\n01\n{ROOT_B64}\n", "leading zeros"),
        (f"o\n-1\n{ROOT_B64}\n", "leading zeros"),
        (f"o\n+1\n{ROOT_B64}\n", "leading zeros"),
        (f"o\n 1\n{ROOT_B64}\n", "leading zeros"),
        (f"o\n{MAX_SIZE + 1}\n{ROOT_B64}\n", "too large"),
        (f"o\n{'9' * 40}\n{ROOT_B64}\n", "leading zeros"),
        (f"o\n1\n{ROOT_B64}", "newline"),
        (f"\n1\n{ROOT_B64}\n", "empty origin"),
        ("o\n1\n", "origin, size and root"),
        ("o\n1\nAAAA\n", "32 bytes"),
        ("o\n1\n" + ROOT_B64[:-1] + "\n", "base64"),
        ("o\n1\n" + ROOT_B64.replace("=", "") + "\n", "base64"),
        (f"o\n1\n{ROOT_B64}\n\next\n", "empty extension"),
        (f"o\r\n1\n{ROOT_B64}\n", "control"),
        (f"o\n1\n{ROOT_B64}\n" + "e\n" * 17, "too many"),
        ("o\n1\n" + "A" * 20000 + "\n", "too large"),
    ],
)
def test_malformed_refused(text: str, reason: str) -> None:
    with pytest.raises(CheckpointError, match=reason):
        checkpoint_parse(text)


def test_format_refuses_bad_values() -> None:
    with pytest.raises(CheckpointError, match="32 bytes"):
        checkpoint_format(Checkpoint("o", 1, b"short"))
    with pytest.raises(CheckpointError, match="origin"):
        checkpoint_format(Checkpoint("a\nb", 1, bytes(32)))
