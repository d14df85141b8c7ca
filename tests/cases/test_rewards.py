"""The reward rule engine: the worked examples from rules.md §4 and the issue, every ineligibility
reason, the parameters, the CLI contract, and properties that must hold for any facts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cases.rewards import (
    REPORT_TYPES,
    RULE_SETS,
    Facts,
    FactsError,
    Params,
    grade_for_deaths,
    quote,
    rule_set_for,
)

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = Params()


def q(params: Params = DEFAULT, **facts: Any):  # type: ignore[no-untyped-def]
    return quote(facts, params)


def amounts(result) -> list[int]:  # type: ignore[no-untyped-def]
    return [s.amount for s in result.breakdown]


# --- worked examples -------------------------------------------------------------------------

def test_rules_md_worked_example_internal_reporter_henan_2025() -> None:
    r = q(rule_set="henan-2025", report_type="major_hazard", penalty_amount=10_000, internal=True)
    assert r.eligible and r.amount == 4_000
    # 10,000 basis → 15% = 1,500 → floor 3,000 → uplift 15% = 450 → uplift floor 1,000 → 4,000
    assert amounts(r) == [10_000, 1_500, 3_000, 450, 1_000, 4_000]
    assert r.reasons_ineligible == ()


def test_four_concealed_deaths_in_a_larger_accident() -> None:
    r = q(report_type="concealed_accident", deaths_concealed=4, accident_grade="larger")
    assert r.eligible and r.amount == 160_000
    assert "较大" in r.breakdown[0].step and "4人" in r.breakdown[0].step


@pytest.mark.parametrize(("grade", "each"), [("general", 30_000), ("larger", 40_000), ("major", 50_000),
                                             ("especially_major", 60_000)])
def test_per_death_amounts_by_grade(grade: str, each: int) -> None:
    assert q(report_type="concealed_accident", deaths_concealed=1, accident_grade=grade).amount == each


def test_cap_at_300000_concealed() -> None:
    r = q(report_type="concealed_accident", deaths_concealed=10, accident_grade="major")  # 500,000
    assert r.amount == 300_000
    assert r.breakdown[-1].amount == 300_000 and "最高" in r.breakdown[-1].step


def test_cap_at_300000_penalty() -> None:
    r = q(report_type="illegal_operation", penalty_amount=5_000_000)  # 15% = 750,000
    assert r.amount == 300_000
    assert amounts(r) == [5_000_000, 750_000, 300_000]


def test_floor_3000_case() -> None:
    r = q(report_type="illegal_operation", penalty_amount=2_000)  # 15% = 300
    assert r.amount == 3_000
    assert amounts(r) == [2_000, 300, 3_000]


def test_above_floor_is_plain_15_percent_rounded_half_up() -> None:
    assert q(report_type="major_hazard", penalty_amount=100_000).amount == 15_000
    assert q(report_type="major_hazard", penalty_amount=40_003).amount == 6_000  # 6,000.45 → 6,000
    assert q(report_type="major_hazard", penalty_amount=40_010).amount == 6_002  # 6,001.5 → 6,002 (half up)
    assert q(report_type="major_hazard", penalty_amount=40_030).amount == 6_005  # 6,004.5 → 6,005 (not half-even)


def test_henan_listed_general_hazard_floor_1000() -> None:
    r = q(report_type="general_hazard", listed_situation=True, penalty_amount=2_000)
    assert r.eligible and r.amount == 1_000
    assert "所列情形" in r.breakdown[-1].article
    assert "listed_rate" in r.breakdown[1].article


def test_listed_major_hazard_keeps_the_3000_floor() -> None:
    r = q(report_type="major_hazard", listed_situation=True, penalty_amount=0)
    assert r.amount == 3_000 and r.notes


def test_internal_uplift_by_rule_set() -> None:
    facts = {"report_type": "major_hazard", "penalty_amount": 100_000, "internal": True}
    assert quote({**facts, "rule_set": "henan-2025"}, DEFAULT).amount == 15_000 + 2_250
    assert quote({**facts, "rule_set": "henan-2022"}, DEFAULT).amount == 15_000 + 1_500
    national = quote({**facts, "rule_set": "national-2018"}, DEFAULT)
    assert national.amount == 15_000 and any("未规定上浮" in n for n in national.notes)
    # Henan 2022 states no least uplift: 10% of 3,000 stays 300.
    assert quote({**facts, "rule_set": "henan-2022", "penalty_amount": 0}, DEFAULT).amount == 3_300


def test_internal_uplift_on_concealed_accident_parameter() -> None:
    facts = {"report_type": "concealed_accident", "deaths_concealed": 2, "accident_grade": "general", "internal": True}
    assert quote(facts, DEFAULT).amount == 60_000 + 9_000
    assert quote(facts, Params(uplift_on_concealed=False)).amount == 60_000


# --- eligibility ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("facts", "code"),
    [
        ({"already_known": True}, "already_known"),
        ({"excluded_person": True}, "excluded_person"),
        ({"first_accepted": False}, "not_first_accepted"),
        ({"confirmed": False}, "not_confirmed"),
        ({"report_type": "out_of_scope"}, "out_of_scope"),
        ({"report_type": "general_hazard"}, "general_hazard_not_listed"),
        ({"report_type": "general_hazard", "listed_situation": True, "rule_set": "henan-2022"},
         "general_hazard_not_listed"),
    ],
)
def test_each_ineligibility_reason(facts: dict[str, Any], code: str) -> None:
    r = quote({"report_type": "major_hazard", "penalty_amount": 50_000, **facts}, DEFAULT)
    assert not r.eligible and r.amount == 0
    assert [x.code for x in r.reasons_ineligible] == [code]
    assert r.reasons_ineligible[0].reason and r.reasons_ineligible[0].article
    assert r.breakdown == ()


def test_all_reasons_are_listed_together() -> None:
    r = q(report_type="out_of_scope", already_known=True, excluded_person=True)
    assert {x.code for x in r.reasons_ineligible} == {"out_of_scope", "already_known", "excluded_person"}


def test_concealed_accident_without_deaths_parameter() -> None:
    facts = {"report_type": "concealed_accident", "penalty_amount": 200_000}
    as_violation = quote(facts, DEFAULT)
    assert as_violation.eligible and as_violation.amount == 30_000 and as_violation.notes
    none = quote(facts, Params(concealed_without_deaths="none"))
    assert not none.eligible and [x.code for x in none.reasons_ineligible] == ["no_concealed_deaths"]


# --- joint reporters and parameters -----------------------------------------------------------

def test_joint_reporters_equal_split() -> None:
    r = q(report_type="major_hazard", penalty_amount=100_000, joint_reporters=4)
    assert r.amount == 15_000 and r.per_person == 3_750 and r.shares == (3_750,) * 4
    odd = q(report_type="concealed_accident", deaths_concealed=4, accident_grade="larger", joint_reporters=3)
    assert odd.amount == 160_000 and odd.per_person == 53_333 and odd.shares == (53_334, 53_333, 53_333)
    assert "第一署名人" in odd.breakdown[-1].step


def test_confiscated_gains_parameter() -> None:
    facts = {"report_type": "illegal_operation", "penalty_amount": 50_000, "confiscated_amount": 30_000}
    assert quote(facts, DEFAULT).amount == 12_000  # 15% × 80,000
    assert quote(facts, Params(include_confiscated=False)).amount == 7_500  # 15% × 50,000


def test_cap_on_uplift_parameter() -> None:
    facts = {"report_type": "major_hazard", "penalty_amount": 3_000_000, "internal": True}  # base 300,000 after cap
    assert quote(facts, DEFAULT).amount == 300_000
    r = quote(facts, Params(cap_applies_to="uplift"))
    assert r.amount == 345_000  # base 300,000 + uplift 45,000 (uplift itself under the cap)
    big = quote({**facts, "report_type": "concealed_accident", "deaths_concealed": 40}, Params(cap_applies_to="uplift"))
    assert big.amount == 345_000


def test_listed_rate_parameter() -> None:
    facts = {"report_type": "general_hazard", "listed_situation": True, "penalty_amount": 20_000}
    assert quote(facts, DEFAULT).amount == 3_000
    assert quote(facts, Params(listed_rate=Decimal("0"))).amount == 1_000


def test_params_from_env() -> None:
    env = {"PORTAL_REWARD_INCLUDE_CONFISCATED": "false", "PORTAL_REWARD_CAP_APPLIES_TO": "uplift"}
    p = Params.from_env(env)
    assert not p.include_confiscated and p.cap_applies_to == "uplift"
    assert Params.from_env({}) == Params()
    with pytest.raises(ValueError):
        Params.from_env({"PORTAL_REWARD_CAP_APPLIES_TO": "base"})
    with pytest.raises(ValueError):
        Params.from_env({"PORTAL_REWARD_LISTED_RATE": "fifteen"})


# --- rule sets, citations, validation ---------------------------------------------------------

def test_report_types_match_the_taxonomy() -> None:
    taxonomy = json.loads((ROOT / "data" / "taxonomy.json").read_text(encoding="utf-8"))
    assert {t["code"] for t in taxonomy["report_types"]} == set(REPORT_TYPES)


def test_rule_set_for_date() -> None:
    assert rule_set_for(date(2019, 6, 1)).code == "national-2018"
    assert rule_set_for(date(2023, 6, 1)).code == "henan-2022"
    assert rule_set_for(datetime(2026, 11, 1, 9, 30)).code == "henan-2025"
    assert rule_set_for(RULE_SETS["henan-2025"].effective_from).code == "henan-2025"
    with pytest.raises(LookupError):
        rule_set_for(date(2017, 12, 31))


def test_every_step_cites_its_rule_set_document() -> None:
    for code, rs in RULE_SETS.items():
        r = q(rule_set=code, report_type="major_hazard", penalty_amount=10_000, internal=True, joint_reporters=2)
        assert r.rule_set == code
        assert all(s.article for s in r.breakdown)
        assert any(rs.document in s.article for s in r.breakdown)


def test_missing_grade_defaults_to_lowest_grade_the_deaths_allow() -> None:
    assert grade_for_deaths(2) == "general" and grade_for_deaths(3) == "larger"
    assert grade_for_deaths(10) == "major" and grade_for_deaths(30) == "especially_major"
    assert q(report_type="concealed_accident", deaths_concealed=4).amount == 160_000


@pytest.mark.parametrize(
    "facts",
    [
        {"report_type": "major_hazard", "rule_set": "beijing-2020"},
        {"report_type": "minor_hazard"},
        {"report_type": "major_hazard", "penalty_amount": -1},
        {"report_type": "major_hazard", "penalty_amount": "1000"},
        {"report_type": "major_hazard", "penalty_amount": True},
        {"report_type": "major_hazard", "penalty_amount": float("nan")},
        {"report_type": "major_hazard", "confiscated_amount": float("inf")},
        {"report_type": "major_hazard", "penalty_amount": 10**13},
        {"report_type": "major_hazard", "internal": 1},
        {"report_type": "major_hazard", "joint_reporters": 0},
        {"report_type": "concealed_accident", "deaths_concealed": 1.5},
        {"report_type": "concealed_accident", "deaths_concealed": 4, "accident_grade": "general"},
        {"report_type": "concealed_accident", "accident_grade": "huge"},
        {"report_type": "major_hazard", "penalty": 1000},
        {"penalty_amount": 1000},
    ],
)
def test_bad_facts_are_refused(facts: dict[str, Any]) -> None:
    with pytest.raises(FactsError) as err:
        quote(facts, DEFAULT)
    assert err.value.zh and err.value.en


def test_facts_dataclass_api_and_rounding_at_each_step() -> None:
    r = quote(Facts(report_type="major_hazard", penalty_amount=Decimal("30009.50")), DEFAULT)
    # The basis is rounded first (30,010), then 15% = 4,501.5 → 4,502. Without the per-step
    # rounding it would be 4,501.425 → 4,501.
    assert amounts(r) == [30_010, 4_502] and r.amount == 4_502
    d = r.to_dict()
    assert set(d) >= {"eligible", "amount", "rule_set", "breakdown", "reasons_ineligible"}
    assert d["breakdown"][0] == {"step": r.breakdown[0].step, "amount": 30_010, "article": r.breakdown[0].article}


# --- the CLI ----------------------------------------------------------------------------------

def run_cli(stdin: str, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_REWARD_")} | (extra_env or {})
    return subprocess.run([sys.executable, "-m", "cases.rewards", "quote", *args], input=stdin, cwd=ROOT,
                          env=env, capture_output=True, text=True, encoding="utf-8", timeout=60)


def test_cli_quote() -> None:
    facts = {"rule_set": "henan-2025", "report_type": "major_hazard", "penalty_amount": 10000, "internal": True}
    out = run_cli(json.dumps(facts))
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["eligible"] is True and result["amount"] == 4000 and result["rule_set"] == "henan-2025"
    assert result["reasons_ineligible"] == []
    assert all(isinstance(s["amount"], int) and s["step"] and s["article"] for s in result["breakdown"])


def test_cli_parameter_options() -> None:
    facts = {"report_type": "illegal_operation", "penalty_amount": 50000, "confiscated_amount": 30000}
    assert json.loads(run_cli(json.dumps(facts)).stdout)["amount"] == 12000
    out = run_cli(json.dumps(facts), "--no-include-confiscated")
    assert json.loads(out.stdout)["amount"] == 7500


@pytest.mark.parametrize(
    "stdin",
    [
        '{"report_type": "major_hazard", "rule_set": "nowhere-1999"}',
        '{"report_type": "major_hazard", "penalty_amount": -5}',
        '{"report_type": "major_hazard", "penalty_amount": "5000"}',
        '{"report_type": "parking"}',
        '{"report_type": "major_hazard", "penalty_amount": NaN}',
        "[]",
        "not json",
        "",
        '{"report_type": "major_hazard"} {"report_type": "major_hazard"}',
    ],
)
def test_cli_bad_input_exits_2_without_traceback(stdin: str) -> None:
    out = run_cli(stdin)
    assert out.returncode == 2
    assert out.stdout == ""
    assert "Traceback" not in out.stderr
    assert "错误" in out.stderr and "error:" in out.stderr


def test_cli_bad_option_or_environment_exits_2() -> None:
    out = run_cli("{}", "--cap-applies-to", "base")
    assert out.returncode == 2 and "Traceback" not in out.stderr and "错误" in out.stderr
    out = run_cli('{"report_type": "major_hazard"}', extra_env={"PORTAL_REWARD_INCLUDE_CONFISCATED": "maybe"})
    assert out.returncode == 2 and "Traceback" not in out.stderr and "PORTAL_REWARD" in out.stderr


def test_cli_environment_parameter() -> None:
    facts = '{"report_type": "illegal_operation", "penalty_amount": 50000, "confiscated_amount": 30000}'
    out = run_cli(facts, extra_env={"PORTAL_REWARD_INCLUDE_CONFISCATED": "false"})
    assert json.loads(out.stdout)["amount"] == 7500
    assert json.loads(out.stdout)["parameters"]["include_confiscated"] is False


# --- properties -------------------------------------------------------------------------------

REWARDED = ["major_hazard", "illegal_operation", "general_hazard", "concealed_accident"]
GRADES = ["general", "larger", "major", "especially_major"]
PER_DEATH = {"general": 30_000, "larger": 40_000, "major": 50_000, "especially_major": 60_000}


@st.composite
def fact_dicts(draw: st.DrawFn) -> dict[str, Any]:
    deaths = draw(st.integers(0, 40))
    least = grade_for_deaths(deaths)
    grade = draw(st.sampled_from([g for g in GRADES if GRADES.index(g) >= GRADES.index(least)] + [None]))
    return {
        "rule_set": draw(st.sampled_from(sorted(RULE_SETS))),
        "report_type": draw(st.sampled_from(sorted(REPORT_TYPES))),
        "penalty_amount": draw(st.integers(0, 10**8)),
        "confiscated_amount": draw(st.integers(0, 10**7)),
        "listed_situation": draw(st.booleans()),
        "deaths_concealed": deaths,
        "accident_grade": grade,
        "internal": draw(st.booleans()),
        "joint_reporters": draw(st.integers(1, 7)),
        "first_accepted": draw(st.booleans()),
        "already_known": draw(st.booleans()),
        "excluded_person": draw(st.booleans()),
    }


PARAMS = st.builds(Params, include_confiscated=st.booleans(), cap_applies_to=st.sampled_from(["total", "uplift"]),
                   concealed_without_deaths=st.sampled_from(["violation", "none"]), uplift_on_concealed=st.booleans())


def expected_floor(f: dict[str, Any]) -> int:
    """The least an eligible quote may be, from the rules.md table (independent of the engine)."""
    if f["report_type"] == "concealed_accident" and f["deaths_concealed"] > 0:
        grade = f["accident_grade"] or grade_for_deaths(f["deaths_concealed"])
        return min(PER_DEATH[grade] * f["deaths_concealed"], 300_000)
    return 1_000 if f["report_type"] == "general_hazard" else 3_000


@settings(max_examples=400, deadline=None)
@given(fact_dicts(), PARAMS)
def test_property_floor_cap_and_ineligible_zero(f: dict[str, Any], params: Params) -> None:
    r = quote(f, params)
    assert sum(r.shares) == r.amount and len(r.shares) == f["joint_reporters"]
    assert max(r.shares) - min(r.shares) <= 1
    if not r.eligible:
        assert r.amount == 0 and r.reasons_ineligible and r.breakdown == ()
        return
    assert r.reasons_ineligible == ()
    assert r.amount >= expected_floor(f)
    if f["internal"] and f["rule_set"] == "henan-2025" and params.cap_applies_to == "total":
        assert r.amount >= min(expected_floor(f) + 1_000, 300_000) or (
            f["report_type"] == "concealed_accident" and not params.uplift_on_concealed)
    assert r.amount <= (300_000 if params.cap_applies_to == "total" else 600_000)
    if not f["internal"] or f["rule_set"] == "national-2018":
        assert r.amount <= 300_000


@settings(max_examples=300, deadline=None)
@given(fact_dicts(), PARAMS, st.integers(0, 10**8), st.integers(0, 10**8))
def test_property_monotone_in_penalty(f: dict[str, Any], params: Params, a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert quote({**f, "penalty_amount": low}, params).amount <= quote({**f, "penalty_amount": high}, params).amount


@settings(max_examples=200, deadline=None)
@given(fact_dicts())
def test_property_default_cap_is_on_the_total(f: dict[str, Any]) -> None:
    assert quote(f, DEFAULT).amount <= 300_000
