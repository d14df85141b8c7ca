"""Shared fixtures: a small bundle trained once per session on tests/triage/fixtures/mini_corpus.jsonl.

The fixture corpus is tiny and hand-written (48 reports, 5 sectors + out-of-scope) so the suite
trains in a few seconds and does not depend on data/corpus.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
MINI = FIXTURES / "mini_corpus.jsonl"


@pytest.fixture(scope="session")
def mini_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory laid out like data/: corpus/*.jsonl (+ a held-out copy for the CLI)."""
    d = tmp_path_factory.mktemp("data")
    (d / "corpus").mkdir()
    shutil.copy(MINI, d / "corpus" / "mini.jsonl")
    (d / "heldout").mkdir()
    shutil.copy(MINI, d / "heldout" / "heldout.jsonl")
    return d


@pytest.fixture(scope="session")
def mini_records() -> list[dict]:
    from triage.data import load_records

    return load_records([MINI])


@pytest.fixture(scope="session")
def mini_artifacts_dir(tmp_path_factory: pytest.TempPathFactory, mini_records: list[dict]) -> Path:
    from triage import model

    out = tmp_path_factory.mktemp("artifacts")
    model.save(model.train(mini_records), out)
    return out


@pytest.fixture(scope="session")
def mini_triager(mini_artifacts_dir: Path):
    from triage.routing import Triager

    from triage.routing import Triager as _T

    return _T(Triager.load(mini_artifacts_dir).art, with_standards=False)


@pytest.fixture()
def routing_with(mini_triager) -> Iterator[object]:
    """route() served by the mini bundle; the process-wide cache is restored afterwards."""
    from triage import routing

    routing.reset(mini_triager)
    yield mini_triager
    routing.reset()
