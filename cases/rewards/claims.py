"""The reporter's claim and the payout.

A claim is made from the receipt portal, so holding the receipt is what proves the claimant made
the report — an anonymous reporter never has to give a name to the department. What they enter to
be paid (bank account, or name and ID number for a counter payment) is sealed to the finance
office's public key: the handling department, the coordinating office and the administrator
cannot open it. At the end of the claim the reporter is shown a claim code once; the database
keeps only a keyed hash. An anonymous claimant presents the code at the finance counter, and
finance quotes it in the transfer's remittance note, so the reporter can recognise the payment
without the bank learning what it is for.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit.chain import Actor, record
from cases.calendar import today_cst
from cases.desk import Desk
from cases.rewards.workflow import claim_open
from cases.states import CaseError
from intake.validation import valid_id_number
from models import Department, Report, ReportEvent, Reward, RewardPayout
from models.base import utcnow
from models.department import FINANCE_CODE
from secure_store import envelope

METHODS = {"bank": "银行转账", "counter": "到财务窗口领取"}
DECLARATION = ("本人不是负有安全生产监督管理职责的工作人员，也不是其近亲属或受其委托的人员；"
               "所填信息真实，如有虚假愿承担相应责任。")
_ACCOUNT = re.compile(r"^\d{12,30}$")


def _payee_ctx(number: str) -> bytes:
    return b"reward-payee|" + number.encode()


def code_hash(mac_key: bytes, number: str, code: str) -> bytes:
    return hmac.new(mac_key, b"reward-claim-code|" + number.encode() + b"|" + code.encode(), hashlib.sha256).digest()


def format_code(code: str) -> str:
    return " ".join(code[i:i + 4] for i in range(0, len(code), 4))


def _clean(value: Any, limit: int) -> str:
    return unicodedata.normalize("NFKC", str(value or "")).strip()[:limit]


@dataclass(frozen=True)
class ClaimForm:
    method: str
    declaration: bool
    payee_name: str = ""
    bank_name: str = ""
    account: str = ""
    id_number: str = ""

    @classmethod
    def from_values(cls, values: Any, declaration: bool) -> ClaimForm:
        """From a posted form or a JSON object: text fields only (anything else counts as empty)."""
        text = {k: v if isinstance(v := values.get(k), str) else "" for k in ("method", "payee_name", "bank_name", "account", "id_number")}
        return cls(declaration=declaration, **text)

    def validated(self, anonymous: bool) -> dict[str, str]:
        """The payee details to seal, or CaseError at the first wrong field."""
        if self.method not in METHODS:
            raise CaseError("请选择领取方式。", "method")
        name = _clean(self.payee_name, 40)
        out: dict[str, str] = {"method": self.method}
        if self.method == "bank":
            account = re.sub(r"[\s\-]", "", _clean(self.account, 60))
            if len(name) < 2:
                raise CaseError("请填写收款人姓名（与银行账户户名一致）。", "payee_name")
            if len(_clean(self.bank_name, 60)) < 2:
                raise CaseError("请填写开户银行（如：中国农业银行许昌建安支行）。", "bank_name")
            if not _ACCOUNT.match(account):
                raise CaseError("银行账号应为12至30位数字，请核对。", "account")
            out.update(payee_name=name, bank_name=_clean(self.bank_name, 60), account=account)
        elif not anonymous:  # a named reporter shows an identity document at the counter
            id_number = _clean(self.id_number, 20).upper()
            if len(name) < 2:
                raise CaseError("请填写领取人姓名（与身份证件一致）。", "payee_name")
            if not valid_id_number(id_number):
                raise CaseError("身份证号码不正确，请检查（18位，最后一位可能是X）。", "id_number")
            out.update(payee_name=name, id_number=id_number)
        if not self.declaration:
            raise CaseError("领取奖励须确认本人不属于不得领取奖励的人员。", "declaration")
        return out


def claim(db: Session, mac_key: bytes, audit_key: bytes, report: Report, form: ClaimForm, now: datetime | None = None) -> str:
    """The reporter claims (receipt portal). Returns the claim code, shown to them once."""
    now = now or utcnow()
    reward = db.scalar(select(Reward).where(Reward.report_id == report.id, Reward.status == "approved"))
    if reward is None:
        raise CaseError("该举报没有待领取的奖励。")
    if not claim_open(reward, today_cst(now)):
        raise CaseError("已超过领取期限。如有正当理由，请通过留言联系办理单位申请延期。")
    payee = form.validated(report.anonymous)
    finance = db.scalar(select(Department).where(Department.code == FINANCE_CODE))
    if finance is None:
        raise RuntimeError("finance office key missing: run `python -m portal init`")
    code = "".join(secrets.choice("0123456789") for _ in range(12))
    reward.sealed_payee = envelope.wrap_for_public_key(json.dumps(payee, ensure_ascii=False).encode(), finance.public_key,
                                                       _payee_ctx(report.number))
    reward.claim_code_hash = code_hash(mac_key, report.number, code)
    reward.claim_method, reward.claimed_at, reward.declaration, reward.status = form.method, now, True, "claimed"
    report.events.append(ReportEvent(kind="reward_claimed", at=now, public=True))
    record(db, audit_key, actor=Actor.reporter(), action="reward_claim", target_type="report", target_id=report.number,
           details={"reward": reward.id, "method": form.method}, at=now)
    return code


def payee_details(desk: Desk, report: Report, reward: Reward) -> dict[str, str]:
    """Finance opens what the claimant entered, with the finance office key; audited."""
    desk.require(desk.staff.role == "finance")
    finance = desk.db.scalar(select(Department).where(Department.code == FINANCE_CODE))
    private = desk.staff.keys.get(finance.id) if finance else None
    if private is None:
        raise CaseError("您的账号尚未获得财务部门密钥授权，无法查看收款信息。")
    if reward.sealed_payee is None:
        raise CaseError("举报人尚未申领。")
    data = json.loads(envelope.unwrap_with_private_key(reward.sealed_payee, private, _payee_ctx(report.number)))
    desk.audit("reward_payee_view", report, reward=reward.id)
    return data  # type: ignore[no-any-return]


def record_payout(desk: Desk, report: Report, reward: Reward, *, voucher_no: str, paid_on: date, amount: int,
                  claim_code: str = "", identity_checked: bool = False, mac_key: bytes = b"") -> RewardPayout:
    """Finance records the payment. The amount must be the approved one; a counter payment needs
    the claim code (anonymous) or the identity check (named). The database refuses a second
    payout for the same report."""
    desk.require(desk.staff.role == "finance")
    if reward.status != "claimed":
        raise CaseError("该奖励尚未申领或已支付。")
    voucher_no = _clean(voucher_no, 40)
    if len(voucher_no) < 3:
        raise CaseError("请填写会计凭证号。", "voucher_no")
    if amount != reward.amount_yuan:
        raise CaseError(f"支付金额须与核定的奖励金额一致（{reward.amount_yuan:,}元）。", "amount")
    if paid_on > desk.today or (reward.claimed_at and paid_on < today_cst(reward.claimed_at)):
        raise CaseError("支付日期应在申领日期之后、不晚于今天。", "paid_on")
    if reward.claim_method == "counter":
        if report.anonymous:
            given = re.sub(r"\D", "", claim_code or "")
            if reward.claim_code_hash is None or not hmac.compare_digest(code_hash(mac_key, report.number, given), reward.claim_code_hash):
                raise CaseError("领取码不正确：请核对领取人出示的12位领取码。", "claim_code")
        elif not identity_checked:
            raise CaseError("请现场核验领取人身份证件并勾选确认。", "identity_checked")
    if desk.db.scalar(select(RewardPayout.id).where(RewardPayout.voucher_no == voucher_no)):
        raise CaseError("该凭证号已使用。", "voucher_no")
    payout = RewardPayout(reward_id=reward.id, report_id=report.id, department_id=reward.department_id, voucher_no=voucher_no,
                          paid_on=paid_on, amount_yuan=amount, method=reward.claim_method or "bank",
                          recorded_by=desk.staff.user_id, recorded_at=desk.now)
    desk.db.add(payout)
    try:
        desk.db.flush()
    except IntegrityError as exc:  # a concurrent payout of the same report, or the same voucher
        raise CaseError("该举报已支付过奖励，不能重复支付。") from exc
    reward.status = "paid"
    desk.event(report, "reward_paid", True)
    desk.audit("reward_payout", report, reward=reward.id, amount=amount, voucher_no=voucher_no, paid_on=paid_on.isoformat())
    return payout


def forfeit_expired(db: Session, audit_key: bytes, today: date | None = None) -> int:
    """Rewards not claimed in time and without a pending extension request are forfeited."""
    today = today or today_cst()
    rows = list(db.scalars(select(Reward).where(Reward.status == "approved", Reward.claim_due < today)))
    n = 0
    for reward in rows:
        if reward.extension_requested_by is not None and reward.extension_approved_by is None:
            continue  # finance decides the extension first
        report = db.get(Report, reward.report_id)
        assert report is not None
        reward.status, reward.forfeited_at = "forfeited", utcnow()
        report.events.append(ReportEvent(kind="reward_forfeited", public=True))
        record(db, audit_key, actor=Actor.system(), action="reward_forfeit", target_type="report", target_id=report.number,
               details={"reward": reward.id, "claim_due": reward.claim_due.isoformat() if reward.claim_due else None})
        n += 1
    db.commit()
    return n
