"""Tamper-evident audit log: who decrypted, viewed, downloaded, exported, transitioned or
transferred a case, or revealed a reporter's identity.

Append with ``record`` inside the transaction of the action being recorded; check with
``verify``; browse with ``entries``; export with ``audit.export``. The audit key is
``derive_audit_key(InstanceSecrets.mac_key)`` and never touches the database.
"""

from __future__ import annotations

from audit.chain import Actor, VerifyResult, derive_audit_key, entries, head, record, verify

__all__ = ["Actor", "VerifyResult", "derive_audit_key", "entries", "head", "record", "verify"]
