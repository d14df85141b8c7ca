"""A report's key schedule: data keys per epoch, who they are wrapped for, and re-wrapping.

A report starts at epoch 0 with a content key and an identity key. Moving the report to another
department (移送, or back to the coordinating office) starts a new epoch: a fresh content key,
wrapped for the new department, the coordinating office and the reporter, under which everything
written from then on (messages, evidence, comments) is sealed. The previous department's wraps
are deleted, so it can read neither the new material nor — through the database — the old; a key
it copied before the transfer opens only what existed before the transfer.

The reporter can be given new keys without the receipt: an X25519 key pair is derived from the
receipt's wrapping key, and its public half is stored on the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from secure_store import envelope


def seal_ctx(number: str, what: str) -> bytes:
    """Associated data binding a sealed field to its report and role."""
    return f"report|{number}|{what}".encode()


def wrap_ctx(number: str, purpose: str, epoch: int = 0) -> bytes:
    base = f"report-key|{number}|{purpose}"
    return (base if epoch == 0 else f"{base}|e{epoch}").encode()


def reporter_private(wrapping_key: bytes) -> X25519PrivateKey:
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"aqjb reporter x25519 v1").derive(wrapping_key)
    return X25519PrivateKey.from_private_bytes(seed)


def reporter_public(wrapping_key: bytes) -> bytes:
    return envelope.public_bytes(reporter_private(wrapping_key))


@dataclass
class ReportKeys:
    """The data keys one reader holds for one report."""

    content: dict[int, bytes] = field(default_factory=dict)
    identity: bytes | None = None

    @property
    def epoch(self) -> int:
        return max(self.content)

    @property
    def current(self) -> bytes:
        return self.content[self.epoch]

    def for_epoch(self, epoch: int) -> bytes:
        try:
            return self.content[epoch]
        except KeyError as exc:
            raise envelope.DecryptionError(f"no key for epoch {epoch}") from exc


def _wraps(report, recipient: str, department_id: int | None):  # type: ignore[no-untyped-def]
    return [w for w in report.wraps if w.recipient == recipient and w.department_id == department_id]


def department_keys(report, department_id: int, private: X25519PrivateKey, with_identity: bool = False) -> ReportKeys:  # type: ignore[no-untyped-def]
    """Unwrap every content key (and optionally the identity key) wrapped for a department.
    Raises :class:`envelope.DecryptionError` when none is."""
    keys = ReportKeys()
    for w in _wraps(report, "department", department_id):
        if w.purpose == "content":
            keys.content[w.epoch] = envelope.unwrap_with_private_key(w.wrapped_key, private, wrap_ctx(report.number, "content", w.epoch))
        elif w.purpose == "identity" and with_identity:
            keys.identity = envelope.unwrap_with_private_key(w.wrapped_key, private, wrap_ctx(report.number, "identity", w.epoch))
    if not keys.content:
        raise envelope.DecryptionError("report not wrapped for this department")
    return keys


def reporter_keys(report, wrapping_key: bytes) -> ReportKeys:  # type: ignore[no-untyped-def]
    """The reporter's content keys: epoch 0 under the receipt key, later epochs via HPKE."""
    keys = ReportKeys()
    private: X25519PrivateKey | None = None
    for w in _wraps(report, "reporter", None):
        if w.purpose != "content":
            continue
        if w.epoch == 0:
            keys.content[0] = envelope.unwrap_with_key(w.wrapped_key, wrapping_key, wrap_ctx(report.number, "content"))
        else:
            private = private or reporter_private(wrapping_key)
            keys.content[w.epoch] = envelope.unwrap_with_private_key(w.wrapped_key, private, wrap_ctx(report.number, "content", w.epoch))
    if not keys.content:
        raise envelope.DecryptionError("no reporter key")
    return keys


def rewrap_for_move(report, keys: ReportKeys, from_department_id: int, to_department, coordination) -> ReportKeys:  # type: ignore[no-untyped-def]
    """Give ``to_department`` the report's keys, start a new epoch, and drop the previous
    department's wraps (the coordinating office always keeps its own). Returns the mover's
    keys including the new epoch's, for sealing what goes with the move.

    ``keys`` must hold every epoch's content key and the identity key (the mover's view)."""
    from models import KeyWrap

    number = report.number
    have = {(w.purpose, w.epoch) for w in _wraps(report, "department", to_department.id)}

    def add(purpose: str, epoch: int, key: bytes, recipient: str, dept_id: int | None, public: bytes) -> None:
        report.wraps.append(KeyWrap(purpose=purpose, epoch=epoch, recipient=recipient, department_id=dept_id,
                                    wrapped_key=envelope.wrap_for_public_key(key, public, wrap_ctx(number, purpose, epoch))))

    for epoch, key in keys.content.items():
        if ("content", epoch) not in have:
            add("content", epoch, key, "department", to_department.id, to_department.public_key)
    if keys.identity is not None and not any(p == "identity" for p, _ in have) and report.sealed_identity is not None:
        add("identity", 0, keys.identity, "department", to_department.id, to_department.public_key)

    out = ReportKeys(dict(keys.content), keys.identity)
    if report.reporter_public_key is not None:  # reports filed before epochs existed keep one key
        new_epoch = report.key_epoch + 1
        fresh = envelope.new_key()
        readers = {to_department.id: to_department.public_key, coordination.id: coordination.public_key}
        for dept_id, public in readers.items():
            add("content", new_epoch, fresh, "department", dept_id, public)
        add("content", new_epoch, fresh, "reporter", None, report.reporter_public_key)
        report.key_epoch = new_epoch
        out.content[new_epoch] = fresh
    if from_department_id != coordination.id and from_department_id != to_department.id:
        for w in list(_wraps(report, "department", from_department_id)):
            report.wraps.remove(w)
    return out
