"""``yiwang hotline <subcommand>``: 12345 hotline tools.

    yiwang hotline train-classifier --csv FILE --text-cols COL[,COL] --label-col COL --out MODEL
                                    [--hints-csv TREE.csv] [--test-size 0.2] [--seed 0]
    yiwang hotline classify --model MODEL        (one text per line on stdin → JSON lines)
    yiwang hotline export-training --out FILE.csv [--since YYYY-MM-DD]
                                    (the city's own orders with their confirmed category)
    yiwang hotline register-model --name NAME --model MODEL [--threshold 0.8] [--activate]
    yiwang hotline use-model --name NAME         (switch the active classifier)

Each subcommand is one entry of ``SUBCOMMANDS``: a help line, a function adding its arguments
to its sub-parser, and a function running it (``run(command, options) -> exit code``). Add a
subcommand by adding a function pair and one entry; nothing else changes.
"""

from __future__ import annotations

import csv
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext

from yiwang.core.management.subcommands import Subcommand, SubcommandCommand
from yiwang.hotline.classifier import (
    ClassifierError,
    classifier_holdout_report,
    classifier_load,
    classifier_text,
    classifier_train,
)

CSV_ENCODINGS = ("utf-8-sig", "gb18030")  # utf-8-sig reads plain UTF-8 too


def read_csv(path: str) -> list[dict[str, str]]:
    """Rows of a CSV file with a header line, in UTF-8 (with or without BOM) or GB18030 (what
    Excel writes on a Chinese Windows)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CommandError(
            gettext("无法读取文件 %(path)s：%(error)s") % {"path": path, "error": exc.strerror}
        ) from exc
    for encoding in CSV_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        try:
            return list(csv.DictReader(text.splitlines(keepends=True)))
        except csv.Error as exc:
            raise CommandError(
                gettext("%(path)s 不是有效的 CSV 文件：%(error)s") % {"path": path, "error": exc}
            ) from exc
    raise CommandError(gettext("%(path)s 的编码既不是 UTF-8 也不是 GB18030") % {"path": path})


def _columns(rows: list[dict[str, str]], wanted: list[str], path: str) -> None:
    present = list(rows[0]) if rows else []
    missing = [c for c in wanted if c not in present]
    if missing:
        raise CommandError(
            gettext("%(path)s 中没有列：%(missing)s（现有列：%(present)s）")
            % {"path": path, "missing": "、".join(missing), "present": "、".join(present)}
        )


# --- train-classifier ----------------------------------------------------------------------


def train_arguments(parser: CommandParser) -> None:
    parser.add_argument("--csv", required=True, help="历史工单 CSV 文件（带表头）/ training CSV")
    parser.add_argument(
        "--text-cols",
        required=True,
        help="文本列，逗号分隔；多列时第一列为标题 / text columns, the first one the subject",
    )
    parser.add_argument("--label-col", required=True, help="类别列 / label column")
    parser.add_argument("--out", required=True, help="模型输出文件 / model file to write")
    parser.add_argument(
        "--hints-csv",
        help="类别目录 CSV：第一列为类别，其余列为子类名称 / category tree: label, sub-names…",
    )
    parser.add_argument(
        "--test-size",
        type=float,
        default=0.2,
        help="留出评估的比例（默认 0.2）/ held-out share for the report",
    )
    parser.add_argument("--seed", type=int, default=0, help="随机种子 / random seed")


def train_run(command: BaseCommand, options: dict[str, Any]) -> int:
    """Report per-class metrics on a held-out split, then train on every row and write the
    model. Nothing is written when the input is unusable."""
    path = options["csv"]
    text_cols = [c.strip() for c in options["text_cols"].split(",") if c.strip()]
    label_col = options["label_col"]
    if not text_cols:
        raise CommandError(gettext("--text-cols 不能为空"))
    rows = read_csv(path)
    if not rows:
        raise CommandError(gettext("%(path)s 没有数据行") % {"path": path})
    _columns(rows, [*text_cols, label_col], path)
    texts = [_row_text(row, text_cols) for row in rows]
    labels = [(row[label_col] or "").strip() for row in rows]
    hints = _read_hints(options["hints_csv"], set(labels)) if options["hints_csv"] else None
    try:
        report = classifier_holdout_report(
            texts=texts,
            labels=labels,
            test_size=options["test_size"],
            seed=options["seed"],
            hints=hints,
        )
        command.stdout.write(report.table())
        clf = classifier_train(texts=texts, labels=labels, hints=hints, seed=options["seed"])
    except ClassifierError as exc:
        raise CommandError(gettext("%(path)s：%(error)s") % {"path": path, "error": exc}) from exc
    try:
        clf.save(options["out"])
    except OSError as exc:
        raise CommandError(
            gettext("无法写入模型文件 %(path)s：%(error)s")
            % {"path": options["out"], "error": exc.strerror}
        ) from exc
    command.stdout.write(
        gettext("已用全部 %(rows)s 行训练模型（%(classes)s 个类别），写入 %(path)s")
        % {"rows": len(texts), "classes": len(clf.labels), "path": options["out"]}
    )
    return 0


def _row_text(row: dict[str, str], columns: list[str]) -> str:
    values = [(row[c] or "").strip() for c in columns]
    if len(values) == 1:
        return values[0]
    return classifier_text(subject=values[0], body=" ".join(v for v in values[1:] if v))


def _read_hints(path: str, labels: set[str]) -> dict[str, list[str]]:
    """First column the label; the other columns of a row joined as one phrase. Rows of labels
    absent from the training data are skipped (a tree usually covers more than the data)."""
    hints: dict[str, list[str]] = defaultdict(list)
    for row in read_csv(path):
        values = [(v or "").strip() for v in row.values() if isinstance(v, str)]
        if len(values) >= 2 and values[0] in labels:
            phrase = " ".join(v for v in values[1:] if v)
            if phrase:
                hints[values[0]].append(phrase)
    return dict(hints)


# --- classify ------------------------------------------------------------------------------


def classify_arguments(parser: CommandParser) -> None:
    parser.add_argument("--model", required=True, help="train-classifier 写出的模型 / model file")


def classify_run(command: BaseCommand, options: dict[str, Any]) -> int:
    """One JSON object per input line: ``{"label": …, "confidence": …}``; a blank line gets
    ``{"label": null, "confidence": 0.0}``. A tab in a line separates subject and body."""
    try:
        clf = classifier_load(options["model"])
    except ClassifierError as exc:
        raise CommandError(str(exc)) from exc
    for line in sys.stdin:
        text = line.rstrip("\r\n")
        if not text.strip():
            result: dict[str, Any] = {"label": None, "confidence": 0.0}
        else:
            prediction = clf.predict([text])[0]
            result = {"label": prediction.label, "confidence": round(prediction.confidence, 4)}
        command.stdout.write(json.dumps(result, ensure_ascii=False))
    return 0


# --- the city's own training data, the active model -----------------------------------------


def export_arguments(parser: CommandParser) -> None:
    parser.add_argument("--out", required=True, help="CSV 输出文件 / output CSV")
    parser.add_argument("--since", help="只导出该日期之后登记的工单 / YYYY-MM-DD")


def export_run(command: BaseCommand, options: dict[str, Any]) -> int:
    """标题, 内容, 分类: every order whose category a person confirmed (dispatchers'
    corrections included), ready for ``train-classifier --text-cols 标题,内容 --label-col 分类``."""
    from datetime import date, datetime, time

    from yiwang.core.calendar import SHANGHAI
    from yiwang.hotline.selectors import training_rows

    since = None
    if options.get("since"):
        try:
            since = datetime.combine(date.fromisoformat(options["since"]), time.min, SHANGHAI)
        except ValueError as exc:
            raise CommandError(gettext("--since 须为 YYYY-MM-DD 格式的日期。")) from exc
    out = Path(options["out"])
    tmp = out.with_name(out.name + ".part")
    count = 0
    with tmp.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["标题", "内容", "分类"])
        for title, content, code in training_rows(since=since):
            writer.writerow([title, content, code])
            count += 1
    tmp.replace(out)  # a crash leaves no half-written file under the real name
    command.stdout.write(gettext("已导出 %(n)d 条工单到 %(f)s") % {"n": count, "f": out})
    return 0


def register_arguments(parser: CommandParser) -> None:
    parser.add_argument("--name", required=True, help="模型名称 / model name")
    parser.add_argument("--model", required=True, help="train-classifier 写出的模型 / model file")
    parser.add_argument("--threshold", type=float, default=0.8, help="自动派单置信度")
    parser.add_argument("--activate", action="store_true", help="登记后立即启用")


def register_run(command: BaseCommand, options: dict[str, Any]) -> int:
    from yiwang.core.errors import DomainError
    from yiwang.hotline.services import classifier_activate, classifier_register

    actor = "cli:hotline"
    try:
        row = classifier_register(
            name=options["name"],
            path=str(Path(options["model"]).resolve()),
            actor=actor,
            threshold=options["threshold"],
        )
        if options["activate"]:
            classifier_activate(model=row, actor=actor)
    except DomainError as exc:
        raise CommandError(str(exc.message)) from exc
    state = gettext("已启用") if options["activate"] else gettext("未启用")
    command.stdout.write(
        gettext("已登记分类模型 %(n)s（%(k)d 类，%(s)s）")
        % {"n": row.name, "k": len(row.labels), "s": state}
    )
    return 0


def use_arguments(parser: CommandParser) -> None:
    parser.add_argument("--name", required=True, help="模型名称 / model name")


def use_run(command: BaseCommand, options: dict[str, Any]) -> int:
    from yiwang.hotline.models import ClassifierModel
    from yiwang.hotline.services import classifier_activate

    row = ClassifierModel.objects.filter(name=options["name"]).first()
    if row is None:
        raise CommandError(gettext("没有名为 %s 的分类模型。") % options["name"])
    classifier_activate(model=row, actor="cli:hotline")
    command.stdout.write(gettext("已启用分类模型 %s") % row.name)
    return 0


# --- the command ---------------------------------------------------------------------------


SUBCOMMANDS: dict[str, Subcommand] = {
    "train-classifier": Subcommand(
        help="用历史工单训练分类模型并报告留出集指标 / train the work-order classifier",
        add_arguments=train_arguments,
        run=train_run,
    ),
    "classify": Subcommand(
        help="逐行读取文本，输出类别和置信度（JSON 行）/ classify stdin lines to JSON lines",
        add_arguments=classify_arguments,
        run=classify_run,
    ),
    "export-training": Subcommand(
        help="导出已确认分类的工单作为训练数据 / export confirmed orders as training data",
        add_arguments=export_arguments,
        run=export_run,
    ),
    "register-model": Subcommand(
        help="登记训练好的模型文件 / register a trained model file",
        add_arguments=register_arguments,
        run=register_run,
    ),
    "use-model": Subcommand(
        help="切换启用的分类模型 / switch the active classifier",
        add_arguments=use_arguments,
        run=use_run,
    ),
}


class Command(SubcommandCommand):
    help = "12345热线工具 / hotline tools: " + ", ".join(SUBCOMMANDS)
    subcommands = SUBCOMMANDS
