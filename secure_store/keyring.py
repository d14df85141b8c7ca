"""The key hierarchy above reports: department keys, members' personal keys, the recovery key.

- Each department (and the coordinating office) has an X25519 key pair. Its public key is in the
  database; report data keys are wrapped to it.
- Each staff member has a personal X25519 key pair. The private half is sealed with AES-256-GCM
  under Argon2id(password, per-member salt), so only a login can unlock it.
- A department's private key is wrapped (HPKE) to each member's personal public key (a *grant*)
  and to the instance's offline recovery public key, whose private half is printed at install and
  kept off the server. Losing every member's password therefore loses nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from secure_store import envelope
from secure_store.kdf import Argon2Params, derive


@dataclass(frozen=True)
class SealedPersonalKey:
    public_key: bytes
    sealed_private: bytes
    salt: bytes
    params: Argon2Params


def _password_key(password: str, salt: bytes, params: Argon2Params) -> bytes:
    return derive(password.encode("utf-8"), salt, params)


def create_personal_key(password: str, params: Argon2Params) -> SealedPersonalKey:
    private, public = envelope.generate_keypair()
    salt = os.urandom(16)
    sealed = envelope.seal(
        _password_key(password, salt, params), envelope.private_bytes(private), b"personal-key|" + public
    )
    return SealedPersonalKey(public, sealed, salt, params)


def unlock_personal_key(sealed: SealedPersonalKey, password: str) -> X25519PrivateKey:
    """Raises :class:`envelope.DecryptionError` on a wrong password."""
    key = _password_key(password, sealed.salt, sealed.params)
    raw = envelope.open_sealed(key, sealed.sealed_private, b"personal-key|" + sealed.public_key)
    return envelope.load_private(raw)


def reseal_personal_key(private: X25519PrivateKey, new_password: str, params: Argon2Params) -> SealedPersonalKey:
    """Password change: same key pair, new password wrapping."""
    public = envelope.public_bytes(private)
    salt = os.urandom(16)
    sealed = envelope.seal(
        _password_key(new_password, salt, params), envelope.private_bytes(private), b"personal-key|" + public
    )
    return SealedPersonalKey(public, sealed, salt, params)


def _grant_context(department_code: str) -> bytes:
    return b"department-key|" + department_code.encode()


def grant_department_key(department_private: X25519PrivateKey, department_code: str, member_public: bytes) -> bytes:
    return envelope.wrap_for_public_key(
        envelope.private_bytes(department_private), member_public, _grant_context(department_code)
    )


def open_department_grant(grant: bytes, department_code: str, member_private: X25519PrivateKey) -> X25519PrivateKey:
    raw = envelope.unwrap_with_private_key(grant, member_private, _grant_context(department_code))
    return envelope.load_private(raw)


def create_department_key(department_code: str, recovery_public: bytes) -> tuple[X25519PrivateKey, bytes, bytes]:
    """New department key pair: (private, public, private wrapped to the recovery key)."""
    private, public = envelope.generate_keypair()
    recovery_wrapped = grant_department_key(private, department_code, recovery_public)
    return private, public, recovery_wrapped
