import io
import os
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secure_store.envelope import DecryptionError, new_key
from secure_store.files import CHUNK, EncryptedWriter, FileStore, iter_decrypt


def _encrypt(data: bytes, key: bytes, ctx: bytes = b"f") -> bytes:
    out = io.BytesIO()
    w = EncryptedWriter(out, key, ctx)
    for i in range(0, len(data), 7919):
        w.write(data[i : i + 7919])
    w.finish()
    return out.getvalue()


@given(st.integers(min_value=0, max_value=3 * CHUNK + 5))
@settings(max_examples=25, deadline=None)
def test_round_trip_any_size(n: int) -> None:
    data = os.urandom(n)
    key = new_key()
    blob = _encrypt(data, key)
    assert b"".join(iter_decrypt(io.BytesIO(blob), key, b"f")) == data


def test_truncation_reordering_and_context_are_detected() -> None:
    key = new_key()
    data = os.urandom(3 * CHUNK + 10)
    blob = _encrypt(data, key)
    header = 15
    c = CHUNK + 16
    chunks = [blob[header + i * c : header + (i + 1) * c] for i in range(4)]
    truncated = blob[: header + 3 * c]  # drop the final chunk
    swapped = blob[:header] + chunks[1] + chunks[0] + chunks[2] + chunks[3]
    for bad in (truncated, swapped):
        with pytest.raises(DecryptionError):
            b"".join(iter_decrypt(io.BytesIO(bad), key, b"f"))
    with pytest.raises(DecryptionError):
        b"".join(iter_decrypt(io.BytesIO(blob), key, b"other"))


def test_store_is_streaming_and_cleans_orphans(tmp_path) -> None:
    store = FileStore(tmp_path)
    name, fh = store.open_tmp()
    key = new_key()
    w = EncryptedWriter(fh, key, b"f")
    for _ in range(50):  # 50 × 64 KiB written without holding it in memory
        w.write(b"\xab" * CHUNK)
    w.finish()
    fh.close()
    final = store.commit(name)
    assert not store.tmp_path(name).exists()
    with store.open_read(final) as rf:
        total = sum(len(c) for c in iter_decrypt(rf, key, b"f"))
    assert total == 50 * CHUNK
    orphan, ofh = store.open_tmp()
    ofh.close()
    old = time.time() - 7200
    os.utime(store.tmp_path(orphan), (old, old))
    assert store.cleanup_tmp(max_age_s=3600) == 1
    assert oct(os.stat(store.files).st_mode & 0o777) == "0o700"


def test_storage_names_cannot_escape_the_store(tmp_path) -> None:
    store = FileStore(tmp_path)
    with pytest.raises(ValueError):
        store.path_for("../../etc/passwd")
