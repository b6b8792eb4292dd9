"""What a new password must be: 8–256 characters, not the username, and not one of the most common passwords.

The common list (common_passwords.txt beside this module, about 8,000 entries) is read once, on first use, and
compared lower-cased, so `Password1` is refused with `password1`.  Logins never consult it: an account made
before a rule was added keeps working.
"""

from __future__ import annotations

import functools
from importlib import resources

from hongbao.domain.errors import Rejected

PASSWORD_CHARS_MIN = 8
PASSWORD_CHARS_MAX = 256


@functools.cache
def common_passwords() -> frozenset[str]:
    text = resources.files(__package__).joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def check_new_password(value: object, username: str) -> str:
    """The password, if it may be chosen; else Rejected `weak_password` saying why."""
    if not isinstance(value, str) or not PASSWORD_CHARS_MIN <= len(value) <= PASSWORD_CHARS_MAX:
        raise Rejected(f"password: {PASSWORD_CHARS_MIN}–{PASSWORD_CHARS_MAX} characters.", code="weak_password",
                       reason="length", chars_min=PASSWORD_CHARS_MIN, chars_max=PASSWORD_CHARS_MAX)
    folded = value.strip().lower()
    if folded == username:
        raise Rejected("password: must not be the username.", code="weak_password", reason="username")
    if folded in common_passwords():
        raise Rejected("password: one of the most common passwords; choose another.", code="weak_password",
                       reason="common")
    return value
