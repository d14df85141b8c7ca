"""The case states, the codes staff choose from, and their Chinese labels (rules.md §2–§3).

One place for every code: the lifecycle functions check against these sets, the views render the
labels, and the tests enumerate them.
"""

from __future__ import annotations

STATES: dict[str, str] = {
    "received": "待受理",
    "accepted": "已受理",
    "not_accepted": "不予受理",
    "checking": "核查中",
    "checked": "核查完毕",
    "rectifying": "整改中",
    "signed_off": "已验收销号",
    "rechecking": "复查中",
    "closed": "已办结",
    "merged": "已合并",
}
OPEN_STATES = frozenset({"received", "accepted", "checking", "checked", "rectifying", "signed_off", "rechecking"})
TERMINAL_STATES = frozenset(STATES) - OPEN_STATES

# 不予受理 — the statutory reasons (rules.md §2); each carries the text the reporter is sent.
NOT_ACCEPTED_REASONS: dict[str, tuple[str, str]] = {
    "already_accepted": ("同一事项已经受理，重复举报", "您举报的事项此前已有人举报并已受理，我们将一并核查处理。"),
    "no_clear_facts": ("无明确的被举报对象、事项或事实", "您的举报缺少明确的被举报单位、具体事项或事实，暂无法核查。欢迎补充后重新举报。"),
    "not_safety": ("不属于安全生产事项", "您反映的事项不属于安全生产举报范围，请向相关主管部门反映（如劳动保障、市场监管、生态环境、12345热线）。"),
    "other_procedure": ("属于建议、信息公开、行政复议或诉讼仲裁事项", "您反映的事项应通过建议征集、政府信息公开、行政复议或诉讼、仲裁等途径办理。"),
}

CONCLUSIONS: dict[str, str] = {"confirmed": "属实", "partly": "部分属实", "unfounded": "不属实"}

ENFORCEMENT_KINDS: dict[str, str] = {
    "fine": "罚款",
    "confiscation": "没收违法所得",
    "rectify_order": "责令限期整改",
    "suspend": "停产停业整顿",
    "close": "关闭",
    "judicial": "移送司法机关",
}
AMOUNT_KINDS = frozenset({"fine", "confiscation"})

HAZARD_LEVELS: dict[str, str] = {"major": "重大事故隐患", "general": "一般事故隐患", "none": "无隐患/违法行为"}

INSPECTION_RESULTS: dict[str, str] = {"passed": "验收合格", "failed": "未整改到位", "ongoing": "整改进行中"}

# 五落实: all five must be recorded before a rectification order stands.
RECTIFICATION_FIELDS: dict[str, str] = {
    "responsible": "责任人",
    "measures": "整改措施",
    "funds": "整改资金",
    "deadline": "整改期限",
    "contingency": "应急预案",
}

URGENCY_RANK: dict[str, int] = {"critical": 0, "high": 1, "medium": 2, "low": 3}
URGENCY_LABELS: dict[str, str] = {"critical": "紧急", "high": "高", "medium": "中", "low": "低"}

# Time limits (rules.md §3). Calendar days unless marked; every value is configurable in
# cases.clock.Limits and documented in docs/workbench.md.
CHECK_DAYS = 60
MAX_EXTENSION_DAYS = 30
REPLY_DAYS = 10
OBJECTION_DAYS = 10
RECHECK_DAYS = 30


class CaseError(Exception):
    """A refused transition. ``message`` is Chinese and safe to show; ``field`` names the form
    field it belongs to, when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Forbidden(CaseError):
    """The actor may not do this to this case (role or department)."""
