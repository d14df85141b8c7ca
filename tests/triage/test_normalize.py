"""Normalisation: script, width, pinyin glosses, typo table, whitespace, idempotence."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.normalize import load_corrections, normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("長葛那邊過來的槽罐車", "长葛那边过来的槽罐车"),
        ("鍋爐房裏面著火了", "锅炉房里面着火了"),
        ("危險化學品倉庫", "危险化学品仓库"),
        ("ＡＢＣ１２３号楼", "ABC123号楼"),
        ("消防通道（很窄）", "消防通道(很窄)"),
        ("生產(chǎn)安全", "生产安全"),
        ("生产（shēng chǎn）安全", "生产安全"),
        ("安全(an1 quan2)出口", "安全出口"),
        ("煤礦(méi kuàng)井下", "煤矿井下"),
        ("消防通到被堵了", "消防通道被堵了"),
        ("灭活器过期", "灭火器过期"),
        ("安权出口锁了", "安全出口锁了"),
        ("脚守架没有连墙件", "脚手架没有连墙件"),
        ("液化汽罐", "液化气罐"),
        ("院子里存为化品", "院子里存危化品"),
        ("  消 防 通 道\u3000堵 了 \n", "消防通道堵了"),
        ("gas  station  油罐车", "gas station油罐车"),
        ("\u200b零宽\ufeff字符", "零宽字符"),
        ("井下透水了 快来救人 禹州某矿", "井下透水了,快来救人,禹州某矿"),  # spaces as clause breaks
        ("我们 厂 着火了", "我们厂着火了"),
    ],
)
def test_normalize_cases(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_latin_parentheses_that_are_not_pinyin_survive() -> None:
    assert normalize("DCS系统(PLC)坏了") == "DCS系统(PLC)坏了"
    assert "(MSDS)" in normalize("安全技术说明书(MSDS)")


def test_none_and_non_strings() -> None:
    assert normalize(None) == ""
    assert normalize(123) == "123"  # type: ignore[arg-type]


def test_corrections_table_is_consistent() -> None:
    table = load_corrections()
    assert len(table) >= 40
    for wrong, right in table.items():
        assert wrong != right
        for other in table:
            assert other not in right, f"{right!r} (fix of {wrong!r}) contains typo form {other!r}"


def test_every_correction_applies() -> None:
    for wrong, right in load_corrections().items():
        assert normalize(f"举报{wrong}问题") == normalize(f"举报{right}问题")


def test_idempotent_on_table_and_examples() -> None:
    samples = list(load_corrections()) + ["生產(chǎn)消防通到 灭活器（miè）", "冲电悌", "ＡＢＣ　長葛"]
    for s in samples:
        once = normalize(s)
        assert normalize(once) == once


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("消防通到灭活器安权出口脚守架液化汽为化品長葛著火（）()chǎn ＡＢ１\u3000,，")), max_size=30))
def test_idempotent_property(s: str) -> None:
    once = normalize(s)
    assert normalize(once) == once
