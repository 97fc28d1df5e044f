"""``yiwang hotline train-classifier`` and ``yiwang hotline classify``."""

from __future__ import annotations

import csv
import io
import json
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from yiwang.hotline.classifier import classifier_load
from yiwang.hotline.tests.test_classifier import LIGHT, NOISE, ORDERS, WATER


def write_csv(path, rows, *, encoding="utf-8"):
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerows(rows)
    return path


def orders_csv(path, *, encoding="utf-8"):
    rows = [["标题", "内容", "类别"]]
    for label, texts in ORDERS.items():
        rows.extend([text[:6], text, label] for text in texts)
    return write_csv(path, rows, encoding=encoding)


def train(*args):
    out = io.StringIO()
    call_command("hotline", "train-classifier", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model")
    source = orders_csv(folder / "orders.csv")
    out = train(
        "--csv", str(source), "--text-cols", "标题,内容", "--label-col", "类别",
        "--out", str(folder / "model.bin"), "--test-size", "0.25",
    )  # fmt: skip
    return folder / "model.bin", out


def test_train_prints_held_out_metrics_and_writes_the_model(model):
    path, out = model

    lines = out.splitlines()
    assert lines[0].split() == ["类别", "precision", "recall", "F1", "support"]
    assert [line.split()[0] for line in lines[1:4]] == [WATER, LIGHT, NOISE]
    assert [line.split()[-1] for line in lines[1:4]] == ["3", "3", "3"]
    assert lines[4].startswith("macro-F1 ")
    assert lines[5] == "(trained on 27 rows, tested on 9 held-out rows)"
    assert lines[6] == f"已用全部 36 行训练模型（3 个类别），写入 {path}"
    clf = classifier_load(path)
    assert clf.header.n_samples == 36
    assert clf.labels == (WATER, LIGHT, NOISE)


def test_train_reads_gb18030_and_a_category_tree(tmp_path):
    source = orders_csv(tmp_path / "orders.csv", encoding="gb18030")
    tree = write_csv(
        tmp_path / "tree.csv",
        [["一级", "二级", "三级"], [NOISE, "大气污染", "雾霾"], ["教育", "学校", "学位"]],
    )

    train(
        "--csv", str(source), "--text-cols", "内容", "--label-col", "类别",
        "--hints-csv", str(tree), "--out", str(tmp_path / "m.bin"),
    )  # fmt: skip

    assert classifier_load(tmp_path / "m.bin").predict(["雾霾"])[0].label == NOISE


def classify(model_path, stdin, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    out = io.StringIO()
    call_command("hotline", "classify", "--model", str(model_path), stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_classify_writes_one_json_line_per_input_line(model, monkeypatch):
    path, _ = model

    stdin = "路灯坏了晚上看不见\n\n半夜施工噪音太吵\n停水\t家里停水了，没有通知\n"

    results = classify(path, stdin, monkeypatch)

    assert [r["label"] for r in results] == [LIGHT, None, NOISE, WATER]
    assert results[1] == {"label": None, "confidence": 0.0}
    assert all(0.5 < r["confidence"] <= 1 for r in results if r["label"])


def test_classify_keeps_chinese_readable(model, monkeypatch):
    path, _ = model
    monkeypatch.setattr(sys, "stdin", io.StringIO("家里停水了\n"))
    out = io.StringIO()

    call_command("hotline", "classify", "--model", str(path), stdout=out)

    assert out.getvalue().startswith('{"label": "供水", "confidence": 0.')


def test_classify_refuses_a_missing_model(tmp_path, monkeypatch):
    with pytest.raises(CommandError, match="cannot read model file"):
        classify(tmp_path / "none.bin", "路灯\n", monkeypatch)


def bad_input(tmp_path, rows, *, text_cols="内容", label_col="类别"):
    source = write_csv(tmp_path / "orders.csv", rows)
    out = tmp_path / "model.bin"
    with pytest.raises(CommandError) as raised:
        train(
            "--csv", str(source), "--text-cols", text_cols, "--label-col", label_col,
            "--out", str(out),
        )  # fmt: skip
    assert not out.exists()
    assert not (tmp_path / "model.bin.partial").exists()
    return str(raised.value)


def test_train_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match=r"无法读取文件 .*missing\.csv"):
        train(
            "--csv", str(tmp_path / "missing.csv"), "--text-cols", "内容", "--label-col", "类别",
            "--out", str(tmp_path / "m.bin"),
        )  # fmt: skip
    assert not (tmp_path / "m.bin").exists()


def test_train_refuses_an_unknown_column(tmp_path):
    rows = [["内容", "类别"], ["路灯坏了", LIGHT]]

    message = bad_input(tmp_path, rows, text_cols="标题,内容")

    assert message.endswith("orders.csv 中没有列：标题（现有列：内容、类别）")


def test_train_refuses_a_single_class(tmp_path):
    rows = [["内容", "类别"], ["路灯坏了", LIGHT], ["路灯不亮", LIGHT]]

    assert bad_input(tmp_path, rows).endswith("need at least 2 classes, got 1")


def test_train_refuses_a_class_with_one_row(tmp_path):
    rows = [["内容", "类别"], *([t, LIGHT] for t in ORDERS[LIGHT]), ["停水", WATER]]

    assert bad_input(tmp_path, rows).endswith("each class needs at least 2 texts; only one: 供水")


def test_train_refuses_empty_texts(tmp_path):
    rows = [["内容", "类别"], *([t, LIGHT] for t in ORDERS[LIGHT]), ["", WATER], ["停水", WATER]]

    assert bad_input(tmp_path, rows).endswith("1 empty texts (rows 13)")


def test_train_refuses_a_file_without_rows(tmp_path):
    assert bad_input(tmp_path, [["内容", "类别"]]).endswith("orders.csv 没有数据行")
