"""Chinese labels for what the reporter sees of a report's status and timeline."""

from __future__ import annotations

STATUS_LABELS = {
    "received": "已提交，等待受理",
    "accepted": "已受理，正在核查",
    "not_accepted": "不予受理",
    "transferred": "已移送其他部门办理",
    "checking": "核查中",
    "checked": "核查完毕",
    "rectifying": "整改中",
    "signed_off": "已验收销号",
    "closed": "已办结",
}

EVENT_LABELS = {
    "filed": "举报已提交",
    "reporter_message": "您发送了一条留言",
    "staff_message": "办理单位给您回复了留言",
    "evidence_added": "您补充了证据材料",
}


def public_status(code: str, event: bool = False) -> str:
    if event:
        return EVENT_LABELS.get(code) or STATUS_LABELS.get(code, code)
    return STATUS_LABELS.get(code, code)
