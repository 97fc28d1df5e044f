"""Emergencies that the 12345 hotline must hand over at once to 110 / 119 / 120 / 122.

国办函〔2025〕66号 asks the hotline to transfer emergencies immediately to 110/119/120/122
(standards.md §3.2). ``emergency_detect`` flags a text that reports one *now*, from a lexicon we
wrote ourselves (no model, no data):

- ``fire`` → 119: 着火了、起火、火灾、火势 …
- ``gas_leak`` → 119: 燃气/煤气/天然气泄漏、闻到煤气味 … In China a gas leak indoors is reported
  to 119 (the fire and rescue service handles hazardous leaks) and to the gas company's 24-hour
  repair line; 110 is not the first call. The label says to leave the room and call from outside.
- ``crime`` → 110: a crime or violence in progress (持刀、砍人、抢劫、正在打人、有人撬门 …).
- ``traffic`` → 122: a traffic accident (车祸、撞车、翻车 …); the label adds 120 when people are
  hurt.
- ``medical`` → 120: 晕倒、昏迷、没有呼吸、大出血、溺水、要跳楼 …

Precision comes first: a human operator reads every call anyway, and a flag on an ordinary
complaint ("消防通道被占，万一着火怎么办", "上个月着火的房子还没修", "这个路口经常发生车祸")
would train operators to ignore the flag. Each kind has *strong* terms (着火了、火势、持刀、相撞、
晕倒 …), which report an emergency by themselves, and *weak* terms (火灾、车祸、打架、受伤 …),
which complaints also use about past events or risks. A term counts only when:

- it is not negated just before it (没有着火、未发生火灾);
- its sentence is not hypothetical, about risk, rules or money, a procedural question or a figure
  of speech (万一、如果、隐患、防止、演练、请问、赔偿、就像、难道 …);
- its clause carries no date ("4月23日23时刚起火" is an account, not a call);
- its sentence is not about the past or a habit (上个月、去年、之前、经常、多次 …) and the text
  does not tell the aftermath (扑灭、事发后、派出所、住院 …), unless the term's own clause says
  it is happening now (现在、正在、刚、突然 …);
- a weak term is moreover told as happening now: a "now" word in its clause, a clause-final 了
  (落水了，), a present subject or progressive before it (有人抢劫、正在…), a second sign of the
  same emergency in the sentence (冒烟 … 着火), or, for a road accident, people hurt — and its
  sentence is not a question.

Calibration (the lexicon is ours; these texts stay outside the repository): which terms are
strong was decided by counting, for every weak term, how many of the 14,270 ordinary messages
of the shared data (MSGABench + Teddy Cup 2020 C) it would flag; only terms with no hit were
made strong. bench/hotline_replies.py measures the flag rate on those messages (so it is not a
blind figure). Recall was measured on reports written by us in five rounds, each written before
looking at the detector's answers and then used to improve it (tests/test_emergency.py keeps them
all); the last round, blind, found 14 of 25 reports, none of its 26 ordinary requests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from django.utils.translation import gettext as _

__all__ = ["Emergency", "emergency_detect"]


@dataclass(frozen=True, slots=True)
class Emergency:
    kind: str
    number: str
    label: str
    matched: str


# (kind, number, strong terms, weak terms), in the order a mixed report is classified: a fire
# or a gas leak first (the whole building is in danger), then violence, then a road accident,
# then a person taken ill.
_LEXICON: Final[tuple[tuple[str, str, str, str], ...]] = (
    (
        "gas_leak",
        "119",
        r"(?:燃气|煤气|天然气|液化气|液化石油气)(?:管道?|罐|瓶|灶|表|阀门?)?(?:泄漏|泄露|漏气|外泄)|"
        r"(?:闻到|有|好大的?|很浓的?|浓烈的?|都是|全是|满是|一股)[^，,。！!]{0,6}?"
        r"(?:煤气|燃气|天然气|液化气)味|"
        r"(?:燃气|煤气|天然气)(?:管|阀)(?:道|子|门)?(?:被)?[^，,。]{0,2}?(?:断|破|裂|爆|坏)了",
        r"漏气|嘶嘶",
    ),
    (
        "fire",
        "119",
        r"着火了|起火了|失火了|烧起来了|火烧起来|烧着了|火势|浓烟滚滚|冒出浓烟|被火围|困在火|"
        r"快来灭火|火光冲天|(?:往外|窗户|窗口|屋里|楼里)冒火|冒火苗|火往|火越烧越大|爆燃|自燃了|"
        r"在烧(?![烤水饭菜纸香])|(?:楼道|屋里|房间|家里|楼里|走廊)(?:全是|都是|满是|到处是)(?:黑)?烟|"
        r"(?:黑烟|浓烟|火)(?:一直|不停地?)?(?:往外|往上|往楼上)冒|"
        r"(?:冒|窜|蹿)出?(?:很大的?|好大的?|很高的?)?火(?![车锅])|火(?:已经)?(?:窜|蹿|烧)到|"
        r"火苗(?:有|窜|蹿|很高|很大|好大)|火(?:很|好|非常|越来越)大",
        r"着火|起火|失火|火灾|大火|浓烟|黑烟|救火(?![车栓])",
    ),
    (
        "crime",
        "110",
        r"持刀|拿着?(?:刀|菜刀|砍刀|斧头|棍子?|棒子?|铁棍|砖头)(?:在|[^，,。！!]{0,4}?(?:砍|捅|追|打|威胁|伤))|砍人|捅人|杀人了|行凶|持枪|开枪|"
        r"枪声|劫持|入室抢|打劫|抢包|抢孩子|打群架|群殴|打起来了|砸店|砸车|偷东西|"
        r"(?:正在|在)(?:打人|打我|砍|抢劫|抢钱|砸门|砸窗|砸我家)|有人(?:砸门|砸窗|抢劫|抢钱)|"
        r"把人打|被打得|被[^，,。！!]{1,6}?打(?:了|伤)|有人要杀|爆炸了|被(?:人)?跟踪了|"
        r"有人(?:在)?(?:跟踪|尾随)我|(?:家里|屋里|店里)进(?:了)?(?:小偷|贼|坏人)|"
        r"被(?:人)?绑(?:在|起来|架了)|非法拘禁|(?:把|被)[^，,。]{0,4}?(?:锁|关)在[^，,。]{0,4}?(?:不让|出不去)|"
        r"(?:孩子|小孩|女儿|儿子)被[^，,。]{0,8}?(?:抱走|抢走|带走|拐走)|(?:拿|用|在)[^，,。]{0,4}?砸人|(?:正在|在)撬|围着打|围殴|"
        r"抢了[^，,。]{0,6}?(?:手机|包|钱|东西|项链)|不让我(?:下车|走|出去|离开)",
        r"打人|殴打|斗殴|打架|打砸|小偷|盗窃|家暴|被打|抢劫|抢钱|抢走|闯进|闯入|强奸|猥亵|"
        r"威胁要|爆炸|(?<!定时)炸弹|绑架|要(?:杀|弄死|打死)(?:了)?我|砸东西|撬锁|撬门",
    ),
    (
        "traffic",
        "122",
        r"(?:车|人)被撞(?:倒|飞|伤)|被车撞(?:倒|飞|伤)?了|撞倒了?人|压在车下|卡在车里|困在车里|"
        r"撞车|相撞|追尾|翻车|侧翻|车翻了|连环撞|连撞|撞了?人|撞伤|撞在一起|撞翻|"
        r"出车祸了|发生车祸了|冲下|坠(?:河|江|桥)|翻在路|冲进[^，,。]{0,6}?(?:河|江|湖|沟|水|塘)|"
        r"撞了[^。！!]{0,12}?(?:躺在|倒在)(?:地上|路上|路中间)",
        r"车祸|交通事故|被车撞|肇事|逃逸|撞上了?|撞断|掉下去|逆行|撞了",
    ),
    (
        "medical",
        "120",
        r"晕倒了?|昏倒了?|昏迷|倒地不起|不省人事|叫不醒|没(?:有)?了?呼吸|没有心跳|心脏骤停|"
        r"心脏病(?:发作|犯了)|流血不止|血流不止|大出血|抽搐|口吐白沫|快不行了|溺水|淹死|"
        r"掉(?:进|到)?[^，,。]{0,4}?(?:河|水|湖|塘|井|江)里|掉进[^，,。]{0,4}?(?:河|水|湖|塘|井|江)|"
        r"说不出话|嘴(?:也)?歪了|口角歪斜|吐血|头破了|头破血流|"
        r"(?:卡住|噎住|呛住)了?[^。！!，,]{0,4}?(?:喘不|透不过|说不出话)|(?:要|想|准备|正在)跳楼|"
        r"喝了农药|喝农药了|吞了?安眠药|吃了(?:一瓶|很多|大量|整瓶|一整瓶)安眠药|割腕|触电了|"
        r"被电(?:到|击)了?|煤气中毒了|一氧化碳中毒了|(?<!心)(?:在|还在)流血|"
        r"流了(?:很多|好多|一地)血|满身是血|满脸是血|"
        r"(?:摔|掉|跌|坠)下来[^。！!]{0,6}?(?:流|不动|昏|晕|血)|"
        r"有人(?:从[^，,。]{0,8})?(?:掉|摔|跌|坠)下来|(?:倒|躺)在地上不动|"
        r"(?:倒|躺)在[^，,。]{0,4}(?:地上|路边|路上|地下)[^。！!]{0,4}?(?:一动不动|没反应|叫不醒)|"
        r"烧伤|烫伤|跳楼(?!机)|落水|透不过气|晕过去|昏过去|昏昏沉沉|(?:身子|身体|腿|人)动不了|"
        r"动不了了|卷进|跳下去|误吃|误服|胸口(?:剧痛|疼|痛)|心口(?:剧痛|疼|痛)|胸痛|"
        r"脸色(?:发白|发紫|苍白)|嘴唇发紫|抽筋|坠楼|羊水破了|要生了|倒下了|在挣扎|"
        r"吃了毒蘑菇|上吐下泻|被[^，,。]{0,4}咬了[^。！!]{0,6}?血",
        r"(?<!紧)急救(?!车)|救护车|受伤|重伤|摔伤|砸伤|骨折|中毒|流血|呼吸困难|心梗|"
        r"中风(?![险*])|触电|自杀|摔倒|喘不(?:上|过)气|起不来|一动不动|滚下来|摔下来|高烧不退|说胡话",
    ),
)


def _label(key: str) -> str:
    # Literal msgids so that makemessages finds them.
    labels = {
        "gas_leak": _("燃气泄漏：请立即撤离，到室外拨打119和燃气公司抢修电话，勿开关电器"),
        "fire": _("火警：请立即拨打119"),
        "crime": _("警情：请立即拨打110"),
        "traffic": _("交通事故：请立即拨打122"),
        "traffic_injured": _("交通事故有人受伤：请立即拨打122和120"),
        "medical": _("急救：请立即拨打120"),
    }
    return labels[key]


_COMPILED: Final = tuple(
    (kind, number, re.compile(strong), re.compile(weak)) for kind, number, strong, weak in _LEXICON
)

# Happening now.
_NOW: Final = re.compile(
    r"(?<![到至])现在|正在|刚|突然|此刻|此时|这会儿|快来|快救|救命|请速|速来|"
    r"还在(?:烧|冒|打|砍|流血|漏)"
)
# Negation right before the term.
_NEGATION: Final = re.compile(
    r"(?:没有|没|未|不是|并非|并未|无|不会|不能|不要|别|禁止|严禁|防止|谨防)$"
)
# The sentence is hypothetical, about risk or prevention, or a general question.
_HYPOTHETICAL: Final = re.compile(
    r"如果|万一|假如|假若|倘若|一旦|要是|若是|若有|会不会|可能会|容易|担心|害怕|恐怕|隐患|风险|"
    r"安全问题|防范|预防|防止|避免|杜绝|演练|宣传|培训|知识|消防(?:通道|设施|检查|安全|器材|栓|验收)|"
    r"请问|咨询|如何|哪里可以|去哪里|能否|可否|能不能|是否|可以吗|如何处理|谁来负责|谁负责|应急预案|保险|赔偿|理赔|报销|鉴定|起诉|判决|法院|仲裁|"
    r"电影|电视剧|游戏|新闻|报道|小说|如遇|若遇|遇有|一遇|极易|易引发|易造成|会引发|会导致|会造成|"
    r"烟囱|烟窗|烟筒|污染|排放|有什么区别|有何区别|简直|无异于|相当于|难道|非得等|非要等|等到|"
    r"如某|例如|比如|譬如|如有|遇到[^，,。]{0,8}会|减少|就像|仿佛|似的|如同|(?<!可)怕|存在[^，,。]{0,12}危险|是不是|岂不是"
)
# The sentence is about the past or about something that keeps happening.
_PAST_OR_HABIT: Final = re.compile(
    r"上个?月|上周|上星期|去年|前年|昨天|昨晚|前天|前几天|前段时间|以前|之前|曾经|曾|当年|当时|"
    r"那次|那年|年前|月前|天前|多年|\d{4}年|\d{1,2}月\d{1,2}日|已经?(?:扑灭|熄灭|处理|解决|结案|过去|出院|"
    r"痊愈|赔偿)|被扑灭|还没(?:修|赔|处理|解决)|至今|经常|常常|时常|多次|屡次|频繁|频发|总是|"
    r"每次|每天|每晚|每年|接二连三|屡屡|司空见惯|多起|连续发生|几次|好几次|常有|时有|事故多发|[到至]现在|直到|"
    r"(?:遇|遭遇|遇到|出|发生|经历|受)过|事发|出事|\d{1,2}号|因(?:车祸|交通事故|火灾|意外|工伤)|"
    r"留下|后遗症|残疾|过了[\d一两三四五六七八九十几]+[天周月年]|因为|由于"
)
# Somewhere in the text the event is over or already with the police: a report after the fact.
_AFTERMATH: Final = re.compile(
    r"扑灭|熄灭|灭火器将火|事发后|事后|出事后|后来|报警后|报了警|已报警|派出所|民警|公安机关|立案|"
    r"有视频|有录音|监控显示|住院|出院|治疗费|医药费|工伤|私了|调解|去世|离世|丧葬"
)
# Right before a weak term: someone is doing it (有人抢劫) or it is under way (正在…).
_LIVE_BEFORE: Final = re.compile(
    r"(?:正在|还在|一直在)$|(?:有人|有个|一群|一伙|[一两三四五几]个)[^，,。！!？?；;]{0,10}$"
)
# 了 closing a clause (落水了，), not 了 inside a longer verb phrase (被打了隔断).
_PERFECTIVE: Final = re.compile(r"(?:来|起来|下来|过来|上来)?了(?:[，,。！!；;\s]|$)")
_QUESTION: Final = re.compile(r"[？?]\s*$")
_RHETORICAL: Final = re.compile(r"吗|难道|岂")
# A second sign of the same emergency in the sentence makes a weak term a report
# ("宿舍楼冒烟了，好像是哪个寝室着火").
_CORROBORATION: Final = {
    "gas_leak": re.compile(r"(?:煤气|燃气|天然气|液化气)|气味|味道很"),
    "fire": re.compile(r"冒烟|火苗|火(?:很|好|越)|烧起来|在烧|烧到|被困"),
    "crime": re.compile(r"救命|刀|棍|血|受伤"),
    "traffic": re.compile(r"受伤|流血|血|倒在|躺在|被困|卡在"),
    "medical": re.compile(r"救命|不行了|没反应|血|昏|晕|送医院"),
}
_DATED: Final = re.compile(
    r"\d{1,2}\s*月\s*\d{1,2}\s*[日号]|\d{4}\s*年|\d{1,2}\s*[日号]\s*\d{1,2}\s*[时点]"
)
_INJURY: Final = re.compile(
    r"受伤|伤者|伤员|流血|出血|是血|昏迷|压在|卡在|骨折|重伤|不省人事|死|(?:倒|躺)在(?:地上|路上|路中间)"
)
_SENTENCE: Final = re.compile(r"[^。！!？?；;\n]+[。！!？?；;\n]*")
_CLAUSE: Final = re.compile(r"[^，,、：:]+")


def _term_found(pattern: re.Pattern[str], sentence: str) -> str | None:
    """The first occurrence of ``pattern`` that is not negated, or None."""
    for match in pattern.finditer(sentence):
        before = sentence[max(0, match.start() - 3) : match.start()]
        if not _NEGATION.search(before):
            return match.group()
    return None


def _clause_of(sentence: str, term: str) -> str:
    for match in _CLAUSE.finditer(sentence):
        if term in match.group():
            return match.group()
    return sentence


def _live_weak_term(pattern: re.Pattern[str], sentence: str, kind: str) -> str | None:
    """The first weak term told as happening now: a "now" word in its clause, a perfective 了
    right after it (落水了), a present subject or progressive right before it (有人抢劫、
    在撬锁), or, for a road accident, people hurt in the same sentence."""
    for match in pattern.finditer(sentence):
        start, end = match.span()
        if _NEGATION.search(sentence[max(0, start - 3) : start]):
            continue
        term = match.group()
        if _QUESTION.search(sentence):
            return None  # "能弥补一起交通事故吗？" asks, it does not report
        if (
            _NOW.search(_clause_of(sentence, term))
            or _PERFECTIVE.match(sentence, end)
            or (term.endswith("了") and _PERFECTIVE.match(sentence, end - 1))
            or _LIVE_BEFORE.search(sentence[max(0, start - 10) : start])
            or (kind == "traffic" and _INJURY.search(sentence))
            or _CORROBORATION[kind].search(sentence.replace(term, "", 1))
        ):
            return term
    return None


def emergency_detect(text: str) -> Emergency | None:
    """The emergency ``text`` reports as happening now, or None for an ordinary request."""
    aftermath = _AFTERMATH.search(text) is not None
    for sentence in _SENTENCE.findall(text):
        if _HYPOTHETICAL.search(sentence) or _RHETORICAL.search(sentence):
            continue
        past = _PAST_OR_HABIT.search(sentence) is not None
        for kind, number, strong, weak in _COMPILED:
            term = _term_found(strong, sentence) or _live_weak_term(weak, sentence, kind)
            if term is None:
                continue
            clause = _clause_of(sentence, term)
            if _DATED.search(clause):
                continue  # "4月23日23时刚起火" is a dated account, not a call for help
            if (past or aftermath) and not _NOW.search(clause):
                continue
            key = kind
            if kind == "traffic" and _INJURY.search(sentence):
                key = "traffic_injured"
            return Emergency(kind=kind, number=number, label=_label(key), matched=term)
    return None
