"""Reward rule sets (versioned, with effective dates) and the parameters for unclear rules.

Why data and not code: the figures change with each provincial revision (Henan 2019 → 2022 →
2025) while the arithmetic does not, and a quote must say which version it used and cite the
document behind every step. A new revision is a new ``RuleSet`` entry, never an edit of an old
one, so quotes made under earlier rules stay reproducible.

``Params`` holds the choices rules.md marks [R]/[I] or leaves ambiguous; each default is the value
rules.md gives and is explained in docs/rewards.md. Article numbers are cited only where rules.md
has verified them; otherwise the citation names the document, the clause by content and the
rules.md row, rather than guessing a 第X条.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType

# Project codes (data/taxonomy.json "report_types"); a test keeps the two in step.
REPORT_TYPES: dict[str, str] = {
    "major_hazard": "重大事故隐患",
    "general_hazard": "一般事故隐患",
    "illegal_operation": "非法违法生产经营建设行为",
    "concealed_accident": "瞒报谎报事故",
    "out_of_scope": "非安全生产事项",
}

# Accident grades (国务院令第493号), lowest first, with the fewest deaths that force each grade.
ACCIDENT_GRADES: dict[str, str] = {"general": "一般", "larger": "较大", "major": "重大", "especially_major": "特别重大"}
GRADE_MIN_DEATHS: dict[str, int] = {"general": 0, "larger": 3, "major": 10, "especially_major": 30}



def grade_rank(grade: str) -> int:
    return list(ACCIDENT_GRADES).index(grade)


def grade_for_deaths(deaths: int) -> str:
    """The lowest accident grade (国务院令第493号) that ``deaths`` deaths force."""
    return max((g for g, least in GRADE_MIN_DEATHS.items() if deaths >= least), key=grade_rank)


LAW_ART76 = "《中华人民共和国安全生产法》(2021) 第七十六条"
RULES_MD = "rules.md §4"


@dataclass(frozen=True)
class RuleSet:
    """One version of the reward rules. Money in integer yuan, rates as exact decimals."""

    code: str
    document: str  # the citation form of the governing document
    effective_from: date
    effective_basis: str  # how the date is known; unverified dates say so
    hazard_rate: Decimal
    hazard_floor: int
    cap: int
    death_rewards: Mapping[str, int]  # per concealed death, by final accident grade
    listed_situations: bool  # has a list of rewarded situations (Henan 2025: 148)
    listed_floor: int
    internal_rate: Decimal  # uplift for 从业人员 reporting their own employer; 0 = none
    internal_floor: int  # the least uplift, 0 = none stated
    articles: Mapping[str, str]  # clause key -> citation


def _articles(doc: str, internal: str, listed: str = "") -> Mapping[str, str]:
    a = {
        "scope": f"{LAW_ART76}（奖励举报重大事故隐患、安全生产违法行为）；{doc}；{RULES_MD}、§2",
        "basis": f"{doc} 奖励标准条款（按行政处罚金额计算）；没收违法所得是否计入为本系统参数"
        f" include_confiscated（{RULES_MD} [I]）",
        "hazard": f"{doc} 奖励标准条款（重大事故隐患、违法生产经营建设：行政处罚金额15%，最低3000元）；"
        f"{RULES_MD} 表第1行",
        "concealed": f"{doc} 奖励标准条款（瞒报谎报事故：按最终确认的事故等级和查实瞒报谎报死亡人数计奖）；"
        f"{RULES_MD} 表第3行",
        "cap": f"{doc} 奖励标准条款（最高奖励不超过30万元）；{RULES_MD}",
        "internal": internal,
        "eligibility": f"{doc} 奖励条件（核查属实、举报前未被掌握或掌握后未依法处理）；{RULES_MD} Eligibility [V/R]",
        "exclusion": f"{doc} 不予奖励情形（负有安全监管职责人员及其近亲属、代理人）；{RULES_MD} Excluded [R]",
        "duplicate": f"多人举报同一事项仅奖励最先受理的举报（{RULES_MD} Duplicates [V 2012]）",
        "joint": f"联名举报可平均分配，由第一署名人或其书面委托的署名人领取（{RULES_MD} Joint reports [V 2012]）",
        "violation": f"{LAW_ART76}；瞒报谎报事故本身属安全生产违法行为，未查实瞒报死亡时按违法行为计奖"
        f"（本系统参数 concealed_without_deaths，{RULES_MD} [I]）",
    }
    if listed:
        a["listed"] = listed
    return MappingProxyType(a)


DEATHS = MappingProxyType({"general": 30_000, "larger": 40_000, "major": 50_000, "especially_major": 60_000})

_N18 = "《安全生产领域举报奖励办法》(安监总财〔2018〕19号)"
_H22 = "《河南省安全生产领域举报奖励实施办法》(豫应急〔2022〕133号)"
_H25 = "《河南省安全生产领域举报奖励办法》(2025年修订，省应急管理厅等6部门联合印发)"

_NATIONAL_2018 = RuleSet(
    code="national-2018",
    document=_N18,
    effective_from=date(2018, 1, 4),
    effective_basis="rules.md §1：2018-01-04 与财政部联合印发 [V]",
    hazard_rate=Decimal("0.15"),
    hazard_floor=3_000,
    cap=300_000,
    death_rewards=DEATHS,
    listed_situations=False,
    listed_floor=0,
    internal_rate=Decimal("0"),
    internal_floor=0,
    articles=_articles(
        _N18,
        internal="《生产经营单位从业人员安全生产举报处理规定》(应急〔2020〕69号)：内部举报人的更高奖励由各省规定；"
        f"全国办法本身不设上浮（{RULES_MD}、§1）",
    ),
)

RULE_SETS: dict[str, RuleSet] = {
    "national-2018": _NATIONAL_2018,
    "henan-2022": replace(
        _NATIONAL_2018,  # same rates, floors, cap and per-death amounts; only the uplift differs
        code="henan-2022",
        document=_H22,
        # Unverified: rules.md gives the document number, not its 施行日期. 2022-01-01 is a
        # placeholder — confirm against the document before relying on rule_set_for() in 2022.
        effective_from=date(2022, 1, 1),
        effective_basis="未核实：rules.md 只给出文号（2022年），以2022-01-01为占位日期，须按文件施行日期更正 [R]",
        internal_rate=Decimal("0.10"),
        articles=_articles(
            _H22,
            internal=f"{_H22} 从业人员举报本单位事故隐患和违法行为：奖励在相应标准基础上上浮10%"
            f"（未规定最低上浮额）；{RULES_MD} 表第5行 [V~]",
        ),
    ),
    "henan-2025": replace(
        _NATIONAL_2018,  # adds the listed situations and a 15 % uplift with a ¥1,000 floor
        code="henan-2025",
        document=_H25,
        # Henan's press conference on its implementation was held on 2025-05-30, so the rules were
        # in force by then; the exact 施行日期 is not in rules.md.
        effective_from=date(2025, 5, 30),
        effective_basis="近似：2025-05-30 省政府新闻发布会介绍该办法贯彻实施（已施行），确切施行日期待核实 [R]",
        listed_situations=True,
        listed_floor=1_000,
        internal_rate=Decimal("0.15"),
        internal_floor=1_000,
        articles=_articles(
            _H25,
            internal=f"{_H25} 从业人员举报本单位事故隐患和违法行为：在相应标准基础上上浮15%，最低上浮1000元，"
            f"最高不超过30万元；{RULES_MD} 表第4行 [V]",
            listed=f"{_H25} 举报《河南省安全生产领域举报奖励情形》所列情形（148种）：最低1000元，最高不超过30万元；"
            f"{RULES_MD} 表第2行 [V]",
        ),
    ),
}
DEFAULT_RULE_SET = "henan-2025"


def rule_set_for(when: date | datetime) -> RuleSet:
    """The rule set in force on ``when`` (the latest whose effective date is not after it).
    Which date to pass (acceptance, check conclusion or reward decision) is the workflow's
    choice; docs/rewards.md recommends the acceptance date. Raises LookupError before 2018."""
    day = when.date() if isinstance(when, datetime) else when
    in_force = [rs for rs in RULE_SETS.values() if rs.effective_from <= day]
    if not in_force:
        raise LookupError(f"no reward rule set in force on {day.isoformat()}")
    return max(in_force, key=lambda rs: rs.effective_from)


# Reasons a report gets no reward: code -> (Chinese text, article key in RuleSet.articles).
REASONS: dict[str, tuple[str, str]] = {
    "out_of_scope": ("不属于安全生产举报事项，不在奖励范围", "scope"),
    "general_hazard_not_listed": (
        "一般事故隐患不在奖励范围（仅河南2025年办法列举的情形可奖励；本案未认定为列举情形，或所选规则集无列举情形）",
        "scope",
    ),
    "no_concealed_deaths": ("未查实瞒报谎报死亡人数，按参数 concealed_without_deaths=none 不予奖励", "concealed"),
    "not_confirmed": ("举报事项经核查不属实", "eligibility"),
    "already_known": ("举报事项在举报前已被生产经营单位或监管部门掌握并依法处理", "eligibility"),
    "not_first_accepted": ("同一事项已有他人先行举报并被受理，仅最先受理的举报可获奖励", "duplicate"),
    "excluded_person": ("举报人申报为负有安全生产监管职责的人员、其近亲属或代理人，不予奖励", "exclusion"),
}

CAP_MODES = ("total", "uplift")
CONCEALED_WITHOUT_DEATHS_MODES = ("violation", "none")


@dataclass(frozen=True)
class Params:
    """Choices the sources leave open. Defaults follow rules.md; see docs/rewards.md.

    include_confiscated: 没收违法所得 counts in the 行政处罚金额 basis (rules.md §4 [I], default include).
    cap_applies_to: "total" — the ¥300,000 cap bounds base + internal uplift; "uplift" — it bounds
      the uplift on its own (base and uplift each ≤ cap). rules.md §4: unclear, default total.
    listed_rate: rate applied to the basis for a Henan listed situation; the 2025 text fixes only
      the ¥1,000 floor and ¥300,000 cap, so 15% (as for major hazards) is an inference [I].
    concealed_without_deaths: a confirmed concealed/falsely reported accident with no concealed
      death — "violation" rewards it as a 违法行为 (15% of the penalty, floor ¥3,000) [I];
      "none" makes it ineligible.
    uplift_on_concealed: the internal uplift also applies to concealed-accident rewards [I] (the
      Henan texts speak of 事故隐患和安全生产违法行为; concealment is a 违法行为).
    """

    include_confiscated: bool = True
    cap_applies_to: str = "total"
    listed_rate: Decimal = Decimal("0.15")
    concealed_without_deaths: str = "violation"
    uplift_on_concealed: bool = True

    def __post_init__(self) -> None:
        if self.cap_applies_to not in CAP_MODES:
            raise ValueError(f"cap_applies_to must be one of {CAP_MODES}, not {self.cap_applies_to!r}")
        if self.concealed_without_deaths not in CONCEALED_WITHOUT_DEATHS_MODES:
            raise ValueError(
                f"concealed_without_deaths must be one of {CONCEALED_WITHOUT_DEATHS_MODES}, "
                f"not {self.concealed_without_deaths!r}"
            )
        rate = Decimal(str(self.listed_rate))
        if not rate.is_finite() or not Decimal(0) <= rate <= Decimal(1):
            raise ValueError(f"listed_rate must be between 0 and 1, not {self.listed_rate!r}")
        object.__setattr__(self, "listed_rate", rate)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Params:
        """Read PORTAL_REWARD_* variables (unset → the documented default). Raises ValueError."""
        env = os.environ if env is None else env
        base = cls()
        return cls(
            include_confiscated=_flag(env, "PORTAL_REWARD_INCLUDE_CONFISCATED", base.include_confiscated),
            cap_applies_to=env.get("PORTAL_REWARD_CAP_APPLIES_TO", base.cap_applies_to),
            listed_rate=_rate(env, "PORTAL_REWARD_LISTED_RATE", base.listed_rate),
            concealed_without_deaths=env.get("PORTAL_REWARD_CONCEALED_WITHOUT_DEATHS", base.concealed_without_deaths),
            uplift_on_concealed=_flag(env, "PORTAL_REWARD_UPLIFT_ON_CONCEALED", base.uplift_on_concealed),
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "include_confiscated": self.include_confiscated,
            "cap_applies_to": self.cap_applies_to,
            "listed_rate": str(self.listed_rate),
            "concealed_without_deaths": self.concealed_without_deaths,
            "uplift_on_concealed": self.uplift_on_concealed,
        }


def _rate(env: Mapping[str, str], name: str, default: Decimal) -> Decimal:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        return Decimal(raw.strip())
    except ArithmeticError:
        raise ValueError(f"{name} must be a decimal number such as 0.15, not {raw!r}") from None


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be true or false, not {raw!r}")
