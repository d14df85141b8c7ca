"""周排名 / 月通报 documents: the ranking of departments and towns, headline figures, supervised
(挂牌督办) cases and overdue cases, as XLSX and PDF.

Lists carry report numbers and metadata only (department, town, sector, dates): a notice is
circulated among departments, so it never holds report content or anything about the reporter.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.states import STATES
from models import Report, Supervision
from oversight import xlsx
from oversight.labels import Labels
from oversight.ranking import Entry, Period, Ranking, Weights, rank

LIST_LIMIT = 300


@dataclass
class CaseLine:
    number: str
    department: str
    town: str
    sector: str
    status: str
    due: date | None
    days_over: int


@dataclass
class Notice:
    period: Period
    today: date
    district: str
    ranking: Ranking
    supervised: list[CaseLine]
    supervised_total: int
    overdue: list[CaseLine]
    overdue_total: int

    @property
    def title(self) -> str:
        kind = "周排名通报" if self.period.kind == "weekly" else "月度通报"
        return f"{self.district}安全生产举报办理{kind}（{self.period.title}）"


def _lines(db: Session, labels: Labels, where: list[Any], due_col: Any, today: date) -> tuple[list[CaseLine], int]:
    from sqlalchemy import func

    total = db.scalar(select(func.count()).select_from(Report).outerjoin(
        Supervision, (Supervision.report_id == Report.id) & Supervision.ended_at.is_(None)).where(*where)) or 0
    stmt = (select(Report.number, Report.department_id, Report.town_code, Report.sector, Report.status, due_col)
            .outerjoin(Supervision, (Supervision.report_id == Report.id) & Supervision.ended_at.is_(None))
            .where(*where).order_by(due_col.asc().nulls_last(), Report.id).limit(LIST_LIMIT))
    out = [CaseLine(n, labels.departments.get(d, ""), labels.name("town", t), labels.name("sector", s),
                    STATES.get(st, st), due, max(0, (today - due).days) if due else 0)
           for n, d, t, s, st, due in db.execute(stmt)]
    return out, int(total)


def build(db: Session, period: Period, today: date, weights: Weights, labels: Labels | None = None) -> Notice:
    labels = labels or Labels.load(db)
    ranking = rank(db, period, today, weights, labels)
    sup, sup_n = _lines(db, labels, [Report.supervised.is_(True), Report.is_open.is_(True)], Supervision.due_on, today)
    over, over_n = _lines(db, labels, [Report.is_open.is_(True), Report.due_on < today], Report.due_on, today)
    return Notice(period, today, labels.district, ranking, sup, sup_n, over, over_n)


RANK_HEADERS = ("名次", "名称", "受理举报", "属实隐患", "已验收销号", "整改销号率", "超期案件", "平均核查用时（天）", "综合得分")


def _rank_row(e: Entry) -> tuple[Any, ...]:
    return (e.position, e.name, e.received, e.confirmed, e.signed_off,
            f"{e.rate:.1%}" if e.rate is not None else "—", e.overdue,
            round(e.avg_days, 1) if e.avg_days is not None else "—", e.score)


CASE_HEADERS = ("举报编号", "责任部门", "乡镇（街道）", "行业领域", "办理状态", "期限", "超期天数")


def _case_row(c: CaseLine) -> tuple[Any, ...]:
    return (c.number, c.department, c.town, c.sector, c.status, c.due, c.days_over)


def summary_lines(n: Notice) -> list[str]:
    t = n.ranking.total
    rate = f"{t.rectification_rate:.1%}" if t.rectification_rate is not None else "—"
    return [
        f"统计口径：{n.period.end.year}年1月1日至{n.period.end:%m月%d日}受理的举报（累计），超期和督办为{n.today.isoformat()}的状态。",
        f"收到举报 {t['received']} 件，受理 {t['accepted']} 件，核查认定隐患 {t['confirmed']} 项（重大 {t['major']} 项），"
        f"已验收销号 {t['signed_off']} 项，整改销号率 {rate}；当前超期案件 {n.overdue_total} 件，挂牌督办 {n.supervised_total} 件。",
        f"排名权重：{n.ranking.weights.describe()}（得分算法见 docs/oversight.md）。",
    ]


def to_xlsx(n: Notice) -> bytes:
    wb = xlsx.new_workbook()
    sub = f"生成日期：{n.today.isoformat()}"
    xlsx.sheet(wb, "通报", n.title, sub, ("内容",), [(line,) for line in summary_lines(n)], (120,))
    xlsx.sheet(wb, "部门排名", "部门排名", sub, RANK_HEADERS, [_rank_row(e) for e in n.ranking.departments],
               (6, 24, 10, 10, 12, 12, 10, 18, 10))
    xlsx.sheet(wb, "乡镇排名", "乡镇（街道）排名", sub, RANK_HEADERS, [_rank_row(e) for e in n.ranking.towns],
               (6, 24, 10, 10, 12, 12, 10, 18, 10))
    widths = (22, 20, 14, 16, 12, 12, 10)
    xlsx.sheet(wb, "挂牌督办", "挂牌督办案件", sub, CASE_HEADERS, [_case_row(c) for c in n.supervised], widths,
               [f"合计：挂牌督办 {n.supervised_total} 件" + (f"（列出前 {LIST_LIMIT} 件）" if n.supervised_total > LIST_LIMIT else "")])
    xlsx.sheet(wb, "超期案件", "超期案件", sub, CASE_HEADERS, [_case_row(c) for c in n.overdue], widths,
               [f"合计：超期案件 {n.overdue_total} 件" + (f"（列出超期最久的 {LIST_LIMIT} 件）" if n.overdue_total > LIST_LIMIT else "")])
    return xlsx.to_bytes(wb)


def to_pdf(n: Notice) -> bytes:
    """A4 PDF with reportlab's built-in CID font STSong-Light (Chinese without font files)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle
    from xml.sax.saxutils import escape

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    h1 = ParagraphStyle("h1", fontName="STSong-Light", fontSize=15, leading=22, alignment=1, spaceAfter=6)
    h2 = ParagraphStyle("h2", fontName="STSong-Light", fontSize=12, leading=18, spaceBefore=8, spaceAfter=4)
    body = ParagraphStyle("b", fontName="STSong-Light", fontSize=9.5, leading=15)
    cell = ParagraphStyle("c", fontName="STSong-Light", fontSize=8, leading=10)

    def table(headers: tuple[str, ...], rows: list[tuple[Any, ...]]) -> Table:
        data = [[Paragraph(escape(str(h)), cell) for h in headers]]
        data += [[Paragraph("" if v is None else escape(str(v)), cell) for v in r] for r in rows]
        t = Table(data, repeatRows=1)
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8edf3"))]))
        return t

    story: list[Any] = [Paragraph(escape(n.title), h1), Paragraph(f"生成日期：{n.today.isoformat()}", body)]
    story += [Paragraph(escape(line), body) for line in summary_lines(n)]
    story += [Paragraph("一、部门排名", h2), table(RANK_HEADERS, [_rank_row(e) for e in n.ranking.departments])]
    story += [Paragraph("二、乡镇（街道）排名", h2), table(RANK_HEADERS, [_rank_row(e) for e in n.ranking.towns])]
    story += [Paragraph(f"三、挂牌督办案件（合计 {n.supervised_total} 件）", h2),
              table(CASE_HEADERS, [_case_row(c) for c in n.supervised]) if n.supervised else Paragraph("无。", body)]
    story += [Paragraph(f"四、超期案件（合计 {n.overdue_total} 件）", h2),
              table(CASE_HEADERS, [_case_row(c) for c in n.overdue]) if n.overdue else Paragraph("无。", body)]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, leftMargin=14 * mm, rightMargin=14 * mm, topMargin=14 * mm, bottomMargin=14 * mm,
                      title=n.title, author=f"{n.district}安全生产委员会办公室").build(story)
    return out.getvalue()
