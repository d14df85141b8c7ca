"""Command line: ``python -m cases.rewards quote`` reads one JSON object of facts on stdin and prints
one JSON quote on stdout; ``python -m cases.rewards rules`` prints the rule sets.

Why a CLI: finance staff and reviewers can check a quote, or replay an old one, without the web
application, and scripts can batch-check figures. Bad input exits 2 with a Chinese and English
message on stderr and never a traceback; parameters come from PORTAL_REWARD_* and the options.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn

from cases.rewards.quote import FactsError, quote
from cases.rewards.rules import CAP_MODES, CONCEALED_WITHOUT_DEATHS_MODES, RULE_SETS, Params

BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        _fail("命令行参数错误", f"usage error: {message}")


def _fail(zh: str, en: str, code: int = BAD_INPUT) -> NoReturn:
    sys.stderr.write(f"错误：{zh}\nerror: {en}\n")
    raise SystemExit(code)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m cases.rewards", description="举报奖励计算 / reward quotes")
    sub = parser.add_subparsers(dest="command", required=True)
    q = sub.add_parser("quote", help="stdin: one JSON object of facts; stdout: one JSON quote")
    q.add_argument("--include-confiscated", action=argparse.BooleanOptionalAction, default=None,
                   help="没收违法所得计入处罚金额基数 (default: include)")
    q.add_argument("--cap-applies-to", choices=CAP_MODES, default=None,
                   help="30万元上限作用于合计(total)或仅上浮部分(uplift) (default: total)")
    q.add_argument("--listed-rate", default=None, help="河南列举情形计奖比例 (default: 0.15)")
    q.add_argument("--concealed-without-deaths", choices=CONCEALED_WITHOUT_DEATHS_MODES, default=None,
                   help="瞒报谎报事故未查实死亡时：按违法行为计奖(violation)或不奖(none) (default: violation)")
    q.add_argument("--uplift-on-concealed", action=argparse.BooleanOptionalAction, default=None,
                   help="内部举报上浮也适用于瞒报谎报事故 (default: yes)")
    sub.add_parser("rules", help="print the rule sets as JSON")
    return parser


def _params(args: argparse.Namespace) -> Params:
    try:
        params = Params.from_env()
        changes: dict[str, Any] = {}
        for name in ("include_confiscated", "cap_applies_to", "concealed_without_deaths", "uplift_on_concealed"):
            if getattr(args, name) is not None:
                changes[name] = getattr(args, name)
        if args.listed_rate is not None:
            changes["listed_rate"] = Decimal(args.listed_rate)
        return replace(params, **changes)
    except (ValueError, InvalidOperation) as exc:
        _fail("奖励参数无效（环境变量 PORTAL_REWARD_* 或命令行选项）", f"invalid reward parameter: {exc}")


def _read_facts() -> Any:
    raw = sys.stdin.buffer.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        _fail("输入不是 UTF-8 编码", "input is not UTF-8")
    if not text.strip():
        _fail("标准输入为空，需要一个 JSON 对象", "stdin is empty; expected one JSON object")

    def no_constants(name: str) -> NoReturn:
        raise ValueError(f"{name} is not a valid amount")

    try:
        return json.loads(text, parse_constant=no_constants)
    except ValueError as exc:  # JSONDecodeError is a ValueError
        _fail("输入不是一个合法的 JSON 对象", f"input is not one valid JSON object: {exc}")


def _write(obj: Any) -> None:
    sys.stdout.buffer.write((json.dumps(obj, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    sys.stdout.flush()


def _rules() -> list[dict[str, Any]]:
    return [
        {
            "code": rs.code,
            "document": rs.document,
            "effective_from": rs.effective_from.isoformat(),
            "effective_basis": rs.effective_basis,
            "hazard_rate": str(rs.hazard_rate),
            "hazard_floor": rs.hazard_floor,
            "cap": rs.cap,
            "death_rewards": dict(rs.death_rewards),
            "listed_situations": rs.listed_situations,
            "listed_floor": rs.listed_floor,
            "internal_rate": str(rs.internal_rate),
            "internal_floor": rs.internal_floor,
            "articles": dict(rs.articles),
        }
        for rs in RULE_SETS.values()
    ]


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "rules":
        _write(_rules())
        return 0
    params = _params(args)
    facts = _read_facts()
    try:
        result = quote(facts, params)
    except FactsError as exc:
        _fail(f"事实数据无效：{exc.zh}", f"invalid facts: {exc.en}")
    except Exception as exc:  # noqa: BLE001 — a bug must still not print a traceback to reporters' staff
        _fail("内部错误，请联系系统管理员", f"internal error: {type(exc).__name__}: {exc}", code=1)
    _write(result.to_dict())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
