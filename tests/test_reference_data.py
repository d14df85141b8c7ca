"""Reference data shipped in data/ must not drift from ../shared (the codes are stable identifiers)."""

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "taxonomy.json"


def test_taxonomy_copy_matches_shared() -> None:
    if not SHARED.exists():
        pytest.skip(f"SHARED TAXONOMY MISSING — {SHARED} not beside the checkout; cannot check drift")
    assert json.loads((REPO / "data" / "taxonomy.json").read_text()) == json.loads(SHARED.read_text())


def test_towns_have_unique_codes_and_names() -> None:
    towns = json.loads((REPO / "data" / "towns.json").read_text())["towns"]
    assert len({t["code"] for t in towns}) == len(towns) == len({t["name"] for t in towns})
