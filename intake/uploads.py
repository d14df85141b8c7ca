"""Uploads: encrypted from the first byte, sniffed, cleaned, and kept across form errors.

While the HTTP request is parsed, each uploaded file is written through an :class:`EncryptedSpool`
straight into ``tmp/`` under a random key held only in memory — no plaintext temp file ever
exists. Then:
- if the form has errors, the spool stays and the page carries a *pending token*
  (``name.key.meta``) in a hidden field, so the reporter does not upload again; the server cannot
  read a pending file without the token the reporter's browser holds;
- on success, images and PDFs are decrypted into memory (they are size-capped), stripped of
  metadata and re-encrypted under a fresh file key; videos keep the spool file and its key, so a
  200 MB video is never held in memory.
Abandoned spools are removed by ``FileStore.cleanup_tmp``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from secure_store import envelope
from secure_store.files import EncryptedWriter, FileStore, iter_decrypt
from secure_store.sanitize import MAX_FILE_BYTES, Kind, RejectedFile, sanitize, sniff

SPOOL_CONTEXT = b"aqjb-file-v1"
MAX_FILES = 10


def _b64e(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def _b64d(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class EncryptedSpool(io.RawIOBase):
    """A write-only file object for Werkzeug's multipart parser that encrypts as it goes."""

    def __init__(self, store: FileStore, limit: int = MAX_FILE_BYTES) -> None:
        super().__init__()
        self.store = store
        self.key = envelope.new_key()
        self.name_, self._fh = store.open_tmp()
        self._writer = EncryptedWriter(self._fh, self.key, SPOOL_CONTEXT)
        self.limit = limit
        self.overflow = False
        self.finished = False

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        if self.overflow:
            return len(data)
        if self._writer.size + len(data) > self.limit:
            self.overflow = True  # keep consuming the request, store nothing more
            return len(data)
        return self._writer.write(bytes(data))

    def seek(self, offset: int, whence: int = 0) -> int:
        # Werkzeug seeks to 0 when a part is complete: that is where the file is finalised.
        self.finish()
        return 0

    def finish(self) -> None:
        if not self.finished:
            self._writer.finish()
            self._fh.close()
            self.finished = True

    @property
    def size(self) -> int:
        return self._writer.size

    @property
    def head(self) -> bytes:
        return bytes(self._writer.head)

    def close(self) -> None:
        self.finish()
        super().close()


@dataclass
class PendingUpload:
    """An uploaded file waiting in ``tmp/`` for the report it belongs to."""

    spool_name: str
    key: bytes
    filename: str
    size: int
    mime: str

    def token(self) -> str:
        meta = json.dumps({"n": self.filename, "s": self.size, "m": self.mime}, ensure_ascii=False)
        return f"{self.spool_name}.{_b64e(self.key)}.{_b64e(meta.encode('utf-8'))}"

    @classmethod
    def from_token(cls, token: str, store: FileStore) -> "PendingUpload | None":
        try:
            name, key, meta = token.split(".")
            data = json.loads(_b64d(meta))
            p = cls(name, _b64d(key), str(data["n"])[:120], int(data["s"]), str(data["m"]))
            if len(p.key) != 32 or not store.tmp_path(name).exists():
                return None
            return p
        except (ValueError, KeyError, TypeError):
            return None

    @property
    def kind(self) -> Kind | None:
        from secure_store.sanitize import KINDS

        return KINDS.get(self.mime)


def safe_filename(name: str | None) -> str:
    base = (name or "附件").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return "".join(ch for ch in base if ch.isprintable())[:120] or "附件"


def accept_spool(spool: EncryptedSpool, filename: str | None) -> PendingUpload:
    """Check a freshly parsed upload; raises :class:`RejectedFile` with a Chinese message (and
    deletes the spool) if it is empty, too large or of a type we do not accept."""
    spool.finish()
    try:
        if spool.size == 0:
            raise RejectedFile("上传的文件是空的")
        kind = sniff(spool.head)
        if kind is None:
            raise RejectedFile("不支持该文件类型：只接受照片（JPG、PNG、WebP、GIF）、PDF 和视频（MP4、MOV、WebM、3GP）")
        if spool.overflow or spool.size > kind.max_bytes:
            raise RejectedFile(f"{kind.label}不能超过 {kind.max_bytes // (1024 * 1024)} MB")
    except RejectedFile:
        spool.store.delete_tmp(spool.name_)
        raise
    return PendingUpload(spool.name_, spool.key, safe_filename(filename), spool.size, kind.mime)


@dataclass
class StagedFile:
    """A cleaned, encrypted file in the store, not yet attached to a report row."""

    storage_name: str
    file_key: bytes
    mime: str
    size: int
    sha256: str
    filename: str
    sanitized: bool


def _read_all(store: FileStore, pending: PendingUpload) -> bytes:
    with open(store.tmp_path(pending.spool_name), "rb") as fh:
        return b"".join(iter_decrypt(fh, pending.key, SPOOL_CONTEXT))


class BadUpload(RejectedFile):
    """One pending upload failed cleaning; the others stay pending for the re-rendered form."""

    def __init__(self, upload: PendingUpload, message: str) -> None:
        super().__init__(message)
        self.upload = upload


def stage(store: FileStore, pending: PendingUpload) -> StagedFile:
    """Clean and encrypt a pending upload into the store (see module docstring).

    The spool stays in ``tmp/`` until the caller's transaction commits (then
    :func:`release`), so a failure anywhere leaves every upload pending and nothing lost."""
    kind = pending.kind
    if kind is None:
        raise RejectedFile("不支持该文件类型")
    if kind.sanitizer == "none":
        digest = hashlib.sha256()
        size = 0
        with open(store.tmp_path(pending.spool_name), "rb") as fh:
            for chunk in iter_decrypt(fh, pending.key, SPOOL_CONTEXT):
                digest.update(chunk)
                size += len(chunk)
        name = store.commit(pending.spool_name, keep_tmp=True)
        return StagedFile(name, pending.key, kind.mime, size, digest.hexdigest(), pending.filename, False)
    clean, mime = sanitize(_read_all(store, pending), kind)
    key = envelope.new_key()
    tmp_name, fh = store.open_tmp()
    try:
        writer = EncryptedWriter(fh, key, SPOOL_CONTEXT)
        writer.write(clean)
        writer.finish()
    finally:
        fh.close()
    name = store.commit(tmp_name)
    return StagedFile(name, key, mime, len(clean), hashlib.sha256(clean).hexdigest(), pending.filename, True)


def stage_all(store: FileStore, uploads: list[PendingUpload]) -> list[StagedFile]:
    """Stage every upload or none: on a bad file, remove what was staged and raise BadUpload."""
    staged: list[StagedFile] = []
    for pending in uploads:
        try:
            staged.append(stage(store, pending))
        except RejectedFile as exc:
            for s in staged:
                store.delete(s.storage_name)
            raise BadUpload(pending, f"“{pending.filename}”：{exc}") from exc
    return staged


def release(store: FileStore, uploads: list[PendingUpload]) -> None:
    """After the report is committed, the spools are no longer needed."""
    for pending in uploads:
        store.delete_tmp(pending.spool_name)


def open_plain(store: FileStore, storage_name: str, file_key: bytes) -> Iterator[bytes]:
    """Stream a stored file's plaintext (for staff download and for tests)."""
    fh: BinaryIO = store.open_read(storage_name)

    def gen() -> Iterator[bytes]:
        with fh:
            yield from iter_decrypt(fh, file_key, SPOOL_CONTEXT)

    return gen()

