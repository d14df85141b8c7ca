"""Chinese word segmentation with a private jieba tokenizer and the domain dictionary.

Why private: the global ``jieba`` instance is process-wide state that any other library (or a
test) may mutate with ``add_word``/``load_userdict``; the triage features must be reproducible,
so they use their own :class:`jieba.Tokenizer` loaded with ``data/lexicon/domain_dict.txt``
(sector terms, equipment, hazards, the district's towns and nearby Henan place names).

:func:`tokenize` is a module-level function so that scikit-learn pipelines holding it pickle by
reference (joblib artifacts stay small and do not embed the dictionary).
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
from pathlib import Path

import jieba

_REPO = Path(__file__).resolve().parent.parent
DOMAIN_DICT = Path(os.environ.get("TRIAGE_DOMAIN_DICT", _REPO / "data" / "lexicon" / "domain_dict.txt"))

_lock = threading.Lock()
_tok: jieba.Tokenizer | None = None
_PUNCT_OR_SPACE = re.compile(r"^[\s\W_]+$", re.UNICODE)


def get_tokenizer() -> jieba.Tokenizer:
    """The process-wide private tokenizer, built once (≈1 s) under a lock."""
    global _tok
    if _tok is None:
        with _lock:
            if _tok is None:
                jieba.setLogLevel(logging.WARNING)
                tok = jieba.Tokenizer()
                # Keep jieba's prefix-dict cache out of the shared /tmp namespace of other users.
                tok.tmp_dir = os.environ.get("TRIAGE_JIEBA_CACHE", tempfile.gettempdir())
                tok.initialize()
                if DOMAIN_DICT.exists():
                    tok.load_userdict(str(DOMAIN_DICT))
                _tok = tok
    return _tok


def tokenize(text: str) -> list[str]:
    """Segment already-normalised text into words, dropping punctuation and whitespace tokens."""
    return [w for w in get_tokenizer().lcut(text, HMM=True) if not _PUNCT_OR_SPACE.match(w)]
