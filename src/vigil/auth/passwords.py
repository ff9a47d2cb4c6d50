"""Password hashing with argon2id (RFC 9106), and the rules a new password must meet."""

from __future__ import annotations

import os

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 256


def _hasher() -> PasswordHasher:
    # RFC 9106's second recommended option (64 MiB, 3 passes). VIGIL_ARGON2_FAST=1 lowers
    # the cost for test suites only; hashes stay argon2id and verify with either setting.
    if os.environ.get("VIGIL_ARGON2_FAST") == "1":
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)
    return PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4, type=Type.ID)


class WeakPassword(ValueError):
    pass


def check_strength(password: str, username: str = "") -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"a password has at most {MAX_LENGTH} characters")
    if username and username.lower() in password.lower():
        raise WeakPassword("a password must not contain the user name")
    if len(set(password)) < 5:
        raise WeakPassword("a password needs at least 5 different characters")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return _hasher().check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


# Verified against when a user name is unknown, so a wrong name costs as long as a wrong
# password and timing does not tell which names exist.
_DUMMY: list[str] = []


def burn_time(password: str) -> None:
    if not _DUMMY:
        _DUMMY.append(hash_password("not a real password, only timing"))
    verify_password(_DUMMY[0], password)
