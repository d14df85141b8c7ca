"""Loading labelled reports (corpus, held-out set, staff feedback) and the routing taxonomy.

Why one module: training, evaluation, the CLI and the tests must agree on the record format and on
how labels are read (``sector`` is ``null`` for out-of-scope reports; the models use the explicit
:data:`NO_SECTOR` label so that "not a safety matter" is a class of its own).

Feedback format (staff corrections, ``data/feedback/*.jsonl`` or ``$TRIAGE_FEEDBACK``): one JSON
object per line with the corpus fields ``id, text, department, sector, report_type, urgency``
(``internal`` and ``script`` optional). A feedback record with the same ``id`` as a corpus record
replaces it; others are added. Missing label fields are filled from the taxonomy where possible
(department from sector) and otherwise make that record skip that model only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = REPO / "data"
NO_SECTOR = "none"  # model label for sector == null (out_of_scope)
TARGETS = ("department", "sector", "report_type", "urgency")
COORDINATING_DEPARTMENT = "emergency"  # 区安委会办公室 sits in 应急管理局: takes unassignable reports


@dataclass(frozen=True)
class Taxonomy:
    """Department, sector, report-type and urgency codes; sector → lead department."""

    departments: tuple[str, ...]
    sectors: tuple[str, ...]
    report_types: tuple[str, ...]
    urgencies: tuple[str, ...]
    sector_department: dict[str, str]
    names: dict[str, str]

    def department_of(self, sector: str | None) -> str:
        if sector is None or sector == NO_SECTOR:
            return COORDINATING_DEPARTMENT
        return self.sector_department.get(sector, COORDINATING_DEPARTMENT)


def taxonomy_path() -> Path:
    env = os.environ.get("TRIAGE_TAXONOMY")
    if env:
        return Path(env)
    return DATA_DIR / "taxonomy.json"


@lru_cache(maxsize=4)
def _load_taxonomy(path: str) -> Taxonomy:
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    names: dict[str, str] = {}
    for key in ("departments", "sectors", "report_types", "urgency"):
        for item in raw.get(key, []):
            names[item["code"]] = item.get("name", item["code"])
    return Taxonomy(
        departments=tuple(d["code"] for d in raw["departments"]),
        sectors=tuple(s["code"] for s in raw["sectors"]),
        report_types=tuple(r["code"] for r in raw["report_types"]),
        urgencies=tuple(u["code"] for u in raw["urgency"]),
        sector_department={s["code"]: s["department"] for s in raw["sectors"]},
        names=names,
    )


def load_taxonomy(path: Path | str | None = None) -> Taxonomy:
    """The taxonomy (administrator-editable file; default ``data/taxonomy.json``)."""
    return _load_taxonomy(str(path or taxonomy_path()))


def read_jsonl(path: Path | str) -> Iterator[dict[str, Any]]:
    """Yield objects from a JSONL file, skipping blank and unparsable lines."""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict) and isinstance(obj.get("text"), str) and obj["text"].strip():
                yield obj


def _jsonl_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(path.glob("*.jsonl"))
    return [path] if path.exists() else []


def load_records(paths: Iterable[Path | str]) -> list[dict[str, Any]]:
    """All records of the given JSONL files/directories, in a deterministic order."""
    out: list[dict[str, Any]] = []
    for p in paths:
        for f in _jsonl_files(Path(p)):
            out.extend(read_jsonl(f))
    return out


def load_corpus(data_dir: Path | str | None = None) -> list[dict[str, Any]]:
    """Training corpus: ``<data>/corpus/*.jsonl`` (never the held-out set)."""
    base = Path(data_dir) if data_dir else DATA_DIR
    corpus = base / "corpus" if (base / "corpus").is_dir() else base
    return load_records([corpus])


def feedback_path() -> Path:
    env = os.environ.get("TRIAGE_FEEDBACK")
    return Path(env) if env else DATA_DIR / "feedback"


def merge_feedback(records: list[dict[str, Any]], feedback: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Feedback replaces corpus records with the same id and is appended otherwise. Merged
    records carry ``_feedback: True`` so that training fits the vocabulary without them (report
    text must not end up as n-gram strings in the artifact bundle; see ``triage.feedback``)."""
    by_id = {str(r.get("id")): i for i, r in enumerate(records) if r.get("id") is not None}
    out = list(records)
    for fb in feedback:
        key = str(fb.get("id")) if fb.get("id") is not None else None
        if key is not None and key in by_id:
            out[by_id[key]] = {**out[by_id[key]], **fb, "_feedback": True}
        else:
            out.append({**fb, "_feedback": True})
    return out


def label_of(record: dict[str, Any], target: str, taxonomy: Taxonomy) -> str | None:
    """The model label of ``record`` for ``target`` or ``None`` when it is missing/invalid."""
    if target == "sector":
        if "sector" not in record:
            return None
        sec = record["sector"]
        if sec is None:
            return NO_SECTOR
        return sec if sec in taxonomy.sectors else None
    if target == "department":
        dep = record.get("department")
        if dep in taxonomy.departments:
            return dep
        if "sector" in record and (record["sector"] is None or record["sector"] in taxonomy.sectors):
            return taxonomy.department_of(record["sector"])
        return None
    if target == "report_type":
        v = record.get("report_type")
        return v if v in taxonomy.report_types else None
    if target == "urgency":
        v = record.get("urgency")
        return v if v in taxonomy.urgencies else None
    v = record.get(target)
    return None if v is None else str(v)
