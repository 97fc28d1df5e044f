"""Reply check and emergency detection of the 12345 hotline, measured on real text.

    .venv/bin/python bench/hotline_replies.py          # a few seconds, no server, no database

Reads, from $YIWANG_SHARED_DATA (else the repository's ../shared/data); evaluation only,
nothing is copied or learnt into the product:

- ``teddy2020c_replies.csv`` (2,816 citizen messages with the government's 答复意见):
  - ``reply_accept_real``: share of the real (message, reply) pairs that
    ``yiwang.hotline.reply_check.reply_check`` accepts (no problem). Most real replies are
    acceptable, but about one in ten is only a receipt or forwarding note ("已转相关部门调查处理"),
    which the check is meant to refuse, so 1.0 is not the goal; ``reply_accept_real_substantive``
    is the same share among the real replies not refused as empty, too short or boilerplate;
  - ``reply_reject_unrelated``: share of mismatched pairs (each message with the reply of
    another message, a fixed derangement) that the check refuses for any reason, and
    ``reply_unrelated_flag`` the share it refuses *as unrelated* among the mismatched pairs whose
    reply has substance (not refused as empty, too short or boilerplate);
  - ``reply_reject_boilerplate``: share of stock-phrase replies (``BOILERPLATE_REPLIES``, written
    here, combined with several greetings and sign-offs) that the check refuses;
  - ``reply_check_ms``: mean time of one ``reply_check`` call on the real pairs;
- ``citizen_messages_msgabench.csv`` and ``teddy2020c_labeled_messages.csv`` (ordinary citizen
  messages): ``emergency_flag_rate``, the share that ``emergency_detect`` flags (nearly all
  false positives: the flagged ones are printed for a human to judge), and
  ``emergency_flag_rate_hot_topic`` on ``teddy2020c_hot_topic_messages.csv``. That file was
  held out while the lexicon was first written (0.0046 flagged then: 20 of 4,326, mostly past
  events and figures of speech); the fixes that followed looked at it, so no blind figure is
  left: write new ordinary messages to measure the next change.

The thresholds in reply_check.py were chosen by looking at the replies file (its docstring
says so); the figures are therefore calibration figures, not blind ones.

The LAST line is machine-readable:

    reply_accept_real=0.xx reply_accept_real_substantive=0.xx reply_reject_unrelated=0.xx
    reply_unrelated_flag=0.xx reply_reject_boilerplate=0.xx reply_check_ms=0.xx
    emergency_flag_rate=0.xxxx emergency_flag_rate_hot_topic=0.xxxx

``hotline_reply_figures(data_dir)`` returns the same figures, for bench/hotline.py.
"""

from __future__ import annotations

import argparse
import collections
import csv
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import django  # noqa: E402
from django.apps import apps  # noqa: E402
from django.conf import settings  # noqa: E402

from yiwang.hotline.emergency import emergency_detect  # noqa: E402
from yiwang.hotline.reply_check import reply_check  # noqa: E402

SUBSTANCE_CODES = {"hotline.reply_empty", "hotline.reply_too_short", "hotline.reply_boilerplate"}

# Stock replies written for this benchmark: they acknowledge, forward or thank without saying
# anything about the request. Each is also tried with greetings and sign-offs around it.
BOILERPLATE_REPLIES = (
    "已收到",
    "正在处理",
    "感谢您的来信",
    "您好，您的诉求已收到，我们正在处理。",
    "您反映的问题已收悉，正在处理中，请耐心等待。",
    "感谢您的来信，我们会认真研究。",
    "来信收悉，已转交相关部门处理。",
    "您的留言已收悉，已转区住建局调查处理，如有情况将及时反馈。",
    "您好！您的工单我们已经收到，已交办街道办事处，处理结果将及时告知您。",
    "收到，已转有关单位核实处理，谢谢！",
    "您的问题我们已经知悉，将尽快处理，感谢您对我们工作的支持。",
    "感谢您对我们工作的关心和支持，您的意见我们已收到。",
    "您好，已收悉，我们高度重视，立即组织人员调查处理。",
    "此事正在调查处理中，请您耐心等待，感谢理解。",
    "您反映的情况已转交城管局，请关注后续回复。",
    "谢谢您的建议，我们会认真研究，欢迎继续监督我们的工作。",
)
GREETINGS = ("", "市民您好！", "尊敬的市民：您好，", "网友“张先生”：你好！")
SIGNOFFS = ("", "祝您生活愉快！", "特此回复。2024年3月5日", "感谢您对我们工作的理解和支持！")


def shared_data_dir() -> Path:
    folder = Path(os.environ.get("YIWANG_SHARED_DATA") or ROOT.parent / "shared" / "data")
    if not (folder / "teddy2020c_replies.csv").is_file():
        raise SystemExit(
            f"{folder}/teddy2020c_replies.csv is missing: set YIWANG_SHARED_DATA to the folder "
            "with the shared data"
        )
    return folder


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _rejected(request: str, reply: str) -> list[str]:
    return [p.code for p in reply_check(request_text=request, reply_text=reply)]


def reply_figures(data_dir: Path, *, verbose: bool = False) -> dict[str, float]:
    rows = [r for r in _read(data_dir / "teddy2020c_replies.csv") if r["答复意见"].strip()]
    requests = [f"{r['留言主题']}。{r['留言详情']}" for r in rows]
    replies = [r["答复意见"] for r in rows]

    codes: collections.Counter[str] = collections.Counter()
    accepted = 0
    with_substance = 0
    started = time.perf_counter()
    for request, reply in zip(requests, replies, strict=True):
        problems = _rejected(request, reply)
        codes.update(problems)
        accepted += not problems
        with_substance += not SUBSTANCE_CODES & set(problems)
    check_ms = (time.perf_counter() - started) * 1000 / len(rows)

    # A derangement: every message gets the reply of another message.
    order = list(range(len(rows)))
    random.Random(20200).shuffle(order)
    mismatched = [(i, order[(k + 1) % len(order)]) for k, i in enumerate(order)]
    rejected_unrelated = 0
    substantive = 0
    flagged_unrelated = 0
    for i, j in mismatched:
        problems = _rejected(requests[i], replies[j])
        rejected_unrelated += bool(problems)
        if not SUBSTANCE_CODES & set(problems):
            substantive += 1
            flagged_unrelated += "hotline.reply_unrelated" in problems

    stock = [g + b + s for b in BOILERPLATE_REPLIES for g in GREETINGS for s in SIGNOFFS]
    request = requests[0]
    rejected_stock = sum(bool(_rejected(request, reply)) for reply in stock)

    if verbose:
        print(f"real pairs: {len(rows)}, accepted {accepted}; problems: {dict(codes)}")
        print(
            f"mismatched pairs with substance: {substantive}, flagged unrelated {flagged_unrelated}"
        )
        print(f"stock replies: {len(stock)}, rejected {rejected_stock}")
    return {
        "reply_accept_real": accepted / len(rows),
        "reply_accept_real_substantive": accepted / max(1, with_substance),
        "reply_reject_unrelated": rejected_unrelated / len(mismatched),
        "reply_unrelated_flag": flagged_unrelated / max(1, substantive),
        "reply_reject_boilerplate": rejected_stock / len(stock),
        "reply_check_ms": check_ms,
    }


def _flag_rate(texts: list[str], *, verbose: bool, name: str) -> float:
    flagged = [(text, found) for text in texts if (found := emergency_detect(text))]
    if verbose:
        print(f"{name}: {len(flagged)} of {len(texts)} ordinary messages flagged")
        for text, found in flagged[:20]:
            at = text.find(found.matched)
            context = text[max(0, at - 40) : at + 30]
            print(f"  {found.kind} {found.number} «{found.matched}» …{context}…")
    return len(flagged) / len(texts)


def emergency_figures(data_dir: Path, *, verbose: bool = False) -> dict[str, float]:
    texts = [r["留言"] for r in _read(data_dir / "citizen_messages_msgabench.csv")]
    texts += [
        f"{r['留言主题']}。{r['留言详情']}"
        for r in _read(data_dir / "teddy2020c_labeled_messages.csv")
    ]
    hot_topic = [
        f"{r['留言主题']}。{r['留言详情']}"
        for r in _read(data_dir / "teddy2020c_hot_topic_messages.csv")
    ]
    return {
        "emergency_flag_rate": _flag_rate(texts, verbose=verbose, name="msgabench + teddy labeled"),
        "emergency_flag_rate_hot_topic": _flag_rate(
            hot_topic, verbose=verbose, name="teddy hot-topic"
        ),
    }


def _ensure_django() -> None:
    # Both modules are pure: gettext only needs settings to exist. A bare run configures minimal
    # settings; a caller that already set Django up (bench/hotline.py) keeps its own.
    if apps.ready:
        return
    if settings.configured:
        django.setup()
    else:
        settings.configure(USE_I18N=False)


def hotline_reply_figures(
    data_dir: Path | None = None, *, verbose: bool = False
) -> dict[str, float]:
    """All figures of this benchmark (the entry point for bench/hotline.py)."""
    _ensure_django()
    folder = data_dir or shared_data_dir()
    return reply_figures(folder, verbose=verbose) | emergency_figures(folder, verbose=verbose)


def format_line(figures: dict[str, float]) -> str:
    # Flag rates are small: four decimals keep one flag in ten thousand visible.
    return " ".join(
        f"{name}={value:.4f}" if name.startswith("emergency") else f"{name}={value:.2f}"
        for name, value in figures.items()
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", type=Path, help="shared data folder (default: $YIWANG_SHARED_DATA)"
    )
    args = parser.parse_args(argv)
    figures = hotline_reply_figures(args.data, verbose=True)
    print(format_line(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
