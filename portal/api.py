"""JSON API ``/api/v1`` for the hotline operator's client and mini-program clients.

Same rules as the web form (intake does the work). No cookies: proof-of-work on submissions and
logins, then a short-lived bearer token. Contract: docs/openapi.yaml.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from intake import pow as pow_
from intake import service
from intake.uploads import BadUpload
from intake.validation import validate_message, validate_report
from portal import get_db, state, throttle
from portal.uploads import collect
from secure_store.receipt import format_receipt

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _error(status: int, message: str, errors: dict[str, str] | None = None) -> tuple[Response, int]:
    body: dict[str, Any] = {"error": message}
    if errors:
        body["errors"] = errors
    return jsonify(body), status


def _payload() -> dict[str, Any] | None:
    """JSON body, or the ``report`` JSON part of a multipart request (with files)."""
    if request.mimetype == "application/json":
        data = request.get_json(silent=True)
    elif request.mimetype == "multipart/form-data":
        try:
            data = json.loads(request.form.get("report", ""))
        except ValueError:
            return None
    else:
        return None
    return data if isinstance(data, dict) else None


def _pow(data: dict[str, Any], purpose: str) -> pow_.PowResult:
    s = state()
    p = data.get("pow") if isinstance(data.get("pow"), dict) else {}
    db = get_db()
    result = pow_.verify_and_spend(db, s.secrets.mac_key, str(p.get("challenge", "")), str(p.get("nonce", "")),
                                   s.settings.pow_bits, purpose)
    db.commit()
    return result


@bp.get("/meta")
def meta() -> Response:
    s = state()
    return jsonify({"towns": s.reference.towns, "sectors": s.reference.sectors, "pow_bits": s.settings.pow_bits})


@bp.get("/pow")
def pow_challenge() -> Response | tuple[Response, int]:
    purpose = request.args.get("purpose", "submit")
    if purpose not in pow_.PURPOSES:
        return _error(400, "purpose 只能是 submit 或 login")
    s = state()
    return jsonify({"challenge": pow_.issue(s.secrets.mac_key, s.settings.pow_bits, purpose),
                    "bits": s.settings.pow_bits, "algorithm": "sha256-leading-zero-bits", "max_age_s": pow_.MAX_AGE})


@bp.post("/reports")
def create_report() -> tuple[Response, int]:
    try:
        return _create_report()
    except (OSError, SQLAlchemyError) as exc:  # disk full, database down: nothing was filed
        get_db().rollback()
        from portal.public import _unavailable

        _unavailable(exc)
        return _error(503, "系统暂时无法保存举报，本次没有提交成功，请稍后重试")


def _create_report() -> tuple[Response, int]:
    s = state()
    data = _payload()
    pending, upload_errors = collect(request, s.store, field="files") if request.files else ([], [])
    filed = None
    try:
        if data is None:
            return _error(400, "请求体必须是JSON对象（或multipart中的report字段）")
        checked = validate_report(data, s.reference)
        errors = dict(checked.errors)
        if upload_errors:
            errors["attachments"] = "；".join(upload_errors)
        if errors or checked.value is None:
            return _error(400, "提交内容有误", errors)
        result = _pow(data, "submit")
        if result is not pow_.PowResult.OK:
            return _error(400, pow_.MESSAGES.get(result, "缺少防刷验证（pow）"), {"pow": "需要有效的工作量证明"})
        if not throttle.hit("SUBMIT_POW") or not throttle.hit("SUBMIT_GLOBAL", throttle.GLOBAL):
            return _error(429, "提交过于频繁，请稍后再试")
        try:
            filed = service.file_report(get_db(), s.intake, checked.value, pending, channel="api")
        except BadUpload as exc:
            return _error(400, "附件有误", {"attachments": str(exc)})
    finally:
        if filed is None:  # API clients resend files; nothing is kept pending for them
            for p in pending:
                s.store.delete_tmp(p.spool_name)
    return jsonify({"report_number": filed.number, "receipt": format_receipt(filed.receipt),
                    "certificate": filed.certificate}), 201


@bp.post("/sessions")
def create_session() -> tuple[Response, int]:
    s = state()
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return _error(400, "请求体必须是JSON对象")
    if not throttle.test("LOGIN_FAIL") or not throttle.test("LOGIN_FAIL_GLOBAL", throttle.GLOBAL):
        return _error(429, "查询码输错次数过多，请10分钟后再试")
    result = _pow(data, "login")
    if result is not pow_.PowResult.OK:
        return _error(400, pow_.MESSAGES.get(result, "缺少防刷验证（pow）"), {"pow": "需要有效的工作量证明"})
    db = get_db()
    token = service.login_with_receipt(db, s.intake, str(data.get("receipt", "")))
    if token is None:
        throttle.hit("LOGIN_FAIL")
        throttle.hit("LOGIN_FAIL_GLOBAL", throttle.GLOBAL)
        return _error(401, "查询码不正确", {"receipt": "查询码不正确，请核对16位数字"})
    return jsonify({"token": token, "expires_in": int(service.SESSION_TTL.total_seconds()), "header": "Authorization: Bearer <token>"}), 200


def _bearer() -> service.ReporterAccess | None:
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Bearer "):
        return None
    return service.resume(get_db(), auth[len("Bearer "):].strip())


@bp.delete("/sessions/current")
def delete_session() -> tuple[Response, int]:
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        service.logout(get_db(), auth[len("Bearer "):].strip())
    return jsonify({}), 204


@bp.get("/report")
def read_report() -> tuple[Response, int]:
    access = _bearer()
    if access is None:
        return _error(401, "未登录或会话已过期，请用查询码重新登录")
    view = service.reporter_view(get_db(), state().intake, access)
    return jsonify(view), 200


@bp.post("/report/messages")
def post_message() -> tuple[Response, int]:
    access = _bearer()
    if access is None:
        return _error(401, "未登录或会话已过期，请用查询码重新登录")
    data = request.get_json(silent=True) or {}
    body, error = validate_message(data.get("body") if isinstance(data, dict) else None)
    if error or body is None:
        return _error(400, "留言有误", {"body": error or ""})
    if not throttle.hit("MESSAGE"):
        return _error(429, "留言过于频繁，请稍后再试")
    service.post_message(get_db(), access, body)
    return jsonify({"ok": True}), 201


@bp.post("/report/evidence")
def add_evidence() -> tuple[Response, int]:
    s = state()
    access = _bearer()
    pending, errors = collect(request, s.store, field="files")
    if access is None:
        for p in pending:
            s.store.delete_tmp(p.spool_name)
        return _error(401, "未登录或会话已过期，请用查询码重新登录")
    if errors:
        for p in pending:
            s.store.delete_tmp(p.spool_name)
        return _error(400, "附件有误", {"files": "；".join(errors)})
    if not pending:
        return _error(400, "没有收到文件", {"files": "请在files字段上传文件"})
    try:
        n = service.add_evidence(get_db(), s.intake, access, pending)
    except BadUpload as exc:
        for p in pending:
            s.store.delete_tmp(p.spool_name)
        return _error(400, "附件有误", {"files": str(exc)})
    return jsonify({"added": n}), 201


@bp.get("/report/certificate")
def certificate() -> tuple[Response, int]:
    access = _bearer()
    if access is None:
        return _error(401, "未登录或会话已过期，请用查询码重新登录")
    return jsonify(service.certificate_for(access.report, state().intake)), 200


@bp.post("/report/reward/claim")
def claim_reward() -> tuple[Response, int]:
    """The reward claim of the receipt portal, for mini-programs and hotline operators' apps."""
    from cases.rewards.claims import ClaimForm, claim, format_code
    from cases.states import CaseError

    access = _bearer()
    if access is None:
        return _error(401, "未登录或会话已过期，请用查询码重新登录")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return _error(400, "请求体须为JSON对象")
    form = ClaimForm.from_values(data, declaration=data.get("declaration") is True)
    db = get_db()
    try:
        code = claim(db, state().secrets.mac_key, state().audit_key, access.report, form)
        db.commit()
    except CaseError as exc:
        db.rollback()
        return _error(400, "申领未完成", {exc.field or "claim": exc.message})
    return jsonify({"claim_code": format_code(code), "shown_once": True}), 201
