"""A keyed blind index so staff can search sealed reports by enterprise name and keywords.

Why: report text and enterprise names are AES-GCM sealed, so the database cannot search them.
Instead each report gets a set of digests HMAC-SHA256(index key, ``field:word``)[:16] in the
``search_term`` table; a query is tokenised the same way and matched digest for digest. The index
key is derived from the instance MAC key (a 0600 file, never in the database), so a stolen
database alone cannot test guessed words. What the digests still reveal (term equality across
reports, term frequency) is discussed in docs/blind-index.md.

Tokenisation: :func:`triage.normalize.normalize` (traditional→simplified, full-width→half-width,
pinyin glosses, typo corrections), lower-case, then the triage segmenter's private jieba tokenizer
(domain dictionary). Documents use search mode (whole words *and* their dictionary sub-words),
queries use precise mode: the index holds both forms, so a query word matches whether the report
had it alone or inside a longer word, and a query gets one AND group per word it typed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import ColumnElement, Select, delete, insert, select
from sqlalchemy.orm import Session

from models.search import SearchTerm
from triage.normalize import normalize
from triage.segment import get_tokenizer

INFO = b"aqjb blind index v1"
DIGEST_BYTES = 16
FIELDS: tuple[str, ...] = ("text", "enterprise")
MAX_QUERY_WORDS = 16

# Function words and report boilerplate: frequent in nearly every report, so their digests would
# match everything and give frequency analysis an easy anchor. Single characters (的, 了, 在, 被…)
# are never indexed anyway (words need ≥ 2 characters). Keep this list short.
STOPWORDS: frozenset[str] = frozenset(
    "的 了 我们 你们 他们 这个 那个 一个 没有 现在 已经 就是 还是 可以 什么 因为 所以 但是 如果 "
    "举报 反映 情况 希望 这里 那里 一些 非常".split()
)
# Legal-form suffixes stripped (repeatedly, longest first) from the whole enterprise name.
ENTERPRISE_SUFFIXES: tuple[str, ...] = ("股份有限公司", "有限责任公司", "有限公司", "公司", "集团", "厂")

_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_WORDISH = re.compile(r"\w", re.UNICODE)
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)

S = TypeVar("S", bound=Select[Any])


def derive_index_key(mac_key: bytes) -> bytes:
    """HKDF-SHA256(mac_key, info="aqjb blind index v1") → 32 bytes; separate from other MAC uses."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(mac_key)


def _keep(word: str) -> bool:
    return len(word) >= 2 and _WORDISH.search(word) is not None and word not in STOPWORDS


def _prepare(text: str | None) -> str:
    return normalize(text).lower()


def compact_enterprise_names(name: str) -> list[str]:
    """The whole (normalised) name without spaces/punctuation, then with legal suffixes stripped:
    郑州宏达化工有限公司 → [郑州宏达化工有限公司, 郑州宏达化工]."""
    whole = _NOT_WORD.sub("", _prepare(name))
    out = [whole] if len(whole) >= 2 else []
    stripped, changed = whole, True
    while changed:
        changed = False
        for suffix in ENTERPRISE_SUFFIXES:
            if stripped.endswith(suffix) and len(stripped) - len(suffix) >= 2:
                stripped, changed = stripped[: -len(suffix)], True
                break
    if stripped != whole:
        out.append(stripped)
    return out


def ordered_terms(text: str | None, *, field: str = "text", max_terms: int = 400) -> list[str]:
    """:func:`terms` in the order kept: enterprise whole names first, then words in text order,
    de-duplicated; the first ``max_terms`` survive (long reports lose their tail, not their head)."""
    if not _FIELD_NAME.match(field):
        raise ValueError(f"bad field name {field!r}")
    if max_terms <= 0:
        return []
    words: list[str] = []
    if field == "enterprise":
        words.extend(compact_enterprise_names(text or ""))
    prepared = _prepare(text)
    if prepared:
        words.extend(w for w in get_tokenizer().cut_for_search(prepared, HMM=True))
    seen: dict[str, None] = {}
    for word in words:
        word = word.strip()
        if _keep(word):
            seen.setdefault(f"{field}:{word}", None)
            if len(seen) >= max_terms:
                break
    return list(seen)


def terms(text: str | None, *, field: str = "text", max_terms: int = 400) -> set[str]:
    """The field-prefixed terms (``text:消防通道``) a report field is indexed under."""
    return set(ordered_terms(text, field=field, max_terms=max_terms))


def digest(key: bytes, term: str) -> bytes:
    """HMAC-SHA256(key, term)[:16] — the only form in which a term reaches the database."""
    return hmac.new(key, term.encode("utf-8"), hashlib.sha256).digest()[:DIGEST_BYTES]


def index_rows(key: bytes, report_id: int, fields: Mapping[str, str | None]) -> list[dict[str, Any]]:
    """Rows ``{"report_id", "term"}`` for a bulk insert, e.g. fields = {"text": description + " "
    + location, "enterprise": enterprise}. Unique digests, in a stable order."""
    digests: dict[bytes, None] = {}
    for field, value in fields.items():
        for term in ordered_terms(value, field=field):
            digests.setdefault(digest(key, term), None)
    return [{"report_id": report_id, "term": d} for d in digests]


def query_words(query: str | None) -> list[str]:
    """The usable words of a search box entry (precise mode, same filters), at most 16.
    Empty means "nothing searchable" (only stopwords or single characters): tell the user."""
    prepared = _prepare(query)
    if not prepared:
        return []
    out: dict[str, None] = {}
    for word in get_tokenizer().lcut(prepared, HMM=True):
        word = word.strip()
        if _keep(word):
            out.setdefault(word, None)
    return list(out)[:MAX_QUERY_WORDS]


def query_digests(key: bytes, query: str | None, fields: Iterable[str] = FIELDS) -> list[tuple[bytes, ...]]:
    """One tuple per query word, holding that word's digest in each field. A report matches when
    every tuple has at least one digest among the report's terms (AND of words, OR of fields)."""
    fields = tuple(fields)
    return [tuple(digest(key, f"{f}:{w}") for f in fields) for w in query_words(query)]


def apply_search(stmt: S, key: bytes, query: str | None, report_id_column: ColumnElement[int] | Any) -> S:
    """Restrict ``stmt`` to reports matching every word of ``query``. With no usable word the
    statement is returned unchanged (check :func:`query_words` first to show a message)."""
    for group in query_digests(key, query):
        stmt = stmt.where(
            report_id_column.in_(select(SearchTerm.report_id).where(SearchTerm.term.in_(group)))
        )
    return stmt


def reindex(db: Session, key: bytes, report_id: int, fields: Mapping[str, str | None]) -> int:
    """Replace a report's index rows (after filing, or when staff correct the enterprise name).
    Runs in the caller's transaction; the caller commits. Returns the number of rows written."""
    db.execute(delete(SearchTerm).where(SearchTerm.report_id == report_id))
    rows = index_rows(key, report_id, fields)
    if rows:
        db.execute(insert(SearchTerm), rows)
    return len(rows)
