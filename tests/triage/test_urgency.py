"""Urgency cue rules and their combination with the model."""

from __future__ import annotations

import pytest

from triage.normalize import normalize
from triage.urgency import BANDS, CRITICAL_CUE_EXAMPLES, CUE_MODEL_GATE, assess, find_cues

CRITICAL_SENTENCES = [
    "化工厂的管道正在泄漏，味道很冲",
    "仓库屋顶在冒烟",
    "饭店后厨着火了",
    "厂房起火了，里面还有人",
    "墙上的裂缝越来越大，楼里还住着人",
    "工地有人被困在坑里",
    "电梯坏了，我妈被困在电梯里",
    "有人困在电梯里出不来",
    "车间里已经死了人，老板还让继续干",
    "工地的脚手架坍塌了",
    "楼道里闻到很浓的燃气味",
    "現在倉庫裏正在洩漏，快來人",  # traditional script
    "储罐底下还在滴东西，地上湿了一大片",
    "快来人！厂里出事了",
    "井下瓦斯报警了，还有人没上来",
    "水库大坝下游现在往外冒水",
]


@pytest.mark.parametrize("cue", CRITICAL_CUE_EXAMPLES)
def test_each_documented_critical_cue_triggers_critical(cue: str) -> None:
    a = assess(normalize(f"举报：{cue}，在灵井镇"))
    assert a.level == "critical", (cue, a)
    assert a.score >= BANDS["critical"][0]
    assert any("紧急线索" in r for r in a.reasons)


ROUTINE_MODEL = {"critical": 0.01, "high": 0.04, "medium": 0.9, "low": 0.05}


@pytest.mark.parametrize("text", CRITICAL_SENTENCES)
def test_critical_sentences_without_model(text: str) -> None:
    a = assess(normalize(text))
    assert a.level == "critical", (text, a.cues)


@pytest.mark.parametrize("text", CRITICAL_SENTENCES)
def test_critical_sentences_with_moderate_model(text: str) -> None:
    # a model that gives critical at least CUE_MODEL_GATE lets every live cue through
    a = assess(normalize(text), {"critical": CUE_MODEL_GATE, "high": 0.2, "medium": 0.6, "low": 0.1})
    assert a.level == "critical", (text, a.cues)


@pytest.mark.parametrize(
    "text",
    [
        "仓库屋顶在冒烟",  # 在 + cue: ongoing
        "饭店后厨着火了",  # cue + 了: just happened
        "现在有人被困在坑里",  # present marker
        "楼道里闻到很浓的燃气味",  # present-tense by nature
        "储罐正在泄漏",
        "快来人",
        "脚手架塌了！！",
    ],
)
def test_happening_now_beats_a_confident_routine_model(text: str) -> None:
    a = assess(normalize(text), ROUTINE_MODEL)
    assert a.level == "critical", (text, a.cues)


def test_undated_cue_with_confident_routine_model_is_high_not_critical() -> None:
    # CV: these are mostly descriptions of a standing hazard (木屑堆自己冒烟), kept at high
    a = assess(normalize("院里木屑堆成山，三伏天自己冒烟"), ROUTINE_MODEL)
    assert a.level == "high", a.cues


@pytest.mark.parametrize(
    "text",
    [
        "仓库没有着火，只是消防通道堵了",
        "去年这个厂着过火，现在整改完了",
        "上个月着火了一次，厂里没报",
        "万一着火了人都跑不出去",
        "电线乱拉容易起火",
    ],
)
def test_negated_past_or_hypothetical_cues_are_not_critical(text: str) -> None:
    a = assess(normalize(text), {"critical": 0.02, "high": 0.2, "medium": 0.7, "low": 0.08})
    assert a.level != "critical", (text, a.cues)


@pytest.mark.parametrize(
    "text",
    ["老板拖欠我三个月工资，请帮我讨回来", "楼上邻居半夜装修噪音太大，现在还在响", "燃气费涨价了是怎么回事"],
)
def test_out_of_scope_stays_low(text: str) -> None:
    a = assess(normalize(text), {"critical": 0.05, "high": 0.1, "medium": 0.45, "low": 0.4}, out_of_scope_prob=0.9)
    assert a.level == "low"
    assert a.score <= BANDS["low"][1]


def test_out_of_scope_with_live_critical_cue_is_still_critical() -> None:
    a = assess(normalize("我家楼下着火了，快来人"), {"low": 1.0}, out_of_scope_prob=0.95)
    assert a.level == "critical"


def test_model_probability_alone_can_make_critical() -> None:
    a = assess("车辆在高速上", {"critical": 0.6, "high": 0.2, "medium": 0.1, "low": 0.1})
    assert a.level == "critical"


def test_high_cues_raise_medium_to_high() -> None:
    a = assess(normalize("院子里存了几十吨甲醇"), {"critical": 0.0, "high": 0.1, "medium": 0.8, "low": 0.1})
    assert a.level == "high"
    assert BANDS["high"][0] <= a.score <= BANDS["high"][1]


def test_score_is_within_band_of_level() -> None:
    for probs in ({"low": 1.0}, {"medium": 1.0}, {"high": 1.0}, {"critical": 1.0}, None):
        a = assess("一般情况", probs)
        lo, hi = BANDS[a.level]
        assert lo <= a.score <= hi


def test_cue_phrases_are_reported() -> None:
    hits = find_cues(normalize("储罐区正在泄漏，黄烟往外飘"))
    phrases = {h.phrase for h in hits if h.level == "critical"}
    assert phrases, hits


@pytest.mark.parametrize(
    "text",
    [
        "纺织厂机器卷进去一个女工的头发，机器停不下来",
        "大巴车刹车不行了，司机说凑合开，已经上了高速",
        "三轮拖拉机翻到沟里了，压着人，俺们抬不动",
        "挖砂船把堤脚掏空了，堤上开始掉土",
        "住院部停电了，ICU的呼吸机在用电池，撑不了多久",
        "非法采石的今天在小学后面打炮眼，说下午就放",
        "病房里氧气瓶在漏，旁边就是电暖器",
        "危化品罐车在应急车道上逆行，现在还在跑",
        "游船拉了满满一船人，风浪起来了，船一直晃",
    ],
)
def test_dev_set_cues_make_reports_critical(text: str) -> None:
    from triage.normalize import normalize
    from triage.urgency import assess

    assert assess(normalize(text)).level == "critical", text


@pytest.mark.parametrize("text", ["外卖送晚了，气炸了", "邻居家狗天天叫，吓死人了", "这网站咋登不上，急死人了"])
def test_idioms_are_not_explosions_or_deaths(text: str) -> None:
    from triage.normalize import normalize
    from triage.urgency import assess

    assert assess(normalize(text)).level != "critical", text
