"""argon2id hashes, the minimum length, and secrets that are stored only as digests."""

from __future__ import annotations

import pytest

from dagster_platform.access.passwords import (
    PasswordPolicyError,
    generate_password,
    hash_password,
    new_token,
    token_digest,
    verify_password,
)


def test_hash_and_verify():
    stored = hash_password("correct horse battery", 12)
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "correct horse batterY")
    assert not verify_password(None, "correct horse battery")  # no account: still a verification, still False
    assert not verify_password("not a hash", "x")


def test_minimum_length():
    with pytest.raises(PasswordPolicyError, match="11 characters; at least 12"):
        hash_password("x" * 11, 12)
    assert len(generate_password()) >= 12


def test_tokens_are_random_and_stored_as_digests():
    first, second = new_token(), new_token()
    assert first != second and len(first) >= 40
    assert token_digest(first) != first and len(token_digest(first)) == 64
