"""Password hashing with argon2id (argon2-cffi's maintained defaults, RFC 9106 low-memory
profile) and the secrets the gateway hands out.

Session and API tokens are 256-bit random strings, so a fast SHA-256 of them is enough to
keep the stored copy useless to a reader of the database; passwords are low-entropy and get
the memory-hard hash.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when the account does not exist, so that a wrong name costs as much
# time as a wrong password and timing does not tell which part was wrong.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class PasswordPolicyError(ValueError):
    """The password is not acceptable (too short)."""


def check_policy(password: str, min_length: int) -> None:
    if len(password) < min_length:
        raise PasswordPolicyError(
            f"the password has {len(password)} characters; at least {min_length} are required "
            "(DAGSTER_PASSWORD_MIN_LENGTH)"
        )


def hash_password(password: str, min_length: int) -> str:
    check_policy(password, min_length)
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing account (None) costs one verification too."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    return secrets.token_urlsafe(18)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
