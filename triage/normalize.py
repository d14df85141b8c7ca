"""Text normalisation applied before every model, rule and extractor.

Why: citizens write in simplified and traditional script, with full-width Latin and digits, with
pinyin glosses (生產(chǎn)) and with homophone typos typed by pinyin IMEs (消防通到, 灭活器). The
models, the urgency cues, the domain dictionary and the standards matcher are all written in
simplified Chinese; mapping everything onto that one form here is cheaper and more reliable than
teaching each downstream component every variant.

:func:`normalize` is idempotent (``normalize(normalize(x)) == normalize(x)``): corrections are
applied until a fixed point, and the corrections table is checked so no correct form contains a
typo form. The table lives in ``data/lexicon/corrections.tsv`` so staff can extend it without code.
"""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path

from opencc import OpenCC

_REPO = Path(__file__).resolve().parent.parent
CORRECTIONS_FILE = Path(
    os.environ.get("TRIAGE_CORRECTIONS", _REPO / "data" / "lexicon" / "corrections.tsv")
)

_cc_lock = threading.Lock()
_cc: OpenCC | None = None

# Hanzi range used for the "next to Chinese" tests (CJK unified + ext A + compatibility).
_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_PUNCT = r"\u3000-\u303f\uff00-\uffef，。！？；：、“”‘’（）《》【】…—"

# Pinyin syllables (initial + final), used to recognise tone-less glosses such as 生产(sheng chan).
_PINYIN_SYLLABLE = (
    r"(?:(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?"
    r"(?:iang|iong|uang|ueng|ang|eng|ing|ong|ian|iao|uai|uan|van|üan|ai|ei|ao|ou|an|en|er|in|un|"
    r"vn|ün|ia|ie|iu|ua|uo|ui|ue|ve|üe|a|o|e|i|u|v|ü))"
)
_TONE_VOWELS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
# A parenthesised gloss right after a hanzi: tone-marked latin, or tone digits, or plain syllables.
_PINYIN_GLOSS = re.compile(
    rf"(?<=[{_HAN}])\(\s*("
    rf"[a-zü{_TONE_VOWELS}]*[{_TONE_VOWELS}][a-zü{_TONE_VOWELS}]*"  # at least one tone mark
    rf"(?:[\s'’-]+[a-zü{_TONE_VOWELS}]+)*"
    rf"|{_PINYIN_SYLLABLE}[1-5]?(?:[\s'’-]*{_PINYIN_SYLLABLE}[1-5]?)*"
    rf")\s*\)",
    re.IGNORECASE,
)
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_WS = re.compile(r"\s+")
_CLAUSE_SPACE = re.compile(rf"(?<=[{_HAN}]{{2}}) (?=[{_HAN}]{{2}})")
_SPACE_NEAR_CJK = re.compile(rf"(?<=[{_HAN}{_CJK_PUNCT}]) | (?=[{_HAN}{_CJK_PUNCT}])")


def _converter() -> OpenCC:
    global _cc
    if _cc is None:
        with _cc_lock:
            if _cc is None:
                _cc = OpenCC("t2s")
    return _cc


def load_corrections(path: Path | str | None = None) -> dict[str, str]:
    """Read ``wrong<TAB>right[<TAB>why]`` lines; ``#`` starts a comment line."""
    table: dict[str, str] = {}
    p = Path(path) if path is not None else CORRECTIONS_FILE
    if not p.exists():
        return table
    for raw in p.read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        parts = raw.split("\t")
        if len(parts) < 2 or not parts[0] or not parts[1]:
            continue
        table[parts[0].strip()] = parts[1].strip()
    return table


@lru_cache(maxsize=4)
def _corrections_regex(path: str) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    table = load_corrections(path)
    if not table:
        return None, table
    alternation = "|".join(re.escape(k) for k in sorted(table, key=len, reverse=True))
    return re.compile(alternation), table


def apply_corrections(text: str, path: Path | str | None = None) -> str:
    """Replace typo forms by their correct form, longest first, until nothing changes."""
    pattern, table = _corrections_regex(str(path or CORRECTIONS_FILE))
    if pattern is None:
        return text
    for _ in range(4):  # a fixed point is normally reached after one pass
        new = pattern.sub(lambda m: table[m.group(0)], text)
        if new == text:
            break
        text = new
    return text


def strip_pinyin(text: str) -> str:
    """Drop parenthesised pinyin glosses written after hanzi: 生产(chǎn) → 生产."""
    prev = None
    while prev != text:
        prev = text
        text = _PINYIN_GLOSS.sub("", text)
    return text


def clean_whitespace(text: str) -> str:
    """Collapse whitespace; a space between two runs of ≥ 2 hanzi is a clause break (citizens type
    "井下透水了 快来救人" on phones) and becomes ","; other spaces next to Chinese characters or
    punctuation are dropped ("消 防 通 道" → "消防通道")."""
    text = _ZERO_WIDTH.sub("", text)
    text = _WS.sub(" ", text).strip()
    text = _CLAUSE_SPACE.sub(",", text)
    return _SPACE_NEAR_CJK.sub("", text)


def normalize(text: str | None) -> str:
    """NFKC (full→half width) → t2s → pinyin glosses removed → corrections → whitespace.

    Never raises for a ``str``; ``None`` and non-strings become ``""`` / ``str(x)``.
    """
    if text is None:
        return ""
    if not isinstance(text, str):
        text = str(text)
    text = unicodedata.normalize("NFKC", text)
    text = _converter().convert(text)
    # t2s can introduce nothing NFKC would change, but be safe for idempotence.
    text = unicodedata.normalize("NFKC", text)
    text = strip_pinyin(text)
    text = clean_whitespace(text)
    text = apply_corrections(text)
    text = clean_whitespace(text)
    return text
