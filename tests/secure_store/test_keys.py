import json
import os
import time

import pytest

from secure_store import certificate, envelope, instance, keyring
from secure_store.kdf import Argon2Params
from secure_store.receipt import derive_receipt_keys, format_receipt, new_receipt, normalize_receipt

FAST = Argon2Params(memory_kib=1024, time_cost=1)


def test_receipts_are_16_digits_and_normalise() -> None:
    r = new_receipt()
    assert len(r) == 16 and r.isdigit()
    assert normalize_receipt(format_receipt(r)) == r
    assert normalize_receipt(" ".join(format_receipt(r).split("-"))) == r
    assert normalize_receipt("１２３４５６７８１２３４５６７８") == "1234567812345678"  # full-width
    assert normalize_receipt("123") is None
    assert normalize_receipt("12345678123456789") is None
    assert normalize_receipt("abcd-efgh-1234-5678") is None


def test_receipt_keys_are_deterministic_per_instance_and_independent() -> None:
    salt = os.urandom(16)
    a = derive_receipt_keys("1234567812345678", salt, FAST)
    assert a == derive_receipt_keys("1234567812345678", salt, FAST)
    assert a.locator != a.wrapping_key
    assert derive_receipt_keys("1234567812345678", os.urandom(16), FAST).locator != a.locator
    assert derive_receipt_keys("1234567812345679", salt, FAST).locator != a.locator


def test_production_argon2_parameters_cost_real_work() -> None:
    params = Argon2Params()  # the defaults a deployment uses
    assert params.memory_kib >= 19 * 1024 and params.time_cost >= 2
    t = time.perf_counter()
    derive_receipt_keys("1234567812345678", os.urandom(16), params)
    assert time.perf_counter() - t > 0.005  # not accidentally a no-op


def test_personal_keys_unlock_only_with_the_password_and_survive_password_change() -> None:
    sealed = keyring.create_personal_key("正确密码-correct horse", FAST)
    priv = keyring.unlock_personal_key(sealed, "正确密码-correct horse")
    assert envelope.public_bytes(priv) == sealed.public_key
    with pytest.raises(envelope.DecryptionError):
        keyring.unlock_personal_key(sealed, "wrong")
    resealed = keyring.reseal_personal_key(priv, "new password", FAST)
    assert envelope.public_bytes(keyring.unlock_personal_key(resealed, "new password")) == sealed.public_key


def test_department_key_grants_and_recovery() -> None:
    rec_priv, rec_pub = envelope.generate_keypair()
    dept_priv, dept_pub, recovery_wrapped = keyring.create_department_key("fire", rec_pub)
    member = keyring.create_personal_key("pw", FAST)
    grant = keyring.grant_department_key(dept_priv, "fire", member.public_key)
    opened = keyring.open_department_grant(grant, "fire", keyring.unlock_personal_key(member, "pw"))
    assert envelope.public_bytes(opened) == dept_pub
    with pytest.raises(envelope.DecryptionError):  # a grant for one department cannot pose as another
        keyring.open_department_grant(grant, "housing", keyring.unlock_personal_key(member, "pw"))
    recovered = keyring.open_department_grant(recovery_wrapped, "fire", rec_priv)
    assert envelope.public_bytes(recovered) == dept_pub


def test_instance_secrets_created_once_with_private_permissions(tmp_path) -> None:
    first = instance.create(tmp_path, FAST)
    assert first is not None
    assert instance.create(tmp_path, FAST) is None  # idempotent: never replaced
    path = instance.keys_dir(tmp_path) / instance.FILE_NAME
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(instance.keys_dir(tmp_path).stat().st_mode & 0o777) == "0o700"
    loaded = instance.load(tmp_path)
    assert loaded.receipt_salt == first[0].receipt_salt
    assert "recovery_private" not in json.loads(path.read_text())
    with pytest.raises(instance.InstanceNotInitialised):
        instance.load(tmp_path / "nowhere")


def test_certificate_verifies_and_detects_tampering(tmp_path) -> None:
    secrets_, _ = instance.create(tmp_path, FAST)  # type: ignore[misc]
    digest = certificate.content_digest({"content": {"description": "x"}, "salt": "s"})
    cert = certificate.issue(secrets_.signing_key, "AQ20261122-ABCDEFGH", "2026-11-22T01:02:03Z", digest)
    pub = secrets_.signing_key.public_key()
    assert certificate.verify(cert, pub).valid
    for field, value in (("filed_at", "2026-11-21T01:02:03Z"), ("report_number", "AQ20261122-ZZZZZZZZ"),
                         ("content_sha256", "0" * 64)):
        forged = dict(cert, **{field: value})
        assert not certificate.verify(forged, pub).valid
    other, _ = instance.create(tmp_path / "other", FAST)  # type: ignore[misc]
    assert not certificate.verify(cert, other.signing_key.public_key()).valid
    assert not certificate.verify({"type": "x"}, pub).valid
