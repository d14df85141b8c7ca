"""Reference data the intake validates against: the taxonomy (../shared or data/) and towns."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _taxonomy_path() -> Path:
    env = os.environ.get("PORTAL_TAXONOMY_FILE")
    if env:
        return Path(env)
    for candidate in (REPO / "data" / "taxonomy.json", REPO.parent / "shared" / "taxonomy.json"):
        if candidate.exists():
            return candidate
    raise FileNotFoundError("taxonomy.json not found (set PORTAL_TAXONOMY_FILE)")


@dataclass(frozen=True)
class Reference:
    departments: dict[str, str]  # code -> name
    sectors: dict[str, str]  # code -> name
    sector_department: dict[str, str]
    towns: dict[str, str]  # code -> name
    district: str


@lru_cache(maxsize=4)
def load_reference(towns_file: str | None = None) -> Reference:
    tax = json.loads(_taxonomy_path().read_text(encoding="utf-8"))
    towns_path = Path(towns_file or os.environ.get("PORTAL_TOWNS_FILE") or REPO / "data" / "towns.json")
    towns = json.loads(towns_path.read_text(encoding="utf-8"))
    return Reference(
        departments={d["code"]: d["name"] for d in tax["departments"]},
        sectors={s["code"]: s["name"] for s in tax["sectors"]},
        sector_department={s["code"]: s["department"] for s in tax["sectors"]},
        towns={t["code"]: t["name"] for t in towns["towns"]},
        district=towns.get("district", ""),
    )
