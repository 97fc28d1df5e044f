"""The check a handling unit's reply passes before it reaches the citizen.

Pure Python (no models, no database, no trained model): ``reply_check`` returns the problems
found in a reply to a 12345 request, an empty list when the reply may be sent.

What is refused, in this order (the first three stop the check, since a reply that says nothing
would otherwise collect every other problem too):

- ``hotline.reply_empty``: nothing but whitespace;
- ``hotline.reply_too_short``: fewer than ``MIN_REPLY_CHARS`` Chinese characters or letters;
- ``hotline.reply_boilerplate``: once the stock phrases of ``STOCK_PATTERNS`` are taken out
  (greetings, "已收悉", "已转相关部门调查处理", "如有情况将及时反馈", thanks, sign-off dates …)
  fewer than ``MIN_SUBSTANCE_CHARS`` characters of substance are left;
- ``hotline.reply_unrelated``: ``reply_relevance`` below ``RELEVANCE_THRESHOLD``;
- ``hotline.reply_no_action``: the reply does not say what was or will be done and when. Without
  an ``outcome`` a reply passes with a report of what was done (已更换、经核实 …: the reply's own
  date says when), with what will be done *and* a time (将于本周、3月10日前、5个工作日内 …; the
  sign-off date does not count), or with an explanation (a consultation answered by the rules).
  With ``outcome="resolved"`` an action and an explicit time are both required;
- ``hotline.reply_no_explanation``: the answer is no (不予、无法、不属于、不符合、暂不 …), or
  ``outcome`` is ``"explained"`` or ``"not_resolvable"``, and the reply gives no reason, basis
  or route (依据、根据《…》、因为、由于、规定、建议您 …).

Relevance is computed on the two texts alone: the Ochiai coefficient (binary cosine) of their
sets of character bigrams, after dropping bigrams that touch a function character or are
generic words of any complaint or reply (``GENERIC_WORDS``, written by hand). No corpus
statistics are used, so nothing learnt from any data set ships with the product.

Calibration: the thresholds and lists were chosen by looking at the Teddy Cup 2020 C replies
(``teddy2020c_replies.csv``, evaluation data that stays outside the repository) with
``bench/hotline_replies.py``; ``GENERIC_WORDS`` was completed from the bigrams that unrelated
pairs there happened to share. With ``RELEVANCE_THRESHOLD`` the check refuses about 91 % of
replies paired with another message and accepts 84 % of the real replies, 93 % of those that
are more than a receipt or forwarding note (about one real reply in ten is only that, and is
refused on purpose). These are calibration figures, not blind ones.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Final

from django.utils.translation import gettext as _

__all__ = [
    "MIN_REPLY_CHARS",
    "MIN_SUBSTANCE_CHARS",
    "OUTCOMES",
    "RELEVANCE_THRESHOLD",
    "ReplyProblem",
    "reply_check",
    "reply_relevance",
    "reply_substance",
]

OUTCOMES: Final = frozenset({"resolved", "explained", "not_resolvable"})

MIN_REPLY_CHARS: Final = 10
MIN_SUBSTANCE_CHARS: Final = 12
RELEVANCE_THRESHOLD: Final = 0.022


@dataclass(frozen=True, slots=True)
class ReplyProblem:
    code: str
    message: str


# --- stock phrases -------------------------------------------------------------------------

_DATE = r"(?:\d{2,4}\s*[年./\-]\s*\d{1,2}\s*[月./\-]\s*\d{1,2}\s*日?|\d{1,2}\s*月\s*\d{1,2}\s*日)"
_UNIT = r"[^，,。！!；;：:\s]{0,24}"

# Phrases that carry no substance: a reply made only of these says nothing about the request.
STOCK_PATTERNS: Final[tuple[str, ...]] = (
    # addressing and greeting
    r"(?:尊敬的)?(?:网友|网民|市民|来信人|来信同志|市民同志|同志|用户|先生|女士)?"
    r"\s*[“\"「][^”\"」]{0,30}[”\"」]\s*(?:网友|网民)?\s*[：:，,]?",
    r"(?:尊敬|亲爱)的(?:网友|网民|市民|用户|朋友)",
    r"(?:关于)?(?:您|你)(?:所|们)?(?:反映|提出|咨询|反馈|提到|关心)的?的?(?:问题|情况|事情|事项|建议|意见)(?:已|均已)?",
    r"(?:网友|网民|市民|来信同志|市民同志|来信人)[^，,。！!：:\s]{0,12}?\s*[：:，,]",
    r"(?:网友|网民|市民|同志|朋友|先生|女士)?(?:您|你)好[！!，,。.：:]?",
    r"(?:您|你)的(?:问题|工单|诉求|来电|反映)(?:我们|我[局办院委])?",
    # acknowledgement of receipt
    r"(?:首先)?感谢您?对我们工作的信任和支持[，,。！!]?",
    r"(?:关于)?(?:您|你)?(?:通过|在)?[^，,。！!]{0,24}?(?:的|所)?"
    r"(?:留言|来信|帖文|帖子|信件|诉求|来电|意见|建议|问题|情况)"
    r"(?:已|我[局办院校司委]已|我们已)?(?:收悉|收到|知悉|阅办|阅悉)[！!，,。.]?",
    r"(?:已经?|均已)?(?:收悉|收到|知悉)[！!，,。.]?",
    r"(?:现将|现就|现对)?(?:有关|相关|调查|核实|处理|办理|我们调查处理|调查核实)?"
    r"(?:情况|结果)?(?:回复|答复|报告|说明|汇报)如下[：:，,]?",
    r"现(?:回复|答复)如下[：:，,]?",
    # forwarding and "will be handled" without saying what or when
    r"(?:我们|我[局办院委]|本单位)?(?:已|现已|已经)?(?:将[^，,。！!]{0,20}?)?"
    r"(?:转交?|转办|交办|移交|转给|转至|发函交办|转送|呈送|报送)(?:给|至|到)?"
    + _UNIT
    + r"(?:调查|核实|处理|办理|答复|反馈|核处|关注|处置|办复|予以|进行|研究|阅示|、)*[。！!，,]?",
    r"(?:并|将)?(?:会|将)?(?:尽快|及时)?(?:予以)?(?:调查|核实|处理|办理)(?:后|完毕后)?"
    r"(?:会|将)?(?:及时)?(?:回复|答复|反馈)[^。！!]{0,10}?[。！!，,]?",
    r"(?:如有|若有|有)(?:相关|进一步|最新)?(?:情况|进展|结果)(?:将|会|我们将)?(?:及时)?"
    r"(?:反馈|回复|告知|答复|公布)[^。！!]{0,6}[。！!，,]?",
    r"(?:处理|办理|调查)(?:情况|结果)(?:会|将)?(?:及时)?(?:回复|反馈|告知)给?(?:您|你)?[。！!，,]?",
    r"(?:敬请|请)(?:关注|耐心等待|等待)(?:后续)?(?:回复|结果|处理结果)?[。！!，,]?",
    r"(?:此事|该问题|您反映的问题)?(?:正在|正)(?:调查|处理|办理|交办|核实|研究)+中?[。！!，,]?",
    r"(?:我们|我[局办院委])?(?:高度重视|非常重视)[，,。]?",
    r"(?:我们)?(?:会|将)(?:尽快|及时|认真|积极|抓紧)(?:予以)?(?:处理|研究|办理|核实|调查|落实)+[。！!，,]?",
    r"(?:立即|迅速)?(?:组织|安排)?(?:精干力量|相关人员|工作人员|人员)?进行?了?调查(?:处理|核实)?[，,。]?",
    # thanks, wishes, apologies
    r"(?:再次)?(?:感谢|谢谢)(?:您|你)?(?:的)?(?:对|给)?[^。！!，,]{0,24}?"
    r"(?:关心|关注|支持|理解|监督|信任|建议|来信|留言|意见|反映)+[^。！!]{0,10}?[。！!，,]?",
    r"(?:感谢|谢谢)(?:您|你)?(?:的)?(?:来信|留言|问政|来帖|建议|关注)?[！!。，,]?",
    r"(?:相关)?(?:进度|进展|结果|回复)(?:将|会)(?:第一时间|及时)?[^。！!]{0,10}?(?:反馈|告知|回复|公布)[。！!，,]?",
    r"(?:如有回复|待[^。！!，,]{0,10}?(?:核实|调查|处理)[^。！!，,]{0,6}?后)[，,]?(?:将|再)?(?:第一时间|及时)?"
    r"[^。！!]{0,10}?(?:告知|回复|答复|反馈)[。！!，,]?",
    r"祝(?:您|你)[^。！!]{0,12}[。！!]?",
    r"(?:欢迎|请)(?:您|你)?继续[^。！!]{0,24}[。！!]?",
    r"(?:给您带来的)?不便[，,]?敬请谅解[。！!]?",
    r"特此(?:回复|答复|函复)[。！!]?",
    # dates (sign-off) and masked user ids
    _DATE,
    r"\d{4}\s*[年.]\s*\d{1,2}\s*月?",
    r"[A-Z]{1,3}\d{3,}",
)
_STOCK_RES: Final = tuple(re.compile(p) for p in STOCK_PATTERNS)
_WORD_CHAR = re.compile(r"[\u4e00-\u9fffA-Za-z]")


def _count_word_chars(text: str) -> int:
    return len(_WORD_CHAR.findall(text))


def reply_substance(reply_text: str) -> str:
    """The reply with every stock phrase removed: what is left is what the reply says."""
    text = reply_text
    for pattern in _STOCK_RES:
        text = pattern.sub(" ", text)
    return re.sub(r"[\s，,。.！!：:；;、]+", " ", text).strip()


# --- relevance -----------------------------------------------------------------------------

# Words any complaint or any reply may contain: sharing them says nothing about the topic.
_GENERIC_WORDS_TEXT: Final = """
    问题 工作 您好 你好 情况 部门 反映 相关 政府 进行 回复 有关 咨询 关于 要求 可以 感谢 人员
    管理 目前 处理 根据 如下 一个 规定 居民 投诉 政策 解决 时间 建议 领导 支持 人民 电话 办理
    已经 单位 通过 调查 希望 不能 存在 重视 同时 如果 影响 尊敬 由于 其他 多次 部分 群众 谢谢
    现在 以上 按照 了解 造成 导致 申请 服务 作为 文件 需要 今年 理解 提供 实际 负责 一直 还有
    严重 意见 使用 基本 留言 关心 监督 联系 是否 关注 本人 请求 保障 主要 属于 什么 自己 个人
    直接 通知 社会 所以 为了 具体 条件 以及 依法 市民 非常 正常 安排 范围 所有 符合 对于 经过
    考虑 继续 全部 完成 原因 实施 广大 提出 以来 方式 责任 平台 再次 加强 及时 或者 结果 开始
    地方 目的 办法 发现 协调 合理 不是 答复 因为 得到 每天 告知 期间 至今 网友 网民 来信 收悉
    核实 经查 现将 问政 公司 街道 社区 小区 国家 城市 市委 书记 市长 同志 帖子 帖文 特此 反馈
    积极 认真 高度 立即 尽快 予以 给予 能够 正在 现场 落实 督促 一步 目前 热线 市长 您反 映的
    建设 项目 生活 规划 安全 隐患 任何 组织 措施 采取 严格 上级 发生 明确 确定 原则 各级 一次
    保证 发展 经济 方案 标准 中心 合法 违法 违规 手续 执法 行政 公示 关部 进一 度重 责人 程中
    市人 全隐 限公 有限 意见 问题
    """
GENERIC_WORDS: Final = frozenset(_GENERIC_WORDS_TEXT.split())
# A bigram touching one of these is mostly a fragment across two words.
_FUNCTION_CHARS: Final = frozenset(
    "的了是我你您他她们在和与及对将已等也都就还又而并或其此该这那之于把被让给向从到很更最不没无有为以"
)
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
_HAN_GAP = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")


def _content_bigrams(text: str) -> frozenset[str]:
    grams: set[str] = set()
    # Replies pasted from documents break lines and words with spaces (违法捕 鸟).
    text = _HAN_GAP.sub("", text)
    for run in _HAN_RUN.findall(text):
        for i in range(len(run) - 1):
            gram = run[i : i + 2]
            if gram[0] in _FUNCTION_CHARS or gram[1] in _FUNCTION_CHARS:
                continue
            if gram in GENERIC_WORDS:
                continue
            grams.add(gram)
    return frozenset(grams)


def reply_relevance(request_text: str, reply_text: str) -> float:
    """How much the reply is about the request, from 0 (nothing in common) to 1.

    The Ochiai coefficient |A ∩ B| / sqrt(|A| |B|) of the content bigrams of the two texts.
    Replies usually repeat the request's place names, objects and title, which no other reply
    shares; ``RELEVANCE_THRESHOLD`` is the score below which a reply counts as unrelated.
    """
    request = _content_bigrams(request_text)
    reply = _content_bigrams(reply_text)
    if not request or not reply:
        return 0.0
    return len(request & reply) / math.sqrt(len(request) * len(reply))


# --- action, time, refusal, explanation ----------------------------------------------------

# What was done: reported with the reply, so the reply's own date says when.
_DONE = re.compile(
    "|".join(
        (
            r"已(?:经|于|将|对|把|向|按|由|在|会同|联合|组织|安排|要求|责令|督促|协调|联系|完成|"
            r"整改|拆除|修复|维修|清理|处理|解决|落实|纳入|启动|开展|下达|约谈|立案|查处|处罚|"
            r"告知|通知|回访|更换|安装|增设|设置|恢复|调整|批复|出台|制定|补发|退还|发放|办结|"
            r"核查|派|上门|现场|协商|答复|移送|列入|申报|签订|审核|审批|建成|修建|开通|全部)",
            # a directive, unless promised (将安排维修 is planned, not done)
            r"(?<![将会拟要])(?:责令|要求|督促|约谈|协调|组织|安排|指导|派出|联合)[^，,。！!]{0,20}?"
            r"(?:整改|拆除|修复|维修|清理|清运|处理|施工|停止|改正|完善|落实|补办|退还|支付|"
            r"恢复|检查|核查|调查|执法|处罚|搬离|关闭|撤除|现场)",
            r"(?:目前|现)已",
            r"(?:完工|竣工|通车|投入使用|交付使用|办结|整改到位|拆除完毕|处理完毕|得到解决|得到改善)",
            r"(?:立案|查处|处罚|罚款|约谈|下达[^，,。]{0,8}通知书)",
            r"经过?(?:调查|核实|核查|查|了解|现场|实地|走访|协调|研究|\d|[^，,。！!]{0,16}?(?:决定|同意|批准|研究))",
            r"(?<![将会拟要])责成|已委托|已函告",
        )
    )
)
# What will be done or is under way: needs a time to mean anything to the citizen.
_PLANNED = re.compile(
    "|".join(
        (
            r"将(?!来)",
            r"会(?:尽快|及时|进行|加强|组织|安排|责成|协调|督促|继续|在|对|向)",
            r"(?:计划|预计|拟|准备|争取|力争)",
            r"(?:目前|现)正",
            r"正在(?:进行|开展|施工|推进|实施|办理|建设|编制|制定|研究|协调|组织|筹备|修建|整改)",
            r"(?:开工|动工|启动|实施|完成|完工|通车|开通)",
            r"下一步",
        )
    )
)

_TIME = re.compile(
    "|".join(
        (
            _DATE,
            r"\d{2,4}\s*年\s*\d{1,2}\s*月",
            r"\d{4}\s*年(?:内|底|初|前|以前|上半年|下半年)?",
            r"\d{1,2}\s*月(?:\s*\d{1,2}\s*日|份|初|中旬|上旬|下旬|底|末)?",
            r"(?:\d+|[一二两三四五六七八九十半]+)\s*个?(?:工作日|日|天|周|星期|个月|月|小时)(?:内|之内|以内|前|后)",
            r"(?:届时|待[^。！!]{1,20}?后|近日|近期|日前|目前|现已|当前|已于|将于|于[今本]|当天|当日|次日|即日|随即|随后|"
            r"立即|马上|本周|下周|本月|下月|上月|本年|今年|明年|去年|年内|年底|年初|年中|"
            r"月内|月底|周内|节前|节后|春节|国庆|上午|下午|晚上|当晚|近年|近两年|此前|之前|"
            r"前期|近段时间|第[一二三四]季度|上半年|下半年|寒假|暑假|开学前|汛期|同日|当即)",
        )
    )
)

# "No" to the citizen: only wordings that refuse the request, not every negation (暂未发现 …).
_REFUSAL = re.compile(
    r"不予|不属于|不符合|暂不|不同意|不受理|不具备|不宜|"
    r"无法(?:办理|解决|满足|实施|受理|支持|实现|安排|答复|处理|落实|批准|审批|办|给予|提供|享受|调整)|"
    r"不能(?:办理|解决|受理|支持|满足|享受|报销|迁|落户|批准|审批|给予|提供|调整|安排|实施|过户)|"
    r"暂无(?:计划|政策|规划|此项|相关政策|相关规定|建设计划)|"
    r"没有(?:相关|此项|该项)?(?:政策|规定|依据|计划)|不在[^，,。]{0,8}范围"
)

_EXPLANATION = re.compile(
    "|".join(
        (
            r"依据|根据|按照|依照|遵照|参照|《[^》]{2,60}》|〔|﹝|\[\d{4}\]|【\d{4}】",
            r"规定|条例|办法|细则|政策|文件|标准|法律|法规|规章|规范|第[一二三四五六七八九十百\d]+条",
            r"因|由于|鉴于|原因|所以|之所以|导致|为了|目的|是指|属于|须|需要|应当|必须|程序|流程",
            r"职责|职能|管辖|权限|范畴|主体|责任单位|主管部门|条件|考虑到|为此|经[^，,。]{0,12}(?:考察|论证|评估|研究)",
            r"建议(?:您|你)|请(?:您|你)|(?:您|你)可(?:以)?|可以|可(?:以)?(?:致电|拨打|咨询|向|到|通过|携带|登录|"
            r"前往|联系|申请)|法律途径|诉讼|仲裁|复议|信访|咨询电话|联系电话|"
            r"请(?:致电|拨打|咨询|联系|同|关注|向|到|携带|登录|前往|来)|如有(?:疑问|不明|疑惑|问题)|需",
        )
    )
)


def _without_signoff(text: str) -> str:
    """Drop a trailing sign-off date, which says when the reply was written, not the work."""
    return re.sub(
        r"(?:\s|[^\s。！!]){0,24}?" + _DATE + r"[\s。.]*$|\d{4}\.\d{1,2}\.\d{1,2}[\s。.]*$",
        "",
        text.strip(),
    )


def reply_check(
    *, request_text: str, reply_text: str, outcome: str | None = None
) -> list[ReplyProblem]:
    """Problems that keep ``reply_text`` from being sent as the answer to ``request_text``.

    ``outcome`` is what the handling unit says the reply is: ``"resolved"`` (the matter was
    dealt with: an action and a time are required), ``"explained"`` (an answer or explanation:
    a reason or basis is required) or ``"not_resolvable"`` (cannot be done: a reason or basis
    is required). Without it the reply needs an action with a time or an explanation.
    """
    if outcome is not None and outcome not in OUTCOMES:
        raise ValueError(f"unknown reply outcome {outcome!r}")
    text = reply_text.strip()
    if not text:
        return [ReplyProblem("hotline.reply_empty", _("答复内容为空。"))]
    if _count_word_chars(text) < MIN_REPLY_CHARS:
        return [
            ReplyProblem(
                "hotline.reply_too_short",
                _("答复过短，请写明办理情况、结果或依据。"),
            )
        ]
    substance = reply_substance(text)
    if _count_word_chars(substance) < MIN_SUBSTANCE_CHARS:
        return [
            ReplyProblem(
                "hotline.reply_boilerplate",
                _("答复只有“已收悉”“已转相关部门”“感谢来信”等套话，没有实质内容。"),
            )
        ]

    problems: list[ReplyProblem] = []
    if reply_relevance(request_text, text) < RELEVANCE_THRESHOLD:
        problems.append(
            ReplyProblem(
                "hotline.reply_unrelated",
                _("答复与群众反映的问题不相关，请针对诉求内容作答。"),
            )
        )

    body = _without_signoff(text)
    has_done = _DONE.search(body) is not None
    has_planned = _PLANNED.search(body) is not None
    has_time = _TIME.search(body) is not None
    has_explanation = _EXPLANATION.search(body) is not None
    refuses = _REFUSAL.search(body) is not None

    if outcome == "resolved":
        lacks_action = not ((has_done or has_planned) and has_time)
    elif outcome is None:
        lacks_action = not (has_explanation or has_done or (has_planned and has_time))
    else:
        lacks_action = False
    if lacks_action:
        problems.append(
            ReplyProblem(
                "hotline.reply_no_action",
                _("答复未说明已做或将做什么以及办理时间（如“已于3月5日……”“将于本周内……”）。"),
            )
        )
    if (refuses or outcome in {"explained", "not_resolvable"}) and not has_explanation:
        problems.append(
            ReplyProblem(
                "hotline.reply_no_explanation",
                _("答复未说明理由或依据（如“根据《……》规定”“因……”“建议您……”）。"),
            )
        )
    return problems
