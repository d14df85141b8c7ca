"""Error pages in Chinese (HTML) or JSON (API). Never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from secure_store.logsafe import failure_summary

log = logging.getLogger(__name__)

MESSAGES = {
    400: "请求有误，请返回检查后重试。",
    401: "需要重新验证身份。",
    403: "没有权限访问该页面。",
    404: "页面不存在。",
    405: "不支持该操作。",
    413: "上传的文件总量过大（单个视频不超过200MB，图片不超过15MB）。请返回，删除部分附件后重试；您填写的文字在浏览器“返回”后通常仍在。",
    429: "操作过于频繁，请稍后再试。",
    500: "系统出现错误，您的操作没有完成。请稍后重试；如果是在提交举报，请不要认为已经提交成功。",
}


def _render(status: int, message: str | None = None):  # type: ignore[no-untyped-def]
    msg = message or MESSAGES.get(status, MESSAGES[500])
    if request.path.startswith("/api/"):
        return jsonify({"error": msg}), status
    return render_template("error.html", status=status, message=msg), status


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):  # type: ignore[no-untyped-def]
        if request.endpoint == "public.report_submit":
            from portal import public, state
            from portal.uploads import collect

            pending, _ = collect(request, state().store)
            return public._form_page(request.form.to_dict(),
                                     {"form": "页面安全校验已过期，请确认内容后再次提交。您填写的内容和附件已保留。"},
                                     pending, 400)
        return _render(400, "页面安全校验失败（可能停留时间过长），请返回刷新页面后重试。")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):  # type: ignore[no-untyped-def]
        if exc.response is not None:
            return exc.response
        return _render(exc.code or 500)

    @app.errorhandler(OSError)
    def _storage(exc: OSError):  # type: ignore[no-untyped-def]
        """The disk failed or filled up (often while a request was being parsed, before any view)."""
        log.error("storage failure on %s: %s", request.endpoint, failure_summary(exc))
        if request.endpoint == "public.report_submit":
            from portal import public

            return public._form_page({}, {"form": public.UNAVAILABLE}, [], 503)
        if request.path.startswith("/api/"):
            return _render(503, "系统暂时无法保存，本次没有提交成功，请稍后重试")
        return _render(503, "系统暂时无法保存（服务器存储故障），您的操作没有完成，请稍后重试。")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        log.error("unhandled error on %s: %s", request.endpoint, failure_summary(exc))
        return _render(500)
