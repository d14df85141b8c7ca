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
    "rechecking": "复查中",
    "merged": "已与同一事项的举报合并办理",
}

EVENT_LABELS = {
    "filed": "举报已提交",
    "reporter_message": "您发送了一条留言",
    "staff_message": "办理单位给您回复了留言",
    "evidence_added": "您补充了证据材料",
    "accepted": "已受理",
    "returned": "退回区安委会办公室重新分派",
    "replied": "办理单位已答复核查结果",
    "objection": "您对核查结果提出了异议，已进入复查",
    "rechecked": "复查完毕",
    "inspection": "整改复查",
    "extended": "核查期限经批准延长",
    "supervised": "挂牌督办",
    "routed": "已分派承办部门",
    "routed_review": "区安委会办公室人工分派",
    "escalated_head": "临近期限，已提醒部门负责人",
    "escalated_coordination": "已超期，已报区安委会办公室",
    "reward_proposed": "承办部门提出奖励申请",
    "reward_notice": "举报奖励已核定，请在领取期限内申领",
    "reward_claimed": "您已申领举报奖励",
    "reward_paid": "举报奖励已支付",
    "reward_forfeited": "逾期未申领，奖励视为放弃",
    "reward_extended": "奖励领取期限经批准延长",
}


def public_status(code: str, event: bool = False) -> str:
    if event:
        return EVENT_LABELS.get(code) or STATUS_LABELS.get(code, code)
    return STATUS_LABELS.get(code, code)
