"""The instance's own secrets, kept in ``<data dir>/keys/instance.json`` (mode 0600).

- an Ed25519 signing key for filing certificates;
- the per-instance salt and the Argon2id parameters for receipt derivation (fixed at install:
  changing them would orphan every receipt);
- a MAC key for proof-of-work challenges, rate-limit keys and (later) blind indexes;
- the Flask session secret;
- the public half of the offline recovery key (its private half is shown once at install).

Created once by ``python -m portal init`` (or ``demo``); the web app refuses to start without it.
Creation is atomic (link into place), so concurrent workers can never end up with two instances.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from secure_store import envelope
from secure_store.kdf import Argon2Params

FILE_NAME = "instance.json"


class InstanceNotInitialised(RuntimeError):
    pass


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def _unb64(s: str) -> bytes:
    return base64.b64decode(s, validate=True)


@dataclass(frozen=True)
class InstanceSecrets:
    signing_key: Ed25519PrivateKey
    receipt_salt: bytes
    receipt_params: Argon2Params
    mac_key: bytes
    session_secret: bytes
    recovery_public: bytes

    def to_json(self) -> dict[str, object]:
        raw_sign = self.signing_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return {
            "version": 1,
            "signing_key": _b64(raw_sign),
            "receipt_salt": _b64(self.receipt_salt),
            "receipt_params": self.receipt_params.as_dict(),
            "mac_key": _b64(self.mac_key),
            "session_secret": _b64(self.session_secret),
            "recovery_public": _b64(self.recovery_public),
        }

    @classmethod
    def from_json(cls, d: dict[str, object]) -> "InstanceSecrets":
        return cls(
            signing_key=Ed25519PrivateKey.from_private_bytes(_unb64(str(d["signing_key"]))),
            receipt_salt=_unb64(str(d["receipt_salt"])),
            receipt_params=Argon2Params.from_dict(d["receipt_params"]),  # type: ignore[arg-type]
            mac_key=_unb64(str(d["mac_key"])),
            session_secret=_unb64(str(d["session_secret"])),
            recovery_public=_unb64(str(d["recovery_public"])),
        )


def keys_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "keys"


def load(data_dir: Path) -> InstanceSecrets:
    path = keys_dir(data_dir) / FILE_NAME
    try:
        with open(path, encoding="utf-8") as fh:
            return InstanceSecrets.from_json(json.load(fh))
    except FileNotFoundError as exc:
        raise InstanceNotInitialised(
            f"实例密钥不存在（{path}）。请先运行 `python -m portal init` 或 `python -m portal demo`。"
        ) from exc


def create(data_dir: Path, params: Argon2Params | None = None) -> tuple[InstanceSecrets, bytes] | None:
    """Create the instance secrets if absent. Returns (secrets, recovery private key bytes) when
    this call created them, ``None`` when they already existed (then nothing is changed)."""
    kdir = keys_dir(data_dir)
    kdir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(kdir, 0o700)
    target = kdir / FILE_NAME
    if target.exists():
        return None
    recovery_private, recovery_public = envelope.generate_keypair()
    secrets_ = InstanceSecrets(
        signing_key=Ed25519PrivateKey.generate(),
        receipt_salt=os.urandom(16),
        receipt_params=params or Argon2Params.from_env(),
        mac_key=os.urandom(32),
        session_secret=os.urandom(32),
        recovery_public=recovery_public,
    )
    fd, tmp = tempfile.mkstemp(dir=kdir, prefix=".instance-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(secrets_.to_json(), fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, target)  # atomic and fails if another process won the race
        except FileExistsError:
            return None
    finally:
        os.unlink(tmp)
    return secrets_, envelope.private_bytes(recovery_private)
