"""The department workbench: the queue and the case page (views only; cases/ holds the rules).

Actions posted from the case page live in portal.case_actions; they share ``render_case`` so a
refused action re-renders the page with the Chinese message at its field and the typed values.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from sqlalchemy import select

from cases import states
from cases import queue as case_queue
from cases.queue import QueueFilter
from cases.states import Forbidden
from cases.view import attachment_stream, case_view, metadata_view
from models import Department, Report
from portal import get_db, state
from portal.staff_session import desk, staff, staff_required

bp = Blueprint("staff", __name__, url_prefix="/staff")
WORKBENCH_ROLES = ("handler", "head", "coordinator", "auditor")


def _flag(name: str) -> bool:
    return request.args.get(name) in ("1", "on", "true")


def _filter() -> QueueFilter:
    a = request.args
    try:
        page = max(1, int(a.get("page", "1")))
    except ValueError:
        page = 1
    dept = a.get("department")
    return QueueFilter(
        status=a.get("status", "open"), sector=a.get("sector") or None, town=a.get("town") or None,
        urgency=a.get("urgency") or None, overdue=_flag("overdue"), due_soon=_flag("due_soon"),
        supervised=_flag("supervised"), department_id=int(dept) if dept and dept.isdigit() else None,
        number=a.get("number") or None, query=(a.get("q") or "").strip()[:100] or None, page=page,
    )


@bp.get("/", endpoint="queue")
@staff_required(*WORKBENCH_ROLES)
def queue_page() -> str:
    s = state()
    d = desk()
    f = _filter()
    page = case_queue.queue(get_db(), staff(), f, d.today, s.index_key)
    if f.query:
        d.audit("search", None, words=len(f.query.split()))
        get_db().commit()
    departments = list(get_db().scalars(select(Department).where(Department.kind != "finance").order_by(Department.id)))
    return render_template("staff/queue.html", page=page, f=f, counts=case_queue.cached_counts(get_db(), staff(), d.today),
                           today=d.today, states=states, reference=s.reference, departments=departments,
                           args=request.args, me=staff())


@bp.get("/home")
@staff_required()
def home() -> Response | str:
    """Where a login lands: each role's own starting page."""
    from flask import redirect, url_for

    role = staff().role
    if role in WORKBENCH_ROLES:
        return redirect(url_for("staff.queue"))  # type: ignore[return-value]
    if role == "admin":
        return redirect(url_for("admin.users"))  # type: ignore[return-value]
    if role == "finance":
        return redirect(url_for("finance.home"))  # type: ignore[return-value]
    return render_template("staff/home.html", me=staff())


def report_or_404(number: str) -> Report:
    report = get_db().scalar(select(Report).where(Report.number == number))
    if report is None:
        abort(404)
    return report


def render_case(report: Report, errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
                notice: str = "", status: int = 200, failed: str = "") -> tuple[str, int]:
    """The case page; ``failed`` names a refused action whose form comes back open with its errors."""
    d = desk()
    try:
        view = metadata_view(d, report) if staff().role == "auditor" or report.purged_at else case_view(d, report)
    except Forbidden:
        abort(403)
    get_db().commit()  # the view_report audit entry
    departments = list(get_db().scalars(select(Department).where(Department.active, Department.kind != "finance")
                                        .order_by(Department.id)))
    return render_template("staff/case.html", v=view, errors=errors or {}, values=values or {}, notice=notice,
                           states=states, me=staff(), departments=departments, today=d.today,
                           reference=state().reference, min_date=d.today.isoformat(), failed=failed), status


@bp.get("/case/<number>")
@staff_required(*WORKBENCH_ROLES)
def case_page(number: str) -> tuple[str, int]:
    from flask import get_flashed_messages

    notice = "；".join(get_flashed_messages())
    return render_case(report_or_404(number), notice=notice)


@bp.get("/case/<number>/attachment/<public_id>")
@staff_required("handler", "head", "coordinator")
def attachment(number: str, public_id: str) -> Response:
    report = report_or_404(number)
    try:
        att, filename, chunks = attachment_stream(desk(), report, public_id, state().store)
    except Forbidden:
        abort(403)
    except LookupError:
        abort(404)
    get_db().commit()  # the download audit entry, before the first byte leaves
    from urllib.parse import quote

    return Response(stream_with_context(chunks), mimetype=att.mime, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
        "Content-Length": str(att.size),
    })
