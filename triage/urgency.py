"""Urgency: explicit cue rules combined with the urgency model into a 0–100 score and a level.

Why rules on top of a model: the one error the portal must not make is to queue a report about
something happening *now* (a leak, smoke, people trapped) behind routine hazards. A statistical
model misses rare phrasings; a short, documented list of cue phrases catches them and tells staff
*why* (the phrases are returned as reasons). Critical recall is favoured over precision: any live
(non-negated, not past, not hypothetical) critical cue makes the report critical, and the model's
critical probability has a deliberately low threshold (:data:`MODEL_CRITICAL_THRESHOLD`).

Cue handling is clause-local (split at punctuation) and cheap:
- negation right before the cue (没有冒烟, 没着火, 不会塌) drops the cue;
- a hypothetical marker shortly before it (万一着火, 容易起火, 怕塌) demotes it to ``high``;
- a past-time marker in the same clause without a present marker (上个月着火) demotes it to
  ``high`` (a past accident is typically 瞒报/事故 follow-up, not an emergency).
- gate: a live cue that is not in :data:`STRONG_CUES` counts as critical only with evidence that
  it is happening now — a present marker in the text (现在/正在/刚刚/!!), 了 right after or 在 right
  before the cue (着火了, 在冒烟), or the model's P(critical) ≥ :data:`CUE_MODEL_GATE`, or no model
  at all (fail-safe); otherwise it is ``high``. Undated cues mostly describe standing hazards
  (木屑堆自己冒烟); on CV the gate halves false criticals without losing true ones.
Out-of-scope reports (model says out_of_scope) come back ``low`` unless a live critical cue fires.

Levels map to score bands: critical 85–100, high 65–84, medium 35–64, low 0–34.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

LEVELS = ("critical", "high", "medium", "low")
BANDS: dict[str, tuple[int, int]] = {
    "critical": (85, 100),
    "high": (65, 84),
    "medium": (35, 64),
    "low": (0, 34),
}
# Expected-score weights of the model's class probabilities.
LEVEL_VALUE = {"critical": 95.0, "high": 72.0, "medium": 48.0, "low": 15.0}
# Model-only critical threshold: tuned on 5-fold CV of the corpus for critical recall (README):
# with the cue rules, 0.15 → recall 0.974, precision 0.51; 0.2 → 0.969 / 0.52; 0.3 → 0.949 / 0.61.
MODEL_CRITICAL_THRESHOLD = 0.15
# A non-"strong" live cue makes the report critical only if the text shows it is happening now
# (现在/正在/刚刚/!!) or the model gives critical at least this probability (or no model is
# loaded). 5-fold CV (with the 0.15 model threshold): no gate → recall 0.978 / precision 0.43;
# 0.03 → 0.976 / 0.50; 0.05 → 0.976 / 0.51; 0.1 → 0.976 / 0.51. 0.05 sits low in that flat
# region on purpose: on text unlike the corpus the model's P(critical) drops first.
CUE_MODEL_GATE = 0.05
# A cue directly followed by 了 (着火了, 塌了, 被困了) also passes the gate: it has just happened.
GATE_BY_PERFECTIVE = True
# Cues that are critical on their own: calls for help, and cues that are present-tense by nature
# (an ongoing leak, a smell noticed now).
STRONG_CUES = frozenset({"快来人", "正在泄漏", "浓烈气味", "闻到燃气味"})
# Out-of-scope probability above which a report without live critical cues is forced to low.
OUT_OF_SCOPE_LOW_THRESHOLD = 0.5

_PRESENT = "正在|现在|还在|仍在|一直在|刚才|刚刚|此刻|目前|随时|马上|立刻|赶紧|快来|快派|急|救命|当下"
_PAST = (
    "上周|上个月|上月|去年|前年|前几天|前些天|前段时间|以前|之前|曾经|那次|当时|年前|月前|天前|"
    "昨天|前天|上次|上回|有一次|有一回|过一次|过一回|两次了|几次了|好几次|几回了|经常|有时候|有时|时常|"
    "老是|总是|每次|以往|往常|几年前|早先|过去|往年|年初|月初|已经处理|已处理|处理过|视频"
)
_HYPOTHETICAL = (
    "万一|一旦|如果|要是|假如|容易|可能会|可能|担心|怕|防止|预防|避免|以防|会不会|就会|迟早|早晚|"
    "隐患|风险|存在|恐怕|很可能|生怕|以免|免得|导致|引发|造成|会让|时间长了|有时|经常|老"
)
_NEGATION = re.compile(r"(没有|没|未曾|未|无|别|不会|不是|并非|不(?![停断住少]))[^，。！？；,.!?;]{0,2}$")
_CLAUSE_SPLIT = re.compile(r"[，。！？；,.!?;\n]+")
_PRESENT_RE = re.compile(_PRESENT)
# Text-level "happening now" evidence for the "now" cues.
_NOW_RE = re.compile(
    r"现在|正在|刚刚|刚才|此刻|还在|赶紧|快(来|派|叫|通知)|马上|立刻|[!！]{2,}"
    # a vehicle or boat already under way (dev set, data/dev/urgency_dev.jsonl)
    r"|已经(上了|开到|开出|出了|到了)|开出去了|开到.{0,8}中间|风浪起来|一直在?晃|今天又"
    # corpus CV misses (2nd session): a vehicle under way (在省道上跑), a driver who just drank
    r"|在.{0,6}(路|道|公路|高速)上(跑|开|走)|刚喝完"
)
_PAST_RE = re.compile(_PAST)
_HYPO_RE = re.compile(f"({_HYPOTHETICAL})")
# Single characters that make the *immediately following* cue hypothetical: 一着火, 会塌, 更跑不出.
_IMMEDIATE_HYPO = frozenset("一会更")

# (level, name, pattern). Patterns run on normalised (simplified, corrected) text.
_CUE_SPECS: list[tuple[str, str, str]] = [
    # --- leaks and gas smell ---
    ("critical", "正在泄漏", r"(正在|还在|一直|不停|不断|往外|哗哗|呲呲|嘶嘶|滋滋|呼呼)(地|在)?(泄漏|泄露|漏|渗|冒|喷|滴|流|窜|涌)"),
    ("critical", "泄漏", r"(燃气|煤气|天然气|液化气|氨气|液氨|氯气|氨|管道|管子|气罐|钢瓶|氧气瓶|瓶子|罐体|罐车|槽车|阀门|储罐|罐子?)(泄漏|泄露|漏气|漏了|在漏|漏液|在渗)"),
    ("critical", "漏气", r"漏气了|在漏气|正在漏|漏东西|在喷白气|喷白气|往外涌"),
    ("critical", "浓烈气味", r"(很浓|浓浓|好浓|特别浓|浓烈|刺鼻|呛人|呛得|熏得|冲鼻|臭鸡蛋)的?(燃气|煤气|液化气|天然气|化学|药|氨|硫化氢)?(气)?味"),
    ("critical", "浓烈气味", r"(燃气|煤气|液化气|天然气|氨|臭鸡蛋)味(道)?(很|特别|好|非常|太|越来越)?(浓|大|重|冲|呛)"),
    ("critical", "闻到燃气味", r"闻到(了)?(很浓|浓|一股)?的?(燃气|煤气|液化气|天然气)味"),
    ("critical", "眼睛睁不开", r"眼睛(都)?睁不开|捂着鼻子|喘不上气|喘不过气|呼吸困难"),
    ("critical", "黄烟白烟", r"(黄烟|白烟|黑烟|浓烟|毒烟|白雾)"),
    ("critical", "焦糊味", r"烧焦的?味|焦糊味|糊味|焦味"),
    ("critical", "报警器在响", r"(报警器|探头|警报)(一直|还)?(在)?(响|报警|叫)|(瓦斯|燃气|可燃气体|有毒气体|氨气|一氧化碳)(报警器|探头)?(报警了|在报警|一直在响|在响)"),
    # --- fire and explosion ---
    ("critical", "着火", r"着火|起火|失火|着了火|烧起来|火烧|燃起来|火苗|火光|明火窜|冒火|蹿火|窜火|火势|复燃|烧着了|在烧"),
    ("critical", "冒烟", r"冒烟|冒黑烟|冒白烟|冒黄烟|起烟|烟很大|烟雾"),
    ("critical", "爆炸", r"爆炸了|(?<![气])炸了|(?<![气])爆了|嘭的一声|嘭一声|轰的一声|爆燃"),
    ("critical", "火花", r"冒火星|火花乱飞|短路冒|火星子?(直接)?(往|乱|四)(溅|飞)"),
    # --- collapse and structural failure ---
    ("critical", "坍塌", r"坍塌|塌了|塌下来|要塌|快塌|塌方|倒塌|垮了|垮塌|垮下来|倒下来|断了|挤断|往下掉|掉下来|往下沉|下沉|塌陷|往下滑|滑下来|滑坡|滑了好几米"),
    ("critical", "裂缝越来越大", r"(裂缝|裂口|裂纹|缝)(越来越|越裂越|一直在|又)(变)?(大|宽|长)|越来越(歪|斜|宽)|倾斜越来越|晃得厉害|一直在晃|摇摇晃晃|往外倾|歪到一边"),
    ("critical", "管涌漫坝", r"管涌|漫坝|漫过|决口|溃坝|溃堤|冒水|渗水越来越|水位暴涨|大水冲"),
    # --- people in danger now ---
    ("critical", "人被困", r"被困|困在|困住|困人|关在电梯|卡在|卡住|停在半空|悬在半空|出不来|下不来|没上来|没下来|没出来|被埋|埋在|压在(下面|底下|里面)"
     r"|漂了.{0,6}(小时|分钟|个钟头)|(湖|河|水库|江)中间.{0,4}(坏了|熄火|停了|不动了)"),
    ("critical", "人员伤亡", r"已经死了人|(?<![急吓气笑热累烦愁])死人了|有人死了|没有呼吸|昏迷|晕倒|晕过去|倒在地上|躺在地上|还在地上躺|头晕|头疼|头都疼|中毒|窒息|翻了|落水|掉进|掉河里|扑腾|在水里|侧翻|往外爬|在喊"),
    ("critical", "快来人", r"快来人|赶紧来人|快派人|马上派人|请马上|赶快来|救命|快救|快来|快通知|赶紧通知|赶紧来|马上来|速来|急+[!！]|十万火急|"
     r"(赶紧|赶快|马上|立刻|速)(派|来|去|处理|制止|叫|通知)"),
    ("critical", "卷入机器", r"卷进去|卷进了|绞进去|绞住了|卷住了|机器停不下来|急停(按钮)?(是)?坏"),
    ("critical", "刹车失灵", r"刹车(不行了|失灵|坏了|不中|不灵|没了)|刹车好像(不行|不中|不灵)"),
    ("critical", "压着人", r"压着(人|一个人|个人)|压住了?人|抬不动"),
    ("critical", "开始坍塌", r"开始(掉土|掉渣|掉石头|往下掉|塌|裂|垮|滑|渗)|堤脚.{0,4}掏空"
     # corpus CV misses (g6, 2nd session): "随时会塌", water "快漫上来了"
     r"|随时(都)?(会|可能|要)(塌|垮|倒|掉下来|砸下来)|(快|要|就要)漫(上来|过来|进)|漫上来了"),
    ("critical", "生命支持断电", r"(呼吸机|监护仪|氧气|透析).{0,12}(撑不了|没电|停了|断了)|撑不了多久"),
    ("critical", "即将爆破", r"(打炮眼|装炸药|装药|准备放炮|要放炮|就要爆破).{0,12}(今天|下午|马上|一会|就放|就炸)|(今天|下午|马上|一会儿?)就(放炮|放|炸|爆破)"),
    ("critical", "电线落地", r"电线(现在)?(耷拉|掉|垂|落)在?(路面|地上)|刮断了.{0,4}电线"),
    # --- "now": a dangerous activity that is critical only while it is going on (the report has
    #     a present marker such as 现在/正在/刚刚/还在/!!); otherwise high.
    ("now", "正在违规作业", r"酒驾|喝了?.{0,4}酒.{0,8}(开|上车|驾)|打瞌睡|画龙|飙车|刹不住|往下溜|溜车|陷下去|车身都斜|车都歪|歪了|斜了|在晃|超员|站满了人|坐满了|挤满了|门都快关不上|在电焊|在焊|动火|放炮|打火机|在滴油|冒白气|咝咝|歪歪扭扭|不停航|冒险航行|顶风开船|在路上跑|在往.{1,6}(走|开)"
     r"|门都关不上|塞了.{0,4}(个|名)?(孩子|学生|人)|拉了?(满满)?一(车|船|车斗)(的)?(人|学生|孩子)|一车斗人|吃水很深"
     r"|载了.{0,6}(人|学生|孩子)|逆行"
     r"|塞了?.{0,4}(个|名)(孩子|学生|人)|在.{0,6}(路|道|公路|高速)上(跑|开)|刚喝完"),
    # --- high: magnitude / crowds / concealment (taxonomy: 重大隐患, 瞒报, 人员密集, 大量危化品) ---
    ("high", "几十吨", r"几十吨|几百吨|上百吨|成吨|好几吨|几十桶|几百桶|几百个(桶|罐|瓶)|上百个(桶|罐|瓶)|几十个(罐|钢瓶|气瓶)"),
    ("high", "人员密集", r"人员密集|人很多|人特别多|人太多|挤满|坐满|满是人|几百人|上百人|上千人|很多学生|很多小孩|都是小孩"),
    ("high", "死了人", r"死了|死亡|没抢救过来|没救过来|不行了|出人命|烧伤|重伤|截肢|没气了|人没了"),
    ("high", "瞒报", r"瞒报|谎报|瞒着|不让说|不让对外说|私了|顶包|封口|不让报|压下来"),
    ("high", "重大隐患", r"重大(事故)?隐患|联锁.{0,4}(摘|拆|停|关)|(摘|拆)了?联锁|差一点(就)?出事|差点出事"),
]


@dataclass(frozen=True)
class Cue:
    level: str
    name: str
    pattern: re.Pattern[str]


CUES: tuple[Cue, ...] = tuple(Cue(lv, nm, re.compile(p)) for lv, nm, p in _CUE_SPECS)
CRITICAL_CUE_EXAMPLES = (
    "正在泄漏", "冒烟", "着火", "起火", "裂缝越来越大", "人被困", "困在电梯", "已经死了人",
    "坍塌", "闻到很浓的燃气味",
)


@dataclass(frozen=True)
class CueHit:
    name: str
    phrase: str
    level: str  # effective level after negation/past/hypothetical handling
    status: str  # "live", "past", "hypothetical", "negated", "ungated" (see CUE_MODEL_GATE)
    perfective: bool = False  # cue followed by 了 (着火了, 塌了): it has just happened


@dataclass(frozen=True)
class UrgencyAssessment:
    level: str
    score: int
    reasons: list[str] = field(default_factory=list)
    cues: list[CueHit] = field(default_factory=list)


def _clauses(text: str) -> list[str]:
    return [c for c in _CLAUSE_SPLIT.split(text) if c]


def find_cues(text: str) -> list[CueHit]:
    """All cue hits, one per (cue, clause), with their negation/past/hypothetical status."""
    hits: list[CueHit] = []
    seen: set[tuple[str, str]] = set()
    text_is_now = bool(_NOW_RE.search(text))
    for clause in _clauses(text):
        has_present = bool(_PRESENT_RE.search(clause))
        has_past = bool(_PAST_RE.search(clause))
        for cue in CUES:
            for m in cue.pattern.finditer(clause):
                phrase = m.group(0)
                before = clause[max(0, m.start() - 6) : m.start()]
                if _NEGATION.search(clause[max(0, m.start() - 4) : m.start()]):
                    status = "negated"
                elif (
                    (_HYPO_RE.search(before) or (m.start() > 0 and clause[m.start() - 1] in _IMMEDIATE_HYPO))
                    and "随时" not in before
                    and not _PRESENT_RE.search(before[-2:])
                ):
                    status = "hypothetical"
                elif has_past and not has_present:
                    status = "past"
                else:
                    status = "live"
                if status == "negated":
                    level = "none"
                elif status == "live" and cue.level == "now":
                    level = "critical" if text_is_now else "high"
                elif status == "live":
                    level = cue.level
                else:
                    level = "high"
                key = (cue.name, phrase)
                if key in seen:
                    continue
                seen.add(key)
                # 了 right after (着火了) or 在 right before (在冒烟): happening / just happened
                perfective = (
                    phrase.endswith("了")
                    or clause[m.end() : m.end() + 1] == "了"
                    or clause[max(0, m.start() - 1) : m.start()] == "在"
                )
                hits.append(CueHit(cue.name, phrase, level, status, perfective))
                break  # one hit per cue per clause is enough
    return hits


def _expected_score(proba: Mapping[str, float]) -> float:
    total = sum(proba.get(k, 0.0) for k in LEVELS)
    if total <= 0:
        return LEVEL_VALUE["medium"]
    return sum(LEVEL_VALUE[k] * proba.get(k, 0.0) for k in LEVELS) / total


def _clamp(score: float, level: str) -> int:
    lo, hi = BANDS[level]
    return int(round(min(max(score, lo), hi)))


def assess(
    text: str,
    proba: Mapping[str, float] | None = None,
    out_of_scope_prob: float = 0.0,
    *,
    critical_threshold: float = MODEL_CRITICAL_THRESHOLD,
) -> UrgencyAssessment:
    """Combine cues with the model's urgency probabilities (``None`` → cues only).

    ``text`` must already be normalised (:func:`triage.normalize.normalize`).
    """
    hits = find_cues(text)
    p_crit = proba.get("critical", 0.0) if proba else None
    gate_open = p_crit is None or p_crit >= CUE_MODEL_GATE or bool(_NOW_RE.search(text))
    if not gate_open and GATE_BY_PERFECTIVE:
        hits = [
            h if h.level != "critical" or h.name in STRONG_CUES or h.perfective
            else CueHit(h.name, h.phrase, "high", "ungated", h.perfective)
            for h in hits
        ]
    elif not gate_open:
        hits = [
            h if h.level != "critical" or h.name in STRONG_CUES else CueHit(h.name, h.phrase, "high", "ungated")
            for h in hits
        ]
    live_critical = [h for h in hits if h.level == "critical"]
    high_hits = [h for h in hits if h.level == "high"]
    reasons: list[str] = []
    for h in live_critical + high_hits:
        tag = "" if h.status == "live" else f"（{ {'past': '过去', 'hypothetical': '假设', 'ungated': '未见正在发生'}[h.status] }）"
        r = f"紧急线索：{h.phrase}{tag}" if h.level == "critical" else f"重要线索：{h.phrase}{tag}"
        if r not in reasons:
            reasons.append(r)

    if proba:
        score = _expected_score(proba)
        ordered = sorted(((proba.get(k, 0.0), k) for k in LEVELS), reverse=True)
        model_level = ordered[0][1]
        if proba.get("critical", 0.0) >= critical_threshold:
            model_level = "critical"
    else:
        score = LEVEL_VALUE["medium"]
        model_level = "medium"

    level = model_level
    if live_critical:
        level = "critical"
        score = max(score, 90.0)
    elif high_hits and LEVELS.index(level) > LEVELS.index("high"):
        level = "high"
        score = max(score, 70.0)

    if out_of_scope_prob >= OUT_OF_SCOPE_LOW_THRESHOLD and not live_critical:
        level = "low"
        score = min(score, 20.0)
        reasons.append("非安全生产事项：紧急程度为低")
    elif model_level == "critical" and not live_critical and proba:
        reasons.append(f"模型判断紧急（概率{proba.get('critical', 0.0):.2f}）")
    return UrgencyAssessment(level=level, score=_clamp(score, level), reasons=reasons, cues=hits)
