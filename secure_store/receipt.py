"""Receipt codes (查询码): the reporter's only credential, shown once.

A receipt is 16 random decimal digits (≈53 bits). The server never stores it. Argon2id over the
receipt with the per-instance salt yields a master secret, from which HKDF derives two
independent values: a *locator* (stored, unique, finds the report) and a *wrapping key* (never
stored; unwraps the report's data keys). Anyone holding the database and the instance salt must
still pay one Argon2id evaluation per guess across 10^16 receipts.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from secure_store.kdf import Argon2Params, derive

RECEIPT_DIGITS = 16
_NON_DIGITS = re.compile(r"[\s\-－—_·.]")


@dataclass(frozen=True)
class ReceiptKeys:
    locator: bytes
    wrapping_key: bytes


def new_receipt() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(RECEIPT_DIGITS))


def format_receipt(receipt: str) -> str:
    """``1234567812345678`` -> ``1234-5678-1234-5678`` for reading aloud and copying."""
    return "-".join(receipt[i : i + 4] for i in range(0, len(receipt), 4))


def normalize_receipt(raw: str) -> str | None:
    """Accept spaces, dashes and full-width digits; ``None`` if it is not 16 digits."""
    import unicodedata

    cleaned = _NON_DIGITS.sub("", unicodedata.normalize("NFKC", raw or ""))
    if len(cleaned) != RECEIPT_DIGITS or not cleaned.isascii() or not cleaned.isdigit():
        return None
    return cleaned


def _hkdf(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)


def derive_receipt_keys(receipt: str, instance_salt: bytes, params: Argon2Params) -> ReceiptKeys:
    master = derive(receipt.encode("ascii"), instance_salt, params)
    return ReceiptKeys(
        locator=_hkdf(master, b"aqjb receipt locator v1"),
        wrapping_key=_hkdf(master, b"aqjb receipt wrapping key v1"),
    )
