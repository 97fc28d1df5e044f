"""Transparency-log trust policies (c2sp.org/tlog-policy).

    log <vkey> [<url>]
    witness <name> <vkey> [<url>]
    group <name> <k|all|any> <member>...
    quorum <name|none>

Lines are separated by newlines, items by spaces or tabs; blank lines and ``#`` comments are
ignored. Groups and the quorum may only name witnesses or groups defined on earlier lines (so
there are no cycles), each name at most once per group, ``1 <= k <= n``, exactly one quorum line.
Errors carry the line number so that an operator can fix the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from yiwang.ledger.note import (
    TYPE_COSIGNATURE,
    TYPE_ED25519,
    TYPE_ESCAPE,
    NoteError,
    Vkey,
    vkey_parse,
)

MAX_POLICY_BYTES = 64 * 1024
MAX_ENTRIES = 256  # the spec asks for at least 32 logs, 32 witnesses and 32 groups
NONE = "none"
_ALLOWED = re.compile(rb"[\t\n\x20-\x7e\x80-\xff]*")


class PolicyError(ValueError):
    def __init__(self, line: int, reason: str):
        self.line = line
        self.reason = reason
        super().__init__(f"line {line}: {reason}" if line else reason)


@dataclass(frozen=True)
class Group:
    name: str
    threshold: int
    members: tuple[str, ...]


@dataclass(frozen=True)
class Policy:
    logs: tuple[Vkey, ...]
    witnesses: dict[str, Vkey]
    groups: dict[str, Group] = field(default_factory=dict)
    quorum: str | None = None  # None = "quorum none"
    urls: dict[str, str] = field(default_factory=dict)  # witness name -> submission prefix

    def satisfied(self, witnessed: Iterable[str]) -> bool:
        """Whether the witnesses named in ``witnessed`` (policy names whose cosignatures
        verified) meet the quorum."""
        if self.quorum is None:
            return True
        seen = set(witnessed)
        memo: dict[str, bool] = {}

        def holds(name: str) -> bool:
            if name not in memo:
                group = self.groups.get(name)
                if group is None:
                    memo[name] = name in seen and name in self.witnesses
                else:
                    memo[name] = sum(holds(m) for m in group.members) >= group.threshold
            return memo[name]

        return holds(self.quorum)

    def witness_named(self, key_name: str, key_id: bytes) -> str | None:
        """The policy name of the witness whose vkey has this (key name, key ID)."""
        for name, vkey in self.witnesses.items():
            if (vkey.name, vkey.key_id) == (key_name, key_id):
                return name
        return None


def _vkey(line: int, text: str, types: tuple[int, ...], what: str) -> Vkey:
    try:
        vkey = vkey_parse(text)
    except NoteError as exc:
        raise PolicyError(line, f"bad {what} vkey: {exc.reason}") from exc
    if vkey.type_byte not in types:
        raise PolicyError(line, f"{what} vkey has the wrong signature type")
    return vkey


def policy_parse(text: str | bytes) -> Policy:
    raw = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    if len(raw) > MAX_POLICY_BYTES:
        raise PolicyError(0, "policy file too large")
    if not _ALLOWED.fullmatch(raw):
        raise PolicyError(0, "policy contains control characters")
    logs: list[Vkey] = []
    witnesses: dict[str, Vkey] = {}
    groups: dict[str, Group] = {}
    urls: dict[str, str] = {}
    quorum: str | None = None
    quorum_seen = False
    public_keys: set[bytes] = set()
    for number, line_bytes in enumerate(raw.split(b"\n"), start=1):
        line = line_bytes.decode("utf-8", "surrogateescape")
        items = line.replace("\t", " ").split()
        if not items or items[0].startswith("#"):
            continue
        keyword, args = items[0], items[1:]
        if len(logs) + len(witnesses) + len(groups) >= MAX_ENTRIES:
            raise PolicyError(number, "too many entries")
        if keyword == "log":
            if len(args) not in (1, 2):
                raise PolicyError(number, "expected: log <vkey> [<url>]")
            vkey = _vkey(number, args[0], (TYPE_ED25519, TYPE_ESCAPE), "log")
            if vkey.public_key in public_keys:
                raise PolicyError(number, "duplicate key")
            public_keys.add(vkey.public_key)
            logs.append(vkey)
        elif keyword == "witness":
            if len(args) not in (2, 3):
                raise PolicyError(number, "expected: witness <name> <vkey> [<url>]")
            name = args[0]
            if name == NONE or name in witnesses or name in groups:
                raise PolicyError(number, f"name {name!r} already defined or reserved")
            vkey = _vkey(number, args[1], (TYPE_COSIGNATURE,), "witness")
            if vkey.public_key in public_keys:
                raise PolicyError(number, "duplicate key")
            public_keys.add(vkey.public_key)
            witnesses[name] = vkey
            if len(args) == 3:
                urls[name] = args[2]
        elif keyword == "group":
            if len(args) < 3:
                raise PolicyError(number, "expected: group <name> <k|all|any> <member>...")
            name, k_text, members = args[0], args[1], tuple(args[2:])
            if name == NONE or name in witnesses or name in groups:
                raise PolicyError(number, f"name {name!r} already defined or reserved")
            for member in members:
                if member not in witnesses and member not in groups:
                    raise PolicyError(number, f"member {member!r} not defined on an earlier line")
            if len(set(members)) != len(members):
                raise PolicyError(number, "a member is listed twice")
            if k_text == "all":
                k = len(members)
            elif k_text == "any":
                k = 1
            elif re.fullmatch(r"[1-9][0-9]{0,3}", k_text):
                k = int(k_text)
                if k > len(members):
                    raise PolicyError(number, "threshold larger than the number of members")
            else:
                raise PolicyError(number, "threshold must be a number, all or any")
            groups[name] = Group(name=name, threshold=k, members=members)
        elif keyword == "quorum":
            if len(args) != 1:
                raise PolicyError(number, "expected: quorum <name|none>")
            if quorum_seen:
                raise PolicyError(number, "more than one quorum line")
            quorum_seen = True
            if args[0] != NONE:
                if args[0] not in witnesses and args[0] not in groups:
                    raise PolicyError(number, f"quorum {args[0]!r} not defined on an earlier line")
                quorum = args[0]
        else:
            raise PolicyError(number, f"unknown keyword {keyword!r}")
    if not quorum_seen:
        raise PolicyError(0, "missing quorum line")
    return Policy(logs=tuple(logs), witnesses=witnesses, groups=groups, quorum=quorum, urls=urls)
