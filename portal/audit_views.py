"""Audit log for 纪委监委 auditors: browse, verify the chain, export (each export is itself audited)."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, Response, render_template, request

from audit import chain, export
from portal import get_db, state
from portal.staff_session import desk, staff, staff_required

bp = Blueprint("audit_log", __name__, url_prefix="/staff/audit")


def _filters() -> dict[str, object]:
    a = request.args
    out: dict[str, object] = {"action": a.get("action") or None, "actor": a.get("actor") or None,
                              "target_id": a.get("target") or None}
    for name in ("since", "until"):
        try:
            out[name] = datetime.fromisoformat(a[name]).replace(tzinfo=timezone.utc) if a.get(name) else None
        except ValueError:
            out[name] = None
    return out


@bp.get("/")
@staff_required("auditor")
def browse() -> str:
    before = request.args.get("before", "")
    rows = chain.entries(get_db(), **_filters(), limit=50, before_seq=int(before) if before.isdigit() else None)  # type: ignore[arg-type]
    return render_template("staff/audit.html", rows=rows, labels=export.ACTION_LABELS, args=request.args,
                           head=chain.head(get_db()), result=None, me=staff())


@bp.post("/verify")
@staff_required("auditor")
def verify() -> str:
    result = chain.verify(get_db(), state().audit_key)
    d = desk()
    d.audit("audit_verify", None, ok=result.ok, count=result.count)
    get_db().commit()
    return render_template("staff/audit.html", rows=[], labels=export.ACTION_LABELS, args={}, head=chain.head(get_db()),
                           result=result, me=staff())


@bp.get("/export.<fmt>")
@staff_required("auditor")
def export_log(fmt: str) -> Response:
    if fmt not in ("csv", "xlsx"):
        return Response("格式不支持", status=404)
    rows = chain.entries(get_db(), **_filters(), limit=1000)  # type: ignore[arg-type]
    d = desk()
    d.audit("export", None, what="audit_log", rows=len(rows), format=fmt)
    get_db().commit()
    body = export.to_csv(rows) if fmt == "csv" else export.to_xlsx(rows)
    mime = "text/csv; charset=utf-8" if fmt == "csv" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M")
    return Response(body, mimetype=mime, headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.{fmt}"'})
