"""Staff corrections → sealed triage feedback → retraining, end to end (SQLite and PostgreSQL).

Reports are filed and moved through the real case functions (移送, 受理, 不予受理); the portal
command opens them with the coordinating office's key unlocked from the recovery key on stdin and
writes only a sealed file; ``python -m triage train --feedback`` opens it with the printed key."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import triage
from cases import lifecycle
from cases.triage_feedback import collect
from intake import service
from intake.reference import load_reference
from intake.validation import validate_report
from models.department import COORDINATION_CODE
from portal.provisioning import department_private_from_recovery
from tests.cases.conftest import add_member, desk_for, intake_ctx, load
from tests.conftest import Env
from triage import feedback

REPO = Path(__file__).resolve().parents[2]
MINI = REPO / "tests" / "triage" / "fixtures" / "mini_corpus.jsonl"
MOVED = "万达广场旁边那家网吧后门用铁链锁死了，晚上一百多人在里面上网，唯一的楼梯口堆满饮料箱"
WAGES = "工地老板拖欠我们三个月工资一共十二万块，找了好几次都不给"
CHEMICAL = "村东头有人在民房里囤了几十桶香蕉水和油漆稀释剂，没有任何手续"
STAYED = "小区楼道里电动车充电，消防通道堵死了"
WAITING = "工地塔吊司机没有证，吊钩从人头顶上过"


def _file(env: Env, monkeypatch: pytest.MonkeyPatch, text: str, department: str, sector: str | None,
          report_type: str = "general_hazard") -> str:
    result = triage.TriageResult(department=department, confidence=0.9, needs_review=False, sector=sector,
                                 report_type=report_type, urgency="medium", urgency_score=50)
    monkeypatch.setattr(triage, "route", lambda t, **kw: result)
    data = validate_report({"description": text}, load_reference()).value
    assert data is not None
    with env.db() as db:
        return service.file_report(db, intake_ctx(env), data, []).number


@pytest.fixture()
def corrected(env: Env, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    fire = add_member(env, "handler", "fire")
    culture = add_member(env, "handler", "culture_tourism")
    housing = add_member(env, "handler", "housing")
    emergency = add_member(env, "handler", "emergency")
    n = {
        "moved": _file(env, monkeypatch, MOVED, "fire", "fire_safety"),
        "wages": _file(env, monkeypatch, WAGES, "fire", "fire_safety"),
        "chemical": _file(env, monkeypatch, CHEMICAL, "emergency", None, "out_of_scope"),
        "stayed": _file(env, monkeypatch, STAYED, "fire", "fire_safety"),
        "waiting": _file(env, monkeypatch, WAITING, "fire", "fire_safety"),
    }
    with env.db() as db:
        lifecycle.transfer(desk_for(env, db, fire), load(db, n["moved"]), "culture_tourism", "网吧属于文化旅游部门监管")
        lifecycle.not_accept(desk_for(env, db, fire), load(db, n["wages"]), "not_safety")
        lifecycle.accept(desk_for(env, db, fire), load(db, n["stayed"]))
        lifecycle.transfer(desk_for(env, db, fire), load(db, n["waiting"]), "housing", "建筑起重机械归住建")  # not yet accepted
        db.commit()
    with env.db() as db:
        lifecycle.accept(desk_for(env, db, culture), load(db, n["moved"]))
        lifecycle.accept(desk_for(env, db, emergency), load(db, n["chemical"]))
        db.commit()
    assert housing.department == "housing"
    return n


def _mine(records: list[dict], numbers: dict[str, str]) -> dict[str, dict]:
    by_id = {r["id"]: r for r in records}
    return {k: by_id[f"fb-{v}"] for k, v in numbers.items() if f"fb-{v}" in by_id}


def test_collect_labels_only_accepted_corrections(env: Env, corrected: dict[str, str]) -> None:
    with env.db() as db:
        private = department_private_from_recovery(db, COORDINATION_CODE, env.recovery_hex)
        records, summary = collect(db, private, sector_scores=lambda t: {"hazardous_chemicals": 0.6, "industry_trade": 0.3})
    got = _mine(records, corrected)
    assert set(got) == {"moved", "wages", "chemical"}  # not "stayed" (confirmed), not "waiting" (still received)
    assert got["moved"]["text"] == MOVED and got["moved"]["department"] == "culture_tourism"
    assert got["moved"]["sector"] == "culture_tourism"
    assert got["wages"]["sector"] is None and got["wages"]["report_type"] == "out_of_scope"
    assert got["chemical"]["department"] == "emergency" and got["chemical"]["sector"] == "hazardous_chemicals"
    assert got["chemical"]["sector_source"] == "model"
    assert summary.unreadable == 0 and summary.department >= 1 and summary.out_of_scope >= 1 and summary.in_scope >= 1
    assert [r["id"] for r in records] == sorted(r["id"] for r in records)


def _portal(env: Env, args: list[str], stdin: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    e = {**os.environ, "PORTAL_DATA_DIR": str(env.data_dir), "DATABASE_URL": env.database_url,
         "TRIAGE_ARTIFACTS": str(tmp / "no-model")}
    return subprocess.run([sys.executable, "-m", "portal", "triage-feedback", *args], input=stdin,
                          capture_output=True, text=True, cwd=REPO, env=e, timeout=300)


def test_cli_exports_sealed_feedback_and_triage_trains_on_it(env: Env, corrected: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "corrections.sealed"
    bad = _portal(env, ["--out", str(out)], "00" * 32 + "\n", tmp_path)
    assert bad.returncode == 2 and not out.exists()
    p = _portal(env, ["--out", str(out)], env.recovery_hex + "\n", tmp_path)
    assert p.returncode == 0, p.stderr
    key_hex = p.stdout.strip().splitlines()[-1]
    blob = out.read_bytes()
    assert feedback.is_sealed(blob) and oct(out.stat().st_mode & 0o777) == "0o600"
    for text in (MOVED, WAGES, CHEMICAL):  # no plaintext in the file, on stdout/stderr, or anywhere in tmp
        for part in (text[:8], text[-8:]):
            assert part.encode() not in blob and part not in p.stdout and part not in p.stderr
            for f in tmp_path.rglob("*"):
                assert not f.is_file() or part.encode() not in f.read_bytes()
    records = feedback.open_sealed(blob, bytes.fromhex(key_hex))
    assert {"moved", "wages", "chemical"} <= set(_mine(records, corrected))

    data = tmp_path / "data"
    (data / "corpus").mkdir(parents=True)
    shutil.copy(MINI, data / "corpus" / "mini.jsonl")
    t = subprocess.run([sys.executable, "-m", "triage", "train", "--data", str(data), "--out", str(tmp_path / "art"),
                        "--feedback", str(out)], input=key_hex + "\n", capture_output=True, text=True, cwd=REPO,
                       env={**os.environ, "TRIAGE_STANDARDS": "0"}, timeout=300)
    assert t.returncode == 0, t.stderr
    assert f"feedback: {len(records)} records" in t.stdout and (tmp_path / "art" / "triage.joblib").exists()


def test_cli_trains_in_memory_without_writing_feedback(env: Env, corrected: dict[str, str], tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "corpus").mkdir(parents=True)
    shutil.copy(MINI, data / "corpus" / "mini.jsonl")
    art = tmp_path / "art"
    p = _portal(env, ["--train", "--artifacts", str(art), "--data", str(data)], env.recovery_hex + "\n", tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout == ""  # no key, no records: the corrections went straight into training
    assert sorted(f.name for f in art.iterdir()) == ["meta.json", "triage.joblib"]
    written = [f for f in tmp_path.rglob("*") if f.is_file() and f.parent.name not in ("corpus", "art")]
    assert written == []
    for part in (MOVED[:8], WAGES[:8], CHEMICAL[:8]):
        assert part not in p.stderr and part not in (art / "meta.json").read_text(encoding="utf-8")
