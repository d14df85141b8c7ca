"""Ledger export and notices: the right rows and totals, read back with openpyxl, pypdf and —
as an office would open them — LibreOffice converting headless to CSV."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from oversight import ledger, notices
from oversight.labels import Labels
from oversight.ranking import Period, PeriodError, Weights, score, Entry
from tests.oversight.conftest import DAYS, START

TODAY = START + timedelta(days=DAYS + 3)


def _hazards(rows: list[Any]) -> list[Any]:
    return [r for r in rows if r.hazard]


def soffice_csv(tmp: Path, data: bytes, name: str, sheet: int = 1) -> list[list[str]]:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        pytest.skip("LIBREOFFICE MISSING — install libreoffice-calc-nogui (./run test does) to check exports open in an office suite")
    src = tmp / f"{name}.xlsx"
    src.write_bytes(data)
    # UTF-8 CSV of the given sheet (filter options: separator, quote, charset 76 = UTF-8, first line, …, sheet)
    subprocess.run([exe, f"-env:UserInstallation=file://{tmp}/lo-profile", "--headless", "--convert-to",
                    f'csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,{sheet}',
                    "--outdir", str(tmp), str(src)], check=True, capture_output=True, timeout=180)
    out = sorted(tmp.glob(f"{name}*.csv"))
    assert out, "LibreOffice produced no CSV"
    return list(csv.reader(io.StringIO(out[-1].read_text(encoding="utf-8"))))


def test_ledger_rows_totals_and_libreoffice(world: Any, tmp_path: Path) -> None:
    env, rows = world
    hazards = _hazards(rows)
    with env.db() as db:
        labels = Labels.load(db)
        page = ledger.page(db, ledger.LedgerFilter(), TODAY)
        assert page.total == len(hazards)
        assert page.major == sum(r.hazard_level == "major" for r in hazards)
        assert page.signed_off == sum(r.signed_off_at is not None for r in hazards)
        overdue = ledger.page(db, ledger.LedgerFilter(state="overdue"), TODAY)
        assert overdue.total == sum(r.signed_off_at is None and r.rectification_due is not None
                                    and r.rectification_due < TODAY for r in hazards)
        dept = rows[0].department_id
        mine = ledger.page(db, ledger.LedgerFilter(department_id=dept, level="major"), TODAY)
        assert mine.total == sum(r.department_id == dept and r.hazard_level == "major" for r in hazards)
        all_rows = ledger.all_rows(db, ledger.LedgerFilter(), TODAY)
    data = ledger.to_xlsx(all_rows, labels, "全区", "全部", TODAY)
    ws = load_workbook(io.BytesIO(data))["隐患台账"]
    assert ws.cell(3, 1).value == "序号" and ws.cell(3 + len(hazards), 1).value == len(hazards)
    table = soffice_csv(tmp_path, data, "ledger")
    body = [r for r in table[3:] if r and r[0].isdigit()]
    assert len(body) == len(hazards)
    assert sum(r[6] == "重大" for r in body) == page.major
    assert sum(r[11] == "已验收销号" for r in body) == page.signed_off
    total_line = next(r[0] for r in table if r and r[0].startswith("合计"))
    assert f"隐患 {len(hazards)} 项" in total_line and f"重大 {page.major} 项" in total_line


def test_ledger_cells_are_never_formulas(world: Any) -> None:
    from oversight.ledger import LedgerRow

    row = LedgerRow("AQ1", 1, None, None, '=HYPERLINK("http://x","y")', "major", None, None, "未下达", None, "pending")
    env, _ = world
    with env.db() as db:
        data = ledger.to_xlsx([row], Labels.load(db), "全区", "全部", TODAY)
    cell = load_workbook(io.BytesIO(data))["隐患台账"].cell(4, 6)
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


def test_period_and_weights_parsing() -> None:
    p = Period.parse("2026-W49")
    assert (p.start.isoformat(), p.end.isoformat(), p.kind) == ("2026-11-30", "2026-12-06", "weekly")
    m = Period.parse("2026-2")
    assert (m.start.isoformat(), m.end.isoformat(), m.label) == ("2026-02-01", "2026-02-28", "2026-02")
    for bad in ("2026-W60", "2026-13", "49周", ""):
        with pytest.raises(PeriodError):
            Period.parse(bad)
    assert Weights.parse("rate=1,overdue=0,time=0") == Weights(1.0, 0.0, 0.0)
    with pytest.raises(PeriodError):
        Weights.parse("speed=1")


def test_score_formula() -> None:
    a = Entry("a", "甲", 10, 10, 10, 1.0, 0, 10.0)
    b = Entry("b", "乙", 10, 10, 5, 0.5, 4, 30.0)
    c = Entry("c", "丙", 0, 0, 0, None, 2, None)
    ranked = score([b, c, a], Weights(0.5, 0.3, 0.2))
    assert [e.key for e in ranked] == ["a", "c", "b"]
    assert a.score == 100.0 and b.score == pytest.approx(0.5 * 50 + 0.3 * 0 + 0.2 * 0)
    assert c.score == pytest.approx(0.5 * 100 + 0.3 * 50 + 0.2 * 100)


def test_notice_xlsx_pdf_and_libreoffice(world: Any, tmp_path: Path) -> None:
    env, rows = world
    period = Period.parse(f"{START.year}-{(START + timedelta(days=30)).month:02d}")
    with env.db() as db:
        n = notices.build(db, period, TODAY, Weights())
    mine = [r for r in rows if r.filed_day <= period.end]
    assert n.ranking.total["received"] == len(mine)
    assert sum(e.received for e in n.ranking.departments) == len(mine)
    want_overdue = sum(r.is_open and r.due_on is not None and r.due_on < TODAY for r in rows)
    assert n.overdue_total == want_overdue
    assert n.supervised_total == sum(r.supervised for r in rows)
    data = notices.to_xlsx(n)
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["通报", "部门排名", "乡镇排名", "挂牌督办", "超期案件"]
    table = soffice_csv(tmp_path, data, "notice", sheet=2)
    body = [r for r in table[3:] if r and r[0].isdigit()]
    assert sum(int(r[2]) for r in body) == len(mine)
    assert [int(r[0]) for r in body] == list(range(1, len(body) + 1))
    from pypdf import PdfReader

    pdf = notices.to_pdf(n)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    flat = "".join(text.split())
    assert f"收到举报{len(mine)}件" in flat and f"当前超期案件{want_overdue}件" in flat
    assert f"挂牌督办（合计{n.supervised_total}件）" in flat or f"挂牌督办案件（合计{n.supervised_total}件）" in flat
