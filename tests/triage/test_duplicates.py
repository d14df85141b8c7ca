"""Duplicate fingerprints: size, privacy properties, and detection on paraphrase pairs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from triage import duplicates

FIXTURES = Path(__file__).parent / "fixtures" / "duplicate_pairs.jsonl"


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("TRIAGE_FINGERPRINT_KEY", "test-key")


def pairs():
    return [json.loads(l) for l in FIXTURES.read_text(encoding="utf-8").splitlines() if l.strip()]


def test_fingerprint_is_compact_deterministic_and_opaque():
    text = "鑫达精细化工的硝化釜联锁被车间主任摘了，全靠人工开阀门控温"
    fp = duplicates.fingerprint(text, semantic=False)
    assert isinstance(fp, bytes) and len(fp) == 4 + 4 + 128
    assert fp == duplicates.fingerprint(text, semantic=False)
    for piece in ("鑫达", "硝化", "联锁"):
        assert piece.encode() not in fp
    # no byte of the sketch is a plain (unkeyed) hash of a bigram of the text
    import hashlib

    plain = {hashlib.blake2b(s.encode(), digest_size=8).digest()[0] for s in duplicates.shingles(text)}
    assert np.mean([b in plain for b in fp[8:]]) < 0.9


def test_key_changes_everything_and_foreign_keys_are_skipped(monkeypatch):
    text = "金鼎KTV的安全出口被锁死了"
    a = duplicates.fingerprint(text, semantic=False)
    monkeypatch.setenv("TRIAGE_FINGERPRINT_KEY", "another-key")
    b = duplicates.fingerprint(text, semantic=False)
    assert a[8:] != b[8:]
    assert duplicates.find_duplicates(b, [("old", a)], threshold=0.0) == []


def test_identical_and_unrelated_texts():
    a = duplicates.fingerprint("金鼎KTV的安全出口被锁死了，只能从正门走", semantic=False)
    b = duplicates.fingerprint("金鼎KTV的安全出口被锁死了，只能从正门走！", semantic=False)
    c = duplicates.fingerprint("拖拉机拉着十几个人去赶集", semantic=False)
    assert duplicates.score(a, b)[0] > 0.9
    assert duplicates.score(a, c)[0] < 0.1


def test_traditional_and_full_width_variants_are_the_same_text():
    a = duplicates.fingerprint("兴旺煤矿瓦斯超限还在生产，KTV", semantic=False)
    b = duplicates.fingerprint("興旺煤礦瓦斯超限還在生產，ＫＴＶ", semantic=False)
    assert duplicates.score(a, b)[0] == pytest.approx(1.0)


def test_place_gate_separates_same_hazard_at_another_place():
    text_a, text_b = "东城加油站卸油时司机在旁边抽烟", "西关加油站卸油时司机在旁边抽烟"
    no_place = duplicates.score(duplicates.fingerprint(text_a, semantic=False),
                                duplicates.fingerprint(text_b, semantic=False))[0]
    gated = duplicates.score(duplicates.fingerprint(text_a, place="东城加油站", semantic=False),
                             duplicates.fingerprint(text_b, place="西关加油站", semantic=False))[0]
    assert gated == pytest.approx(no_place * duplicates.PLACE_PENALTY)
    same = duplicates.score(duplicates.fingerprint(text_a, place="东城加油站", semantic=False),
                            duplicates.fingerprint(text_a, place="东城加油站有限公司", semantic=False))[0]
    assert same == pytest.approx(1.0)


def test_find_duplicates_sorts_and_thresholds():
    fp = duplicates.fingerprint("龙湖小区3号楼消防通道被私家车堵死了", semantic=False)
    texts = [("c1", "龙湖小区3号楼消防通道被私家车堵死了，消防车进不来"),
             ("c2", "龙湖小区3号楼消防通道被私家车堵死了"),
             ("c3", "尾矿库还在往上加高")]
    cands = ((cid, duplicates.fingerprint(t, semantic=False)) for cid, t in texts)
    out = duplicates.find_duplicates(fp, list(cands) + [("bad", b"garbage")])
    assert [c for c, _ in out] == ["c2", "c1"]
    assert out[0][1] >= out[1][1]


def test_detection_on_paraphrase_pairs(monkeypatch):
    from tests.triage.encoder_fixture import use_built_encoder
    from triage.encoder import embed

    use_built_encoder(monkeypatch)
    data = pairs()
    texts = sorted({t for p in data for t in (p["a"], p["b"])})
    vec = dict(zip(texts, embed(texts)))
    tp = fp_ = fn = 0
    for key in ("test-key", "k2", "k3"):  # sketches are random given the key: pool a few
        monkeypatch.setenv("TRIAGE_FINGERPRINT_KEY", key)
        for p in data:
            fa = duplicates.fingerprint(p["a"], place=p.get("place_a"), embedding=vec[p["a"]])
            fb = duplicates.fingerprint(p["b"], place=p.get("place_b"), embedding=vec[p["b"]])
            assert len(fa) <= 4 + 4 + 128 + 64 + 64
            found = bool(duplicates.find_duplicates(fa, [("b", fb)]))
            tp += found and p["dup"]
            fp_ += found and not p["dup"]
            fn += (not found) and p["dup"]
    precision, recall = tp / (tp + fp_), tp / (tp + fn)
    # measured over 6 keys: P 0.84 (min 0.70), R 0.90 (min 0.80) (bench/duplicates_eval.py)
    assert precision >= 0.75 and recall >= 0.8, (precision, recall)


def test_semantic_part_is_added_when_the_encoder_is_there(monkeypatch):
    from tests.triage.encoder_fixture import use_built_encoder

    use_built_encoder(monkeypatch)
    fp = duplicates.fingerprint("兴旺煤矿瓦斯超限还在生产")
    assert len(fp) == 4 + 4 + 128 + 64
    other = duplicates.fingerprint("兴旺煤矿井下瓦斯浓度超标，矿上不停产继续挖煤")
    jac, cos, place = duplicates.components(fp, other)
    assert cos is not None and cos > 0.8 and place is None


def test_lexical_only_without_encoder(tmp_path, monkeypatch):
    monkeypatch.setenv("TRIAGE_ENCODER_PATH", str(tmp_path / "missing"))
    fp = duplicates.fingerprint("兴旺煤矿瓦斯超限还在生产")
    assert len(fp) == 4 + 4 + 128
    from triage.encoder import EncoderUnavailable

    with pytest.raises(EncoderUnavailable):
        duplicates.fingerprint("兴旺煤矿瓦斯超限还在生产", semantic=True)
