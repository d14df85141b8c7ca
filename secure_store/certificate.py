"""Filing certificates (立案凭证): proof of who filed first.

The instance signs, with its Ed25519 key, the report number, the filing time and the SHA-256 of
the submitted content. The content digest covers a random salt kept inside the encrypted report,
so the certificate (and the database row holding it) cannot be used to confirm a guessed text;
a department that decrypts the report can recompute it and compare two reporters' claims.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

CERT_TYPE = "aqjb-filing-certificate"
CERT_VERSION = 1


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def signed_message(report_number: str, filed_at: str, content_sha256: str) -> bytes:
    return f"{CERT_TYPE}\nv{CERT_VERSION}\n{report_number}\n{filed_at}\n{content_sha256}\n".encode("utf-8")


def content_digest(canonical_content: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of what was submitted (fields, salt, attachment digests)."""
    data = json.dumps(canonical_content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def issue(signing_key: Ed25519PrivateKey, report_number: str, filed_at: str, content_sha256: str) -> dict[str, Any]:
    public = signing_key.public_key()
    signature = signing_key.sign(signed_message(report_number, filed_at, content_sha256))
    return {
        "type": CERT_TYPE,
        "version": CERT_VERSION,
        "report_number": report_number,
        "filed_at": filed_at,
        "content_sha256": content_sha256,
        "key_id": key_id(public),
        "public_key": _b64(public.public_bytes(Encoding.Raw, PublicFormat.Raw)),
        "signature": _b64(signature),
        "说明": "本凭证由举报平台以Ed25519签名，证明该编号举报于所载时间提交，内容摘要为content_sha256。"
        "核验：python -m portal verify-certificate 文件名",
    }


@dataclass(frozen=True)
class Verification:
    valid: bool
    trusted_key: bool
    message: str


def verify(cert: dict[str, Any], trusted_public: Ed25519PublicKey | None) -> Verification:
    """Check the signature. ``trusted_key`` says whether it was made by the given instance key
    (otherwise only self-consistency with the embedded key can be shown)."""
    try:
        if cert.get("type") != CERT_TYPE or cert.get("version") != CERT_VERSION:
            return Verification(False, False, "不是本平台的立案凭证格式")
        embedded = Ed25519PublicKey.from_public_bytes(base64.b64decode(cert["public_key"], validate=True))
        signature = base64.b64decode(cert["signature"], validate=True)
        message = signed_message(str(cert["report_number"]), str(cert["filed_at"]), str(cert["content_sha256"]))
    except (KeyError, ValueError, TypeError):
        return Verification(False, False, "凭证字段缺失或损坏")
    key = trusted_public or embedded
    trusted = trusted_public is not None
    if trusted and key_id(trusted_public) != cert.get("key_id"):
        return Verification(False, True, "凭证不是由本平台密钥签发的")
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return Verification(False, trusted, "签名无效：凭证内容被改动过")
    if trusted:
        return Verification(True, True, "签名有效，由本平台密钥签发")
    return Verification(True, False, "签名与凭证内公钥一致；未与平台公钥比对")
