import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secure_store import envelope


def test_seal_round_trip_and_context_binding() -> None:
    key = envelope.new_key()
    blob = envelope.seal(key, "仓库里存放甲醇".encode(), b"report|A|content")
    assert envelope.open_sealed(key, blob, b"report|A|content") == "仓库里存放甲醇".encode()
    with pytest.raises(envelope.DecryptionError):
        envelope.open_sealed(key, blob, b"report|B|content")  # moved to another row
    with pytest.raises(envelope.DecryptionError):
        envelope.open_sealed(envelope.new_key(), blob, b"report|A|content")


@given(st.binary(max_size=2048), st.integers(min_value=0, max_value=200))
@settings(max_examples=60, deadline=None)
def test_any_single_bit_flip_is_detected(data: bytes, pos: int) -> None:
    key = envelope.new_key()
    blob = bytearray(envelope.seal(key, data, b"ctx"))
    i = pos % len(blob)
    blob[i] ^= 0x01
    with pytest.raises(envelope.DecryptionError):
        envelope.open_sealed(key, bytes(blob), b"ctx")


def test_hpke_wrap_only_opens_with_the_right_private_key_and_context() -> None:
    secret = envelope.new_key()
    priv, pub = envelope.generate_keypair()
    other, _ = envelope.generate_keypair()
    wrapped = envelope.wrap_for_public_key(secret, pub, b"report-key|A|content")
    assert envelope.unwrap_with_private_key(wrapped, priv, b"report-key|A|content") == secret
    with pytest.raises(envelope.DecryptionError):
        envelope.unwrap_with_private_key(wrapped, other, b"report-key|A|content")
    with pytest.raises(envelope.DecryptionError):
        envelope.unwrap_with_private_key(wrapped, priv, b"report-key|A|identity")


def test_symmetric_wrap() -> None:
    secret, kek = envelope.new_key(), envelope.new_key()
    wrapped = envelope.wrap_with_key(secret, kek, b"x")
    assert envelope.unwrap_with_key(wrapped, kek, b"x") == secret
    with pytest.raises(envelope.DecryptionError):
        envelope.unwrap_with_key(wrapped, envelope.new_key(), b"x")
