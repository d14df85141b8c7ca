"""Staff corrections as training feedback: labels, sealing, vocabulary, determinism, CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from triage import feedback, model
from triage.data import load_taxonomy, merge_feedback

REPO = Path(__file__).resolve().parents[2]
SECRET = "举报人张三丰电话13912345678"  # a string no corpus contains


def test_correction_labels_follow_the_department() -> None:
    tax = load_taxonomy()
    one = feedback.correction_record("fb-1", "网吧后门锁死了", final_department="culture_tourism",
                                     triage_sector="fire_safety", taxonomy=tax)
    assert one is not None and one["sector"] == "culture_tourism" and one["sector_source"] == "department"
    assert "report_type" not in one and "urgency" not in one  # a transfer does not correct those
    # a department owning several sectors: triage's sector if it is one of them, else the model's pick
    kept = feedback.correction_record("fb-2", "饭店液化气罐漏气", final_department="housing", triage_sector="gas", taxonomy=tax)
    assert kept is not None and kept["sector"] == "gas"
    picked = feedback.correction_record("fb-3", "塔吊", final_department="housing", triage_sector="special_equipment",
                                        taxonomy=tax, sector_scores=lambda t: {"construction": 0.3, "gas": 0.1, "fire_safety": 0.5})
    assert picked is not None and picked["sector"] == "construction" and picked["sector_source"] == "model"
    bare = feedback.correction_record("fb-4", "塔吊", final_department="housing", triage_sector="special_equipment", taxonomy=tax)
    assert bare is not None and "sector" not in bare
    oos = feedback.correction_record("fb-5", "拖欠工资", final_department="fire", triage_sector="fire_safety",
                                     taxonomy=tax, out_of_scope=True)
    assert oos is not None and oos["sector"] is None and oos["report_type"] == "out_of_scope" and oos["urgency"] == "low"
    assert feedback.correction_record("fb-6", "x", final_department="coordination", triage_sector=None, taxonomy=tax) is None
    assert feedback.correction_record("fb-7", "  ", final_department="fire", triage_sector=None, taxonomy=tax) is None


def test_sealed_file_round_trip_and_wrong_key(tmp_path: Path) -> None:
    recs = [{"id": "fb-2", "text": SECRET + "楼道堆满杂物", "department": "fire", "sector": "fire_safety"},
            {"id": "fb-1", "text": "网吧后门锁死了", "department": "culture_tourism", "sector": "culture_tourism"}]
    key = feedback.new_key()
    blob = feedback.seal(recs, key)
    assert blob.startswith(feedback.MAGIC)
    assert SECRET.encode() not in blob and "网吧".encode() not in blob
    assert [r["id"] for r in feedback.open_sealed(blob, key)] == ["fb-1", "fb-2"]
    with pytest.raises(feedback.FeedbackKeyError):
        feedback.open_sealed(blob, feedback.new_key())
    with pytest.raises(feedback.FeedbackKeyError):
        feedback.open_sealed(blob[:-1] + bytes([blob[-1] ^ 1]), key)
    with pytest.raises(feedback.FeedbackKeyError):
        feedback.open_sealed(blob, None)
    f = tmp_path / "fb.sealed"
    f.write_bytes(blob)
    asked = []
    got = feedback.load_feedback(f, read_key=lambda: asked.append(1) or key)
    assert len(got) == 2 and asked == [1]


def test_feedback_changes_weights_not_vocabulary(mini_records: list[dict]) -> None:
    fb = [{"id": "fb-x", "text": SECRET + "，工地塔吊没有证", "department": "housing", "sector": "construction"}]
    merged = merge_feedback(mini_records, fb)
    art = model.train(merged)
    base = model.train(mini_records)
    vocab = set()
    for _name, tr in art.features.transformer_list:
        vocab |= set(tr.vocabulary_)
    assert not any(s in vocab for s in ("张三丰", "13912345678", "丰电", "三丰")), "feedback text leaked into the bundle"
    assert list(art.names) == list(base.names)  # same features: the corpus alone decides them
    assert art.model_version != base.model_version
    again = model.train(list(reversed(merged)))
    assert again.model_version == art.model_version  # deterministic with feedback too


def test_cli_train_with_sealed_feedback(mini_data_dir: Path, tmp_path: Path) -> None:
    key = feedback.new_key()
    f = tmp_path / "fb.sealed"
    f.write_bytes(feedback.seal([{"id": "fb-1", "text": "网吧后门锁死了，里面一百多人", "department": "culture_tourism",
                                  "sector": "culture_tourism"}], key))
    env = {**os.environ, "TRIAGE_STANDARDS": "0"}
    args = [sys.executable, "-m", "triage", "train", "--data", str(mini_data_dir), "--out", str(tmp_path / "art"),
            "--feedback", str(f)]
    ok = subprocess.run(args, input=key.hex() + "\n", capture_output=True, text=True, cwd=REPO, env=env, timeout=180)
    assert ok.returncode == 0, ok.stderr
    assert "feedback: 1 records" in ok.stdout and (tmp_path / "art" / "triage.joblib").exists()
    bad = subprocess.run(args, input=feedback.new_key().hex() + "\n", capture_output=True, text=True, cwd=REPO,
                         env=env, timeout=180)
    assert bad.returncode == 2 and "wrong feedback key" in bad.stderr
