"""``yiwang ledger <subcommand>``: the e-certificate transparency log.

Auditors' tools (no database needed; hex input; exit 0 valid, 1 invalid, 2 malformed input
with the reason on stderr):

    yiwang ledger root --leaves FILE                  (one hex leaf input per line → root hex)
    yiwang ledger verify-inclusion --index I --size N --leaf-hash H --root R --proof H1,H2,…
    yiwang ledger verify-consistency --size1 M --size2 N --root1 R1 --root2 R2 --proof H1,…
    yiwang ledger verify-bundle FILE --policy POLICY [--leaf-input-file FILE]

Operators' tools:

    yiwang ledger integrate          (integrate every pending entry now)
    yiwang ledger checkpoint         (publish a checkpoint now and ask the witnesses)
    yiwang ledger audit              (recompute the tree; exit 1 naming altered/missing entries)
    yiwang ledger add-witness --name NAME --url URL --vkey VKEY
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext

from yiwang.core.management.subcommands import Subcommand, SubcommandCommand
from yiwang.ledger import merkle
from yiwang.ledger.bundle import MAX_BUNDLE_BYTES, bundle_verify
from yiwang.ledger.note import NoteError
from yiwang.ledger.selectors import cosigned_note, ledger_audit, log_size
from yiwang.ledger.services import checkpoint_publish, ledger_integrate_all, witness_add

VALID, INVALID, MALFORMED = 0, 1, 2
MAX_LEAVES_FILE_BYTES = 1 << 30


class Malformed(ValueError):
    pass


def _fail(command: BaseCommand, message: str) -> int:
    command.stderr.write(message)
    return MALFORMED


def _hex(text: str, what: str, *, hash_size: bool = True) -> bytes:
    try:
        value = bytes.fromhex(text.strip())
    except ValueError as exc:
        raise Malformed(
            gettext("%(what)s 不是十六进制：%(text)s") % {"what": what, "text": text[:80]}
        ) from exc
    if hash_size and len(value) != merkle.HASH_SIZE:
        raise Malformed(gettext("%(what)s 应为 32 字节（64 个十六进制字符）") % {"what": what})
    return value


def _int(text: str, what: str) -> int:
    if not text.isdigit() or len(text) > 19:
        raise Malformed(
            gettext("%(what)s 应为非负整数：%(text)s") % {"what": what, "text": text[:80]}
        )
    return int(text)


def _proof(text: str) -> list[bytes]:
    items = [p for p in text.split(",") if p.strip()] if text.strip() else []
    if len(items) > 64:
        raise Malformed(gettext("证明过长（最多 64 个哈希）"))
    return [_hex(p, gettext("证明中的哈希")) for p in items]


def _verdict(command: BaseCommand, ok: bool) -> int:
    command.stdout.write(gettext("证明有效") if ok else gettext("证明无效"))
    return VALID if ok else INVALID


# --- root / verify ------------------------------------------------------------------------------


def root_arguments(parser: CommandParser) -> None:
    parser.add_argument("--leaves", required=True, help="one hex leaf input per line")


def root_run(command: BaseCommand, options: dict[str, Any]) -> int:
    compact = merkle.CompactRange()
    try:
        with Path(options["leaves"]).open(encoding="ascii") as lines:
            for number, line in enumerate(lines, start=1):
                # Every line is a leaf, an empty one too (the empty leaf input is valid).
                data = _hex(line.strip(), gettext("第 %(n)d 行") % {"n": number}, hash_size=False)
                compact.append(merkle.leaf_hash(data))
    except (OSError, UnicodeDecodeError) as exc:
        return _fail(command, gettext("无法读取叶子文件：%(error)s") % {"error": exc})
    except Malformed as exc:
        return _fail(command, str(exc))
    command.stdout.write(compact.root().hex())
    return VALID


def inclusion_arguments(parser: CommandParser) -> None:
    for name in ("--index", "--size", "--leaf-hash", "--root"):
        parser.add_argument(name, required=True)
    parser.add_argument("--proof", default="", help="comma-separated hex hashes (may be empty)")


def inclusion_run(command: BaseCommand, options: dict[str, Any]) -> int:
    try:
        index, size = _int(options["index"], "--index"), _int(options["size"], "--size")
        leaf = _hex(options["leaf_hash"], "--leaf-hash")
        root = _hex(options["root"], "--root")
        proof = _proof(options["proof"])
    except Malformed as exc:
        return _fail(command, str(exc))
    return _verdict(command, merkle.verify_inclusion(index, size, leaf, proof, root))


def consistency_arguments(parser: CommandParser) -> None:
    for name in ("--size1", "--size2", "--root1", "--root2"):
        parser.add_argument(name, required=True)
    parser.add_argument("--proof", default="", help="comma-separated hex hashes (may be empty)")


def consistency_run(command: BaseCommand, options: dict[str, Any]) -> int:
    try:
        size1, size2 = _int(options["size1"], "--size1"), _int(options["size2"], "--size2")
        root1 = _hex(options["root1"], "--root1")
        root2 = _hex(options["root2"], "--root2")
        proof = _proof(options["proof"])
    except Malformed as exc:
        return _fail(command, str(exc))
    return _verdict(command, merkle.verify_consistency(size1, size2, root1, root2, proof))


def bundle_arguments(parser: CommandParser) -> None:
    parser.add_argument("file")
    parser.add_argument("--policy", required=True)
    parser.add_argument("--leaf-input-file", default=None)


def bundle_run(command: BaseCommand, options: dict[str, Any]) -> int:

    try:
        paths = [options["file"], options["policy"], options["leaf_input_file"]]
        for path in filter(None, paths):
            if Path(path).stat().st_size > 4 * MAX_BUNDLE_BYTES:
                return _fail(command, gettext("文件过大：%(path)s") % {"path": path})
        bundle = Path(options["file"]).read_bytes()
        policy = Path(options["policy"]).read_bytes()
        leaf = Path(paths[2]).read_bytes() if paths[2] else None
    except OSError as exc:
        return _fail(command, gettext("无法读取文件：%(error)s") % {"error": exc})
    result = bundle_verify(bundle, policy, leaf)
    if result.ok:
        command.stdout.write(
            gettext("有效：第 %(index)s 条，树大小 %(size)s，日志 %(origin)s，见证方 %(w)s")
            % {
                "index": result.index,
                "size": result.size,
                "origin": result.origin,
                "w": ", ".join(result.cosigners) or "-",
            }
        )
        return VALID
    command.stderr.write(
        f"{result.message} ({result.reason}{': ' + result.detail if result.detail else ''})"
    )
    malformed = ("malformed", "too_large", "not_text", "bad_policy", "bad_checkpoint")
    return MALFORMED if result.reason in malformed else INVALID


# --- operators ----------------------------------------------------------------------------------


def _no_arguments(parser: CommandParser) -> None:
    pass


def integrate_run(command: BaseCommand, options: dict[str, Any]) -> int:

    count = ledger_integrate_all()
    command.stdout.write(
        gettext("已并入 %(n)d 条，日志大小 %(size)d") % {"n": count, "size": log_size()}
    )
    return 0


def checkpoint_run(command: BaseCommand, options: dict[str, Any]) -> int:

    command.stdout.write(cosigned_note(checkpoint_publish()), ending="")
    return 0


def audit_run(command: BaseCommand, options: dict[str, Any]) -> int:

    result = ledger_audit()
    command.stdout.write(
        gettext("日志大小 %(size)d，核对条目 %(n)d 条") % {"size": result.size, "n": result.entries}
    )
    if result.ok:
        command.stdout.write(gettext("审计通过：所有条目、哈希瓦片与检查点一致"))
        return 0
    lines = []
    if result.altered:
        lines.append(gettext("被篡改的条目序号：%(list)s") % {"list": _listed(result, "altered")})
    if result.missing:
        lines.append(gettext("缺失的条目序号：%(list)s") % {"list": _listed(result, "missing")})
    if result.bad_tiles:
        tiles = ", ".join(f"{lv}/{ix}" for lv, ix in result.bad_tiles)
        lines.append(gettext("存储的哈希瓦片与重算不符（层/序号）：%(list)s") % {"list": tiles})
    if result.forked_checkpoints:
        ids = ", ".join(str(i) for i in result.forked_checkpoints)
        lines.append(gettext("与重算的树不一致的检查点（编号）：%(list)s") % {"list": ids})
    if not result.root_ok:
        lines.append(gettext("日志状态中的根哈希与重算不符"))
    for line in lines:
        command.stderr.write(line)
    return 1


def _listed(result: Any, kind: str) -> str:
    items = getattr(result, kind)
    text = ", ".join(str(i) for i in items)
    total = result.counts.get(kind, len(items))
    return text + (
        gettext("（共 %(n)d 条，仅列出前 %(m)d 条）") % {"n": total, "m": len(items)}
        if total > len(items)
        else ""
    )


def witness_arguments(parser: CommandParser) -> None:
    parser.add_argument("--name", required=True)
    parser.add_argument("--url", required=True, help="the witness's …/add-checkpoint URL")
    parser.add_argument("--vkey", required=True, help="the witness's cosignature vkey")


def witness_run(command: BaseCommand, options: dict[str, Any]) -> int:

    try:
        witness = witness_add(name=options["name"], url=options["url"], vkey=options["vkey"])
    except NoteError as exc:
        return _fail(command, gettext("验证公钥格式错误：%(reason)s") % {"reason": exc})
    command.stdout.write(gettext("已登记见证方 %(name)s") % {"name": witness.name})
    return 0


SUBCOMMANDS = {
    "root": Subcommand("print the RFC 9162 root of hex leaf inputs", root_arguments, root_run),
    "verify-inclusion": Subcommand("verify an inclusion proof", inclusion_arguments, inclusion_run),
    "verify-consistency": Subcommand(
        "verify a consistency proof", consistency_arguments, consistency_run
    ),
    "verify-bundle": Subcommand("verify a tlog-proof bundle offline", bundle_arguments, bundle_run),
    "integrate": Subcommand("integrate pending entries now", _no_arguments, integrate_run),
    "checkpoint": Subcommand("publish a checkpoint now", _no_arguments, checkpoint_run),
    "audit": Subcommand("recompute the tree from the entries", _no_arguments, audit_run),
    "add-witness": Subcommand("register a witness the log asks", witness_arguments, witness_run),
}


class Command(SubcommandCommand):
    help = "E-certificate transparency log: auditors' verifiers and operators' tools."
    subcommands = SUBCOMMANDS
