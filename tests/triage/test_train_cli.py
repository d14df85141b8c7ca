"""Training determinism, feedback merging, and the CLI JSON contracts (classify, eval, train)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from triage import model
from triage.cli import CLASSIFY_KEYS
from triage.data import merge_feedback

REPO = Path(__file__).resolve().parents[2]


def _run(args: list[str], stdin: str = "", env: dict[str, str] | None = None, timeout: int = 120):
    e = dict(os.environ)
    e["TRIAGE_STANDARDS"] = "0"  # the standards matcher has its own tests; keep these fast
    e.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "triage", *args],
        input=stdin, capture_output=True, text=True, cwd=REPO, env=e, timeout=timeout,
    )


def test_train_is_deterministic(mini_records: list[dict], mini_triager) -> None:
    again = model.train(list(reversed(mini_records)))
    assert again.model_version == mini_triager.art.model_version
    texts = ["消防通道被堵了", "化工厂正在泄漏", "拖欠工资"]
    X1 = mini_triager.art.transform(texts)
    X2 = again.transform(texts)
    for target, m in again.models.items():
        np.testing.assert_allclose(m.proba(X2), mini_triager.art.models[target].proba(X1), atol=1e-12)


def test_feedback_replaces_and_appends(mini_records: list[dict]) -> None:
    fb = [
        {**mini_records[0], "sector": "gas", "department": "housing"},
        {"id": "fb-1", "text": "新的反馈", "department": "fire", "sector": "fire_safety",
         "report_type": "general_hazard", "urgency": "medium"},
    ]
    merged = merge_feedback(mini_records, fb)
    assert len(merged) == len(mini_records) + 1
    assert merged[0]["sector"] == "gas"
    art = model.train(merged)
    assert art.model_version != model.train(mini_records).model_version


def test_cli_classify_contract(mini_artifacts_dir: Path) -> None:
    lines = [
        json.dumps({"id": "a", "text": "小区楼道里堆满了纸箱，消防通道被堵死了"}, ensure_ascii=False),
        "this is not json",
        json.dumps({"id": "c", "text": 5}),
        json.dumps(["not", "an", "object"]),
        "",
        json.dumps({"id": "e", "text": "饭店后厨燃气味特别大，现在还在漏气，赶紧来人"}, ensure_ascii=False),
    ]
    p = _run(["classify"], "\n".join(lines) + "\n", {"TRIAGE_ARTIFACTS": str(mini_artifacts_dir)})
    assert p.returncode == 0, p.stderr
    out = [json.loads(x) for x in p.stdout.splitlines()]
    assert len(out) == 5
    ok = [o for o in out if "error" not in o]
    bad = [o for o in out if "error" in o]
    assert [o["id"] for o in ok] == ["a", "e"]
    assert len(bad) == 3 and bad[1]["id"] == "c"
    for o in ok:
        for k in CLASSIFY_KEYS:
            assert k in o, k
        assert isinstance(o["alternatives"], list) and isinstance(o["reasons"], list)
        assert isinstance(o["standard_matches"], list)
    assert ok[0]["department"] == "fire"
    assert ok[1]["urgency"] == "critical"


def test_cli_classify_without_artifacts(tmp_path: Path) -> None:
    p = _run(["classify"], json.dumps({"id": 1, "text": "消防通道堵了"}) + "\n",
             {"TRIAGE_ARTIFACTS": str(tmp_path / "none")})
    assert p.returncode == 0, p.stderr
    o = json.loads(p.stdout.splitlines()[0])
    assert o["needs_review"] is True and o["department"] is None


def test_cli_eval_contract(tmp_path: Path, mini_records: list[dict]) -> None:
    f = tmp_path / "labelled.csv"
    with open(f, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["内容", "类别"])
        for r in mini_records:
            w.writerow([r["text"], r["sector"] or "none"])
    p = _run(["eval", "--data", str(f), "--text-col", "内容", "--label-col", "类别", "--folds", "3"])
    assert p.returncode == 0, p.stderr
    last = json.loads(p.stdout.strip().splitlines()[-1])
    assert set(last) >= {"accuracy", "macro_f1"}
    assert 0.0 <= last["macro_f1"] <= 1.0 and 0.0 <= last["accuracy"] <= 1.0
    assert last["accuracy"] > 0.35  # chance is 1/6 (six balanced classes)
    assert "precision" in p.stdout and "recall" in p.stdout


def test_cli_eval_bad_column(tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    f.write_text("a,b\n1,2\n", encoding="utf-8")
    p = _run(["eval", "--data", str(f), "--text-col", "text", "--label-col", "label"])
    assert p.returncode == 2


def test_cli_train_prints_scores(mini_data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "art"
    p = _run(["train", "--data", str(mini_data_dir), "--out", str(out)])
    assert p.returncode == 0, p.stderr
    assert (out / "triage.joblib").exists() and (out / "meta.json").exists()
    for key in ("department_accuracy", "sector_macro_f1", "report_type_macro_f1", "urgency_macro_f1",
                "critical_recall", "out_of_scope_f1"):
        assert key in p.stdout
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    p2 = _run(["train", "--data", str(mini_data_dir), "--out", str(tmp_path / "art2")])
    meta2 = json.loads((tmp_path / "art2" / "meta.json").read_text(encoding="utf-8"))
    assert meta["model_version"] == meta2["model_version"], p2.stderr
