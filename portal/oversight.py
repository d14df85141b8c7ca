"""Oversight screens (views only; oversight/ holds the rules): statistics dashboard, hazard
ledger and its export, rankings and notices, typical cases, and the public transparency page.

Who sees what: handlers and heads their own department (the scope is forced, whatever the form
asks), the coordinating office and auditors the district; notices and rankings (which compare
departments) the coordinating office and auditors; typical cases the coordinating office.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import select

from cases.states import CaseError, Forbidden
from models import TypicalCase
from oversight import charts, ledger, notices, publication, stats
from oversight.labels import DIMENSION_LABELS, Labels
from oversight.ranking import Period, PeriodError, Weights
from portal import get_db, state
from portal.staff_session import desk, staff, staff_required

bp = Blueprint("oversight", __name__, url_prefix="/staff/oversight")
public_bp = Blueprint("transparency", __name__)
READERS = ("handler", "head", "coordinator", "auditor")
DISTRICT = ("coordinator", "auditor")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _date(name: str, default: date | None, errors: dict[str, str]) -> date | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = "日期格式应为 2026-01-31。"
        return default


def _int(name: str) -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() else None


def _choice(name: str, allowed: Any) -> str | None:
    raw = request.args.get(name) or None
    return raw if raw in allowed else None


def _period(errors: dict[str, str], today: date) -> tuple[date, date]:
    start = _date("start", date(today.year, 1, 1), errors) or date(today.year, 1, 1)
    end = _date("end", today, errors) or today
    if end < start:
        errors["end"] = "结束日期不能早于开始日期。"
        end = start
    if (end - start).days > 3 * 366:
        errors["start"] = "统计期间最长三年。"
        start = date(end.year - 2, 1, 1)
    return start, end


def _labels() -> Labels:
    return Labels.load(get_db(), state().reference)


def _common(**kw: Any) -> dict[str, Any]:
    return {"me": staff(), "reference": state().reference, "args": request.args, **kw}


@bp.get("/", endpoint="dashboard")
@staff_required(*READERS)
def dashboard() -> str:
    d = desk()
    errors: dict[str, str] = {}
    start, end = _period(errors, d.today)
    ref = state().reference
    f = stats.scoped(staff(), stats.StatsFilter(start, end, _int("department"), _choice("sector", ref.sectors),
                                                _choice("town", ref.towns)))
    dash = stats.cached_compute(get_db(), f, d.today)
    labels = _labels()
    named = {dim: [(labels.name(dim, k), v) for k, v in rows] for dim, rows in dash.breakdowns.items()}
    depts = [(n, v["received"], v["signed_off"]) for n, v in named["department"]]
    weeks = [(k or "", v["received"], v["signed_off"]) for k, v in dash.breakdowns["week"]]
    towns = [(n, v["received"], f"逾期{v['overdue']}") for n, v in named["town"]]
    svg = {"departments": Markup(charts.bars("各部门收到举报与已验收销号隐患", depts)),
           "trend": Markup(charts.trend("每周收到举报与已验收销号", weeks)),
           "towns": Markup(charts.grid("各乡镇（街道）收到举报", towns))}
    return render_template("staff/oversight_dashboard.html", **_common(
        dash=dash, named=named, dims=DIMENSION_LABELS, svg=svg, errors=errors, f=f, labels=labels,
        district=staff().role in DISTRICT))


def _ledger_filter(errors: dict[str, str], today: date) -> ledger.LedgerFilter:
    ref = state().reference
    page = _int("page") or 1
    f = ledger.LedgerFilter(start=_date("start", None, errors), end=_date("end", None, errors),
                            department_id=_int("department"), town=_choice("town", ref.towns),
                            sector=_choice("sector", ref.sectors), level=_choice("level", ledger.LEVELS),
                            state=_choice("state", ledger.STATES), page=page)
    if f.start and f.end and f.end < f.start:
        errors["end"] = "结束日期不能早于开始日期。"
    return ledger.scoped(staff(), f)


def _scope_text(labels: Labels, department_id: int | None) -> str:
    return labels.departments.get(department_id, "") if department_id else f"{labels.district}全区"


@bp.get("/ledger")
@staff_required(*READERS)
def ledger_page() -> str:
    d = desk()
    errors: dict[str, str] = {}
    f = _ledger_filter(errors, d.today)
    page = ledger.page(get_db(), f, d.today)
    d.audit("view_ledger", None, department=f.department_id, page=page.page, rows=len(page.rows))
    get_db().commit()
    return render_template("staff/oversight_ledger.html", **_common(
        page=page, f=f, errors=errors, labels=_labels(), states=ledger.STATES, levels=ledger.LEVELS,
        district=staff().role in DISTRICT))


@bp.get("/ledger.xlsx")
@staff_required(*READERS)
def ledger_export() -> Response:
    d = desk()
    errors: dict[str, str] = {}
    f = _ledger_filter(errors, d.today)
    rows = ledger.all_rows(get_db(), f, d.today)
    labels = _labels()
    period = f"{f.start or '最早'} 至 {f.end or d.today}"
    body = ledger.to_xlsx(rows, labels, _scope_text(labels, f.department_id), period, d.today)
    d.audit("export", None, what="hazard_ledger", department=f.department_id, rows=len(rows), format="xlsx")
    get_db().commit()
    return Response(body, mimetype=XLSX, headers={
        "Content-Disposition": f'attachment; filename="hazard-ledger-{d.today.isoformat()}.xlsx"'})


def _notice_args(errors: dict[str, str], today: date) -> tuple[Period | None, Weights]:
    default = f"{today.isocalendar()[0]}-W{today.isocalendar()[1]:02d}"
    try:
        period: Period | None = Period.parse(request.args.get("period") or default)
    except PeriodError as exc:
        errors["period"] = str(exc)
        period = None
    try:
        weights = Weights.parse(request.args.get("weights")) if request.args.get("weights") else Weights.from_env()
    except PeriodError as exc:
        errors["weights"] = str(exc)
        weights = Weights.from_env()
    return period, weights


@bp.get("/notices")
@staff_required(*DISTRICT)
def notices_page() -> str:
    d = desk()
    errors: dict[str, str] = {}
    period, weights = _notice_args(errors, d.today)
    notice = notices.build(get_db(), period, d.today, weights, _labels()) if period else None
    if notice:
        d.audit("view_notice", None, period=period.label)  # type: ignore[union-attr]
        get_db().commit()
    return render_template("staff/oversight_notices.html", **_common(
        notice=notice, errors=errors, weights=weights, summary=notices.summary_lines(notice) if notice else []))


@bp.get("/notices/notice.<fmt>")
@staff_required(*DISTRICT)
def notice_export(fmt: str) -> Response:
    if fmt not in ("xlsx", "pdf"):
        abort(404)
    d = desk()
    errors: dict[str, str] = {}
    period, weights = _notice_args(errors, d.today)
    if period is None or errors:
        return Response("；".join(errors.values()), status=400, mimetype="text/plain; charset=utf-8")
    n = notices.build(get_db(), period, d.today, weights, _labels())
    body = notices.to_pdf(n) if fmt == "pdf" else notices.to_xlsx(n)
    d.audit("export", None, what=f"notice_{period.kind}", period=period.label, format=fmt)
    get_db().commit()
    return Response(body, mimetype="application/pdf" if fmt == "pdf" else XLSX, headers={
        "Content-Disposition": f'attachment; filename="notice-{period.label}.{fmt}"'})


def _cases_page(errors: dict[str, str] | None = None, values: dict[str, str] | None = None, notice: str = "",
                status: int = 200) -> tuple[str, int]:
    rows = list(get_db().scalars(select(TypicalCase).order_by(TypicalCase.id.desc()).limit(200)))
    return render_template("staff/oversight_cases.html", **_common(
        rows=rows, errors=errors or {}, values=values or {}, notice=notice)), status


@bp.get("/cases")
@staff_required("coordinator")
def typical_cases() -> tuple[str, int]:
    if not staff().is_coordinator:
        abort(403)
    return _cases_page()


@bp.post("/cases")
@staff_required("coordinator")
def typical_case_create() -> Any:
    values = {k: request.form.get(k, "") for k in ("title", "body", "sector")}
    sector = values["sector"] if values["sector"] in state().reference.sectors else None
    try:
        publication.create_case(get_db(), state().audit_key, staff(), values["title"], values["body"], sector)
    except Forbidden:
        abort(403)
    except CaseError as exc:
        get_db().rollback()
        return _cases_page({exc.field or "body": exc.message}, values, status=400)
    get_db().commit()
    return redirect(url_for("oversight.typical_cases"))


@bp.post("/cases/<int:case_id>/<action>")
@staff_required("coordinator")
def typical_case_publish(case_id: int, action: str) -> Any:
    if action not in ("publish", "unpublish"):
        abort(404)
    try:
        publication.set_published(get_db(), state().audit_key, staff(), case_id, action == "publish")
    except Forbidden:
        abort(403)
    except CaseError as exc:
        get_db().rollback()
        return _cases_page(notice=exc.message, status=404)
    get_db().commit()
    publication.clear_cache()
    return redirect(url_for("oversight.typical_cases"))


@public_bp.get("/transparency")
def transparency() -> Response:
    from cases.calendar import today_cst

    threshold = publication.min_cell()
    figures = publication.cached_figures(get_db(), today_cst()).display(threshold)
    html = render_template("transparency.html", figures=figures, cases=publication.cached_cases(get_db()),
                           threshold=threshold, reference=state().reference)
    resp = Response(html)
    resp.headers["Cache-Control"] = f"public, max-age={min(publication.cache_seconds(), 600)}"
    return resp
