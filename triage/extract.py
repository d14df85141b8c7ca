"""Extracting the town (乡镇/街道) and the enterprise name a report is about.

Why rules: both are closed-form — the towns are a fixed, administrator-edited list
(``data/towns.json``, or ``$PORTAL_TOWNS_FILE``) and enterprise names end in a small set of
suffixes (…有限公司/厂/加油站/饭店/工地/矿). Rules are instant, explainable and need no labels.
Short forms are recognised (灵井 → 灵井镇, 长村张 → 长村张街道); the full name wins over a short one.
The portal's own ``town``/``enterprise`` fields, when given, take precedence (see routing).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_REPO = Path(__file__).resolve().parent.parent
_TOWN_SUFFIXES = ("街道办事处", "街道", "镇", "乡")


@dataclass(frozen=True)
class Town:
    code: str
    name: str


def towns_path() -> Path:
    return Path(os.environ.get("PORTAL_TOWNS_FILE", _REPO / "data" / "towns.json"))


@lru_cache(maxsize=4)
def _towns(path: str) -> tuple[tuple[Town, ...], re.Pattern[str] | None, dict[str, Town]]:
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        towns = tuple(Town(t["code"], t["name"]) for t in raw.get("towns", []))
    except (OSError, ValueError, KeyError, TypeError):
        towns = ()
    lookup: dict[str, Town] = {}
    for t in towns:
        lookup[t.name] = t
        short = t.name
        for suf in _TOWN_SUFFIXES:
            if short.endswith(suf) and len(short) > len(suf) + 1:
                short = short[: -len(suf)]
                break
        lookup.setdefault(short, t)
        lookup.setdefault(t.code, t)
    names = [k for k in lookup if not k.isascii()]
    if not names:
        return towns, None, lookup
    pattern = re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)))
    return towns, pattern, lookup


def find_town(text: str) -> Town | None:
    """First town mentioned (full or short name) in normalised ``text``."""
    _, pattern, lookup = _towns(str(towns_path()))
    if pattern is None:
        return None
    m = pattern.search(text)
    return lookup[m.group(0)] if m else None


def town_by_name_or_code(value: str) -> Town | None:
    _, _, lookup = _towns(str(towns_path()))
    return lookup.get(value.strip())


_ENT_SUFFIX = (
    "有限责任公司|股份有限公司|有限公司|集团公司|集团|分公司|公司|"
    "加油站|加气站|充装站|液化气站|煤矿|铁矿|铝土矿|石料厂|石料场|采石场|砂场|沙场|"
    "大酒店|酒店|饭店|酒楼|饭馆|餐馆|火锅店|烧烤店|宾馆|旅馆|网吧|KTV|超市|商场|广场|"
    "工地|项目部|项目|养老院|敬老院|幼儿园|卫生院|医院|诊所|景区|游乐场|冷库|物流园|"
    "化工厂|工厂|厂|(?<![采开越盗挖找探选])矿(?![上井里长工区山石产])|化工"
)
_LEFT_CHARS = r"\u4e00-\u9fffA-Za-z0-9"
_ENT_SUFFIX_RE = re.compile(rf"(?:{_ENT_SUFFIX})")
_HEAD_RE = re.compile(rf"[{_LEFT_CHARS}]{{1,14}}$")
# Words that cannot start a name: strip them from the left of a candidate.
_LEAD_STRIP = re.compile(
    r"^(.*(的|在|是|了|和|与|跟|给|从|到|把|被|让|叫|说|有|个|家|座|处|里|上|边|那|这|我|俺|们|他|她|"
    r"写着|举报|反映|投诉|附近|旁边|对面|门口|后面|前面|镇|乡|街道|村|区|园|管|"
    r"前几天|前几年|前段时间|下雨天|今天|昨天|去年|今年|晚上|白天|半夜|外地|本地|当地|"
    r"月底|月|对|而且|但是|所以|因为|然后|时候|后来|申请|公开|请问|问问|问|原来|开|做|挨着|叫|"
    r"发现|觉得|另外|找|就|住|事|看见|看到|听说|知道|认为|感觉|希望|要求|检举))"
)
# Leading counts ("一层", "三栋楼", "一名") are not part of a name.
_LEAD_COUNT = re.compile(r"^([一二三四五六七八九十几两\d]+[层名栋楼个家座间处所条])+")
_GENERIC = re.compile(
    r"^(化工|小|黑|大|老|新|一|几|两|这|那|某|该|我们|他们|本|附近|旁边|私人|个体|民营|国营|整个|"
    r"加工|五金|家具|塑料|木材|木门|鞋|服装|砖|水泥|钢构|机械|食品|烟花|鞭炮|涂料|油漆|化肥|农药|"
    r"建筑|施工|装修|物流|运输|燃气|煤气|液化气|电梯|游乐|养殖|屠宰|石料|采砂|挖沙|砂石|小区|楼)*$"
)


def find_enterprise(text: str) -> str | None:
    """Best-effort enterprise/site name (e.g. 利民涂料厂, 某某化工物资有限公司), or ``None``.

    For each suffix occurrence, the name is the run of hanzi/latin/digits to its left, cut after
    the last boundary word (的/在/那个/镇/村 …); generic heads (化工厂, 我们厂, 某饭店) are rejected.
    Company names (…公司) beat other kinds; otherwise the longest candidate wins.
    """
    candidates: list[str] = []
    for m in _ENT_SUFFIX_RE.finditer(text):
        left = _HEAD_RE.search(text[: m.start()])
        head = left.group(0) if left else ""
        stripped = _LEAD_STRIP.sub("", head) if len(head) > 1 else head
        stripped = _LEAD_COUNT.sub("", stripped)
        town = find_town(stripped)
        if town is not None:
            stripped = stripped.split(town.name)[-1]
        if not stripped or _GENERIC.match(stripped):
            continue
        name = stripped + m.group(0)
        if len(name) >= 4:
            candidates.append(name)
    if not candidates:
        return None
    return max(candidates, key=lambda n: (n.endswith("公司"), len(n)))
