"""Which roles may attempt each case action: checked before any form is parsed, so a refused
role always gets a plain refusal (and never learns whether its input was valid). The case
functions check again, together with the department and the state."""

from __future__ import annotations

DEPARTMENT = frozenset({"handler", "head"})
ACTION_ROLES: dict[str, frozenset[str]] = {
    **{a: DEPARTMENT for a in ("reward_propose", "reward_extension", "accept", "not_accept", "reject", "start_check", "request_extension", "finish_check",
                               "rectify", "inspection", "reply", "close", "progress", "identity_request", "identity_view")},
    **{a: frozenset({"head"}) for a in ("reward_approve", "reward_refuse", "sign_off", "approve_extension", "identity_decide")},
    **{a: frozenset({"coordinator"}) for a in ("supervise", "end_supervision")},
    **{a: DEPARTMENT | {"coordinator"} for a in ("transfer", "merge", "comment", "message")},
}


def may_attempt(role: str, action: str, custodian: bool = False) -> bool:
    if action == "identity_decide" and custodian and role in DEPARTMENT:
        return True
    if action == "not_accept" and role == "coordinator":
        return True  # for reports still at the coordinating office (the function checks where it is)
    return role in ACTION_ROLES.get(action, frozenset())
