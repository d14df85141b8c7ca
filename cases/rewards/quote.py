"""The reward computation: facts of a checked case in, a cited, step-by-step quote out.

Why a pure function over plain facts: finance staff, the reporter's reward notice and the audit
all need the same number and the same reasons, and a reviewer must be able to redo it by hand
from the breakdown. Each step's result is rounded half up to the yuan before the next step uses
it, so the breakdown is exactly what was computed. Nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from cases.rewards.rules import (
    ACCIDENT_GRADES,
    DEFAULT_RULE_SET,
    REASONS,
    REPORT_TYPES,
    RULE_SETS,
    Params,
    RuleSet,
    grade_for_deaths,
    grade_rank,
)

MAX_AMOUNT = 10**12  # yuan; anything larger is a typing error, not a fine
MAX_JOINT = 1000


class FactsError(ValueError):
    """Bad facts. ``zh`` and ``en`` say what is wrong, for staff and for logs."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en


@dataclass(frozen=True)
class Facts:
    """What the check established. Defaults describe a clean case; the workflow passes actuals."""

    report_type: str
    rule_set: str = DEFAULT_RULE_SET
    penalty_amount: int | float | Decimal = 0  # 罚款, yuan
    confiscated_amount: int | float | Decimal = 0  # 没收违法所得, yuan
    listed_situation: bool = False
    deaths_concealed: int = 0
    accident_grade: str | None = None  # None: the lowest grade the concealed deaths allow
    internal: bool = False
    joint_reporters: int = 1
    first_accepted: bool = True
    already_known: bool = False
    excluded_person: bool = False
    confirmed: bool = True

    def __post_init__(self) -> None:
        _str(self.rule_set, "rule_set", RULE_SETS)
        _str(self.report_type, "report_type", REPORT_TYPES)
        for name in ("penalty_amount", "confiscated_amount"):
            object.__setattr__(self, name, _money(getattr(self, name), name))
        for name in ("listed_situation", "internal", "first_accepted", "already_known", "excluded_person", "confirmed"):
            if not isinstance(getattr(self, name), bool):
                raise FactsError(f"{name} 必须为 true 或 false", f"{name} must be true or false")
        _int(self.deaths_concealed, "deaths_concealed", 0, 100_000)
        _int(self.joint_reporters, "joint_reporters", 1, MAX_JOINT)
        if self.accident_grade is not None:
            _str(self.accident_grade, "accident_grade", ACCIDENT_GRADES)
            least = grade_for_deaths(self.deaths_concealed)
            if grade_rank(self.accident_grade) < grade_rank(least):
                raise FactsError(
                    f"事故等级“{ACCIDENT_GRADES[self.accident_grade]}”低于瞒报死亡{self.deaths_concealed}人对应的等级",
                    f"accident_grade {self.accident_grade!r} is lower than the grade "
                    f"{self.deaths_concealed} concealed deaths imply ({least!r})",
                )

    @classmethod
    def from_dict(cls, data: Any) -> Facts:
        if not isinstance(data, dict):
            raise FactsError("事实必须是一个 JSON 对象", "facts must be one JSON object")
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise FactsError(f"未知字段：{', '.join(unknown)}", f"unknown keys: {', '.join(unknown)}")
        if "report_type" not in data:
            raise FactsError("缺少 report_type（举报类型）", "report_type is required")
        return cls(**data)


@dataclass(frozen=True)
class Step:
    step: str  # what was done, in Chinese
    amount: int  # the value this step produces, yuan
    article: str  # the rule it applies


@dataclass(frozen=True)
class Reason:
    code: str
    reason: str
    article: str


@dataclass(frozen=True)
class Quote:
    eligible: bool
    amount: int  # total reward, yuan
    rule_set: str
    breakdown: tuple[Step, ...]
    reasons_ineligible: tuple[Reason, ...]
    joint_reporters: int = 1
    per_person: int = 0  # the equal share (remainder yuan go to the first signatories)
    shares: tuple[int, ...] = ()  # per signatory, in signing order; sums to amount
    notes: tuple[str, ...] = ()
    parameters: dict[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def quote(facts: Facts | dict[str, Any], params: Params | None = None) -> Quote:
    """Quote the reward for ``facts``. ``params`` None → Params.from_env() (PORTAL_REWARD_*)."""
    f = facts if isinstance(facts, Facts) else Facts.from_dict(facts)
    p = params if params is not None else Params.from_env()
    rs = RULE_SETS[f.rule_set]
    n = f.joint_reporters
    common = {"rule_set": rs.code, "joint_reporters": n, "parameters": p.to_dict()}
    reasons = _reasons(f, rs, p)
    if reasons:
        return Quote(False, 0, breakdown=(), reasons_ineligible=reasons, shares=(0,) * n, **common)
    steps: list[Step] = []
    notes: list[str] = []
    if f.report_type == "concealed_accident" and f.deaths_concealed > 0:
        base = _by_deaths(f, rs, steps)
    else:
        base = _by_penalty(f, rs, p, steps, notes)
    total = _uplift(f, rs, p, base, steps, notes)
    per, shares = _split(total, n)
    if n > 1:
        extra = f"（余数{total - per * n}元由排名在前的署名人各多得1元）" if total != per * n else ""
        steps.append(Step(f"联名举报{n}人平均分配：每人{_y(per)}{extra}，由第一署名人或其书面委托的署名人领取",
                          total, rs.articles["joint"]))
    return Quote(True, total, breakdown=tuple(steps), reasons_ineligible=(), per_person=per, shares=shares,
                 notes=tuple(notes), **common)


def _reasons(f: Facts, rs: RuleSet, p: Params) -> tuple[Reason, ...]:
    t = f.report_type
    checks = [
        ("out_of_scope", t == "out_of_scope"),
        ("general_hazard_not_listed", t == "general_hazard" and not (f.listed_situation and rs.listed_situations)),
        ("no_concealed_deaths",
         t == "concealed_accident" and f.deaths_concealed == 0 and p.concealed_without_deaths == "none"),
        ("not_confirmed", not f.confirmed),
        ("already_known", f.already_known),
        ("not_first_accepted", not f.first_accepted),
        ("excluded_person", f.excluded_person),
    ]
    return tuple(Reason(c, REASONS[c][0], rs.articles[REASONS[c][1]]) for c, hit in checks if hit)


def _by_deaths(f: Facts, rs: RuleSet, steps: list[Step]) -> int:
    grade = f.accident_grade or grade_for_deaths(f.deaths_concealed)
    each = rs.death_rewards[grade]
    how = "" if f.accident_grade else "（未给出事故等级，按死亡人数对应的最低等级）"
    amount = each * f.deaths_concealed
    steps.append(Step(f"瞒报谎报{ACCIDENT_GRADES[grade]}事故{how}：查实瞒报谎报死亡{f.deaths_concealed}人 × "
                      f"每人{_y(each)}", amount, rs.articles["concealed"]))
    return _cap(amount, rs, steps, "奖励")


def _by_penalty(f: Facts, rs: RuleSet, p: Params, steps: list[Step], notes: list[str]) -> int:
    fine, gains = Decimal(f.penalty_amount), Decimal(f.confiscated_amount)
    if p.include_confiscated:
        basis = _round(fine + gains)
        text = f"行政处罚金额基数：罚款{_y(fine)} + 没收违法所得{_y(gains)}"
    else:
        basis = _round(fine)
        text = f"行政处罚金额基数：罚款{_y(fine)}（没收违法所得{_y(gains)}不计入）"
    steps.append(Step(text, basis, rs.articles["basis"]))
    listed_only = f.report_type == "general_hazard"  # eligible only as a listed situation
    if f.report_type == "concealed_accident":
        notes.append("未查实瞒报谎报死亡人数，按安全生产违法行为计奖（参数 concealed_without_deaths=violation）[I]")
        rate, floor, article = rs.hazard_rate, rs.hazard_floor, rs.articles["violation"]
    elif listed_only:
        rate, floor, article = p.listed_rate, rs.listed_floor, rs.articles["listed"]
    else:
        rate, floor, article = rs.hazard_rate, rs.hazard_floor, rs.articles["hazard"]
        if f.listed_situation and rs.listed_situations:
            notes.append(f"同时属于列举情形：列举情形最低{_y(rs.listed_floor)}低于本类最低{_y(floor)}，按本类标准")
    amount = _round(Decimal(basis) * rate)
    label, rate_article = "", article
    if listed_only:
        label = "河南省列举情形，"
        rate_article = f"{article}；计奖比例为本系统参数 listed_rate（文件只定最低、最高额，比例为推定 [I]）"
    steps.append(Step(f"{label}按行政处罚金额的{_pct(rate)}计算", amount, rate_article))
    if amount < floor:
        amount = floor
        steps.append(Step(f"不足最低奖励{_y(floor)}，按最低奖励计", amount, article))
    return _cap(amount, rs, steps, "奖励")


def _uplift(f: Facts, rs: RuleSet, p: Params, base: int, steps: list[Step], notes: list[str]) -> int:
    if not f.internal:
        return base
    if rs.internal_rate == 0:
        notes.append(f"内部举报人：{rs.code} 未规定上浮，按基础奖励计")
        return base
    if f.report_type == "concealed_accident" and not p.uplift_on_concealed:
        notes.append("内部举报人：参数 uplift_on_concealed=false，瞒报谎报事故奖励不上浮")
        return base
    article = rs.articles["internal"]
    uplift = _round(Decimal(base) * rs.internal_rate)
    steps.append(Step(f"内部举报人（从业人员举报本单位）上浮{_pct(rs.internal_rate)}", uplift, article))
    if uplift < rs.internal_floor:
        uplift = rs.internal_floor
        steps.append(Step(f"上浮不足{_y(rs.internal_floor)}，按最低上浮计", uplift, article))
    if p.cap_applies_to == "uplift":
        uplift = _cap(uplift, rs, steps, "上浮部分")
    total = base + uplift
    steps.append(Step(f"合计：基础奖励{_y(base)} + 上浮{_y(uplift)}", total, article))
    return _cap(total, rs, steps, "合计") if p.cap_applies_to == "total" else total


def _cap(amount: int, rs: RuleSet, steps: list[Step], what: str) -> int:
    if amount > rs.cap:
        steps.append(Step(f"{what}超过最高奖励{_y(rs.cap)}，按最高奖励计", rs.cap, rs.articles["cap"]))
        return rs.cap
    return amount


def _split(total: int, n: int) -> tuple[int, tuple[int, ...]]:
    per, rest = divmod(total, n)
    return per, tuple(per + 1 if i < rest else per for i in range(n))


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _y(value: int | Decimal) -> str:
    if isinstance(value, Decimal) and value != value.to_integral_value():
        return f"¥{value:,.2f}"
    return f"¥{int(value):,}"


def _pct(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


def _str(value: object, name: str, allowed: dict[str, str]) -> None:
    if not isinstance(value, str) or value not in allowed:
        choices = ", ".join(allowed)
        raise FactsError(f"{name} 取值无效：{value!r}（可选：{choices}）", f"invalid {name} {value!r} (one of: {choices})")


def _int(value: object, name: str, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FactsError(f"{name} 必须是 {low} 到 {high} 之间的整数：{value!r}",
                         f"{name} must be an integer from {low} to {high}, not {value!r}")


def _money(value: object, name: str) -> Decimal:
    ok = isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)
    amount = Decimal(str(value)) if ok else None
    if amount is None or not amount.is_finite():
        raise FactsError(f"{name} 必须是数字（元）：{value!r}", f"{name} must be a number of yuan, not {value!r}")
    if amount < 0:
        raise FactsError(f"{name} 不能为负数：{value!r}", f"{name} must not be negative, not {value!r}")
    if amount > MAX_AMOUNT:
        raise FactsError(f"{name} 超出合理范围（≤ {MAX_AMOUNT}）：{value!r}", f"{name} is implausibly large: {value!r}")
    return amount
