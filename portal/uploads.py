"""Turn a parsed multipart request into pending uploads (HTTP glue only; rules live in intake)."""

from __future__ import annotations

from flask import Request

from intake.uploads import MAX_FILES, EncryptedSpool, PendingUpload, accept_spool
from portal import throttle
from secure_store.files import FileStore
from secure_store.sanitize import RejectedFile


def collect(req: Request, store: FileStore, field: str = "attachments") -> tuple[list[PendingUpload], list[str]]:
    """Pending uploads carried over from an earlier attempt plus those in this request, and the
    Chinese error messages for the ones refused. Removed carry-overs are deleted."""
    errors: list[str] = []
    pending: list[PendingUpload] = []
    keep = set(req.form.getlist("keep_pending")) if "pending_present" in req.form else None
    for token in req.form.getlist("pending"):
        p = PendingUpload.from_token(token, store)
        if p is None:
            continue
        if keep is not None and p.spool_name not in keep:
            store.delete_tmp(p.spool_name)  # the reporter unticked it
            continue
        pending.append(p)
    for fs in req.files.getlist(field):
        spool = fs.stream
        if not isinstance(spool, EncryptedSpool):
            continue
        if not fs.filename:
            spool.finish()
            store.delete_tmp(spool.name_)
            continue
        if len(pending) >= MAX_FILES:
            spool.finish()
            store.delete_tmp(spool.name_)
            errors.append(f"每次最多上传{MAX_FILES}个附件，“{fs.filename}”未保存")
            continue
        if not throttle.hit("UPLOAD"):
            spool.finish()
            store.delete_tmp(spool.name_)
            errors.append("上传次数过多，请稍后再试")
            continue
        try:
            pending.append(accept_spool(spool, fs.filename))
        except RejectedFile as exc:
            errors.append(f"“{fs.filename}”：{exc}")
    return pending, errors
