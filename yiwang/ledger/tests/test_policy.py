"""tlog-policy files: parsing with line-numbered errors and quorum evaluation."""

from __future__ import annotations

import pytest

from yiwang.core.signing import Ed25519Signer
from yiwang.ledger.note import TYPE_COSIGNATURE, TYPE_ED25519, vkey_format
from yiwang.ledger.policy import PolicyError, policy_parse


def _wkey(name: str) -> str:
    return vkey_format(name, TYPE_COSIGNATURE, Ed25519Signer.generate().public_key())


LOG = vkey_format("log.example", TYPE_ED25519, Ed25519Signer.generate().public_key())
X1, X2, X3, Y1, Y2 = (_wkey(f"{n}.example") for n in ("x1", "x2", "x3", "y1", "y2"))

TWO_LEVEL = f"""# the spec's example, smaller
log {LOG} https://log.example/

witness X1 {X1}
witness X2 {X2}
\twitness X3 {X3}   https://x3.example/
group X-witnesses 2 X1 X2 X3

witness Y1 {Y1}
witness Y2 {Y2}
group Y-witnesses any Y1 Y2

group X-and-Y all X-witnesses Y-witnesses
quorum X-and-Y
"""


def test_two_level_policy() -> None:
    policy = policy_parse(TWO_LEVEL)

    assert [str(v) for v in policy.logs] == [LOG]
    assert sorted(policy.witnesses) == ["X1", "X2", "X3", "Y1", "Y2"]
    assert policy.urls == {"X3": "https://x3.example/"}
    assert policy.groups["X-witnesses"].threshold == 2
    assert policy.groups["X-and-Y"].threshold == 2
    assert policy.quorum == "X-and-Y"
    assert policy.satisfied({"X1", "X3", "Y2"}) is True
    assert policy.satisfied({"X1", "Y1", "Y2"}) is False
    assert policy.satisfied({"X1", "X2", "X3"}) is False
    assert policy.satisfied(set()) is False
    # Names that are groups or unknown never count as a cosignature.
    assert policy.satisfied({"X-witnesses", "Y-witnesses", "nobody"}) is False


def test_two_of_three_and_single_witness_and_none() -> None:
    base = f"log {LOG}\nwitness A {X1}\nwitness B {X2}\nwitness C {X3}\n"
    two_of_three = policy_parse(base + "group g 2 A B C\nquorum g\n")
    single = policy_parse(base + "quorum B\n")
    nobody = policy_parse(f"log {LOG}\nquorum none\n")

    assert [two_of_three.satisfied(s) for s in ({"A"}, {"A", "C"}, {"A", "B", "C"})] == [
        False,
        True,
        True,
    ]
    assert (single.satisfied({"A", "C"}), single.satisfied({"B"})) == (False, True)
    assert nobody.quorum is None
    assert nobody.satisfied(set()) is True


def test_witness_lookup_by_key() -> None:
    policy = policy_parse(TWO_LEVEL)
    vkey = policy.witnesses["Y1"]

    assert policy.witness_named("y1.example", vkey.key_id) == "Y1"
    assert policy.witness_named("y1.example", b"\0\0\0\0") is None


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (f"log {LOG}\n", 0, "missing quorum"),
        ("quorum none\nquorum none\n", 2, "more than one quorum"),
        ("\n\nfoo bar\nquorum none\n", 3, "unknown keyword"),
        (f"quorum A\nwitness A {X1}\n", 1, "not defined on an earlier line"),
        (f"witness A {X1}\ngroup g 1 A B\nquorum g\n", 2, "'B' not defined"),
        (f"witness A {X1}\ngroup g 2 A\nquorum g\n", 2, "threshold larger"),
        (f"witness A {X1}\ngroup g 0 A\nquorum g\n", 2, "threshold must be"),
        (f"witness A {X1}\ngroup g some A\nquorum g\n", 2, "threshold must be"),
        (f"witness A {X1}\ngroup g any A A\nquorum g\n", 2, "listed twice"),
        (f"witness A {X1}\ngroup A any A\nquorum A\n", 2, "already defined"),
        (f"witness none {X1}\nquorum none\n", 1, "reserved"),
        (f"witness A {X1}\nwitness B {X1}\nquorum A\n", 2, "duplicate key"),
        (f"witness A {LOG}\nquorum A\n", 1, "wrong signature type"),
        (f"log {X1}\nquorum none\n", 1, "wrong signature type"),
        ("log nonsense\nquorum none\n", 1, "bad log vkey"),
        ("witness A\nquorum none\n", 1, "expected: witness"),
        ("quorum\n", 1, "expected: quorum"),
        ("quorum none\x00\n", 0, "control"),
    ],
)
def test_malformed_policy_names_line(text: str, line: int, reason: str) -> None:
    with pytest.raises(PolicyError, match=reason) as info:
        policy_parse(text)

    assert info.value.line == line


def test_oversized_policy_refused() -> None:
    with pytest.raises(PolicyError, match="too large"):
        policy_parse("# " + "x" * 70_000 + "\nquorum none\n")
