import hashlib
import time

from intake import pow as p

KEY = b"k" * 32


def test_solution_verifies_and_work_is_real() -> None:
    ch = p.issue(KEY, 12, "submit")
    nonce = p.solve(ch, 12)
    assert p.check(KEY, ch, nonce, 12, "submit") is p.PowResult.OK
    digest = hashlib.sha256(f"{ch}:{nonce}".encode()).digest()
    assert p.leading_zero_bits(digest) >= 12
    bad = next(str(i) for i in range(10_000) if p.leading_zero_bits(hashlib.sha256(f"{ch}:{i}".encode()).digest()) < 12)
    assert p.check(KEY, ch, bad, 12, "submit") is p.PowResult.INVALID


def test_forged_expired_and_wrong_purpose_challenges_fail() -> None:
    hard = p.issue(KEY, 20, "submit")
    parts = hard.split(".")
    forged = ".".join(parts[:2] + ["0"] + parts[3:])  # claim the challenge asked for no work
    assert p.check(KEY, forged, "0", 0, "submit") is p.PowResult.INVALID
    ch = p.issue(KEY, 0, "submit")
    assert p.check(b"x" * 32, ch, "0", 0, "submit") is p.PowResult.INVALID
    assert p.check(KEY, ch, "0", 0, "login") is p.PowResult.INVALID
    old = p.issue(KEY, 0, "submit", now=time.time() - p.MAX_AGE - 5)
    assert p.check(KEY, old, "0", 0, "submit") is p.PowResult.EXPIRED
    low = p.issue(KEY, 2, "submit")
    assert p.check(KEY, low, p.solve(low, 2), 8, "submit") is p.PowResult.INVALID  # difficulty raised since
    assert p.check(KEY, "", "", 0, "submit") is p.PowResult.MISSING
    assert p.check(KEY, ch, "", 0, "submit") is p.PowResult.MISSING  # no-JS form: challenge, no nonce
    assert p.check(KEY, ch, "12ab", 0, "submit") is p.PowResult.INVALID


def test_leading_zero_bits() -> None:
    assert p.leading_zero_bits(b"\x00\x00\x80") == 16
    assert p.leading_zero_bits(b"\x0f") == 4
    assert p.leading_zero_bits(b"\x00" * 4) == 32
