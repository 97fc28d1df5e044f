"""Work-order text classifier, trained on a city's own historical orders.

Pure Python (no Django models): the hotline services call it to suggest a category and route an
order automatically when the confidence is above a threshold, and ``yiwang hotline
train-classifier`` / ``classify`` drive it from the command line.

    clf = classifier_train(texts=texts, labels=labels)
    clf.predict(["小区路灯坏了一个月没人修"])  # [Prediction(label="城乡建设", confidence=0.91)]
    clf.save(path); clf = classifier_load(path)

A text may carry a subject: ``classifier_text(subject=..., body=...)`` joins them with a tab
(``SUBJECT_SEPARATOR``). The subject is the densest signal of an order, so it counts three times;
only the first ``BODY_CHARS`` characters of the body count, because the topic of a complaint is
stated at its start and the rest (history, greetings, grievances) mostly adds noise. A text
without a subject keeps more (``BODY_CHARS_ALONE``): its body is the only statement of the topic.

The model adds the scores of two (three with hints, below): a class-balanced linear SVM on
TF-IDF (sublinear) character 1–2-grams and Complement Naive Bayes on TF-IDF jieba words.
Three-fold cross-validated scores of the training data then fit, in this order: the weight of
Naive Bayes (and of the hint matcher) in the sum, one offset per class added to its score
(chosen for macro-F1, which lifts small classes that a class-balanced SVM still under-predicts;
kept only if offsets fitted on half of those rows raise the macro-F1 of the other half, since
otherwise they only follow noise), and the temperature of the softmax that turns the scores
into probabilities (temperature scaling), so ``confidence`` is calibrated without changing
which label wins.

``hints`` (optional) are short phrases per label, e.g. the names of a category's sub-categories
in the hotline's category tree; each becomes an extra training document, which teaches the model
words that the historical orders use too rarely. They also make a third scorer, the hint
matcher: the TF-IDF character 2–3-grams of a text against those of each label's hints joined
into one document (the IDF over labels, so a name every category has, like 其他, weighs
least). It names the category of an order whose key word (直销, 商标, 特种设备 …) the orders
of that category seldom use; its weight in the sum is cross-validated with that of Naive Bayes.

A model file is a one-line JSON header (format version, scikit-learn version, labels, training
time, sample count) followed by a joblib pickle. Load only files you wrote yourself: unpickling
runs code.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import re
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from scipy.optimize import minimize_scalar
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import precision_recall_fscore_support
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC

FORMAT_VERSION = 3
# Version 1 lacks the per-class offsets, version 2 the hint matcher; they load and score as
# they did (offsets of zero, no matcher).
READABLE_VERSIONS = (1, 2, 3)
MAGIC = "yiwang-hotline-classifier"
SUBJECT_SEPARATOR = "\t"
SUBJECT_REPEAT = 3
BODY_CHARS = 150
BODY_CHARS_ALONE = 400


class ClassifierError(ValueError):
    """Bad training input or an unusable model file; the message says which."""


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float


@dataclass(frozen=True)
class ClassifierParams:
    """Model knobs; the defaults were chosen by cross-validation on training data only (see
    bench/hotline_classifier.py)."""

    char_ngrams: tuple[int, int] = (1, 2)
    min_df: int = 2  # of the character n-grams
    c: float = 0.3
    nb_alpha: float = 0.1
    nb_weight: float = 1.0  # used as is when ``fit_mix`` is off or no calibration runs
    hint_weight: float = 1.0
    hint_match: bool = True  # the hint matcher (only with hints)
    match_weight: float = 1.0  # of the hint matcher; used as is like ``nb_weight``
    fit_mix: bool = True  # choose nb_weight on cross-validated scores of the training data
    fit_offsets: bool = True  # per-class score offsets that maximise cross-validated macro-F1


@dataclass(frozen=True)
class ClassifierHeader:
    format_version: int
    sklearn_version: str
    labels: tuple[str, ...]
    trained_at: str
    n_samples: int

    def as_json(self) -> dict[str, Any]:
        return {
            "magic": MAGIC,
            "format_version": self.format_version,
            "sklearn_version": self.sklearn_version,
            "labels": list(self.labels),
            "trained_at": self.trained_at,
            "n_samples": self.n_samples,
        }


# --- text ----------------------------------------------------------------------------------

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_MASK = re.compile(r"[*＊]+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_SPACE = re.compile(r"\s+")


def classifier_text(*, subject: str, body: str) -> str:
    """One classifier input from an order's subject and body."""
    subject = _SPACE.sub(" ", subject).strip()
    body = _SPACE.sub(" ", body).strip()
    return f"{subject}{SUBJECT_SEPARATOR}{body}" if subject else body


def _clean(text: str) -> str:
    # Masked personal data, numbers and links differ in every order and say nothing of its
    # category; collapsing them keeps their n-grams from diluting the vocabulary.
    text = _URL.sub(" ", text)
    text = _MASK.sub("※", text)
    text = _NUMBER.sub("0", text)
    return _SPACE.sub(" ", text).strip()


@functools.lru_cache(maxsize=8192)
def normalise(text: str) -> str:
    """The string the features see: cleaned subject repeated, then the start of the body."""
    subject, separator, body = text.partition(SUBJECT_SEPARATOR)
    if not separator:
        subject, body = "", subject
    subject = _clean(subject)
    if not subject:
        return _clean(body)[:BODY_CHARS_ALONE]
    body = _clean(body)[:BODY_CHARS]
    return " ".join([subject] * SUBJECT_REPEAT + [body])


_jieba_lock = threading.Lock()
_tokenizer: Any = None


def _jieba() -> Any:
    """Our own jieba tokenizer with the stock dictionary, loaded quietly once per process. Not
    the module-global one: words another app adds there would change a trained model's
    features."""
    global _tokenizer
    if _tokenizer is not None:
        return _tokenizer
    with _jieba_lock:
        if _tokenizer is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)  # it logs its dictionary loading at DEBUG
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            _tokenizer = tokenizer
    return _tokenizer


def words(text: str) -> tuple[str, ...]:
    """jieba words of the normalised text (punctuation and spaces dropped)."""
    return _words(normalise(text))


@functools.lru_cache(maxsize=8192)
def _words(normalised: str) -> tuple[str, ...]:
    # Cached because training (cross-validated temperature) and evaluation segment the same
    # texts several times; segmentation is the slowest step.
    return tuple(w for w in _jieba().lcut(normalised) if w.strip() and not _is_punctuation(w))


def _is_punctuation(word: str) -> bool:
    return len(word) == 1 and not word.isalnum()


# --- the classifier ------------------------------------------------------------------------


class TextClassifier:
    """A trained model: ``predict`` texts, ``save`` to a file."""

    def __init__(self, *, model: _Ensemble, temperature: float, header: ClassifierHeader):
        self._model = model
        self._temperature = temperature
        self.header = header

    @property
    def labels(self) -> tuple[str, ...]:
        return self.header.labels

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """The most likely label of each text with its probability. A blank text has no label
        to give: it gets ``Prediction("", 0.0)``."""
        texts = list(texts)
        present = [i for i, text in enumerate(texts) if text.strip()]
        results = [Prediction("", 0.0)] * len(texts)
        if not present:
            return results
        probabilities = self.probabilities([texts[i] for i in present])
        best = probabilities.argmax(axis=1)
        labels = self.labels
        for row, i in enumerate(present):
            column = int(best[row])
            results[i] = Prediction(labels[column], float(probabilities[row, column]))
        return results

    def probabilities(self, texts: Sequence[str]) -> np.ndarray[Any, Any]:
        """One row per text, one column per label (in ``labels`` order), rows summing to 1."""
        scores = np.asarray(self._model.decision_function(list(texts)))
        return _softmax(scores / self._temperature)

    def save(self, path: str | Path) -> None:
        """Write header and model; an existing file is replaced only once the new one is
        complete."""
        path = Path(path)
        buffer = io.BytesIO()
        joblib.dump({"model": self._model, "temperature": self._temperature}, buffer)
        partial = path.with_name(path.name + ".partial")
        with partial.open("wb") as f:
            f.write(json.dumps(self.header.as_json(), ensure_ascii=False).encode() + b"\n")
            f.write(buffer.getvalue())
        partial.replace(path)


def classifier_load(path: str | Path) -> TextClassifier:
    """Read a model written by ``TextClassifier.save``; refuse another format version."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            first = f.readline()
            payload = f.read()
    except OSError as exc:
        raise ClassifierError(f"cannot read model file {path}: {exc.strerror}") from exc
    try:
        raw = json.loads(first)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raw = None
    if not isinstance(raw, dict) or raw.get("magic") != MAGIC:
        raise ClassifierError(f"{path} is not a hotline classifier model file")
    if raw.get("format_version") not in READABLE_VERSIONS:
        raise ClassifierError(
            f"{path} has model format version {raw.get('format_version')}, this yiwang reads "
            f"versions {', '.join(str(v) for v in READABLE_VERSIONS)}: train the model again "
            "with this version"
        )
    header = ClassifierHeader(
        format_version=int(raw["format_version"]),
        sklearn_version=str(raw["sklearn_version"]),
        labels=tuple(raw["labels"]),
        trained_at=str(raw["trained_at"]),
        n_samples=int(raw["n_samples"]),
    )
    model = joblib.load(io.BytesIO(payload))
    return TextClassifier(
        model=model["model"], temperature=float(model["temperature"]), header=header
    )


def classifier_train(
    *,
    texts: Sequence[str],
    labels: Sequence[str],
    hints: Mapping[str, Sequence[str]] | None = None,
    seed: int = 0,
    params: ClassifierParams | None = None,
    calibrate: bool = True,
) -> TextClassifier:
    """Train on ``texts`` with their ``labels``; ``hints`` maps a label to short phrases about
    it (they must name labels of the data). Raises ``ClassifierError`` on unusable input.

    ``calibrate=False`` skips the cross-validated fitting (three extra trainings): Naive Bayes
    keeps ``params.nb_weight``, there are no class offsets and the confidences are
    uncalibrated, so labels may differ from a calibrated model's. Only for quick checks."""
    texts, labels = list(texts), list(labels)
    _check_training_input(texts, labels)
    return _train(texts, labels, hints, seed, params or ClassifierParams(), calibrate=calibrate)


def _train(
    texts: list[str],
    labels: list[str],
    hints: Mapping[str, Sequence[str]] | None,
    seed: int,
    params: ClassifierParams,
    *,
    calibrate: bool = True,
) -> TextClassifier:
    """``classifier_train`` without the input checks: a held-out split may leave a class with
    a single training row, which is still worth training on."""
    classes = sorted(set(labels))
    hint_texts, hint_labels = _hint_documents(hints or {}, set(classes))
    model = _fit(texts + hint_texts, labels + hint_labels, len(hint_texts), params, seed)
    temperature = 1.0
    if calibrate:
        calibration = _calibrate(texts, labels, hint_texts, hint_labels, params, seed)
        model.nb_weight = calibration.nb_weight
        model.match_weight = calibration.match_weight
        model.offsets = calibration.offsets_for([str(c) for c in model.classes_])
        temperature = calibration.temperature
    header = ClassifierHeader(
        format_version=FORMAT_VERSION,
        sklearn_version=sklearn.__version__,
        labels=tuple(str(c) for c in model.classes_),
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        n_samples=len(texts),
    )
    return TextClassifier(model=model, temperature=temperature, header=header)


def _check_training_input(texts: list[str], labels: list[str]) -> None:
    if len(texts) != len(labels):
        raise ClassifierError(f"{len(texts)} texts but {len(labels)} labels")
    empty = [i + 1 for i, text in enumerate(texts) if not text.strip()]
    if empty:
        shown = ", ".join(str(i) for i in empty[:10])
        raise ClassifierError(f"{len(empty)} empty texts (rows {shown})")
    unlabelled = [i + 1 for i, label in enumerate(labels) if not label.strip()]
    if unlabelled:
        shown = ", ".join(str(i) for i in unlabelled[:10])
        raise ClassifierError(f"{len(unlabelled)} texts without a label (rows {shown})")
    counts = Counter(labels)
    if len(counts) < 2:
        raise ClassifierError(f"need at least 2 classes, got {len(counts)}")
    rare = sorted(label for label, n in counts.items() if n < 2)
    if rare:
        raise ClassifierError("each class needs at least 2 texts; only one: " + "、".join(rare))


def _hint_documents(
    hints: Mapping[str, Sequence[str]], classes: set[str]
) -> tuple[list[str], list[str]]:
    unknown = sorted(set(hints) - classes)
    if unknown:
        raise ClassifierError("hints for labels not in the data: " + "、".join(unknown))
    texts, labels = [], []
    for label, phrases in hints.items():
        for phrase in phrases:
            if phrase.strip():
                texts.append(phrase.strip())
                labels.append(label)
    return texts, labels


class _Ensemble:
    """A linear SVM on character n-grams plus Complement Naive Bayes on jieba words. The two
    err differently (n-grams catch partial words and names, the word model generalises from
    the few examples and hints of a small class); their scores are added after each is scaled
    by its spread on the training data."""

    def __init__(self, params: ClassifierParams, seed: int) -> None:
        self.char_tfidf = TfidfVectorizer(
            analyzer="char",
            preprocessor=normalise,
            ngram_range=params.char_ngrams,
            min_df=params.min_df,
            sublinear_tf=True,
            dtype=np.float32,
        )
        self.svm = LinearSVC(C=params.c, class_weight="balanced", random_state=seed)
        self.word_tfidf = TfidfVectorizer(analyzer=words, sublinear_tf=True, dtype=np.float32)
        self.nb = ComplementNB(alpha=params.nb_alpha)
        self.nb_weight = params.nb_weight
        self.use_matcher = params.hint_match
        # fitted on the hints, one document per label; None without hints
        self.match_tfidf: TfidfVectorizer | None = None
        self.match_matrix: np.ndarray[Any, Any] = np.zeros((0, 0))
        self.match_weight = params.match_weight
        self.match_scale = 1.0
        self.scales = (1.0, 1.0)
        # Added to the scores of each class (in ``classes_`` order); fitted with the
        # temperature, zero until then.
        self.offsets: np.ndarray[Any, Any] = np.zeros(0)
        self._scorers: tuple[_LinearScorer, _LinearScorer, _LinearScorer | None] | None = None
        self.classes_: np.ndarray[Any, Any] = np.array([])

    def fit(
        self,
        texts: list[str],
        labels: list[str],
        sample_weight: np.ndarray[Any, Any],
        *,
        hints: tuple[list[str], list[str]] | None = None,
    ) -> _Ensemble:
        try:
            chars = self.char_tfidf.fit_transform(texts)
            words_ = self.word_tfidf.fit_transform(texts)
        except ValueError as exc:  # no n-gram occurs twice, or no word at all
            raise ClassifierError(
                f"the texts have too little in common to learn from: {exc}"
            ) from exc
        self.svm.fit(chars, labels, sample_weight=sample_weight)
        self.nb.fit(words_, labels, sample_weight=sample_weight)
        self.classes_ = self.svm.classes_
        self.offsets = np.zeros(len(self.classes_))
        self.scales = (
            _spread(_two_columns(self.svm.decision_function(chars))),
            _spread(self.nb.predict_log_proba(words_)),
        )
        self.match_tfidf = None
        self._scorers = None
        if hints and self.use_matcher:
            self._fit_matcher(*hints)
            matcher = self._compile()[2]
            if matcher is not None:
                # the spread over the orders: the hints themselves match far above them
                orders = texts[: len(texts) - len(hints[0])] or texts
                self.match_scale = _spread(np.array([matcher.scores(t) for t in orders]))
            self._scorers = None
        return self

    def _fit_matcher(self, hint_texts: list[str], hint_labels: list[str]) -> None:
        classes = [str(c) for c in self.classes_]
        documents = [
            " ".join(t for t, label in zip(hint_texts, hint_labels, strict=True) if label == c)
            for c in classes
        ]
        # Fitted on the raw hint documents (normalising would cut them to a body's length),
        # then scoring texts as the other scorers see them.
        vectorizer = TfidfVectorizer(
            analyzer="char", ngram_range=MATCH_NGRAMS, sublinear_tf=True, dtype=np.float32
        )
        try:
            matrix = vectorizer.fit_transform(documents)
        except ValueError:  # hints of a single character each: nothing to match
            return
        vectorizer.set_params(preprocessor=normalise)
        self.match_tfidf = vectorizer
        self.match_matrix = np.asarray(matrix.toarray(), dtype=np.float64)

    def decision_function(self, texts: list[str]) -> np.ndarray[Any, Any]:
        svm, nb, match = self.components(texts)
        return np.asarray(svm + self.nb_weight * nb + self.match_weight * match + self.offsets)

    def components(
        self, texts: list[str]
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """The scaled, row-centred scores of the SVM, of Naive Bayes and of the hint matcher
        (zeros without one), before mixing."""
        if self._scorers is None:
            self._scorers = self._compile()
        chars, words_, matcher = self._scorers
        svm = _centred(np.array([chars.scores(text) for text in texts])) / self.scales[0]
        nb = _centred(np.array([words_.scores(text) for text in texts])) / self.scales[1]
        if matcher is None:
            match = np.zeros_like(svm)
        else:
            match = _centred(np.array([matcher.scores(text) for text in texts]))
            match /= self.match_scale
        return svm, nb, match

    def _compile(self) -> tuple[_LinearScorer, _LinearScorer, _LinearScorer | None]:
        weights, intercept = self.svm.coef_, self.svm.intercept_
        if weights.shape[0] == 1:  # two classes: sklearn keeps the second one's side only
            weights = np.vstack([-weights, weights]) / 2
            intercept = np.concatenate([-intercept, intercept]) / 2
        return (
            _LinearScorer(self.char_tfidf, weights, intercept),
            # log-probabilities minus a per-row constant: the row centring removes it anyway
            _LinearScorer(self.word_tfidf, self.nb.feature_log_prob_, np.zeros(len(self.classes_))),
            None
            if self.match_tfidf is None
            else _LinearScorer(self.match_tfidf, self.match_matrix, np.zeros(len(self.classes_))),
        )

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_scorers": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Format 1 models predate the offsets, format 2 the hint matcher: without them they
        # score exactly as before.
        state.setdefault("offsets", np.zeros(len(state["classes_"])))
        state.setdefault("use_matcher", False)
        state.setdefault("match_tfidf", None)
        state.setdefault("match_matrix", np.zeros((0, 0)))
        state.setdefault("match_weight", 0.0)
        state.setdefault("match_scale", 1.0)
        self.__dict__.update(state)


class _LinearScorer:
    """``weights @ tfidf(text) + intercept`` for one text, computed directly: scikit-learn's
    input validation costs milliseconds per call, far more than the arithmetic, and the hotline
    classifies orders one at a time. Equal to the pipeline's scores (a test checks)."""

    def __init__(
        self,
        vectorizer: TfidfVectorizer,
        weights: np.ndarray[Any, Any],
        intercept: np.ndarray[Any, Any],
    ) -> None:
        self.analyze = vectorizer.build_analyzer()
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.idf = np.asarray(vectorizer.idf_, dtype=np.float64)
        self.weights = np.asarray(weights, dtype=np.float64)
        self.intercept = np.asarray(intercept, dtype=np.float64)

    def scores(self, text: str) -> np.ndarray[Any, Any]:
        counts = Counter(
            index
            for token in self.analyze(text)
            if (index := self.vocabulary.get(token)) is not None
        )
        if not counts:
            return self.intercept.copy()
        indices = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        values = 1 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
        values *= self.idf[indices]
        values /= np.sqrt(values @ values)
        return np.asarray(self.weights[:, indices] @ values + self.intercept)


def _two_columns(scores: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim == 1:  # two classes: sklearn gives the score of the second one only
        scores = np.column_stack([-scores, scores]) / 2
    return scores


def _centred(scores: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return np.asarray(scores - scores.mean(axis=1, keepdims=True))


def _spread(scores: np.ndarray[Any, Any]) -> float:
    spread = float(_centred(scores).std())
    return spread if spread > 0 else 1.0


def _fit(
    texts: list[str], labels: list[str], n_hints: int, params: ClassifierParams, seed: int
) -> _Ensemble:
    weights = np.ones(len(texts))
    if n_hints:
        weights[len(texts) - n_hints :] = params.hint_weight
    hints = (texts[len(texts) - n_hints :], labels[len(labels) - n_hints :]) if n_hints else None
    return _Ensemble(params, seed).fit(texts, labels, weights, hints=hints)


def _softmax(z: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


NB_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0)
MATCH_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0)
MATCH_NGRAMS = (2, 3)
OFFSET_STEPS = np.linspace(-1.0, 1.0, 21)
OFFSET_ROUNDS = 2


@dataclass(frozen=True)
class _Calibration:
    nb_weight: float
    match_weight: float
    offsets: dict[str, float]
    temperature: float

    def offsets_for(self, classes: list[str]) -> np.ndarray[Any, Any]:
        return np.array([self.offsets.get(c, 0.0) for c in classes])


def _calibrate(
    texts: list[str],
    labels: list[str],
    hint_texts: list[str],
    hint_labels: list[str],
    params: ClassifierParams,
    seed: int,
) -> _Calibration:
    """Mixing weight, per-class offsets and softmax temperature, all fitted on out-of-fold
    scores: scores of texts the model did not see, as in production. The weight of Naive Bayes
    depends on the data (it helps most where classes are few and small); the offsets move the
    boundaries of small classes, which a macro-F1 weighs as much as large ones; the temperature
    then makes the confidences calibrated without changing which label wins."""
    classes = sorted(set(labels))
    svm, nb, match = _out_of_fold(texts, labels, hint_texts, hint_labels, params, seed, classes)
    column = {label: i for i, label in enumerate(classes)}
    truth = np.array([column[label] for label in labels])
    weight, match_weight = params.nb_weight, params.match_weight
    if params.fit_mix:
        # ties keep the configured weights (they come first)
        nb_candidates = [params.nb_weight, *(w for w in NB_WEIGHTS if w != params.nb_weight)]
        match_candidates = [params.match_weight]
        if hint_texts and params.hint_match:
            match_candidates += [w for w in MATCH_WEIGHTS if w != params.match_weight]
        weight, match_weight = max(
            ((w, m) for m in match_candidates for w in nb_candidates),
            key=lambda wm: _macro_f1(truth, (svm + wm[0] * nb + wm[1] * match).argmax(axis=1)),
        )
    scores = svm + weight * nb + match_weight * match
    offsets = np.zeros(len(classes))
    if params.fit_offsets:
        offsets = _fit_offsets(scores, truth)
        if offsets.any() and not _offsets_generalise(scores, truth, seed):
            offsets = np.zeros(len(classes))
    scores = scores + offsets

    def loss(log_t: float) -> float:
        p = _softmax(scores / np.exp(log_t))
        return float(-np.log(np.clip(p[np.arange(len(truth)), truth], 1e-12, None)).mean())

    result = minimize_scalar(loss, bounds=(np.log(0.01), np.log(10.0)), method="bounded")
    return _Calibration(
        nb_weight=weight,
        match_weight=match_weight,
        offsets={c: float(o) for c, o in zip(classes, offsets, strict=True)},
        temperature=float(np.exp(result.x)),
    )


def _out_of_fold(
    texts: list[str],
    labels: list[str],
    hint_texts: list[str],
    hint_labels: list[str],
    params: ClassifierParams,
    seed: int,
    classes: list[str],
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """3-fold cross-validated component scores (SVM, Naive Bayes, hint matcher), columns in
    ``classes`` order."""
    smallest = min(Counter(labels).values())
    folds: StratifiedKFold | KFold
    if smallest >= 2:
        folds = StratifiedKFold(n_splits=min(3, smallest), shuffle=True, random_state=seed)
    else:  # stratifying would warn about the single-row class
        folds = KFold(n_splits=min(3, len(texts)), shuffle=True, random_state=seed)
    column = {label: i for i, label in enumerate(classes)}
    svm = np.zeros((len(texts), len(classes)))
    nb = np.zeros((len(texts), len(classes)))
    match = np.zeros((len(texts), len(classes)))
    y = np.array(labels)
    for train, test in folds.split(texts, y):
        train_texts = [texts[i] for i in train] + hint_texts
        train_labels = [labels[i] for i in train] + hint_labels
        fold = _fit(train_texts, train_labels, len(hint_texts), params, seed)
        fold_classes = [str(c) for c in fold.classes_]
        for scores, fold_scores in zip(
            (svm, nb, match), fold.components([texts[i] for i in test]), strict=True
        ):
            for j, label in enumerate(fold_classes):
                scores[test, column[label]] = fold_scores[:, j]
            # a class absent from this fold's training part scores lowest everywhere
            for c in set(classes) - set(fold_classes):
                scores[test, column[c]] = fold_scores.min() - 1
    return svm, nb, match


def _fit_offsets(scores: np.ndarray[Any, Any], truth: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Per-class offsets by coordinate ascent on the macro-F1 of ``scores + offsets``, over a
    coarse grid and few rounds, so that they cannot follow the noise of a few rows; a step
    must gain something to be taken."""
    offsets = np.zeros(scores.shape[1])
    best = _macro_f1(truth, scores.argmax(axis=1))
    for _ in range(OFFSET_ROUNDS):
        changed = False
        for k in range(scores.shape[1]):
            for step in OFFSET_STEPS:
                trial = offsets.copy()
                trial[k] = step
                f1 = _macro_f1(truth, (scores + trial).argmax(axis=1))
                if f1 > best + 1e-9:
                    best, offsets, changed = f1, trial, True
        if not changed:
            break
    return offsets


def _offsets_generalise(
    scores: np.ndarray[Any, Any], truth: np.ndarray[Any, Any], seed: int
) -> bool:
    """Whether offsets fitted on one half of the rows raise the macro-F1 of the other half,
    on average over both ways round. Their gain on the rows they were fitted on always looks
    positive; where the scores already place the boundaries well (e.g. with the hint matcher)
    they only follow noise."""
    counts = np.bincount(truth)
    if counts[counts > 0].min() < 2:
        return True  # too few rows to split: keep them, as before this check
    halves = StratifiedKFold(n_splits=2, shuffle=True, random_state=seed)
    gain = 0.0
    for fit_rows, check_rows in halves.split(scores, truth):
        offsets = _fit_offsets(scores[fit_rows], truth[fit_rows])
        check, check_truth = scores[check_rows], truth[check_rows]
        gain += _macro_f1(check_truth, (check + offsets).argmax(axis=1))
        gain -= _macro_f1(check_truth, check.argmax(axis=1))
    return gain > 0


def _macro_f1(truth: np.ndarray[Any, Any], predicted: np.ndarray[Any, Any]) -> float:
    """Macro-F1 over the classes of ``truth`` (integer labels): fast, for the fitting loops."""
    k = int(max(truth.max(), predicted.max())) + 1
    confusion = np.bincount(truth * k + predicted, minlength=k * k).reshape(k, k)
    tp = np.diag(confusion).astype(np.float64)
    denominator = confusion.sum(axis=0) + confusion.sum(axis=1)
    present = np.bincount(truth, minlength=k) > 0
    f1 = np.divide(2 * tp, denominator, out=np.zeros(k), where=denominator > 0)
    return float(f1[present].mean())


# --- evaluation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassMetrics:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class HoldoutReport:
    classes: tuple[ClassMetrics, ...]
    macro_f1: float
    accuracy: float
    n_train: int
    n_test: int
    extra: dict[str, float] = field(default_factory=dict)

    def table(self) -> str:
        """A readable fixed-width table, one line per class, then macro-F1 and accuracy."""
        width = max([len("类别")] + [_display_width(c.label) for c in self.classes])
        lines = [
            f"{_pad('类别', width)}  precision  recall     F1  support",
        ]
        lines.extend(
            f"{_pad(c.label, width)}  {c.precision:9.3f}  {c.recall:6.3f}  {c.f1:5.3f}"
            f"  {c.support:7d}"
            for c in self.classes
        )
        lines.append(f"macro-F1 {self.macro_f1:.3f}  accuracy {self.accuracy:.3f}")
        lines.append(f"(trained on {self.n_train} rows, tested on {self.n_test} held-out rows)")
        return "\n".join(lines)


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _display_width(text))


def classifier_metrics(
    *, truth: Sequence[str], predicted: Sequence[str], n_train: int = 0
) -> HoldoutReport:
    classes = sorted(set(truth))
    precision, recall, f1, support = precision_recall_fscore_support(
        list(truth), list(predicted), labels=classes, zero_division=0
    )
    per_class = tuple(
        ClassMetrics(label, float(p), float(r), float(f), int(s))
        for label, p, r, f, s in zip(classes, precision, recall, f1, support, strict=True)
    )
    accuracy = sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth)
    return HoldoutReport(
        classes=per_class,
        macro_f1=float(np.mean(f1)),
        accuracy=accuracy,
        n_train=n_train,
        n_test=len(truth),
    )


def classifier_holdout_report(
    *,
    texts: Sequence[str],
    labels: Sequence[str],
    test_size: float = 0.2,
    seed: int = 0,
    hints: Mapping[str, Sequence[str]] | None = None,
    params: ClassifierParams | None = None,
) -> HoldoutReport:
    """Train on a stratified part of the data and score the held-out rest (per-class
    precision, recall, F1; macro-F1 over the classes of the held-out part; accuracy)."""
    texts, labels = list(texts), list(labels)
    _check_training_input(texts, labels)
    if not 0 < test_size < 1:
        raise ClassifierError(f"test size must be between 0 and 1, got {test_size}")
    n_classes = len(set(labels))
    n_test = int(np.ceil(test_size * len(texts)))
    if n_test < n_classes or len(texts) - n_test < n_classes:
        raise ClassifierError(
            f"{len(texts)} rows are too few to hold out {test_size:.0%} with {n_classes} classes"
        )
    train_x, test_x, train_y, test_y = train_test_split(
        texts, labels, test_size=test_size, random_state=seed, stratify=labels
    )
    clf = _train(list(train_x), list(train_y), hints, seed, params or ClassifierParams())
    predicted = [p.label for p in clf.predict(test_x)]
    return classifier_metrics(truth=test_y, predicted=predicted, n_train=len(train_x))
