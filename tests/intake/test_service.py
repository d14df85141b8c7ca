"""The filing service against both real databases: who can open what."""

import pytest
from sqlalchemy import select

import triage
from intake import service
from intake.validation import validate_report
from models import Department, KeyWrap, Report
from portal.provisioning import department_private_from_recovery
from secure_store import envelope
from tests.conftest import Env


def _ctx(env: Env) -> service.IntakeContext:
    from intake.reference import load_reference
    from secure_store import instance
    from secure_store.files import FileStore

    return service.IntakeContext(instance.load(env.data_dir), FileStore(env.data_dir / "store"), load_reference())


def _file(env: Env, text: str, **extra: str) -> tuple[service.FiledReport, Report]:
    data = validate_report({"description": text, **extra}, _ctx(env).reference).value
    assert data is not None
    with env.db() as db:
        filed = service.file_report(db, _ctx(env), data, [])
        report = db.scalar(select(Report).where(Report.number == filed.number))
        assert report is not None
        report.wraps, report.department  # load relationships before the session closes
        return filed, report


def test_unrouted_report_goes_to_coordination_only(env: Env) -> None:
    filed, report = _file(env, "有人在林区烧荒，火苗很大")
    with env.db() as db:
        dept = db.get(Department, report.department_id)
        assert dept is not None and dept.code == "coordination"
        readers = {w.department_id for w in db.scalars(select(KeyWrap).where(KeyWrap.report_id == report.id, KeyWrap.recipient == "department"))}
        assert readers == {dept.id}
    assert report.needs_review and report.status == "received"
    assert filed.number.startswith("AQ") and len(filed.receipt) == 16 and filed.receipt.isdigit()


def test_routed_report_is_readable_by_its_department_and_coordination_only(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(triage, "route", lambda text, **kw: triage.TriageResult(department="fire", confidence=0.97, needs_review=False, urgency="critical", urgency_score=95))
    filed, report = _file(env, "商场安全出口被锁，消防通道堵死了", identity_mode="named", name="李四", phone="13900000000")
    with env.db() as db:
        report = db.scalar(select(Report).where(Report.number == filed.number))
        assert report is not None
        fire = db.scalar(select(Department).where(Department.code == "fire"))
        coord = db.scalar(select(Department).where(Department.code == "coordination"))
        housing = db.scalar(select(Department).where(Department.code == "housing"))
        assert report.department_id == fire.id and report.urgency == "critical" and not report.needs_review
        for dept in (fire, coord):
            key = department_private_from_recovery(db, dept.code, env.recovery_hex)
            assert service.open_as_department(report, dept, key)["content"]["description"].startswith("商场安全出口")
            assert service.open_as_department(report, dept, key, "identity")["name"] == "李四"
        housing_key = department_private_from_recovery(db, "housing", env.recovery_hex)
        with pytest.raises(envelope.DecryptionError):
            service.open_as_department(report, housing, housing_key)
        # a key that is not the department's own cannot open its wrap either
        with pytest.raises(envelope.DecryptionError):
            service.open_as_department(report, fire, housing_key)


def test_triage_failure_never_loses_a_report(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(text: str, **kw: object) -> triage.TriageResult:
        raise RuntimeError("model exploded")

    monkeypatch.setattr(triage, "route", boom)
    _filed, report = _file(env, "锅炉压力表坏了还在烧")
    assert report.needs_review


def test_receipt_login_unwraps_only_its_own_report(env: Env) -> None:
    a, _ = _file(env, "渣土车天天超载拉土")
    b, _ = _file(env, "渡船超载，没有救生衣")
    ctx = _ctx(env)
    with env.db() as db:
        token = service.login_with_receipt(db, ctx, a.receipt)
        assert token
        access = service.resume(db, token)
        assert access is not None and access.report.number == a.number
        view = service.reporter_view(db, ctx, access)
        assert view["content"]["description"] == "渣土车天天超载拉土"
        assert service.login_with_receipt(db, ctx, "0000000000000000") is None
        service.logout(db, token)
        assert service.resume(db, token) is None
        assert service.resume(db, "not-a-token") is None
        assert service.login_with_receipt(db, ctx, b.receipt) is not None


def test_rewrapping_for_a_new_department_needs_no_reencryption(env: Env) -> None:
    """Re-routing = unwrap with one department key, wrap for another; the content blob is unchanged."""
    filed, _ = _file(env, "化工厂夜里偷偷生产，味道很冲")
    with env.db() as db:
        report = db.scalar(select(Report).where(Report.number == filed.number))
        coord = db.scalar(select(Department).where(Department.code == "coordination"))
        emergency = db.scalar(select(Department).where(Department.code == "emergency"))
        before = report.sealed_content
        ckey = department_private_from_recovery(db, "coordination", env.recovery_hex)
        wrap = next(w for w in report.wraps if w.department_id == coord.id and w.purpose == "content")
        data_key = envelope.unwrap_with_private_key(wrap.wrapped_key, ckey, f"report-key|{report.number}|content".encode())
        report.wraps.append(KeyWrap(purpose="content", recipient="department", department_id=emergency.id,
                                    wrapped_key=envelope.wrap_for_public_key(data_key, emergency.public_key, f"report-key|{report.number}|content".encode())))
        db.commit()
        ekey = department_private_from_recovery(db, "emergency", env.recovery_hex)
        assert service.open_as_department(report, emergency, ekey)["content"]["description"].startswith("化工厂")
        assert report.sealed_content == before


def test_reporter_reads_messages_from_the_handler(env: Env) -> None:
    filed, _ = _file(env, "尾矿库坝体渗水，下游有村庄")
    ctx = _ctx(env)
    with env.db() as db:
        access = service.resume(db, filed.session_token)
        assert access is not None
        service.post_message(db, access, "您好，我们已安排人员核查，请问渗水点大概在坝体哪一侧？", sender="staff")
        view = service.reporter_view(db, ctx, access)
        assert view["messages"][-1] == {"sender": "staff", "body": "您好，我们已安排人员核查，请问渗水点大概在坝体哪一侧？",
                                        "at": view["messages"][-1]["at"]}
        assert "办理单位给您回复了留言" in [e["label"] for e in view["timeline"]]
        assert all(m.read_by_reporter for m in access.report.messages if m.sender == "staff")


def test_a_failure_quoting_the_report_never_reaches_the_log(env: Env, monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    """Exception messages can quote the text; logs get the type and location only."""

    def quoting(text: str, **kw: object) -> triage.TriageResult:
        raise ValueError(f"cannot parse: {text}")

    monkeypatch.setattr(triage, "route", quoting)
    caplog.set_level("DEBUG")
    _file(env, "金丝雀日志测试：仓库里堆着液化气罐")
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "ValueError" in logged and "test_service.py" in logged
    assert "金丝雀日志测试" not in logged
