"""Password hashing (Argon2id via argon2-cffi) and keyed digests of bearer secrets."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable

from argon2 import PasswordHasher as Argon2
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2PasswordHasher:
    """Argon2id with argon2-cffi's defaults (RFC 9106's second recommended option) unless a
    test asks for cheaper parameters."""

    def __init__(self, *, time_cost: int | None = None, memory_cost: int | None = None) -> None:
        defaults = Argon2()
        self._argon2 = Argon2(
            time_cost=time_cost or defaults.time_cost,
            memory_cost=memory_cost or defaults.memory_cost,
        )
        self.decoy_hash = self._argon2.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self._argon2.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


def keyed_digest(secret_key: str) -> Callable[[str], str]:
    """HMAC-SHA256 under the secret key: a stolen database cannot replay sessions or tokens,
    and rotating the key invalidates every one of them at once."""
    key = secret_key.encode()

    def digest(value: str) -> str:
        return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()

    return digest
