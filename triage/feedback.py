"""Staff corrections as labelled training feedback, and the encrypted file that carries them.

Why this module: a report that staff moved to another department (移送/退回) and that the final
department then accepted is a labelled example the model got wrong — the most valuable training
data the portal produces. But its text is report content, and the project rule is that no plaintext
report content reaches the database, files, temp files or logs. So corrections travel only

- in memory (the portal decrypts the corrected reports with the coordinating office's key and
  hands the records straight to :func:`triage.model.train`), or
- in a feedback file sealed with AES-256-GCM under a fresh random key (:func:`seal`), which
  ``python -m triage train --feedback FILE`` opens in memory with the key read from stdin.

Training with feedback also keeps report text out of the artifact bundle: the vocabulary (the
n-gram strings stored in ``triage.joblib``) is fitted on the corpus only; feedback texts are only
projected onto it (see :func:`triage.model.train`). The feedback changes weights, not the stored
strings, so a name or phone number in a corrected report never lands in the bundle.

What a correction says: the final department for certain; the sector only when the department
owns exactly one sector, when triage's sector belongs to it, or — for departments owning several
(应急、住建、交通、农业) — the most probable of that department's sectors under the current model
(``sector_source`` records which). Report type and urgency are not corrected by a transfer and are
left out (those models skip the record). A report not accepted as "not a safety matter" while
triage routed it to a sector becomes an out-of-scope example with its full label set.

This module is plain Python (no Flask, no portal imports); the portal side is
``cases/triage_feedback.py`` and ``python -m portal triage-feedback``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from triage.data import COORDINATING_DEPARTMENT, NO_SECTOR, Taxonomy, read_jsonl

MAGIC = b"AQJB-TRIAGE-FEEDBACK-1\n"  # first bytes of a sealed feedback file (also the AEAD's AAD)
KEY_BYTES = 32
FEEDBACK_FLAG = "_feedback"  # set on merged feedback records; the vocabulary is fitted without them


class FeedbackKeyError(ValueError):
    """A sealed feedback file could not be opened (missing or wrong key, or a damaged file)."""


def department_sectors(taxonomy: Taxonomy, department: str) -> list[str]:
    return [s for s in taxonomy.sectors if taxonomy.sector_department.get(s) == department]


def correction_record(
    rid: str,
    text: str,
    *,
    final_department: str,
    triage_sector: str | None,
    taxonomy: Taxonomy,
    out_of_scope: bool = False,
    sector_scores: Callable[[str], dict[str, float]] | None = None,
) -> dict[str, Any] | None:
    """One training record from a correction, or ``None`` when the labels cannot be trusted.

    ``sector_scores(text)`` (optional) returns the current model's sector probabilities; it picks
    the sector inside a multi-sector department. Without it such a record trains the department
    model only (the routing decision sums sector probabilities, so it then has little effect)."""
    if not text.strip():
        return None
    if out_of_scope:
        return {"id": rid, "text": text, "department": COORDINATING_DEPARTMENT, "sector": None,
                "report_type": "out_of_scope", "urgency": "low", "source": "feedback", "sector_source": "staff"}
    if final_department not in taxonomy.departments:
        return None
    owned = department_sectors(taxonomy, final_department)
    rec: dict[str, Any] = {"id": rid, "text": text, "department": final_department, "source": "feedback"}
    if len(owned) == 1:
        rec.update(sector=owned[0], sector_source="department")
    elif triage_sector in owned:
        rec.update(sector=triage_sector, sector_source="triage")
    elif owned and sector_scores is not None:
        scores = sector_scores(text)
        best = max(owned, key=lambda s: (scores.get(s, 0.0), s))
        rec.update(sector=best, sector_source="model")
    return rec


def sector_scorer(artifacts: Any) -> Callable[[str], dict[str, float]] | None:
    """``text -> {sector: probability}`` from a loaded artifact bundle (None without a sector model)."""
    from triage.normalize import normalize  # noqa: PLC0415

    model = getattr(artifacts, "models", {}).get("sector")
    if model is None:
        return None

    def score(text: str) -> dict[str, float]:
        p = model.proba(artifacts.transform([normalize(text)]))[0]
        return {c: float(v) for c, v in zip(model.classes, p) if c != NO_SECTOR}

    return score


def new_key() -> bytes:
    return os.urandom(KEY_BYTES)


def seal(records: Iterable[dict[str, Any]], key: bytes) -> bytes:
    """The feedback set as one AES-256-GCM blob: MAGIC ‖ nonce ‖ ciphertext of sorted JSON lines."""
    if len(key) != KEY_BYTES:
        raise FeedbackKeyError("feedback key must be 32 bytes")
    rows = sorted(records, key=lambda r: str(r.get("id", "")))
    body = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows).encode("utf-8")
    nonce = os.urandom(12)
    return MAGIC + nonce + AESGCM(key).encrypt(nonce, body, MAGIC)


def is_sealed(blob: bytes) -> bool:
    return blob.startswith(MAGIC)


def open_sealed(blob: bytes, key: bytes | None) -> list[dict[str, Any]]:
    """Decrypt a sealed feedback blob in memory. Raises :class:`FeedbackKeyError`."""
    if not is_sealed(blob):
        raise FeedbackKeyError("not a sealed feedback file")
    if key is None or len(key) != KEY_BYTES:
        raise FeedbackKeyError("a 32-byte feedback key (64 hex digits) is needed to open this file")
    nonce, ct = blob[len(MAGIC): len(MAGIC) + 12], blob[len(MAGIC) + 12:]
    try:
        body = AESGCM(key).decrypt(nonce, ct, MAGIC)
    except Exception as exc:  # noqa: BLE001 - InvalidTag: wrong key or tampered file
        raise FeedbackKeyError("wrong feedback key or damaged file") from exc
    out = []
    for line in body.decode("utf-8").splitlines():
        obj = json.loads(line)
        if isinstance(obj, dict) and isinstance(obj.get("text"), str) and obj["text"].strip():
            out.append(obj)
    return out


def parse_key(text: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError as exc:
        raise FeedbackKeyError("feedback key must be 64 hex digits") from exc
    if len(key) != KEY_BYTES:
        raise FeedbackKeyError("feedback key must be 64 hex digits")
    return key


def load_feedback(path: Path | str, key: bytes | None = None,
                  read_key: Callable[[], bytes] | None = None) -> list[dict[str, Any]]:
    """Feedback records of a file or directory: sealed files (opened with ``key`` or the key
    ``read_key()`` returns, asked for once) and plaintext JSONL (hand-written examples only —
    corrections exported by the portal are always sealed)."""
    p = Path(path)
    files = sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith(".")) if p.is_dir() else [p]
    out: list[dict[str, Any]] = []
    for f in files:
        if not f.exists():
            continue
        with open(f, "rb") as fh:
            head = fh.read(len(MAGIC))
        if head == MAGIC:
            if key is None and read_key is not None:
                key = read_key()
            out.extend(open_sealed(f.read_bytes(), key))
        elif f.suffix == ".jsonl":
            out.extend(read_jsonl(f))
    return out
