"""Filing a report and the reporter's receipt-based follow-up.

Plaintext exists only in this process's memory while a request runs: it is triaged, sealed, and
only ciphertext, wrapped keys and coarse metadata reach the database and the disk.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import triage
from intake.reference import Reference
from intake.timeline import public_status
from intake.uploads import PendingUpload, StagedFile, release, stage_all
from intake.validation import ReportInput
from models import Attachment, Department, KeyWrap, Message, Report, ReportEvent, ReporterSession, ReportFingerprint
from cases.clock import open_case
from cases.states import URGENCY_RANK
from models.department import COORDINATION_CODE
from secure_store import blind_index, certificate, envelope, report_keys
from secure_store.files import FileStore
from secure_store.instance import InstanceSecrets
from secure_store.logsafe import failure_summary
from secure_store.receipt import derive_receipt_keys, new_receipt, normalize_receipt

log = logging.getLogger(__name__)
SESSION_TTL = timedelta(minutes=30)
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True)
class IntakeContext:
    secrets: InstanceSecrets
    store: FileStore
    reference: Reference


@dataclass(frozen=True)
class FiledReport:
    number: str
    receipt: str
    certificate: dict[str, Any]
    session_token: str
    urgency: str = "medium"


_ctx = report_keys.seal_ctx
_wrap_ctx = report_keys.wrap_ctx


def new_report_number(now: datetime) -> str:
    rand = "".join(secrets.choice(_CROCKFORD) for _ in range(8))
    return f"AQ{now.astimezone(timezone(timedelta(hours=8))):%Y%m%d}-{rand}"


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def _route(data: ReportInput) -> triage.TriageResult:
    try:
        return triage.route(
            data.description, town=data.town_code, enterprise=data.enterprise or None, sector_hint=data.sector_hint
        )
    except Exception as exc:  # triage must never cost a report; the coordinating office dispatches by hand
        log.error("triage failed, routing to the coordinating office: %s", failure_summary(exc))
        return triage.TriageResult(department=None, confidence=0.0, needs_review=True, reasons=["分诊出错，人工分派"])


def _readers(db: Session, result: triage.TriageResult) -> tuple[Department, list[Department]]:
    """The handling department and every department the data keys are wrapped for."""
    coordination = db.scalar(select(Department).where(Department.code == COORDINATION_CODE))
    if coordination is None:
        raise RuntimeError("coordinating office missing: run `python -m portal init`")
    target = coordination
    if result.department and not result.needs_review:
        found = db.scalar(select(Department).where(Department.code == result.department, Department.active))
        target = found or coordination
    readers = [target] if target.id == coordination.id else [target, coordination]
    return target, readers


@contextmanager
def _files_in_transaction(db: Session, store: FileStore, uploads: list[PendingUpload]) -> Iterator[list[StagedFile]]:
    """Stage uploads for a transaction the caller commits inside the block. On any failure the
    transaction is rolled back and the staged files deleted (the uploads stay pending, nothing is
    lost); on success the spools are released."""
    staged = stage_all(store, uploads)
    try:
        yield staged
    except BaseException:
        db.rollback()
        for s in staged:
            store.delete(s.storage_name)
        raise
    release(store, uploads)


def file_report(
    db: Session,
    ctx: IntakeContext,
    data: ReportInput,
    uploads: list[PendingUpload],
    channel: str = "web",
    now: datetime | None = None,
) -> FiledReport:
    now = now or datetime.now(timezone.utc)
    result = _route(data)
    target, readers = _readers(db, result)
    content_key, identity_key = envelope.new_key(), envelope.new_key()
    receipt = new_receipt()
    rkeys = derive_receipt_keys(receipt, ctx.secrets.receipt_salt, ctx.secrets.receipt_params)

    with _files_in_transaction(db, ctx.store, uploads) as staged:
        for _attempt in range(5):
            number = new_report_number(now)
            if db.scalar(select(Report.id).where(Report.number == number)) is None:
                break
        canonical = {
            "content": data.content(),
            "salt": _b64(os.urandom(16)),
            "attachments_sha256": [s.sha256 for s in staged],
        }
        digest = certificate.content_digest(canonical)
        filed_at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        cert = certificate.issue(ctx.secrets.signing_key, number, filed_at, digest)
        identity = data.identity()
        report = Report(
            number=number,
            receipt_locator=rkeys.locator,
            filed_at=now,
            channel=channel,
            status="received",
            department_id=target.id,
            town_code=data.town_code if data.town_code in ctx.reference.towns else None,
            anonymous=data.anonymous,
            internal=data.internal,
            triage_department=result.department,
            triage_confidence=float(result.confidence),
            needs_review=result.needs_review or target.code == COORDINATION_CODE,
            sector=result.sector,
            report_type=result.report_type,
            urgency=result.urgency,
            urgency_score=int(result.urgency_score),
            triage_model=result.model_version[:60],
            sealed_content=envelope.seal_json(content_key, canonical, _ctx(number, "content")),
            sealed_identity=(
                envelope.seal_json(identity_key, identity, _ctx(number, "identity")) if identity else None
            ),
            sealed_triage=envelope.seal_json(content_key, result.to_dict(), _ctx(number, "triage")),
            content_sha256=digest,
            certificate_signature=cert["signature"],
            certificate_key_id=cert["key_id"],
            urgency_rank=URGENCY_RANK.get(result.urgency, 2),
            reporter_public_key=report_keys.reporter_public(rkeys.wrapping_key),
        )
        open_case(report, now)
        for purpose, key in (("content", content_key), ("identity", identity_key)):
            for dept in readers:
                report.wraps.append(
                    KeyWrap(
                        purpose=purpose,
                        recipient="department",
                        department_id=dept.id,
                        wrapped_key=envelope.wrap_for_public_key(key, dept.public_key, _wrap_ctx(number, purpose)),
                    )
                )
            report.wraps.append(
                KeyWrap(
                    purpose=purpose,
                    recipient="reporter",
                    wrapped_key=envelope.wrap_with_key(key, rkeys.wrapping_key, _wrap_ctx(number, purpose)),
                )
            )
        for s in staged:
            report.attachments.append(_attachment_row(number, content_key, s, "reporter"))
        report.events.append(ReportEvent(kind="filed", at=now, public=True))
        report.events.append(
            ReportEvent(kind="routed_review" if report.needs_review else "routed", at=now, public=False)
        )
        db.add(report)
        db.flush()
        blind_index.reindex(db, blind_index.derive_index_key(ctx.secrets.mac_key), report.id,
                            {"text": f"{data.description}\n{data.address or ''}", "enterprise": data.enterprise or ""})
        from cases.duplicates import make as fingerprint_of

        db.add(ReportFingerprint(report_id=report.id, fingerprint=fingerprint_of(data.description, ctx.secrets.mac_key)))
        token = _open_session(db, report, rkeys.wrapping_key, now)
        db.commit()
    return FiledReport(number, receipt, cert, token, report.urgency)


def seal_message(report: Report, keys: report_keys.ReportKeys, body: str, sender: str) -> Message:
    """A message sealed under the report's current epoch key (either side)."""
    ctx = _ctx(report.number, f"message|{sender}")
    return Message(sender=sender, sealed_body=envelope.seal(keys.current, body.encode(), ctx), key_epoch=keys.epoch)


def _attachment_row(number: str, content_key: bytes, s: StagedFile, added_by: str, epoch: int = 0) -> Attachment:
    public_id = secrets.token_hex(16)
    ctx = _ctx(number, f"attachment|{public_id}")
    return Attachment(
        public_id=public_id,
        storage_name=s.storage_name,
        mime=s.mime,
        size=s.size,
        sha256=s.sha256,
        sanitized=s.sanitized,
        sealed_file_key=envelope.seal(content_key, s.file_key, ctx),
        sealed_meta=envelope.seal_json(content_key, {"filename": s.filename}, ctx + b"|meta"),
        added_by=added_by,
        key_epoch=epoch,
    )


# --- reporter sessions ---------------------------------------------------------------------------


def _token_key(token: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"aqjb reporter session v1").derive(token)


def _open_session(db: Session, report: Report, wrapping_key: bytes, now: datetime) -> str:
    token = secrets.token_bytes(32)
    db.add(
        ReporterSession(
            token_hash=hashlib.sha256(token).digest(),
            report_id=report.id,
            sealed_wrapping_key=envelope.seal(_token_key(token), wrapping_key, b"reporter-session"),
            expires_at=now + SESSION_TTL,
        )
    )
    return base64.urlsafe_b64encode(token).rstrip(b"=").decode("ascii")


def login_with_receipt(db: Session, ctx: IntakeContext, receipt_raw: str) -> str | None:
    """A session token for the report this receipt belongs to, or ``None``."""
    receipt = normalize_receipt(receipt_raw)
    if receipt is None:
        return None
    rkeys = derive_receipt_keys(receipt, ctx.secrets.receipt_salt, ctx.secrets.receipt_params)
    report = db.scalar(select(Report).where(Report.receipt_locator == rkeys.locator))
    if report is None:
        return None
    now = datetime.now(timezone.utc)
    db.execute(delete(ReporterSession).where(ReporterSession.expires_at < now))
    token = _open_session(db, report, rkeys.wrapping_key, now)
    db.commit()
    return token


@dataclass
class ReporterAccess:
    report: Report
    keys: report_keys.ReportKeys
    token: str
    expires_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def content_key(self) -> bytes:
        """The key of the report's current epoch: what new material is sealed under."""
        return self.keys.current


def resume(db: Session, token: str) -> ReporterAccess | None:
    """Check a session token (sliding expiry) and unwrap the report's content key."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        return None
    if len(raw) != 32:
        return None
    sess = db.get(ReporterSession, hashlib.sha256(raw).digest())
    now = datetime.now(timezone.utc)
    if sess is None or sess.expires_at < now:
        return None
    try:
        wrapping_key = envelope.open_sealed(_token_key(raw), sess.sealed_wrapping_key, b"reporter-session")
        report = db.get(Report, sess.report_id)
        assert report is not None
        keys = report_keys.reporter_keys(report, wrapping_key)
    except envelope.DecryptionError:
        return None
    sess.expires_at = now + SESSION_TTL
    db.commit()
    return ReporterAccess(report, keys, token, sess.expires_at)


def logout(db: Session, token: str) -> None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        return
    db.execute(delete(ReporterSession).where(ReporterSession.token_hash == hashlib.sha256(raw).digest()))
    db.commit()


# --- what the reporter can see and do ------------------------------------------------------------


def reporter_view(db: Session, ctx: IntakeContext, access: ReporterAccess) -> dict[str, Any]:
    r = access.report
    keys = access.keys
    content = envelope.open_json(keys.for_epoch(0), r.sealed_content, _ctx(r.number, "content"))["content"]
    messages = []
    for m in r.messages:
        body = envelope.open_sealed(keys.for_epoch(m.key_epoch), m.sealed_body, _ctx(r.number, f"message|{m.sender}")).decode()
        messages.append({"sender": m.sender, "body": body, "at": m.created_at.isoformat()})
        if m.sender == "staff" and not m.read_by_reporter:
            m.read_by_reporter = True
    attachments = []
    for a in r.attachments:
        actx = _ctx(r.number, f"attachment|{a.public_id}")
        meta = envelope.open_json(keys.for_epoch(a.key_epoch), a.sealed_meta, actx + b"|meta")
        attachments.append({"filename": meta["filename"], "mime": a.mime, "size": a.size, "added_by": a.added_by})
    db.commit()
    return {
        "report_number": r.number,
        "filed_at": r.filed_at.isoformat(),
        "status": r.status,
        "status_label": public_status(r.status),
        "handled_by": r.department.name if not r.needs_review else "区安委会办公室（分派中）",
        "timeline": [{"kind": e.kind, "label": public_status(e.kind, event=True), "at": e.at.isoformat()} for e in r.events if e.public],
        "messages": messages,
        "attachments": attachments,
        "content": content,
        **_objection(r),
        "reward": _reward(db, r),
    }


def _objection(r: Report) -> dict[str, Any]:
    """Whether the reporter may still object to the reply (10 days, once)."""
    from cases.calendar import today_cst

    c = r.case
    open_ = bool(c and c.replied_at and c.objection_due and not c.rechecks and today_cst() <= c.objection_due)
    return {"objection_open": open_, "objection_due": c.objection_due.isoformat() if c and c.objection_due else None}


REPORTER_REWARD_LABELS = {
    "approved": "奖励已核定，待您申领",
    "claimed": "已申领，等待财务部门支付",
    "paid": "已支付",
    "forfeited": "逾期未申领，视为放弃（如有正当理由，请留言申请延期）",
}


def _reward(db: Session, r: Report) -> dict[str, Any] | None:
    """The reward notice, once finance has approved it (earlier stages are internal)."""
    from cases.calendar import today_cst
    from cases.rewards.workflow import claim_open, current

    w = current(db, r)
    if w is None or w.status not in REPORTER_REWARD_LABELS:
        return None
    return {"status": w.status, "label": REPORTER_REWARD_LABELS[w.status], "amount": w.amount_yuan, "quote": w.quote,
            "claim_due": w.claim_due.isoformat() if w.claim_due else None, "claim_open": claim_open(w, today_cst()),
            "method": w.claim_method, "anonymous": r.anonymous}


def post_message(db: Session, access: ReporterAccess, body: str, sender: str = "reporter") -> None:
    r = access.report
    r.messages.append(seal_message(r, access.keys, body, sender))
    r.events.append(ReportEvent(kind="reporter_message" if sender == "reporter" else "staff_message", public=True))
    db.commit()


def add_evidence(db: Session, ctx: IntakeContext, access: ReporterAccess, uploads: list[PendingUpload]) -> int:
    r = access.report
    with _files_in_transaction(db, ctx.store, uploads) as staged:
        for s in staged:
            r.attachments.append(_attachment_row(r.number, access.content_key, s, "reporter", access.keys.epoch))
        r.events.append(ReportEvent(kind="evidence_added", public=True))
        db.commit()
    return len(staged)


def certificate_for(report: Report, ctx: IntakeContext) -> dict[str, Any]:
    """Re-issue the filing certificate from what is stored (signature is deterministic)."""
    cert = certificate.issue(
        ctx.secrets.signing_key, report.number, report.filed_at.strftime("%Y-%m-%dT%H:%M:%SZ"), report.content_sha256
    )
    if cert["signature"] != report.certificate_signature:
        raise RuntimeError("stored certificate does not match the instance key")
    return cert


# --- department side (used by the workbench and by tests) ----------------------------------------


def open_as_department(report: Report, department: Department, private: X25519PrivateKey, purpose: str = "content") -> Any:
    """Decrypt a report's content (or identity) with a department private key; raises
    :class:`envelope.DecryptionError` if the report is not wrapped for that department."""
    keys = report_keys.department_keys(report, department.id, private, with_identity=purpose == "identity")
    if purpose == "identity":
        if report.sealed_identity is None:
            return None
        if keys.identity is None:
            raise envelope.DecryptionError("identity not wrapped for this department")
        return envelope.open_json(keys.identity, report.sealed_identity, _ctx(report.number, "identity"))
    return envelope.open_json(keys.for_epoch(0), report.sealed_content, _ctx(report.number, "content"))
