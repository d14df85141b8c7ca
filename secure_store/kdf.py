"""Argon2id key derivation, with parameters set in one place.

Defaults follow the OWASP minimum for Argon2id (19 MiB, 2 passes, 1 lane), a cost a 2-core server
pays on every submission and receipt login (≈40 ms) while an offline attacker pays it per guess.
Operators may raise them (PORTAL_ARGON2_MEMORY_KIB, PORTAL_ARGON2_TIME_COST); tests lower them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from argon2.low_level import Type, hash_secret_raw


@dataclass(frozen=True)
class Argon2Params:
    memory_kib: int = 19 * 1024
    time_cost: int = 2
    parallelism: int = 1

    @classmethod
    def from_env(cls) -> "Argon2Params":
        return cls(
            memory_kib=int(os.environ.get("PORTAL_ARGON2_MEMORY_KIB", cls.memory_kib)),
            time_cost=int(os.environ.get("PORTAL_ARGON2_TIME_COST", cls.time_cost)),
        )

    def as_dict(self) -> dict[str, int]:
        return {"m": self.memory_kib, "t": self.time_cost, "p": self.parallelism}

    @classmethod
    def from_dict(cls, d: dict[str, int]) -> "Argon2Params":
        return cls(memory_kib=d["m"], time_cost=d["t"], parallelism=d["p"])


def derive(secret: bytes, salt: bytes, params: Argon2Params, length: int = 32) -> bytes:
    """Argon2id(secret, salt) -> ``length`` bytes."""
    return hash_secret_raw(
        secret=secret,
        salt=salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=length,
        type=Type.ID,
    )
