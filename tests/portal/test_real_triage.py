"""The intake with the trained triage model: routing decides who can decrypt."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from models import Department, Report
from portal.provisioning import department_private_from_recovery
from tests.conftest import Env, submit_report

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.real_triage


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Use the artifacts `./run` built, or train a fresh set (≈15 s) if there are none."""
    import triage.routing

    default = Path(os.environ.get("TRIAGE_ARTIFACTS", REPO / "instance" / "triage"))
    old = os.environ.get("TRIAGE_ARTIFACTS")
    if not (default / "triage.joblib").exists():
        out = tmp_path_factory.mktemp("triage")
        subprocess.run([sys.executable, "-m", "triage", "train", "--out", str(out)], cwd=REPO, check=True,
                       capture_output=True, timeout=600)
        os.environ["TRIAGE_ARTIFACTS"] = str(out)
    triage.routing.reset()
    assert triage.routing.get_triager() is not None, "trained triage artifacts did not load"
    yield
    if old is None:
        os.environ.pop("TRIAGE_ARTIFACTS", None)
    else:
        os.environ["TRIAGE_ARTIFACTS"] = old
    triage.routing.reset()


def _last_report(env: Env) -> tuple[Report, dict[int, str]]:
    with env.db() as db:
        rep = db.scalars(select(Report).order_by(Report.id.desc())).first()
        assert rep is not None
        rep.wraps
        codes = {d.id: d.code for d in db.scalars(select(Department))}
        return rep, codes


def test_happening_now_report_is_critical_routed_and_wrapped_for_its_department(trained, client, env: Env) -> None:
    r = submit_report(client, {"description": "化工厂储罐区阀门正在泄漏，白烟越来越大，味道很冲，旁边还有工人在干活！"})
    assert r.status_code == 200
    assert 'id="critical-notice"' in r.get_data(as_text=True)
    rep, codes = _last_report(env)
    assert rep.urgency == "critical" and rep.triage_model != "none"
    readers = {codes[w.department_id] for w in rep.wraps if w.recipient == "department" and w.purpose == "content"}
    if rep.needs_review:
        assert codes[rep.department_id] == "coordination" and readers == {"coordination"}
    else:
        assert codes[rep.department_id] == rep.triage_department
        assert readers == {rep.triage_department, "coordination"}
        with env.db() as db:
            rep = db.get(Report, rep.id)
            dept = db.get(Department, rep.department_id)
            key = department_private_from_recovery(db, dept.code, env.recovery_hex)
            from intake import service
            from secure_store import envelope

            content = service.open_as_department(rep, dept, key)
            assert "储罐区阀门正在泄漏" in content["content"]["description"]
            # the triage explanation is sealed with the content key, and quotes the text
            wrap = next(w for w in rep.wraps if w.department_id == dept.id and w.purpose == "content")
            data_key = envelope.unwrap_with_private_key(wrap.wrapped_key, key, f"report-key|{rep.number}|content".encode())
            explained = envelope.open_json(data_key, rep.sealed_triage, f"report|{rep.number}|triage".encode())
            assert explained["urgency"] == "critical" and explained["reasons"]


def test_wage_complaint_is_out_of_scope_and_low(trained, client, env: Env) -> None:
    assert submit_report(client, {"description": "老板拖欠我们工资三个月了，一直不给，怎么办"}).status_code == 200
    rep, _ = _last_report(env)
    assert rep.report_type == "out_of_scope" and rep.urgency == "low"
