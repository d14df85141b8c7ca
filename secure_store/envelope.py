"""Per-report data keys, sealed fields and key wrapping.

Every report has random data keys. Fields are sealed with AES-256-GCM under a data key, bound by
associated data to the report they belong to, so a sealed blob cannot be moved to another row.
Data keys are *wrapped* for each reader: for a department or the coordinating office with HPKE
(RFC 9180, X25519 + HKDF-SHA256 + AES-256-GCM) to its public key, and for the reporter with
AES-256-GCM under a key derived from the receipt. Re-routing a report re-wraps the data key; the
content is never re-encrypted.
"""

from __future__ import annotations

import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

KEY_BYTES = 32
NONCE_BYTES = 12
_VERSION = b"\x01"
_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)


class DecryptionError(Exception):
    """A blob failed authentication: wrong key, wrong context, or tampered bytes."""


def new_key() -> bytes:
    """A fresh random 256-bit key."""
    return AESGCM.generate_key(bit_length=256)


def seal(key: bytes, plaintext: bytes, context: bytes) -> bytes:
    """AES-256-GCM with a random nonce; ``context`` is authenticated associated data."""
    nonce = os.urandom(NONCE_BYTES)
    return _VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, context)


def open_sealed(key: bytes, blob: bytes, context: bytes) -> bytes:
    if len(blob) < 1 + NONCE_BYTES + 16 or blob[:1] != _VERSION:
        raise DecryptionError("malformed sealed blob")
    nonce = blob[1 : 1 + NONCE_BYTES]
    try:
        return AESGCM(key).decrypt(nonce, blob[1 + NONCE_BYTES :], context)
    except InvalidTag as exc:
        raise DecryptionError("authentication failed") from exc


def seal_json(key: bytes, value: Any, context: bytes) -> bytes:
    data = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return seal(key, data.encode("utf-8"), context)


def open_json(key: bytes, blob: bytes, context: bytes) -> Any:
    return json.loads(open_sealed(key, blob, context).decode("utf-8"))


# --- asymmetric wrapping (departments, coordinating office, members' personal keys) -------------


def generate_keypair() -> tuple[X25519PrivateKey, bytes]:
    """A new X25519 key pair; the public half as 32 raw bytes (what the database stores)."""
    private = X25519PrivateKey.generate()
    return private, public_bytes(private)


def public_bytes(private: X25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def private_bytes(private: X25519PrivateKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    return private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def load_private(raw: bytes) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(raw)


def wrap_for_public_key(secret: bytes, recipient_public: bytes, context: bytes) -> bytes:
    """HPKE base-mode seal of ``secret`` to an X25519 public key; ``context`` goes in HPKE info."""
    public = X25519PublicKey.from_public_bytes(recipient_public)
    return _VERSION + _SUITE.encrypt(secret, public, info=context)


def unwrap_with_private_key(blob: bytes, private: X25519PrivateKey, context: bytes) -> bytes:
    if blob[:1] != _VERSION:
        raise DecryptionError("malformed wrapped key")
    try:
        return _SUITE.decrypt(blob[1:], private, info=context)
    except (InvalidTag, ValueError) as exc:
        raise DecryptionError("cannot unwrap: wrong key or context") from exc


# --- symmetric wrapping (the reporter's receipt-derived key) ------------------------------------


def wrap_with_key(secret: bytes, wrapping_key: bytes, context: bytes) -> bytes:
    return seal(wrapping_key, secret, b"wrap|" + context)


def unwrap_with_key(blob: bytes, wrapping_key: bytes, context: bytes) -> bytes:
    return open_sealed(wrapping_key, blob, b"wrap|" + context)
