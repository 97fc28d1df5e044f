"""``yiwang certificates <subcommand>``: e-certificate tools.

yiwang certificates verify CREDENTIAL.json [--bundle FILE --policy FILE] [--trust DID ...]
    Offline: checks every proof of the credential (eddsa-jcs-2022 and the SM2 proof) with
    the trusted issuer keys (default: this platform's issuer keys; ``--trust`` names others,
    e.g. when verifying on another machine), and with a bundle that the bundle's leaf input
    commits to this very credential (``credential_sha256`` and identifier of the entry) and
    that the bundle verifies under the policy (inclusion + witness quorum).
    Exit 0 valid, 1 invalid, 2 malformed input (reason on stderr).
yiwang certificates expire          (the daily job, now)
yiwang certificates bench [--n 500] (credential verifications per second)
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError
from django.utils.translation import gettext

from yiwang.certificates import credential as vc
from yiwang.certificates.services import certificates_expire
from yiwang.core.management.subcommands import Subcommand, SubcommandCommand
from yiwang.ledger.bundle import bundle_verify

VALID, INVALID, MALFORMED = 0, 1, 2
MAX_FILE_BYTES = 4 * 1024 * 1024


def _read(path: str) -> bytes:
    if Path(path).stat().st_size > MAX_FILE_BYTES:
        raise ValueError(gettext("文件过大：%(path)s") % {"path": path})
    return Path(path).read_bytes()


def verify_arguments(parser: CommandParser) -> None:
    parser.add_argument("credential", help="credential JSON file")
    parser.add_argument("--bundle", help="tlog-proof bundle of the credential's ledger entry")
    parser.add_argument("--policy", help="tlog-policy file (required with --bundle)")
    parser.add_argument(
        "--trust", action="append", default=[], help="trusted issuer DID (repeatable)"
    )


def bundle_commits_to(leaf_input: bytes | None, document: dict[str, Any]) -> str:
    """'' when the leaf input is an issue/version entry of this credential, else the reason."""
    if leaf_input is None:
        return gettext("证明包中没有账本条目内容")
    try:
        leaf = json.loads(leaf_input)
        payload = leaf["payload"]
        kind = leaf["kind"]
    except (ValueError, KeyError, TypeError):
        return gettext("账本条目内容不是预期的 JSON")
    if kind not in ("certificate.issue", "certificate.version"):
        return gettext("账本条目不是颁发记录：%(k)s") % {"k": kind}
    if not isinstance(payload, dict) or payload.get("credential_sha256") != vc.credential_sha256(
        document
    ):
        return gettext("账本条目记录的凭证摘要与此凭证不符")
    subject = document.get("credentialSubject")
    identifier = subject.get("identifier") if isinstance(subject, dict) else None
    if payload.get("identifier") != identifier:
        return gettext("账本条目记录的证照标识与此凭证不符")
    return ""


def validity_problem(document: dict[str, Any], now: datetime) -> str:
    """'' when ``now`` is within validFrom..validUntil (VC 2.0 §4.9), else the reason. The
    revocation status is online only (credentialStatus.id); offline, the log tells whether a
    revocation entry exists."""
    for key, after in (("validFrom", False), ("validUntil", True)):
        value = document.get(key)
        if value is None:
            continue
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            passed = now >= moment if after else now < moment
        except (ValueError, TypeError):
            return gettext("%(k)s 不是有效的时间：%(v)s") % {"k": key, "v": str(value)[:40]}
        if passed:
            return gettext("凭证不在有效期内（%(k)s %(v)s）") % {"k": key, "v": value}
    return ""


def verify_run(command: BaseCommand, options: dict[str, Any]) -> int:

    if bool(options["bundle"]) != bool(options["policy"]):
        command.stderr.write(gettext("--bundle 和 --policy 须同时给出。"))
        return MALFORMED
    try:
        raw = _read(options["credential"])
        bundle = _read(options["bundle"]) if options["bundle"] else None
        policy = _read(options["policy"]) if options["policy"] else None
    except (OSError, ValueError) as exc:
        command.stderr.write(gettext("无法读取文件：%(e)s") % {"e": exc})
        return MALFORMED
    try:
        document = json.loads(raw)
    except ValueError as exc:
        command.stderr.write(gettext("凭证不是 JSON：%(e)s") % {"e": exc})
        return MALFORMED
    if isinstance(document, dict) and isinstance(document.get("credential"), dict):
        document = document["credential"]  # the API's answer, saved as is
    if not isinstance(document, dict):
        command.stderr.write(gettext("凭证不是 JSON 对象。"))
        return MALFORMED
    trusted = set(options["trust"])
    if not trusted:
        # On the platform's own machine its issuer keys are the default; anyone else (a using
        # department, an auditor offline) names the DIDs the platform published.
        try:
            trusted = vc.trusted_issuer_keys()
        except DatabaseError:
            command.stderr.write(
                gettext(
                    "没有本平台的数据库：请用 --trust 指定可信的签发方 DID"
                    "（由平台以 yiwang certificates issuer-keys 公布）。"
                )
            )
            return MALFORMED
    check = vc.credential_verify(document, trusted)
    for proof in check.proofs:
        state = gettext("通过") if proof.ok else gettext("未通过")
        command.stdout.write(f"{proof.cryptosuite}: {state} {proof.reason}".rstrip())
    if not check.ok:
        command.stderr.write(gettext("凭证签名无效：%(r)s") % {"r": check.reason})
        return INVALID
    period = validity_problem(document, datetime.now(UTC))
    if period:
        command.stderr.write(period)
        return INVALID
    if bundle is None or policy is None:
        command.stdout.write(gettext("凭证签名有效（未检查账本证明）。"))
        return VALID
    result = bundle_verify(bundle, policy, None)
    if not result.ok:
        command.stderr.write(f"{result.message} ({result.reason})")
        malformed = ("malformed", "too_large", "not_text", "bad_policy", "bad_checkpoint")
        return MALFORMED if result.reason in malformed else INVALID
    problem = bundle_commits_to(result.extra, document)
    if problem:
        command.stderr.write(problem)
        return INVALID
    command.stdout.write(
        gettext("有效：凭证已记入账本第 %(index)s 条，树大小 %(size)s，见证方 %(w)s")
        % {"index": result.index, "size": result.size, "w": ", ".join(result.cosigners) or "-"}
    )
    return VALID


def _no_arguments(parser: CommandParser) -> None:
    pass


def expire_run(command: BaseCommand, options: dict[str, Any]) -> int:

    command.stdout.write(gettext("已过期：%(n)s") % {"n": certificates_expire()})
    return VALID


def issuer_keys_run(command: BaseCommand, options: dict[str, Any]) -> int:
    for did in sorted(vc.trusted_issuer_keys()):
        command.stdout.write(did)
    return VALID


def bench_arguments(parser: CommandParser) -> None:
    parser.add_argument("--n", type=int, default=500)


def bench_run(command: BaseCommand, options: dict[str, Any]) -> int:
    rate = vc.credential_verify_benchmark(options["n"])
    command.stdout.write(f"credential verifications/s (eddsa-jcs-2022 + SM2 proofs): {rate:.0f}")
    return VALID


SUBCOMMANDS = {
    "verify": Subcommand(
        "verify a credential (and its bundle) offline", verify_arguments, verify_run
    ),
    "issuer-keys": Subcommand(
        "the issuer DIDs to publish (verifiers pass them as --trust)",
        _no_arguments,
        issuer_keys_run,
    ),
    "expire": Subcommand(
        "mark certificates past their validity expired", _no_arguments, expire_run
    ),
    "bench": Subcommand("credential verifications per second", bench_arguments, bench_run),
}


class Command(SubcommandCommand):
    help = "E-certificates: offline verification, expiry, benchmark."
    subcommands = SUBCOMMANDS
