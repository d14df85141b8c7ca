"""Reward rule engine (举报奖励): versioned rule sets and the quote computation.

Why a package of its own: the amount a reporter is owed is law applied to facts, and it must be
the same wherever it is shown — the finance screens, the reward notice, the audit, the CLI. Plain
Python, no Flask or database; see docs/rewards.md for the rules, parameters and defaults.
"""

from __future__ import annotations

from cases.rewards.quote import Facts, FactsError, Quote, Reason, Step, quote
from cases.rewards.rules import (
    DEFAULT_RULE_SET,
    REPORT_TYPES,
    RULE_SETS,
    Params,
    RuleSet,
    grade_for_deaths,
    rule_set_for,
)

__all__ = [
    "DEFAULT_RULE_SET",
    "REPORT_TYPES",
    "RULE_SETS",
    "Facts",
    "FactsError",
    "Params",
    "Quote",
    "Reason",
    "RuleSet",
    "Step",
    "grade_for_deaths",
    "quote",
    "rule_set_for",
]
