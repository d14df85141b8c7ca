"""Likely-duplicate detection among earlier reports without keeping their plaintext.

Why: several people often report the same hazard (the rules pay one reward, to the first accepted
report, and similar reports may be merged), but the portal stores report text only encrypted. So
each report gets a small *fingerprint* at intake, computed from the plaintext held in memory, and
new reports are compared against earlier fingerprints.

What a fingerprint is (``fingerprint(text) -> bytes``: 8-byte header and key id, 128 bytes of
MinHash, optionally 64 bytes of SimHash and 64 bytes of place sketch; 136–264 bytes):

* a keyed, b-bit MinHash of the report's normalised character bigrams (NFKC, traditional→
  simplified, lower-case, punctuation and spaces dropped): 128 hash functions derived from a
  secret key, of each minimum only the lowest 8 bits kept. Estimates the bigram Jaccard similarity.
* optionally (when the encoder is available) a 512-bit SimHash of the e5 sentence embedding:
  signs of 512 keyed random projections. Estimates the embedding cosine: it recognises the same
  hazard told in other words, which shared bigrams alone miss.
* optionally a 64-hash MinHash of the enterprise/site name (``place=``), with legal-form suffixes
  and generic words (加油站, 小区, 煤矿 …) removed: the same hazard at *another* place is the commonest
  false duplicate, and the text alone cannot tell "东城加油站" from "西关加油站".

What leaks, and why this is acceptable (document for the data-protection review):

* Nothing can be *read back*: each stored MinHash byte is the low 8 bits of a keyed hash of one
  bigram; about 1/256 of all bigrams map to any given byte, so even with the key a byte does not
  identify its bigram, and without the key the bytes look like uniform noise. The similarity
  *structure* (which fingerprints are close to which) is visible to anyone holding the table.
* Fingerprints are similarity-preserving by design, so whoever holds the key and the fingerprint
  table can *confirm a guess* ("is this fingerprint close to a text saying X?") and can cluster
  reports by similarity. Keep the key (``TRIAGE_FINGERPRINT_KEY``) with the other server secrets,
  not in the database.
* The place sketch is the weakest point: enterprise names are few and public, so a key holder can
  test the district's enterprise register against it and learn which enterprise a report concerns.
  It is optional; pass ``place`` only if that exposure (to key holders) is acceptable.
* The SimHash part carries mostly topic-level information (what kind of hazard). Embedding-
  inversion attacks are demonstrated on full-precision vectors with the model at hand; 512 sign
  bits of a keyed projection give far less, but not provably nothing, so treat it as sensitive
  metadata. Operators who want less can turn it off (``semantic=False``).
* The key id (4 bytes of a hash of the key) is stored so that fingerprints made under a different
  key are skipped rather than compared as noise. Rotating the key makes old fingerprints useless.

Scoring and threshold: measured on hand-written pairs (tests/triage/fixtures/duplicate_pairs.jsonl:
paraphrases of one hazard vs other hazards at the same enterprise vs the same hazard at another
place); see ``bench/duplicates_eval.py`` and the constants below.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import unicodedata
import warnings
from functools import lru_cache
from typing import Iterable

import numpy as np

MAGIC = b"F"
VERSION = 1
NUM_HASHES = 128
SIM_BITS = 512
_FLAG_SEMANTIC = 1
_FLAG_PLACE = 2
PLACE_HASHES = 64
_HEADER = struct.Struct("<cBBB")  # magic, version, flags, reserved
_KEYID_LEN = 4

# Tuned with bench/duplicates_eval.py, pooled over 6 keys (the sketches are random given the key):
# score = weighted mean of the MinHash Jaccard estimate and the rescaled SimHash cosine estimate,
# times PLACE_PENALTY when both sides name a place and the places differ. Best cross-validated F1
# was at SEM_WEIGHT 0.7 / threshold 0.52 (P 0.81, R 0.90 on paraphrase pairs vs same-enterprise
# other-hazard and same-hazard other-place pairs).
SEM_LOW, SEM_HIGH = 0.80, 1.00
SEM_WEIGHT = 0.7
THRESHOLD_COMBINED = 0.52
# Without the encoder only shared wording is seen; bigram Jaccard cannot tell a paraphrase of the
# same hazard from another hazard at the same enterprise (both ~0.15-0.2 on the pairs), so lexical
# mode is set to flag near-verbatim resubmissions only.
THRESHOLD_LEXICAL = 0.30
PLACE_MIN = 0.30      # place sketches less similar than this: a different enterprise/site
PLACE_PENALTY = 0.3   # ... and the text score is multiplied by this
_PLACE_SUFFIX = re.compile(r"(有限责任公司|股份有限公司|有限公司|集团|公司|分公司|厂|店|行)$")
# Words that name a kind of place rather than this place: they make two different petrol stations
# look alike ("东城加油站" / "西关加油站"), so they are dropped before comparing names.
_PLACE_GENERIC = re.compile(
    r"^[\u4e00-\u9fff]{2,3}?[省市县区镇乡](?=[\u4e00-\u9fff]{2})|"
    r"加油加气站|加油站|加气站|液化气站|液化石油气站|气站|煤矿|矿业|矿|采石场|尾矿库|ktv|歌厅|网吧|"
    r"小区|家园|花园|工地|在建楼盘|楼盘|项目部|项目|养老院|敬老院|福利院|幼儿园|学校|小学|中学|"
    r"宾馆|酒店|旅馆|渡口|码头|铸造|化工|精细化工|木业|家具|物流|食品|纺织|印染|超市|商场|美食城|"
    r"饭店|餐馆|电动车|汽修|汽车修理|鞭炮|烟花爆竹|烟花|采砂场|砖厂|施工|工程|\d+号楼")

_DEV_KEY = b"triage-dev-fingerprint-key (set TRIAGE_FINGERPRINT_KEY in production)"
_STRIP = re.compile(r"[\W_]+", re.UNICODE)


def _key() -> bytes:
    env = os.environ.get("TRIAGE_FINGERPRINT_KEY")
    if env:
        return env.encode("utf-8")
    warnings.warn("TRIAGE_FINGERPRINT_KEY is not set; using the development key", stacklevel=3)
    return _DEV_KEY


@lru_cache(maxsize=4)
def _params(key: bytes) -> tuple[bytes, np.ndarray, np.ndarray, np.ndarray]:
    """Key id, MinHash coefficients and the SimHash projection derived from ``key``."""
    kid = hashlib.blake2b(key, digest_size=_KEYID_LEN, person=b"fp-keyid").digest()
    seed = int.from_bytes(hashlib.blake2b(key, digest_size=16, person=b"fp-seed").digest(), "little")
    rng = np.random.default_rng(seed)
    # multiply-shift hashing over 64-bit keyed shingle hashes (a odd; arithmetic wraps mod 2^64)
    a = rng.integers(0, 1 << 63, size=NUM_HASHES, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 1 << 63, size=NUM_HASHES, dtype=np.uint64)
    proj = rng.standard_normal((384, SIM_BITS)).astype(np.float32)
    return kid, a, b, proj


@lru_cache(maxsize=1)
def _t2s():
    try:
        import opencc

        return opencc.OpenCC("t2s")
    except ImportError:  # pragma: no cover - declared dependency
        return None


def normalise(text: str) -> str:
    """Canonical form for shingling: NFKC, simplified script, lower case, no punctuation/space."""
    text = unicodedata.normalize("NFKC", text)
    conv = _t2s()
    if conv is not None:
        text = conv.convert(text)
    return _STRIP.sub("", text.lower())


def shingles(text: str, n: int = 2) -> set[str]:
    """Character n-grams of the normalised text (the whole text if shorter than n)."""
    t = normalise(text)
    if len(t) < n:
        return {t} if t else set()
    return {t[i : i + n] for i in range(len(t) - n + 1)}


def place_shingles(place: str) -> set[str]:
    """Characters and bigrams of an enterprise/site name, legal-form suffixes removed."""
    t = normalise(place)
    prev = None
    while t and prev != t:
        prev, t = t, _PLACE_SUFFIX.sub("", t)
    core = _PLACE_GENERIC.sub("", t) or t  # a name that is only generic words stays as it is
    return set(core) | {core[i : i + 2] for i in range(len(core) - 1)}


def _minhash(sh: set[str], key: bytes, k: int = NUM_HASHES) -> bytes:
    _, a, b, _ = _params(key)
    a, b = a[:k], b[:k]
    if not sh:
        return b"\xff" * k  # all-max: matches only other empty texts
    x = np.fromiter(
        (int.from_bytes(hashlib.blake2b(s.encode("utf-8"), key=key[:64], digest_size=8).digest(), "little")
         for s in sorted(sh)), dtype=np.uint64, count=len(sh))
    with np.errstate(over="ignore"):
        h = (x[:, None] * a[None, :] + b[None, :]) >> np.uint64(32)
    return (h.min(axis=0) & np.uint64(0xFF)).astype(np.uint8).tobytes()


def _simhash(vec: np.ndarray, key: bytes) -> bytes:
    _, _, _, proj = _params(key)
    if vec.shape[-1] != proj.shape[0]:
        raise ValueError(f"embedding size {vec.shape[-1]} != {proj.shape[0]}")
    return np.packbits((vec @ proj) > 0).tobytes()


def fingerprint(text: str, *, place: str | None = None, semantic: bool | None = None,
                embedding: np.ndarray | None = None, key: bytes | None = None) -> bytes:
    """Compact, non-invertible fingerprint of ``text`` for :func:`find_duplicates`.

    ``place``: the enterprise or site the report is about (the intake's enterprise field or the
    extracted one); adds a 32-byte sketch so the same hazard at *another* place is not taken for a
    duplicate. ``semantic``: include the SimHash of the e5 embedding (None = when the encoder is
    available). ``embedding``: the caller's ``embed([text])[0]`` (prefix "query: "), to save a pass.
    ``key``: the fingerprint key (default ``TRIAGE_FINGERPRINT_KEY``; the portal derives one from
    its instance secrets).
    """
    key = key or _key()
    kid = _params(key)[0]
    body = _minhash(shingles(text), key)
    flags = 0
    if semantic is not False:
        vec = embedding
        if vec is None:
            from triage.encoder import EncoderUnavailable, embed

            try:
                vec = embed([text])[0]
            except EncoderUnavailable:
                if semantic:
                    raise
                vec = None
        if vec is not None:
            body += _simhash(np.asarray(vec, dtype=np.float32), key)
            flags |= _FLAG_SEMANTIC
    if place and place_shingles(place):
        body += _minhash(place_shingles(place), key, PLACE_HASHES)
        flags |= _FLAG_PLACE
    return _HEADER.pack(MAGIC, VERSION, flags, 0) + kid + body


def _parse(fp: bytes) -> tuple[bytes, np.ndarray, np.ndarray | None, np.ndarray | None] | None:
    if len(fp) < _HEADER.size + _KEYID_LEN + NUM_HASHES:
        return None
    magic, ver, flags, _ = _HEADER.unpack_from(fp)
    if magic != MAGIC or ver != VERSION:
        return None
    o = _HEADER.size
    kid = fp[o : o + _KEYID_LEN]
    o += _KEYID_LEN
    mh = np.frombuffer(fp, dtype=np.uint8, count=NUM_HASHES, offset=o)
    o += NUM_HASHES
    sim = None
    if flags & _FLAG_SEMANTIC and len(fp) >= o + SIM_BITS // 8:
        sim = np.unpackbits(np.frombuffer(fp, dtype=np.uint8, count=SIM_BITS // 8, offset=o))
        o += SIM_BITS // 8
    place = None
    if flags & _FLAG_PLACE and len(fp) >= o + PLACE_HASHES:
        place = np.frombuffer(fp, dtype=np.uint8, count=PLACE_HASHES, offset=o)
    return kid, mh, sim, place


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    agree = float(np.mean(a == b))
    return max(0.0, (agree - 1 / 256) / (1 - 1 / 256))  # b-bit MinHash correction, b = 8


def components(fp_a: bytes, fp_b: bytes) -> tuple[float, float | None, float | None] | None:
    """(text Jaccard est., cosine est. or None, place Jaccard est. or None); None if incomparable."""
    pa, pb = _parse(fp_a), _parse(fp_b)
    if pa is None or pb is None or pa[0] != pb[0]:
        return None
    jac = _jaccard(pa[1], pb[1])
    cos = None
    if pa[2] is not None and pb[2] is not None:
        ham = float(np.mean(pa[2] != pb[2]))
        cos = float(np.cos(np.pi * ham))
    place = _jaccard(pa[3], pb[3]) if pa[3] is not None and pb[3] is not None else None
    return jac, cos, place


def _combine(jac: float, cos: float | None, place: float | None) -> tuple[float, bool]:
    """The duplicate score from its components, and whether the semantic part was used."""
    if cos is None:
        value, semantic = jac, False
    else:
        sem = min(max((cos - SEM_LOW) / (SEM_HIGH - SEM_LOW), 0.0), 1.0)
        value, semantic = (1 - SEM_WEIGHT) * jac + SEM_WEIGHT * sem, True
    if place is not None and place < PLACE_MIN:
        value *= PLACE_PENALTY
    return value, semantic


def score(fp_a: bytes, fp_b: bytes) -> tuple[float, bool] | None:
    """Duplicate score of two fingerprints and whether the semantic part was used."""
    c = components(fp_a, fp_b)
    return None if c is None else _combine(*c)


def find_duplicates(fp: bytes, candidates: Iterable[tuple[str, bytes]],
                    threshold: float | None = None) -> list[tuple[str, float]]:
    """Candidates whose fingerprint is close to ``fp``, as (id, score), best first.

    Candidates made under another key or format version are skipped. ``threshold`` overrides the
    tuned one (which differs depending on whether both fingerprints carry the semantic part).
    The text MinHashes of all candidates are compared in one array operation: the case page
    scores thousands of candidates per view.
    """
    own = _parse(fp)
    if own is None:
        return []
    parsed = [(cid, p) for cid, cfp in candidates if (p := _parse(cfp)) is not None and p[0] == own[0]]
    if not parsed:
        return []
    agree = (np.stack([p[1] for _, p in parsed]) == own[1]).mean(axis=1)
    jaccards = np.maximum(0.0, (agree - 1 / 256) / (1 - 1 / 256))  # as _jaccard, for every candidate
    out = []
    for (cid, p), jac in zip(parsed, jaccards.tolist()):
        cos = float(np.cos(np.pi * float(np.mean(own[2] != p[2])))) if own[2] is not None and p[2] is not None else None
        place = _jaccard(own[3], p[3]) if own[3] is not None and p[3] is not None else None
        value, semantic = _combine(jac, cos, place)
        thr = threshold if threshold is not None else (THRESHOLD_COMBINED if semantic else THRESHOLD_LEXICAL)
        if value >= thr:
            out.append((cid, round(value, 4)))
    out.sort(key=lambda t: -t[1])
    return out
