"""reply_check on requests and replies written for these tests (no shared data)."""

from __future__ import annotations

import pytest

from yiwang.hotline.reply_check import (
    RELEVANCE_THRESHOLD,
    ReplyProblem,
    reply_check,
    reply_relevance,
    reply_substance,
)

STREETLIGHT = (
    "幸福路与建设路交叉口的三盏路灯坏了一个多月，晚上一片漆黑，行人过马路很危险，请尽快维修。"
)
STREETLIGHT_FIXED = (
    "市民您好！您反映的幸福路与建设路交叉口路灯不亮问题已收悉。经市政路灯所现场核查，"
    "系电缆老化短路所致，已于3月5日更换电缆并修复三盏路灯，现已恢复照明。感谢您的监督！"
)
NOISE = "锦绣花园小区旁的工地每天夜里施工到凌晨两点，搅拌机噪音很大，孩子无法睡觉。"
HUKOU = "请问外地户口的孩子在本市上小学需要准备哪些材料？"
HUKOU_ANSWER = (
    "您好！根据《本市义务教育阶段入学工作实施办法》规定，非本市户籍适龄儿童入读小学，"
    "需提供父母居住证、社保缴纳证明和孩子的户口簿，可向居住地所在学区的小学报名。"
)


def codes(problems: list[ReplyProblem]) -> list[str]:
    return [p.code for p in problems]


def test_a_reply_saying_what_was_done_and_when_passes():
    assert reply_check(request_text=STREETLIGHT, reply_text=STREETLIGHT_FIXED) == []


def test_a_reply_explaining_the_rules_passes_without_an_action():
    assert reply_check(request_text=HUKOU, reply_text=HUKOU_ANSWER) == []


@pytest.mark.parametrize("reply", ["", "   ", "\n\t"])
def test_an_empty_reply_is_refused_alone(reply):
    problems = reply_check(request_text=STREETLIGHT, reply_text=reply)

    assert problems == [ReplyProblem("hotline.reply_empty", "答复内容为空。")]


@pytest.mark.parametrize("reply", ["已修好", "好的，收到。", "OK"])
def test_a_too_short_reply_is_refused_alone(reply):
    assert codes(reply_check(request_text=STREETLIGHT, reply_text=reply)) == [
        "hotline.reply_too_short"
    ]


@pytest.mark.parametrize(
    "reply",
    [
        "您好，您的诉求已收到，我们正在处理。",
        "感谢您的来信，您反映的问题已收悉，正在处理中，请耐心等待。",
        "市民您好！来信收悉，已转交相关部门调查处理，如有情况将及时反馈。2024年3月5日",
        "尊敬的市民：您好，您的留言已收悉，我们已将您反映的问题转区住建局处理，敬请关注后续回复，谢谢！",
        "感谢您对我们工作的关心和支持，祝您生活愉快！",
    ],
)
def test_stock_phrases_without_substance_are_boilerplate(reply):
    assert codes(reply_check(request_text=STREETLIGHT, reply_text=reply)) == [
        "hotline.reply_boilerplate"
    ]


def test_substance_keeps_what_the_reply_says_and_drops_the_courtesies():
    substance = reply_substance(STREETLIGHT_FIXED)

    assert "更换电缆并修复三盏路灯" in substance
    assert "已收悉" not in substance
    assert "感谢" not in substance


def test_a_reply_about_another_request_is_unrelated():
    problems = reply_check(request_text=NOISE, reply_text=STREETLIGHT_FIXED)

    assert codes(problems) == ["hotline.reply_unrelated"]
    assert problems[0].message == "答复与群众反映的问题不相关，请针对诉求内容作答。"


def test_relevance_is_high_for_the_matching_reply_and_low_for_another():
    matching = reply_relevance(STREETLIGHT, STREETLIGHT_FIXED)
    other = reply_relevance(NOISE, STREETLIGHT_FIXED)

    assert matching > 0.2
    assert other < RELEVANCE_THRESHOLD
    assert reply_relevance(STREETLIGHT, STREETLIGHT) == pytest.approx(1.0)
    assert reply_relevance("", STREETLIGHT_FIXED) == 0.0


def test_relevance_ignores_words_every_reply_shares():
    generic = "您好，关于您反映的问题，相关部门高度重视，进行了调查处理，感谢您的支持。"

    assert reply_relevance(STREETLIGHT, generic) == 0.0


def test_a_promise_without_a_time_has_no_action():
    reply = "您反映的幸福路与建设路交叉口路灯不亮问题，市政路灯所将安排维修三盏路灯。"

    assert codes(reply_check(request_text=STREETLIGHT, reply_text=reply)) == [
        "hotline.reply_no_action"
    ]


@pytest.mark.parametrize(
    "reply",
    [
        "您反映的幸福路与建设路交叉口路灯不亮问题，市政路灯所将于本周内维修三盏路灯。",
        "您反映的幸福路与建设路交叉口路灯不亮问题，市政路灯所计划3月10日前更换路灯电缆。",
        "您反映的幸福路与建设路交叉口路灯不亮问题，市政路灯所将在5个工作日内修复。",
    ],
)
def test_a_promise_with_a_time_passes(reply):
    assert reply_check(request_text=STREETLIGHT, reply_text=reply) == []


def test_a_report_of_what_was_done_passes_without_a_date_unless_resolved_is_claimed():
    reply = "您反映的幸福路与建设路交叉口路灯不亮问题，市政路灯所已更换电缆，三盏路灯恢复照明。"

    assert reply_check(request_text=STREETLIGHT, reply_text=reply) == []
    assert codes(reply_check(request_text=STREETLIGHT, reply_text=reply, outcome="resolved")) == [
        "hotline.reply_no_action"
    ]


def test_the_sign_off_date_is_not_the_time_of_the_action():
    reply = "您反映的幸福路与建设路交叉口路灯不亮问题，市政路灯所将安排维修三盏路灯。2024年3月5日"

    assert codes(reply_check(request_text=STREETLIGHT, reply_text=reply)) == [
        "hotline.reply_no_action"
    ]


def test_a_refusal_without_a_reason_has_no_explanation():
    reply = "您反映的幸福路与建设路交叉口路灯问题，经现场查看，暂不更换三盏路灯。"

    problems = reply_check(request_text=STREETLIGHT, reply_text=reply)

    assert codes(problems) == ["hotline.reply_no_explanation"]
    assert problems[0].message == "答复未说明理由或依据（如“根据《……》规定”“因……”“建议您……”）。"


@pytest.mark.parametrize(
    "reply",
    [
        "您反映的幸福路与建设路交叉口路灯问题，因该路段尚未移交市政，暂不更换三盏路灯，已由开发商于3月5日修复。",
        "您反映的幸福路与建设路交叉口路灯问题，该路段路灯不属于我局管辖，建议您向高新区管委会反映。",
        "您反映的幸福路与建设路交叉口路灯问题，根据《城市照明管理规定》，小区内部路灯不予由市政维修。",
    ],
)
def test_a_refusal_with_a_reason_passes(reply):
    assert reply_check(request_text=STREETLIGHT, reply_text=reply) == []


def test_not_resolvable_needs_an_explanation_even_without_a_refusal_word():
    reply = "您反映的幸福路与建设路交叉口路灯不亮问题，市政路灯所已于3月5日到现场查看三盏路灯。"

    assert reply_check(request_text=STREETLIGHT, reply_text=reply) == []
    assert codes(
        reply_check(request_text=STREETLIGHT, reply_text=reply, outcome="not_resolvable")
    ) == ["hotline.reply_no_explanation"]
    assert codes(reply_check(request_text=STREETLIGHT, reply_text=reply, outcome="explained")) == [
        "hotline.reply_no_explanation"
    ]


def test_explained_does_not_need_an_action():
    assert reply_check(request_text=HUKOU, reply_text=HUKOU_ANSWER, outcome="explained") == []


def test_an_unrelated_reply_can_have_several_problems():
    reply = "锦绣花园小区工地夜间施工问题，执法局将责令施工单位整改。"

    assert codes(reply_check(request_text=STREETLIGHT, reply_text=reply)) == [
        "hotline.reply_unrelated",
        "hotline.reply_no_action",
    ]


def test_an_unknown_outcome_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown reply outcome 'done'"):
        reply_check(request_text=STREETLIGHT, reply_text=STREETLIGHT_FIXED, outcome="done")
