"""Encrypted backups and their restore.

A backup is one file: ``AQBK1`` | u16 length | the file key wrapped (HPKE) to the instance's
offline **recovery public key** | a tar archive streamed through the chunked AES-GCM writer of
secure_store.files. The archive holds the database (SQLite online backup, or ``pg_dump -Fc``), the
instance secrets (keys/), the encrypted file store and a manifest. The server can write backups but
cannot read them: a restore needs the recovery private key that was printed at ``init`` and kept
offline — the same ceremony that recovers department keys. Everything in the database that could
identify a reporter is sealed already; the backup encryption also hides the metadata.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

from secure_store import envelope, instance
from secure_store.files import EncryptedWriter, iter_decrypt

MAGIC = b"AQBK1"
CONTEXT = b"portal-backup|v1"


class BackupError(Exception):
    """A backup or restore that cannot proceed; the message is Chinese and safe to print."""


def _libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _sqlite_path(url: str) -> Path:
    return Path(url.split("sqlite:///", 1)[1])


def create(data_dir: Path, database_url: str, out: BinaryIO) -> dict[str, object]:
    """Write an encrypted backup of the instance to ``out``; returns the manifest."""
    secrets_ = instance.load(data_dir)
    key = envelope.new_key()
    wrapped = envelope.wrap_for_public_key(key, secrets_.recovery_public, CONTEXT)
    out.write(MAGIC + struct.pack(">H", len(wrapped)) + wrapped)
    writer = EncryptedWriter(out, key, CONTEXT)
    manifest: dict[str, object] = {"created_at": datetime.now(timezone.utc).isoformat(), "format": 1}
    with tempfile.TemporaryDirectory(prefix="aqjb-backup-") as tmp:
        os.chmod(tmp, 0o700)
        if database_url.startswith("sqlite"):
            db_file = Path(tmp) / "db.sqlite"
            with sqlite3.connect(_sqlite_path(database_url)) as src, sqlite3.connect(db_file) as dst:
                src.backup(dst)  # consistent while the portal keeps writing
            manifest["database"] = "sqlite"
        else:
            db_file = Path(tmp) / "db.pgdump"
            done = subprocess.run(["pg_dump", "-Fc", "--no-owner", "--no-privileges", "-f", str(db_file),
                                   _libpq_url(database_url)], capture_output=True, text=True)
            if done.returncode != 0:
                raise BackupError(f"pg_dump 失败（退出码 {done.returncode}）：请检查数据库连接和 pg_dump 版本。")
            manifest["database"] = "postgresql"
        with tarfile.open(fileobj=writer, mode="w|") as tar:  # type: ignore[call-overload]
            tar.add(db_file, arcname=db_file.name)
            tar.add(instance.keys_dir(data_dir), arcname="keys")
            files = Path(data_dir) / "store" / "files"
            count = 0
            if files.exists():
                tar.add(files, arcname="store/files")
                count = sum(1 for p in files.rglob("*") if p.is_file())
            manifest["files"] = count
            blob = json.dumps(manifest, ensure_ascii=False).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    writer.finish()
    return manifest


class _ChunkReader(io.RawIOBase):
    """A read()-able view of the decrypting iterator, for tarfile's stream mode."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        while not self._buf:
            try:
                self._buf = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def restore(backup: BinaryIO, recovery_private_hex: str, data_dir: Path, database_url: str) -> dict[str, object]:
    """Restore into an empty data dir and an empty database. Refuses to overwrite an instance."""
    if (instance.keys_dir(data_dir) / instance.FILE_NAME).exists():
        raise BackupError(f"目标数据目录已有实例密钥（{data_dir}）：请恢复到新的空目录。")
    head = backup.read(len(MAGIC) + 2)
    if len(head) != len(MAGIC) + 2 or head[: len(MAGIC)] != MAGIC:
        raise BackupError("不是本平台的备份文件。")
    wrapped = backup.read(struct.unpack(">H", head[len(MAGIC):])[0])
    try:
        private = envelope.load_private(bytes.fromhex(recovery_private_hex.strip()))
        key = envelope.unwrap_with_private_key(wrapped, private, CONTEXT)
    except (ValueError, envelope.DecryptionError) as exc:
        raise BackupError("恢复密钥不正确：无法解开该备份。") from exc
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory(prefix="aqjb-restore-", dir=data_dir) as tmp:
        try:
            with tarfile.open(fileobj=io.BufferedReader(_ChunkReader(iter_decrypt(backup, key, CONTEXT))), mode="r|") as tar:
                tar.extractall(tmp, filter="data")
        except envelope.DecryptionError as exc:
            raise BackupError("备份文件已损坏或被篡改（校验失败）。") from exc
        root = Path(tmp)
        manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("database") == "sqlite":
            if not database_url.startswith("sqlite"):
                raise BackupError("该备份来自 SQLite 实例，请恢复到 SQLite（或先恢复再迁移）。")
            target = _sqlite_path(database_url)
            if target.exists():
                raise BackupError(f"目标数据库文件已存在：{target}")
            shutil.copyfile(root / "db.sqlite", target)
        else:
            if database_url.startswith("sqlite"):
                raise BackupError("该备份来自 PostgreSQL：请设置 DATABASE_URL 为一个新的空 PostgreSQL 数据库。")
            done = subprocess.run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "-d",
                                   _libpq_url(database_url), str(root / "db.pgdump")], capture_output=True, text=True)
            if done.returncode != 0:
                raise BackupError("pg_restore 失败：目标数据库须为新建的空库。")
        shutil.move(str(root / "keys"), instance.keys_dir(data_dir))
        os.chmod(instance.keys_dir(data_dir), 0o700)
        if (root / "store" / "files").exists():
            (data_dir / "store").mkdir(exist_ok=True)
            shutil.move(str(root / "store" / "files"), data_dir / "store" / "files")
    return manifest
