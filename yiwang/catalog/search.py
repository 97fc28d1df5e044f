"""Chinese search over the published catalog (事项搜索).

A citizen types what they call the thing (``驾照过期了怎么换``, ``gjj提取``, ``开个饭店``), not
the item's official name (``机动车驾驶证换证``, ``住房公积金提取``, ``食品经营许可``). The search
bridges the two with:

- **jieba** words, with our domain words added to its dictionary so that ``公积金`` or
  ``营业执照`` stay one word;
- **character bigrams** of every Chinese run, so that a word jieba segments differently in the
  query and in the item still matches (and single characters for one-character queries);
- **pinyin**: full pinyin and initials of each word and of each pair of adjacent words of the
  name and keywords, so ``gjj`` and ``gongjijin`` find 公积金;
- a **synonym table** (fixtures/synonyms.txt, ours) that adds the official words to a query
  containing a colloquial one (驾照 → 驾驶证, 低保 → 最低生活保障).

Ranking is BM25F: one term frequency per document, summed over the fields with weights
(name > keywords > materials > department > details: acceptance conditions, situation
descriptions and FAQ questions) and normalised by each field's length, then the usual
BM25 saturation and IDF. The index is a small in-memory inverted index (term → postings with the
precomputed per-document weight), so a query costs a few dictionary look-ups and additions.

The index is built from the published versions and the published bundles and kept per process.
Before each search a cheap stamp (count and latest publication/retirement instant of published
versions, likewise for bundles) is read; when it differs, the index is rebuilt. A published
version never changes (services refuse), so the stamp sees every change that matters.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Q

from yiwang.catalog.models import Bundle, BundleMember, Faq, ItemVersion, Material, Situation

# Field weights of BM25F: a word in the name says more than one in a material's name.
FIELD_WEIGHTS: dict[str, float] = {
    "name": 5.0,
    "keywords": 2.5,
    "materials": 1.0,
    "department": 0.7,
    # the item's own descriptive text: acceptance conditions, situation descriptions, FAQ
    # questions. Low: it lets descriptive wording match without outranking a name.
    "details": 0.5,
}
K1 = 1.2
B = 0.6  # short names should not be over-rewarded against long ones
# A document whose name contains the whole query (or a synonym's official phrase) gets this
# share of the query's best possible score on top: the exact-name case must win.
PHRASE_BONUS = 0.3
# A citizen of this city searching "营业执照" wants this city's item first, not the same item
# as another province publishes it (imported catalogs keep their own implementing bodies).
# Local: implemented by a department of our organisation tree, or in our division.
LOCAL_BOOST = 1.3
# Items for one narrow group of people (退役军人养老保险关系转移接续) beside the general item
# (城镇职工基本养老保险关系转移接续): a citizen who names no group means the general one, so an
# item whose name names a group the query does not mention counts at this share.
NARROW_GROUPS = (
    "退役军人",
    "退役士兵",
    "军人",
    "随军",
    "军队",
    "机关事业单位",
    "港澳",
    "香港",
    "澳门",
    "台湾",
    "华侨",
    "归侨",
    "外国",
    "外籍",
    "境外",
    "工伤职工",
    "被征地",
    "供养亲属",
    "特殊工种",
)
NARROW_FACTOR = 0.85
# Query term kinds weigh differently: a whole word matched says more than one of its bigrams.
QUERY_WEIGHTS = {"w": 1.0, "b": 0.6, "u": 0.5, "p": 1.6, "i": 1.2, "a": 1.0}
SYNONYM_WEIGHT = 0.9
# A one-character word of a query that also has longer words (开, 证, 改) is weak evidence: it
# counts at this share, and a document matched by weak words only is not a hit.
WEAK_FACTOR = 0.3
# The details field is free text: only its beginning is indexed, to bound the index's size.
DETAILS_MAX_CHARS = 600
MAX_QUERY_LENGTH = 100
# What a hit's version carries (other fields load on access, one query per version).
LIST_FIELDS = (
    "id",
    "number",
    "status",
    "name",
    "short_name",
    "dept_name",
    "server_types",
    "project_type",
    "promise_limit",
    "promise_unit",
    "online_depth",
    "external_system",
    "published_at",
    "item__id",
    "item__public_id",
    "item__task_code",
    "item__department__id",
    "item__department__code",
    "item__department__name",
    "item_type__id",
    "item_type__code",
    "item_type__name",
)

SYNONYMS_FILE = Path(__file__).resolve().parent / "fixtures" / "synonyms.txt"
LIFE_EVENTS_FILE = Path(__file__).resolve().parent / "fixtures" / "life_events.txt"
# A life event the query describes (丢了工作 → 失业) weighs like a word typed as the item says.
EVENT_WEIGHT = 1.0
# The cue's own words (上班, 摔) are weak evidence of the item: they count at this share.
EVENT_OWN_FACTOR = 0.5

# Words jieba should keep whole (its general dictionary splits several of them).
DOMAIN_WORDS = (
    "公积金",
    "住房公积金",
    "不动产",
    "不动产权",
    "营业执照",
    "驾驶证",
    "驾驶人",
    "机动车",
    "居民身份证",
    "身份证",
    "户口簿",
    "户口本",
    "最低生活保障",
    "社会保险",
    "社会保障卡",
    "医疗保障",
    "医疗保险",
    "养老保险",
    "养老金",
    "失业保险金",
    "转移登记",
    "设立登记",
    "变更登记",
    "注销登记",
    "出生登记",
    "出生医学证明",
    "企业开办",
    "食品经营",
    "食品经营许可",
    "环境影响评价",
    "残疾人证",
    "公章刻制",
    "税务登记",
    "发票申领",
    "个体工商户",
    "二手房",
    "存量房",
    "一件事",
    "换证",
    "补领",
    "特困人员",
    "交通违法",
    "预约挂号",
    "排污许可",
    "教师资格",
)

# Words that say how to ask, not what for: dropped from queries.
STOPWORDS = frozenset(
    [
        "我",
        "我们",
        "你",
        "想",
        "想要",
        "要",
        "需要",
        "怎么",
        "怎样",
        "怎么样",
        "如何",
        "办",
        "办理",
        "办个",
        "申请",
        "哪里",
        "在哪",
        "在哪里",
        "到哪",
        "去哪",
        "什么",
        "啥",
        "吗",
        "呢",
        "吧",
        "啊",
        "了",
        "的",
        "地",
        "得",
        "和",
        "与",
        "及",
        "能",
        "能不能",
        "可以",
        "可不可以",
        "去",
        "给",
        "个",
        "一个",
        "一下",
        "下",
        "手续",
        "流程",
        "需",
        "该",
        "应该",
        "请问",
        "咨询",
        "有",
        "没有",
        "是",
        "在",
        "多少",
        "多久",
        "时间",
        "怎么办",
        "怎么弄",
        "弄",
        "搞",
        # more filler: pronouns, particles, time and degree words, verbs of asking
        "我家",
        "我们家",
        "家里",
        "俺",
        "咱",
        "咱们",
        "他",
        "她",
        "自己",
        "本人",
        "请",
        "麻烦",
        "问",
        "问下",
        "问一下",
        "一般",
        "还要",
        "还是",
        "就",
        "都",
        "也",
        "又",
        "才",
        "得要",
        "必须",
        "准备",
        "提供",
        "哪",
        "哪儿",
        "哪个",
        "哪些",
        "为什么",
        "几",
        "几天",
        "多长时间",
        "多少钱",
        "吗",
        "嘛",
        "呀",
        "哦",
        "哈",
        "噢",
        "着",
        "把",
        "被",
        "让",
        "从",
        "向",
        "这",
        "那",
        "这个",
        "那个",
        "现在",
        "刚",
        "刚刚",
        "已经",
        "马上",
        "最近",
        "打算",
        "准备好",
        "相关",
        "事情",
        "事",
        "东西",
        "部门",
        "窗口",
        "地方",
        "网上",
        "线上",
        "知道",
        "告诉",
        "帮忙",
        "帮",
        "谢谢",
        "您好",
        "你好",
        "一些",
        "有关",
        "关于",
        "什么样",
        "怎么样才能",
        "才能",
        "要求",
        "条件",
        "材料",
        "资料",
        "证件",
    ]
)

# Filler phrases removed wherever they occur in a query (jieba does not always cut them out
# whole). Only phrases that cannot be part of a content word: a synonym key wins over them.
STOP_PHRASES = (
    "怎么办理",
    "如何办理",
    "怎样办理",
    "怎么申请",
    "如何申请",
    "办理手续",
    "办什么手续",
    "什么手续",
    "哪些手续",
    "需要什么",
    "需要哪些",
    "需要带",
    "要带什么",
    "带什么",
    "要什么",
    "要哪些",
    "要办的",
    "要办",
    "得办",
    "该办",
    "去哪里",
    "去哪儿",
    "去哪",
    "到哪里",
    "到哪儿",
    "在哪里",
    "在哪儿",
    "哪个部门",
    "什么部门",
    "找谁",
    "怎么办",
    "怎么弄",
    "怎么样",
    "怎么",
    "怎样",
    "如何",
    "什么",
    "哪里",
    "哪些",
    "为啥",
    "能不能",
    "可不可以",
    "是不是",
    "有没有",
    "可以吗",
    "行不行",
    "我想要",
    "我想",
    "我要",
    "我家",
    "我们家",
    "请问",
    "咨询一下",
    "问一下",
    "一下",
)

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_CJK}]+|[a-z0-9]+")
_IS_CJK = re.compile(rf"[{_CJK}]")

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# Text analysis


_jieba_lock = threading.Lock()
_tokenizer: Any = None


def _jieba() -> Any:
    """Our own jieba tokenizer (not the module-global one other code may configure), loaded
    quietly once per process, with the domain words and the synonym table's words added."""
    global _tokenizer
    if _tokenizer is not None:
        return _tokenizer
    with _jieba_lock:
        if _tokenizer is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)  # it logs its dictionary loading at DEBUG
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            words = set(DOMAIN_WORDS)
            for key, officials in synonyms().items():
                words.add(key)
                words.update(officials)
            for word in sorted(words):
                if _IS_CJK.search(word) and len(word) > 1:
                    tokenizer.add_word(word, freq=200_000)
            _tokenizer = tokenizer
    return _tokenizer


def normalize(text: str) -> str:
    """Full-width to half-width (NFKC), lower case."""
    return unicodedata.normalize("NFKC", text).lower()


@cache
def synonyms() -> dict[str, tuple[str, ...]]:
    """The synonym table: colloquial word (normalised) → official words."""
    table: dict[str, tuple[str, ...]] = {}
    for raw in SYNONYMS_FILE.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or "=" not in line:
            continue
        key, _, rhs = line.partition("=")
        officials = tuple(normalize(w.strip()) for w in rhs.split("|") if w.strip())
        if key.strip() and officials:
            table[normalize(key.strip())] = officials
    return table


@dataclass(frozen=True)
class LifeEvent:
    """A situation of a citizen's or a business's life (fixtures/life_events.txt) and the
    official words of the items it leads to. Each cue is a tuple of parts that must all occur
    in the query (in any order, not overlapping), each part a tuple of alternative wordings:
    (工作 | 饭碗) + (丢了 | 没了) is 丢了工作, 工作没了, 饭碗丢了 …"""

    name: str
    officials: tuple[str, ...]
    cues: tuple[tuple[tuple[str, ...], ...], ...]


@cache
def life_events() -> tuple[LifeEvent, ...]:
    """The life-event lexicon: ``[事件] 正式用语 | 正式用语`` starts an event, each following
    line is one cue (``part + part``, each part ``wording | wording``)."""
    events: list[LifeEvent] = []
    name = ""
    officials: tuple[str, ...] = ()
    cues: list[tuple[tuple[str, ...], ...]] = []

    def close() -> None:
        if name and officials and cues:
            events.append(LifeEvent(name, officials, tuple(cues)))

    for raw in LIFE_EVENTS_FILE.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            close()
            head, _, rhs = line[1:].partition("]")
            name = head.strip()
            officials = tuple(normalize(w.strip()) for w in rhs.split("|") if w.strip())
            cues = []
            continue
        parts = tuple(
            tuple(sorted({normalize(w.strip()) for w in part.split("|") if w.strip()}, key=len))[
                ::-1
            ]
            for part in line.split("+")
        )
        if parts and all(parts):
            cues.append(parts)
    close()
    return tuple(events)


def _event_spans(run: str, taken: list[bool]) -> list[tuple[LifeEvent, list[tuple[int, int]]]]:
    """The life events the run describes, each with the spans of its cue's parts (marked
    taken). An event counts once; its first cue that matches, in the file's order, wins.
    Every part is looked for where nothing (an earlier event, another part) is yet. A part
    found as one character (证 of 证丢了, 伤 of 干活伤了) is context only: it must be there but
    stays for the words around it (身份证), and a cue needs one longer part to apply."""
    table = synonyms()
    # jieba's words of the run (it knows the synonym keys): a cue never cuts across them
    words = [(start, end) for _, start, end in _jieba().tokenize(run, HMM=False)]
    found: list[tuple[LifeEvent, list[tuple[int, int]]]] = []
    for event in life_events():
        for cue in event.cues:
            trial = list(taken)
            spans: list[tuple[int, int]] = []
            for part in cue:
                span = _free_span(run, part, trial, words, whole_word=len(cue) > 1)
                if span is not None and len(cue) == 1 and run[span[0] : span[1]] in table:
                    span = None  # a phrase the synonym table has: its own entry applies
                if span is None:
                    break
                if span[1] - span[0] > 1:
                    spans.append(span)
                    for i in range(*span):
                        trial[i] = True
            else:
                if spans:
                    taken[:] = trial
                    found.append((event, sorted(spans)))
                    break
    return found


def _free_span(
    run: str,
    wordings: tuple[str, ...],
    taken: list[bool],
    words: list[tuple[int, int]],
    *,
    whole_word: bool,
) -> tuple[int, int] | None:
    """The first place of the longest wording that occurs in the run where nothing is taken.
    A wording of two or more characters must fit jieba's words: start and end where words do
    (拿房 is not in 拿房本, cut 拿/房本), or lie inside one word, then taken as that whole word
    when ``whole_word`` (疫苗 of 打疫苗 … 出了问题) and not at all otherwise (装修 of
    装修垃圾, a synonym key of its own). One character may be anywhere."""
    starts = {s for s, _ in words} | {len(run)}
    ends = {e for _, e in words} | {0}
    for word in wordings:
        at = run.find(word)
        while at >= 0:
            span: tuple[int, int] | None = (at, at + len(word))
            if len(word) > 1 and not (at in starts and at + len(word) in ends):
                inside = next((w for w in words if w[0] <= at and at + len(word) <= w[1]), None)
                span = inside if whole_word else None
            if span is not None and not any(taken[span[0] : span[1]]):
                return span
            at = run.find(word, at + 1)
    return None


@cache
def _pinyin(word: str) -> tuple[str, str]:
    """(full pinyin, initials) of a Chinese word, e.g. 公积金 → (gongjijin, gjj)."""
    from pypinyin import Style, lazy_pinyin

    full = "".join(lazy_pinyin(word, errors="ignore"))
    initials = "".join(lazy_pinyin(word, style=Style.FIRST_LETTER, errors="ignore"))
    return full, initials


@cache
def _run_syllables(run: str) -> tuple[str, ...]:
    """One pinyin syllable per character of a Chinese run (pypinyin picks the reading of a
    polyphone from the words around it, so the run is converted whole)."""
    from pypinyin import lazy_pinyin

    syllables = lazy_pinyin(run, errors="ignore")
    if len(syllables) != len(run):  # never seen; keep the terms aligned whatever happens
        return tuple(_pinyin(ch)[0] for ch in run)
    return tuple(syllables)


def _pinyin_terms(run: str, tokenizer: Any) -> list[str]:
    """``p:`` full pinyin and ``i:`` initials of each word of the run (search-mode words, so
    住房公积金 also gives 公积金 → gjj), of each pair of adjacent words (公积金提取 →
    gongjijintiqu) and of the whole run."""
    syllables = _run_syllables(run)
    spans = {(start, end) for _, start, end in tokenizer.tokenize(run, mode="search", HMM=False)}
    ends: dict[int, list[int]] = defaultdict(list)
    for start, end in spans:
        ends[start].append(end)
    spans.update((start, second) for start, end in list(spans) for second in ends.get(end, ()))
    spans.add((0, len(run)))
    terms: list[str] = []
    for start, end in spans:
        part = syllables[start:end]
        terms.append("p:" + "".join(part))
        if end - start > 1:
            terms.append("i:" + "".join(s[:1] for s in part))
    return terms


def _bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


def analyze(text: str, *, with_pinyin: bool = False) -> list[str]:
    """The index terms of a field's text, each prefixed by its kind: ``w:`` jieba word (2+
    characters, search-mode segmentation so long words also yield their parts), ``b:`` bigram,
    ``u:`` single character, ``a:`` Latin letters or digits, and with ``with_pinyin`` ``p:``
    full pinyin and ``i:`` initials of each word and each pair of adjacent words."""
    tokenizer = _jieba()
    terms: list[str] = []
    for run in _RUN.findall(normalize(text)):
        if not _IS_CJK.match(run):
            terms.append("a:" + run)
            continue
        terms.extend("w:" + w for w in tokenizer.cut_for_search(run, HMM=False) if len(w) > 1)
        terms.extend("b:" + g for g in _bigrams(run))
        terms.extend("u:" + c for c in run)
        if with_pinyin:
            terms.extend(_pinyin_terms(run, tokenizer))
    return terms


Terms = dict[str, float]  # term → query weight


@dataclass(frozen=True)
class Query:
    """A parsed query. Each concept is one thing the citizen said (a word, or the words a
    synonym key spans) with its alternative wordings: as typed, and each official word of the
    synonym table. A document scores the best alternative of each concept, so that three
    official words for 丢了 (补领, 补办, 遗失) count once, not three times, against the one
    word for the thing itself (身份证). A weak concept (a lone character beside longer words)
    adds to a document's score but does not make it a hit."""

    concepts: tuple[tuple[Terms, ...], ...]
    glue: Terms  # bigrams across two words of the query: a bonus for the words' adjacency
    phrases: tuple[str, ...]  # whole-query texts whose presence in a name earns the bonus
    weak: tuple[bool, ...] = ()  # per concept: True for a weak one
    sizes: tuple[int, ...] = ()  # per concept: how many characters of the query it stands for

    @property
    def terms(self) -> Terms:
        merged: Terms = {}
        for alternatives in self.concepts:
            for alt in alternatives:
                for term, weight in alt.items():
                    merged[term] = max(merged.get(term, 0.0), weight)
        return merged


def _cjk_terms(text: str, factor: float, *, stop: bool = True) -> Terms:
    """The query terms of one Chinese wording: its words, their bigrams, or the character."""
    terms: Terms = {}
    for run in _RUN.findall(text):
        if not _IS_CJK.match(run):
            terms["a:" + run] = QUERY_WEIGHTS["a"] * factor
            continue
        for word in _jieba().cut(run, HMM=False):
            if len(word) > 1 and not (stop and word in STOPWORDS):
                terms["w:" + word] = QUERY_WEIGHTS["w"] * factor
        if len(run) == 1:
            terms["u:" + run] = QUERY_WEIGHTS["u"] * factor
        for gram in _bigrams(run):
            terms.setdefault("b:" + gram, QUERY_WEIGHTS["b"] * factor)
    return terms


def _spans(run: str, words: Iterable[str], taken: list[bool]) -> list[tuple[int, int]]:
    """Where the words occur in the run, longest first, not overlapping each other or what is
    already taken (marked taken in turn)."""
    found: list[tuple[int, int]] = []
    for word in sorted((w for w in words if w in run), key=len, reverse=True):
        start = run.find(word)
        while start >= 0:
            if not any(taken[start : start + len(word)]):
                for i in range(start, start + len(word)):
                    taken[i] = True
                found.append((start, start + len(word)))
            start = run.find(word, start + 1)
    return found


# Measure words and filler people put inside a phrase (注册个公司, 办一下护照): dropped where
# the phrase without them is a synonym key, so that the key still applies.
INFIXES = ("一个", "一家", "一下", "一张", "个", "家", "下", "张", "了")


def _join_infixes(run: str) -> str:
    """The run without the measure words that split a synonym key (注册个公司 → 注册公司).

    (Mending homophone typos the same way, 低报 → 低保, was tried and dropped: two-character
    pieces of ordinary queries sound like keys too often, 开公司 → 开工司.)"""
    table = synonyms()
    longest = max((len(k) for k in table), default=0)
    for infix in INFIXES:
        start = run.find(infix, 1)
        while 0 < start < len(run) - len(infix):
            joined = run[:start] + run[start + len(infix) :]
            covers = any(
                joined[a : a + n] in table
                for n in range(3, longest + 1)
                for a in range(max(0, start - n + 1), start)
                if a + n > start
            )
            if covers:
                run = joined
            start = run.find(infix, start + (0 if covers else 1))
    return run


def parse_query(q: str) -> Query:
    """Concepts of a query: its words (stop words and filler phrases dropped) or, where a
    synonym key covers them (longest key first), the key with its official words as
    alternatives; Latin runs are looked up as letters, full pinyin and initials. A query of
    filler only (怎么办) is taken as typed rather than reduced to nothing."""
    query = _parse_query(q, stop=True)
    if not query.concepts:
        query = _parse_query(q, stop=False)
    return query


def _parse_query(q: str, *, stop: bool) -> Query:
    tokenizer = _jieba()
    table = synonyms()
    text = normalize(q)
    concepts: list[tuple[Terms, ...]] = []
    weak: list[bool] = []
    sizes: list[int] = []
    glue: Terms = {}
    phrase_parts: list[list[str]] = []  # per concept: its wordings, for the phrase bonus

    def with_synonyms(key: str, own: Terms) -> tuple[Terms, ...]:
        return (own, *(_cjk_terms(official, SYNONYM_WEIGHT) for official in table.get(key, ())))

    for match in _RUN.finditer(text):
        run = match.group()
        if not _IS_CJK.match(run):
            own = {"a:" + run: QUERY_WEIGHTS["a"]}
            concepts.append(
                (
                    *with_synonyms(run, own),
                    {"p:" + run: QUERY_WEIGHTS["p"]},
                    {"i:" + run: QUERY_WEIGHTS["i"]},
                )
            )
            weak.append(False)
            sizes.append(len(run))
            phrase_parts.append([*table.get(run, ())])
            continue
        run = _join_infixes(run)
        # synonym keys inside the run, longest first, not overlapping; then filler phrases
        taken = [False] * len(run)
        # life events first: their cues are several words (工作 … 丢了) that a synonym key
        # would otherwise read on its own (丢了 → 补领)
        events = {spans[0]: (event, spans) for event, spans in _event_spans(run, taken)}
        keys = _spans(run, table, taken)
        if stop:
            _spans(run, STOP_PHRASES, taken)
        # the words of what is left between them (each stretch segmented on its own)
        units: list[tuple[int, int]] = [*keys, *events]
        start = 0
        while start < len(run):
            if taken[start]:
                start += 1
                continue
            end = start
            while end < len(run) and not taken[end]:
                end += 1
            for _, s, e in tokenizer.tokenize(run[start:end], HMM=False):
                if not (stop and run[start + s : start + e] in STOPWORDS):
                    units.append((start + s, start + e))
            start = end
        units.sort()
        long_words = any(e - s > 1 for s, e in units)
        previous_end = -1
        previous_text = ""
        for start, end in units:
            if (start, end) in events:
                event, spans = events[(start, end)]
                # the event's official words make the hit; the cue's own words (and the
                # official words of a part that is a synonym key: 社保 of 外地 … 社保) are a
                # weak concept beside it: they order the event's items without making a hit
                # of their own (丢了 of 丢了工作 is no 补领)
                cue_terms: Terms = {}
                parts: list[Terms] = []
                for s, e in spans:
                    cue_terms.update(_cjk_terms(run[s:e], EVENT_OWN_FACTOR, stop=False))
                    parts.extend(_cjk_terms(o, EVENT_OWN_FACTOR) for o in table.get(run[s:e], ()))
                concepts.append(tuple(_cjk_terms(o, EVENT_WEIGHT) for o in event.officials))
                weak.append(False)
                sizes.append(sum(e - s for s, e in spans))
                phrase_parts.append(list(event.officials))
                concepts.append((cue_terms, *parts))
                weak.append(True)
                sizes.append(0)
                phrase_parts.append([])
                previous_end, previous_text = -1, ""
                continue
            unit = run[start:end]
            is_key = (start, end) in keys
            is_weak = long_words and not is_key and len(unit) == 1
            own = _cjk_terms(unit, WEAK_FACTOR if is_weak else 1.0, stop=stop)
            if is_key:
                concepts.append(with_synonyms(unit, own))
                weak.append(False)
                sizes.append(len(unit))
                phrase_parts.append([unit, *table[unit]])
            elif own:
                concepts.append((own,))
                weak.append(is_weak)
                sizes.append(len(unit))
                phrase_parts.append([unit])
            if start == previous_end and previous_text:
                glue["b:" + previous_text[-1] + unit[0]] = QUERY_WEIGHTS["b"] * 0.5
            previous_end, previous_text = end, unit
    # the whole query, as typed without stop words and with each synonym applied
    phrases: list[str] = []
    if phrase_parts:
        phrases.append("".join(parts[0] for parts in phrase_parts if parts))
        phrases.extend(
            "".join((alt if j == i else (p[0] if p else "")) for j, p in enumerate(phrase_parts))
            for i, parts in enumerate(phrase_parts)
            for alt in parts[1:]
        )
    kept = [i for i, c in enumerate(concepts) if any(c)]
    return Query(
        concepts=tuple(concepts[i] for i in kept),
        glue=glue,
        phrases=tuple(p for p in dict.fromkeys(phrases) if len(p) > 1),
        weak=tuple(weak[i] for i in kept),
        sizes=tuple(sizes[i] for i in kept),
    )


# --------------------------------------------------------------------------------------------
# The index


@dataclass(frozen=True)
class Doc:
    kind: str  # "item" | "bundle"
    pk: int  # ItemVersion pk or Bundle pk
    code: str  # task_code or bundle code
    name: str
    name_norm: str
    department_id: int | None
    department_code: str
    department_name: str
    item_type: str  # ItemType code ("" for a bundle)
    item_type_name: str
    audiences: frozenset[str]  # "natural", "legal"
    theme_ids: frozenset[int]
    sort_key: str
    local: bool = False  # implemented in this city (see LOCAL_BOOST)
    groups: frozenset[str] = frozenset()  # the narrow groups its name is for (NARROW_GROUPS)


@dataclass
class Index:
    stamp: tuple[Any, ...]
    docs: list[Doc]
    postings: dict[str, list[tuple[int, float]]]
    idf: dict[str, float]
    browse_order: list[int] = field(default_factory=list)
    # the words of the names and keywords (and the lexicons' words): what a typo is mended to
    words: frozenset[str] = frozenset()
    # their sounds (fuzzy pinyin → words), built on the first query that needs mending
    sounds: dict[str, tuple[str, ...]] | None = None


def _audiences(server_types: Iterable[str]) -> frozenset[str]:
    found: set[str] = set()
    for kind in server_types:
        found.add("natural" if kind == "自然人" else "legal")
    return frozenset(found)


def _stamp() -> tuple[Any, ...]:
    versions = ItemVersion.objects.filter(status=ItemVersion.Status.PUBLISHED).aggregate(
        n=Count("id"), last=Max("published_at"), retired=Max("retired_at")
    )
    bundles = Bundle.objects.aggregate(
        n=Count("id", filter=Q(status=Bundle.Status.PUBLISHED)), last=Max("updated_at")
    )
    return (versions["n"], versions["last"], versions["retired"], bundles["n"], bundles["last"])


def _build(stamp: tuple[Any, ...]) -> Index:
    versions = list(
        ItemVersion.objects.filter(status=ItemVersion.Status.PUBLISHED)
        .select_related("item__department", "item_type")
        .prefetch_related("themes")
        .only(
            "id",
            "name",
            "short_name",
            "keywords",
            "result_name",
            "accept_condition",
            "dept_name",
            "division_code",
            "server_types",
            "item__task_code",
            "item__department__code",
            "item__department__name",
            "item_type__code",
            "item_type__name",
        )
    )
    ids = [v.pk for v in versions]
    materials: dict[int, list[str]] = defaultdict(list)
    for version_id, name in Material.objects.filter(version_id__in=ids).values_list(
        "version_id", "name"
    ):
        materials[version_id].append(name)
    situations: dict[int, list[str]] = defaultdict(list)
    details: dict[int, list[str]] = defaultdict(list)
    for version_id, name, description in Situation.objects.filter(version_id__in=ids).values_list(
        "version_id", "name", "description"
    ):
        situations[version_id].append(name)
        details[version_id].append(description)
    for version_id, question in Faq.objects.filter(version_id__in=ids).values_list(
        "version_id", "question"
    ):
        details[version_id].append(question)

    city_prefix = str(settings.YIWANG_CITY_DIVISION_CODE)[:4]
    docs: list[Doc] = []
    fields: list[dict[str, list[str]]] = []
    for v in versions:
        dept = v.item.department
        docs.append(
            Doc(
                kind="item",
                pk=v.pk,
                code=v.item.task_code,
                name=v.name,
                name_norm=normalize(v.name),
                department_id=dept.pk if dept else None,
                department_code=dept.code if dept else "",
                department_name=v.dept_name or (dept.name if dept else ""),
                item_type=v.item_type.code,
                item_type_name=v.item_type.name,
                audiences=_audiences(v.server_types or []),
                theme_ids=frozenset(t.pk for t in v.themes.all()),
                sort_key=_sort_key(v.name),
                local=dept is not None or v.division_code.startswith(city_prefix),
                groups=frozenset(g for g in NARROW_GROUPS if g in v.name),
            )
        )
        fields.append(
            {
                "name": analyze(f"{v.name} {v.short_name}", with_pinyin=True),
                "keywords": analyze(
                    " ".join([v.keywords, v.result_name, *situations[v.pk]]), with_pinyin=True
                ),
                "materials": analyze(" ".join(materials[v.pk])),
                "department": analyze(v.dept_name),
                "details": analyze(
                    " ".join([v.accept_condition, *details[v.pk]])[:DETAILS_MAX_CHARS]
                ),
            }
        )

    bundles = list(
        Bundle.objects.filter(status=Bundle.Status.PUBLISHED).select_related("lead_department")
    )
    member_names: dict[int, list[str]] = defaultdict(list)
    member_audiences: dict[int, set[str]] = defaultdict(set)
    published_by_item = {v.item_id: v for v in versions}
    for bundle_id, item_id in BundleMember.objects.filter(
        bundle__in=[b.pk for b in bundles]
    ).values_list("bundle_id", "item_id"):
        member = published_by_item.get(item_id)
        if member is not None:
            member_names[bundle_id].append(member.name)
            member_audiences[bundle_id].update(_audiences(member.server_types or []))
    for b in bundles:
        docs.append(
            Doc(
                kind="bundle",
                pk=b.pk,
                code=b.code,
                name=b.name,
                name_norm=normalize(b.name),
                department_id=b.lead_department_id,
                department_code=b.lead_department.code,
                department_name=b.lead_department.name,
                item_type="",
                item_type_name="一件事",
                audiences=frozenset(member_audiences[b.pk]),
                theme_ids=frozenset(),
                sort_key=_sort_key(b.name),
                local=True,  # bundles are led by one of our departments
            )
        )
        fields.append(
            {
                "name": analyze(f"{b.name} 一件事", with_pinyin=True),
                "keywords": analyze(f"{b.keywords} {b.description}", with_pinyin=True),
                "materials": analyze(" ".join(member_names[b.pk])),
                "department": analyze(b.lead_department.name),
                "details": [],
            }
        )
    return _index(stamp, docs, fields)


def _sort_key(name: str) -> str:
    """Names sort by their pinyin syllable by syllable (ji < jian), as a Chinese reader
    expects of a list."""
    return " ".join(
        " ".join(_run_syllables(run)) if _IS_CJK.match(run) else run
        for run in _RUN.findall(normalize(name))
    )


def _index(stamp: tuple[Any, ...], docs: list[Doc], fields: list[dict[str, list[str]]]) -> Index:
    n = len(docs)
    avg = {f: (sum(len(d[f]) for d in fields) / n if n else 1.0) or 1.0 for f in FIELD_WEIGHTS}
    # BM25F: one pseudo term frequency per (term, doc), fields weighted and length-normalised.
    pseudo: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for doc_no, doc_fields in enumerate(fields):
        for f, terms in doc_fields.items():
            if not terms:
                continue
            norm = FIELD_WEIGHTS[f] / (1 - B + B * len(terms) / avg[f])
            counts: dict[str, int] = defaultdict(int)
            for term in terms:
                counts[term] += 1
            for term, tf in counts.items():
                # A name repeats its words in the sub-item's parentheses (律师事务所联营设立
                # (律师事务所…)): in the name a word counts once, elsewhere as often as it occurs.
                pseudo[term][doc_no] += (1 if f == "name" else tf) * norm
    postings: dict[str, list[tuple[int, float]]] = {}
    idf: dict[str, float] = {}
    for term, per_doc in pseudo.items():
        df = len(per_doc)
        idf[term] = math.log(1 + (n - df + 0.5) / (df + 0.5))
        postings[term] = [(d, tf * (K1 + 1) / (tf + K1)) for d, tf in per_doc.items()]
    browse = sorted(range(n), key=lambda i: (docs[i].sort_key, docs[i].code))
    words = {
        term[2:]
        for doc_fields in fields
        for f in ("name", "keywords")
        for term in doc_fields[f]
        if term.startswith("w:")
    }
    return Index(
        stamp=stamp,
        docs=docs,
        postings=postings,
        idf=idf,
        browse_order=browse,
        words=frozenset(words),
    )


_index_lock = threading.Lock()
_current: Index | None = None


def search_index() -> Index:
    """The process's index, rebuilt first if the published catalog changed since it was built."""
    global _current
    stamp = _stamp()
    index = _current
    if index is not None and index.stamp == stamp:
        return index
    with _index_lock:
        if _current is None or _current.stamp != stamp:
            _current = _build(stamp)
        return _current


def search_index_reset() -> None:
    """Forget the index (tests; the stamp makes this unnecessary in production)."""
    global _current
    _current = None


# --------------------------------------------------------------------------------------------
# Searching


@dataclass
class Hit:
    kind: str  # "item" or "bundle"
    code: str  # task_code or bundle code
    score: float
    highlights: list[str]  # the parts of the name that matched the query
    version: ItemVersion | None = None  # for an item: its published version
    bundle: Bundle | None = None  # for a bundle


@dataclass
class SearchResult:
    items: list[Hit]
    count: int


def _matches_filters(
    doc: Doc,
    *,
    kind: str,
    department: int | str | None,
    theme: int | None,
    audience: str | None,
    item_type: str | None,
) -> bool:
    if kind != "all" and doc.kind != kind:
        return False
    if isinstance(department, int):
        if doc.department_id != department:
            return False
    elif department and department not in (doc.department_code, doc.department_name):
        return False
    if theme is not None and theme not in doc.theme_ids:
        return False
    if audience and audience not in doc.audiences:
        return False
    return not (item_type and item_type not in (doc.item_type, doc.item_type_name))


AUDIENCE_ALIASES = {"自然人": "natural", "个人": "natural", "法人": "legal", "企业": "legal"}


def _accumulate(index: Index, terms: Terms) -> dict[int, float]:
    acc: dict[int, float] = defaultdict(float)
    for term, qweight in terms.items():
        plist = index.postings.get(term)
        if not plist:
            continue
        w = index.idf[term] * qweight
        for doc_no, tf_weight in plist:
            acc[doc_no] += w * tf_weight
    return acc


def _score(
    index: Index, query: Query, matched: dict[int, tuple[int, int]] | None = None
) -> dict[int, float]:
    """BM25F per concept (its best alternative), summed; plus the adjacency glue; plus the
    phrase bonus for a name that contains the whole query (as typed or with synonyms).
    ``matched``, if given, receives per document how many strong concepts it matched and how
    many characters of the query they stand for."""
    scores: dict[int, float] = defaultdict(float)
    strong: set[int] = set()  # documents matched by at least one concept that is not weak
    weak = query.weak or (False,) * len(query.concepts)
    sizes = query.sizes or (1,) * len(query.concepts)
    for alternatives, is_weak, size in zip(query.concepts, weak, sizes, strict=True):
        best: dict[int, float] = {}
        for alt in alternatives:
            for doc_no, value in _accumulate(index, alt).items():
                if value > best.get(doc_no, 0.0):
                    best[doc_no] = value
        for doc_no, value in best.items():
            scores[doc_no] += value
        if not is_weak:
            strong.update(best)
            if matched is not None:
                for doc_no in best:
                    found, chars = matched.get(doc_no, (0, 0))
                    matched[doc_no] = (found + 1, chars + size)
    if strong and len(strong) < len(scores):
        # a document only a lone character of a longer query matched (开 of 开奖) is noise
        scores = defaultdict(float, {d: v for d, v in scores.items() if d in strong})
    for doc_no, value in _accumulate(index, query.glue).items():
        if doc_no in scores:
            scores[doc_no] += value
    if query.phrases and scores:
        bonus = PHRASE_BONUS * max(scores.values())
        for doc_no in scores:
            name = index.docs[doc_no].name_norm
            if any(p in name for p in query.phrases):
                scores[doc_no] += bonus
    said = "|".join(term.partition(":")[2] for term in query.terms)
    for doc_no in scores:
        doc = index.docs[doc_no]
        if doc.local:
            scores[doc_no] *= LOCAL_BOOST
        if doc.groups and any(g not in said for g in doc.groups):
            scores[doc_no] *= NARROW_FACTOR
    return scores


def _highlights(name: str, query: Query) -> list[str]:
    """Maximal runs of the name covered by the query's matched words, bigrams or characters."""
    norm = normalize(name)
    if len(norm) != len(name):  # NFKC changed the length: positions would not line up
        norm = name
    covered = [False] * len(norm)
    for term in query.terms:
        kind, _, text = term.partition(":")
        if kind not in ("w", "b", "u", "a") or not text:
            continue
        start = norm.find(text)
        while start >= 0:
            for i in range(start, start + len(text)):
                covered[i] = True
            start = norm.find(text, start + 1)
    runs: list[str] = []
    current = ""
    for ch, on in zip(name, covered, strict=True):
        if on:
            current += ch
        elif current:
            runs.append(current)
            current = ""
    if current:
        runs.append(current)
    return runs


# --------------------------------------------------------------------------------------------
# Typos: a fallback for queries that find nothing good

# Syllables a citizen of this region hears (and types) alike: retroflex and flat initials, n
# and l, the front and back nasal finals. Tones are ignored anyway.
_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"))
_FUZZY_FINALS = (("ang", "an"), ("eng", "en"), ("ing", "in"))
# A mended word differs from what was typed in at most this share of its characters (one of
# two or three, two of six): a typo, not another word.
MEND_MAX_DIFFERENT = 1 / 3
MEND_MAX_WORD = 6
# A mended query that covers as much of itself as the query as typed replaces it only when its
# best document scores this many times higher (低报 → 低保: a word of the catalog, not two
# stray characters).
MEND_SCORE_RATIO = 2.0


@cache
def _fuzzy(syllable: str) -> str:
    for long, short in _FUZZY_INITIALS:
        if syllable.startswith(long):
            syllable = short + syllable[len(long) :]
            break
    for long, short in _FUZZY_FINALS:
        if syllable.endswith(long):
            syllable = syllable[: -len(long)] + short
            break
    return syllable


def _sound(syllables: Iterable[str]) -> str:
    return " ".join(_fuzzy(s) for s in syllables)


def _sounds(index: Index) -> dict[str, tuple[str, ...]]:
    """Fuzzy pinyin → the words of the catalog and of our lexicons that sound like it."""
    if index.sounds is None:
        vocabulary = set(index.words) | set(DOMAIN_WORDS) | set(synonyms())
        for event in life_events():
            for cue in event.cues:
                for part in cue:
                    vocabulary.update(part)
        table: dict[str, list[str]] = defaultdict(list)
        for word in sorted(vocabulary):
            if 1 < len(word) <= MEND_MAX_WORD and all(_IS_CJK.match(ch) for ch in word):
                table[_sound(_run_syllables(word))].append(word)
        index.sounds = {key: tuple(words) for key, words in table.items()}
    return index.sounds


def mend_typos(q: str, index: Index) -> str:
    """The query with each stretch that is no known word but sounds like one (fuzzy pinyin,
    the same length, most characters the same) replaced by that word: 身分证 → 身份证,
    公基金 → 公积金, 低报 → 低保. Longest stretches first, not overlapping; a stretch that is
    a known word as typed is never touched. Returns ``q`` unchanged when nothing applies."""
    sounds = _sounds(index)
    known = index.words
    table = synonyms()
    tokenizer = _jieba()
    longest = max(map(len, (*known, *table)), default=2)
    pieces: list[str] = []
    for match in re.finditer(rf"[{_CJK}]+|[^{_CJK}]+", normalize(q)):
        run = match.group()
        if not _IS_CJK.match(run) or len(run) < 2:
            pieces.append(run)
            continue
        syllables = _run_syllables(run)
        chars = list(run)
        # what is spelt right stays: every character of a word of the catalog or a synonym
        # key found in the run (二手房 is no 二收房); and a stretch of two characters does not
        # touch a word jieba cuts from the run (员工 of 员工开 is no 员公开, 签证 | 延期 no
        # 签证言期), while a longer one may (公基金, cut 公/基金, is 公积金)
        fixed = [False] * len(run)
        in_word = [False] * len(run)
        for _, start, end in tokenizer.tokenize(run, HMM=False):
            if end - start > 1:
                for i in range(start, end):
                    in_word[i] = True
        for size in range(2, min(len(run), longest) + 1):
            for start in range(len(run) - size + 1):
                typed = run[start : start + size]
                if typed in known or typed in table:
                    for i in range(start, start + size):
                        fixed[i] = True
        for size in range(min(MEND_MAX_WORD, len(run)), 1, -1):
            for start in range(len(run) - size + 1):
                if any(fixed[start : start + size]):
                    continue
                if size == 2 and any(in_word[start : start + size]):
                    continue
                typed = run[start : start + size]
                best = _closest(typed, sounds.get(_sound(syllables[start : start + size]), ()))
                if best is not None:
                    chars[start : start + size] = list(best)
                    for i in range(start, start + size):
                        fixed[i] = True
        pieces.append("".join(chars))
    return "".join(pieces)


def _closest(typed: str, candidates: Iterable[str]) -> str | None:
    """The candidate of the typed stretch's length that differs from it in the fewest
    characters (one at least, at most MEND_MAX_DIFFERENT of them)."""
    best: tuple[int, str] | None = None
    for word in candidates:
        if len(word) != len(typed):
            continue
        different = sum(a != b for a, b in zip(word, typed, strict=True))
        allowed = max(1, int(len(typed) * MEND_MAX_DIFFERENT))
        if 0 < different <= allowed and (best is None or different < best[0]):
            best = (different, word)
    return best[1] if best else None


def _coverage(
    query: Query, scores: dict[int, float], matched: dict[int, tuple[int, int]]
) -> tuple[float, int]:
    """The share of the query's strong concepts that its best document matched, and how many
    characters of the query they stand for ((0, 0) when nothing is found): in 医宝报销 the
    best document matches 报销, two characters; in 医保报销 all four."""
    if not scores:
        return 0.0, 0
    top = max(scores, key=lambda d: scores[d])
    concepts = sum(1 for w in (query.weak or (False,) * len(query.concepts)) if not w)
    found, chars = matched.get(top, (0, 0))
    return (found / concepts if concepts else 1.0), chars


def _score_or_mend(index: Index, q: str, query: Query) -> tuple[Query, dict[int, float]]:
    """The query's scores; and when its best document misses a part of it (or nothing is
    found), those of the query with its typos mended, if they cover more of it. A query
    that finds what it says is never touched: the mending is a fallback, not a rewrite."""
    matched: dict[int, tuple[int, int]] = {}
    scores = _score(index, query, matched)
    mended = mend_typos(q, index)
    if mended == normalize(q):
        return query, scores
    other = parse_query(mended)
    other_matched: dict[int, tuple[int, int]] = {}
    other_scores = _score(index, other, other_matched)
    coverage = _coverage(query, scores, matched)
    other_coverage = _coverage(other, other_scores, other_matched)
    if other_coverage > coverage or (
        other_coverage == coverage
        and max(other_scores.values(), default=0.0)
        >= MEND_SCORE_RATIO * max(scores.values(), default=0.0)
    ):
        return other, other_scores
    return query, scores


def catalog_search(
    *,
    q: str,
    department: int | str | None = None,
    theme: int | None = None,
    audience: str | None = None,
    item_type: str | None = None,
    kind: str = "item",
    limit: int = 20,
    offset: int = 0,
) -> SearchResult:
    """Published items matching ``q``, best first; an empty ``q`` browses everything that
    passes the filters, in pinyin order of the name.

    ``department`` is a Department id, code or name (a bundle's lead department), ``theme`` a
    Theme id, ``audience`` ``natural``/``legal`` (or 自然人/法人), ``item_type`` an ItemType code
    or name, ``kind`` ``item`` (hits carry ``version``), ``bundle`` (hits carry ``bundle``) or
    ``all``. Costs the stamp queries, then one query for the page's versions (with the fields
    of LIST_FIELDS; load others yourself for a page) and one for its bundles.
    """
    index = search_index()
    audience = AUDIENCE_ALIASES.get(audience or "", audience)
    q = q.strip()[:MAX_QUERY_LENGTH]
    query = parse_query(q) if q else None
    filters: dict[str, Any] = {
        "kind": kind,
        "department": department,
        "theme": theme,
        "audience": audience,
        "item_type": item_type,
    }
    if query is None:
        ranked = [
            (doc_no, 0.0)
            for doc_no in index.browse_order
            if _matches_filters(index.docs[doc_no], **filters)
        ]
    else:
        query, scores = _score_or_mend(index, q, query)
        ranked = sorted(
            (
                (doc_no, score)
                for doc_no, score in scores.items()
                if _matches_filters(index.docs[doc_no], **filters)
            ),
            key=lambda pair: (-pair[1], index.docs[pair[0]].sort_key),
        )
    page = ranked[offset : offset + limit]
    version_ids = [index.docs[d].pk for d, _ in page if index.docs[d].kind == "item"]
    bundle_ids = [index.docs[d].pk for d, _ in page if index.docs[d].kind == "bundle"]
    versions = (
        # A result list shows a few fields: loading whole versions (process XML, long texts)
        # was half the cost of a search.
        ItemVersion.objects.select_related("item__department", "item_type")
        .only(*LIST_FIELDS)
        .in_bulk(version_ids)
        if version_ids
        else {}
    )
    bundles = (
        Bundle.objects.select_related("lead_department").in_bulk(bundle_ids) if bundle_ids else {}
    )
    hits: list[Hit] = []
    for doc_no, score in page:
        doc = index.docs[doc_no]
        hit = Hit(
            kind=doc.kind,
            code=doc.code,
            score=round(score, 4),
            highlights=_highlights(doc.name, query) if query else [],
        )
        if doc.kind == "item":
            hit.version = versions.get(doc.pk)
            if hit.version is None:  # retired between the stamp and this read
                continue
        else:
            hit.bundle = bundles.get(doc.pk)
            if hit.bundle is None:
                continue
        hits.append(hit)
    return SearchResult(items=hits, count=len(ranked))
