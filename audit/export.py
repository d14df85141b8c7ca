"""Audit log export for 纪委监委 auditors: CSV (UTF-8 with BOM, so Excel shows Chinese) and XLSX.

Every exported row carries its ``entry_hash`` so an auditor can compare an export with a later
``verify`` run or an externally recorded head. Cells are written as text, never as formulas:
actor names of failed logins are typed by strangers, and ``=HYPERLINK(...)`` in a cell opened
by Excel is a classic injection (CSV cells starting with = + - @ are prefixed with an apostrophe,
XLSX cells are forced to the string type).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable

from models.audit import AuditEntry

HEADERS = ["序号", "时间(UTC)", "操作人", "角色", "部门", "操作", "对象类型", "对象", "详情", "本条哈希"]

ACTION_LABELS: dict[str, str] = {
    "login": "登录",
    "login_failed": "登录失败",
    "logout": "退出登录",
    "password_change": "修改密码",
    "totp_enrol": "绑定动态口令",
    "view_report": "查看举报（解密）",
    "download_attachment": "下载附件",
    "export": "导出",
    "transition": "变更办理状态",
    "transfer": "转办",
    "identity_reveal_request": "申请查看举报人身份",
    "identity_reveal_approve": "批准查看举报人身份",
    "identity_view": "查看举报人身份",
    "config_change": "修改配置",
    "comment": "内部批注",
    "message": "与举报人沟通",
    "merge": "合并举报",
    "supervise": "督办",
    "extension_approve": "批准延期",
    "extension_request": "申请延期",
    "identity_reveal_refuse": "驳回查看举报人身份",
    "inspection": "整改复查",
    "supervise_end": "解除督办",
    "search": "检索举报",
    "audit_verify": "核验审计日志",
    "reward_propose": "提出举报奖励申请",
    "reward_head_approve": "部门负责人批准奖励",
    "reward_finance_approve": "财务批准奖励并通知举报人",
    "reward_refuse": "驳回奖励申请",
    "reward_extension_request": "申请延长奖励领取期限",
    "reward_extension_approve": "批准延长奖励领取期限",
    "reward_extension_refuse": "驳回延长奖励领取期限",
    "reward_claim": "举报人申领奖励",
    "reward_payee_view": "查看收款信息（解密）",
    "reward_payout": "登记奖励支付",
    "reward_forfeit": "逾期未领取，奖励视为放弃",
    "reward_budget_set": "设定举报奖励预算",
    "retention_purge": "保存期满销毁举报内容",
    "view_ledger": "查看隐患台账",
    "view_notice": "查看排名与通报",
    "typical_case_create": "撰写典型案例",
    "typical_case_publish": "发布典型案例",
    "typical_case_unpublish": "撤回典型案例",
}

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def action_label(code: str) -> str:
    label = ACTION_LABELS.get(code)
    return f"{label} ({code})" if label else code


def _row(e: AuditEntry) -> list[str]:
    return [
        str(e.seq),
        e.at.strftime("%Y-%m-%d %H:%M:%S.%f"),
        e.actor if e.actor_id is None else f"{e.actor} (#{e.actor_id})",
        e.actor_role,
        e.department_code or "",
        action_label(e.action),
        e.target_type or "",
        e.target_id or "",
        json.dumps(e.details or {}, ensure_ascii=False, sort_keys=True),
        bytes(e.entry_hash).hex(),
    ]


def _csv_safe(cell: str) -> str:
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def to_csv(entries: Iterable[AuditEntry]) -> bytes:
    """CSV bytes, UTF-8 with BOM, header row first."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(HEADERS)
    for e in entries:
        w.writerow([_csv_safe(c) for c in _row(e)])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(entries: Iterable[AuditEntry]) -> bytes:
    """XLSX bytes (one sheet, 审计日志). Needs openpyxl."""
    try:
        from openpyxl import Workbook
        from openpyxl.styles import Font
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError("导出 XLSX 需要 openpyxl（pip install openpyxl）; CSV export works without it") from exc
    wb = Workbook()
    ws = wb.active
    ws.title = "审计日志"
    ws.append(HEADERS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    r = 1
    for e in entries:
        r += 1
        for c, value in enumerate(_row(e), start=1):
            cell = ws.cell(row=r, column=c)
            cell.value = _ILLEGAL_XML.sub("\ufffd", value)
            cell.data_type = "s"  # text, even if it starts with "=": never a formula
    for col, width in zip("ABCDEFGHIJ", (8, 28, 20, 12, 16, 24, 10, 20, 40, 66)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
