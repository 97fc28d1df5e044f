"""``yiwang ledger …``: exit 0 valid, 1 invalid, 2 malformed (message on stderr)."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from yiwang.ledger import merkle, selectors, services

LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657"]
ROOT7 = "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"


def _run(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("ledger", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_root_of_hex_leaves(tmp_path: Path) -> None:
    leaves = tmp_path / "leaves.txt"
    leaves.write_text("".join(x + "\n" for x in LEAVES))
    assert _run("root", "--leaves", str(leaves)) == (0, ROOT7 + "\n", "")
    leaves.write_text("")
    assert _run("root", "--leaves", str(leaves))[1] == merkle.EMPTY_ROOT.hex() + "\n"
    leaves.write_text("00\nzz\n")
    code, _out, err = _run("root", "--leaves", str(leaves))
    assert code == 2
    assert "第 2 行" in err
    assert _run("root", "--leaves", str(tmp_path / "absent"))[0] == 2


def test_root_as_a_subprocess(tmp_path: Path) -> None:
    leaves = tmp_path / "leaves.txt"
    leaves.write_text("\n".join(LEAVES) + "\n")
    done = subprocess.run(  # noqa: S603 - our own executable
        [str(Path(sys.executable).parent / "yiwang"), "ledger", "root", "--leaves", str(leaves)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (done.returncode, done.stdout.strip()) == (0, ROOT7)


def test_verify_inclusion_exit_codes() -> None:
    leaves = [merkle.leaf_hash(bytes.fromhex(x)) for x in LEAVES]
    proof = ",".join(h.hex() for h in merkle.inclusion_proof(5, 7, leaves))
    args = ["verify-inclusion", "--index", "5", "--size", "7", "--leaf-hash", leaves[5].hex()]
    assert _run(*args, "--root", ROOT7, "--proof", proof)[0] == 0
    assert _run(*args, "--root", leaves[0].hex(), "--proof", proof)[0] == 1
    assert _run(*args, "--root", ROOT7, "--proof", "")[0] == 1
    code, _out, err = _run(*args, "--root", ROOT7, "--proof", proof + ",xyz")
    assert code == 2
    assert "十六进制" in err
    assert _run(*args, "--root", ROOT7[:-2], "--proof", proof)[0] == 2
    single = ["--index", "0", "--size", "1", "--leaf-hash", leaves[0].hex()]
    assert _run("verify-inclusion", *single, "--root", leaves[0].hex(), "--proof", "")[0] == 0
    assert _run("verify-inclusion", *single, "--root", leaves[0].hex())[0] == 0
    bad_size = ["--index", "0", "--size", "-1", "--leaf-hash", leaves[0].hex()]
    assert _run("verify-inclusion", *bad_size, "--root", ROOT7)[0] == 2


def test_verify_consistency_exit_codes() -> None:
    leaves = [merkle.leaf_hash(bytes.fromhex(x)) for x in LEAVES]
    root3 = merkle.root(leaves[:3]).hex()
    proof = ",".join(h.hex() for h in merkle.consistency_proof(3, 7, leaves))
    args = ["verify-consistency", "--size1", "3", "--size2", "7", "--root1", root3]
    assert _run(*args, "--root2", ROOT7, "--proof", proof)[0] == 0
    assert _run(*args, "--root2", root3, "--proof", proof)[0] == 1
    assert _run(*args, "--root2", "00", "--proof", proof)[0] == 2
    same = ["--size1", "7", "--size2", "7", "--root1", ROOT7, "--root2", ROOT7, "--proof", ""]
    assert _run("verify-consistency", *same)[0] == 0


@pytest.mark.django_db
def test_audit_integrate_checkpoint_and_bundle(tmp_path: Path) -> None:
    with transaction.atomic():
        entries = [
            services.entry_append(kind="certificate.issue", subject=f"C{i}", payload={"i": i})
            for i in range(40)
        ]
    assert _run("integrate")[0] == 0
    code, out, _err = _run("checkpoint")
    assert code == 0
    assert out.startswith("ledger.yiwang.luan.example/v1\n40\n")
    assert _run("audit")[0] == 0

    bundle = selectors.entry_bundle(entries[9])
    assert bundle is not None
    (tmp_path / "b.txt").write_text(bundle)
    (tmp_path / "policy.txt").write_text(selectors.log_policy_text())
    policy = ["--policy", str(tmp_path / "policy.txt")]
    assert _run("verify-bundle", str(tmp_path / "b.txt"), *policy)[0] == 0
    (tmp_path / "leaf").write_bytes(b'{"forged":true}')
    forged = ["--leaf-input-file", str(tmp_path / "leaf")]
    assert _run("verify-bundle", str(tmp_path / "b.txt"), *policy, *forged)[0] == 1
    (tmp_path / "junk.txt").write_text("c2sp.org/tlog-proof@v1\nindex x\n")
    assert _run("verify-bundle", str(tmp_path / "junk.txt"), *policy)[0] == 2

    with connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_entry SET leaf_input = %s WHERE leaf_index = 5", [b"x"])
        cursor.execute("DELETE FROM ledger_entry WHERE leaf_index = 7")
    code, _out, err = _run("audit")
    assert code == 1
    assert "被篡改的条目序号：5" in err
    assert "缺失的条目序号：7" in err


@pytest.mark.django_db
def test_add_witness_refuses_a_malformed_key() -> None:
    code, _out, err = _run("add-witness", "--name", "w1", "--url", "http://x/", "--vkey", "nope")
    assert code == 2
    assert "验证公钥" in err
