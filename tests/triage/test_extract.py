"""Town and enterprise extraction."""

from __future__ import annotations

import pytest

from triage.extract import find_enterprise, find_town
from triage.normalize import normalize


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("灵井镇化工园区东边那个厂", "lingjing"),
        ("在灵井那边的石料厂", "lingjing"),
        ("長村張街道有個工地", "changcunzhang"),
        ("河街乡政府往南两百米", "hejie"),
        ("许昌市区的一个小区", None),
    ],
)
def test_find_town(text: str, code: str | None) -> None:
    t = find_town(normalize(text))
    assert (t.code if t else None) == code


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("我想反映一下蒋李集镇利民涂料厂的问题", "利民涂料厂"),
        ("门口写着某某化工物资有限公司", "某某化工物资有限公司"),
        ("许昌宏达建筑工程有限公司在长村张街道的工地", "许昌宏达建筑工程有限公司"),
        ("中石化加油站卸油不接地", "中石化加油站"),
        ("我们厂的硝化釜", None),
        ("化工厂的围墙外面就是小学", None),
    ],
)
def test_find_enterprise(text: str, name: str | None) -> None:
    assert find_enterprise(normalize(text)) == name
