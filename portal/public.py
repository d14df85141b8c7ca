"""Public pages for reporters: file a report, get a receipt, follow up with it.

Works fully without JavaScript. The reporter side uses no cookie for identity: after receipt
login a short-lived token travels in a hidden form field (POST only, never in a URL).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template, request
from sqlalchemy.exc import SQLAlchemyError

from intake import pow as pow_
from intake import service
from intake.uploads import BadUpload, PendingUpload
from intake.validation import CONTACT_CHOICES, validate_message, validate_report
from portal import get_db, state, throttle
from portal.uploads import collect
from secure_store.receipt import format_receipt

bp = Blueprint("public", __name__)


def _challenge(purpose: str) -> dict[str, Any]:
    s = state()
    return {"challenge": pow_.issue(s.secrets.mac_key, s.settings.pow_bits, purpose), "bits": s.settings.pow_bits}


def _form_page(values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
               pending: list[PendingUpload] | None = None, status: int = 200) -> tuple[str, int]:
    s = state()
    return (
        render_template(
            "report_form.html",
            v=values or {},
            errors=errors or {},
            pending=pending or [],
            towns=s.reference.towns,
            sectors=s.reference.sectors,
            contacts=CONTACT_CHOICES,
            pow=_challenge("submit"),
        ),
        status,
    )


@bp.get("/")
def index() -> str:
    return render_template("index.html", district=state().reference.district)


@bp.get("/protections")
def protections() -> str:
    return render_template("protections.html")


@bp.get("/pow/challenge")
def pow_challenge() -> Response:
    purpose = request.args.get("purpose", "submit")
    if purpose not in pow_.PURPOSES:
        abort(400)
    return jsonify(_challenge(purpose))


@bp.get("/report")
def report_form() -> tuple[str, int]:
    return _form_page()


# What a reporter is told when the server cannot store the report (disk full, database down):
# nothing was filed, no receipt exists, what they typed is still in the form.
UNAVAILABLE = ("系统暂时无法保存举报（服务器存储或数据库故障），本次没有提交成功，也没有生成查询码。"
               "您填写的内容已保留，请稍后再点“提交”。如果危险正在发生，请立即拨打119或110。")


def _unavailable(exc: BaseException) -> None:
    import logging

    from secure_store.logsafe import failure_summary

    logging.getLogger(__name__).error("report not stored: %s", failure_summary(exc))


@bp.post("/report")
def report_submit() -> tuple[str, int] | str:
    s = state()
    try:
        values = request.form.to_dict()  # parsing spools (encrypted) uploads to disk
        pending, upload_errors = collect(request, s.store)
    except OSError as exc:  # the disk filled up while the upload was being written
        _unavailable(exc)
        return _form_page({}, {"form": UNAVAILABLE}, [], 503)
    errors: dict[str, str] = {}
    if upload_errors:
        errors["attachments"] = "；".join(upload_errors)
    if values.get("website"):  # honeypot: people never see this field
        return _form_page(values, {"form": "提交失败，请稍后再试"}, pending, 400)
    checked = validate_report(values, s.reference)
    errors.update(checked.errors)
    if errors or checked.value is None:
        return _form_page(values, errors, pending, 400)

    db = get_db()
    try:
        result = pow_.verify_and_spend(db, s.secrets.mac_key, values.get("pow_challenge", ""),
                                       values.get("pow_nonce", ""), s.settings.pow_bits, "submit")
        db.commit()
    except SQLAlchemyError as exc:  # the database is down: keep everything, say so
        db.rollback()
        _unavailable(exc)
        return _form_page(values, {"form": UNAVAILABLE}, pending, 503)
    if result not in (pow_.PowResult.OK, pow_.PowResult.MISSING):
        return _form_page(values, {"form": pow_.MESSAGES[result]}, pending, 400)
    limit = "SUBMIT_POW" if result is pow_.PowResult.OK else "SUBMIT_NOPOW"
    if not throttle.hit(limit) or not throttle.hit("SUBMIT_GLOBAL", throttle.GLOBAL):
        return _form_page(values, {"form": "提交过于频繁，请稍后再试。您填写的内容已保留。"}, pending, 429)
    try:
        filed = service.file_report(db, s.intake, checked.value, pending, channel="web")
    except BadUpload as exc:
        s.store.delete_tmp(exc.upload.spool_name)
        rest = [p for p in pending if p.spool_name != exc.upload.spool_name]
        return _form_page(values, {"attachments": str(exc)}, rest, 400)
    except (OSError, SQLAlchemyError) as exc:  # nothing was committed: the uploads stay pending
        db.rollback()
        _unavailable(exc)
        return _form_page(values, {"form": UNAVAILABLE}, pending, 503)
    return render_template(
        "receipt.html",
        number=filed.number,
        receipt=format_receipt(filed.receipt),
        token=filed.session_token,
        certificate=json.dumps(filed.certificate, ensure_ascii=False, indent=2),
        critical=filed.urgency == "critical",
    )


# --- follow-up with the receipt ------------------------------------------------------------------


@bp.get("/follow-up")
def followup_login() -> str:
    return render_template("followup_login.html", pow=_challenge("login"), errors={}, draft="")


def _login_page(errors: dict[str, str], status: int) -> tuple[str, int]:
    return (
        render_template("followup_login.html", pow=_challenge("login"), errors=errors,
                        draft=request.form.get("draft", "")),
        status,
    )


@bp.post("/follow-up")
def followup_submit() -> tuple[str, int] | str:
    s = state()
    if not throttle.test("LOGIN_FAIL") or not throttle.test("LOGIN_FAIL_GLOBAL", throttle.GLOBAL):
        return _login_page({"receipt": "查询码输错次数过多，请10分钟后再试"}, 429)
    db = get_db()
    result = pow_.verify_and_spend(db, s.secrets.mac_key, request.form.get("pow_challenge", ""),
                                   request.form.get("pow_nonce", ""), s.settings.pow_bits, "login")
    db.commit()
    if result not in (pow_.PowResult.OK, pow_.PowResult.MISSING):
        return _login_page({"form": pow_.MESSAGES[result]}, 400)
    if result is pow_.PowResult.MISSING and not throttle.hit("LOGIN_NOPOW"):
        return _login_page({"form": "尝试过于频繁，请稍后再试"}, 429)
    token = service.login_with_receipt(db, s.intake, request.form.get("receipt", ""))
    if token is None:
        throttle.hit("LOGIN_FAIL")
        throttle.hit("LOGIN_FAIL_GLOBAL", throttle.GLOBAL)
        return _login_page({"receipt": "查询码不正确，请核对16位数字后重新输入"}, 401)
    access = service.resume(db, token)
    assert access is not None
    return _case_page(access, draft=request.form.get("draft", ""))


def _access() -> service.ReporterAccess:
    access = service.resume(get_db(), request.form.get("token", ""))
    if access is None:
        abort(_expired())
    return access


def _expired() -> Response:
    html = render_template("followup_login.html", pow=_challenge("login"),
                           errors={"form": "查询会话已过期，请重新输入查询码。您未发送的留言保留在下方。"},
                           draft=request.form.get("body", "") or request.form.get("draft", ""))
    return Response(html, status=401)


def _case_page(access: service.ReporterAccess, notice: str = "", errors: dict[str, str] | None = None,
               draft: str = "", pending: list[PendingUpload] | None = None, status: int = 200,
               claim_values: dict[str, str] | None = None) -> tuple[str, int]:
    view = service.reporter_view(get_db(), state().intake, access)
    return (
        render_template("followup_case.html", r=view, token=access.token, notice=notice, errors=errors or {},
                        draft=draft, pending=pending or [], cv=claim_values or {}),
        status,
    )


@bp.post("/follow-up/view")
def followup_view() -> tuple[str, int]:
    return _case_page(_access())


@bp.post("/follow-up/message")
def followup_message() -> tuple[str, int]:
    access = _access()
    body, error = validate_message(request.form.get("body"))
    if error or body is None:
        return _case_page(access, errors={"body": error or ""}, draft=request.form.get("body", ""), status=400)
    if not throttle.hit("MESSAGE"):
        return _case_page(access, errors={"body": "留言过于频繁，请稍后再试"}, draft=body, status=429)
    service.post_message(get_db(), access, body)
    return _case_page(access, notice="留言已发送")


@bp.post("/follow-up/evidence")
def followup_evidence() -> tuple[str, int]:
    access = _access()
    s = state()
    pending, errors = collect(request, s.store)
    if errors:
        return _case_page(access, errors={"attachments": "；".join(errors)}, pending=pending, status=400)
    if not pending:
        return _case_page(access, errors={"attachments": "请选择要上传的文件"}, status=400)
    try:
        n = service.add_evidence(get_db(), s.intake, access, pending)
    except BadUpload as exc:
        s.store.delete_tmp(exc.upload.spool_name)
        rest = [p for p in pending if p.spool_name != exc.upload.spool_name]
        return _case_page(access, errors={"attachments": str(exc)}, pending=rest, status=400)
    return _case_page(access, notice=f"已补充{n}个证据材料")


@bp.post("/follow-up/objection")
def followup_objection() -> tuple[str, int]:
    from cases.handling import object_to_result
    from cases.states import CaseError

    access = _access()
    db = get_db()
    try:
        object_to_result(db, state().audit_key, access.report)
        db.commit()
    except CaseError as exc:
        db.rollback()
        return _case_page(access, errors={"objection": exc.message}, status=400)
    return _case_page(access, notice="已提出异议，承办部门将在30日内复查并答复。")


@bp.post("/follow-up/reward/claim")
def followup_reward_claim() -> tuple[str, int]:
    from cases.rewards.claims import ClaimForm, claim, format_code
    from cases.states import CaseError

    access = _access()
    f = request.form
    form = ClaimForm.from_values(f, declaration=f.get("declaration") == "on")
    db = get_db()
    try:
        code = claim(db, state().secrets.mac_key, state().audit_key, access.report, form)
        db.commit()
    except CaseError as exc:
        db.rollback()
        return _case_page(access, errors={exc.field or "claim": exc.message}, claim_values=f.to_dict(), status=400)
    return render_template("reward_claimed.html", token=access.token, number=access.report.number,
                           code=format_code(code), method=form.method, anonymous=access.report.anonymous), 200


@bp.post("/follow-up/certificate")
def followup_certificate() -> Response:
    access = _access()
    cert = service.certificate_for(access.report, state().intake)
    body = json.dumps(cert, ensure_ascii=False, indent=2)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="certificate-{access.report.number}.json"'},
    )


@bp.post("/follow-up/logout")
def followup_logout() -> str:
    service.logout(get_db(), request.form.get("token", ""))
    return render_template("followup_login.html", pow=_challenge("login"), errors={"form": "已安全退出。"}, draft="")
