"""Hotline work-order classifier benchmark: quality on real citizen messages, and speed.

    .venv/bin/python bench/hotline_classifier.py            # ~3 minutes on 2 cores
    .venv/bin/python bench/hotline_classifier.py --cv-train # also msga CV inside split=train

Data from $YIWANG_SHARED_DATA (default: ../shared/data next to the repository), evaluation only:
nothing trained here is kept.

1. teddy: teddy2020c_labeled_messages.csv, 留言主题 (subject) + 留言详情 (body) → 一级分类
   (7 classes, 495 rows), macro-F1 averaged over 5×5 repeated stratified cross-validation
   (seed 0). ``teddy_macro_f1`` trains with the category tree teddy2020c_taxonomy.csv as hints
   (each first-level class gets its second- and third-level names as extra short documents, as
   a city would pass its own hotline category tree); ``teddy_text_only_macro_f1`` without.
   Every fold trains as production does (``classifier_train`` with its calibration: the
   cross-validated mix, class offsets and temperature are fitted inside the fold's training
   part). Knobs were compared with folds of seed 1 (``teddy_cv_macro_f1(..., seed=1)``), never
   with the seed 0 folds reported here.
2. msga: citizen_messages_msgabench.csv 留言 → 问题领域 (13 classes), trained on split=train,
   macro-F1 on split=test, scored once. The model's knobs (ClassifierParams defaults) were chosen
   by 5-fold cross-validation on the train split only (seed 0; msga texts have no subject, so
   the subject knobs tuned on teddy do not touch them); ``--cv-train`` reruns that scoring.
3. speed: the msga model classifies each of the first 300 test messages alone (one
   ``predict([text])`` call each, after one warm-up call); ``classify_ms`` is the median.

The LAST line is machine-readable:

    teddy_macro_f1=0.xxx msga_macro_f1=0.xxx classify_ms=0.xx teddy_text_only_macro_f1=0.xxx

Goals (hotline issue): teddy ≥ 0.88 (baseline 0.80), msga ≥ 0.70 (baseline 0.53),
classify_ms < 2. The script prints figures; it asserts none.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from yiwang.hotline.classifier import (  # noqa: E402
    ClassifierParams,
    TextClassifier,
    classifier_text,
    classifier_train,
)

TEDDY = "teddy2020c_labeled_messages.csv"
TEDDY_TAXONOMY = "teddy2020c_taxonomy.csv"
MSGA = "citizen_messages_msgabench.csv"


class BenchError(Exception):
    pass


def shared_data() -> Path:
    return Path(os.environ.get("YIWANG_SHARED_DATA") or ROOT.parent / "shared" / "data")


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise BenchError(f"{path} is missing: set YIWANG_SHARED_DATA to the shared data folder")
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def teddy_data(path: Path) -> tuple[list[str], list[str]]:
    rows = _rows(path)
    texts = [classifier_text(subject=r["留言主题"], body=r["留言详情"]) for r in rows]
    return texts, [r["一级分类"] for r in rows]


def teddy_hints(path: Path, labels: set[str]) -> dict[str, list[str]]:
    """Category tree rows (一级, 二级, 三级) → {一级: ["二级 三级", …]} for the labels present."""
    hints: dict[str, list[str]] = defaultdict(list)
    for r in _rows(path):
        if r["一级分类"] in labels:
            hints[r["一级分类"]].append(f"{r['二级分类']} {r['三级分类']}")
    return dict(hints)


def teddy_cv_macro_f1(
    path: Path | str,
    *,
    taxonomy: Path | str | None = None,
    repeats: int = 5,
    params: ClassifierParams | None = None,
    seed: int = 0,
) -> float:
    """Mean macro-F1 over 5×``repeats`` repeated stratified cross-validation. The bench reports
    ``seed`` 0; knobs were chosen with seed 1 (other folds), so the figure is not the one they
    were tuned on."""
    texts, labels = teddy_data(Path(path))
    hints = teddy_hints(Path(taxonomy), set(labels)) if taxonomy else None
    y = np.array(labels)
    scores = []
    folds = RepeatedStratifiedKFold(n_splits=5, n_repeats=repeats, random_state=seed)
    for train, test in folds.split(texts, y):
        clf = classifier_train(
            texts=[texts[i] for i in train],
            labels=list(y[train]),
            hints=hints,
            params=params,
        )
        predicted = [p.label for p in clf.predict([texts[i] for i in test])]
        scores.append(f1_score(y[test], predicted, average="macro"))
    return float(np.mean(scores))


def msga_data(path: Path, split: str) -> tuple[list[str], list[str]]:
    rows = [r for r in _rows(path) if r["split"] == split]
    return [r["留言"] for r in rows], [r["问题领域"] for r in rows]


def msgabench_model(path: Path | str, params: ClassifierParams | None = None) -> TextClassifier:
    texts, labels = msga_data(Path(path), "train")
    return classifier_train(texts=texts, labels=labels, params=params)


def msgabench_macro_f1(path: Path | str, clf: TextClassifier | None = None) -> float:
    """Macro-F1 on split=test of a model trained on split=train."""
    clf = clf or msgabench_model(path)
    texts, labels = msga_data(Path(path), "test")
    predicted = [p.label for p in clf.predict(texts)]
    return float(f1_score(labels, predicted, average="macro"))


def msgabench_cv_train(
    path: Path | str, params: ClassifierParams | None = None, seed: int = 0
) -> float:
    """5-fold stratified cross-validation macro-F1 inside split=train (for choosing knobs)."""
    texts, labels = msga_data(Path(path), "train")
    y = np.array(labels)
    scores = []
    for train, test in StratifiedKFold(5, shuffle=True, random_state=seed).split(texts, y):
        clf = classifier_train(
            texts=[texts[i] for i in train], labels=list(y[train]), params=params
        )
        predicted = [p.label for p in clf.predict([texts[i] for i in test])]
        scores.append(f1_score(y[test], predicted, average="macro"))
    return float(np.mean(scores))


def classify_ms(clf: TextClassifier, texts: Sequence[str]) -> float:
    """Median milliseconds of one ``predict([text])`` call per text (after one warm-up)."""
    clf.predict([texts[0]])
    times = []
    for text in texts:
        started = time.perf_counter()
        clf.predict([text])
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="teddy CV repeats (default 5)")
    parser.add_argument(
        "--cv-train", action="store_true", help="also print msga 5-fold CV on split=train"
    )
    args = parser.parse_args(argv)
    data = shared_data()
    try:
        started = time.perf_counter()
        teddy = teddy_cv_macro_f1(
            data / TEDDY, taxonomy=data / TEDDY_TAXONOMY, repeats=args.repeats
        )
        teddy_plain = teddy_cv_macro_f1(data / TEDDY, repeats=args.repeats)
        print(
            f"teddy 5x{args.repeats} CV: macro-F1 {teddy:.3f} with category-tree hints, "
            f"{teddy_plain:.3f} text only ({time.perf_counter() - started:.0f} s)"
        )
        if args.cv_train:
            print(f"msga 5-fold CV on split=train: macro-F1 {msgabench_cv_train(data / MSGA):.3f}")
        started = time.perf_counter()
        clf = msgabench_model(data / MSGA)
        msga = msgabench_macro_f1(data / MSGA, clf)
        print(f"msga train→test: macro-F1 {msga:.3f} ({time.perf_counter() - started:.0f} s)")
        test_texts, _ = msga_data(data / MSGA, "test")
        ms = classify_ms(clf, test_texts[:300])
        print(f"classify one message: median {ms:.2f} ms over 300 messages")
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"teddy_macro_f1={teddy:.3f} msga_macro_f1={msga:.3f} classify_ms={ms:.2f} "
        f"teddy_text_only_macro_f1={teddy_plain:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
