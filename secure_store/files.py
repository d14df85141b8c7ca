"""Encrypted files on disk, written and read as streams.

Format (one file key per file, AES-256-GCM in chunks, in the spirit of the STREAM construction):
``magic "AQF1" | u32 chunk size | 7-byte nonce prefix`` then chunks, each sealed with nonce
``prefix | u32 counter | last-flag byte`` and the header plus the caller's context as associated
data. Reordering, truncation and splicing are all detected. A 200 MB video never sits in memory:
the writer holds one chunk, the reader yields one chunk at a time.

Files are first written under ``tmp/`` and moved into place atomically (``os.replace``), so a
crash leaves at most an orphan in ``tmp/`` that :meth:`FileStore.cleanup_tmp` removes.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from secure_store.envelope import DecryptionError

MAGIC = b"AQF1"
CHUNK = 64 * 1024
_HEADER = struct.Struct(">4sI7s")
_TAG = 16


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", counter) + (b"\x01" if last else b"\x00")


class EncryptedWriter:
    """Write plaintext in any pieces; ciphertext goes to ``fh`` chunk by chunk.

    Keeps the SHA-256 and size of the plaintext, and the first ``head_bytes`` for type sniffing.
    """

    def __init__(self, fh: BinaryIO, key: bytes, context: bytes, head_bytes: int = 8192) -> None:
        self._fh = fh
        self._aead = AESGCM(key)
        self._prefix = os.urandom(7)
        header = _HEADER.pack(MAGIC, CHUNK, self._prefix)
        self._aad = header + context
        fh.write(header)
        self._buf = bytearray()
        self._counter = 0
        self._closed = False
        self.size = 0
        self.sha256 = hashlib.sha256()
        self._head_limit = head_bytes
        self.head = bytearray()

    def write(self, data: bytes) -> int:
        if self._closed:
            raise ValueError("writer closed")
        self.size += len(data)
        self.sha256.update(data)
        if len(self.head) < self._head_limit:
            self.head += data[: self._head_limit - len(self.head)]
        self._buf += data
        while len(self._buf) > CHUNK:  # keep at least one byte back so the last chunk is flagged
            self._emit(bytes(self._buf[:CHUNK]), last=False)
            del self._buf[:CHUNK]
        return len(data)

    def _emit(self, chunk: bytes, last: bool) -> None:
        nonce = _nonce(self._prefix, self._counter, last)
        self._fh.write(self._aead.encrypt(nonce, chunk, self._aad))
        self._counter += 1

    def finish(self) -> None:
        if not self._closed:
            self._emit(bytes(self._buf), last=True)
            self._buf.clear()
            self._closed = True
            self._fh.flush()


def iter_decrypt(fh: BinaryIO, key: bytes, context: bytes) -> Iterator[bytes]:
    """Yield plaintext chunks; raises :class:`DecryptionError` on any tampering or truncation."""
    header = fh.read(_HEADER.size)
    if len(header) != _HEADER.size:
        raise DecryptionError("truncated header")
    magic, chunk, prefix = _HEADER.unpack(header)
    if magic != MAGIC or chunk <= 0 or chunk > 16 * 1024 * 1024:
        raise DecryptionError("not an encrypted portal file")
    aead = AESGCM(key)
    aad = header + context
    counter = 0
    pending = fh.read(chunk + _TAG)
    while True:
        if not pending:
            raise DecryptionError("truncated file")
        following = fh.read(chunk + _TAG)
        last = not following
        try:
            yield aead.decrypt(_nonce(prefix, counter, last), pending, aad)
        except InvalidTag as exc:
            raise DecryptionError("file chunk failed authentication") from exc
        if last:
            return
        counter += 1
        pending = following


class FileStore:
    """Encrypted blobs under ``root/files`` (two-level fan-out) with a ``root/tmp`` spool."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.files = self.root / "files"
        self.tmp = self.root / "tmp"
        for d in (self.root, self.files, self.tmp):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)

    @staticmethod
    def new_name() -> str:
        return secrets.token_hex(16)

    def path_for(self, name: str) -> Path:
        if len(name) != 32 or not all(c in "0123456789abcdef" for c in name):
            raise ValueError("bad storage name")
        return self.files / name[:2] / name

    def tmp_path(self, name: str) -> Path:
        if len(name) != 32 or not all(c in "0123456789abcdef" for c in name):
            raise ValueError("bad spool name")
        return self.tmp / f"{name}.part"

    def open_tmp(self) -> tuple[str, BinaryIO]:
        name = self.new_name()
        fd = os.open(self.tmp_path(name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        return name, os.fdopen(fd, "wb")

    def commit(self, tmp_name: str, keep_tmp: bool = False) -> str:
        """Move (or, with ``keep_tmp``, hard-link) a finished spool file into the store; returns
        its storage name. Linking lets a caller keep the spool until its transaction commits."""
        name = self.new_name()
        target = self.path_for(name)
        target.parent.mkdir(exist_ok=True, mode=0o700)
        src = self.tmp_path(tmp_name)
        with open(src, "rb") as fh:
            os.fsync(fh.fileno())
        if keep_tmp:
            os.link(src, target)
        else:
            os.replace(src, target)
        return name

    def open_read(self, name: str) -> BinaryIO:
        return open(self.path_for(name), "rb")

    def delete(self, name: str) -> None:
        self.path_for(name).unlink(missing_ok=True)

    def delete_tmp(self, tmp_name: str) -> None:
        self.tmp_path(tmp_name).unlink(missing_ok=True)

    def stored_older_than(self, max_age_s: float) -> Iterator[str]:
        """Storage names of files older than ``max_age_s`` (candidates for the orphan sweep)."""
        cutoff = time.time() - max_age_s
        for p in self.files.glob("??/*"):
            try:
                if p.stat().st_mtime < cutoff and len(p.name) == 32:
                    yield p.name
            except FileNotFoundError:
                continue

    def cleanup_tmp(self, max_age_s: float) -> int:
        """Remove spool files older than ``max_age_s`` (abandoned uploads, crashed requests)."""
        cutoff = time.time() - max_age_s
        removed = 0
        for p in self.tmp.glob("*.part"):
            try:
                if p.stat().st_mtime < cutoff:
                    p.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed
