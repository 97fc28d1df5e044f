"""The work-order classifier on invented orders (the real data is measured by
bench/hotline_classifier.py, never in tests)."""

from __future__ import annotations

import copy
import io
import json
import logging

import joblib
import numpy as np
import pytest
import sklearn
from sklearn.metrics import f1_score

from yiwang.hotline import classifier as classifier_module
from yiwang.hotline.classifier import (
    FORMAT_VERSION,
    ClassifierError,
    ClassifierParams,
    Prediction,
    _two_columns,
    classifier_holdout_report,
    classifier_load,
    classifier_metrics,
    classifier_text,
    classifier_train,
    normalise,
    words,
)

LIGHT = "城乡建设"
NOISE = "环境保护"
WATER = "供水"

ORDERS = {
    LIGHT: [
        "小区门口的路灯坏了一个多月，晚上漆黑一片",
        "幸福路的路灯一直不亮，请尽快维修",
        "人行道路灯杆倾斜，存在安全隐患",
        "路灯白天亮着晚上反而不亮，浪费电",
        "我们村的主干道没有路灯，夜里走路很危险",
        "路灯线路老化，经常闪烁，希望更换",
        "公园里的景观灯和路灯都坏了，无人维修",
        "路口的路灯被车撞倒了还没有修复",
        "小区内路灯损坏，物业推给市政，市政推给物业",
        "新修的道路为什么不安装路灯",
        "路灯灯罩掉落，差点砸到行人",
        "桥上的路灯全部熄灭，请有关部门处理",
    ],
    NOISE: [
        "楼下烧烤店深夜噪音扰民，无法入睡",
        "工地夜间施工噪音太大，严重影响休息",
        "广场舞音响声音太大，噪音扰民",
        "酒吧每天凌晨还在放音乐，噪声很大",
        "附近工厂排放废气，空气刺鼻难闻",
        "河道里有人偷排污水，水面发黑发臭",
        "KTV噪音严重超标，投诉多次无人管",
        "搅拌站粉尘污染严重，窗户都不敢开",
        "夜里渣土车噪音大，还有扬尘污染",
        "商铺门口大喇叭整天叫卖，噪音扰民",
        "垃圾焚烧的浓烟污染环境，气味难闻",
        "装修电钻噪音从早到晚，严重扰民",
    ],
    WATER: [
        "我家自来水停水三天了，没有任何通知",
        "自来水发黄有异味，不敢饮用",
        "小区水压太低，高楼层经常没水",
        "水表坏了，水费突然翻了好几倍",
        "街上的供水管道爆裂，水流了一地",
        "停水为什么不提前通知居民",
        "自来水浑浊，里面有泥沙",
        "供水公司抄表不准，多收水费",
        "二次供水水箱很久没有清洗，水质堪忧",
        "早上六点到九点总是停水，影响上班",
        "新房一直没有通自来水，无法入住",
        "水管漏水找供水公司，一直没人来修",
    ],
}


def dataset() -> tuple[list[str], list[str]]:
    texts = [text for texts in ORDERS.values() for text in texts]
    labels = [label for label, texts in ORDERS.items() for _ in texts]
    return texts, labels


@pytest.fixture(scope="module")
def clf():
    texts, labels = dataset()
    return classifier_train(texts=texts, labels=labels, seed=0)


def test_predicts_the_topic_of_new_orders(clf):
    predictions = clf.predict(["路灯坏了晚上看不见", "半夜施工噪音太吵", "家里停水了", "  "])

    assert [p.label for p in predictions] == [LIGHT, NOISE, WATER, ""]
    assert all(0.5 < p.confidence <= 1 for p in predictions[:3])
    assert predictions[3] == Prediction("", 0.0)
    assert clf.labels == (WATER, LIGHT, NOISE)  # sorted, as scikit-learn orders classes


def test_probabilities_are_a_distribution_and_confidence_is_the_largest(clf):
    texts = ["路灯坏了", "噪音扰民", "停水", "你好"]

    probabilities = clf.probabilities(texts)
    predictions = clf.predict(texts)

    assert probabilities.shape == (4, 3)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert [p.confidence for p in predictions] == pytest.approx(probabilities.max(axis=1))


def test_an_order_about_nothing_learnt_gets_a_low_confidence(clf):
    [known] = clf.predict(["小区路灯不亮，晚上漆黑"])
    [unknown] = clf.predict(["请问社保卡丢了怎么补办"])

    assert unknown.confidence < known.confidence


def test_fast_scoring_equals_scikit_learn(clf):
    model = clf._model
    texts = ["小区门口路灯坏了", "烧烤店噪音扰民", "没有一个认识的字 xyz"]

    fast = model.decision_function(texts)
    chars = _two_columns(model.svm.decision_function(model.char_tfidf.transform(texts)))
    nb = model.nb.predict_log_proba(model.word_tfidf.transform(texts))
    centred = [s - s.mean(axis=1, keepdims=True) for s in (chars, nb)]
    slow = (
        centred[0] / model.scales[0]
        + model.nb_weight * centred[1] / model.scales[1]
        + model.offsets
    )

    assert np.allclose(fast, slow, atol=1e-6)


def test_subject_counts_more_than_the_body():
    text = classifier_text(subject="路灯 不亮", body="我家\n住在  三楼 ** 号，电话 13800000000")

    assert text == "路灯 不亮\t我家 住在 三楼 ** 号，电话 13800000000"
    assert normalise(text) == "路灯 不亮 路灯 不亮 路灯 不亮 我家 住在 三楼 ※ 号，电话 0"
    assert normalise("x" * 500) == "x" * classifier_module.BODY_CHARS_ALONE
    assert normalise(classifier_text(subject="路灯", body="x" * 500)) == " ".join(
        ["路灯"] * 3 + ["x" * classifier_module.BODY_CHARS]
    )


def test_words_are_jieba_words_without_punctuation():
    assert words("小区路灯坏了！") == ("小区", "路灯", "坏", "了")


def test_jieba_loads_once_and_quietly():
    first = classifier_module._jieba()

    assert classifier_module._jieba() is first
    assert logging.getLogger("jieba").level == logging.WARNING


def test_two_classes_work():
    texts = ORDERS[LIGHT] + ORDERS[WATER]
    labels = [LIGHT] * 12 + [WATER] * 12

    clf = classifier_train(texts=texts, labels=labels)
    predictions = clf.predict(["路灯一直不亮", "自来水停水"])

    assert [p.label for p in predictions] == [LIGHT, WATER]
    assert all(p.confidence > 0.5 for p in predictions)


def test_save_and_load_round_trip(clf, tmp_path):
    path = tmp_path / "model.bin"
    texts = ["路灯坏了", "噪音扰民", "自来水有异味"]

    clf.save(path)
    loaded = classifier_load(path)

    assert loaded.predict(texts) == clf.predict(texts)
    assert loaded.header == clf.header
    assert loaded.header.n_samples == 36
    assert loaded.header.format_version == FORMAT_VERSION
    header = json.loads(path.read_bytes().split(b"\n", 1)[0])
    assert header["labels"] == [WATER, LIGHT, NOISE]
    assert header["sklearn_version"] == sklearn.__version__
    assert not (tmp_path / "model.bin.partial").exists()


def test_another_format_version_is_refused(clf, tmp_path):
    path = tmp_path / "model.bin"
    clf.save(path)
    first, rest = path.read_bytes().split(b"\n", 1)
    header = json.loads(first)
    header["format_version"] = FORMAT_VERSION + 1
    path.write_bytes(json.dumps(header).encode() + b"\n" + rest)

    with pytest.raises(
        ClassifierError, match="model format version 4, this yiwang reads versions 1, 2, 3"
    ):
        classifier_load(path)


def test_a_format_1_model_still_loads_and_scores_without_offsets(clf, tmp_path):
    # A format 1 file: the header says 1 and the pickled ensemble has no offsets.
    path = tmp_path / "model.bin"
    clf.save(path)
    first, _ = path.read_bytes().split(b"\n", 1)
    header = json.loads(first)
    header["format_version"] = 1
    old = copy.copy(clf._model)
    del old.__dict__["offsets"]
    buffer = io.BytesIO()
    joblib.dump({"model": old, "temperature": 1.0}, buffer)
    path.write_bytes(json.dumps(header).encode() + b"\n" + buffer.getvalue())
    texts = ["路灯坏了", "噪音扰民", "自来水有异味"]

    loaded = classifier_load(path)

    assert loaded.header.format_version == 1
    assert loaded._model.offsets.tolist() == [0.0, 0.0, 0.0]
    svm, nb, _ = clf._model.components(texts)
    assert np.allclose(
        loaded._model.decision_function(texts), svm + clf._model.nb_weight * nb, atol=1e-9
    )


HINTS = {
    WATER: ["水质 二次供水", "管网 爆管 抢修", "其他 其他"],
    NOISE: ["大气污染 雾霾", "噪声 工业噪声", "其他 其他"],
    LIGHT: ["市政设施 井盖", "其他 其他"],
}


@pytest.fixture(scope="module")
def hinted():
    texts, labels = dataset()
    return classifier_train(texts=texts, labels=labels, hints=HINTS, seed=0)


def test_a_format_2_model_still_loads_and_scores_without_the_hint_matcher(hinted, tmp_path):
    # A format 2 file: the pickled ensemble predates the hint matcher's attributes.
    path = tmp_path / "model.bin"
    hinted.save(path)
    first, _ = path.read_bytes().split(b"\n", 1)
    header = json.loads(first)
    header["format_version"] = 2
    old = copy.copy(hinted._model)
    for name in ("use_matcher", "match_tfidf", "match_matrix", "match_weight", "match_scale"):
        del old.__dict__[name]
    buffer = io.BytesIO()
    joblib.dump({"model": old, "temperature": 1.0}, buffer)
    path.write_bytes(json.dumps(header).encode() + b"\n" + buffer.getvalue())
    texts = ["路灯坏了", "雾霾严重", "自来水有异味"]

    loaded = classifier_load(path)

    assert loaded.header.format_version == 2
    assert loaded._model.match_tfidf is None
    svm, nb, match = hinted._model.components(texts)
    assert np.abs(match).max() > 0.1  # the new model does use its matcher
    model = hinted._model
    assert np.allclose(
        loaded._model.decision_function(texts),
        svm + model.nb_weight * nb + model.offsets,
        atol=1e-9,
    )
    assert loaded._model.components(texts)[2].tolist() == [[0.0, 0.0, 0.0]] * 3


def test_the_hint_matcher_scores_as_scikit_learn(hinted):
    model = hinted._model
    texts = ["工业噪声和雾霾", "二次供水水质差", "井盖丢了", "没有一个认识的字 xyz"]

    _, _, fast = model.components(texts)
    slow = (model.match_tfidf.transform(texts) @ model.match_matrix.T).astype(np.float64)

    assert np.allclose(fast, (slow - slow.mean(axis=1, keepdims=True)) / model.match_scale)
    assert fast[3].tolist() == [0.0, 0.0, 0.0]  # nothing in common with any hint


def test_the_hint_matcher_names_the_category_of_a_hint_word(hinted):
    # 井盖 is in no order, only in the hints of LIGHT; 其他 is in every label's hints
    _, _, match = hinted._model.components(["井盖", "其他"])
    columns = list(hinted.labels)

    assert int(match[0].argmax()) == columns.index(LIGHT)
    assert match[0, columns.index(LIGHT)] > 1.0
    assert np.abs(match[1]).max() < np.abs(match[0]).max() / 2


def test_calibration_fits_the_weight_of_the_hint_matcher(hinted):
    texts, labels = dataset()
    off = classifier_train(
        texts=texts, labels=labels, hints=HINTS, params=ClassifierParams(hint_match=False)
    )

    assert hinted._model.match_weight in classifier_module.MATCH_WEIGHTS
    assert hinted._model.match_tfidf is not None
    assert off._model.match_tfidf is None
    assert off._model.match_weight == 1.0  # unused: its scores are zero
    assert off._model.components(["井盖"])[2].tolist() == [[0.0, 0.0, 0.0]]


def test_calibration_fits_the_mix_and_the_class_offsets(clf):
    texts, labels = dataset()
    plain = classifier_train(texts=texts, labels=labels, seed=0, calibrate=False)

    assert plain._model.offsets.tolist() == [0.0, 0.0, 0.0]
    assert plain._model.nb_weight == 1.0
    assert clf._model.nb_weight in classifier_module.NB_WEIGHTS
    assert clf._model.offsets.shape == (3,)
    assert set(clf._model.offsets.round(6).tolist()) <= set(
        classifier_module.OFFSET_STEPS.round(6).tolist()
    )


def test_class_offsets_lift_an_under_predicted_small_class():
    # Class 1 (two rows of ten) always scores a little below class 0: without an offset it
    # is never predicted.
    truth = np.array([0] * 8 + [1] * 2)
    scores = np.zeros((10, 2))
    scores[:, 0] = 1.0
    scores[:8, 1] = 0.2
    scores[8:, 1] = 0.8

    offsets = classifier_module._fit_offsets(scores, truth)

    assert classifier_module._macro_f1(truth, scores.argmax(axis=1)) == pytest.approx(8 / 9 / 2)
    assert classifier_module._macro_f1(truth, (scores + offsets).argmax(axis=1)) == 1.0
    assert offsets[1] - offsets[0] > 0.2


def test_offsets_are_kept_only_where_they_gain_on_rows_they_were_not_fitted_on():
    # Class 1 (ten rows of fifty): half of its rows score a little below class 0. An offset
    # fitted on either half of the rows lifts them in the other half too.
    truth = np.array([0] * 40 + [1] * 10)
    under = np.zeros((50, 2))
    under[:40, 0] = 1.0
    under[40:45, 1] = 1.0
    under[45:, 0] = 0.3
    # Scores that already separate the classes: no offset gains anything anywhere.
    separated = np.zeros((50, 2))
    separated[:40, 0] = 1.0
    separated[40:, 1] = 1.0

    assert classifier_module._offsets_generalise(under, truth, seed=0) is True
    assert classifier_module._offsets_generalise(separated, truth, seed=0) is False


def test_fast_macro_f1_equals_scikit_learn():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 5, 200)
    predicted = np.where(rng.random(200) < 0.6, truth, rng.integers(0, 6, 200))
    present = sorted(set(truth.tolist()))

    expected = f1_score(truth, predicted, labels=present, average="macro")

    assert classifier_module._macro_f1(truth, predicted) == pytest.approx(expected)


def test_a_file_that_is_no_model_is_refused(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(b"\x80\x04not a model")

    with pytest.raises(ClassifierError, match="is not a hotline classifier model file"):
        classifier_load(path)
    with pytest.raises(ClassifierError, match="cannot read model file"):
        classifier_load(tmp_path / "missing.bin")


@pytest.mark.parametrize(
    ("texts", "labels", "message"),
    [
        (["路灯坏了", "路灯不亮"], [LIGHT, LIGHT], "need at least 2 classes, got 1"),
        (
            ["路灯坏了", "路灯不亮", "停水"],
            [LIGHT, LIGHT, WATER],
            "each class needs at least 2 texts; only one: 供水",
        ),
        (
            ["路灯坏了", " ", "停水", "水黄"],
            [LIGHT, LIGHT, WATER, WATER],
            r"1 empty texts \(rows 2\)",
        ),
        (
            ["路灯坏了", "路灯", "停水", "水黄"],
            [LIGHT, "", WATER, WATER],
            "1 texts without a label",
        ),
        (["路灯坏了"], [LIGHT, WATER], "1 texts but 2 labels"),
        (["甲", "乙", "丙", "丁"], [LIGHT, LIGHT, WATER, WATER], "too little in common"),
    ],
)
def test_unusable_training_input_is_refused(texts, labels, message):
    with pytest.raises(ClassifierError, match=message):
        classifier_train(texts=texts, labels=labels)


def test_hints_must_name_labels_of_the_data():
    texts, labels = dataset()

    with pytest.raises(ClassifierError, match="hints for labels not in the data: 教育"):
        classifier_train(texts=texts, labels=labels, hints={"教育": ["学校"]})


def test_hints_teach_words_the_orders_never_use():
    texts, labels = dataset()
    hints = {WATER: ["水质 二次供水", "管网 爆管 抢修"], NOISE: ["大气污染 雾霾", "噪声 工业噪声"]}
    noise = [WATER, LIGHT, NOISE].index(NOISE)

    without = classifier_train(texts=texts, labels=labels, calibrate=False)
    with_hints = classifier_train(texts=texts, labels=labels, hints=hints, calibrate=False)

    assert with_hints.predict(["雾霾"])[0].label == NOISE
    assert (
        with_hints.probabilities(["雾霾"])[0, noise]
        > without.probabilities(["雾霾"])[0, noise] + 0.2
    )


def test_holdout_report_scores_the_held_out_part():
    texts, labels = dataset()

    report = classifier_holdout_report(texts=texts, labels=labels, test_size=0.25, seed=0)

    assert (report.n_train, report.n_test) == (27, 9)
    assert [c.label for c in report.classes] == [WATER, LIGHT, NOISE]
    assert [c.support for c in report.classes] == [3, 3, 3]
    assert report.macro_f1 == pytest.approx(np.mean([c.f1 for c in report.classes]))
    assert report.macro_f1 > 0.6
    table = report.table().splitlines()
    assert table[0].split() == ["类别", "precision", "recall", "F1", "support"]
    assert table[-2].startswith("macro-F1 ")


def test_holdout_report_refuses_a_split_with_too_few_rows():
    texts = ["路灯坏了", "路灯不亮", "停水", "水黄"]
    labels = [LIGHT, LIGHT, WATER, WATER]

    with pytest.raises(ClassifierError, match="too few to hold out 20% with 2 classes"):
        classifier_holdout_report(texts=texts, labels=labels)


def test_metrics_per_class():
    report = classifier_metrics(
        truth=["a", "a", "b", "b"], predicted=["a", "b", "b", "b"], n_train=10
    )

    assert [(c.label, c.precision, c.recall, c.support) for c in report.classes] == [
        ("a", 1.0, 0.5, 2),
        ("b", pytest.approx(2 / 3), 1.0, 2),
    ]
    assert report.accuracy == 0.75
    assert report.macro_f1 == pytest.approx((2 / 3 + 0.8) / 2)
