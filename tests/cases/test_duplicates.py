"""Likely duplicates on the case page: the same hazard reported again (near-verbatim) is listed
with the first report, an unrelated report is not, a department never learns of reports outside
its remit (the coordinating office sees all), the fingerprint holds no plaintext, and purging a
report removes its fingerprint."""

from __future__ import annotations

from sqlalchemy import select

from cases import duplicates, retention
from models import ReportFingerprint
from secure_store import instance
from secure_store.files import FileStore
from tests.cases.conftest import add_member, desk_for, file_to, load
from tests.conftest import Env

FIRST = "宏达化工厂东边储罐区的阀门一直在漏气，味道很冲，工人说已经漏了两天了没人管"
AGAIN = "宏达化工厂东边储罐区阀门一直漏气，味道很冲，工人说都漏了两天了也没人管！"
OTHER = "学校食堂后面的燃气管道被挖掘机挖破了，现在没人修"


def test_a_resubmission_is_listed_and_scoped(env: Env, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    first = file_to(env, monkeypatch, "civil_affairs", text=FIRST)
    again = file_to(env, monkeypatch, "civil_affairs", text=AGAIN)
    other = file_to(env, monkeypatch, "civil_affairs", text=OTHER)
    elsewhere = file_to(env, monkeypatch, "health", text=FIRST + "。")
    with env.db() as db:
        handler = desk_for(env, db, add_member(env, "handler", "civil_affairs"))
        found = [d.number for d in duplicates.likely(handler, load(db, again))]
        assert first in found and other not in found and again not in found
        assert elsewhere not in found  # another department's report stays invisible to this one
        assert first not in [d.number for d in duplicates.likely(handler, load(db, other))]
        office = desk_for(env, db, add_member(env, "coordinator", "coordination"))
        assert {first, elsewhere} <= {d.number for d in duplicates.likely(office, load(db, again))}
        fp = db.get(ReportFingerprint, load(db, first).id).fingerprint
        assert FIRST.encode() not in fp and "储罐".encode() not in fp and len(fp) < 300


def test_the_case_page_shows_them_and_purge_removes_the_fingerprint(env: Env, app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from cases import lifecycle
    from audit.chain import derive_audit_key
    from tests.portal.staff_helpers import staff_login

    first = file_to(env, monkeypatch, "agriculture", text="水库溢洪道闸门锈死了打不开，汛期马上到了，下游好几个村")
    again = file_to(env, monkeypatch, "agriculture", text="水库溢洪道闸门锈死了打不开！汛期马上就到了，下游好几个村子")
    client = staff_login(app, add_member(env, "handler", "agriculture"))
    html = client.get(f"/staff/case/{again}").get_data(as_text=True)
    assert 'id="duplicates"' in html and first in html
    with env.db() as db:
        lifecycle.not_accept(desk_for(env, db, add_member(env, "handler", "agriculture")), load(db, first), "already_accepted")
        db.commit()
        retention.purge(db, FileStore(env.data_dir / "store"), derive_audit_key(instance.load(env.data_dir).mac_key), load(db, first))
        assert db.scalar(select(ReportFingerprint).where(ReportFingerprint.report_id == load(db, first).id)) is None
    assert first not in client.get(f"/staff/case/{again}").get_data(as_text=True)  # a purged report is no candidate
